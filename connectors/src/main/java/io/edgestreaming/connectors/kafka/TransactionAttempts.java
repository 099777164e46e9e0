package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.internal.Backoff;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one destination's blocks into transactions on a free id of its pool ({@link TransactionalIds}):
 * blocks streamed into the open transaction as they arrive, sealed at a snapshot, and batch attempts for
 * the backlog. Keeps the written transactions until a checkpoint claims them, which ids are in use, and
 * whether the destination is writable (failed attempts back off). Every method is called with the
 * {@link KafkaDestinationWriter}'s lock held; the Kafka calls run on the writer thread.
 */
final class TransactionAttempts {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionAttempts.class);

    private final KafkaDestinationWriter writer;
    private final BlockLedger ledger;
    private final ProducerPool producers;
    private final KafkaWriterThread thread;
    private final Backoff backoff;
    private final String poolPrefix;
    /** How long a block may wait for an attempt: a margin before the engine gives up on it. */
    private final long writableMillis;

    private final boolean[] busySlots = new boolean[TransactionalIds.POOL_SIZE];
    /** Written by an attempt, not yet claimed by a checkpoint. */
    private final List<Txn> written = new ArrayList<>();
    /** The batch attempt running (backlog written at a snapshot), or null. */
    private Attempt batch;
    /** The transaction blocks are streamed into as they arrive, or null. */
    private OpenTxn open;
    /** Open transactions sealed at a snapshot, flushing. */
    private final List<Attempt> sealing = new ArrayList<>();
    private boolean healthy = true;
    private int failures;
    private long nextAttemptMillis;
    private String lastFailure;

    TransactionAttempts(KafkaDestinationWriter writer, BlockLedger ledger, ProducerPool producers, KafkaWriterThread thread,
            Backoff backoff, String poolPrefix, long writableMillis) {
        this.writer = writer;
        this.ledger = ledger;
        this.producers = producers;
        this.thread = thread;
        this.backoff = backoff;
        this.poolPrefix = poolPrefix;
        this.writableMillis = writableMillis;
    }

    boolean healthy() {
        return healthy;
    }

    String lastFailure() {
        return lastFailure;
    }

    /** Appends the block to the open transaction (opened on a free id); left to a batch attempt if none is free. */
    void stream(StagedBlock block, KafkaEndpoint endpoint) {
        if (open == null) {
            int slot = freeSlot();
            if (slot < 0) {
                return;
            }
            busySlots[slot] = true;
            open = new OpenTxn(new TransactionWriter(producers, slot, TransactionalIds.id(poolPrefix, slot), endpoint));
        }
        ledger.markWriting(block.deliveryKey());
        open.blocks.add(block);
        TransactionWriter w = open.writer;
        thread.submit(() -> w.append(block), 0);
    }

    /** Seals the open transaction: flushed on the writer thread, then claimable like a batch. */
    void seal() {
        if (open != null) {
            OpenTxn o = open;
            open = null;
            Attempt a = new Attempt(o.writer.slot, o.blocks);
            thread.submit(() -> a.result.complete(o.writer.seal()), 0);
            sealing.add(a);
        }
    }

    /** What a snapshot may wait for: the sealing transactions and the batch; null if none. */
    CompletableFuture<?> running() {
        List<CompletableFuture<?>> waits = new ArrayList<>();
        sealing.forEach(a -> waits.add(a.result));
        if (batch != null) {
            waits.add(batch.result);
        }
        return waits.isEmpty() ? null : CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new));
    }

    /** The batch attempt's result, or null if none runs. */
    CompletableFuture<?> batch() {
        return batch == null ? null : batch.result;
    }

    /** Whether a transaction is being written (open, sealing or a batch). */
    boolean writing() {
        return batch != null || !sealing.isEmpty() || open != null;
    }

    /**
     * A batch attempt of the backlog blocks covered by checkpoint {@code coveredBy} or earlier, unless one
     * runs, the recovery has not ended, the destination is not configured, or it backs off.
     */
    boolean startIfDue(long now, long coveredBy, KafkaEndpoint endpoint, boolean recovering) {
        if (batch != null || recovering || endpoint == null || (!healthy && now < nextAttemptMillis)) {
            return false;
        }
        int slot = freeSlot();
        if (slot < 0) {
            return false; // every id holds a transaction still to settle: the blocks wait, no failure
        }
        List<CompletableFuture<Outcome>> expiredWaiters = new ArrayList<>();
        List<StagedBlock> blocks = ledger.takeBatch(now, writableMillis, coveredBy, expiredWaiters);
        Outcome expiredOutcome = Outcome.retry(writer.describe() + ": not written before max_retry_duration");
        expiredWaiters.forEach(f -> f.complete(expiredOutcome));
        if (blocks.isEmpty()) {
            return false;
        }
        busySlots[slot] = true;
        Attempt a = new Attempt(slot, blocks);
        String txnId = TransactionalIds.id(poolPrefix, slot);
        thread.submit(() -> a.result.complete(TransactionWriter.write(producers, slot, txnId, blocks, endpoint)), 0);
        this.batch = a;
        return true;
    }

    private int freeSlot() {
        for (int i = 0; i < busySlots.length; i++) {
            if (!busySlots[i]) {
                return i;
            }
        }
        return -1;
    }

    /** A restored transaction holds this id until it is settled. */
    void markBusy(int slot) {
        busySlots[slot] = true;
    }

    /** A settled transaction's id is free again. */
    void free(int slot) {
        busySlots[slot] = false;
    }

    /** Takes the attempts that ended: written transactions wait for a checkpoint, failed ones back off. */
    void harvest() {
        for (Iterator<Attempt> it = sealing.iterator(); it.hasNext(); ) {
            Attempt a = it.next();
            if (a.result.isDone()) {
                it.remove();
                harvested(a);
            }
        }
        if (batch != null && batch.result.isDone()) {
            Attempt a = batch;
            batch = null;
            harvested(a);
        }
    }

    private void harvested(Attempt a) {
        TransactionWriter.Result r = a.result.getNow(null);
        if (r.txn() != null) {
            refuse(r.permanent()); // blocks left out of the transaction (spool file gone)
            written.add(r.txn());
            if (!healthy) {
                LOG.info("Kafka destination {} writable again after {} failed attempt(s)", writer.describe(), failures);
            }
            healthy = true;
            failures = 0;
            lastFailure = null;
            return;
        }
        busySlots[a.slot] = false;
        ledger.notWritten(a.blocks);
        if (open != null) {
            // Its blocks are newer than the failed ones: written after them, to keep the order.
            OpenTxn o = open;
            open = null;
            busySlots[o.writer.slot] = false;
            ledger.notWritten(o.blocks);
            thread.submit(o.writer::abort, 0);
        }
        refuse(r.permanent());
        if (r.reason() == null) {
            return; // only permanent rejections: the rest goes in the next attempt
        }
        failed(r.reason());
    }

    /** Blocks refused for good by an attempt: the engine dead-letters them (or learns they were delivered). */
    private void refuse(Map<String, String> permanent) {
        for (Map.Entry<String, String> e : permanent.entrySet()) {
            CompletableFuture<Outcome> waiter = ledger.refuse(e.getKey(), e.getValue());
            if (waiter != null) {
                waiter.complete(Outcome.permanent(e.getValue()));
            }
        }
    }

    /** The destination failed (attempt or recovery): backs off; waiting blocks learn it (the engine counts it). */
    void failed(String reason) {
        failures++;
        lastFailure = reason;
        if (healthy) {
            LOG.warn("Kafka destination {} not writable ({}); its {} block(s) wait, other destinations unaffected",
                    writer.describe(), reason, ledger.backlogSize());
        }
        healthy = false;
        nextAttemptMillis = System.currentTimeMillis() + backoff.delayMillis(failures);
        Outcome outcome = Outcome.retry(writer.describe() + ": " + reason);
        ledger.backlogWaiters().forEach(f -> f.complete(outcome));
    }

    /** Reachable again: an attempt may start at once. */
    void retryNow() {
        nextAttemptMillis = 0;
    }

    /** Hands every written transaction {@code covered} decides on to {@code claimed}, in order. */
    void claim(Predicate<Txn> covered, Consumer<Txn> claimed) {
        for (Iterator<Txn> it = written.iterator(); it.hasNext(); ) {
            Txn t = it.next();
            if (covered.test(t)) {
                it.remove();
                claimed.accept(t);
            }
        }
    }

    /** At close: drops the producers of unclaimed and open transactions (left open: the next recovery aborts them). */
    void discard() {
        for (Txn t : written) {
            ProducerPool.discard(t.producer);
        }
        if (open != null) {
            open.writer.discard();
        }
    }
}
