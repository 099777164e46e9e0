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
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job that fails mid-way and restarts from its last checkpoint: blocks delivered after that
 * checkpoint are sent again (same Idempotency-Key, same body) and the deduplicating receiver ends up
 * with every block exactly once; nothing differs between a block and its repeat.
 */
class HttpRestartITCase {
    private static final Logger LOG = LoggerFactory.getLogger(HttpRestartITCase.class);
    private static final int BLOCKS = 100;
    private static final AtomicBoolean FAILED = new AtomicBoolean();
    private static volatile HttpReceiver receiver;

    @TempDir
    Path deadLetters;

    @Test
    void aRestartedJobDeliversEveryBlockOnceToADeduplicatingReceiver() throws Exception {
        try (HttpReceiver r = HttpReceiver.start()) {
            receiver = r;
            FAILED.set(false);
            JobConfig config = job(deadLetters, delivery(), stream(1, http(r.url("/ingest"))));
            Configuration conf = new Configuration();
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(1);
            env.enableCheckpointing(100);
            var blocks = env.fromSequence(0, BLOCKS - 1).map(HttpRestartITCase::blockOf).returns(BlockTypeInfoFactory.TYPE_INFO);
            DeliveryTopology.attach(blocks, config);
            env.execute("delivery restart");

            assertThat(FAILED).as("the job failed once on purpose").isTrue();
            assertThat(r.deliveredBlocks()).hasSize(BLOCKS);
            assertThat(r.conflictingRepeats()).isEmpty();
            LOG.info("Restart: {} requests, {} accepted repeats deduped by Idempotency-Key", r.requests().size(), r.repeats());
        } finally {
            receiver = null;
        }
    }

    /** Content depends on i only: a replay after the restart re-cuts identical blocks. */
    private static Block blockOf(long i) throws InterruptedException {
        Thread.sleep(20);
        // Fail once, right after the receiver got some blocks: those delivered after the last
        // checkpoint are still pending in it and come again after the restore.
        if (i >= 40 && receiver.deliveredBlocks().size() >= 20 && !FAILED.getAndSet(true)) {
            throw new IllegalStateException("injected failure");
        }
        String record = "{\"i\":\"" + i + "\"}";
        return new Block(1, DataSource.HTTP, "example.com", i, 1, record.getBytes(StandardCharsets.US_ASCII));
    }
}
