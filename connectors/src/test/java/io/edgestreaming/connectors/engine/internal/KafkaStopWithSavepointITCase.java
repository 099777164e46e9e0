package io.edgestreaming.connectors.engine.internal;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.kafka.KafkaTransport;
import io.edgestreaming.testkit.EmbeddedKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's side of {@code flink stop} with the Kafka transport: the stopping job keeps the savepoint's
 * blocks but still lets the transport commit the savepoint's transaction (nothing stays open behind a
 * stopped job); the restored job settles those blocks without writing them again.
 */
class KafkaStopWithSavepointITCase {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static EmbeddedKafka kafka;

    @TempDir
    Path deadLetters;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void theStopCommitsTheSavepointsTransactionAndTheRestoredJobWritesNothingTwice() throws Exception {
        String topic = "stop-savepoint";
        kafka.createTopic(topic, 1);
        KafkaEndpoint endpoint = new KafkaEndpoint(kafka.bootstrapServers(), topic, false, null, null,
                KafkaEndpoint.MessageFormat.BLOCK, "none", Duration.ofMinutes(10));
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint));
        Block b0 = block(1, "example.com", 0, 2);
        Block b1 = block(1, "example.com", 1, 1);
        Block b2 = block(1, "example.com", 2, 3);
        OperatorSubtaskState savepoint;
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            h.process(b0);
            h.snapshot(1);
            h.complete(1);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
            h.process(b1);
            h.process(b2);
            savepoint = h.stopSavepoint(2, false);
            h.complete(2); // the stopping task's last notification; it closes next
            assertThat(h.pending()).as("the savepoint's blocks stay with the savepoint").isEqualTo(2);
        }
        assertThat(values(kafka.readCommitted(topic, Duration.ofSeconds(10)))).as("committed at the stop")
                .containsExactly(value(b0), value(b1), value(b2));

        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), savepoint)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).as("settled by the restored job").isTrue();
        }
        assertThat(values(kafka.readCommitted(topic, Duration.ofSeconds(10)))).as("each block once")
                .containsExactly(value(b0), value(b1), value(b2));
    }

    private static List<String> values(List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> new String(r.value(), StandardCharsets.US_ASCII)).toList();
    }

    private static String value(Block b) {
        return new String(b.records(), StandardCharsets.US_ASCII);
    }
}
