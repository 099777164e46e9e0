package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.kafka.KafkaDestinationWriter.Txn;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import org.apache.flink.connector.kafka.sink.internal.FlinkKafkaInternalProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;

/**
 * One attempt, on the destination writer's thread: a transaction on one pooled id with the given
 * blocks, initialised (which bumps the epoch and aborts whatever the id held), written and flushed,
 * left open for a checkpoint to claim. Records the offset of its first message so its fate can be read
 * back later.
 */
final class TransactionWriter {
    private TransactionWriter() {}

    /** A written transaction, or why not (a reason = destination failure; permanent = per block refusals). */
    record Result(Txn txn, String reason, Map<String, String> permanent) {}

    static Result write(ProducerPool producers, int slot, String txnId, List<StagedBlock> blocks, KafkaEndpoint ep) {
        FlinkKafkaInternalProducer<byte[], byte[]> producer = null;
        try {
            producer = producers.take(txnId);
            producer.initTransactions();
            producer.beginTransaction();
            Map<String, Exception> errors = new ConcurrentHashMap<>();
            List<String> keys = new ArrayList<>(blocks.size());
            Future<RecordMetadata> first = null;
            for (StagedBlock b : blocks) {
                String key = b.deliveryKey();
                keys.add(key);
                for (ProducerRecord<byte[], byte[]> record : KafkaMessages.of(b, ep)) {
                    Future<RecordMetadata> sent = producer.send(record, (metadata, e) -> {
                        if (e != null) {
                            errors.putIfAbsent(key, e);
                        }
                    });
                    if (first == null) {
                        first = sent;
                    }
                }
            }
            producer.flush();
            if (!errors.isEmpty()) {
                Map<String, String> tooLarge = new HashMap<>();
                String reason = null;
                for (StagedBlock b : blocks) {
                    Exception e = errors.get(b.deliveryKey());
                    if (e instanceof RecordTooLargeException) {
                        tooLarge.put(b.deliveryKey(), KafkaErrors.tooLarge(b.blockId(), b.payload().length, ep, e));
                    } else if (e != null && reason == null) {
                        reason = KafkaErrors.reason(e, ep);
                    }
                }
                abortQuietly(producer);
                // Sends after a rejected message fail with it (the transaction is doomed): not a
                // destination failure; the other blocks go in the next attempt.
                return new Result(null, tooLarge.isEmpty() ? reason : null, tooLarge);
            }
            RecordMetadata anchor = first.get();
            WriterState.Anchor a = new WriterState.Anchor(anchor.topic(), anchor.partition(), anchor.offset());
            return new Result(new Txn(slot, txnId, producer.getProducerId(), producer.getEpoch(), a, keys, producer), null, Map.of());
        } catch (Exception e) {
            ProducerPool.discard(producer);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return new Result(null, KafkaErrors.reason(e, ep), Map.of());
        }
    }

    private static void abortQuietly(FlinkKafkaInternalProducer<byte[], byte[]> producer) {
        try {
            producer.abortTransaction();
        } catch (Exception ignored) {
            // The next use of this id initialises it, which aborts it anyway.
        } finally {
            ProducerPool.discard(producer);
        }
    }
}
