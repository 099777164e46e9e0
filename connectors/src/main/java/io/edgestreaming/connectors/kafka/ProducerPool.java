package io.edgestreaming.connectors.kafka;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Supplier;
import org.apache.flink.connector.kafka.sink.internal.FlinkKafkaInternalProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idle transactional producers of one destination, reused across transactions (a producer costs a
 * network thread, buffers and a metadata fetch). A producer that saw an error is closed, never
 * returned (KAFKA-14053: re-create after an indefinite error rather than reuse).
 *
 * <p>Why about two producers per active destination: a transaction holds its producer from its first
 * block until it is committed, and a transaction is committed only after the checkpoint that claimed it
 * completed. Meanwhile the blocks that arrive go into the next, open transaction: one producer is
 * committing (prepared at the last checkpoint), one is open. A third is used for a backlog written at a
 * checkpoint (after a failure, or blocks the open transaction could not take), and at most one per
 * transactional id of the pool ({@link TransactionalIds#POOL_SIZE}) when checkpoints fail. A committed
 * producer comes back here ({@link #MAX_IDLE}) and is the next transaction's. The idle ones are closed
 * when the destination's thread ends ({@link KafkaWriterThread#idleThread}).
 */
final class ProducerPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProducerPool.class);
    private static final int MAX_IDLE = 2;

    private final Supplier<Properties> properties;
    private final ArrayDeque<FlinkKafkaInternalProducer<byte[], byte[]>> idle = new ArrayDeque<>();
    /** When the pool last handed out or took back a producer (idle producers cost a thread and buffers). */
    private volatile long lastUsedNanos = System.nanoTime();
    private boolean closed;

    ProducerPool(Supplier<Properties> properties) {
        this.properties = properties;
    }

    /** A producer set to {@code transactionalId}, uninitialised: call initTransactions or resume. */
    FlinkKafkaInternalProducer<byte[], byte[]> take(String transactionalId) {
        FlinkKafkaInternalProducer<byte[], byte[]> p;
        lastUsedNanos = System.nanoTime();
        synchronized (this) {
            p = idle.poll();
        }
        if (p == null) {
            return new FlinkKafkaInternalProducer<>(properties.get(), transactionalId);
        }
        p.setTransactionId(transactionalId);
        return p;
    }

    /** Back to the pool after a clean commit or init; closed if the pool is full or closed. */
    void give(FlinkKafkaInternalProducer<byte[], byte[]> producer) {
        lastUsedNanos = System.nanoTime();
        synchronized (this) {
            if (!closed && idle.size() < MAX_IDLE) {
                idle.add(producer);
                return;
            }
        }
        discard(producer);
    }

    /** Whether idle producers exist and the pool was not used for {@code idle}. */
    boolean idleFor(java.time.Duration idleTime) {
        synchronized (this) {
            if (idle.isEmpty()) {
                return false;
            }
        }
        return System.nanoTime() - lastUsedNanos > idleTime.toNanos();
    }

    /** Closes the idle producers (a destination without traffic keeps no network thread). */
    void closeIdle() {
        List<FlinkKafkaInternalProducer<byte[], byte[]>> toClose;
        synchronized (this) {
            toClose = new ArrayList<>(idle);
            idle.clear();
        }
        toClose.forEach(ProducerPool::discard);
    }

    static void discard(FlinkKafkaInternalProducer<byte[], byte[]> producer) {
        if (producer == null) {
            return;
        }
        try {
            producer.close(Duration.ZERO);
        } catch (Exception e) {
            LOG.debug("closing a Kafka producer failed", e);
        }
    }

    @Override
    public void close() {
        List<FlinkKafkaInternalProducer<byte[], byte[]>> toClose;
        synchronized (this) {
            closed = true;
            toClose = new ArrayList<>(idle);
            idle.clear();
        }
        toClose.forEach(ProducerPool::discard);
    }
}
