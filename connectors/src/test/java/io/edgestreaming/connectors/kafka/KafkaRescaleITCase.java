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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
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

    /**
     * Attempt A restores checkpoint 1 at parallelism 3 and prepares a transaction in each subtask, then
     * fails before any checkpoint completes; attempt B restores the same checkpoint at parallelism 1.
     * Subtasks 1 and 2 of attempt A no longer exist, yet their open transactions (same generation) are
     * aborted by attempt B, so read_committed consumers are not held back until transaction_timeout
     * (10 minutes here), and every block is delivered once.
     */
    @Test
    void scaleDownAfterAFailedAttemptAbortsTheTransactionsOfVanishedSubtasks() throws Exception {
        String topic = "rescale" + (++topics);
        kafka.createTopic(topic, 2);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(kafka, topic, KafkaEndpoint.MessageFormat.RECORD, "none")));
        JobID job = new JobID();
        List<Block> all = new ArrayList<>();
        long seq = 0;
        // Checkpoint 1 at parallelism 3 (fresh start): a prepared transaction per subtask.
        List<OperatorSubtaskState> snapshots = new ArrayList<>();
        List<DeliveryHarness> first = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                first.add(DeliveryHarness.open(config, new KafkaTransport.Factory(), null, 3, i, job, -1));
            }
            for (DeliveryHarness h : first) {
                for (int b = 0; b < 2; b++) {
                    Block block = block(1, "example.com", seq++, 1 + b % 3);
                    all.add(block);
                    h.process(block);
                }
                snapshots.add(h.snapshot(1));
            }
        } finally {
            for (DeliveryHarness h : first) {
                h.close();
            }
        }
        OperatorSubtaskState checkpoint1 = AbstractStreamOperatorTestHarness.repackageState(snapshots.toArray(new OperatorSubtaskState[0]));

        // Attempt A: checkpoint 1 restored at parallelism 3; each subtask writes blocks after it in a
        // transaction (checkpoint 2, never completed), then the attempt fails.
        List<Block> replayed = new ArrayList<>();
        List<DeliveryHarness> attemptA = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                OperatorSubtaskState share = AbstractStreamOperatorTestHarness.repartitionOperatorState(
                        checkpoint1, DeliveryHarness.MAX_PARALLELISM, 3, 3, i);
                attemptA.add(DeliveryHarness.open(config, new KafkaTransport.Factory(), share, 3, i, job, 1));
            }
            for (DeliveryHarness h : attemptA) {
                h.runMailsFor(Duration.ofMillis(300));
                for (int b = 0; b < 2; b++) {
                    Block block = block(1, "example.com", seq++, 2);
                    replayed.add(block);
                    h.process(block);
                }
                h.snapshot(2);
            }
            // Checkpoint 1's transactions are committed again on restore; attempt A's are open.
            assertThat(awaitTrue(() -> !stable(topic))).as("attempt A's transactions open").isTrue();
        } finally {
            for (DeliveryHarness h : attemptA) {
                h.close(); // the failure: prepared transactions stay open
            }
        }
        assertThat(stable(topic)).as("attempt A's transactions still open after its failure").isFalse();

        // Attempt B: the same checkpoint 1 at parallelism 1; the source replays the blocks after it.
        all.addAll(replayed);
        DeliveryHarness b = DeliveryHarness.open(config, new KafkaTransport.Factory(),
                AbstractStreamOperatorTestHarness.repartitionOperatorState(checkpoint1, DeliveryHarness.MAX_PARALLELISM, 3, 1, 0),
                1, 0, job, 1);
        try {
            b.runMailsFor(Duration.ofMillis(300));
            for (Block block : replayed) {
                b.process(block);
            }
            for (long cp = 2; cp < 6 && b.pending() > 0; cp++) {
                b.snapshot(cp);
                b.complete(cp);
                b.runMailsUntil(() -> b.pending() == 0, Duration.ofSeconds(10));
            }
            assertThat(b.pending()).as("every restored and replayed block acknowledged").isZero();
            // Attempt A's transactions of subtasks 1 and 2 are aborted: read_committed reads to the end.
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!stable(topic) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(stable(topic)).as("no transaction left open: last stable offset = high watermark").isTrue();
        } finally {
            b.close();
        }
        List<String> expected = new ArrayList<>();
        all.forEach(block -> expected.addAll(recordMessages(block)));
        assertThat(read(kafka, topic, expected.size())).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(KafkaFixtures.manifests(deadLetters)).isEmpty();
    }

    /** Whether every partition's last stable offset (read_committed end) is its high watermark. */
    private static boolean stable(String topic) {
        try {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < 2; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            var committed = kafka.admin().listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                    .get(10, TimeUnit.SECONDS);
            var written = kafka.admin().listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all()
                    .get(10, TimeUnit.SECONDS);
            for (TopicPartition tp : latest.keySet()) {
                if (committed.get(tp).offset() != written.get(tp).offset()) {
                    return false;
                }
            }
            return true;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
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
