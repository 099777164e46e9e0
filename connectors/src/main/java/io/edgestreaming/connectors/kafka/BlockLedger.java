package io.edgestreaming.connectors.kafka;

import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.StagedBlock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Where each block of one Kafka destination stands: in the backlog (covered by a checkpoint, in no
 * transaction), being written, in a prepared transaction, committed (until the engine acknowledged it),
 * refused for good, or expired; and the engine's pending {@code deliver} futures. Not thread-safe: the
 * {@link KafkaDestinationWriter}'s lock guards it. Futures are returned, never completed under the lock.
 */
final class BlockLedger {
    /** What the engine learns when it asks about a block. */
    enum Standing { COMMITTED, REFUSED, WAITING, BACKLOG, EXPIRED, UNKNOWN }

    private static final long NOT_COVERED = Long.MAX_VALUE;
    private final LinkedHashMap<String, Waiting> backlog = new LinkedHashMap<>();
    private final Set<String> writing = new HashSet<>();
    private final Map<String, Txn> txnOfKey = new HashMap<>();
    private final Map<String, Committed> committed = new HashMap<>();
    private final Map<String, String> refused = new HashMap<>();
    private final Set<String> expired = new HashSet<>();
    /** Every block still tracked, to write again those of a transaction that aborted. */
    private final Map<String, StagedBlock> blocks = new HashMap<>();
    private final Map<String, CompletableFuture<Outcome>> waiters = new HashMap<>();

    /** Covered by checkpoint {@code checkpointId} (accepted before, or not). */
    void add(StagedBlock block, long checkpointId) {
        String key = block.deliveryKey();
        Waiting w = backlog.get(key);
        if (w != null && w.coveredAt == NOT_COVERED) {
            w.coveredAt = checkpointId;
        } else if (w == null && !committed.containsKey(key) && !txnOfKey.containsKey(key)) {
            blocks.put(key, block);
            backlog.put(key, new Waiting(block, checkpointId));
        }
    }

    /** Accepted by the engine, not yet covered by a checkpoint; false if already known. */
    boolean accept(StagedBlock block) {
        String key = block.deliveryKey();
        if (committed.containsKey(key) || txnOfKey.containsKey(key) || backlog.containsKey(key)) {
            return false;
        }
        blocks.put(key, block);
        backlog.put(key, new Waiting(block, NOT_COVERED));
        return true;
    }

    /** Backlog blocks not being written (being written implies in the backlog until claimed). */
    int unwritten() {
        return backlog.size() - writing.size();
    }

    void markWriting(String key) {
        writing.add(key);
    }

    /** A block restored by the engine: unless its transaction is known, it is written again. */
    void restoreBlock(StagedBlock block, long now) {
        String key = block.deliveryKey();
        blocks.put(key, block);
        if (!committed.containsKey(key) && !txnOfKey.containsKey(key) && !backlog.containsKey(key)) {
            Waiting w = new Waiting(block, -1);
            w.deliverableSinceMillis = now;
            backlog.put(key, w);
        }
    }

    void restoreCommitted(String key, long now) {
        committed.put(key, new Committed(now));
    }

    void bind(Txn t) {
        for (String k : t.keys) {
            txnOfKey.put(k, t);
        }
    }

    void deliverable(long checkpointId, long now) {
        for (Waiting w : backlog.values()) {
            if (w.deliverableSinceMillis == 0 && w.coveredAt <= checkpointId) {
                w.deliverableSinceMillis = now;
            }
        }
    }

    /**
     * The backlog blocks not yet being written and covered by checkpoint {@code coveredBy} or an earlier
     * one ({@code Long.MAX_VALUE}: also those not covered yet), now marked as written; blocks waiting longer than
     * {@code expireAfterMillis} leave for good instead (their waiters are added to {@code expiredWaiters}).
     */
    List<StagedBlock> takeBatch(long now, long expireAfterMillis, long coveredBy,
            List<CompletableFuture<Outcome>> expiredWaiters) {
        List<StagedBlock> batch = new ArrayList<>();
        for (Iterator<Map.Entry<String, Waiting>> it = backlog.entrySet().iterator(); it.hasNext(); ) {
            Waiting w = it.next().getValue();
            String key = w.block.deliveryKey();
            if (writing.contains(key)) {
                continue;
            }
            if (w.deliverableSinceMillis > 0 && now - w.deliverableSinceMillis >= expireAfterMillis) {
                it.remove();
                expired.add(key);
                blocks.remove(key);
                CompletableFuture<Outcome> waiter = waiters.remove(key);
                if (waiter != null) {
                    expiredWaiters.add(waiter);
                }
                continue;
            }
            if (w.coveredAt <= coveredBy) {
                batch.add(w.block);
            }
        }
        for (StagedBlock b : batch) {
            writing.add(b.deliveryKey());
        }
        return batch;
    }

    /**
     * Whether every block of a written transaction is covered by checkpoint {@code checkpointId} or an
     * earlier one: only then may that checkpoint claim the transaction (its commit follows the checkpoint).
     */
    boolean coveredBy(List<String> keys, long checkpointId) {
        for (String k : keys) {
            Waiting w = backlog.get(k);
            if (w != null && w.coveredAt > checkpointId) {
                return false;
            }
        }
        return true;
    }

    /**
     * The engine spooled this block's payload: the ledger keeps the version without it (read back when
     * written), so the payload leaves the heap. An attempt under way may still hold the earlier one.
     */
    void payloadSpooled(StagedBlock block) {
        String key = block.deliveryKey();
        if (blocks.containsKey(key)) {
            blocks.put(key, block);
        }
        Waiting w = backlog.get(key);
        if (w != null) {
            w.block = block;
        }
    }

    /** An attempt failed: its blocks wait in the backlog again. */
    void notWritten(List<StagedBlock> batch) {
        for (StagedBlock b : batch) {
            writing.remove(b.deliveryKey());
        }
    }

    /** A written transaction claimed by a checkpoint. */
    void claimed(Txn t) {
        for (String k : t.keys) {
            writing.remove(k);
            backlog.remove(k);
            txnOfKey.put(k, t);
        }
    }

    /** Refused by the destination for good (too large): the engine dead-letters it. */
    CompletableFuture<Outcome> refuse(String key, String reason) {
        writing.remove(key);
        if (backlog.remove(key) == null) {
            return null;
        }
        CompletableFuture<Outcome> waiter = waiters.remove(key);
        if (waiter != null) {
            blocks.remove(key);
        } else {
            refused.put(key, reason);
        }
        return waiter;
    }

    /** The waiters of backlog blocks (not of those in transactions), removed. */
    List<CompletableFuture<Outcome>> backlogWaiters() {
        List<CompletableFuture<Outcome>> out = new ArrayList<>();
        for (String key : backlog.keySet()) {
            CompletableFuture<Outcome> waiter = waiters.remove(key);
            if (waiter != null) {
                out.add(waiter);
            }
        }
        return out;
    }

    /** The transaction committed; returns the waiters of its blocks. */
    List<CompletableFuture<Outcome>> committed(Txn t, long snapshotSeq, long now) {
        for (String k : t.keys) {
            txnOfKey.remove(k);
            Committed c = new Committed(now);
            if (waiters.containsKey(k)) {
                c.ackedAt = snapshotSeq;
            }
            committed.put(k, c);
        }
        return waitersOf(t.keys);
    }

    /**
     * The transaction aborted: its blocks go back to the backlog if {@code rewrite}; returns the keys that
     * are not written again (their stream left the destination).
     */
    List<String> aborted(Txn t, boolean rewrite, long now) {
        List<String> gone = new ArrayList<>();
        for (String k : t.keys) {
            txnOfKey.remove(k);
            StagedBlock b = blocks.get(k);
            if (b != null && rewrite) {
                Waiting w = new Waiting(b, t.checkpointId);
                w.deliverableSinceMillis = now;
                backlog.put(k, w);
            } else if (b != null) {
                gone.add(k);
            }
        }
        return gone;
    }

    /** Forgets the blocks of a transaction whose fate cannot be learned. */
    void forget(Txn t) {
        for (String k : t.keys) {
            txnOfKey.remove(k);
            blocks.remove(k);
        }
    }

    List<CompletableFuture<Outcome>> waitersOf(List<String> keys) {
        List<CompletableFuture<Outcome>> out = new ArrayList<>();
        for (String k : keys) {
            CompletableFuture<Outcome> f = waiters.remove(k);
            if (f != null) {
                out.add(f);
            }
        }
        return out;
    }

    Standing standing(String key, long snapshotSeq) {
        Committed c = committed.get(key);
        if (c != null) {
            c.ackedAt = snapshotSeq;
            return Standing.COMMITTED;
        }
        if (refused.containsKey(key)) {
            return Standing.REFUSED;
        }
        if (backlog.containsKey(key) && !writing.contains(key)) {
            return Standing.BACKLOG;
        }
        if (txnOfKey.containsKey(key) || backlog.containsKey(key)) {
            return Standing.WAITING;
        }
        return expired.contains(key) ? Standing.EXPIRED : Standing.UNKNOWN;
    }

    /** The reason a refused block was refused, forgetting it. */
    String takeRefusal(String key) {
        blocks.remove(key);
        return refused.remove(key);
    }

    /** A future completed when the block's fate is known (waiting for a transaction is no failure). */
    CompletableFuture<Outcome> waiter(String key) {
        return waiters.computeIfAbsent(key, k -> new CompletableFuture<>());
    }

    /** max_retry_duration is over: false while the block may still be committed. */
    boolean abandon(String key) {
        if (committed.containsKey(key) || txnOfKey.containsKey(key) || writing.contains(key)) {
            return false;
        }
        backlog.remove(key);
        blocks.remove(key);
        refused.remove(key);
        expired.add(key);
        return true;
    }

    boolean hasUnwritten() {
        for (String k : backlog.keySet()) {
            if (!writing.contains(k)) {
                return true;
            }
        }
        return false;
    }

    int backlogSize() {
        return backlog.size();
    }

    List<String> committedKeys() {
        return List.copyOf(committed.keySet());
    }

    void prune(long now, long forgetAfterMillis, long snapshotSeq) {
        // An acknowledged block has left the engine's state by the snapshot after the acknowledgement.
        committed.values().removeIf(c -> (c.ackedAt >= 0 && snapshotSeq > c.ackedAt + 1) || now - c.sinceMillis > forgetAfterMillis);
        blocks.keySet().removeIf(k -> !backlog.containsKey(k) && !txnOfKey.containsKey(k) && !refused.containsKey(k));
        if (expired.size() > 100_000) {
            expired.clear();
        }
    }

    private static final class Waiting {
        StagedBlock block;
        long coveredAt;
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
}
