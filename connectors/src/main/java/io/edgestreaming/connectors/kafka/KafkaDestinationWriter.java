package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.AddressGuard;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.internal.Backoff;
import io.edgestreaming.connectors.kafka.TransactionResolver.Fate;
import io.edgestreaming.connectors.kafka.WriterState.Anchor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.flink.metrics.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything one subtask does for one Kafka destination (cluster + topic + credentials): its backlog,
 * its transactions and one thread of its own for every blocking Kafka call, so a dead or slow cluster
 * never holds the task thread nor another destination. The thread ends after a minute without work and
 * the idle producers close with it, so a destination without traffic holds no thread, connection or
 * producer buffer (producers that hold an open or prepared transaction stay until it is settled).
 *
 * <p>Life of a block: {@link #add} puts it in the backlog when a checkpoint first covers it. An
 * <em>attempt</em> writes the backlog into a transaction on a free id of the pool ({@link TransactionalIds})
 * on the writer thread (init, begin, send, flush); the next snapshot <em>claims</em> a written
 * transaction ({@link #afterSnapshot}): id, producer id, epoch and one message's offset go into the
 * checkpoint. Once that checkpoint completes the transaction is <em>settled</em> ({@link #settle}, the one
 * place a Kafka block is committed): committed, or, if it had already ended, its fate read back
 * ({@link TransactionResolver}); aborted blocks are written again. {@link #deliver} only reports: it
 * completes when the block's transaction committed; waiting for a transaction is not a failure.
 *
 * <p>After a restore ({@link #restoreState}, {@link #startRecovery}) the restored transactions are
 * committed or found ended first, then every id of the pools this subtask owns is initialised (aborting
 * what the failed attempt left open, so the last stable offset moves on), then the ended ones are read
 * back: the one place a restored transaction is resolved. No attempt starts before that.
 *
 * <p>All fields are guarded by {@code this}; blocking calls run on {@link #thread} without the lock.
 */
final class KafkaDestinationWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaDestinationWriter.class);

    /** Idle producers unused for this long are closed at a snapshot even while the thread has other work. */
    private static final Duration IDLE_CLIENTS = Duration.ofMinutes(5);
    /** The writer's thread ends after this long without work and starts again with the next (tests shorten it). */
    static volatile Duration idleThread = Duration.ofMinutes(1);

    final String destinationId;
    private final DeliveryConfig delivery;
    private final AddressGuard addresses;
    private final ScheduledExecutorService thread;
    private final ProducerPool producers;
    private final Backoff backoff;
    private final Counter unknownFates;
    private final String clientId;
    private final String poolPrefix;
    private final int subtask;
    private final long expiryMarginMillis;
    /** From the configuration; null while only a restored state knows the destination. */
    private KafkaEndpoint endpoint;
    /** Rebuilt from a restored state's connection, to resolve its transactions. */
    private KafkaEndpoint restoredEndpoint;
    private WriterState.Connection connection;

    private final boolean[] busySlots = new boolean[TransactionalIds.POOL_SIZE];
    private final BlockLedger ledger = new BlockLedger();
    /** Written by an attempt, not yet claimed by a checkpoint. */
    private final List<Txn> written = new ArrayList<>();
    /** Claimed (or restored) and not yet settled. */
    private final List<Txn> prepared = new ArrayList<>();
    private final List<String> toAbort = new ArrayList<>();
    private final List<WriterState.Probe> legacyProbes = new ArrayList<>();
    /** The batch attempt running (backlog written at a snapshot), or null. */
    private Attempt batch;
    /** The transaction blocks are streamed into as they arrive, or null. */
    private OpenTxn open;
    /** Open transactions sealed at a snapshot, flushing. */
    private final List<Attempt> sealing = new ArrayList<>();
    private boolean recovering = true;
    /** Completes when the recovery is done; a snapshot waits for it briefly like for an attempt. */
    private final CompletableFuture<Void> recovered = new CompletableFuture<>();
    private int recoveryFailures;
    private boolean healthy = true;
    private int failures;
    private long nextAttemptMillis;
    private String lastFailure;
    private long snapshotSeq;

    KafkaDestinationWriter(String destinationId, KafkaEndpoint endpoint, DeliveryConfig delivery, AddressGuard addresses,
            String poolPrefix, int subtask, String clientId, Counter unknownFates, long largestBlock) {
        this.destinationId = destinationId;
        this.endpoint = endpoint;
        this.connection = endpoint == null ? null : WriterState.Connection.of(endpoint);
        this.delivery = delivery;
        this.addresses = addresses;
        this.poolPrefix = poolPrefix;
        this.subtask = subtask;
        this.clientId = clientId;
        this.unknownFates = unknownFates;
        this.backoff = new Backoff(delivery.initialBackoff(), delivery.maxBackoff());
        // Stop re-writing a block a while before the engine gives up on it, so that no block is both
        // committed and dead-lettered (a commit takes at most a checkpoint interval or so).
        long maxRetry = delivery.maxRetryDuration().toMillis();
        this.expiryMarginMillis = Math.min(maxRetry / 10, Duration.ofMinutes(2).toMillis());
        this.producers = new ProducerPool(() -> KafkaClientConfig.producer(target(), delivery, clientId, addresses, largestBlock));
        ProducerPool pool = producers;
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(() -> {
                try {
                    r.run();
                } finally {
                    // The thread ends when the destination has had no work for idleThread: so do its idle
                    // producers (network thread, connections, buffer). A later block takes a new one.
                    pool.closeIdle();
                }
            }, "kafka-delivery-" + clientId);
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        // A thread exits only while nothing is queued (delayed retries included), so idle destinations cost none.
        executor.setKeepAliveTime(idleThread.toMillis(), TimeUnit.MILLISECONDS);
        executor.allowCoreThreadTimeOut(true);
        this.thread = executor;
        // The own pool may hold transactions of an earlier attempt of this job: aborted before first use.
        for (int slot = 0; slot < TransactionalIds.POOL_SIZE; slot++) {
            toAbort.add(TransactionalIds.id(poolPrefix, slot));
        }
    }

    synchronized void setEndpoint(KafkaEndpoint endpoint) {
        if (this.endpoint == null) {
            this.endpoint = endpoint;
            this.connection = WriterState.Connection.of(endpoint);
        }
    }

    // ---------------------------------------------------------------- task thread

    synchronized void add(StagedBlock block, long checkpointId) {
        ledger.add(block, checkpointId);
    }

    /**
     * A block the engine holds, not yet covered by a checkpoint: streamed into the open transaction at
     * once (on the writer thread), so that at the checkpoint only the tail remains to flush. Nothing is
     * visible before a checkpoint that covers it completes: the transaction is committed only then.
     */
    synchronized void accept(StagedBlock block) {
        if (!ledger.accept(block) || recovering || !healthy || endpoint == null || ledger.unwritten() > 1) {
            return; // a batch attempt at the next snapshot writes it, after the older ones (order kept)
        }
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
        submit(() -> w.append(block), 0);
    }

    /** The engine spooled the block's payload: keep the version without it. */
    synchronized void payloadSpooled(StagedBlock block) {
        ledger.payloadSpooled(block);
    }

    /** A block restored by the engine: unless its transaction is known, it is written again. */
    synchronized void restoreBlock(StagedBlock block, long now) {
        ledger.restoreBlock(block, now);
    }

    /**
     * Takes from a restored state (of any old subtask: union state) what concerns this subtask: the part
     * of each prepared transaction made of blocks restored here ({@code held}) and which of those are
     * committed. The {@code owner} of the state (exactly one subtask) takes every prepared transaction,
     * even with none of its blocks here, so each is committed by someone, and aborts what the old
     * subtask's failed attempt left open in its pool. See {@link KafkaTransport#restore}.
     */
    synchronized void restoreState(WriterState state, boolean owner, Set<String> held, Iterable<KafkaEndpoint> configured, long now) {
        if (connection == null && state.connection() != null) {
            connection = state.connection();
        }
        if (endpoint == null && restoredEndpoint == null && state.connection() != null) {
            restoredEndpoint = state.connection().toEndpoint(configured);
        }
        if (owner) {
            if (!state.legacyProbes().isEmpty()) {
                legacyProbes.addAll(state.legacyProbes());
            } else if (!state.poolPrefix().equals(poolPrefix)) {
                for (int slot = 0; slot < TransactionalIds.POOL_SIZE; slot++) {
                    toAbort.add(TransactionalIds.id(state.poolPrefix(), slot));
                }
            }
        }
        for (WriterState.PreparedTxn p : state.prepared()) {
            List<String> mine = new ArrayList<>();
            for (String k : p.keys()) {
                if (held.contains(k)) {
                    mine.add(k);
                }
            }
            if (mine.isEmpty() && !owner) {
                continue;
            }
            int slot = TransactionalIds.slotOf(poolPrefix, p.transactionalId());
            Txn t = new Txn(slot, p.transactionalId(), p.producerId(), p.epoch(), p.anchor(), List.copyOf(mine), null);
            t.checkpointId = p.checkpointId();
            t.settling = true; // the recovery settles it
            if (slot >= 0) {
                busySlots[slot] = true;
            }
            prepared.add(t);
            ledger.bind(t);
        }
        for (String k : state.committedKeys()) {
            if (held.contains(k)) {
                ledger.restoreCommitted(k, now);
            }
        }
    }

    /** Starts the recovery (also on a fresh start: the own pool is cleaned before first use). */
    synchronized void startRecovery() {
        submit(this::recover, 0);
    }

    CompletableFuture<Void> recovery() {
        return recovered;
    }

    /**
     * Seals the open transaction (flushed on the writer thread) and starts a batch attempt for the rest of
     * the backlog; returns what the snapshot may wait for (null when failing: it is not waited for).
     */
    synchronized CompletableFuture<?> beforeSnapshot(long now) {
        snapshotSeq++;
        pruneCommitted(now);
        harvest();
        if (producers.idleFor(IDLE_CLIENTS)) {
            submit(producers::closeIdle, 0);
        }
        if (open != null) {
            OpenTxn o = open;
            open = null;
            Attempt a = new Attempt(o.writer.slot, o.blocks);
            submit(() -> a.result.complete(o.writer.seal()), 0);
            sealing.add(a);
        }
        startAttemptIfDue(now);
        if (!healthy) {
            return null;
        }
        List<CompletableFuture<?>> waits = new ArrayList<>();
        sealing.forEach(a -> waits.add(a.result));
        if (batch != null) {
            waits.add(batch.result);
        }
        return waits.isEmpty() ? null : CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new));
    }

    /**
     * After a recovery that a snapshot found running: writes the blocks that checkpoint covers (at most
     * {@code checkpointId}), so that its deferred state can claim them; returns what it may wait for.
     */
    synchronized CompletableFuture<?> writeCovered(long checkpointId, long now) {
        harvest();
        if (batch == null) {
            startAttemptIfDue(now, checkpointId);
        }
        return healthy && batch != null ? batch.result : null;
    }

    /** Whether blocks covered by a checkpoint still wait for an attempt (a final checkpoint waits for them). */
    synchronized boolean hasUnwritten() {
        harvest();
        if (batch != null || !sealing.isEmpty() || open != null) {
            return true;
        }
        if (!healthy || endpoint == null) {
            return false; // failing: a final checkpoint does not wait for it
        }
        return recovering || ledger.hasUnwritten();
    }

    /**
     * Claims for this checkpoint every written transaction whose blocks it covers; returns the writer's
     * state for it. May run after the checkpoint's synchronous part (the snapshot's state is deferred):
     * a transaction that also holds a block accepted after the checkpoint's barrier is left to a later one.
     */
    synchronized WriterState afterSnapshot(long checkpointId) {
        harvest();
        for (java.util.Iterator<Txn> it = written.iterator(); it.hasNext(); ) {
            Txn t = it.next();
            if (ledger.coveredBy(t.keys, checkpointId)) {
                it.remove();
                t.checkpointId = checkpointId;
                prepared.add(t);
                ledger.claimed(t);
            }
        }
        List<WriterState.PreparedTxn> txns = new ArrayList<>(prepared.size());
        for (Txn t : prepared) {
            txns.add(new WriterState.PreparedTxn(t.checkpointId, t.transactionalId, t.producerId, t.epoch, t.anchor, t.keys));
        }
        List<WriterState.Probe> probes = recovering ? List.copyOf(legacyProbes) : List.of();
        return new WriterState(destinationId, connection, poolPrefix, subtask, txns, ledger.committedKeys(), probes);
    }

    synchronized void checkpointCompleted(long checkpointId, long now) {
        ledger.deliverable(checkpointId, now);
        for (Txn t : prepared) {
            if (t.checkpointId <= checkpointId && !t.settling) {
                t.settling = true;
                submit(() -> settle(t), 0);
            }
        }
        harvest();
        if (!healthy) {
            startAttemptIfDue(now); // probe early; claimed by the next snapshot
        }
    }

    CompletableFuture<Outcome> deliver(StagedBlock block) {
        String key = block.deliveryKey();
        synchronized (this) {
            switch (ledger.standing(key, snapshotSeq)) {
                case COMMITTED:
                    return CompletableFuture.completedFuture(Outcome.delivered());
                case REFUSED:
                    return CompletableFuture.completedFuture(Outcome.permanent(ledger.takeRefusal(key)));
                case BACKLOG:
                    if (!healthy) {
                        // The destination is failing: a failed attempt, counted by the engine's backoff.
                        return CompletableFuture.completedFuture(Outcome.retry(describe() + ": " + lastFailure));
                    }
                    return ledger.waiter(key);
                case WAITING:
                    // Waiting for its transaction is no failure: completes when its fate is known.
                    return ledger.waiter(key);
                case EXPIRED:
                    return CompletableFuture.completedFuture(Outcome.retry(describe() + ": not written before max_retry_duration"
                            + (lastFailure == null ? "" : "; last failure: " + lastFailure)));
                default:
                    if (endpoint == null) {
                        return CompletableFuture.completedFuture(Outcome.retry(describe() + ": destination not configured"));
                    }
            }
        }
        // Never staged: only without checkpointing. Written and committed at once, so at-least-once:
        // nothing else can be had without a checkpoint.
        return oneShot(block);
    }

    /**
     * The engine's max_retry_duration is over for a block. A block in a transaction (prepared, or being
     * written) may still be committed: refused, the engine waits for that outcome. Else it leaves the
     * backlog for good.
     */
    synchronized boolean abandon(StagedBlock block) {
        return ledger.abandon(block.deliveryKey());
    }

    // ---------------------------------------------------------------- internals (lock held)

    private boolean startAttemptIfDue(long now) {
        return startAttemptIfDue(now, Long.MAX_VALUE);
    }

    /** A batch attempt of the backlog blocks covered by checkpoint {@code coveredBy} or earlier. */
    private boolean startAttemptIfDue(long now, long coveredBy) {
        if (batch != null || recovering || endpoint == null || (!healthy && now < nextAttemptMillis)) {
            return false;
        }
        int slot = freeSlot();
        if (slot < 0) {
            return false; // every id holds a transaction still to settle: the blocks wait, no failure
        }
        List<CompletableFuture<Outcome>> expiredWaiters = new ArrayList<>();
        List<StagedBlock> blocks = ledger.takeBatch(now, delivery.maxRetryDuration().toMillis() - expiryMarginMillis, coveredBy,
                expiredWaiters);
        Outcome expiredOutcome = Outcome.retry(describe() + ": not written before max_retry_duration");
        expiredWaiters.forEach(f -> f.complete(expiredOutcome));
        if (blocks.isEmpty()) {
            return false;
        }
        busySlots[slot] = true;
        Attempt a = new Attempt(slot, blocks);
        String txnId = TransactionalIds.id(poolPrefix, slot);
        KafkaEndpoint ep = endpoint;
        submit(() -> a.result.complete(TransactionWriter.write(producers, slot, txnId, blocks, ep)), 0);
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

    private void harvest() {
        for (java.util.Iterator<Attempt> it = sealing.iterator(); it.hasNext(); ) {
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
                LOG.info("Kafka destination {} writable again after {} failed attempt(s)", describe(), failures);
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
            submit(o.writer::abort, 0);
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
    private void failed(String reason) {
        failures++;
        lastFailure = reason;
        if (healthy) {
            LOG.warn("Kafka destination {} not writable ({}); its {} block(s) wait, other destinations unaffected",
                    describe(), reason, ledger.backlogSize());
        }
        healthy = false;
        nextAttemptMillis = System.currentTimeMillis() + backoff.delayMillis(failures);
        Outcome outcome = Outcome.retry(describe() + ": " + reason);
        ledger.backlogWaiters().forEach(f -> f.complete(outcome));
    }

    private void pruneCommitted(long now) {
        ledger.prune(now, 2 * delivery.maxRetryDuration().toMillis(), snapshotSeq);
    }

    private String describe() {
        KafkaEndpoint ep = target();
        return ep == null ? destinationId : ep.describe();
    }

    private synchronized KafkaEndpoint target() {
        return endpoint != null ? endpoint : restoredEndpoint;
    }

    private void submit(Runnable task, long delayMillis) {
        try {
            thread.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("Kafka {}: writer closed, task dropped", destinationId);
        }
    }

    // ---------------------------------------------------------------- writer thread

    /** After a restore: commit or learn ended, abort the owned pools' leftovers, then resolve the ended. */
    private void recover() {
        KafkaEndpoint ep = target();
        List<Txn> restored;
        synchronized (this) {
            restored = new ArrayList<>(prepared);
        }
        if (ep == null) {
            if (!restored.isEmpty() || endpoint == null) {
                unreachable(restored);
            }
            return;
        }
        try {
            for (Txn t : restored) {
                if (!t.ended) {
                    if (TransactionResolver.commitByResume(producers, t.transactionalId, t.producerId, t.epoch)) {
                        LOG.info("Kafka {}: committed transaction {} of restored checkpoint {} ({} blocks)", destinationId,
                                t.transactionalId, t.checkpointId, t.keys.size());
                        onCommitted(t);
                    } else {
                        t.ended = true;
                    }
                }
            }
            List<String> ids;
            List<WriterState.Probe> probes;
            synchronized (this) {
                ids = List.copyOf(toAbort);
                probes = List.copyOf(legacyProbes);
            }
            TransactionResolver.abortOpen(producers, ids);
            for (WriterState.Probe p : probes) {
                TransactionResolver.abortOpenFrom(producers, p);
            }
        } catch (RuntimeException e) {
            int n;
            synchronized (this) {
                n = ++recoveryFailures;
                failed("cannot clean up its transactions: " + KafkaErrors.reason(e, ep));
            }
            submit(this::recover, backoff.delayMillis(n));
            return;
        }
        synchronized (this) {
            toAbort.clear();
            legacyProbes.clear();
            recovering = false;
            if (recoveryFailures > 0) {
                // Reachable again: an attempt may start at once.
                nextAttemptMillis = 0;
            }
        }
        recovered.complete(null);
        for (Txn t : restored) {
            if (t.ended) {
                settle(t);
            }
        }
    }

    /**
     * Settles a transaction whose checkpoint completed: the one place a Kafka block is committed. A
     * transaction that had already ended is read back; see {@link TransactionResolver}.
     */
    private void settle(Txn t) {
        KafkaEndpoint ep = target();
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
                    : TransactionResolver.readBack(KafkaClientConfig.consumer(ep, delivery, clientId, addresses), t.anchor, wait(ep));
        } catch (RuntimeException e) {
            t.failures++;
            String reason = "commit of transaction " + t.transactionalId + " failed, retried: " + KafkaErrors.reason(e, ep);
            LOG.warn("Kafka {}: {}", destinationId, reason);
            completeWaiters(t.keys, Outcome.retry(reason));
            submit(() -> settle(t), backoff.delayMillis(t.failures));
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
                submit(() -> settle(t), backoff.delayMillis(t.failures));
            }
        }
    }

    private void onCommitted(Txn t) {
        List<CompletableFuture<Outcome>> done;
        synchronized (this) {
            prepared.remove(t);
            if (t.slot >= 0) {
                busySlots[t.slot] = false;
            }
            done = ledger.committed(t, snapshotSeq, System.currentTimeMillis());
        }
        LOG.debug("Kafka {}: committed transaction {} ({} blocks)", destinationId, t.transactionalId, t.keys.size());
        done.forEach(f -> f.complete(Outcome.delivered()));
    }

    /** Its blocks are written again, or dead-lettered if their stream left this destination. */
    private void onAborted(Txn t, String reason, boolean error) {
        List<String> gone;
        boolean rewrite;
        synchronized (this) {
            prepared.remove(t);
            if (t.slot >= 0) {
                busySlots[t.slot] = false;
            }
            rewrite = endpoint != null;
            gone = ledger.aborted(t, rewrite, System.currentTimeMillis());
        }
        String text = reason + (rewrite ? "; its blocks are written again in a new transaction"
                : "; its blocks go to the dead-letter store");
        if (error) {
            LOG.error("Kafka {}: {}", destinationId, text);
        } else {
            LOG.warn("Kafka {}: {}", destinationId, text);
        }
        completeWaiters(gone, Outcome.permanent(reason + "; the stream no longer delivers to this destination"));
    }

    /** No endpoint to resolve with (stream removed, its SASL credentials gone): the fate stays unknown. */
    private void unreachable(List<Txn> txns) {
        for (Txn t : txns) {
            unknownFates.inc();
            String reason = KafkaErrors.fateUnknown(t.transactionalId, t.checkpointId, t.keys.size(),
                    "the destination left the configuration and no configured endpoint has its credentials");
            LOG.error("Kafka {}: {}", destinationId, reason);
            synchronized (this) {
                prepared.remove(t);
                ledger.forget(t);
            }
            completeWaiters(t.keys, Outcome.permanent(reason));
        }
        synchronized (this) {
            recovering = false;
        }
        recovered.complete(null);
    }

    private void completeWaiters(List<String> keys, Outcome outcome) {
        List<CompletableFuture<Outcome>> done;
        synchronized (this) {
            done = ledger.waitersOf(keys);
        }
        done.forEach(f -> f.complete(outcome));
    }

    private CompletableFuture<Outcome> oneShot(StagedBlock block) {
        KafkaEndpoint ep;
        synchronized (this) {
            ep = endpoint;
        }
        String txnId = TransactionalIds.id(poolPrefix, 0) + "-direct";
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        submit(() -> {
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

    private Duration wait(KafkaEndpoint ep) {
        return Duration.ofMillis(Math.max(1000, Math.min(delivery.requestTimeout().toMillis(), 30_000)));
    }

    @Override
    public void close() {
        boolean settling;
        synchronized (this) {
            settling = prepared.stream().anyMatch(t -> t.settling && !t.ended);
        }
        thread.shutdown();
        if (settling) {
            // Stop-with-savepoint closes the task right after the savepoint's notification: let its
            // commit finish (bounded), or the open transaction hides the partition from read_committed
            // consumers until a restore or transaction_timeout.
            try {
                thread.awaitTermination(delivery.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        thread.shutdownNow();
        synchronized (this) {
            for (Txn t : prepared) {
                ProducerPool.discard(t.producer); // prepared transactions stay open: a restore settles them
            }
            for (Txn t : written) {
                ProducerPool.discard(t.producer);
            }
            if (open != null) {
                open.writer.discard();
            }
        }
        producers.close();
    }

    // ---------------------------------------------------------------- value types

    /** A transaction being written (a batch, or a sealed open one) and its result. */
    private static final class Attempt {
        final int slot;
        final List<StagedBlock> blocks;
        final CompletableFuture<TransactionWriter.Result> result = new CompletableFuture<>();

        Attempt(int slot, List<StagedBlock> blocks) {
            this.slot = slot;
            this.blocks = blocks;
        }
    }

    /** The open transaction, as the task thread knows it (the writer thread appends to {@code writer}). */
    private static final class OpenTxn {
        final TransactionWriter writer;
        final List<StagedBlock> blocks = new ArrayList<>();

        OpenTxn(TransactionWriter writer) {
            this.writer = writer;
        }
    }

    /** A written transaction: prepared once claimed by a checkpoint. */
    static final class Txn {
        final int slot;
        final String transactionalId;
        final long producerId;
        final short epoch;
        final Anchor anchor;
        final List<String> keys;
        volatile org.apache.flink.connector.kafka.sink.internal.FlinkKafkaInternalProducer<byte[], byte[]> producer;
        long checkpointId = -1;
        boolean settling;
        /** Known to have ended before our commit (committed or aborted): its fate is read back. */
        volatile boolean ended;
        int failures;

        Txn(int slot, String transactionalId, long producerId, short epoch, Anchor anchor, List<String> keys,
                org.apache.flink.connector.kafka.sink.internal.FlinkKafkaInternalProducer<byte[], byte[]> producer) {
            this.slot = slot;
            this.transactionalId = transactionalId;
            this.producerId = producerId;
            this.epoch = epoch;
            this.anchor = anchor;
            this.keys = keys;
            this.producer = producer;
        }
    }
}
