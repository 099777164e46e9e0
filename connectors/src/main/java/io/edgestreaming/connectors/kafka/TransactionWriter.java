package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.engine.StagedBlock;
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
 * One transaction being written, on the destination writer's thread only: on one pooled id, initialised
 * at the first block (which bumps the epoch and aborts whatever the id held), blocks appended as they
 * come (sends are asynchronous), then {@link #seal sealed}: flushed and left open for a checkpoint to
 * claim. Records the offset of its first message so its fate can be read back later.
 */
final class TransactionWriter {
    private final ProducerPool producers;
    final int slot;
    final String transactionalId;
    private final KafkaEndpoint endpoint;
    private final List<StagedBlock> blocks = new ArrayList<>();
    private final Map<String, Exception> errors = new ConcurrentHashMap<>();
    /** The block whose send failed first: the cause; the doomed transaction fails the others with its error. */
    private final java.util.concurrent.atomic.AtomicReference<String> firstError = new java.util.concurrent.atomic.AtomicReference<>();
    /** Blocks whose spooled payload is gone: refused, never part of the transaction. */
    private final Map<String, String> gone = new HashMap<>();
    private FlinkKafkaInternalProducer<byte[], byte[]> producer;
    private Future<RecordMetadata> first;
    private Exception failure;

    /** A written transaction, or why not (a reason = destination failure; permanent = per block refusals). */
    record Result(Txn txn, String reason, Map<String, String> permanent) {}

    TransactionWriter(ProducerPool producers, int slot, String transactionalId, KafkaEndpoint endpoint) {
        this.producers = producers;
        this.slot = slot;
        this.transactionalId = transactionalId;
        this.endpoint = endpoint;
    }

    /** Writes all blocks into one transaction and seals it: one attempt. */
    static Result write(ProducerPool producers, int slot, String txnId, List<StagedBlock> blocks, KafkaEndpoint ep) {
        TransactionWriter w = new TransactionWriter(producers, slot, txnId, ep);
        for (StagedBlock b : blocks) {
            w.append(b);
        }
        return w.seal();
    }

    /** Sends a block's messages into the transaction (begun at the first block). Never throws. */
    void append(StagedBlock b) {
        if (failure != null || firstError.get() != null) {
            blocks.add(b);
            return; // doomed: seal() reports it
        }
        byte[] payload;
        try {
            // A spooled payload is read back here, on the writer's thread, one block at a time.
            payload = b.loadPayload();
        } catch (java.nio.file.NoSuchFileException e) {
            // Only ever deleted once the block was acknowledged: a restore of an older checkpoint. Not written;
            // the engine learns it from the refusal (its dead-letter write finds the file gone: delivered).
            gone.put(b.deliveryKey(), "its spool file is gone (acknowledged before the checkpoint restored)");
            return;
        } catch (Exception e) {
            blocks.add(b);
            failure = e;
            return;
        }
        blocks.add(b);
        try {
            if (producer == null) {
                producer = producers.take(transactionalId);
                producer.initTransactions();
                producer.beginTransaction();
            }
            String key = b.deliveryKey();
            for (ProducerRecord<byte[], byte[]> record : KafkaMessages.of(b, payload, endpoint)) {
                Future<RecordMetadata> sent = producer.send(record, (metadata, e) -> {
                    if (e != null) {
                        errors.putIfAbsent(key, e);
                        firstError.compareAndSet(null, key);
                    }
                });
                if (first == null) {
                    first = sent;
                }
                if (firstError.get() != null) {
                    // Failed at once (e.g. no metadata for the topic within max.block.ms, a message too large): the
                    // transaction is doomed, and each further send of a missing topic would wait as long again.
                    break;
                }
            }
        } catch (Exception e) {
            failure = e;
        }
    }

    /** Flushes; the transaction stays open for a checkpoint to claim, or is aborted if anything failed. */
    Result seal() {
        try {
            if (failure != null) {
                throw failure;
            }
            if (producer == null) {
                return new Result(null, null, Map.copyOf(gone)); // nothing was written (every block's file gone)
            }
            producer.flush();
            if (!errors.isEmpty()) {
                Map<String, String> tooLarge = new HashMap<>();
                String reason = null;
                for (StagedBlock b : blocks) {
                    Exception e = errors.get(b.deliveryKey());
                    // Only the block that was refused: the ones the aborted transaction failed with its error go again.
                    if (e instanceof RecordTooLargeException && b.deliveryKey().equals(firstError.get())) {
                        tooLarge.put(b.deliveryKey(), KafkaErrors.tooLarge(b.blockId(), b.payloadLength(), endpoint, e));
                    } else if (e != null && reason == null) {
                        reason = KafkaErrors.reason(e, endpoint);
                    }
                }
                abortQuietly(producer);
                // Sends after a rejected message fail with it (the transaction is doomed): not a
                // destination failure; the other blocks go in the next attempt.
                tooLarge.putAll(gone);
                return new Result(null, tooLarge.isEmpty() ? reason : null, tooLarge);
            }
            RecordMetadata anchor = first.get();
            List<String> keys = new ArrayList<>(blocks.size());
            blocks.forEach(b -> keys.add(b.deliveryKey()));
            WriterState.Anchor a = new WriterState.Anchor(anchor.topic(), anchor.partition(), anchor.offset());
            return new Result(new Txn(slot, transactionalId, producer.getProducerId(), producer.getEpoch(), a, keys, producer),
                    null, Map.copyOf(gone));
        } catch (Exception e) {
            ProducerPool.discard(producer);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return new Result(null, KafkaErrors.reason(e, endpoint), Map.of());
        }
    }

    /** Given up before sealing: aborted (or left to the next initialisation of its id, which aborts it). */
    void abort() {
        if (producer != null) {
            abortQuietly(producer);
        }
    }

    /** The task is closing: an open transaction is left to the next start, which aborts it. */
    void discard() {
        ProducerPool.discard(producer);
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
