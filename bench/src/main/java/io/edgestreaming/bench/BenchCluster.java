package io.edgestreaming.bench;

import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;

/**
 * The Flink MiniCluster the benchmarks run jobs on (1 TaskManager, a slot per unit of parallelism), configured as
 * deployed: state on the heap, checkpoints to a file system, no restarts; and the waits around a job's life.
 */
final class BenchCluster implements AutoCloseable {
    final MiniCluster mini;
    /** The cluster's configuration; a job's environment starts from a copy of it. */
    final Configuration config;
    final URI restAddress;
    final FlinkRest rest;

    private BenchCluster(MiniCluster mini, Configuration config, URI restAddress) {
        this.mini = mini;
        this.config = config;
        this.restAddress = restAddress;
        this.rest = new FlinkRest(restAddress);
    }

    static BenchCluster start(int parallelism, Path work) throws Exception {
        Configuration config = new Configuration();
        config.set(RestOptions.BIND_PORT, "0");
        config.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        config.set(RestOptions.ADDRESS, "127.0.0.1");
        config.setString("metrics.reporter.bench.factory.class", BenchMetrics.Factory.class.getName());
        config.setString("web.checkpoints.history", "1000");
        config.setString("state.backend.type", "hashmap");
        config.setString("execution.checkpointing.storage", "filesystem");
        config.setString("execution.checkpointing.dir", work.resolve("checkpoints").toUri().toString());
        // A failure is a finding: no restarts that would hide it in the figures.
        config.setString("restart-strategy.type", "none");
        MiniCluster mini = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(config)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(parallelism)
                .build());
        mini.start();
        return new BenchCluster(mini, config, mini.getRestAddress().get(60, TimeUnit.SECONDS));
    }

    /** Throws with the job's failure if it ended. */
    void checkRunning(JobID jobId) throws Exception {
        JobStatus status = mini.getJobStatus(jobId).get(30, TimeUnit.SECONDS);
        if (status.isGloballyTerminalState()) {
            String cause;
            try {
                cause = String.valueOf(mini.requestJobResult(jobId).get(30, TimeUnit.SECONDS).getSerializedThrowable()
                        .map(t -> t.getFullStringifiedStackTrace()).orElse(""));
            } catch (Exception e) {
                cause = e.toString();
            }
            throw new IllegalStateException("job " + jobId + " ended: " + status + "\n" + cause);
        }
    }

    /** Cancels a job and waits until it ended and its task metrics are gone, so the next job counts from zero. */
    void cancel(JobID jobId) throws Exception {
        mini.cancelJob(jobId).get(60, TimeUnit.SECONDS);
        awaitTerminal(jobId);
    }

    void awaitTerminal(JobID jobId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!mini.getJobStatus(jobId).get(30, TimeUnit.SECONDS).isGloballyTerminalState()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("job " + jobId + " did not stop within 60 s");
            }
            Thread.sleep(100);
        }
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String id = jobId.toString();
        while (BenchMetrics.entries().stream().anyMatch(e -> id.equals(e.jobId()) && e.task() != null)
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
    }

    @Override
    public void close() throws Exception {
        mini.closeAsync().get(60, TimeUnit.SECONDS);
    }
}
