package io.edgestreaming.connectors.kafka;

import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.blockMessage;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.endpoint;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.read;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.recordMessages;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.BlockTypeInfoFactory;
import io.edgestreaming.connectors.DeliveryTopology;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.testkit.EmbeddedKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole delivery topology in a Flink MiniCluster with checkpoints, two Kafka clusters (record and
 * block format) and a failure injected mid-run: the job restarts from its last checkpoint, replays, and
 * read_committed consumers end up with every message exactly once; the bounded run's end commits the
 * last blocks too.
 */
class KafkaRestartITCase {
    private static final int BLOCKS = 120;
    private static final AtomicBoolean FAILED = new AtomicBoolean();

    @TempDir
    Path deadLetters;

    @Test
    void aRestartedJobWritesEveryBlockExactlyOnceToBothClusters() throws Exception {
        try (EmbeddedKafka a = EmbeddedKafka.start(); EmbeddedKafka b = EmbeddedKafka.start()) {
            a.createTopic("records", 2);
            b.createTopic("blocks", 1);
            FAILED.set(false);
            JobConfig config = job(deadLetters, delivery(),
                    stream(1, endpoint(a, "records", KafkaEndpoint.MessageFormat.RECORD, "lz4")),
                    stream(2, endpoint(b, "blocks", KafkaEndpoint.MessageFormat.BLOCK, "gzip")));
            Configuration conf = new Configuration();
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(2);
            env.enableCheckpointing(150);
            var blocks = env.fromSequence(0, BLOCKS - 1).setParallelism(1)
                    .map(KafkaRestartITCase::blockOf).setParallelism(1).returns(BlockTypeInfoFactory.TYPE_INFO);
            DeliveryTopology.attach(blocks, config);
            env.execute("kafka delivery restart");

            assertThat(FAILED).as("the job failed once on purpose").isTrue();
            List<String> expectedRecords = new ArrayList<>();
            List<String> expectedBlocks = new ArrayList<>();
            for (long i = 0; i < BLOCKS; i++) {
                Block block = make(i);
                if (block.streamId() == 1) {
                    expectedRecords.addAll(recordMessages(block));
                } else {
                    expectedBlocks.add(blockMessage(block));
                }
            }
            assertThat(read(a, "records", expectedRecords.size())).containsExactlyInAnyOrderElementsOf(expectedRecords);
            assertThat(read(b, "blocks", expectedBlocks.size())).containsExactlyInAnyOrderElementsOf(expectedBlocks);
            assertThat(KafkaFixtures.manifests(deadLetters)).isEmpty();
        }
    }

    private static Block blockOf(long i) throws InterruptedException {
        Thread.sleep(20);
        // Fail once, after a few checkpoints' worth of blocks went out.
        if (i == 70 && !FAILED.getAndSet(true)) {
            throw new IllegalStateException("injected failure");
        }
        return make(i);
    }

    /** Content depends on i only: a replay re-cuts identical blocks. */
    private static Block make(long i) {
        long stream = i % 3 == 0 ? 2 : 1;
        String domain = i % 2 == 0 ? "a.example.com" : "b.example.com";
        int records = 1 + (int) (i % 3);
        List<String> lines = new ArrayList<>();
        for (int r = 0; r < records; r++) {
            lines.add("{\"i\":\"" + i + "\",\"r\":\"" + r + "\"}");
        }
        return new Block(stream, DataSource.HTTP, domain, i, records, String.join("\n", lines).getBytes(StandardCharsets.US_ASCII));
    }
}
