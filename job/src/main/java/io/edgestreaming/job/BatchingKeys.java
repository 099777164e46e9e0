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

    /** Separates a key's lane from its host or shared key: never in a host name (nor "#bucket"). */
    static final char LANE_SEPARATOR = '~';
    /** Lanes are 1..MAX_LANE (0: none); each numbers its blocks in its own range, see {@link #laneSequenceBase}. */
    static final int MAX_LANE = 900;
    /**
     * Local lanes, LOCAL_LANE + 1 .. LOCAL_LANE + MAX_LANE: the keys a router subtask batches itself, in the batcher
     * chained to it ({@link KeyPlacement}). Their own key strings ("host~1003"), so never a key of the batcher behind
     * the network, and the upper half of their lane's sequence range, so never its block ids.
     */
    static final int LOCAL_LANE = 1000;
    /** The block sequences of one lane: [lane x 10^16, (lane + 1) x 10^16); 900 lanes stay below Long.MAX_VALUE. */
    static final long LANE_SEQUENCE_RANGE = 10_000_000_000_000_000L;
    /** Where a local lane's sequences start within its lane's range: above any sequence of the other half. */
    static final long LOCAL_SEQUENCE_OFFSET = LANE_SEQUENCE_RANGE / 2;
    /** Lane key strings, one instance per (base, lane): the key selector runs for every record. */
    private static final java.util.concurrent.ConcurrentHashMap<String, String[]> LANED =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** As {@link #LANED} for local lanes, indexed by lane - LOCAL_LANE. */
    private static final java.util.concurrent.ConcurrentHashMap<String, String[]> LOCAL_LANED =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_CACHED_BASES = 100_000;

    /** The batcher's key of a record of {@code streamId} for {@code host} in {@code bucket} (or OWN_KEY). */
    static Tuple2<Long, String> key(long streamId, String host, int bucket) {
        return Tuple2.of(streamId, bucket < 0 ? host : sharedKey(bucket));
    }

    /** As above, in {@code lane} ({@link KeyPlacement}; 0: none). */
    static Tuple2<Long, String> key(long streamId, String host, int bucket, int lane) {
        String base = bucket < 0 ? host : sharedKey(bucket);
        return Tuple2.of(streamId, lane == 0 ? base : laned(base, lane));
    }

    /** Whether {@code lane} is one a router batches itself (in the batcher chained to it). */
    static boolean isLocal(int lane) {
        return lane > LOCAL_LANE;
    }

    /** base + "~" + lane, cached. */
    static String laned(String base, int lane) {
        boolean local = isLocal(lane);
        java.util.concurrent.ConcurrentHashMap<String, String[]> cache = local ? LOCAL_LANED : LANED;
        int index = local ? lane - LOCAL_LANE : lane;
        String[] lanes = cache.get(base);
        if (lanes == null || lanes.length <= index) {
            if (cache.size() > MAX_CACHED_BASES) {
                cache.clear();
            }
            String[] grown = new String[Math.max(index + 1, lanes == null ? 4 : lanes.length * 2)];
            if (lanes != null) {
                System.arraycopy(lanes, 0, grown, 0, lanes.length);
            }
            lanes = grown;
            cache.put(base, lanes);
        }
        String key = lanes[index];
        if (key == null) {
            // Racing threads store equal strings; either is fine.
            key = base + LANE_SEPARATOR + lane;
            lanes[index] = key;
        }
        return key;
    }

    /** The host or shared key of a batching key, without its lane. */
    static String base(String key) {
        int i = key.lastIndexOf(LANE_SEPARATOR);
        return i < 0 ? key : key.substring(0, i);
    }

    /** The lane of a batching key; 0 for none. */
    static int lane(String key) {
        int i = key.lastIndexOf(LANE_SEPARATOR);
        if (i < 0) {
            return 0;
        }
        try {
            int lane = Integer.parseInt(key, i + 1, key.length(), 10);
            return (lane >= 1 && lane <= MAX_LANE) || (lane > LOCAL_LANE && lane <= LOCAL_LANE + MAX_LANE) ? lane : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * Where a key's block sequences start: lanes number their blocks in disjoint ranges, a local lane in the upper
     * half of its lane's range (a key's sequences, shared keys' start of up to 4096 x 10^12 included, never reach it).
     */
    static long laneSequenceBase(String key) {
        int lane = lane(key);
        return isLocal(lane) ? (lane - LOCAL_LANE) * LANE_SEQUENCE_RANGE + LOCAL_SEQUENCE_OFFSET
                : lane * LANE_SEQUENCE_RANGE;
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

    /** The domain of a shared key's shared block: "#17" and "#17~3" (lane 3) -> "*17". */
    static String sharedBlockDomain(String key) {
        return SHARED_BLOCK_PREFIX + base(key).substring(1);
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
