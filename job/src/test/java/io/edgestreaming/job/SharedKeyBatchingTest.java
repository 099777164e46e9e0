package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.BatchingConfig;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.BlockSerializer;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.templates.Templates;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.clusterframework.types.ResourceID;
import org.apache.flink.runtime.executiongraph.ExecutionAttemptID;
import org.apache.flink.runtime.metrics.groups.TaskManagerMetricGroup;
import org.apache.flink.runtime.metrics.util.TestingMetricRegistry;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Hosts a stream does not list exactly share a bounded set of batching keys: raw events go through the
 * real ParseAndRoute and BlockBatcher in Flink's operator harnesses, with snapshots and restores.
 */
class SharedKeyBatchingTest {
    private static final long ALL = 1;
    private static final long WILD = 2;
    private static final int OWN = SharedKeyBatcher.OWN_BLOCKS;
    private static final Pattern EVENT_ID = Pattern.compile("\"u\":\"/e(\\d+)");
    private static final Pattern HOST = Pattern.compile("\"h\":\"([^\"]*)\"");

    private static StreamConfig stream(long id, List<String> domains, int maxRecords, Duration interval, long maxSize)
            throws Exception {
        return new StreamConfig(id, "s" + id, "c1", DataSource.HTTP,
                Templates.custom(DataSource.HTTP, "{\"h\":\"$host\",\"u\":\"$request_uri\"}"), domains,
                domains.isEmpty(), 100, true, TestStreams.kafka(), new BatchingConfig(maxRecords, interval, maxSize));
    }

    /** Router and batcher harnesses, the router's output fed to the batcher as the job's keyBy does. */
    private static final class Pipeline implements AutoCloseable {
        final OneInputStreamOperatorTestHarness<RawEvent, RoutedRecord> router;
        final KeyedOneInputStreamOperatorTestHarness<Tuple2<Long, String>, RoutedRecord, Block> batcher;
        final BlockBatcher.StreamDomainKey selector = new BlockBatcher.StreamDomainKey();
        final Set<Tuple2<Long, String>> keys = new HashSet<>();
        /** Event id -> its host as the router normalised it. */
        final Map<Integer, String> hosts = new HashMap<>();
        int nextEvent;

        Pipeline(List<StreamConfig> streams, int keysPerStream, OperatorSubtaskState restore,
                MockEnvironmentBuilder environment) throws Exception {
            router = new OneInputStreamOperatorTestHarness<>(
                    new ProcessOperator<>(new ParseAndRoute(streams, 4096, keysPerStream)));
            router.setup(RoutedRecord.Serializer.INSTANCE);
            router.open();
            KeyedProcessOperator<Tuple2<Long, String>, RoutedRecord, Block> operator =
                    new KeyedProcessOperator<>(BlockBatcher.forStreams(streams, keysPerStream));
            batcher = environment == null
                    ? new KeyedOneInputStreamOperatorTestHarness<>(operator, selector, BlockBatcher.KEY_TYPE)
                    : new KeyedOneInputStreamOperatorTestHarness<>(operator, selector, BlockBatcher.KEY_TYPE,
                            environment.build());
            batcher.setup(BlockSerializer.INSTANCE);
            if (restore != null) {
                batcher.initializeState(restore);
            }
            batcher.open();
        }

        Pipeline(List<StreamConfig> streams, int keysPerStream) throws Exception {
            this(streams, keysPerStream, null, null);
        }

        /** Sends one event of client c1 for this host; returns its id (in the record as "/e<id>"). */
        int send(String host) throws Exception {
            return send(host, "");
        }

        int send(String host, String padding) throws Exception {
            int id = nextEvent++;
            String json = "{\"client\":\"c1\",\"host\":\"" + host + "\",\"request_uri\":\"/e" + id + padding + "\"}";
            router.processElement(new RawEvent(DataSource.HTTP, "raw-http", 0, id, json.getBytes(StandardCharsets.UTF_8)), 0);
            for (RoutedRecord routed : router.extractOutputValues()) {
                hosts.put(id, routed.domain());
                keys.add(selector.getKey(routed));
                batcher.processElement(routed, 0);
            }
            router.getOutput().clear();
            return id;
        }

        List<Block> blocks() {
            List<Block> out = batcher.extractOutputValues();
            batcher.getOutput().clear();
            return out;
        }

        @Override
        public void close() throws Exception {
            try {
                router.close();
            } finally {
                batcher.close();
            }
        }
    }

    private static List<String> lines(Block block) {
        return Arrays.asList(new String(block.records(), StandardCharsets.US_ASCII).split("\n", -1));
    }

    private static List<Integer> eventIds(Block block) {
        List<Integer> ids = new ArrayList<>();
        for (String line : lines(block)) {
            Matcher m = EVENT_ID.matcher(line);
            assertThat(m.find()).as(line).isTrue();
            ids.add(Integer.parseInt(m.group(1)));
        }
        return ids;
    }

    private static boolean shared(Block block) {
        return block.domain().startsWith("*");
    }

    private static int bucketOf(String host, long stream, int keysPerStream) {
        return BatchingKeys.bucket(BatchingKeys.hostHash(host), stream, keysPerStream);
    }

    /** A host that lands in this bucket of this stream. */
    private static String hostInBucket(String prefix, int bucket, long stream, int keysPerStream) {
        for (int i = 0; ; i++) {
            String host = prefix + i + ".x.com";
            if (bucketOf(host, stream, keysPerStream) == bucket) {
                return host;
            }
        }
    }

    /** Events first..end-1 each exactly once, each block within max_records and max_size, ids unique. */
    private static void assertWellFormed(List<Block> blocks, int first, int end, int maxRecords, long maxSize) {
        List<Integer> seen = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (Block block : blocks) {
            assertThat(block.recordCount()).as(block.blockId()).isEqualTo(lines(block).size()).isBetween(1, maxRecords);
            assertThat(block.records().length + 1L).as("payload of %s", block.blockId()).isLessThanOrEqualTo(maxSize);
            assertThat(ids.add(block.blockId())).as("id %s cut twice", block.blockId()).isTrue();
            seen.addAll(eventIds(block));
        }
        assertThat(seen).as("event ids in blocks").hasSize(end - first).doesNotHaveDuplicates()
                .allMatch(id -> id >= first && id < end);
    }

    @Test
    void tenThousandHostsOfAnAllDomainsStreamStayWithinKKeysAndKTimesFiveOpenBlocks() throws Exception {
        int k = 64;
        int maxRecords = 5;
        long maxSize = 400;
        List<StreamConfig> streams = List.of(stream(ALL, List.of(), maxRecords, Duration.ofHours(1), maxSize));
        Random random = new Random(7);
        List<String> hosts = new ArrayList<>();
        Set<String> distinct = new HashSet<>();
        while (distinct.size() < 10_000) {
            String host = "h" + Long.toString(random.nextLong() & Long.MAX_VALUE, 36) + ".example.net";
            if (distinct.add(host)) {
                hosts.add(host);
            }
        }
        int bound = k * (OWN + 1);
        List<Block> blocks = new ArrayList<>();
        try (Pipeline p = new Pipeline(streams, k)) {
            int events = 30_000;
            for (int i = 0; i < events; i++) {
                // Every host once, then a skewed mix: a few hot hosts and the long tail.
                String host = i < hosts.size() ? hosts.get(i)
                        : hosts.get(random.nextInt(4) == 0 ? random.nextInt(20) : random.nextInt(hosts.size()));
                p.batcher.setProcessingTime(i); // distinct deadlines: one timer per open block
                p.send(host, "?p=" + "x".repeat(random.nextInt(150)));
                if (i % 500 == 0) {
                    assertThat(p.batcher.numProcessingTimeTimers()).as("deadline timers").isLessThanOrEqualTo(bound);
                    assertThat(p.batcher.numEventTimeTimers()).as("end-of-input timers").isLessThanOrEqualTo(k);
                }
            }
            blocks.addAll(p.blocks());
            p.batcher.processWatermark(Long.MAX_VALUE);
            List<Block> open = p.blocks();
            assertThat(open).as("blocks open at the end").hasSizeLessThanOrEqualTo(bound).hasSizeGreaterThan(k);
            blocks.addAll(open);
            assertThat(p.keys).as("batching keys").hasSizeLessThanOrEqualTo(k).allMatch(key -> key.f1.startsWith("#"));
            assertWellFormed(blocks, 0, events, maxRecords, maxSize);
            for (Block block : blocks) {
                if (shared(block)) {
                    int bucket = Integer.parseInt(block.domain().substring(1));
                    assertThat(bucket).isBetween(0, k - 1);
                    assertThat(eventIds(block)).as("records of %s", block.blockId())
                            .allMatch(id -> bucketOf(p.hosts.get(id), ALL, k) == bucket);
                } else {
                    assertThat(eventIds(block)).as("records of %s", block.blockId())
                            .allMatch(id -> p.hosts.get(id).equals(block.domain()));
                    for (String line : lines(block)) {
                        Matcher m = HOST.matcher(line);
                        assertThat(m.find() && m.group(1).equals(block.domain())).as(line).isTrue();
                    }
                }
            }
            assertThat(blocks).filteredOn(SharedKeyBatchingTest::shared).hasSizeGreaterThan(k);
            assertThat(blocks).filteredOn(b -> !shared(b)).hasSizeGreaterThan(k * OWN);
        }
    }

    @Test
    void hostsAStreamListsExactlyKeepTheirOwnKeyBlocksAndSequences() throws Exception {
        List<StreamConfig> streams = List.of(stream(WILD, List.of("www.shop.com", "*.shop.com"), 3,
                Duration.ofHours(1), 1_000_000));
        try (Pipeline p = new Pipeline(streams, 1)) {
            List<Integer> www = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                for (String host : List.of("a", "b", "c", "d", "e")) {
                    p.send(host + ".shop.com");
                    www.add(p.send("www.shop.com"));
                }
            }
            p.batcher.processWatermark(Long.MAX_VALUE);
            List<Block> blocks = p.blocks();

            assertThat(p.keys).containsExactlyInAnyOrder(Tuple2.of(WILD, "www.shop.com"), Tuple2.of(WILD, "#0"));
            List<Block> listed = blocks.stream().filter(b -> b.domain().equals("www.shop.com")).toList();
            assertThat(listed).extracting(Block::sequence).containsExactly(0L, 1L, 2L, 3L);
            assertThat(listed).flatExtracting(SharedKeyBatchingTest::eventIds).containsExactlyElementsOf(www);
            // The other hosts share key #0: a, b, c, d got blocks of their own, e went to the shared block.
            assertThat(blocks).extracting(Block::domain).containsOnly("www.shop.com", "a.shop.com", "b.shop.com",
                    "c.shop.com", "d.shop.com", "*0");
            assertThat(blocks).filteredOn(b -> !b.domain().equals("www.shop.com")).extracting(Block::sequence)
                    .allMatch(s -> s >= SharedKeyBatcher.firstSequence(1));
            assertThat(blocks).filteredOn(SharedKeyBatchingTest::shared).flatExtracting(SharedKeyBatchingTest::eventIds)
                    .allMatch(id -> p.hosts.get(id).equals("e.shop.com"));
            assertWellFormed(blocks, 0, p.nextEvent, 3, 1_000_000);
        }
    }

    @Test
    void aWildcardStreamStillReceivesNothingOfHostsItDoesNotMatch() throws Exception {
        List<StreamConfig> streams = List.of(stream(WILD, List.of("*.shop.com"), 100, Duration.ofHours(1), 1_000_000));
        try (Pipeline p = new Pipeline(streams, 1)) {
            Set<Integer> matching = new HashSet<>();
            for (int i = 0; i < 20; i++) {
                for (String host : List.of("shop.com", "other.net", "evilshop.com", "a.shop.com.evil.net", "bad_host", "*0")) {
                    p.send(host);
                }
                matching.add(p.send("m" + i + ".shop.com"));
            }
            p.batcher.processWatermark(Long.MAX_VALUE);
            List<Block> blocks = p.blocks();
            assertThat(blocks).flatExtracting(SharedKeyBatchingTest::eventIds).containsExactlyInAnyOrderElementsOf(matching);
            assertThat(p.keys).containsExactly(Tuple2.of(WILD, "#0"));
        }
    }

    @Test
    void hostsThatAreNotHostNamesAlwaysGoToTheSharedBlock() throws Exception {
        List<StreamConfig> streams = List.of(stream(ALL, List.of(), 100, Duration.ofHours(1), 1_000_000));
        List<String> invalid = List.of("bad_host.com", "a b.com", "x*y.com", "*0", "ünïcode.com", "%41.com", "a/b",
                "h" + "x".repeat(253));
        try (Pipeline p = new Pipeline(streams, 1)) {
            // Every own-block slot is free, and still none of them gets one.
            for (String host : invalid) {
                p.send(host);
            }
            int valid = p.send("ok.com");
            int ipv6 = p.send("[2001:db8::1]:8443");
            p.batcher.processWatermark(Long.MAX_VALUE);
            List<Block> blocks = p.blocks();
            assertThat(blocks).extracting(Block::domain).containsExactlyInAnyOrder("*0", "ok.com", "[2001:db8::1]");
            Block sharedBlock = blocks.stream().filter(SharedKeyBatchingTest::shared).findFirst().orElseThrow();
            assertThat(eventIds(sharedBlock)).hasSize(invalid.size());
            assertThat(blocks).filteredOn(b -> b.domain().equals("ok.com")).flatExtracting(SharedKeyBatchingTest::eventIds)
                    .containsExactly(valid);
            assertThat(blocks).filteredOn(b -> b.domain().startsWith("[")).flatExtracting(SharedKeyBatchingTest::eventIds)
                    .containsExactly(ipv6);
        }
    }

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
        assertThat(original).filteredOn(SharedKeyBatchingTest::shared).isNotEmpty();
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
            assertThat(old).flatExtracting(SharedKeyBatchingTest::lines).containsExactlyInAnyOrder(
                    oldRecords.stream().map(r -> "{\"old\":\"" + r + "\"}").toArray(String[]::new));

            // The old key #bucket's flush took its end-of-input timer; the shared key's blocks still flush.
            p.batcher.processWatermark(Long.MAX_VALUE);
            List<Block> fresh = p.blocks();
            assertThat(fresh).flatExtracting(SharedKeyBatchingTest::eventIds).containsExactlyInAnyOrder(a, c, d);
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
            assertThat(p.blocks()).extracting(Block::sequence).containsExactly(SharedKeyBatcher.firstSequence(k));
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
            assertThat(blocks).extracting(Block::sequence).allMatch(s -> s >= SharedKeyBatcher.firstSequence(k)
                    && s < SharedKeyBatcher.firstSequence(k) + blocks.size());
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
            assertThat(out).flatExtracting(SharedKeyBatchingTest::eventIds).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6);
            assertThat(out).filteredOn(SharedKeyBatchingTest::shared).flatExtracting(SharedKeyBatchingTest::eventIds)
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

    @Test
    void metricsCountAdmittedHostsFoldedRecordsAndFoldedHosts() throws Exception {
        Map<String, Counter> counters = new HashMap<>();
        TestingMetricRegistry registry = TestingMetricRegistry.builder()
                .setRegisterConsumer((metric, name, group) -> {
                    String stream = group.getAllVariables().get("<stream>");
                    if (stream != null && metric instanceof Counter c) {
                        counters.put(stream + "/" + name, c);
                    }
                })
                .build();
        TaskManagerMetricGroup taskManager =
                TaskManagerMetricGroup.createTaskManagerMetricGroup(registry, "localhost", ResourceID.generate());
        MockEnvironmentBuilder environment = new MockEnvironmentBuilder().setMetricGroup(
                taskManager.addJob(new JobID(), "job").addTask(ExecutionAttemptID.randomId(), "batcher"));
        List<StreamConfig> streams = List.of(stream(ALL, List.of("*.com"), 3, Duration.ofHours(1), 1_000_000),
                stream(WILD, List.of("www.shop.net", "*.shop.net"), 1000, Duration.ofHours(1), 1_000_000));
        try (Pipeline p = new Pipeline(streams, 1, null, environment)) {
            for (String host : List.of("h1.com", "h2.com", "h3.com", "h4.com")) {
                p.send(host); // four own blocks
            }
            for (String host : List.of("h5.com", "h5.com", "h6.com", "bad_host.com", "h5.com")) {
                p.send(host); // shared block [h5, h5, h6] cut at 3, then [bad_host.com, h5]
            }
            p.send("h1.com");
            p.send("h1.com"); // h1's block cut at 3 ...
            p.send("h1.com"); // ... and h1 gets a new one
            // Stream 2: its listed host is never counted; 70 distinct hosts in one shared block.
            p.send("www.shop.net");
            for (int i = 0; i < OWN; i++) {
                p.send("own" + i + ".shop.net");
            }
            for (int i = 0; i < 70; i++) {
                p.send("f" + i + ".shop.net");
                p.send("f" + i + ".shop.net");
            }

            assertThat(counters.get("1/hostsAdmitted").getCount()).isEqualTo(5);
            assertThat(counters.get("1/recordsFolded").getCount()).isEqualTo(5);
            assertThat(counters.get("1/hostsFolded").getCount()).isEqualTo(4); // h5, h6 | bad_host.com, h5
            assertThat(counters.get("1/blocksCut").getCount()).isEqualTo(2);
            assertThat(counters.get("2/hostsAdmitted").getCount()).isEqualTo(OWN);
            assertThat(counters.get("2/recordsFolded").getCount()).isEqualTo(140);
            assertThat(counters.get("2/hostsFolded").getCount()).as("a lower bound past 64")
                    .isEqualTo(SharedKeyBatcher.MAX_TRACKED_FOLDED_HOSTS);
        }
    }
}
