package io.edgestreaming.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

import io.edgestreaming.cluster.StandaloneCluster.Checkpoints;
import io.edgestreaming.cluster.StandaloneCluster.JobStatus;
import io.edgestreaming.cluster.testjob.CheckpointedCountingJob;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standalone cluster with real processes: a JobManager and a TaskManager JVM from standalone.sh, a job submitted
 * with Flink's CLI, the TaskManager killed with SIGKILL mid-stream, a new one started, and the job back with all
 * tasks running, its state restored from the last checkpoint and new checkpoints completing. Afterwards no process
 * of the cluster is left.
 */
class StandaloneClusterITCase {

    private static final Logger LOG = LoggerFactory.getLogger(StandaloneClusterITCase.class);
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);

    @Test
    void jobRecoversFromCheckpointAfterTaskManagerIsKilled() throws Exception {
        Path base = Path.of("target", "cluster-it", "recovery-" + System.currentTimeMillis()).toAbsolutePath();
        Path jar = TestJobJar.build(base.resolve("checkpointed-counting.jar"), CheckpointedCountingJob.class);
        Path out = base.resolve("out");
        Map<String, Long> seenProcesses = new LinkedHashMap<>();

        StandaloneCluster cluster = StandaloneCluster.start(base.resolve("run"));
        try {
            seenProcesses.putAll(cluster.processes());
            assertThat(seenProcesses).containsKeys("jobmanager", "taskmanager-1", "watchdog");

            String jobId = cluster.submit(jar, out.toString());
            JobStatus running = cluster.waitRunning(jobId, STEP_TIMEOUT);
            assertThat(running.allTasksRunning()).as("all tasks running: %s", running).isTrue();
            Checkpoints before = awaitCheckpoints(cluster, jobId, c -> c.completed() >= 2);
            assertThat(before.restored()).isZero();
            assertThat(linesOfAttempt(out, 0)).as("records written before the kill").isNotEmpty();

            List<Long> killed = cluster.killTaskManager();
            long killedAt = System.nanoTime();
            assertThat(killed).hasSize(1);
            assertThat(StandaloneCluster.isAlive(killed.get(0))).as("killed TaskManager alive").isFalse();

            cluster.startTaskManager();
            seenProcesses.putAll(cluster.processes());
            assertThat(seenProcesses).containsKey("taskmanager-2");

            // The JobManager notices the loss by heartbeat, restores the last checkpoint and redeploys on the new
            // TaskManager; the job reports RUNNING before its tasks are, hence the wait on the tasks.
            Checkpoints restored = awaitCheckpoints(cluster, jobId, c -> c.restored() >= 1);
            JobStatus recovered = cluster.waitRunning(jobId, STEP_TIMEOUT);
            Duration recovery = Duration.ofNanos(System.nanoTime() - killedAt);
            assertThat(recovered.allTasksRunning()).as("all tasks running after recovery: %s", recovered).isTrue();
            Checkpoints after = awaitCheckpoints(cluster, jobId,
                    c -> c.completed() >= restored.completed() + 2 && c.latestCompletedId() > restored.latestCompletedId());
            LOG.info("recovered in {} ms; checkpoints before kill {}, at restore {}, after {}", recovery.toMillis(),
                    before, restored, after);

            // Records flow again, from restored state: keyed counts continue (never start over at 1) and the source
            // resumes from its checkpointed position (never from 0).
            List<String[]> resumed = awaitLines(out, 1);
            assertThat(resumed).allSatisfy(f -> assertThat(Long.parseLong(f[1])).as("count of key %s", f[0])
                    .isGreaterThan(1));
            assertThat(resumed).allSatisfy(f -> assertThat(Long.parseLong(f[2])).isPositive());

            // stop finds the cluster's JVMs even without their pid files (e.g. `mvn clean` while it ran).
            Files.delete(cluster.runDir().resolve("pids/jobmanager.pid"));
        } catch (Throwable t) {
            LOG.error("standalone cluster logs of the failed test:\n{}", cluster.logTails(80));
            throw t;
        } finally {
            cluster.close();
        }

        assertThat(seenProcesses.values()).as("processes left after stop: %s", seenProcesses)
                .noneMatch(StandaloneCluster::isAlive);
        assertThat(cluster.processes()).isEmpty();
        assertThat(cluster.run("stop")).as("stop again").contains("nothing running");
    }

    private static Checkpoints awaitCheckpoints(StandaloneCluster cluster, String jobId, Predicate<Checkpoints> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        Checkpoints last;
        do {
            last = cluster.status(jobId).checkpoints();
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("checkpoints not as expected within " + STEP_TIMEOUT + ", last: " + last);
    }

    private static List<String[]> awaitLines(Path out, int attempt) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        List<String[]> lines;
        do {
            lines = linesOfAttempt(out, attempt);
            if (lines.size() >= 10) {
                return lines;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("attempt " + attempt + " wrote " + lines.size() + " lines within " + STEP_TIMEOUT);
    }

    /** Lines "key count value" written by the sink subtasks' given attempt (complete lines only). */
    private static List<String[]> linesOfAttempt(Path out, int attempt) throws IOException {
        List<String[]> lines = new ArrayList<>();
        if (!Files.isDirectory(out)) {
            return lines;
        }
        try (Stream<Path> files = Files.list(out)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith("-attempt-" + attempt + ".txt"))
                    .toList()) {
                String content = Files.readString(f, StandardCharsets.UTF_8);
                int end = content.lastIndexOf('\n');
                if (end < 0) {
                    continue;
                }
                for (String line : content.substring(0, end).split("\n")) {
                    lines.add(line.split(" "));
                }
            }
        }
        return lines;
    }
}
