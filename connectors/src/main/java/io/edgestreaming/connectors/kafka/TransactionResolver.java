package io.edgestreaming.connectors.kafka;

import io.edgestreaming.connectors.kafka.WriterState.Anchor;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.flink.connector.kafka.sink.internal.FlinkKafkaInternalProducer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds out what became of a transaction that was prepared for a checkpoint, without guessing (runs on
 * the destination writer's thread; every call blocks for at most the client timeouts).
 *
 * <p>First the transaction is committed by its producer id and epoch (a transaction still open is then
 * committed; under transaction.version 0 a committed one answers success again). When the broker
 * answers that the transaction already ended (fenced, invalid epoch or state, unknown producer id),
 * that is no proof of an abort: under transaction.version 2 (KIP-890, a fresh Kafka 4.x cluster) the
 * epoch is bumped at every commit, so a committed transaction answers the same. The fate is then read
 * back: one message of the transaction ({@link Anchor}, from the flush before the checkpoint) is
 * visible to a read_committed consumer if and only if the transaction committed, and skipped if it
 * aborted, once the partition's last stable offset has passed it.
 */
final class TransactionResolver {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionResolver.class);

    enum Fate {
        /** Visible to read_committed consumers. */
        COMMITTED,
        /** Aborted: none of its messages is visible. */
        ABORTED,
        /** Not known yet (an earlier transaction on the partition is still open): ask again later. */
        UNDECIDED,
        /** Kafka cannot tell any more (the message left the log, or the state predates anchors). */
        UNKNOWN
    }

    private TransactionResolver() {}

    /**
     * Commits a prepared transaction with its checkpointed producer id and epoch. Returns false when the
     * transaction had already ended (then {@link #readBack} tells how); throws on any other failure
     * (unreachable cluster, credentials): the caller tries again later.
     */
    static boolean commitByResume(ProducerPool producers, String transactionalId, long producerId, short epoch) {
        FlinkKafkaInternalProducer<byte[], byte[]> producer = producers.take(transactionalId);
        try {
            producer.resumeTransaction(producerId, epoch);
            producer.commitTransaction();
        } catch (RuntimeException e) {
            ProducerPool.discard(producer);
            if (KafkaErrors.transactionEnded(e)) {
                LOG.debug("transaction {} ({}/{}) had ended before this commit: {}", transactionalId, producerId, epoch, e.toString());
                return false;
            }
            throw e;
        }
        // A resumed producer's transaction manager was forced into a state: do not reuse it.
        ProducerPool.discard(producer);
        return true;
    }

    /**
     * Reads the anchor back with a read_committed consumer. COMMITTED if the anchor's message is
     * returned, ABORTED if the consumer passes its offset without returning it, UNDECIDED while the last
     * stable offset has not passed it, UNKNOWN if retention removed it.
     */
    static Fate readBack(Properties consumerProperties, Anchor anchor, Duration timeout) {
        Properties props = new Properties();
        props.putAll(consumerProperties);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        TopicPartition tp = new TopicPartition(anchor.topic(), anchor.partition());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            consumer.assign(List.of(tp));
            long stable = consumer.endOffsets(List.of(tp), timeout).get(tp); // read_committed: the last stable offset
            if (stable <= anchor.offset()) {
                return Fate.UNDECIDED;
            }
            if (consumer.beginningOffsets(List.of(tp), timeout).get(tp) > anchor.offset()) {
                return Fate.UNKNOWN;
            }
            consumer.seek(tp, anchor.offset());
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200)).records(tp)) {
                    return r.offset() == anchor.offset() ? Fate.COMMITTED : Fate.ABORTED;
                }
                if (consumer.position(tp, timeout) > anchor.offset()) {
                    return Fate.ABORTED; // skipped as aborted (read_committed drops aborted batches)
                }
            }
            return Fate.UNDECIDED;
        }
    }

    /**
     * Initialises each id, which aborts a transaction a failed attempt left open there (so it does not
     * hold back read_committed consumers until transaction_timeout).
     */
    static void abortOpen(ProducerPool producers, Iterable<String> transactionalIds) {
        for (String id : transactionalIds) {
            FlinkKafkaInternalProducer<byte[], byte[]> producer = producers.take(id);
            try {
                producer.initTransactions();
            } catch (RuntimeException e) {
                ProducerPool.discard(producer);
                throw e;
            }
            producers.give(producer);
        }
    }

    /**
     * Pre-pool ids: initialises {@code prefix-from}, {@code prefix-(from+1)}, ... until one that was never
     * used (epoch 0), aborting what a failed attempt of the old naming left open.
     */
    static void abortOpenFrom(ProducerPool producers, WriterState.Probe probe) {
        for (long i = probe.from(); i < probe.from() + 10_000; i++) {
            FlinkKafkaInternalProducer<byte[], byte[]> producer = producers.take(probe.prefix() + "-" + i);
            short epoch;
            try {
                producer.initTransactions();
                epoch = producer.getEpoch();
            } catch (RuntimeException e) {
                ProducerPool.discard(producer);
                throw e;
            }
            producers.give(producer);
            if (epoch == 0) {
                return;
            }
        }
    }
}
