package io.edgestreaming.connectors.kafka;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Naming and ownership of transactional ids: a small fixed pool per job, destination and subtask,
 * {@code edge-streaming-<job>-<destination hash>-<subtask>-<slot>}, slot in {@code [0, size)}. The
 * brokers keep every id they saw for transactional.id.expiration.ms (7 days) in coordinator memory
 * (FLINK-34554), so a fresh id per checkpoint grows without bound; a pool keeps it at size x parallelism
 * per destination and job. A slot is reused only once the fate of its last transaction is known, and
 * every transaction starts with initTransactions, which bumps the epoch: a later transaction on a
 * slot never shares (producer id, epoch) with an earlier one, so resuming a checkpointed transaction
 * can never commit a later one by mistake.
 */
final class TransactionalIds {
    /**
     * The open transaction, one sealed at a snapshot, a batch attempt, and the prepared ones until their
     * commit (a slow checkpoint's notification can come after the next snapshot), with room for failed
     * checkpoints: when all are busy new blocks wait for a batch attempt at the next snapshot, which then
     * writes inside the checkpoint's synchronous part (measured: 4 were too few under load).
     */
    static final int POOL_SIZE = 8;
    static final String DEFAULT_BASE = "edge-streaming";

    private TransactionalIds() {}

    /** The pool prefix of one subtask for one destination. */
    static String prefix(String jobId, String destinationId, int subtask) {
        return prefix(DEFAULT_BASE, jobId, destinationId, subtask);
    }

    /** With another base than {@value #DEFAULT_BASE} (the dead-letter topic keeps the ids its ACLs allow). */
    static String prefix(String base, String jobId, String destinationId, int subtask) {
        return base + "-" + jobId + "-" + hash(destinationId) + "-" + subtask;
    }

    static String id(String prefix, int slot) {
        return prefix + "-" + slot;
    }

    /** The slot of an id of the given pool, or -1. */
    static int slotOf(String prefix, String transactionalId) {
        if (!transactionalId.startsWith(prefix + "-")) {
            return -1;
        }
        try {
            int slot = Integer.parseInt(transactionalId.substring(prefix.length() + 1));
            return slot >= 0 && slot < POOL_SIZE ? slot : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * The new subtask responsible for the pool of an old subtask after a restore: old index modulo the
     * new parallelism (the same subtask when the parallelism did not change). It resolves every
     * transaction that pool prepared and aborts whatever the failed attempt left open there.
     */
    static int ownerOf(int oldSubtask, int parallelism) {
        return Math.floorMod(oldSubtask, parallelism);
    }

    /** The subtask index in a pre-pool prefix {@code ...-<subtask>-g<generation>}, or -1. */
    static int legacySubtaskOf(String prefix) {
        int g = prefix.lastIndexOf("-g");
        int s = g > 0 ? prefix.lastIndexOf('-', g - 1) : -1;
        try {
            return Integer.parseInt(prefix.substring(s + 1, g));
        } catch (RuntimeException e) {
            return -1;
        }
    }

    static String hash(String destinationId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(destinationId.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
