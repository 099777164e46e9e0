package io.edgestreaming.connectors.kafka;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static io.edgestreaming.connectors.kafka.KafkaDeliveryITCase.awaitDelivered;
import static io.edgestreaming.connectors.kafka.KafkaDeliveryITCase.process;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.blockMessage;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.endpoint;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.read;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.readNow;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.recordMessages;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.internal.DeliveryHarness;
import io.edgestreaming.testkit.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One destination's broker stops mid-run: the other destination keeps receiving every checkpoint's
 * blocks, checkpoints are not held up, nothing fails; when the broker comes back (same port, same
 * data), the stopped destination's blocks arrive exactly once.
 */
class KafkaIsolationITCase {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaIsolationITCase.class);

    @TempDir
    Path deadLetters;

    @Test
    void aStoppedBrokerDelaysNoOtherDestinationAndItsBlocksArriveOnceWhenItReturns() throws Exception {
        try (EmbeddedKafka healthy = EmbeddedKafka.start(); EmbeddedKafka stopping = EmbeddedKafka.start()) {
            healthy.createTopic("events", 1);
            stopping.createTopic("events", 1);
            JobConfig config = job(deadLetters, delivery(),
                    stream(1, endpoint(healthy, "events", KafkaEndpoint.MessageFormat.RECORD, "none")),
                    stream(2, endpoint(stopping, "events", KafkaEndpoint.MessageFormat.BLOCK, "gzip")));
            List<String> expectedHealthy = new ArrayList<>();
            List<String> expectedStopping = new ArrayList<>();
            long cp = 0;
            try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
                // Both up.
                cp = round(h, cp, expectedHealthy, expectedStopping);
                assertThat(awaitDelivered(h)).isTrue();

                stopping.stopBroker();
                List<Long> snapshotMillis = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    long start = System.nanoTime();
                    cp = round(h, cp, expectedHealthy, expectedStopping);
                    snapshotMillis.add((System.nanoTime() - start) / 1_000_000);
                    // The healthy destination has this checkpoint's blocks right after it completed.
                    assertThat(read(healthy, "events", expectedHealthy.size())).containsExactlyElementsOf(expectedHealthy);
                    h.advance(Duration.ofMillis(500));
                    h.runMailsFor(Duration.ofMillis(100));
                }
                LOG.info("Checkpoint (snapshot + notification) times while a destination is down: {} ms", snapshotMillis);
                // Only the first checkpoint after the failure waits for the destination (bounded); later
                // ones do not wait for it at all.
                assertThat(snapshotMillis.get(0)).isLessThan(15_000);
                assertThat(snapshotMillis.subList(1, snapshotMillis.size())).allMatch(ms -> ms < 3000);
                assertThat(h.pending()).isEqualTo(4);

                stopping.startBroker();
                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                while (h.pending() > 0 && System.nanoTime() < deadline) {
                    cp++;
                    h.snapshot(cp);
                    h.complete(cp);
                    awaitDeliveredFor(h, Duration.ofSeconds(2));
                }
                assertThat(h.pending()).as("blocks of the returned destination acknowledged").isZero();
            }
            assertThat(read(stopping, "events", expectedStopping.size())).containsExactlyElementsOf(expectedStopping);
            assertThat(readNow(healthy, "events")).containsExactlyElementsOf(expectedHealthy);
            assertThat(KafkaFixtures.manifests(deadLetters)).isEmpty();
        }
    }

    @Test
    void aCommitThatFailsBecauseTheBrokerStoppedIsRetriedAndLandsOnce() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopic("events", 1);
            JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(kafka, "events", KafkaEndpoint.MessageFormat.BLOCK, "none")));
            Block b0 = block(1, "example.com", 0, 2);
            try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
                process(h, b0);
                h.snapshot(1); // prepared on the broker
                kafka.stopBroker();
                h.complete(1); // the commit fails (bounded by the request timeout) and waits for the next checkpoint
                awaitDeliveredFor(h, Duration.ofSeconds(7));
                assertThat(h.pending()).isEqualTo(1);
                kafka.startBroker();
                long cp = 1;
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (h.pending() > 0 && System.nanoTime() < deadline) {
                    cp++;
                    h.snapshot(cp);
                    h.complete(cp);
                    awaitDeliveredFor(h, Duration.ofSeconds(2));
                }
                assertThat(h.pending()).isZero();
            }
            assertThat(read(kafka, "events", 1)).containsExactly(blockMessage(b0));
            assertThat(KafkaFixtures.manifests(deadLetters)).isEmpty();
        }
    }

    /** One block per destination, then a checkpoint and its completion. */
    private static long round(DeliveryHarness h, long cp, List<String> expectedHealthy, List<String> expectedStopping) throws Exception {
        long next = cp + 1;
        Block toHealthy = block(1, "example.com", next, 3);
        Block toStopping = block(2, "example.com", next, 2);
        process(h, toHealthy);
        process(h, toStopping);
        expectedHealthy.addAll(recordMessages(toHealthy));
        expectedStopping.add(blockMessage(toStopping));
        h.snapshot(next);
        h.complete(next);
        return next;
    }

    private static void awaitDeliveredFor(DeliveryHarness h, Duration d) throws Exception {
        long deadline = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < deadline && h.pending() > 0) {
            h.runMailsUntil(() -> h.pending() == 0, Duration.ofMillis(200));
            h.advance(Duration.ofMillis(500));
        }
    }
}
