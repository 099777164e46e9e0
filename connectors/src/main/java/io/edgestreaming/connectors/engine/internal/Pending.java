package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.engine.StagedBlock;

/**
 * One undelivered block of a subtask with its delivery bookkeeping. Lives in operator state from
 * arrival until delivered or dead-lettered; only touched on the task thread.
 */
final class Pending {
    /** Not yet covered by a checkpoint. */
    static final long UNSTAGED = -1L;

    final StagedBlock block;
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
     * Non-empty: refused at arrival (pending bound). Dead-lettered only once a checkpoint that covers it
     * completed, so that a replay after a failure cannot find it both dead-lettered and delivered.
     */
    String deadLetterReason = "";

    // Transient scheduling state (rebuilt on restore).
    long nextAttemptMillis;
    long order;
    boolean inFlight;

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
        return block.payload().length;
    }
}
