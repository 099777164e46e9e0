package io.edgestreaming.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import io.edgestreaming.cluster.StandaloneCluster.Failure;
import io.edgestreaming.cluster.testjob.CheckpointedCountingJob;
import org.junit.jupiter.api.Test;

/**
 * standalone.sh under misuse and abandonment, with real processes: clear refusals that leave a running cluster
 * untouched, and no Flink process outliving the process that started the cluster (the watchdog a test JVM relies
 * on when it is killed before its cleanup runs).
 */
class StandaloneScriptITCase {

    @Test
    void refusesMisuseAndStopsTheClusterWhenItsOwnerDies() throws Exception {
        Path base = Path.of("target", "cluster-it", "script-" + System.currentTimeMillis()).toAbsolutePath();
        Path jar = TestJobJar.build(base.resolve("checkpointed-counting.jar"), CheckpointedCountingJob.class);
        Process owner = new ProcessBuilder("sleep", "600").start();
        try (StandaloneCluster cluster = StandaloneCluster.start(base.resolve("run"), owner.pid())) {
            Map<String, Long> processes = cluster.processes();
            assertThat(processes).containsOnlyKeys("jobmanager", "taskmanager-1", "watchdog");

            Failure again = cluster.runFailing("start");
            assertThat(again.output()).contains("is still running; use: standalone.sh stop");
            Failure missingJar = cluster.runFailing("submit", base.resolve("no-such.jar").toString());
            assertThat(missingJar.output()).contains("no such jar: " + base.resolve("no-such.jar"));
            // The test job without its argument throws in main: the CLI's failure reaches the caller, no job id.
            Failure badJob = cluster.runFailing("submit", jar.toString());
            assertThat(badJob.output()).contains("submit failed").contains("usage: CheckpointedCountingJob");
            Failure unknownJob = cluster.runFailing("wait-running", "0123456789abcdef0123456789abcdef", "2");
            assertThat(unknownJob.output()).contains("job 0123456789abcdef0123456789abcdef not running");
            Failure usage = cluster.runFailing("no-such-command");
            assertThat(usage.exitCode()).isEqualTo(2);
            assertThat(usage.output()).contains("kill-taskmanager").contains("wait-running");
            assertThat(cluster.processes()).as("a refused command leaves the cluster running").isEqualTo(processes);

            owner.destroyForcibly().waitFor();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (processes.values().stream().anyMatch(StandaloneCluster::isAlive) && System.nanoTime() < deadline) {
                Thread.sleep(250);
            }
            assertThat(processes.values()).as("processes left after their owner died: %s", processes)
                    .noneMatch(StandaloneCluster::isAlive);
            assertThat(cluster.processes()).isEmpty();
        } finally {
            owner.destroyForcibly();
        }
    }
}
