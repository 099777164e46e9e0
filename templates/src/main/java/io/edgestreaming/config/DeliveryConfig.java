package io.edgestreaming.config;

import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

/**
 * Delivery rules shared by every endpoint type.
 *
 * @param requestTimeout hard timeout of one delivery attempt (Azion: 20 s)
 * @param initialBackoff first retry delay; doubles per attempt, with jitter
 * @param maxBackoff cap of the retry delay
 * @param maxRetryDuration a block still undelivered this long after its first attempt is dead-lettered
 * @param maxPendingBlocksPerDestination a destination's backlog bound: past this many blocks whose
 *     checkpoint completed but that the destination has not taken yet, new blocks are dead-lettered with
 *     that reason instead of growing the spool and the bookkeeping without bound
 * @param maxPendingBytesPerDestination the same bound in payload bytes
 * @param memoryBudget heap bytes that undelivered blocks may hold per delivery operator subtask (past it
 *     the oldest move to the spool); {@link #DERIVED_MEMORY_BUDGET}: a share of the JVM's heap
 * @param spoolPath Flink FileSystem path of the spool ({@code file://}, {@code s3://}); null: beside
 *     the dead-letter store ({@link #spoolPathBeside})
 */
public record DeliveryConfig(
        Duration requestTimeout,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration maxRetryDuration,
        int maxPendingBlocksPerDestination,
        long maxPendingBytesPerDestination,
        long memoryBudget,
        String spoolPath)
        implements Serializable {

    /** {@link #memoryBudget()} when not configured: derived from the heap where the operator runs. */
    public static final long DERIVED_MEMORY_BUDGET = 0;

    /** Without a memory budget or spool path of its own: both derived. */
    public DeliveryConfig(Duration requestTimeout, Duration initialBackoff, Duration maxBackoff, Duration maxRetryDuration,
            int maxPendingBlocksPerDestination, long maxPendingBytesPerDestination) {
        this(requestTimeout, initialBackoff, maxBackoff, maxRetryDuration, maxPendingBlocksPerDestination,
                maxPendingBytesPerDestination, DERIVED_MEMORY_BUDGET, null);
    }

    /** The spool path to use: the configured one, else {@link #spoolPathBeside} the dead-letter store. */
    public String spoolPathOr(String deadLetterBlocksPath) {
        return spoolPath != null ? spoolPath : spoolPathBeside(deadLetterBlocksPath);
    }

    /**
     * The default spool: the sibling {@code spool} of the dead-letter store's folder, on the same file
     * system ({@code s3://b/dead-letter/blocks} gives {@code s3://b/dead-letter/spool}); {@code <path>/spool}
     * when the store is a bucket or file system root, {@code <path>-spool} when its sibling would be itself.
     */
    public static String spoolPathBeside(String deadLetterBlocksPath) {
        URI uri;
        try {
            uri = new URI(deadLetterBlocksPath);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URI: dead_letter.blocks_path", e);
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        int slash = path.lastIndexOf('/');
        String spool;
        if (path.isEmpty() || slash < 0) {
            spool = path + "/spool";
        } else if (path.substring(slash + 1).equals("spool")) {
            spool = path + "-spool";
        } else {
            spool = path.substring(0, slash) + "/spool";
        }
        // Rebuilt by hand: java.net.URI would turn file:///x into file:/x.
        boolean slashes = deadLetterBlocksPath.startsWith(uri.getScheme() + "://");
        return uri.getScheme() + ":" + (slashes ? "//" + (uri.getRawAuthority() == null ? "" : uri.getRawAuthority()) : "")
                + spool;
    }
}
