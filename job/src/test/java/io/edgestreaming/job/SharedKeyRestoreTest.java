package io.edgestreaming.job;

import static io.edgestreaming.job.SharedKeyFixtures.ALL;
import static io.edgestreaming.job.SharedKeyFixtures.WILD;
import static io.edgestreaming.job.SharedKeyFixtures.assertWellFormed;
import static io.edgestreaming.job.SharedKeyFixtures.bucketOf;
import static io.edgestreaming.job.SharedKeyFixtures.eventIds;
import static io.edgestreaming.job.SharedKeyFixtures.hostInBucket;
import static io.edgestreaming.job.SharedKeyFixtures.lines;
import static io.edgestreaming.job.SharedKeyFixtures.shared;
import static io.edgestreaming.job.SharedKeyFixtures.stream;
import static io.edgestreaming.job.SharedKeyFixtures.LANE_BASE;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.BlockSerializer;
import io.edgestreaming.job.SharedKeyFixtures.Pipeline;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Shared batching keys across snapshots and restores: a replay cuts the same blocks, a snapshot of the
 * batcher before shared keys restores, and open blocks outlive the idle TTL.
 */
class SharedKeyRestoreTest {
    @Test
    void restoringASnapshotMidwayCutsTheSameBlocksWithTheSameIds() throws Exception {
        int k = 2;
        List<StreamConfig> streams = List.of(stream(ALL, List.of(), 3, Duration.ofSeconds(10), 1_000_000),
                stream(WILD, List.of("www.shop.com", "*.shop.com"), 3, Duration.ofSeconds(10), 1_000_000));
        Random random = new Random(11);
        List<String> hosts = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            int h = random.nextInt(40);
            hosts.add(h % 10 == 9 ? "bad_" + h + ".shop.com" : h % 10 == 0 ? "www.shop.com" : "h" + h + ".shop.com");
        }
        OperatorSubtaskState snapshot;
        List<Block> original;
        try (Pipeline p = new Pipeline(streams, k)) {
            for (int i = 0; i < 200; i++) {
                p.batcher.setProcessingTime(i * 100L);
                p.send(hosts.get(i));
            }
            snapshot = p.batcher.snapshot(1, 20_000);
            p.blocks();
            for (int i = 200; i < 400; i++) {
                p.batcher.setProcessingTime(i * 100L);
                p.send(hosts.get(i));
            }
            p.batcher.processWatermark(Long.MAX_VALUE);
            original = p.blocks();
        }
        assertThat(original).filteredOn(SharedKeyFixtures::shared).isNotEmpty();
        assertThat(original).filteredOn(b -> b.domain().equals("www.shop.com")).isNotEmpty();

        try (Pipeline restored = new Pipeline(streams, k, snapshot, null)) {
            restored.nextEvent = 200;
            for (int i = 200; i < 400; i++) {
                restored.batcher.setProcessingTime(i * 100L);
                restored.send(hosts.get(i));
            }
            restored.batcher.processWatermark(Long.MAX_VALUE);
            assertThat(restored.blocks()).containsExactlyElementsOf(original);
        }
    }

    @Test
    void aSnapshotOfTheBatcherBeforeSharedKeysRestoresItsOpenBlocksAndNewRecordsGoToSharedKeys() throws Exception {
        int k = 4;
        int maxRecords = 5;
        List<StreamConfig> streams = List.of(stream(ALL, List.of(), maxRecords, Duration.ofSeconds(60), 1_000_000));
        int bucket = bucketOf("a.x.com", ALL, k);
        // A visitor's Host that happens to be a shared key's name: its old key is now that shared key.
        String lookalike = "#" + bucket;
        List<String> oldRecords = List.of("old-a1", "old-a2", "old-b1", "old-lookalike");
        OperatorSubtaskState snapshot;
        try (var legacy = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(LegacyBlockBatcher.forStreams(streams)),
                new LegacyBlockBatcher.StreamDomainKey(), BlockBatcher.KEY_TYPE)) {
            legacy.setup(BlockSerializer.INSTANCE);
            legacy.open();
            legacy.setProcessingTime(1_000);
            for (String r : oldRecords) {
                String host = r.startsWith("old-a") ? "a.x.com" : r.equals("old-b1") ? "b.x.com" : lookalike;
                legacy.processElement(new RoutedRecord(ALL, host, ("{\"old\":\"" + r + "\"}").getBytes(StandardCharsets.US_ASCII)), 0);
            }
            assertThat(legacy.extractOutputValues()).isEmpty();
            snapshot = legacy.snapshot(1, 1_000);
        }

        try (Pipeline p = new Pipeline(streams, k, snapshot, null)) {
            p.batcher.setProcessingTime(2_000);
            int a = p.send("a.x.com");
            int c = p.send(hostInBucket("c", bucket, ALL, k));
            int d = p.send(hostInBucket("d", (bucket + 1) % k, ALL, k));
            assertThat(p.keys).allMatch(key -> key.f1.startsWith("#")).contains(Tuple2.of(ALL, lookalike));

            p.batcher.setProcessingTime(61_000); // the old blocks' deadline, not yet the new ones'
            List<Block> old = p.blocks();
            assertThat(old).extracting(Block::domain).containsExactlyInAnyOrder("a.x.com", "b.x.com", lookalike);
            assertThat(old).extracting(Block::sequence).containsOnly(0L);
            assertThat(old).flatExtracting(SharedKeyFixtures::lines).containsExactlyInAnyOrder(
                    oldRecords.stream().map(r -> "{\"old\":\"" + r + "\"}").toArray(String[]::new));

            // The old key #bucket's flush took its end-of-input timer; the shared key's blocks still flush.
            p.batcher.processWatermark(Long.MAX_VALUE);
            List<Block> fresh = p.blocks();
            assertThat(fresh).flatExtracting(SharedKeyFixtures::eventIds).containsExactlyInAnyOrder(a, c, d);
            assertThat(fresh).extracting(Block::sequence).allMatch(s -> s >= SharedKeyBatcher.firstSequence(k));
            List<String> ids = new ArrayList<>();
            old.forEach(b -> ids.add(b.blockId()));
            fresh.forEach(b -> ids.add(b.blockId()));
            assertThat(ids).as("block ids across the upgrade").doesNotHaveDuplicates();
        }
    }

    @Test
    void anOpenSharedKeyBlockOutlivingTheTtlLosesAndMixesNothing() throws Exception {
        long eightDays = Duration.ofDays(8).toMillis();
        int k = 1;
        List<StreamConfig> streams = List.of(stream(ALL, List.of(), 5, Duration.ofSeconds(60), 1_000_000));
        try (Pipeline p = new Pipeline(streams, k)) {
            p.batcher.setStateTtlProcessingTime(0);
            p.batcher.setProcessingTime(0);
            for (int i = 0; i < 5; i++) {
                p.send("a.x.com"); // a block cut, so the key has a sequence to lose
            }
            assertThat(p.blocks()).extracting(Block::sequence).containsExactly(LANE_BASE + SharedKeyBatcher.firstSequence(k));
            p.send("a.x.com");
            p.send("bad_host");
            p.send("b.x.com");

            // Records first (after a restore, input and overdue timers race), then the overdue timers.
            p.batcher.setStateTtlProcessingTime(eightDays);
            for (int i = 0; i < 6; i++) {
                p.send("a.x.com");
                p.send("bad_host");
            }
            p.batcher.setProcessingTime(eightDays);
            for (int i = 0; i < 6; i++) {
                p.send("b.x.com");
            }
            p.batcher.processWatermark(Long.MAX_VALUE);
            List<Block> blocks = p.blocks();
            assertWellFormed(blocks, 5, p.nextEvent, 5, 1_000_000);
            for (Block block : blocks) {
                assertThat(eventIds(block)).allMatch(id -> shared(block)
                        ? p.hosts.get(id).equals("bad_host") : p.hosts.get(id).equals(block.domain()));
            }
            // The sequence idled out, so numbering starts over; the open blocks themselves never expire.
            assertThat(blocks).extracting(Block::sequence).allMatch(s -> s >= LANE_BASE + SharedKeyBatcher.firstSequence(k)
                    && s < LANE_BASE + SharedKeyBatcher.firstSequence(k) + blocks.size());
            assertThat(blocks).filteredOn(b -> b.domain().equals("b.x.com")).first()
                    .satisfies(b -> assertThat(b.recordCount()).as("the overdue block, cut before new records").isOne());
        }
    }

    @Test
    void restoringSharedKeyBlocksOlderThanTheTtlEmitsThem() throws Exception {
        int k = 1;
        List<StreamConfig> streams = List.of(stream(ALL, List.of(), 5, Duration.ofSeconds(60), 1_000_000));
        OperatorSubtaskState snapshot;
        Map<Integer, String> hosts;
        try (Pipeline p = new Pipeline(streams, k)) {
            p.batcher.setStateTtlProcessingTime(1_000);
            p.batcher.setProcessingTime(1_000);
            for (String host : List.of("a.x.com", "b.x.com", "c.x.com", "d.x.com", "e.x.com", "bad_host", "a.x.com")) {
                p.send(host);
            }
            snapshot = p.batcher.snapshot(1, 1_000);
            hosts = p.hosts;
        }
        long later = 1_000 + Duration.ofDays(8).toMillis();
        try (Pipeline restored = new Pipeline(streams, k, snapshot, null)) {
            restored.batcher.setStateTtlProcessingTime(later);
            restored.batcher.setProcessingTime(later);
            List<Block> out = restored.blocks();
            assertThat(out).extracting(Block::domain)
                    .containsExactlyInAnyOrder("a.x.com", "b.x.com", "c.x.com", "d.x.com", "*0");
            assertThat(out).flatExtracting(SharedKeyFixtures::eventIds).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6);
            assertThat(out).filteredOn(SharedKeyFixtures::shared).flatExtracting(SharedKeyFixtures::eventIds)
                    .allMatch(id -> hosts.get(id).equals("e.x.com") || hosts.get(id).equals("bad_host"));

            restored.nextEvent = 7;
            int next = restored.send("e.x.com"); // a slot is free again
            restored.batcher.processWatermark(Long.MAX_VALUE);
            assertThat(restored.blocks()).singleElement().satisfies(b -> {
                assertThat(b.domain()).isEqualTo("e.x.com");
                assertThat(eventIds(b)).containsExactly(next);
            });
            assertThat(restored.batcher.numKeyedStateEntries()).as("state left after every block is cut")
                    .isLessThanOrEqualTo(1); // the sequence
        }
    }

}
