package io.edgestreaming.connectors.kafka;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
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
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restoring the Kafka delivery at another parallelism (the real engine in Flink's operator harness,
 * one real in-process KRaft cluster): the checkpoint holds blocks whose transaction is prepared but
 * not committed (checkpoint taken, its completion never notified) and blocks whose transaction is
 * committed but whose acknowledgement the engine never processed. Whatever subtask each of those
 * blocks and each transaction lands on, a read_committed consumer sees every block's records once.
 */
class KafkaRescaleITCase {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int PER_SUBTASK = 6;
    private static EmbeddedKafka kafka;
    private static int topics;

    @TempDir
    Path deadLetters;

    @BeforeAll
    static void startCluster() {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stopCluster() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void scaleUpFromOneToTwoDeliversEveryBlockExactlyOnce() throws Exception {
        rescale(1, 2);
    }

    @Test
    void scaleUpFromTwoToThreeDeliversEveryBlockExactlyOnce() throws Exception {
        rescale(2, 3);
    }

    @Test
    void scaleDownFromTwoToOneDeliversEveryBlockExactlyOnce() throws Exception {
        rescale(2, 1);
    }

    private void rescale(int oldParallelism, int newParallelism) throws Exception {
        String topic = "rescale" + (++topics);
        kafka.createTopic(topic, 2);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(kafka, topic, KafkaEndpoint.MessageFormat.RECORD, "none")));
        List<Block> all = new ArrayList<>();
        List<DeliveryHarness> old = new ArrayList<>();
        List<OperatorSubtaskState> snapshots = new ArrayList<>();
        long seq = 0;
        try {
            for (int i = 0; i < oldParallelism; i++) {
                old.add(DeliveryHarness.open(config, new KafkaTransport.Factory(), null, oldParallelism, i));
            }
            // Checkpoint 1 completes: its transactions commit, but the engine never runs the
            // acknowledgements (they sit in the mailbox), so checkpoint 2 still holds those blocks.
            List<Integer> committed = new ArrayList<>();
            for (DeliveryHarness h : old) {
                for (int b = 0; b < PER_SUBTASK; b++) {
                    Block block = block(1, "example.com", seq++, 1 + b % 3);
                    all.add(block);
                    h.process(block);
                }
                // The engine sends at most 4 per destination at once; their outcomes come after the commit.
                committed.add(Math.min(PER_SUBTASK, 4));
                h.snapshot(1);
            }
            for (DeliveryHarness h : old) {
                h.complete(1);
            }
            for (int i = 0; i < old.size(); i++) {
                DeliveryHarness h = old.get(i);
                int expected = committed.get(i);
                assertThat(awaitTrue(() -> h.queuedMails() >= expected)).as("checkpoint 1's transactions committed").isTrue();
            }
            // Checkpoint 2 prepares a transaction per subtask and never completes.
            for (DeliveryHarness h : old) {
                for (int b = 0; b < PER_SUBTASK; b++) {
                    Block block = block(1, "example.com", seq++, 1 + b % 3);
                    all.add(block);
                    h.process(block);
                }
                snapshots.add(h.snapshot(2));
            }
        } finally {
            for (DeliveryHarness h : old) {
                h.close();
            }
        }
        List<String> committedSoFar = new ArrayList<>();
        for (Block b : all.subList(0, oldParallelism * PER_SUBTASK)) {
            committedSoFar.addAll(recordMessages(b));
        }
        assertThat(readNow(kafka, topic)).containsExactlyInAnyOrderElementsOf(committedSoFar);

        // Restore checkpoint 2 at the new parallelism; every new subtask also gets one fresh block.
        OperatorSubtaskState checkpoint2 = AbstractStreamOperatorTestHarness.repackageState(snapshots.toArray(new OperatorSubtaskState[0]));
        List<DeliveryHarness> restored = new ArrayList<>();
        try {
            for (int i = 0; i < newParallelism; i++) {
                OperatorSubtaskState share = AbstractStreamOperatorTestHarness.repartitionOperatorState(
                        checkpoint2, DeliveryHarness.MAX_PARALLELISM, oldParallelism, newParallelism, i);
                restored.add(DeliveryHarness.open(config, new KafkaTransport.Factory(), share, newParallelism, i));
            }
            for (DeliveryHarness h : restored) {
                h.runMailsFor(Duration.ofMillis(300));
                Block fresh = block(1, "example.com", seq++, 2);
                all.add(fresh);
                h.process(fresh);
                h.snapshot(3);
            }
            for (DeliveryHarness h : restored) {
                h.complete(3);
            }
            for (DeliveryHarness h : restored) {
                assertThat(KafkaDeliveryITCase.awaitDelivered(h)).as("every restored and fresh block acknowledged").isTrue();
            }
        } finally {
            for (DeliveryHarness h : restored) {
                h.close();
            }
        }
        List<String> expected = new ArrayList<>();
        all.forEach(b -> expected.addAll(recordMessages(b)));
        assertThat(read(kafka, topic, expected.size())).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(KafkaFixtures.manifests(deadLetters)).isEmpty();
    }

    private static boolean awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }
}
