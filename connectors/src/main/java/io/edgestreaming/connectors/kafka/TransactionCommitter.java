package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.AddressGuard;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.internal.Backoff;
import io.edgestreaming.connectors.kafka.TransactionResolver.Fate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.metrics.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles one destination's transactions on its writer thread once their checkpoint completed: the one
 * place a Kafka block is committed. A transaction that had already ended is read back
 * ({@link TransactionResolver}); aborted blocks go back to the writer's backlog. The writer's lock guards
 * its state; this class takes it only through the writer's methods, never during a Kafka call.
 */
final class TransactionCommitter {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionCommitter.class);

    private final KafkaDestinationWriter writer;
    private final String destinationId;
    private final ProducerPool producers;
    private final KafkaWriterThread thread;
    private final Backoff backoff;
    private final Counter unknownFates;
    private final DeliveryConfig delivery;
    private final String clientId;
    private final AddressGuard addresses;
    /** Ends the recovery when its transactions cannot be resolved. */
    private final Runnable endRecovery;

    TransactionCommitter(KafkaDestinationWriter writer, ProducerPool producers, KafkaWriterThread thread, Backoff backoff,
            Counter unknownFates, DeliveryConfig delivery, String clientId, AddressGuard addresses, Runnable endRecovery) {
        this.writer = writer;
        this.destinationId = writer.destinationId;
        this.producers = producers;
        this.thread = thread;
        this.backoff = backoff;
        this.unknownFates = unknownFates;
        this.delivery = delivery;
        this.clientId = clientId;
        this.addresses = addresses;
        this.endRecovery = endRecovery;
    }

    /** On the writer thread: commits the transaction or learns its fate; retried with backoff while unknown. */
    void settle(Txn t) {
        KafkaEndpoint ep = writer.target();
        if (ep == null) {
            unreachable(List.of(t));
            return;
        }
        Fate fate;
        try {
            boolean committedNow = false;
            if (!t.ended) {
                if (t.producer != null) {
                    try {
                        t.producer.commitTransaction();
                        producers.give(t.producer);
                        committedNow = true;
                    } catch (RuntimeException e) {
                        ProducerPool.discard(t.producer);
                        if (!KafkaErrors.transactionEnded(e)) {
                            throw e;
                        }
                    } finally {
                        t.producer = null;
                    }
                } else {
                    committedNow = TransactionResolver.commitByResume(producers, t.transactionalId, t.producerId, t.epoch);
                }
                t.ended = !committedNow;
            }
            fate = committedNow ? Fate.COMMITTED : t.anchor == null ? Fate.UNKNOWN
                    : TransactionResolver.readBack(KafkaClientConfig.consumer(ep, delivery, clientId, addresses), t.anchor, readBackWait());
        } catch (RuntimeException e) {
            t.failures++;
            String reason = "commit of transaction " + t.transactionalId + " failed, retried: " + KafkaErrors.reason(e, ep);
            LOG.warn("Kafka {}: {}", destinationId, reason);
            completeWaiters(t.keys, Outcome.retry(reason));
            thread.submit(() -> settle(t), backoff.delayMillis(t.failures));
            return;
        }
        switch (fate) {
            case COMMITTED -> onCommitted(t);
            case ABORTED -> onAborted(t, "transaction " + t.transactionalId + " of checkpoint " + t.checkpointId + " ("
                    + t.keys.size() + " blocks) was aborted by " + ep.describe() + ", most likely because transaction_timeout ("
                    + KafkaClientConfig.transactionTimeout(ep) + ") elapsed before the commit; none of its messages is visible",
                    false);
            case UNKNOWN -> {
                unknownFates.inc();
                onAborted(t, KafkaErrors.fateUnknown(t.transactionalId, t.checkpointId, t.keys.size(), t.anchor == null
                        ? "state written before fates could be read back" : "its messages left the log"), true);
            }
            case UNDECIDED -> {
                t.failures++;
                LOG.info("Kafka {}: transaction {} ended; its fate is not readable yet (an earlier transaction on partition"
                        + " {}-{} is still open), asked again", destinationId, t.transactionalId, t.anchor.topic(), t.anchor.partition());
                thread.submit(() -> settle(t), backoff.delayMillis(t.failures));
            }
        }
    }

    void onCommitted(Txn t) {
        List<CompletableFuture<Outcome>> done = writer.committed(t);
        LOG.debug("Kafka {}: committed transaction {} ({} blocks)", destinationId, t.transactionalId, t.keys.size());
        done.forEach(f -> f.complete(Outcome.delivered()));
    }

    /** Its blocks are written again, or dead-lettered if their stream left this destination. */
    private void onAborted(Txn t, String reason, boolean error) {
        KafkaDestinationWriter.Aborted aborted = writer.aborted(t);
        String text = reason + (aborted.rewrite() ? "; its blocks are written again in a new transaction"
                : "; its blocks go to the dead-letter store");
        if (error) {
            LOG.error("Kafka {}: {}", destinationId, text);
        } else {
            LOG.warn("Kafka {}: {}", destinationId, text);
        }
        completeWaiters(aborted.gone(), Outcome.permanent(reason + "; the stream no longer delivers to this destination"));
    }

    /** No endpoint to resolve with (stream removed, its SASL credentials gone): the fate stays unknown. */
    void unreachable(List<Txn> txns) {
        for (Txn t : txns) {
            unknownFates.inc();
            String reason = KafkaErrors.fateUnknown(t.transactionalId, t.checkpointId, t.keys.size(),
                    "the destination left the configuration and no configured endpoint has its credentials");
            LOG.error("Kafka {}: {}", destinationId, reason);
            writer.forget(t);
            completeWaiters(t.keys, Outcome.permanent(reason));
        }
        endRecovery.run();
    }

    private void completeWaiters(List<String> keys, Outcome outcome) {
        writer.waitersOf(keys).forEach(f -> f.complete(outcome));
    }

    /**
     * A block never staged (only without checkpointing): written and committed at once on the writer
     * thread, so at-least-once; nothing else can be had without a checkpoint.
     */
    CompletableFuture<Outcome> commitAtOnce(StagedBlock block, KafkaEndpoint ep, String txnId) {
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        thread.submit(() -> {
            TransactionWriter.Result r = TransactionWriter.write(producers, -1, txnId, List.of(block), ep);
            if (r.txn() == null) {
                String p = r.permanent().get(block.deliveryKey());
                result.complete(p != null ? Outcome.permanent(p) : Outcome.retry(ep.describe() + ": " + r.reason()));
                return;
            }
            try {
                r.txn().producer.commitTransaction();
                producers.give(r.txn().producer);
                result.complete(Outcome.delivered());
            } catch (RuntimeException e) {
                ProducerPool.discard(r.txn().producer);
                result.complete(Outcome.retry(ep.describe() + ": commit failed: " + KafkaErrors.reason(e, ep)));
            }
        }, 0);
        return result;
    }

    private Duration readBackWait() {
        return Duration.ofMillis(Math.max(1000, Math.min(delivery.requestTimeout().toMillis(), 30_000)));
    }
}
