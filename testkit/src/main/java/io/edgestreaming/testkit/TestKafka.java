package io.edgestreaming.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A real single-node Kafka cluster for tests, whatever kind it is ({@link KafkaBrokerKind}): the in-process
 * Kafka 4.2 {@link EmbeddedKafka} or a broker of another release run as a child process
 * ({@link ChildProcessKafka}). Every broker has one replica per partition, transactions that work with it
 * (transaction log replication 1), transaction.max.timeout.ms of one hour, and no automatic topic creation.
 *
 * <p>The helpers (topics, producers, read_committed reads) use only {@link #admin()} and
 * {@link #plainClientProps()}, so they work the same against every kind.
 */
public interface TestKafka extends AutoCloseable {

    /** Name of the feature that KIP-890 introduced (0: the classic protocol, 2: epoch bump per transaction). */
    String TRANSACTION_VERSION_FEATURE = "transaction.version";

    /** host:port of the PLAINTEXT listener. */
    String bootstrapServers();

    /** The shared admin client on the PLAINTEXT listener (closed with this broker; do not close it). */
    Admin admin();

    /** Client properties (bootstrap servers) of the PLAINTEXT listener; a new mutable map on each call. */
    Map<String, Object> plainClientProps();

    /** The Kafka release the broker runs, e.g. {@code 4.2.0} or {@code 3.9.1}. */
    String kafkaVersion();

    /** One line for test names and failure messages: release, transaction.version, address. */
    String describe();

    /**
     * Takes the broker down, keeping its data: clients get connection refused until {@link #startBroker()}.
     */
    void stopBroker();

    /** Brings a stopped broker back on the same PLAINTEXT port with its data and waits until it serves requests. */
    void startBroker();

    /** Stops the broker and deletes its data. Idempotent. */
    @Override
    void close();

    /**
     * The finalized level of {@code transaction.version} as the running broker reports it
     * ({@link Admin#describeFeatures()}); 0 when the cluster has not finalized the feature (Kafka 3.x, or a 4.x
     * cluster upgraded from 3.x), which is the pre-KIP-890 protocol.
     */
    default int transactionVersion() {
        return finalizedFeatureLevel(admin(), TRANSACTION_VERSION_FEATURE);
    }

    /** Finalized level of a feature, as the broker behind {@code admin} reports it; 0 when absent. */
    static int finalizedFeatureLevel(Admin admin, String feature) {
        FeatureMetadata metadata;
        try {
            metadata = admin.describeFeatures().featureMetadata().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing features", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot describe the broker's features: " + e, e);
        }
        FinalizedVersionRange range = metadata.finalizedFeatures().get(feature);
        return range == null ? 0 : range.maxVersionLevel();
    }

    /** Creates a topic with one replica; returns once its leaders are known. */
    default void createTopic(String topic, int partitions) {
        createTopic(topic, partitions, Map.of());
    }

    /** Creates a topic with one replica and topic configs (e.g. max.message.bytes). */
    default void createTopic(String topic, int partitions, Map<String, String> topicConfigs) {
        try {
            admin().createTopics(List.of(new NewTopic(topic, partitions, (short) 1).configs(topicConfigs)))
                    .all().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + topic, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create topic " + topic + ": " + e, e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (KafkaConsumer<byte[], byte[]> consumer = readCommittedConsumer(plainClientProps())) {
            while (true) {
                List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(5));
                if (infos != null && infos.size() == partitions && infos.stream().allMatch(p -> p.leader() != null)) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("topic " + topic + " has no leaders after 30 s");
                }
                sleep(100);
            }
        }
    }

    /** A new producer on the PLAINTEXT listener (acks=all, idempotent); the caller closes it. */
    default KafkaProducer<byte[], byte[]> producer() {
        Map<String, Object> props = new HashMap<>(plainClientProps());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Writes the values (no key) and waits until all are acknowledged. */
    default void send(String topic, Collection<byte[]> values) {
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            List<Future<?>> futures = new ArrayList<>(values.size());
            for (byte[] value : values) {
                futures.add(producer.send(new ProducerRecord<>(topic, value)));
            }
            producer.flush();
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot write to " + topic + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing to " + topic, e);
        }
    }

    /** Writes one record and waits until it is acknowledged. */
    default void send(String topic, byte[] key, byte[] value) {
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot write to " + topic + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing to " + topic, e);
        }
    }

    /**
     * Every committed record of the topic, from the beginning up to the last stable offset at the time of
     * the call (a read_committed consumer: aborted and open transactions are not returned).
     */
    default List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic, Duration timeout) {
        return readCommitted(topic, 0, timeout);
    }

    /**
     * Reads committed records from the beginning until at least {@code expected} arrived (or the timeout),
     * then drains up to the current last stable offset so that duplicates beyond {@code expected} show up.
     * Returns what was read; the caller asserts on the count.
     */
    default List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic, int expected, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = readCommittedConsumer(plainClientProps())) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
            if (infos == null || infos.isEmpty()) {
                throw new IllegalArgumentException("topic " + topic + " does not exist");
            }
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : infos) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            // With read_committed, endOffsets is the last stable offset.
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(10));
            while (!reached(consumer, end) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    private static boolean reached(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey(), Duration.ofSeconds(10)) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static KafkaConsumer<byte[], byte[]> readCommittedConsumer(Map<String, Object> clientProps) {
        Properties props = new Properties();
        props.putAll(clientProps);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
