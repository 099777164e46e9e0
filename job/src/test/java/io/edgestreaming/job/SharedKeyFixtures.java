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
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;

/** Raw events through the real ParseAndRoute and BlockBatcher harnesses, and what to check of the blocks. */
final class SharedKeyFixtures {
    private SharedKeyFixtures() {}

    static final long ALL = 1;
    static final long WILD = 2;
    static final int OWN = SharedKeyBatcher.OWN_BLOCKS;
    private static final Pattern EVENT_ID = Pattern.compile("\"u\":\"/e(\\d+)");
    static final Pattern HOST = Pattern.compile("\"h\":\"([^\"]*)\"");

    static StreamConfig stream(long id, List<String> domains, int maxRecords, Duration interval, long maxSize)
            throws Exception {
        return new StreamConfig(id, "s" + id, "c1", DataSource.HTTP,
                Templates.custom(DataSource.HTTP, "{\"h\":\"$host\",\"u\":\"$request_uri\"}"), domains,
                domains.isEmpty(), 100, true, TestStreams.kafka(), new BatchingConfig(maxRecords, interval, maxSize));
    }

    /**
     * Where the blocks of a key start numbering at parallelism 1, where every key is in local lane 1
     * ({@link KeyPlacement}): sequences in these tests are counted from here.
     */
    static final long LANE_BASE = BatchingKeys.laneSequenceBase(BatchingKeys.laned("x", BatchingKeys.LOCAL_LANE + 1));

    /**
     * Router and batcher harnesses at parallelism 1, the router's output fed to the batcher as the job's chained
     * batcher gets it. {@link #keys} holds the batching keys without their lane.
     */
    static final class Pipeline implements AutoCloseable {
        final OneInputStreamOperatorTestHarness<RawEvent, RoutedRecord> router;
        final KeyedOneInputStreamOperatorTestHarness<Tuple2<Long, String>, RoutedRecord, Block> batcher;
        final BlockBatcher.StreamDomainKey selector = new BlockBatcher.StreamDomainKey();
        final Set<Tuple2<Long, String>> keys = new HashSet<>();
        /** Event id -> its host as the router normalised it. */
        final Map<Integer, String> hosts = new HashMap<>();
        int nextEvent;

        Pipeline(List<StreamConfig> streams, int keysPerStream, OperatorSubtaskState restore,
                MockEnvironmentBuilder environment) throws Exception {
            ProcessOperator<RawEvent, RoutedRecord> routing = new ProcessOperator<>(new ParseAndRoute(streams, 4096, keysPerStream));
            router = environment == null ? new OneInputStreamOperatorTestHarness<>(routing)
                    : new OneInputStreamOperatorTestHarness<>(routing, environment.build());
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
                Tuple2<Long, String> key = selector.getKey(routed);
                keys.add(Tuple2.of(key.f0, BatchingKeys.base(key.f1)));
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

    static List<String> lines(Block block) {
        return Arrays.asList(new String(block.records(), StandardCharsets.US_ASCII).split("\n", -1));
    }

    static List<Integer> eventIds(Block block) {
        List<Integer> ids = new ArrayList<>();
        for (String line : lines(block)) {
            Matcher m = EVENT_ID.matcher(line);
            assertThat(m.find()).as(line).isTrue();
            ids.add(Integer.parseInt(m.group(1)));
        }
        return ids;
    }

    static boolean shared(Block block) {
        return block.domain().startsWith("*");
    }

    static int bucketOf(String host, long stream, int keysPerStream) {
        return BatchingKeys.bucket(BatchingKeys.hostHash(host), stream, keysPerStream);
    }

    /** A host that lands in this bucket of this stream. */
    static String hostInBucket(String prefix, int bucket, long stream, int keysPerStream) {
        for (int i = 0; ; i++) {
            String host = prefix + i + ".x.com";
            if (bucketOf(host, stream, keysPerStream) == bucket) {
                return host;
            }
        }
    }

    /** Events first..end-1 each exactly once, each block within max_records and max_size, ids unique. */
    static void assertWellFormed(List<Block> blocks, int first, int end, int maxRecords, long maxSize) {
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
}
