package io.edgestreaming.job;

import io.edgestreaming.config.Limits;
import org.apache.flink.api.java.tuple.Tuple2;

/**
 * Which batching key a record goes to. A host its stream lists exactly keeps its own key (stream, host).
 * Every other host (matched through {@code all_domains} or a {@code *.} wildcard, so chosen by whoever
 * sends the request) goes to one of the stream's {@code batching_keys_per_stream} shared keys
 * (stream, "#" + bucket): a stream's keys, open blocks and timers stay bounded however many Host values
 * arrive. The bucket is a pure function of host and stream, the same in every JVM and after a restore.
 */
public final class BatchingKeys {
    /** RoutedRecord's bucket for a host with a key of its own. */
    public static final int OWN_KEY = -1;
    /** Starts the key of a shared key; never the start of a host a stream can list. */
    static final char SHARED_KEY_PREFIX = '#';
    /** Starts the domain of a shared key's shared block; never in a host that gets a block of its own. */
    static final char SHARED_BLOCK_PREFIX = '*';
    private static final int MAX_HOST_LENGTH = 253;

    private static final String[] SHARED_KEYS = new String[Limits.MAX_BATCHING_KEYS_PER_STREAM];

    private BatchingKeys() {}

    /** The batcher's key of a record of {@code streamId} for {@code host} in {@code bucket} (or OWN_KEY). */
    static Tuple2<Long, String> key(long streamId, String host, int bucket) {
        return Tuple2.of(streamId, bucket < 0 ? host : sharedKey(bucket));
    }

    /** "#" + bucket, one instance per bucket: the key selector runs for every record. */
    static String sharedKey(int bucket) {
        String key = SHARED_KEYS[bucket];
        if (key == null) {
            // Racing threads store equal strings; either is fine.
            key = SHARED_KEY_PREFIX + Integer.toString(bucket);
            SHARED_KEYS[bucket] = key;
        }
        return key;
    }

    static boolean isShared(String key) {
        return !key.isEmpty() && key.charAt(0) == SHARED_KEY_PREFIX;
    }

    /** The domain of a shared key's shared block: "#17" -> "*17" (and whatever suffix the key carries). */
    static String sharedBlockDomain(String key) {
        return SHARED_BLOCK_PREFIX + key.substring(1);
    }

    /** 64-bit FNV-1a of the host's characters: stable across JVMs (String.hashCode is 32 bits only). */
    static long hostHash(String host) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < host.length(); i++) {
            h ^= host.charAt(i);
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** The shared key (0..keysPerStream-1) of a host, by its {@link #hostHash}; seeded by the stream. */
    static int bucket(long hostHash, long streamId, int keysPerStream) {
        // SplitMix64's finalizer: a host that is hot for one stream is not in the same bucket of another.
        long z = hostHash ^ (streamId * 0x9E3779B97F4A7C15L) ^ 0x5DEECE66DL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (int) Long.remainderUnsigned(z, keysPerStream);
    }

    /**
     * Whether a host may get a block of its own inside a shared key: a syntactically plausible host name
     * or IP literal (letters, digits, '-', '.', '[', ']', ':', 1 to 253 characters). Anything else goes to
     * the shared block, so its domain ("*17") can never be taken for a host's.
     */
    static boolean mayOwnBlock(String host) {
        int length = host.length();
        if (length == 0 || length > MAX_HOST_LENGTH) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            char c = host.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
                    || c == '-' || c == '.' || c == '[' || c == ']' || c == ':';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
