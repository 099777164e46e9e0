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
import io.edgestreaming.testkit.ChildProcessKafka;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.KafkaBrokerKind;
import io.edgestreaming.testkit.TestKafka;
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
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * What exactly-once to Kafka must survive, on every kind of cluster customers run ({@link KafkaBrokerKind}:
 * a fresh 4.2 cluster with transaction.version 2, a 4.2 cluster upgraded from 3.x with transaction.version 0,
 * and Kafka 3.9 as a child process), one subclass per kind. The real engine in Flink's operator harness:
 * restores after and before the commit, the failed attempt's open transactions aborted, rescaling up and
 * down (blocks and transactions landing on different subtasks), stop-with-savepoint and a restart from
 * it, a transaction the broker aborted, a destination that left the configuration, and a bounded pool of
 * transactional ids. Every run checks that a read_committed consumer sees every record exactly once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class KafkaTransactionsContract {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int PER_SUBTASK = 6;
    private TestKafka kafka;
    private int topics;

    @TempDir
    Path deadLetters;

    /** The kind of cluster this run is about. */
    abstract KafkaBrokerKind kind();

    @BeforeAll
    void startCluster() {
        // A short abort-check interval lets "the broker aborted it while the job was down" run in seconds.
        Map<String, String> props = Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "500");
        kafka = switch (kind()) {
            case KAFKA_4_2_TV2 -> EmbeddedKafka.builder().transactionVersion(2).brokerProps(props).start();
            case KAFKA_4_2_TV0 -> EmbeddedKafka.builder().transactionVersion(0).brokerProps(props).start();
            case KAFKA_3_9 -> ChildProcessKafka.builder().brokerProps(props).start();
        };
    }

    @AfterAll
    void stopCluster() {
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

    @Test
    void theClusterIsTheKindThisRunIsAbout() {
        assertThat(kafka.transactionVersion()).as(kind().description()).isEqualTo(kind().expectedTransactionVersion());
    }

    @Test
    void restoreAfterTheCommitWritesNothingTwice() throws Exception {
        String topic = topic(1);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(kafka, topic, KafkaEndpoint.MessageFormat.BLOCK, "snappy")));
        Block a0 = block(1, "example.com", 0, 2);
        Block a1 = block(1, "example.com", 1, 2);
        OperatorSubtaskState checkpoint1;
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            h.process(a0);
            checkpoint1 = h.snapshot(1);
            h.complete(1);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        // Checkpoint 1 still holds a0 and its transaction, committed before the "crash". Under
        // transaction.version 2 committing it again is fenced: its fate must be read back, not guessed.
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), checkpoint1)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).as("a0 known committed without a new checkpoint").isTrue();
            h.process(a1);
            h.snapshot(2);
            h.complete(2);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(read(kafka, topic, 2)).containsExactly(KafkaFixtures.blockMessage(a0), KafkaFixtures.blockMessage(a1));
        assertThat(KafkaFixtures.manifests(deadLetters)).isEmpty();
    }

    @Test
    void restoreBeforeTheCommitCommitsThePreparedTransactionAndAbortsWhatTheFailedAttemptLeftOpen() throws Exception {
        String topic = topic(1);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(kafka, topic, KafkaEndpoint.MessageFormat.RECORD, "none")));
        Block a0 = block(1, "example.com", 0, 2);
        Block a1 = block(1, "example.com", 1, 3);
        OperatorSubtaskState checkpoint1;
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            h.process(a0);
            checkpoint1 = h.snapshot(1);
            // The failed attempt goes on: a1 is written in checkpoint 2's transaction, which never
            // completes; the task dies before checkpoint 1's notification.
            h.process(a1);
            h.snapshot(2);
        }
        assertThat(readNow(kafka, topic)).isEmpty();
        assertThat(KafkaFixtures.stable(kafka, topic, 1)).as("the failed attempt's transactions are open").isFalse();
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), checkpoint1)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).as("checkpoint 1's block committed on restore").isTrue();
            assertThat(awaitTrue(() -> KafkaFixtures.stable(kafka, topic, 1))).as("the failed attempt's transaction aborted").isTrue();
            assertThat(readNow(kafka, topic)).containsExactlyElementsOf(recordMessages(a0));
            h.process(a1); // replayed by the source
            h.snapshot(3);
            h.complete(3);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        List<String> expected = new ArrayList<>(recordMessages(a0));
        expected.addAll(recordMessages(a1));
        assertThat(read(kafka, topic, expected.size())).containsExactlyElementsOf(expected);
    }

    @Test
    void stopWithSavepointAndARestartFromItWriteEveryBlockOnce() throws Exception {
        String topic = topic(1);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(kafka, topic, KafkaEndpoint.MessageFormat.BLOCK, "none")));
        Block a0 = block(1, "example.com", 0, 2);
        Block a1 = block(1, "example.com", 1, 1);
        OperatorSubtaskState savepoint;
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            h.process(a0);
            savepoint = h.snapshot(1);
            h.complete(1); // stop-with-savepoint: the task closes as soon as this returns
        }
        // Left open, the transaction would hide the partition from read_committed consumers during the upgrade.
        assertThat(readNow(kafka, topic)).containsExactly(KafkaFixtures.blockMessage(a0));
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), savepoint)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
            h.process(a1);
            h.snapshot(2);
            h.complete(2);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(read(kafka, topic, 2)).containsExactly(KafkaFixtures.blockMessage(a0), KafkaFixtures.blockMessage(a1));
    }

    @Test
    void aTransactionTheBrokerAbortedWhileTheJobWasDownIsWrittenAgainOnce() throws Exception {
        String topic = topic(1);
        KafkaEndpoint shortTimeout = new KafkaEndpoint(kafka.bootstrapServers(), topic, false, null, null,
                KafkaEndpoint.MessageFormat.BLOCK, "none", Duration.ofSeconds(2));
        JobConfig config = job(deadLetters, delivery(), stream(1, shortTimeout));
        Block a0 = block(1, "example.com", 0, 2);
        OperatorSubtaskState checkpoint1;
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            h.process(a0);
            checkpoint1 = h.snapshot(1);
        }
        Thread.sleep(4000); // down longer than transaction_timeout: the broker aborts the prepared transaction
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), checkpoint1)) {
            assertThat(awaitTrue(() -> KafkaFixtures.stable(kafka, topic, 1))).isTrue();
            h.runMailsFor(Duration.ofMillis(500));
            assertThat(h.pending()).as("read back as aborted: a0 waits for a later checkpoint").isEqualTo(1);
            assertThat(KafkaDeliveryITCase.checkpointUntilDelivered(h, 2)).isTrue();
        }
        assertThat(read(kafka, topic, 1)).containsExactly(KafkaFixtures.blockMessage(a0));
        assertThat(KafkaFixtures.manifests(deadLetters)).isEmpty();
    }

    @Test
    void aPreparedTransactionWhoseOnlyStreamWasRemovedIsCommittedWithWhatItWasPreparedWith() throws Exception {
        String gone = topic(1);
        String other = topic(1);
        Block a0 = block(1, "example.com", 0, 2);
        Block b0 = block(2, "example.com", 0, 1);
        JobConfig before = job(deadLetters, delivery(), stream(1, endpoint(kafka, gone, KafkaEndpoint.MessageFormat.BLOCK, "none")),
                stream(2, endpoint(kafka, other, KafkaEndpoint.MessageFormat.BLOCK, "none")));
        OperatorSubtaskState savepoint;
        try (DeliveryHarness h = DeliveryHarness.open(before, new KafkaTransport.Factory(), null)) {
            h.process(a0);
            savepoint = h.snapshot(1); // taken; the job stops before its notification
        }
        // The new configuration no longer has stream 1 nor any stream on its topic.
        JobConfig after = job(deadLetters, delivery(), stream(2, endpoint(kafka, other, KafkaEndpoint.MessageFormat.BLOCK, "none")));
        try (DeliveryHarness h = DeliveryHarness.open(after, new KafkaTransport.Factory(), savepoint)) {
            h.process(b0);
            h.snapshot(2);
            h.complete(2);
            assertThat(KafkaDeliveryITCase.awaitDelivered(h)).as("nothing stuck in state").isTrue();
        }
        assertThat(read(kafka, gone, 1)).containsExactly(KafkaFixtures.blockMessage(a0));
        assertThat(read(kafka, other, 1)).containsExactly(KafkaFixtures.blockMessage(b0));
        assertThat(KafkaFixtures.stable(kafka, gone, 1)).isTrue();
        assertThat(KafkaFixtures.manifests(deadLetters)).isEmpty();
    }

    @Test
    void aHundredCheckpointsUseNoMoreTransactionalIdsThanThePoolHolds() throws Exception {
        String topic = topic(2);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(kafka, topic, KafkaEndpoint.MessageFormat.RECORD, "none")));
        JobID job = new JobID();
        List<DeliveryHarness> subtasks = new ArrayList<>();
        List<Block> all = new ArrayList<>();
        long seq = 0;
        try {
            for (int i = 0; i < 2; i++) {
                subtasks.add(DeliveryHarness.open(config, new KafkaTransport.Factory(), null, 2, i, job, -1));
            }
            for (long cp = 1; cp <= 100; cp++) {
                for (DeliveryHarness h : subtasks) {
                    Block b = block(1, "example.com", seq++, 1);
                    all.add(b);
                    h.process(b);
                    h.snapshot(cp);
                }
                for (DeliveryHarness h : subtasks) {
                    h.complete(cp);
                }
                for (DeliveryHarness h : subtasks) {
                    assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
                }
            }
        } finally {
            for (DeliveryHarness h : subtasks) {
                h.close();
            }
        }
        List<String> ids = new ArrayList<>();
        for (var t : kafka.admin().listTransactions().all().get(30, TimeUnit.SECONDS)) {
            if (t.transactionalId().startsWith("edge-streaming-" + job.toHexString())) {
                ids.add(t.transactionalId());
            }
        }
        assertThat(ids).as("ids the broker keeps for 7 days").isNotEmpty().hasSizeLessThanOrEqualTo(TransactionalIds.POOL_SIZE * 2);
        List<String> expected = new ArrayList<>();
        all.forEach(b -> expected.addAll(recordMessages(b)));
        assertThat(read(kafka, topic, expected.size())).containsExactlyInAnyOrderElementsOf(expected);
    }

    private String topic(int partitions) {
        String topic = "t" + (++topics);
        kafka.createTopic(topic, partitions);
        return topic;
    }

    /** Whether every partition's last stable offset (read_committed end) is its high watermark. */
    private boolean stable(String topic) {
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
