package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.internal.Backoff;
import io.edgestreaming.connectors.kafka.TransactionResolver.Fate;
import io.edgestreaming.connectors.kafka.WriterState.Anchor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
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
 * never holds the task thread nor another destination.
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

    final String destinationId;
    private final DeliveryConfig delivery;
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
    private final LinkedHashMap<String, Waiting> backlog = new LinkedHashMap<>();
    /** Keys in the running attempt or in a written, not yet claimed transaction. */
    private final Set<String> writing = new HashSet<>();
    private final List<Txn> written = new ArrayList<>();
    private final List<Txn> prepared = new ArrayList<>();
    private final Map<String, Txn> txnOfKey = new HashMap<>();
    private final Map<String, Committed> committed = new HashMap<>();
    private final Map<String, String> permanent = new HashMap<>();
    private final Set<String> expired = new HashSet<>();
    private final Map<String, StagedBlock> blocks = new HashMap<>();
    private final Map<String, CompletableFuture<Outcome>> waiters = new HashMap<>();
    private final List<String> toAbort = new ArrayList<>();
    private final List<WriterState.Probe> legacyProbes = new ArrayList<>();
    private Attempt attempt;
    private boolean recovering = true;
    /** Completes when the recovery is done; a snapshot waits for it briefly like for an attempt. */
    private final CompletableFuture<Void> recovered = new CompletableFuture<>();
    private int recoveryFailures;
    private boolean healthy = true;
    private int failures;
    private long nextAttemptMillis;
    private String lastFailure;
    private long snapshotSeq;

    KafkaDestinationWriter(String destinationId, KafkaEndpoint endpoint, DeliveryConfig delivery, String poolPrefix, int subtask,
            String clientId, Counter unknownFates) {
        this.destinationId = destinationId;
        this.endpoint = endpoint;
        this.connection = endpoint == null ? null : WriterState.Connection.of(endpoint);
        this.delivery = delivery;
        this.poolPrefix = poolPrefix;
        this.subtask = subtask;
        this.clientId = clientId;
        this.unknownFates = unknownFates;
        this.backoff = new Backoff(delivery.initialBackoff(), delivery.maxBackoff());
        // Stop re-writing a block a while before the engine gives up on it, so that no block is both
        // committed and dead-lettered (a commit takes at most a checkpoint interval or so).
        long maxRetry = delivery.maxRetryDuration().toMillis();
        this.expiryMarginMillis = Math.min(maxRetry / 10, Duration.ofMinutes(2).toMillis());
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "kafka-delivery-" + clientId);
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        this.thread = executor;
        this.producers = new ProducerPool(() -> KafkaClientConfig.producer(target(), delivery, clientId));
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
        String key = block.deliveryKey();
        if (committed.containsKey(key) || txnOfKey.containsKey(key) || backlog.containsKey(key)) {
            return;
        }
        blocks.put(key, block);
        backlog.put(key, new Waiting(block, checkpointId));
    }

    /** A block restored by the engine: unless its transaction is known, it is written again. */
    synchronized void restoreBlock(StagedBlock block, long now) {
        String key = block.deliveryKey();
        blocks.put(key, block);
        if (!committed.containsKey(key) && !txnOfKey.containsKey(key) && !backlog.containsKey(key)) {
            Waiting w = new Waiting(block, -1);
            w.deliverableSinceMillis = now;
            backlog.put(key, w);
        }
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
            for (String k : mine) {
                txnOfKey.put(k, t);
            }
        }
        for (String k : state.committedKeys()) {
            if (held.contains(k)) {
                committed.put(k, new Committed(now));
            }
        }
    }

    /** Starts the recovery (also on a fresh start: the own pool is cleaned before first use). */
    synchronized void startRecovery() {
        submit(this::recover, 0);
    }

    Future<Void> recovery() {
        return recovered;
    }

    /** Harvests and starts an attempt if one is due; returns it when the snapshot may wait for it. */
    synchronized Future<?> beforeSnapshot(long now) {
        snapshotSeq++;
        pruneCommitted(now);
        harvest();
        return startAttemptIfDue(now) && healthy ? attempt.future : null;
    }

    /** Whether blocks covered by a checkpoint still wait for an attempt (a final checkpoint waits for them). */
    synchronized boolean hasUnwritten() {
        harvest();
        if (attempt != null) {
            return true;
        }
        if (!healthy || endpoint == null) {
            return false; // failing: a final checkpoint does not wait for it
        }
        for (String k : backlog.keySet()) {
            if (!writing.contains(k)) {
                return true;
            }
        }
        return recovering;
    }

    /** Claims every written transaction for this checkpoint; returns the writer's state for it. */
    synchronized WriterState afterSnapshot(long checkpointId) {
        harvest();
        for (Txn t : written) {
            t.checkpointId = checkpointId;
            prepared.add(t);
            for (String k : t.keys) {
                writing.remove(k);
                backlog.remove(k);
                txnOfKey.put(k, t);
            }
        }
        written.clear();
        List<WriterState.PreparedTxn> txns = new ArrayList<>(prepared.size());
        for (Txn t : prepared) {
            txns.add(new WriterState.PreparedTxn(t.checkpointId, t.transactionalId, t.producerId, t.epoch, t.anchor, t.keys));
        }
        List<WriterState.Probe> probes = recovering ? List.copyOf(legacyProbes) : List.of();
        return new WriterState(destinationId, connection, poolPrefix, subtask, txns, List.copyOf(committed.keySet()), probes);
    }

    synchronized void checkpointCompleted(long checkpointId, long now) {
        for (Waiting w : backlog.values()) {
            if (w.deliverableSinceMillis == 0 && w.coveredAt <= checkpointId) {
                w.deliverableSinceMillis = now;
            }
        }
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
            Committed c = committed.get(key);
            if (c != null) {
                c.ackedAt = snapshotSeq;
                return CompletableFuture.completedFuture(Outcome.delivered());
            }
            String reason = permanent.remove(key);
            if (reason != null) {
                blocks.remove(key);
                return CompletableFuture.completedFuture(Outcome.permanent(reason));
            }
            if (backlog.containsKey(key) && !healthy && !writing.contains(key)) {
                // The destination is failing: a failed attempt, counted by the engine's backoff.
                return CompletableFuture.completedFuture(Outcome.retry(describe() + ": " + lastFailure));
            }
            if (txnOfKey.containsKey(key) || backlog.containsKey(key)) {
                // Waiting for its transaction is no failure: completes when it committed.
                return waiters.computeIfAbsent(key, k -> new CompletableFuture<>());
            }
            if (expired.contains(key)) {
                return CompletableFuture.completedFuture(Outcome.retry(describe() + ": not written before max_retry_duration"
                        + (lastFailure == null ? "" : "; last failure: " + lastFailure)));
            }
            if (endpoint == null) {
                return CompletableFuture.completedFuture(Outcome.retry(describe() + ": destination not configured"));
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
        String key = block.deliveryKey();
        if (committed.containsKey(key) || txnOfKey.containsKey(key) || writing.contains(key)) {
            return false;
        }
        backlog.remove(key);
        blocks.remove(key);
        permanent.remove(key);
        expired.add(key);
        return true;
    }

    // ---------------------------------------------------------------- internals (lock held)

    private boolean startAttemptIfDue(long now) {
        if (attempt != null || recovering || endpoint == null || (!healthy && now < nextAttemptMillis)) {
            return false;
        }
        int slot = -1;
        for (int i = 0; i < busySlots.length && slot < 0; i++) {
            slot = busySlots[i] ? -1 : i;
        }
        if (slot < 0) {
            return false; // every id holds a transaction still to settle: the blocks wait, no failure
        }
        List<StagedBlock> batch = new ArrayList<>();
        List<CompletableFuture<Outcome>> expiredWaiters = new ArrayList<>();
        for (Iterator<Map.Entry<String, Waiting>> it = backlog.entrySet().iterator(); it.hasNext(); ) {
            Waiting w = it.next().getValue();
            String key = w.block.deliveryKey();
            if (writing.contains(key)) {
                continue;
            }
            if (w.deliverableSinceMillis > 0
                    && now - w.deliverableSinceMillis >= delivery.maxRetryDuration().toMillis() - expiryMarginMillis) {
                it.remove();
                expired.add(key);
                blocks.remove(key);
                CompletableFuture<Outcome> waiter = waiters.remove(key);
                if (waiter != null) {
                    expiredWaiters.add(waiter);
                }
                continue;
            }
            batch.add(w.block);
        }
        Outcome expiredOutcome = Outcome.retry(describe() + ": not written before max_retry_duration");
        expiredWaiters.forEach(f -> f.complete(expiredOutcome));
        if (batch.isEmpty()) {
            return false;
        }
        busySlots[slot] = true;
        for (StagedBlock b : batch) {
            writing.add(b.deliveryKey());
        }
        Attempt a = new Attempt(slot, TransactionalIds.id(poolPrefix, slot), batch);
        KafkaEndpoint ep = endpoint;
        a.future = thread.submit(() -> a.result = TransactionWriter.write(producers, a.slot, a.txnId, a.blocks, ep));
        attempt = a;
        return true;
    }

    private void harvest() {
        if (attempt == null || !attempt.future.isDone()) {
            return;
        }
        Attempt a = attempt;
        attempt = null;
        TransactionWriter.Result r = a.result != null ? a.result
                : new TransactionWriter.Result(null, "attempt failed: " + describe(), Map.of());
        if (r.txn() != null) {
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
        for (StagedBlock b : a.blocks) {
            writing.remove(b.deliveryKey());
        }
        for (Map.Entry<String, String> e : r.permanent().entrySet()) {
            if (backlog.remove(e.getKey()) != null) {
                CompletableFuture<Outcome> waiter = waiters.remove(e.getKey());
                if (waiter != null) {
                    blocks.remove(e.getKey());
                    waiter.complete(Outcome.permanent(e.getValue()));
                } else {
                    permanent.put(e.getKey(), e.getValue());
                }
            }
        }
        if (r.reason() == null) {
            return; // only permanent rejections: the rest goes in the next attempt
        }
        failed(r.reason());
    }

    /** The destination failed (attempt or recovery): backs off; waiting blocks learn it (the engine counts it). */
    private void failed(String reason) {
        failures++;
        lastFailure = reason;
        if (healthy) {
            LOG.warn("Kafka destination {} not writable ({}); its {} block(s) wait, other destinations unaffected",
                    describe(), reason, backlog.size());
        }
        healthy = false;
        nextAttemptMillis = System.currentTimeMillis() + backoff.delayMillis(failures);
        Outcome outcome = Outcome.retry(describe() + ": " + reason);
        for (String key : backlog.keySet()) {
            CompletableFuture<Outcome> waiter = waiters.remove(key);
            if (waiter != null) {
                waiter.complete(outcome);
            }
        }
    }

    private void pruneCommitted(long now) {
        long forget = 2 * delivery.maxRetryDuration().toMillis();
        // An acknowledged block has left the engine's state by the snapshot after the acknowledgement.
        committed.values().removeIf(c -> (c.ackedAt >= 0 && snapshotSeq > c.ackedAt + 1) || now - c.sinceMillis > forget);
        blocks.keySet().removeIf(k -> !backlog.containsKey(k) && !txnOfKey.containsKey(k) && !permanent.containsKey(k));
        if (expired.size() > 100_000) {
            expired.clear();
        }
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
                    : TransactionResolver.readBack(KafkaClientConfig.consumer(ep, delivery, clientId), t.anchor, wait(ep));
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
        synchronized (this) {
            prepared.remove(t);
            if (t.slot >= 0) {
                busySlots[t.slot] = false;
            }
            for (String k : t.keys) {
                txnOfKey.remove(k);
                Committed c = new Committed(System.currentTimeMillis());
                if (waiters.containsKey(k)) {
                    c.ackedAt = snapshotSeq;
                }
                committed.put(k, c);
            }
        }
        LOG.debug("Kafka {}: committed transaction {} ({} blocks)", destinationId, t.transactionalId, t.keys.size());
        completeWaiters(t.keys, Outcome.delivered());
    }

    /** Its blocks are written again, or dead-lettered if their stream left this destination. */
    private void onAborted(Txn t, String reason, boolean error) {
        int resent = 0;
        List<String> gone = new ArrayList<>();
        synchronized (this) {
            prepared.remove(t);
            if (t.slot >= 0) {
                busySlots[t.slot] = false;
            }
            for (String k : t.keys) {
                txnOfKey.remove(k);
                StagedBlock b = blocks.get(k);
                if (b != null && endpoint != null) {
                    Waiting w = new Waiting(b, t.checkpointId);
                    w.deliverableSinceMillis = System.currentTimeMillis();
                    backlog.put(k, w);
                    resent++;
                } else if (b != null) {
                    gone.add(k);
                }
            }
        }
        String text = reason + "; " + resent + " block(s) are written again in a new transaction";
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
                t.keys.forEach(txnOfKey::remove);
                t.keys.forEach(blocks::remove);
            }
            completeWaiters(t.keys, Outcome.permanent(reason));
        }
        synchronized (this) {
            recovering = false;
        }
        recovered.complete(null);
    }

    private void completeWaiters(List<String> keys, Outcome outcome) {
        List<CompletableFuture<Outcome>> done = new ArrayList<>();
        synchronized (this) {
            for (String k : keys) {
                CompletableFuture<Outcome> f = waiters.remove(k);
                if (f != null) {
                    done.add(f);
                }
            }
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
        }
        producers.close();
    }

    // ---------------------------------------------------------------- value types

    private static final class Waiting {
        final StagedBlock block;
        final long coveredAt;
        long deliverableSinceMillis;

        Waiting(StagedBlock block, long coveredAt) {
            this.block = block;
            this.coveredAt = coveredAt;
        }
    }

    private static final class Committed {
        final long sinceMillis;
        long ackedAt = -1;

        Committed(long sinceMillis) {
            this.sinceMillis = sinceMillis;
        }
    }

    private static final class Attempt {
        final int slot;
        final String txnId;
        final List<StagedBlock> blocks;
        Future<?> future;
        volatile TransactionWriter.Result result;

        Attempt(int slot, String txnId, List<StagedBlock> blocks) {
            this.slot = slot;
            this.txnId = txnId;
            this.blocks = blocks;
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
