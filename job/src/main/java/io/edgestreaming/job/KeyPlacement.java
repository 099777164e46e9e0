package io.edgestreaming.job;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

/**
 * Where a batching key's records are batched and delivered, decided by each router subtask for its own
 * records: a lane (a suffix of the key, see {@link BatchingKeys#key}) chosen so that Flink's key-group
 * assignment puts the key on a chosen batcher subtask (the batchers run at the router's parallelism).
 *
 * <ul>
 *   <li><b>Home.</b> Normally a key goes to its destination's home subtask, a hash of the destination:
 *       all streams of one destination are batched, and so delivered, by one subtask, so its clients,
 *       threads and connections exist once per job rather than once per subtask. These records cross the
 *       network to the home subtask's batcher.</li>
 *   <li><b>Local.</b> A key this router subtask alone feeds at {@code max_records} records a second or more
 *       (it cuts full blocks by itself; measured over windows of 250 ms) is <i>hot</i> and is batched by the
 *       batcher chained to this router, in a local lane ({@link BatchingKeys#LOCAL_LANE}): no network hop, no
 *       serialization of its records. A hot domain spreads over every subtask that reads it, in proportion to
 *       what each reads. It goes home again once below half that rate. At parallelism 1 every key is local.</li>
 * </ul>
 *
 * Which lane a record takes depends on the rate seen, not on checkpointed state: that only decides which
 * open block it joins; a block's id comes from its key's checkpointed sequence, and lanes number their
 * blocks in disjoint ranges ({@link BatchingKeys#laneSequenceBase}), so ids stay unique. After rescaling
 * the lanes differ; the old keys' open blocks are cut by their restored timers.
 */
final class KeyPlacement {
    static final long WINDOW_NANOS = 250_000_000L;
    private static final int WINDOWS_PER_SECOND = 4;
    /** Bounds the per-key bookkeeping of a router subtask (keys are bounded per stream; this bounds the sum). */
    private static final int MAX_TRACKED_KEYS = 200_000;

    private final int subtask;
    private final int parallelism;
    private final int maxParallelism;
    private final Map<StreamRouter.Route, Map<String, Tracked>> byRoute = new IdentityHashMap<>();
    private int tracked;

    KeyPlacement(int subtask, int parallelism, int maxParallelism) {
        this.subtask = subtask;
        this.parallelism = parallelism;
        this.maxParallelism = maxParallelism;
    }

    /** The rate and lanes of one (stream, host or shared key). */
    private static final class Tracked {
        final int homeLane;
        int localLane = -1;
        int count;
        long windowStart;
        boolean hot;

        Tracked(int homeLane, long now) {
            this.homeLane = homeLane;
            this.windowStart = now;
        }
    }

    /**
     * The lane for one record of {@code route}'s stream under {@code base} (host or "#bucket"), at
     * {@code nowNanos}: a local one ({@link BatchingKeys#isLocal}) to batch it here, else one to its home;
     * 0 (no lane: Flink's hash alone places the key) if no lane reaches the home subtask.
     */
    int lane(StreamRouter.Route route, long streamId, String base, int maxRecords, long nowNanos) {
        if (parallelism == 1) {
            // Every key group is this subtask's: local lane 1 places every key here, no rate to track.
            return BatchingKeys.LOCAL_LANE + 1;
        }
        Map<String, Tracked> keys = byRoute.get(route);
        if (keys == null) {
            keys = new HashMap<>();
            byRoute.put(route, keys);
        }
        Tracked t = keys.get(base);
        if (t == null) {
            if (tracked >= MAX_TRACKED_KEYS) {
                byRoute.clear();
                tracked = 0;
                keys = new HashMap<>();
                byRoute.put(route, keys);
            }
            t = new Tracked(laneFor(streamId, base, home(route), false), nowNanos);
            keys.put(base, t);
            tracked++;
        }
        if (nowNanos - t.windowStart >= WINDOW_NANOS) {
            // One record per window suffices: an idle key's stale count says nothing about the next second.
            boolean fullWindow = nowNanos - t.windowStart < 2 * WINDOW_NANOS;
            int threshold = Math.max(1, maxRecords / WINDOWS_PER_SECOND);
            t.hot = fullWindow && t.count >= (t.hot ? Math.max(1, threshold / 2) : threshold);
            t.count = 0;
            t.windowStart = nowNanos;
        }
        t.count++;
        if (!t.hot) {
            return t.homeLane;
        }
        if (t.localLane < 0) {
            t.localLane = laneFor(streamId, base, subtask, true);
        }
        // No local lane among 900 (improbable at any sane parallelism): batched at home instead.
        return t.localLane > 0 ? t.localLane : t.homeLane;
    }

    /** The home subtask of a stream's destination. */
    int home(StreamRouter.Route route) {
        return homeOf(route.stream().endpoint().destinationId(), parallelism);
    }

    static int homeOf(String destinationId, int parallelism) {
        return Math.floorMod(org.apache.flink.util.MathUtils.murmurHash(destinationId.hashCode()), parallelism);
    }

    /** The smallest (local) lane whose key lands on {@code target}; 0 if none of {@link BatchingKeys#MAX_LANE}. */
    private int laneFor(long streamId, String base, int target, boolean local) {
        for (int i = 1; i <= BatchingKeys.MAX_LANE; i++) {
            int lane = local ? BatchingKeys.LOCAL_LANE + i : i;
            Tuple2<Long, String> key = Tuple2.of(streamId, BatchingKeys.laned(base, lane));
            if (KeyGroupRangeAssignment.assignKeyToParallelOperator(key, maxParallelism, parallelism) == target) {
                return lane;
            }
        }
        return 0;
    }
}
