package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.BatchingConfig;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.BlockSerializer;
import io.edgestreaming.templates.DataSource;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The batcher in Flink's operator test harness: triggers, keys, snapshots, restores and timers. */
class BlockBatcherTest {

    private static final long KAFKA_STREAM = 1;
    private static final long HTTP_STREAM = 2;

    private static List<StreamConfig> streams(int maxRecords, Duration interval, long maxSize, String format) {
        StreamConfig kafka = TestStreams.withBatching(
                TestStreams.stream(KAFKA_STREAM, "c1", DataSource.HTTP, List.of("*.a.com")),
                TestStreams.kafka(), new BatchingConfig(maxRecords, interval, maxSize));
        StreamConfig http = TestStreams.withBatching(
                TestStreams.stream(HTTP_STREAM, "c1", DataSource.WAF, List.of("*.a.com")),
                TestStreams.http(",", format, maxSize), new BatchingConfig(maxRecords, interval, maxSize));
        return List.of(kafka, http);
    }

    private static KeyedOneInputStreamOperatorTestHarness<Tuple2<Long, String>, RoutedRecord, Block> harness(
            List<StreamConfig> streams) throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(BlockBatcher.forStreams(streams)),
                new BlockBatcher.StreamDomainKey(), BlockBatcher.KEY_TYPE);
        harness.setup(BlockSerializer.INSTANCE);
        return harness;
    }

    private static RoutedRecord record(long stream, String domain, String text) {
        return new RoutedRecord(stream, domain, text.getBytes(StandardCharsets.US_ASCII));
    }

    private static List<String> lines(Block block) {
        return Arrays.asList(new String(block.records(), StandardCharsets.US_ASCII).split("\n", -1));
    }

    private static List<Block> blocks(KeyedOneInputStreamOperatorTestHarness<?, ?, Block> harness) {
        List<Block> out = harness.extractOutputValues();
        harness.getOutput().clear();
        return out;
    }

    @Test
    void cutsAtMaxRecordsAndFlushesThePartialBlockAtEndOfInput() throws Exception {
        try (var harness = harness(streams(3, Duration.ofSeconds(60), 1_000_000, "$dataset"))) {
            harness.open();
            harness.setProcessingTime(0);
            for (int i = 0; i < 7; i++) {
                harness.processElement(record(KAFKA_STREAM, "x.a.com", "{\"n\":\"" + i + "\"}"), 0);
            }
            List<Block> full = blocks(harness);
            assertThat(full).hasSize(2);
            assertThat(full.get(0).sequence()).isZero();
            assertThat(full.get(0).recordCount()).isEqualTo(3);
            assertThat(lines(full.get(0))).containsExactly("{\"n\":\"0\"}", "{\"n\":\"1\"}", "{\"n\":\"2\"}");
            assertThat(full.get(1).sequence()).isEqualTo(1);
            assertThat(full.get(1).dataSource()).isEqualTo(DataSource.HTTP);
            assertThat(full.get(1).domain()).isEqualTo("x.a.com");

            harness.processWatermark(Long.MAX_VALUE);
            List<Block> last = blocks(harness);
            assertThat(last).hasSize(1);
            assertThat(last.get(0).sequence()).isEqualTo(2);
            assertThat(lines(last.get(0))).containsExactly("{\"n\":\"6\"}");
        }
    }

    @Test
    void cutsBeforeThePayloadWouldPassMaxSize() throws Exception {
        // HTTP: "[" + records joined by "," + "]" = 2 + 100 n + (n - 1) bytes <= 1000 -> 9 records (910).
        // Kafka: records + '\n' each = 101 n <= 1000 -> 9 records (909).
        try (var harness = harness(streams(2000, Duration.ofSeconds(60), 1000, "[$dataset]"))) {
            harness.open();
            harness.setProcessingTime(0);
            String hundred = "x".repeat(100);
            for (int i = 0; i < 20; i++) {
                harness.processElement(record(HTTP_STREAM, "a.a.com", hundred), 0);
                harness.processElement(record(KAFKA_STREAM, "a.a.com", hundred), 0);
            }
            List<Block> out = blocks(harness);
            assertThat(out).hasSize(4);
            for (Block block : out) {
                assertThat(block.recordCount()).isEqualTo(9);
                long payload = block.streamId() == HTTP_STREAM
                        ? 2 + block.records().length // commas replace the newlines one for one
                        : block.records().length + 1;
                assertThat(payload).isLessThanOrEqualTo(1000);
                assertThat(payload + 101).isGreaterThan(1000); // one more record would not have fit
            }
        }
    }

    @Test
    void cutsAtOnceWhenThePayloadReachesMaxSizeExactly() throws Exception {
        try (var harness = harness(streams(2000, Duration.ofSeconds(60), 1000, "[$dataset]"))) {
            harness.open();
            harness.processElement(record(HTTP_STREAM, "a.a.com", "y".repeat(998)), 0); // 2 + 998 = 1000
            List<Block> out = blocks(harness);
            assertThat(out).hasSize(1);
            assertThat(out.get(0).recordCount()).isEqualTo(1);
        }
    }

    @Test
    void cutsMaxIntervalAfterTheFirstRecord() throws Exception {
        try (var harness = harness(streams(2000, Duration.ofSeconds(60), 1_000_000, "$dataset"))) {
            harness.open();
            harness.setProcessingTime(1_000);
            harness.processElement(record(KAFKA_STREAM, "a.a.com", "r1"), 0);
            harness.setProcessingTime(30_000);
            harness.processElement(record(KAFKA_STREAM, "a.a.com", "r2"), 0);
            harness.setProcessingTime(60_999);
            assertThat(blocks(harness)).isEmpty();
            harness.setProcessingTime(61_000);
            List<Block> out = blocks(harness);
            assertThat(out).hasSize(1);
            assertThat(lines(out.get(0))).containsExactly("r1", "r2");

            // The next block's clock starts at its own first record.
            harness.setProcessingTime(70_000);
            harness.processElement(record(KAFKA_STREAM, "a.a.com", "r3"), 0);
            harness.setProcessingTime(129_999);
            assertThat(blocks(harness)).isEmpty();
            harness.setProcessingTime(130_000);
            out = blocks(harness);
            assertThat(out).hasSize(1);
            assertThat(out.get(0).sequence()).isEqualTo(1);
            assertThat(lines(out.get(0))).containsExactly("r3");
            assertThat(harness.numProcessingTimeTimers()).isZero();
        }
    }

    @Test
    void aBlockCutByCountDoesNotLeaveATimerThatCutsTheNextBlockEarly() throws Exception {
        try (var harness = harness(streams(2, Duration.ofSeconds(60), 1_000_000, "$dataset"))) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(record(KAFKA_STREAM, "a.a.com", "r1"), 0);
            harness.processElement(record(KAFKA_STREAM, "a.a.com", "r2"), 0);
            assertThat(blocks(harness)).hasSize(1);
            harness.setProcessingTime(50_000);
            harness.processElement(record(KAFKA_STREAM, "a.a.com", "r3"), 0);
            harness.setProcessingTime(60_000); // the first block's deadline
            assertThat(blocks(harness)).isEmpty();
            harness.setProcessingTime(110_000);
            assertThat(blocks(harness)).extracting(Block::recordCount).containsExactly(1);
        }
    }

    @Test
    void domainsIdleLongerThanTheTtlAreForgottenSoStateStaysBounded() throws Exception {
        try (var harness = harness(streams(1, Duration.ofSeconds(60), 1_000_000, "$dataset"))) {
            harness.open();
            harness.setStateTtlProcessingTime(0);
            // One-off hosts (what an all_domains stream sees from arbitrary Host headers), and a busy one.
            for (int i = 0; i < 200; i++) {
                harness.processElement(record(KAFKA_STREAM, "once-" + i + ".a.com", "{}"), 0);
            }
            harness.processElement(record(KAFKA_STREAM, "busy.a.com", "{\"n\":1}"), 0);
            harness.processElement(record(KAFKA_STREAM, "busy.a.com", "{\"n\":2}"), 0);
            assertThat(blocks(harness)).extracting(Block::sequence).endsWith(0L, 1L);
            int entriesBefore = harness.numKeyedStateEntries();
            assertThat(entriesBefore).isGreaterThanOrEqualTo(201);

            // Six days later the busy host is still known and keeps its sequence...
            harness.setStateTtlProcessingTime(BlockBatcher.IDLE_KEY_TTL.minusDays(1).toMillis());
            harness.processElement(record(KAFKA_STREAM, "busy.a.com", "{\"n\":3}"), 0);
            assertThat(blocks(harness)).extracting(Block::sequence).containsExactly(2L);
            // ...and a week after its last record it starts again at 0, while the one-off hosts' state
            // is cleaned up as the operator keeps working (incremental cleanup on state access).
            harness.setStateTtlProcessingTime(BlockBatcher.IDLE_KEY_TTL.plusDays(7).toMillis());
            harness.processElement(record(KAFKA_STREAM, "busy.a.com", "{\"n\":4}"), 0);
            assertThat(blocks(harness)).extracting(Block::sequence).containsExactly(0L);
            for (int i = 0; i < 200; i++) {
                harness.processElement(record(KAFKA_STREAM, "busy.a.com", "{\"n\":" + (5 + i) + "}"), 0);
            }
            assertThat(harness.numKeyedStateEntries()).as("keyed state entries after the TTL")
                    .isLessThan(entriesBefore / 10);
        }
    }

    @Test
    void anOpenBlockWhoseBookkeepingExpiredIsEmittedOnceAndTheNextBlocksStayConsistent() throws Exception {
        // A job stopped for 8 days with open blocks: on its return the wall clock (processing time and
        // the TTL clock alike) has moved on. Key a: the overdue timer fires first; key b: records come
        // before it does (after a restore, input and overdue timers race).
        long eightDays = Duration.ofDays(8).toMillis();
        try (var harness = harness(streams(5, Duration.ofSeconds(60), 1_000_000, "$dataset"))) {
            harness.open();
            harness.setStateTtlProcessingTime(0);
            harness.setProcessingTime(0);
            harness.processElement(record(KAFKA_STREAM, "a.a.com", "a0"), 0);
            harness.processElement(record(KAFKA_STREAM, "b.a.com", "b0"), 0);
            assertThat(blocks(harness)).isEmpty();

            harness.setStateTtlProcessingTime(eightDays);
            for (int i = 1; i <= 6; i++) {
                harness.processElement(record(KAFKA_STREAM, "b.a.com", "b" + i), 0);
            }
            harness.setProcessingTime(eightDays);
            for (int i = 1; i <= 6; i++) {
                harness.processElement(record(KAFKA_STREAM, "a.a.com", "a" + i), 0);
            }
            harness.processWatermark(Long.MAX_VALUE);
            List<Block> out = blocks(harness);

            for (String key : List.of("a", "b")) {
                List<Block> ofKey = out.stream().filter(b -> b.domain().equals(key + ".a.com")).toList();
                assertThat(ofKey).as("blocks of %s", key).extracting(Block::sequence).containsExactly(0L, 1L, 2L);
                assertThat(ofKey).flatExtracting(BlockBatcherTest::lines).as("records of %s", key)
                        .containsExactly(key + "0", key + "1", key + "2", key + "3", key + "4", key + "5", key + "6");
                assertThat(lines(ofKey.get(0))).as("the old open block is cut alone, its interval long over")
                        .containsExactly(key + "0");
                for (Block block : ofKey) {
                    assertThat(block.recordCount()).isEqualTo(lines(block).size()).isBetween(1, 5);
                    assertThat(block.dataSource()).isEqualTo(DataSource.HTTP);
                }
            }
        }
    }

    @Test
    void restoringAnOpenBlockOlderThanTheTtlEmitsIt() throws Exception {
        List<StreamConfig> streams = streams(5, Duration.ofSeconds(60), 1_000_000, "$dataset");
        OperatorSubtaskState snapshot;
        try (var harness = harness(streams)) {
            harness.open();
            harness.setStateTtlProcessingTime(1_000);
            harness.setProcessingTime(1_000);
            harness.processElement(record(KAFKA_STREAM, "a.a.com", "first"), 0);
            harness.processElement(record(HTTP_STREAM, "b.a.com", "second"), 0);
            snapshot = harness.snapshot(1, 1_000);
        }
        // Rolled back to that savepoint 8 days later.
        long later = 1_000 + Duration.ofDays(8).toMillis();
        try (var restored = harness(streams)) {
            restored.setStateTtlProcessingTime(later);
            restored.initializeState(snapshot);
            restored.open();
            restored.setProcessingTime(later);
            List<Block> out = blocks(restored);
            assertThat(out).extracting(Block::domain).containsExactlyInAnyOrder("a.a.com", "b.a.com");
            assertThat(out).extracting(Block::sequence).containsOnly(0L);
            assertThat(out).flatExtracting(BlockBatcherTest::lines).containsExactlyInAnyOrder("first", "second");
            assertThat(out).filteredOn(b -> b.streamId() == HTTP_STREAM).extracting(Block::dataSource)
                    .containsExactly(DataSource.WAF);

            // The keys go on from there: the next block holds only its own record.
            restored.processElement(record(KAFKA_STREAM, "a.a.com", "third"), 0);
            restored.processWatermark(Long.MAX_VALUE);
            out = blocks(restored);
            assertThat(out).hasSize(1);
            assertThat(out.get(0).sequence()).isEqualTo(1);
            assertThat(lines(out.get(0))).containsExactly("third");
        }
    }

    @Test
    void manyKeysEachGetTheirOwnBlocksAndSequences() throws Exception {
        Random random = new Random(42);
        Map<String, List<String>> expected = new HashMap<>();
        try (var harness = harness(streams(5, Duration.ofSeconds(60), 1_000_000, "$dataset"))) {
            harness.open();
            harness.setProcessingTime(0);
            for (int i = 0; i < 2_000; i++) {
                long stream = random.nextBoolean() ? KAFKA_STREAM : HTTP_STREAM;
                String domain = "d" + random.nextInt(50) + ".a.com";
                String text = "{\"i\":\"" + i + "\"}";
                harness.processElement(record(stream, domain, text), 0);
                expected.computeIfAbsent(stream + "/" + domain, k -> new ArrayList<>()).add(text);
            }
            harness.processWatermark(Long.MAX_VALUE);
            Map<String, List<String>> actual = new HashMap<>();
            Map<String, Long> nextSequence = new HashMap<>();
            for (Block block : blocks(harness)) {
                String key = block.streamId() + "/" + block.domain();
                assertThat(block.sequence()).isEqualTo(nextSequence.getOrDefault(key, 0L));
                nextSequence.put(key, block.sequence() + 1);
                assertThat(block.recordCount()).isBetween(1, 5).isEqualTo(lines(block).size());
                assertThat(block.dataSource()).isEqualTo(block.streamId() == KAFKA_STREAM ? DataSource.HTTP : DataSource.WAF);
                actual.computeIfAbsent(key, k -> new ArrayList<>()).addAll(lines(block));
            }
            assertThat(actual).isEqualTo(expected);
            assertThat(expected).hasSizeGreaterThan(90);
        }
    }

    @Test
    void restoringFromASnapshotCutsTheSameBlocksWithTheSameSequences() throws Exception {
        List<StreamConfig> streams = streams(4, Duration.ofSeconds(60), 1_000_000, "$dataset");
        List<RoutedRecord> before = new ArrayList<>();
        List<RoutedRecord> after = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            (i < 14 ? before : after).add(record(KAFKA_STREAM, "k" + (i % 3) + ".a.com", "{\"i\":\"" + i + "\"}"));
        }
        OperatorSubtaskState snapshot;
        List<Block> original;
        try (var harness = harness(streams)) {
            harness.open();
            harness.setProcessingTime(0);
            for (RoutedRecord r : before) {
                harness.processElement(r, 0);
            }
            snapshot = harness.snapshot(1, 0);
            blocks(harness);
            for (RoutedRecord r : after) {
                harness.processElement(r, 0);
            }
            harness.processWatermark(Long.MAX_VALUE);
            original = blocks(harness);
        }
        assertThat(original).isNotEmpty();
        assertThat(original).anyMatch(b -> b.sequence() > 0);

        // A failure after the checkpoint: the restored batcher replays the same input.
        try (var restored = harness(streams)) {
            restored.initializeState(snapshot);
            restored.open();
            restored.setProcessingTime(0);
            for (RoutedRecord r : after) {
                restored.processElement(r, 0);
            }
            restored.processWatermark(Long.MAX_VALUE);
            assertThat(blocks(restored)).containsExactlyElementsOf(original);
        }
    }

    @Test
    void processingTimeTimersFireAfterRestore() throws Exception {
        List<StreamConfig> streams = streams(2000, Duration.ofSeconds(60), 1_000_000, "$dataset");
        OperatorSubtaskState snapshot;
        try (var harness = harness(streams)) {
            harness.open();
            harness.setProcessingTime(1_000);
            harness.processElement(record(KAFKA_STREAM, "a.a.com", "first"), 0);
            harness.processElement(record(HTTP_STREAM, "b.a.com", "second"), 0);
            snapshot = harness.snapshot(1, 1_000);
        }
        try (var restored = harness(streams)) {
            restored.initializeState(snapshot);
            restored.open();
            assertThat(restored.numProcessingTimeTimers()).isEqualTo(2);
            restored.setProcessingTime(60_999);
            assertThat(blocks(restored)).isEmpty();
            restored.setProcessingTime(61_000);
            List<Block> out = blocks(restored);
            assertThat(out).extracting(Block::domain).containsExactlyInAnyOrder("a.a.com", "b.a.com");
            assertThat(out).extracting(Block::sequence).containsOnly(0L);
            assertThat(out).flatExtracting(BlockBatcherTest::lines).containsExactlyInAnyOrder("first", "second");
        }
    }
}
