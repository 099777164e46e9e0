package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The blocks of a {@link DeliveryOperator} subtask between arrival and release: unstaged until the next
 * snapshot, then staged under its checkpoint id until a checkpoint at or after it completes, which
 * releases them to the {@link DeliveryEngine}. Task thread only.
 *
 * <p>Blocks staged by the savepoint of {@code flink stop} (synchronous, no drain) are not released by
 * its notification: they are in the savepoint, so the job restored from it sends them (see
 * {@link #stopSavepoints}). Sends are held from such a savepoint until the job goes on after it.
 */
final class CheckpointStaging {
    private final DeliveryEngine engine;
    private List<Pending> unstaged = new ArrayList<>();
    private final TreeMap<Long, List<Pending>> staged = new TreeMap<>();
    /**
     * Ids of synchronous savepoints without drain ({@code flink stop}) taken and not yet completed or
     * aborted. The job that restores such a savepoint delivers the blocks staged at it (they are in its
     * state); released here as well, they would be sent twice. If the job goes on after all, the next
     * completed checkpoint releases them (a release covers every staged id up to the completed one).
     */
    private final TreeSet<Long> stopSavepoints = new TreeSet<>();
    /** The last stop savepoint that completed: a late notification of an older checkpoint releases nothing. */
    private long stopSavepointCompleted = Long.MIN_VALUE;

    CheckpointStaging(DeliveryEngine engine) {
        this.engine = engine;
    }

    /** A block arrived: it waits for the next snapshot. */
    void arrived(Pending p) {
        unstaged.add(p);
    }

    /** Snapshot {@code checkpointId}: stages every block that arrived since the last one, and tells the transport. */
    void stage(long checkpointId, Transport transport) throws Exception {
        if (!unstaged.isEmpty()) {
            List<StagedBlock> covered = new ArrayList<>(unstaged.size());
            for (Pending p : unstaged) {
                p.stagedAt = checkpointId;
                if (!p.refused()) {
                    covered.add(p.block); // a refused block must never reach a Kafka transaction
                }
            }
            transport.stage(checkpointId, covered);
            staged.put(checkpointId, unstaged);
            unstaged = new ArrayList<>();
        }
    }

    /** A stop savepoint is being taken: what is acknowledged before it is not in it, so no send starts. */
    void stopSavepointTaken(long checkpointId) {
        stopSavepoints.add(checkpointId);
        engine.hold(true);
    }

    /**
     * Checkpoint {@code checkpointId} completed: releases the blocks staged at or before it, unless it
     * is a stop savepoint (and the operator not {@code finished}) or older than one that completed.
     *
     * @return the staged blocks a completed stop savepoint leaves to the job restored from it, else 0
     */
    int checkpointCompleted(long checkpointId, boolean finished) {
        // A finished operator's state is not restored (its task ended), so then the stop delivers.
        boolean stopping = stopSavepoints.contains(checkpointId) && !finished;
        stopSavepoints.headSet(checkpointId, true).clear();
        if (!stopping && stopSavepoints.isEmpty() && checkpointId > stopSavepointCompleted) {
            engine.hold(false); // the job went on after a stop savepoint (a late older notification does not count)
        }
        int held = 0;
        if (stopping || checkpointId < stopSavepointCompleted) {
            // Every block still staged (also under an earlier, aborted checkpoint) is in the stop
            // savepoint: the job restored from it sends them. Released here too, they would go twice.
            if (stopping) {
                stopSavepointCompleted = checkpointId;
                for (List<Pending> blocks : staged.values()) {
                    held += blocks.size();
                }
            }
        } else {
            NavigableMap<Long, List<Pending>> covered = staged.headMap(checkpointId, true);
            long now = engine.now();
            for (List<Pending> blocks : covered.values()) {
                for (Pending p : blocks) {
                    if (engine.pending.get(p.key()) == p) {
                        engine.release(p, now);
                    }
                }
            }
            covered.clear();
        }
        return held;
    }

    /** Its blocks stay staged under its id; the next completed checkpoint releases them. */
    void checkpointAborted(long checkpointId) {
        if (stopSavepoints.remove(checkpointId) && stopSavepoints.isEmpty()) {
            engine.hold(false);
        }
    }

    /** Nothing waits for a checkpoint. */
    boolean isEmpty() {
        return unstaged.isEmpty() && staged.isEmpty();
    }

    /** Releases every block, staged or not (bounded input: the task ends). */
    void releaseAll(long now) {
        for (Pending p : unstaged) {
            engine.release(p, now);
        }
        unstaged.clear();
        for (List<Pending> blocks : staged.values()) {
            for (Pending p : blocks) {
                if (engine.pending.get(p.key()) == p) {
                    engine.release(p, now);
                }
            }
        }
        staged.clear();
    }
}
