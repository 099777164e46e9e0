package io.edgestreaming.connectors.kafka;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.blockMessage;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.endpoint;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.read;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.readNow;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.recordMessages;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.internal.DeliveryHarness;
import io.edgestreaming.testkit.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka transport on the real delivery engine (Flink's operator harness) against two real
 * in-process KRaft clusters: exactly the expected messages, keys and headers reach read_committed
 * consumers, in both message formats, nothing before its checkpoint completes, and nothing is lost or
 * duplicated across a failure and restore, including a transaction the broker aborted meanwhile.
 */
class KafkaDeliveryITCase {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final AtomicInteger TOPICS = new AtomicInteger();
    private static EmbeddedKafka clusterA;
    private static EmbeddedKafka clusterB;

    @TempDir
    Path deadLetters;

    @BeforeAll
    static void startClusters() {
        // A short abort-check interval lets the "transaction timed out while down" case run in seconds.
        Map<String, String> props = Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "500");
        clusterA = EmbeddedKafka.start(props);
        clusterB = EmbeddedKafka.start(props);
    }

    @AfterAll
    static void stopClusters() {
        if (clusterA != null) {
            clusterA.close();
        }
        if (clusterB != null) {
            clusterB.close();
        }
    }

    private static String topic(EmbeddedKafka kafka, int partitions) {
        String topic = "t" + TOPICS.incrementAndGet();
        kafka.createTopic(topic, partitions);
        return topic;
    }

    @Test
    void bothFormatsOnTwoClustersExactlyOnceAndOnlyAfterTheCheckpoint() throws Exception {
        String recordTopic = topic(clusterA, 2);
        String blockTopic = topic(clusterB, 1);
        JobConfig config = job(deadLetters, delivery(),
                stream(1, endpoint(clusterA, recordTopic, KafkaEndpoint.MessageFormat.RECORD, "gzip")),
                stream(2, endpoint(clusterB, blockTopic, KafkaEndpoint.MessageFormat.BLOCK, "lz4")));
        List<Block> toA = List.of(block(1, "a.example.com", 0, 3), block(1, "b.example.com", 0, 2), block(1, "a.example.com", 1, 4));
        List<Block> toB = List.of(block(2, "a.example.com", 0, 5), block(2, "c.example.com", 0, 1));
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            toA.forEach(b -> process(h, b));
            toB.forEach(b -> process(h, b));
            h.snapshot(1);
            // Written and prepared, but the checkpoint has not completed: invisible.
            assertThat(readNow(clusterA, recordTopic)).isEmpty();
            assertThat(readNow(clusterB, blockTopic)).isEmpty();

            h.complete(1);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).as("all blocks acknowledged").isTrue();

            List<String> expectedA = new ArrayList<>();
            toA.forEach(b -> expectedA.addAll(recordMessages(b)));
            assertThat(read(clusterA, recordTopic, expectedA.size())).containsExactlyInAnyOrderElementsOf(expectedA);
            assertThat(read(clusterB, blockTopic, toB.size())).containsExactly(blockMessage(toB.get(0)), blockMessage(toB.get(1)));

            // A second round in the same run: one more transaction per destination, still exactly once.
            Block later = block(2, "a.example.com", 1, 2);
            process(h, later);
            h.snapshot(2);
            h.complete(2);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
            assertThat(read(clusterB, blockTopic, 3)).containsExactly(blockMessage(toB.get(0)), blockMessage(toB.get(1)), blockMessage(later));
        }
    }

    /** An idle destination holds no thread (many tenants: most destinations are quiet most of the time). */
    @Test
    void anIdleDestinationsThreadEndsAndStartsAgainWithTheNextBlock() throws Exception {
        Duration keepAlive = KafkaWriterThread.idleThread;
        KafkaWriterThread.idleThread = Duration.ofMillis(300);
        try {
            String topic = topic(clusterA, 1);
            JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(clusterA, topic, KafkaEndpoint.MessageFormat.BLOCK, "none")));
            Block b0 = block(1, "example.com", 0, 2);
            Block b1 = block(1, "example.com", 1, 2);
            try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
                process(h, b0);
                h.snapshot(1);
                h.complete(1);
                assertThat(awaitDelivered(h)).isTrue();
                assertThat(writerThreads()).as("writer threads while busy").isPositive();
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (writerThreads() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertThat(writerThreads()).as("writer threads after the destination went idle").isZero();
                process(h, b1);
                h.snapshot(2);
                h.complete(2);
                assertThat(awaitDelivered(h)).isTrue();
            }
            assertThat(read(clusterA, topic, 2)).containsExactly(blockMessage(b0), blockMessage(b1));
        } finally {
            KafkaWriterThread.idleThread = keepAlive;
        }
    }

    /**
     * Many tenants: a destination without traffic also closes its idle producers (each a network thread, broker
     * connections and a buffer) when its writer thread ends, not only at a checkpoint five minutes later.
     */
    @Test
    void anIdleDestinationsProducersCloseWithItsThread() throws Exception {
        Duration keepAlive = KafkaWriterThread.idleThread;
        KafkaWriterThread.idleThread = Duration.ofMillis(300);
        try {
            String topic = topic(clusterA, 1);
            KafkaEndpoint endpoint = endpoint(clusterA, topic, KafkaEndpoint.MessageFormat.RECORD, "none");
            String clientId = "edge-streaming-" + TransactionalIds.hash(endpoint.destinationId()) + "-";
            JobConfig config = job(deadLetters, delivery(), stream(1, endpoint));
            List<Block> blocks = List.of(block(1, "example.com", 0, 2), block(1, "example.com", 1, 3), block(1, "example.com", 2, 1));
            try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
                for (int i = 0; i < blocks.size(); i++) {
                    process(h, blocks.get(i));
                    h.snapshot(i + 1);
                    h.complete(i + 1);
                    assertThat(awaitDelivered(h)).isTrue();
                }
                assertThat(producerThreads(clientId)).as("producers while busy").isPositive();
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while ((writerThreads() > 0 || producerThreads(clientId) > 0) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertThat(writerThreads()).as("writer threads after the destination went idle").isZero();
                assertThat(producerThreads(clientId)).as("producer network threads after the destination went idle").isZero();

                Block later = block(1, "example.com", 3, 2);
                process(h, later);
                h.snapshot(10);
                h.complete(10);
                assertThat(awaitDelivered(h)).as("a new producer for the next block").isTrue();
            }
            List<String> expected = new ArrayList<>();
            blocks.forEach(b -> expected.addAll(recordMessages(b)));
            expected.addAll(recordMessages(block(1, "example.com", 3, 2)));
            assertThat(read(clusterA, topic, expected.size())).containsExactlyElementsOf(expected);
        } finally {
            KafkaWriterThread.idleThread = keepAlive;
        }
    }

    private static long producerThreads(String clientIdPrefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("kafka-producer-network-thread | " + clientIdPrefix)).count();
    }

    /** Stream 1 to {@code endpoint} with batching settings, so its destination's producers are sized by {@code maxSize}. */
    private static io.edgestreaming.config.StreamConfig streamWithMaxSize(KafkaEndpoint endpoint, long maxSize) {
        io.edgestreaming.config.StreamConfig plain = stream(1, endpoint);
        return new io.edgestreaming.config.StreamConfig(plain.id(), plain.name(), plain.client(), plain.dataSource(),
                plain.template(), plain.domains(), plain.allDomains(), plain.samplingPercentage(), plain.active(), endpoint,
                new io.edgestreaming.config.BatchingConfig(100_000, Duration.ofSeconds(10), maxSize));
    }

    /**
     * A block far larger than batch.size goes through, and a block up to the stream's max_size is never refused by
     * the producer's buffer: buffer.memory follows max_size (here 40 MB, a 36 MB block; the old default buffer of
     * 32 MiB refused it and the block went to the dead-letter store).
     */
    @Test
    void aBlockUpToMaxSizeIsNeverRefusedByTheProducersBuffer() throws Exception {
        String topic = "t" + TOPICS.incrementAndGet();
        clusterA.createTopic(topic, 1, Map.of("max.message.bytes", Integer.toString(48 << 20)));
        KafkaEndpoint endpoint = endpoint(clusterA, topic, KafkaEndpoint.MessageFormat.BLOCK, "none");
        io.edgestreaming.config.StreamConfig stream = streamWithMaxSize(endpoint, 40_000_000L);
        var roomy = new io.edgestreaming.config.DeliveryConfig(Duration.ofSeconds(30), Duration.ofMillis(50),
                Duration.ofMillis(400), Duration.ofMinutes(10), 1000, 128L << 20);
        JobConfig config = job(deadLetters, roomy, stream);
        Block medium = largeBlock(0, 200_000); // over batch.size (16 KB)
        Block large = largeBlock(1, 36_000_000); // over the old default buffer.memory, 32 MiB
        try (DeliveryHarness h = DeliveryHarness.openWithStateUpTo(config, new KafkaTransport.Factory(), 96 << 20)) {
            process(h, medium);
            process(h, large);
            h.snapshot(1);
            h.complete(1);
            assertThat(awaitDelivered(h)).isTrue();
        }
        assertThat(KafkaFixtures.manifests(deadLetters)).as("nothing dead-lettered").isEmpty();
        List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> read =
                clusterA.readCommitted(topic, 2, Duration.ofSeconds(60));
        assertThat(read).hasSize(2);
        assertThat(read.get(0).value()).isEqualTo(medium.records());
        assertThat(read.get(1).value()).isEqualTo(large.records());
    }

    /**
     * A block over the producer's bound (one record far over max_size) is refused by the client alone; the block
     * written before it in the same transaction, which the doomed transaction fails with the same error, arrives
     * in the next one (it went to the dead-letter store with the other's reason before).
     */
    @Test
    void aBlockOverTheProducersBoundIsDeadLetteredAloneAndTheBlockBeforeItArrives() throws Exception {
        String topic = "t" + TOPICS.incrementAndGet();
        clusterA.createTopic(topic, 1, Map.of("max.message.bytes", Integer.toString(8 << 20)));
        KafkaEndpoint endpoint = endpoint(clusterA, topic, KafkaEndpoint.MessageFormat.BLOCK, "none");
        io.edgestreaming.config.StreamConfig stream = streamWithMaxSize(endpoint, 1_000_000L);
        JobConfig config = job(deadLetters, delivery(), stream);
        Block medium = largeBlock(0, 200_000);
        Block tooLarge = largeBlock(1, 3_000_000);
        try (DeliveryHarness h = DeliveryHarness.openWithStateUpTo(config, new KafkaTransport.Factory(), 16 << 20)) {
            process(h, medium);
            process(h, tooLarge);
            h.snapshot(1);
            h.complete(1);
            h.runMailsFor(Duration.ofMillis(500));
            h.snapshot(2);
            h.complete(2);
            assertThat(awaitDelivered(h)).isTrue();
        }
        List<com.fasterxml.jackson.databind.JsonNode> manifests = KafkaFixtures.manifests(deadLetters);
        assertThat(manifests).hasSize(1);
        assertThat(manifests.get(0).get("block_id").asText()).isEqualTo(tooLarge.blockId());
        assertThat(manifests.get(0).get("reason").asText()).contains("is larger than").contains("max.request.size");
        List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> read =
                clusterA.readCommitted(topic, 1, Duration.ofSeconds(60));
        assertThat(read).hasSize(1);
        assertThat(read.get(0).value()).isEqualTo(medium.records());
    }

    private static Block largeBlock(long sequence, int bytes) {
        byte[] records = new byte[bytes];
        java.util.Arrays.fill(records, (byte) 'x');
        int count = 1;
        for (int i = 999; i < bytes - 1; i += 1000) {
            records[i] = '\n';
            count++;
        }
        return new Block(1, io.edgestreaming.templates.DataSource.HTTP, "example.com", sequence, count, records);
    }

    private static long writerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("kafka-delivery-")).count();
    }

    /**
     * A cluster whose bootstrap address passed at load but is refused when a client is to be made (DNS
     * changed, allowed_networks narrowed): no client is created, the destination is failing and its blocks
     * wait (not dead-lettered); once the address is allowed again they arrive exactly once.
     */
    @Test
    void aBootstrapServerAtARefusedAddressGetsNoClientAndItsBlocksWaitUntilAllowed() throws Exception {
        String topic = topic(clusterA, 1);
        KafkaEndpoint endpoint = endpoint(clusterA, topic, KafkaEndpoint.MessageFormat.RECORD, "none");
        List<Block> blocks = List.of(block(1, "example.com", 0, 2), block(1, "example.com", 1, 3));
        OperatorSubtaskState checkpoint;
        try (io.edgestreaming.connectors.LogCapture log = io.edgestreaming.connectors.LogCapture.open()) {
            try (DeliveryHarness h = DeliveryHarness.open(job(deadLetters, delivery(), AddressPolicy.PUBLIC_ONLY,
                    stream(1, endpoint)), new KafkaTransport.Factory(), null)) {
                blocks.forEach(b -> process(h, b));
                checkpoint = h.snapshot(1);
                h.complete(1);
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (h.retries(endpoint.destinationId()) < 2 && System.nanoTime() < deadline) {
                    h.runMailsFor(Duration.ofMillis(100));
                    h.advance(Duration.ofMillis(500));
                }
                assertThat(h.retries(endpoint.destinationId())).as("failing and retried").isGreaterThanOrEqualTo(2);
                assertThat(h.pending()).as("its blocks wait").isEqualTo(2);
            }
            assertThat(readNow(clusterA, topic)).isEmpty();
            assertThat(io.edgestreaming.connectors.Fixtures.manifests(deadLetters)).as("nothing dead-lettered").isEmpty();
            String refusal = "bootstrap server " + endpoint.bootstrapServers() + ": address refused: host ";
            assertThat(log.matching("Kafka destination", "not writable", refusal)).as("one warning").hasSize(1);
            assertThat(log.matching("Kafka: connections to host", "refused by the address policy")).hasSize(1);
        }

        try (DeliveryHarness h = DeliveryHarness.open(job(deadLetters, delivery(), stream(1, endpoint)),
                new KafkaTransport.Factory(), checkpoint)) {
            assertThat(checkpointUntilDelivered(h, 2)).isTrue();
        }
        List<String> expected = new ArrayList<>(recordMessages(blocks.get(0)));
        expected.addAll(recordMessages(blocks.get(1)));
        assertThat(read(clusterA, topic, expected.size())).containsExactlyElementsOf(expected);
    }

    @Test
    void restoreCommitsThePreparedTransactionOnceAndAbortsWhatTheFailedAttemptLeftOpen() throws Exception {
        String topicA = topic(clusterA, 1);
        String topicB = topic(clusterB, 1);
        JobConfig config = job(deadLetters, delivery(),
                stream(1, endpoint(clusterA, topicA, KafkaEndpoint.MessageFormat.RECORD, "none")),
                stream(2, endpoint(clusterB, topicB, KafkaEndpoint.MessageFormat.BLOCK, "zstd")));
        Block a0 = block(1, "example.com", 0, 2);
        Block b0 = block(2, "example.com", 0, 1);
        Block a1 = block(1, "example.com", 1, 3);
        Block b1 = block(2, "example.com", 1, 1);
        OperatorSubtaskState checkpoint1;
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            process(h, a0);
            process(h, b0);
            checkpoint1 = h.snapshot(1);
            // The failed attempt goes on: later blocks are written in transactions of checkpoint 2,
            // which never completes. Then the task dies before checkpoint 1's notification.
            process(h, a1);
            process(h, b1);
            h.snapshot(2);
        }
        assertThat(readNow(clusterA, topicA)).isEmpty();

        // Restore from checkpoint 1; the source replays a1 and b1.
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), checkpoint1)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).as("checkpoint 1's blocks committed on restore").isTrue();
            process(h, a1);
            process(h, b1);
            h.snapshot(3);
            h.complete(3);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        List<String> expectedA = new ArrayList<>(recordMessages(a0));
        expectedA.addAll(recordMessages(a1));
        // An open transaction of the failed attempt would hold back everything after it: all five arrive.
        assertThat(read(clusterA, topicA, expectedA.size())).containsExactlyElementsOf(expectedA);
        assertThat(read(clusterB, topicB, 2)).containsExactly(blockMessage(b0), blockMessage(b1));
    }

    @Test
    void restoreAfterTheCommitDoesNotDuplicate() throws Exception {
        String topicA = topic(clusterA, 1);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(clusterA, topicA, KafkaEndpoint.MessageFormat.BLOCK, "snappy")));
        Block a0 = block(1, "example.com", 0, 2);
        Block a1 = block(1, "example.com", 1, 2);
        OperatorSubtaskState checkpoint1;
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            process(h, a0);
            checkpoint1 = h.snapshot(1);
            h.complete(1);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
            assertThat(read(clusterA, topicA, 1)).containsExactly(blockMessage(a0));
        }
        // Checkpoint 1 still holds a0 and its (now committed) transaction: committing it again is a no-op.
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), checkpoint1)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
            process(h, a1);
            h.snapshot(2);
            h.complete(2);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(read(clusterA, topicA, 2)).containsExactly(blockMessage(a0), blockMessage(a1));
    }

    @Test
    void stopWithSavepointCommitsTheSavepointsTransactionBeforeTheTaskEnds() throws Exception {
        String topicA = topic(clusterA, 1);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(clusterA, topicA, KafkaEndpoint.MessageFormat.BLOCK, "none")));
        Block a0 = block(1, "example.com", 0, 2);
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            process(h, a0);
            h.snapshot(1);
            h.complete(1); // stop-with-savepoint (no drain): the task closes as soon as this returns
        }
        // Left open, the transaction would hide a0, and everything after it in the partition, from
        // read_committed consumers until a restore or transaction_timeout.
        assertThat(readNow(clusterA, topicA)).containsExactly(blockMessage(a0));
    }

    @Test
    void aBlockLargerThanTheTopicAcceptsIsDeadLetteredWithAClearReasonAndTheOthersStillArrive() throws Exception {
        String topicA = "t" + TOPICS.incrementAndGet();
        clusterA.createTopic(topicA, 1, Map.of("max.message.bytes", "2000"));
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(clusterA, topicA, KafkaEndpoint.MessageFormat.BLOCK, "none")));
        Block big = block(1, "example.com", 0, 200);
        Block small = block(1, "example.com", 1, 2);
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            process(h, big);
            process(h, small);
            h.snapshot(1);
            h.complete(1);
            h.runMailsFor(Duration.ofMillis(500));
            h.snapshot(2);
            h.complete(2);
            assertThat(awaitDelivered(h)).isTrue();
        }
        assertThat(read(clusterA, topicA, 1)).containsExactly(blockMessage(small));
        List<com.fasterxml.jackson.databind.JsonNode> manifests = KafkaFixtures.manifests(deadLetters);
        assertThat(manifests).hasSize(1);
        assertThat(manifests.get(0).get("block_id").asText()).isEqualTo(big.blockId());
        assertThat(manifests.get(0).get("reason").asText()).contains("is larger than").contains(topicA);
        assertThat(manifests.get(0).get("attempts").asInt()).isEqualTo(1);
    }

    @Test
    void aTopicThatDoesNotExistFailsAnAttemptOnceNotOncePerMessage() throws Exception {
        // Each send waits up to request_timeout (1 s here) for the topic's metadata. A record-format block of 200
        // messages used to fail its attempt only after 200 such waits (200 s) on the destination's thread; the
        // first failure dooms the transaction, so the attempt ends there, and the block is retried, then
        // dead-lettered after max_retry_duration (2 s), as for any destination that cannot be written.
        String missing = "never-created-" + TOPICS.incrementAndGet();
        JobConfig config = job(deadLetters, new io.edgestreaming.config.DeliveryConfig(Duration.ofSeconds(1),
                Duration.ofMillis(50), Duration.ofMillis(400), Duration.ofSeconds(2), 1000, 64L << 20),
                stream(1, endpoint(clusterA, missing, KafkaEndpoint.MessageFormat.RECORD, "none")));
        Block block = block(1, "example.com", 0, 200);
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            process(h, block);
            assertThat(checkpointUntilDelivered(h, 1)).as("dead-lettered within %s", WAIT).isTrue();
        }
        List<com.fasterxml.jackson.databind.JsonNode> manifests = KafkaFixtures.manifests(deadLetters);
        assertThat(manifests).hasSize(1);
        assertThat(manifests.get(0).get("block_id").asText()).isEqualTo(block.blockId());
        assertThat(manifests.get(0).get("reason").asText()).contains(missing);
    }

    @Test
    void withoutCheckpointsBlocksAreWrittenAtOnce() throws Exception {
        String topicA = topic(clusterA, 1);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(clusterA, topicA, KafkaEndpoint.MessageFormat.BLOCK, "none")));
        Block a0 = block(1, "example.com", 0, 2);
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null,
                new io.edgestreaming.connectors.engine.internal.DeliveryOperatorFactory.Options(4, Duration.ofSeconds(10), false))) {
            process(h, a0);
            assertThat(awaitDelivered(h)).isTrue();
        }
        assertThat(read(clusterA, topicA, 1)).containsExactly(blockMessage(a0));
    }

    @Test
    void aBlockWaitingForItsTransactionIsNoFailure() throws Exception {
        String topicA = topic(clusterA, 1);
        KafkaEndpoint ep = endpoint(clusterA, topicA, KafkaEndpoint.MessageFormat.BLOCK, "none");
        JobConfig config = job(deadLetters, delivery(), stream(1, ep));
        Block a0 = block(1, "example.com", 0, 2);
        OperatorSubtaskState checkpoint1;
        // Checkpoint 1 is taken while the cluster is down: a0 is in the state, in no transaction.
        clusterA.stopBroker();
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            process(h, a0);
            checkpoint1 = h.snapshot(1);
        } finally {
            clusterA.startBroker();
        }
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), checkpoint1)) {
            // Restored, deliverable, waiting for the next checkpoint's transaction: not a failed attempt.
            h.runMailsFor(Duration.ofMillis(1500));
            assertThat(h.pending()).isEqualTo(1);
            h.snapshot(2);
            h.complete(2);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
            assertThat(h.retries(ep.destinationId())).as("retries counted for a healthy cluster").isZero();
        }
        assertThat(read(clusterA, topicA, 1)).containsExactly(blockMessage(a0));
    }

    @Test
    void theEndOfABoundedInputWritesEveryBlockInTheFinalCheckpointsTransactions() throws Exception {
        String topicA = topic(clusterA, 1);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint(clusterA, topicA, KafkaEndpoint.MessageFormat.BLOCK, "none")));
        List<Block> blocks = new ArrayList<>();
        try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
            for (int i = 0; i < 30; i++) {
                Block b = block(1, "d" + i + ".example.com", 0, 1 + i % 3);
                blocks.add(b);
                process(h, b);
                if (i == 14) {
                    h.snapshot(1); // a checkpoint whose completion comes only with the final one
                }
            }
            h.endInput();
            h.snapshot(2);
            h.complete(2);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        List<String> expected = new ArrayList<>();
        blocks.forEach(b -> expected.add(blockMessage(b)));
        assertThat(read(clusterA, topicA, expected.size())).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(KafkaFixtures.manifests(deadLetters)).isEmpty();
    }

    /**
     * Runs outcomes and moves the harness's processing time on (the engine's retry timers run on it)
     * until nothing is pending.
     */
    static boolean awaitDelivered(DeliveryHarness h) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (h.runMailsUntil(() -> h.pending() == 0, Duration.ofMillis(200))) {
                return true;
            }
            h.advance(Duration.ofMillis(500));
        }
        return false;
    }

    /**
     * Takes checkpoints (each completed), as a running job does, until nothing is pending: for blocks
     * that wait for a transaction of a later checkpoint (their fate is learned in the background).
     */
    static boolean checkpointUntilDelivered(DeliveryHarness h, long nextCheckpoint) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        for (long cp = nextCheckpoint; System.nanoTime() < deadline; cp++) {
            h.snapshot(cp);
            h.complete(cp);
            if (h.runMailsUntil(() -> h.pending() == 0, Duration.ofSeconds(1))) {
                return true;
            }
            h.advance(Duration.ofMillis(500));
        }
        return false;
    }

    static void process(DeliveryHarness h, Block b) {
        try {
            h.process(b);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
