package io.edgestreaming.bench;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.runtime.execution.ExecutionState;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.jobgraph.JobGraph;

/**
 * One job of the scale benchmark, from submission to delivery: when it and each of its subtasks got where (the
 * execution graph's state timestamps), when it had read 10%, 90% and all of the backlog (its {@code eventsRead}
 * counters, sampled every 100 ms), and when everything was delivered.
 */
final class ScaleRun {
    private final BenchCluster cluster;
    private final Consumer<String> print;
    private JobID id;
    private long submitNanos;
    private long submitEpochMillis;
    /** Seconds from submission: the job RUNNING, the last subtask DEPLOYING, INITIALIZING, RUNNING. */
    double jobRunning;
    double lastDeploying;
    double lastInitializing;
    double allRunning;
    /** Seconds from submission to the first completed checkpoint ({@link #firstCheckpointFrom}). */
    double firstCheckpoint = Double.NaN;
    int subtasks;
    long events10;
    long events90;
    long nanos10;
    long nanos90;
    long nanosAll;
    double settleSeconds;
    /** The destinations delivered to per subtask, by type, as last seen while the job ran. */
    private Map<Streams.Kind, Integer> pairs = Map.of();

    ScaleRun(BenchCluster cluster, Consumer<String> print) {
        this.cluster = cluster;
        this.print = print;
    }

    String jobId() {
        return id.toString();
    }

    JobID jobIdObject() {
        return id;
    }

    long submitEpochMillis() {
        return submitEpochMillis;
    }

    /** Submits and waits until every subtask is RUNNING (its operators opened). */
    void submit(JobGraph graph) throws Exception {
        System.gc();
        submitEpochMillis = System.currentTimeMillis();
        submitNanos = System.nanoTime();
        id = cluster.mini.submitJob(graph).get(10, TimeUnit.MINUTES).getJobID();
        long deadline = submitNanos + TimeUnit.MINUTES.toNanos(10);
        while (true) {
            cluster.checkRunning(id);
            AccessExecutionGraph eg = cluster.mini.getExecutionGraph(id).get(60, TimeUnit.SECONDS);
            int running = 0;
            int all = 0;
            long deploying = 0;
            long initializing = 0;
            long runningAt = 0;
            for (AccessExecutionVertex v : eg.getAllExecutionVertices()) {
                all++;
                if (v.getExecutionState() == ExecutionState.RUNNING) {
                    running++;
                }
                deploying = Math.max(deploying, v.getStateTimestamp(ExecutionState.DEPLOYING));
                initializing = Math.max(initializing, v.getStateTimestamp(ExecutionState.INITIALIZING));
                runningAt = Math.max(runningAt, v.getStateTimestamp(ExecutionState.RUNNING));
            }
            if (all > 0 && running == all) {
                subtasks = all;
                jobRunning = seconds(eg.getStatusTimestamp(JobStatus.RUNNING));
                lastDeploying = seconds(deploying);
                lastInitializing = seconds(initializing);
                allRunning = seconds(runningAt);
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("job " + id + ": " + running + " of " + all + " subtasks RUNNING after 10 min");
            }
            Thread.sleep(100);
        }
        print.accept(String.format(Locale.ROOT, "  submitted job %s: RUNNING after %.1f s; the last of its %d subtasks"
                + " deploying at %.1f s, initializing at %.1f s, RUNNING at %.1f s", id, jobRunning, subtasks,
                lastDeploying, lastInitializing, allRunning));
    }

    private double seconds(long epochMillis) {
        return (epochMillis - submitEpochMillis) / 1000.0;
    }

    private long completedCheckpoints() {
        String job = id.toString();
        return (long) BenchMetrics.sum("numberOfCompletedCheckpoints", e -> job.equals(e.jobId()));
    }

    /** When the first checkpoint in the history completed, in seconds from submission. */
    void firstCheckpointFrom(FlinkRest.Checkpoints checkpoints) {
        checkpoints.history().stream().findFirst().ifPresent(c ->
                firstCheckpoint = (c.triggerMillis() + c.duration() - submitEpochMillis) / 1000.0);
    }

    void awaitCheckpoints(int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (completedCheckpoints() < n) {
            cluster.checkRunning(id);
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("job " + id + ": no " + n + " completed checkpoint(s) within 5 minutes");
            }
            Thread.sleep(100);
        }
    }

    /** Samples {@code eventsRead} every 100 ms until the whole backlog was read. */
    void readAll(long n) throws Exception {
        String job = id.toString();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(600, n / 200));
        long nextStatus = 0;
        while (true) {
            long now = System.nanoTime();
            if (now >= nextStatus) {
                cluster.checkRunning(id);
                nextStatus = now + TimeUnit.SECONDS.toNanos(1);
            }
            long events = (long) BenchMetrics.sum("eventsRead", e -> job.equals(e.jobId()));
            if (nanos10 == 0 && events >= n / 10) {
                nanos10 = now;
                events10 = events;
                print.accept(String.format(Locale.ROOT, "  10%% read after %.1f s", (now - submitNanos) / 1e9));
            }
            if (nanos90 == 0 && events >= n * 9 / 10) {
                nanos90 = now;
                events90 = events;
                print.accept(String.format(Locale.ROOT, "  90%% read after %.1f s", (now - submitNanos) / 1e9));
            }
            if (events >= n) {
                nanosAll = now;
                print.accept(String.format(Locale.ROOT, "  100%% read after %.1f s", (now - submitNanos) / 1e9));
                updatePairs();
                return;
            }
            if (now > deadline) {
                throw new IllegalStateException("job " + id + " read " + events + " of " + n + " events before the deadline");
            }
            Thread.sleep(100);
        }
    }

    /**
     * Waits until every block cut was delivered (or dead-lettered), at least {@code settleAtLeast} after the last
     * event (the last blocks are cut by their max_interval timer), and two more checkpoints completed; prints the
     * progress every 30 s.
     */
    void awaitDelivered(Duration settleAtLeast, Duration timeout) throws Exception {
        long atEnd = completedCheckpoints();
        long deadline = nanosAll + timeout.toNanos();
        long nextProgress = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (completedCheckpoints() < atEnd + 2 || System.nanoTime() < nanosAll + settleAtLeast.toNanos() || !delivered()) {
            cluster.checkRunning(id);
            long now = System.nanoTime();
            if (now > deadline) {
                throw new IllegalStateException("job " + id + ": not everything delivered " + timeout.toSeconds()
                        + " s after the last event (" + progress() + ")");
            }
            if (now > nextProgress) {
                print.accept(String.format(Locale.ROOT, "  %.0f s after the last event: %s", (now - nanosAll) / 1e9,
                        progress()));
                nextProgress = now + TimeUnit.SECONDS.toNanos(30);
            }
            Thread.sleep(250);
        }
        Thread.sleep(1000);
        settleSeconds = (System.nanoTime() - nanosAll) / 1e9;
        print.accept(String.format(Locale.ROOT, "  everything delivered %.1f s after the last event was read: %,d blocks"
                + " (%,d dead-lettered)", settleSeconds, BenchMetrics.sum("deliveredBlocks"),
                BenchMetrics.sum("deadLetteredBlocks")));
    }

    /** Reads the destinations delivered to from the running job's metrics; keeps the last answer once they are gone. */
    void updatePairs() {
        Map<Streams.Kind, Integer> now = ScaleReport.pairs(id.toString());
        if (now.values().stream().mapToInt(Integer::intValue).sum() > 0) {
            pairs = now;
        }
    }

    Map<Streams.Kind, Integer> pairs() {
        return pairs;
    }

    private String progress() {
        updatePairs();
        return String.format(Locale.ROOT, "blocks cut %,d, delivered %,d, dead-lettered %,d, pending %,d; %d checkpoints"
                + " completed", BenchMetrics.sum("blocksCut"), BenchMetrics.sum("deliveredBlocks"),
                BenchMetrics.sum("deadLetteredBlocks"), BenchMetrics.sum("pendingBlocks"), completedCheckpoints());
    }

    private static boolean delivered() {
        return BenchMetrics.sum("pendingBlocks") == 0
                && BenchMetrics.sum("blocksCut") == BenchMetrics.sum("deliveredBlocks") + BenchMetrics.sum("deadLetteredBlocks");
    }

    /** Events per second between the moments 10% and 90% of the backlog had been read. */
    double rate() {
        return (events90 - events10) / ((nanos90 - nanos10) / 1e9);
    }

    double readSeconds() {
        return (nanosAll - submitNanos) / 1e9;
    }
}
