package io.edgestreaming.connectors.http;

import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.http;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.BlockTypeInfoFactory;
import io.edgestreaming.connectors.DeliveryTopology;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.testkit.HttpReceiver;
import io.edgestreaming.templates.DataSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real {@code flink stop} (stop-with-savepoint without drain, as every roll-out and rescale) and a job
 * started from that savepoint: the receiver gets every block once, no Idempotency-Key twice. Periodic
 * checkpoints are kept out of the way; the test triggers the one regular checkpoint itself and lets its
 * blocks arrive before the stop, so any repeat can only come from the savepoint's blocks.
 */
class HttpStopWithSavepointITCase {
    private static final Logger LOG = LoggerFactory.getLogger(HttpStopWithSavepointITCase.class);
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** Blocks cut so far by the running job (its source position, not state: only for pacing the test). */
    private static final AtomicLong CUT = new AtomicLong();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    Path dir;

    @Test
    void aJobStoppedWithASavepointAndStartedFromItSendsEveryBlockOnce(@InjectMiniCluster MiniCluster cluster) throws Exception {
        try (HttpReceiver receiver = HttpReceiver.start()) {
            JobConfig config = job(dir.resolve("dead"), delivery(), stream(1, http(receiver.url("/ingest"))));

            JobClient first = submit(config, null);
            await("blocks cut", () -> CUT.get() >= 20);
            cluster.triggerCheckpoint(first.getJobID()).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            await("the regular checkpoint's blocks", () -> !receiver.requests().isEmpty());
            awaitQuiet(receiver);
            int beforeStop = receiver.requests().size();
            long cutBeforeStop = CUT.get();
            await("more blocks cut", () -> CUT.get() >= cutBeforeStop + 20);

            String savepoint = first.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(),
                    SavepointFormatType.CANONICAL).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            first.getJobExecutionResult().get(WAIT.toSeconds(), TimeUnit.SECONDS);
            Thread.sleep(500); // a send that got out at the stop would arrive by now
            assertThat(receiver.requests()).as("requests after the stop (the stopping job sends nothing its savepoint covers)")
                    .hasSize(beforeStop);
            LOG.info("Stopped with savepoint {}: {} blocks delivered before the stop, about {} in the savepoint",
                    savepoint, beforeStop, CUT.get() - beforeStop);

            JobClient second = submit(config, savepoint);
            try {
                await("the savepoint's blocks", () -> receiver.requests().size() > beforeStop);
                awaitQuiet(receiver);
                int restored = receiver.requests().size();
                cluster.triggerCheckpoint(second.getJobID()).get(WAIT.toSeconds(), TimeUnit.SECONDS);
                await("blocks cut after the restore", () -> receiver.requests().size() > restored);
                awaitQuiet(receiver);
            } finally {
                second.cancel().get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }

            List<HttpReceiver.Request> requests = receiver.requests();
            Map<String, Long> perKey = requests.stream()
                    .collect(Collectors.groupingBy(HttpReceiver.Request::idempotencyKey, Collectors.counting()));
            assertThat(perKey).as("requests per Idempotency-Key").allSatisfy((key, n) -> assertThat(n).as(key).isOne());
            TreeSet<Long> sequences = requests.stream().map(r -> Long.parseLong(r.idempotencyKey().split("[/:]")[2]))
                    .collect(Collectors.toCollection(TreeSet::new));
            assertThat(sequences).as("no block lost: blocks 0..%s", sequences.last())
                    .containsExactlyElementsOf(LongStream.rangeClosed(0, sequences.last()).boxed().toList());
            assertThat(requests).allMatch(r -> r.status() == 200);
            assertThat(receiver.conflictingRepeats()).isEmpty();
            LOG.info("{} blocks, each sent once", requests.size());
        }
    }

    private JobClient submit(JobConfig config, String savepoint) throws Exception {
        CUT.set(0);
        Configuration conf = new Configuration();
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        // Exactly-once checkpoints, but no periodic one within the test: it triggers its own.
        env.enableCheckpointing(Duration.ofHours(2).toMillis());
        env.getCheckpointConfig().setMinPauseBetweenCheckpoints(Duration.ofHours(1).toMillis());
        var blocks = env.fromSequence(0, Long.MAX_VALUE).uid("numbers")
                .map(HttpStopWithSavepointITCase::blockOf).uid("blocks").returns(BlockTypeInfoFactory.TYPE_INFO);
        DeliveryTopology.attach(blocks, config);
        return env.executeAsync("stop with savepoint");
    }

    /** Block i: content depends on i only. */
    private static Block blockOf(long i) throws InterruptedException {
        Thread.sleep(20);
        CUT.incrementAndGet();
        String record = "{\"i\":\"" + i + "\"}";
        return new Block(1, DataSource.HTTP, "example.com", i, 1, record.getBytes(StandardCharsets.US_ASCII));
    }

    /** Until the receiver got nothing new for a second: the released blocks have all arrived. */
    private static void awaitQuiet(HttpReceiver receiver) throws InterruptedException {
        int seen = -1;
        while (seen != receiver.requests().size()) {
            seen = receiver.requests().size();
            Thread.sleep(1000);
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
