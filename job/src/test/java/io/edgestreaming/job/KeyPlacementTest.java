package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.templates.DataSource;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;

/** Where keys are batched: a destination's home subtask, or the reading subtask for a hot key. */
class KeyPlacementTest {
    private static final int MAX_PARALLELISM = 128;
    private static final long WINDOW = KeyPlacement.WINDOW_NANOS;

    private static StreamConfig stream(long id, String topic) {
        KafkaEndpoint endpoint = new KafkaEndpoint("localhost:9092", topic, false, null, null,
                KafkaEndpoint.MessageFormat.BLOCK, "none", Duration.ofMinutes(10));
        return TestStreams.withBatching(TestStreams.stream(id, "c", DataSource.HTTP, List.of("a.com")), endpoint,
                TestStreams.DEFAULT_BATCHING);
    }

    private static int subtaskOf(long streamId, String base, int lane, int parallelism) {
        Tuple2<Long, String> key = BatchingKeys.key(streamId, base, BatchingKeys.OWN_KEY, lane);
        return KeyGroupRangeAssignment.assignKeyToParallelOperator(key, MAX_PARALLELISM, parallelism);
    }

    @Test
    void everyKeyOfADestinationIsBatchedOnItsHomeSubtaskFromEveryReader() {
        for (int parallelism : new int[] {2, 3, 8}) {
            StreamRouter.Route s1 = new StreamRouter.Route(stream(1, "shared-topic"));
            StreamRouter.Route s2 = new StreamRouter.Route(stream(2, "shared-topic"));
            int home = KeyPlacement.homeOf(s1.stream().endpoint().destinationId(), parallelism);
            for (int reader = 0; reader < parallelism; reader++) {
                KeyPlacement placement = new KeyPlacement(reader, parallelism, MAX_PARALLELISM);
                for (String host : List.of("a.com", "b.com", "#3", "#17")) {
                    int lane1 = placement.lane(s1, 1, host, 2000, 0);
                    int lane2 = placement.lane(s2, 2, host, 2000, 0);
                    assertThat(lane1).isPositive();
                    assertThat(BatchingKeys.isLocal(lane1)).as("through the network to its home").isFalse();
                    assertThat(subtaskOf(1, host, lane1, parallelism)).as("P=%s reader %s %s", parallelism, reader, host)
                            .isEqualTo(home);
                    assertThat(subtaskOf(2, host, lane2, parallelism)).isEqualTo(home);
                }
            }
        }
    }

    @Test
    void destinationsSpreadOverTheSubtasks() {
        Set<Integer> homes = new HashSet<>();
        for (int i = 0; i < 64; i++) {
            homes.add(KeyPlacement.homeOf("kafka:localhost:9092/topic-" + i, 4));
        }
        assertThat(homes).containsExactlyInAnyOrder(0, 1, 2, 3);
    }

    @Test
    void aHotKeyStaysOnTheSubtaskThatReadsItAndGoesHomeWhenItCools() {
        int parallelism = 4;
        StreamRouter.Route route = new StreamRouter.Route(stream(7, "t"));
        int home = KeyPlacement.homeOf(route.stream().endpoint().destinationId(), parallelism);
        int reader = (home + 1) % parallelism;
        KeyPlacement placement = new KeyPlacement(reader, parallelism, MAX_PARALLELISM);
        long now = 0;
        // 1,000 records per second (250 per window): below max_records 2,000 a second, stays home.
        for (int i = 0; i < 250; i++) {
            assertThat(subtaskOf(7, "a.com", placement.lane(route, 7, "a.com", 2000, now), parallelism)).isEqualTo(home);
        }
        now += WINDOW;
        // 2,000 a second in the next window: hot from the window after it.
        for (int i = 0; i < 500; i++) {
            placement.lane(route, 7, "a.com", 2000, now);
        }
        now += WINDOW;
        int hotLane = placement.lane(route, 7, "a.com", 2000, now);
        assertThat(subtaskOf(7, "a.com", hotLane, parallelism)).as("hot: batched where it is read").isEqualTo(reader);
        assertThat(BatchingKeys.isLocal(hotLane)).as("by the batcher chained to the router").isTrue();
        for (int i = 0; i < 300; i++) {
            placement.lane(route, 7, "a.com", 2000, now); // above half the threshold: stays hot
        }
        now += WINDOW;
        assertThat(placement.lane(route, 7, "a.com", 2000, now)).isEqualTo(hotLane);
        now += WINDOW; // a window with one record: cold again
        assertThat(subtaskOf(7, "a.com", placement.lane(route, 7, "a.com", 2000, now), parallelism)).isEqualTo(home);
        // Another host of the same stream was never hot.
        assertThat(subtaskOf(7, "b.com", placement.lane(route, 7, "b.com", 2000, now), parallelism)).isEqualTo(home);
    }

    @Test
    void atParallelismOneEveryKeyIsBatchedByTheBatcherChainedToTheRouter() {
        KeyPlacement placement = new KeyPlacement(0, 1, MAX_PARALLELISM);
        StreamRouter.Route route = new StreamRouter.Route(stream(7, "t"));
        for (String host : List.of("a.com", "b.com", "#3")) {
            int lane = placement.lane(route, 7, host, 2000, 0);
            assertThat(BatchingKeys.isLocal(lane)).as(host).isTrue();
            assertThat(BatchingKeys.key(7, host, BatchingKeys.OWN_KEY, lane).f1).as("never a key of before lanes")
                    .isNotEqualTo(host);
        }
    }

    @Test
    void aHotKeyAtItsHomeGetsAKeyAndSequencesApartFromTheRecordsOtherReadersSendHome() {
        int parallelism = 2;
        StreamRouter.Route route = new StreamRouter.Route(stream(7, "t"));
        int home = KeyPlacement.homeOf(route.stream().endpoint().destinationId(), parallelism);
        KeyPlacement atHome = new KeyPlacement(home, parallelism, MAX_PARALLELISM);
        KeyPlacement elsewhere = new KeyPlacement(1 - home, parallelism, MAX_PARALLELISM);
        long now = 0;
        int sentHome = elsewhere.lane(route, 7, "a.com", 2000, now);
        for (int i = 0; i < 600; i++) {
            atHome.lane(route, 7, "a.com", 2000, now);
        }
        now += WINDOW;
        int local = atHome.lane(route, 7, "a.com", 2000, now);
        assertThat(BatchingKeys.isLocal(local)).isTrue();
        assertThat(subtaskOf(7, "a.com", local, parallelism)).isEqualTo(home).isEqualTo(subtaskOf(7, "a.com", sentHome, parallelism));
        // Two batchers on one subtask: their keys differ, and so do their block ids.
        String localKey = BatchingKeys.laned("a.com", local);
        String homeKey = BatchingKeys.laned("a.com", sentHome);
        assertThat(localKey).isNotEqualTo(homeKey);
        long localBase = BatchingKeys.laneSequenceBase(localKey);
        long homeBase = BatchingKeys.laneSequenceBase(homeKey);
        long sharedStart = SharedKeyBatcher.firstSequence(io.edgestreaming.config.Limits.MAX_BATCHING_KEYS_PER_STREAM);
        for (long lane = 1; lane <= BatchingKeys.MAX_LANE; lane++) {
            long other = lane * BatchingKeys.LANE_SEQUENCE_RANGE;
            // A home lane's keys (own from its base, shared from base + up to 4096 x 10^12) stay below any local base.
            assertThat(localBase < other || localBase > other + sharedStart + 1_000_000_000_000L).as("lane %s", lane).isTrue();
        }
        assertThat(localBase).isNotEqualTo(homeBase);
        assertThat(BatchingKeys.laneSequenceBase(BatchingKeys.laned("#1", BatchingKeys.LOCAL_LANE + BatchingKeys.MAX_LANE))
                + sharedStart).as("no overflow").isPositive();
        assertThat(BatchingKeys.base(localKey)).isEqualTo("a.com");
        assertThat(BatchingKeys.lane(localKey)).isEqualTo(local);
    }

    @Test
    void lanesNumberTheirBlocksInDisjointRangesAndKeepTheHostAsDomain() {
        String k1 = BatchingKeys.laned("a.com", 1);
        String k2 = BatchingKeys.laned("a.com", 2);
        assertThat(BatchingKeys.base(k1)).isEqualTo("a.com");
        assertThat(BatchingKeys.lane(k2)).isEqualTo(2);
        assertThat(BatchingKeys.laneSequenceBase(k2) - BatchingKeys.laneSequenceBase(k1)).isEqualTo(BatchingKeys.LANE_SEQUENCE_RANGE);
        assertThat(BatchingKeys.laneSequenceBase("a.com")).isZero();
        assertThat(BatchingKeys.sharedBlockDomain(BatchingKeys.laned("#17", 5))).isEqualTo("*17");
        assertThat(BatchingKeys.laned("a.com", 1)).isSameAs(k1); // cached: the key selector runs per record
        assertThat(BatchingKeys.MAX_LANE * BatchingKeys.LANE_SEQUENCE_RANGE + BatchingKeys.LANE_SEQUENCE_RANGE)
                .as("no overflow").isPositive();
    }
}
