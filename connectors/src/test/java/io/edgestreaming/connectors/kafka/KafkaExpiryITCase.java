package io.edgestreaming.connectors.kafka;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static io.edgestreaming.connectors.kafka.KafkaDeliveryITCase.process;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.blockMessage;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.endpoint;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.readNow;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.internal.DeliveryHarness;
import io.edgestreaming.testkit.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's max_retry_duration must never dead-letter a Kafka block that the lane still writes or
 * commits: a block is either in the topic or in the dead-letter store, never both.
 */
class KafkaExpiryITCase {
    private static final Duration MAX_RETRY = Duration.ofSeconds(30);

    @TempDir
    Path deadLetters;

    @Test
    void aBlockWhoseCommitKeepsFailingIsNotDeadLetteredWhileItsTransactionCanStillCommit() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopic("events", 1);
            JobConfig config = job(deadLetters, delivery(MAX_RETRY),
                    stream(1, endpoint(kafka, "events", KafkaEndpoint.MessageFormat.BLOCK, "none")));
            Block b0 = block(1, "example.com", 0, 2);
            try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
                process(h, b0);
                h.snapshot(1); // prepared on the broker
                kafka.stopBroker();
                h.complete(1); // the commit fails: a retry outcome, the transaction stays prepared
                awaitFor(h, Duration.ofSeconds(7));
                // The broker stays down past max_retry_duration (harness time stands for the wall clock).
                h.advance(MAX_RETRY.plusSeconds(1));
                h.snapshot(2);
                h.complete(2); // the commit fails once more, now after max_retry_duration
                awaitFor(h, Duration.ofSeconds(7));
                kafka.startBroker();
                long cp = 2;
                for (int i = 0; i < 10 && (h.pending() > 0 || i < 2); i++) {
                    cp++;
                    h.snapshot(cp);
                    h.complete(cp); // commits the prepared transaction again
                    awaitFor(h, Duration.ofSeconds(2));
                }
                assertThat(h.pending()).isZero();
            }
            assertExactlyOneOf(kafka, blockMessage(b0));
        }
    }

    @Test
    void afterARestoreTheLaneDoesNotWriteABlockTheEngineAlreadyExpired() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopic("events", 1);
            JobConfig config = job(deadLetters, delivery(MAX_RETRY),
                    stream(1, endpoint(kafka, "events", KafkaEndpoint.MessageFormat.BLOCK, "none")));
            Block b0 = block(1, "example.com", 0, 2);
            OperatorSubtaskState checkpoint2;
            try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
                process(h, b0);
                kafka.stopBroker();
                h.snapshot(1); // the attempt cannot write: b0 stays in the lane's backlog
                h.complete(1); // b0 deliverable from now on (the engine keeps this time in its state)
                h.runMailsFor(Duration.ofMillis(300));
                checkpoint2 = h.snapshot(2);
            }
            kafka.startBroker();
            try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), checkpoint2)) {
                // The job was down most of max_retry_duration (harness time): the engine expires b0 ...
                h.advance(MAX_RETRY.plusSeconds(1));
                h.runMailsFor(Duration.ofMillis(500));
                // ... while the lane, whose clock restarted at the restore, would still write it.
                for (long cp = 3; cp < 6; cp++) {
                    h.snapshot(cp);
                    h.complete(cp);
                    awaitFor(h, Duration.ofSeconds(2));
                }
                assertThat(h.pending()).isZero();
            }
            assertExactlyOneOf(kafka, blockMessage(b0));
        }
    }

    @Test
    void aBlockWhoseStreamMovedToAnotherTopicIsDeadLetteredAndNotWrittenToTheOldOne() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopic("events", 1);
            kafka.createTopic("moved", 1);
            KafkaEndpoint old = endpoint(kafka, "events", KafkaEndpoint.MessageFormat.BLOCK, "none");
            JobConfig before = job(deadLetters, delivery(), stream(1, old), stream(2, old));
            // Stream 1 moves to another topic; stream 2 keeps the old destination, so its lane lives on.
            JobConfig after = job(deadLetters, delivery(),
                    stream(1, endpoint(kafka, "moved", KafkaEndpoint.MessageFormat.BLOCK, "none")), stream(2, old));
            Block b0 = block(1, "example.com", 0, 2);
            OperatorSubtaskState checkpoint1;
            try (DeliveryHarness h = DeliveryHarness.open(before, new KafkaTransport.Factory(), null)) {
                process(h, b0);
                kafka.stopBroker();
                checkpoint1 = h.snapshot(1); // the attempt cannot write: b0 stays in the lane's backlog
            }
            kafka.startBroker();
            try (DeliveryHarness h = DeliveryHarness.open(after, new KafkaTransport.Factory(), checkpoint1)) {
                for (long cp = 2; cp < 5; cp++) {
                    h.snapshot(cp);
                    h.complete(cp);
                    awaitFor(h, Duration.ofSeconds(2));
                }
                assertThat(h.pending()).isZero();
            }
            assertExactlyOneOf(kafka, blockMessage(b0));
            assertThat(KafkaFixtures.manifests(deadLetters)).hasSize(1);
            assertThat(readNow(kafka, "moved")).isEmpty();
        }
    }

    /** The block is in the topic once, or dead-lettered; never both. */
    private void assertExactlyOneOf(EmbeddedKafka kafka, String message) throws Exception {
        Thread.sleep(1000); // let a commit on the lane thread land
        List<String> inTopic = readNow(kafka, "events");
        int deadLettered = KafkaFixtures.manifests(deadLetters).size();
        assertThat(inTopic.size() + deadLettered)
                .as("in the topic %s, dead-lettered %d", inTopic, deadLettered).isEqualTo(1);
        if (!inTopic.isEmpty()) {
            assertThat(inTopic).containsExactly(message);
        }
    }

    private static void awaitFor(DeliveryHarness h, Duration d) throws Exception {
        long deadline = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < deadline && h.pending() > 0) {
            h.runMailsUntil(() -> h.pending() == 0, Duration.ofMillis(200));
            h.advance(Duration.ofMillis(500));
        }
    }
}
