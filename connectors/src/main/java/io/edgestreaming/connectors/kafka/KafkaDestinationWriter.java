package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.AddressGuard;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.internal.Backoff;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.metrics.Counter;

/**
 * Everything one subtask does for one Kafka destination (cluster + topic + credentials): its backlog
 * ({@link BlockLedger}), its transactions and one thread of its own for every blocking Kafka call
 * ({@link KafkaWriterThread}), so a dead or slow cluster never holds the task thread nor another
 * destination (producers that hold an open or prepared transaction stay until it is settled). This class
 * is what the task thread calls, and claims transactions for checkpoints.
 *
 * <p>Life of a block: {@link #add} puts it in the backlog when a checkpoint first covers it. An
 * <em>attempt</em> ({@link TransactionAttempts}) writes the backlog into a transaction on a free id of the
 * pool on the writer thread (init, begin, send, flush); the next snapshot <em>claims</em> a written
 * transaction ({@link #afterSnapshot}): id, producer id, epoch and one message's offset go into the
 * checkpoint. Once that checkpoint completes the transaction is <em>settled</em>
 * ({@link TransactionCommitter}, the one place a Kafka block is committed): committed, or, if it had
 * already ended, its fate read back; aborted blocks are written again. {@link #deliver} only reports: it
 * completes when the block's transaction committed; waiting for a transaction is not a failure.
 *
 * <p>After a restore ({@link #restoreState}, {@link #startRecovery}) no attempt starts before the
 * {@link WriterRecovery} resolved the restored transactions and cleaned the owned pools.
 *
 * <p>All fields, and those of the attempts, the recovery, the ledger and the transactions, are guarded by
 * {@code this}; blocking calls run on the writer thread without the lock.
 */
final class KafkaDestinationWriter implements AutoCloseable {
    /** Idle producers unused for this long are closed at a snapshot even while the thread has other work. */
    private static final Duration IDLE_CLIENTS = Duration.ofMinutes(5);

    final String destinationId;
    private final DeliveryConfig delivery;
    private final KafkaWriterThread thread;
    private final ProducerPool producers;
    private final TransactionAttempts attempts;
    private final TransactionCommitter committer;
    private final WriterRecovery recovery;
    private final String poolPrefix;
    private final int subtask;
    /** From the configuration; null while only a restored state knows the destination. */
    private KafkaEndpoint endpoint;
    /** Rebuilt from a restored state's connection, to resolve its transactions. */
    private KafkaEndpoint restoredEndpoint;
    private WriterState.Connection connection;

    private final BlockLedger ledger = new BlockLedger();
    /** Claimed (or restored) and not yet settled. */
    private final List<Txn> prepared = new ArrayList<>();
    private long snapshotSeq;

    KafkaDestinationWriter(String destinationId, KafkaEndpoint endpoint, DeliveryConfig delivery, AddressGuard addresses,
            String poolPrefix, int subtask, String clientId, Counter unknownFates, long largestBlock) {
        this.destinationId = destinationId;
        this.endpoint = endpoint;
        this.connection = endpoint == null ? null : WriterState.Connection.of(endpoint);
        this.delivery = delivery;
        this.poolPrefix = poolPrefix;
        this.subtask = subtask;
        Backoff backoff = new Backoff(delivery.initialBackoff(), delivery.maxBackoff());
        // Stop re-writing a block a while before the engine gives up on it, so that no block is both
        // committed and dead-lettered (a commit takes at most a checkpoint interval or so).
        long maxRetry = delivery.maxRetryDuration().toMillis();
        long expiryMarginMillis = Math.min(maxRetry / 10, Duration.ofMinutes(2).toMillis());
        this.producers = new ProducerPool(() -> KafkaClientConfig.producer(target(), delivery, clientId, addresses, largestBlock));
        this.thread = new KafkaWriterThread(destinationId, clientId, producers);
        this.attempts = new TransactionAttempts(this, ledger, producers, thread, backoff, poolPrefix, maxRetry - expiryMarginMillis);
        this.committer = new TransactionCommitter(this, producers, thread, backoff, unknownFates, delivery, clientId, addresses,
                this::endRecovery);
        this.recovery = new WriterRecovery(this, committer, producers, thread, backoff, poolPrefix);
    }

    private void endRecovery() {
        recovery.end();
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
        if (!ledger.accept(block) || recovery.running() || !attempts.healthy() || endpoint == null || ledger.unwritten() > 1) {
            return; // a batch attempt at the next snapshot writes it, after the older ones (order kept)
        }
        attempts.stream(block, endpoint);
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
            recovery.restoreOwned(state);
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
                attempts.markBusy(slot);
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
        recovery.start();
    }

    CompletableFuture<Void> recovery() {
        return recovery.done();
    }

    /**
     * Seals the open transaction (flushed on the writer thread) and starts a batch attempt for the rest of
     * the backlog; returns what the snapshot may wait for (null when failing: it is not waited for).
     */
    synchronized CompletableFuture<?> beforeSnapshot(long now) {
        snapshotSeq++;
        ledger.prune(now, 2 * delivery.maxRetryDuration().toMillis(), snapshotSeq);
        attempts.harvest();
        if (producers.idleFor(IDLE_CLIENTS)) {
            thread.submit(producers::closeIdle, 0);
        }
        attempts.seal();
        startAttemptIfDue(now, Long.MAX_VALUE);
        return attempts.healthy() ? attempts.running() : null;
    }

    /**
     * After a recovery that a snapshot found running: writes the blocks that checkpoint covers (at most
     * {@code checkpointId}), so that its deferred state can claim them; returns what it may wait for.
     */
    synchronized CompletableFuture<?> writeCovered(long checkpointId, long now) {
        attempts.harvest();
        if (attempts.batch() == null) {
            startAttemptIfDue(now, checkpointId);
        }
        return attempts.healthy() ? attempts.batch() : null;
    }

    /** Whether blocks covered by a checkpoint still wait for an attempt (a final checkpoint waits for them). */
    synchronized boolean hasUnwritten() {
        attempts.harvest();
        if (attempts.writing()) {
            return true;
        }
        if (!attempts.healthy() || endpoint == null) {
            return false; // failing: a final checkpoint does not wait for it
        }
        return recovery.running() || ledger.hasUnwritten();
    }

    /**
     * Claims for this checkpoint every written transaction whose blocks it covers; returns the writer's
     * state for it. May run after the checkpoint's synchronous part (the snapshot's state is deferred):
     * a transaction that also holds a block accepted after the checkpoint's barrier is left to a later one.
     */
    synchronized WriterState afterSnapshot(long checkpointId) {
        attempts.harvest();
        attempts.claim(t -> ledger.coveredBy(t.keys, checkpointId), t -> {
            t.checkpointId = checkpointId;
            prepared.add(t);
            ledger.claimed(t);
        });
        List<WriterState.PreparedTxn> txns = new ArrayList<>(prepared.size());
        for (Txn t : prepared) {
            txns.add(new WriterState.PreparedTxn(t.checkpointId, t.transactionalId, t.producerId, t.epoch, t.anchor, t.keys));
        }
        List<WriterState.Probe> probes = recovery.pendingProbes();
        return new WriterState(destinationId, connection, poolPrefix, subtask, txns, ledger.committedKeys(), probes);
    }

    synchronized void checkpointCompleted(long checkpointId, long now) {
        ledger.deliverable(checkpointId, now);
        for (Txn t : prepared) {
            if (t.checkpointId <= checkpointId && !t.settling) {
                t.settling = true;
                thread.submit(() -> committer.settle(t), 0);
            }
        }
        attempts.harvest();
        if (!attempts.healthy()) {
            startAttemptIfDue(now, Long.MAX_VALUE); // probe early; claimed by the next snapshot
        }
    }

    CompletableFuture<Outcome> deliver(StagedBlock block) {
        String key = block.deliveryKey();
        KafkaEndpoint ep;
        synchronized (this) {
            switch (ledger.standing(key, snapshotSeq)) {
                case COMMITTED:
                    return CompletableFuture.completedFuture(Outcome.delivered());
                case REFUSED:
                    return CompletableFuture.completedFuture(Outcome.permanent(ledger.takeRefusal(key)));
                case BACKLOG:
                    if (!attempts.healthy()) {
                        // The destination is failing: a failed attempt, counted by the engine's backoff.
                        return CompletableFuture.completedFuture(Outcome.retry(describe() + ": " + attempts.lastFailure()));
                    }
                    return ledger.waiter(key);
                case WAITING:
                    // Waiting for its transaction is no failure: completes when its fate is known.
                    return ledger.waiter(key);
                case EXPIRED:
                    String last = attempts.lastFailure();
                    return CompletableFuture.completedFuture(Outcome.retry(describe() + ": not written before max_retry_duration"
                            + (last == null ? "" : "; last failure: " + last)));
                default:
                    if (endpoint == null) {
                        return CompletableFuture.completedFuture(Outcome.retry(describe() + ": destination not configured"));
                    }
            }
        }
        synchronized (this) {
            ep = endpoint;
        }
        // Never staged: only without checkpointing.
        return committer.commitAtOnce(block, ep, TransactionalIds.id(poolPrefix, 0) + "-direct");
    }

    /**
     * The engine's max_retry_duration is over for a block. A block in a transaction (prepared, or being
     * written) may still be committed: refused, the engine waits for that outcome. Else it leaves the
     * backlog for good.
     */
    synchronized boolean abandon(StagedBlock block) {
        return ledger.abandon(block.deliveryKey());
    }

    private void startAttemptIfDue(long now, long coveredBy) {
        attempts.startIfDue(now, coveredBy, endpoint, recovery.running());
    }

    String describe() {
        KafkaEndpoint ep = target();
        return ep == null ? destinationId : ep.describe();
    }

    synchronized KafkaEndpoint target() {
        return endpoint != null ? endpoint : restoredEndpoint;
    }

    // ---------------------------------------------------------------- for the committer and the recovery

    /** The destination failed (lock held): backs off; waiting blocks learn it. */
    void failed(String reason) {
        attempts.failed(reason);
    }

    /** Lock held. Reachable again: an attempt may start at once. */
    void retryNow() {
        attempts.retryNow();
    }

    synchronized boolean configured() {
        return endpoint != null;
    }

    synchronized List<Txn> preparedTxns() {
        return new ArrayList<>(prepared);
    }

    /** A prepared transaction committed: frees its id; returns its blocks' waiters. */
    synchronized List<CompletableFuture<Outcome>> committed(Txn t) {
        release(t);
        return ledger.committed(t, snapshotSeq, System.currentTimeMillis());
    }

    /** A prepared transaction aborted: frees its id; its blocks are written again while the destination is configured. */
    synchronized Aborted aborted(Txn t) {
        release(t);
        boolean rewrite = endpoint != null;
        return new Aborted(rewrite, ledger.aborted(t, rewrite, System.currentTimeMillis()));
    }

    /** @param gone the blocks not written again */
    record Aborted(boolean rewrite, List<String> gone) {}

    private void release(Txn t) {
        prepared.remove(t);
        if (t.slot >= 0) {
            attempts.free(t.slot);
        }
    }

    /** A prepared transaction whose fate stays unknown. */
    synchronized void forget(Txn t) {
        prepared.remove(t);
        ledger.forget(t);
    }

    synchronized List<CompletableFuture<Outcome>> waitersOf(List<String> keys) {
        return ledger.waitersOf(keys);
    }

    @Override
    public void close() {
        boolean settling;
        synchronized (this) {
            settling = prepared.stream().anyMatch(t -> t.settling && !t.ended);
        }
        // Stop-with-savepoint closes the task right after the savepoint's notification: let its commit
        // finish (bounded), or the open transaction hides the partition from read_committed consumers
        // until a restore or transaction_timeout.
        thread.close(settling, delivery.requestTimeout().toMillis() + 1000);
        synchronized (this) {
            for (Txn t : prepared) {
                ProducerPool.discard(t.producer); // prepared transactions stay open: a restore settles them
            }
            attempts.discard();
        }
        producers.close();
    }
}
