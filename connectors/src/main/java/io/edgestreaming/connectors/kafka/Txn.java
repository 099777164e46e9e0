package io.edgestreaming.connectors.kafka;

import io.edgestreaming.connectors.kafka.WriterState.Anchor;
import java.util.List;
import org.apache.flink.connector.kafka.sink.internal.FlinkKafkaInternalProducer;

/**
 * A written transaction: prepared once claimed by a checkpoint, settled once that checkpoint completed.
 * Mutable fields are guarded by the {@link KafkaDestinationWriter}'s lock, except the volatile ones the
 * writer thread sets.
 */
final class Txn {
    final int slot;
    final String transactionalId;
    final long producerId;
    final short epoch;
    final Anchor anchor;
    final List<String> keys;
    volatile FlinkKafkaInternalProducer<byte[], byte[]> producer;
    long checkpointId = -1;
    boolean settling;
    /** Known to have ended before our commit (committed or aborted): its fate is read back. */
    volatile boolean ended;
    int failures;

    Txn(int slot, String transactionalId, long producerId, short epoch, Anchor anchor, List<String> keys,
            FlinkKafkaInternalProducer<byte[], byte[]> producer) {
        this.slot = slot;
        this.transactionalId = transactionalId;
        this.producerId = producerId;
        this.epoch = epoch;
        this.anchor = anchor;
        this.keys = keys;
        this.producer = producer;
    }
}
