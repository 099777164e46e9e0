package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.engine.StagedBlock;

/**
 * One undelivered block of a subtask with its delivery bookkeeping. Lives in operator state from
 * arrival until delivered or dead-lettered; only touched on the task thread.
 *
 * <p>Where its payload is: in the heap ({@code block.hasPayload()}), on the spool ({@link #spooled}
 * set), or both (written, or read back for a send). A spool write in progress keeps the payload in the
 * heap and in every snapshot until it is confirmed.
 */
final class Pending {
    /** Not yet covered by a checkpoint. */
    static final long UNSTAGED = -1L;

    /** The block; without its payload while that is only on the spool. */
    StagedBlock block;
    /** The spool file holding the payload, or null. */
    SpoolHandle spooled;
    /** The checkpoint that first held this block, or {@link #UNSTAGED}. */
    long stagedAt;
    int attempts;
    /** Wall-clock millis; 0 = none yet. */
    long firstAttemptMillis;
    long lastAttemptMillis;
    /** Since when the block may be sent (its checkpoint completed); retry expiry counts from here. */
    long deliverableSinceMillis;
    String lastReason;
    /**
     * Non-empty: to be dead-lettered with this reason. Set at arrival when the destination's backlog is
     * over its bound (then written only once a checkpoint that covers it completed, so that a replay
     * cannot find it both dead-lettered and delivered), or when a dead-letter write starts (so a restore
     * writes it again rather than sending it).
     */
    String deadLetterReason = "";

    // Transient scheduling state (rebuilt on restore).
    /** Wall-clock millis it became pending in this run (about its cut time; a restore resets it). */
    long arrivedMillis;
    long nextAttemptMillis;
    long order;
    boolean inFlight;
    /** A spool write of its payload is running. */
    boolean writing;
    /** Its payload is being read back from the spool. */
    boolean loading;
    /** Its dead-letter write is running (or waits for a retry). */
    boolean deadLettering;
    /** Counted in its destination's backlog (released and not yet gone). */
    boolean inBacklog;
    /** Dead-letter writes that failed so far (retried with backoff). */
    int deadLetterFailures;

    Pending(StagedBlock block) {
        this.block = block;
        this.stagedAt = UNSTAGED;
        this.lastReason = "";
    }

    String key() {
        return block.deliveryKey();
    }

    boolean refused() {
        return !deadLetterReason.isEmpty();
    }

    int bytes() {
        return block.payloadLength();
    }

    boolean inHeap() {
        return block.hasPayload();
    }

    /** Deliverable: its checkpoint completed (or no checkpoint will come). */
    boolean released() {
        return deliverableSinceMillis > 0;
    }
}
