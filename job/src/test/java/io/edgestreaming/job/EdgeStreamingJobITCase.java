package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.BatchingConfig;
import io.edgestreaming.config.DeadLetterConfig;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.SourceConfig;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.templates.Templates;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.HttpReceiver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job on a MiniCluster: raw events of several clients, domains and both data sources (and
 * malformed ones) in a real KRaft broker, a bounded run, blocks delivered over HTTP to a real receiver.
 * The expected records are computed here from the generated events, independently of the job's code.
 */
class EdgeStreamingJobITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final String HTTP_TOPIC = "raw-http";
    private static final String WAF_TOPIC = "raw-waf";
    private static final String DEAD_LETTER_TOPIC = "dead-letter-events";
    private static final int MAX_EVENT_BYTES = 4096;

    private static EmbeddedKafka kafka;
    private static HttpReceiver receiver;

    @BeforeAll
    static void startServers() {
        kafka = EmbeddedKafka.start();
        // Takes the 2 MiB event below; the dead-letter topic keeps the broker's default limit (~1 MiB).
        kafka.createTopic(HTTP_TOPIC, 2, Map.of("max.message.bytes", Integer.toString(4 << 20)));
        kafka.createTopic(WAF_TOPIC, 1);
        kafka.createTopic(DEAD_LETTER_TOPIC, 1);
        receiver = HttpReceiver.start();
    }

    @AfterAll
    static void stopServers() {
        if (receiver != null) {
            receiver.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    /** One generated event: its fields, and the JSON written to Kafka. */
    private record Event(DataSource source, Map<String, String> fields) {
        byte[] json() {
            return fields.entrySet().stream()
                    .map(e -> "\"" + e.getKey() + "\":\"" + e.getValue() + "\"")
                    .collect(Collectors.joining(",", "{", "}"))
                    .getBytes(StandardCharsets.US_ASCII);
        }

        String get(String field) {
            return fields.getOrDefault(field, "-");
        }

        String domain() {
            String host = get("host").toLowerCase(Locale.ROOT);
            int colon = host.indexOf(':');
            return colon < 0 ? host : host.substring(0, colon);
        }
    }

    /** What a stream is expected to select and how its records look, written here from the stream rules. */
    private record Expectation(StreamConfig stream, java.util.function.Predicate<Event> selects,
            java.util.function.Function<Event, String> record) {}

    private static StreamConfig stream(long id, String client, DataSource source, List<String> domains,
            boolean allDomains, double sampling, boolean active, String model, String format, BatchingConfig batching)
            throws Exception {
        HttpEndpoint endpoint = new HttpEndpoint(receiver.url("/s" + id), Map.of(), "\n", format,
                batching.maxSize(), HttpEndpoint.Compression.NONE, null);
        return new StreamConfig(id, "stream " + id, client, source,
                model.startsWith("{") ? Templates.custom(source, model) : Templates.byId(Integer.parseInt(model)),
                domains, allDomains, sampling, active, endpoint, batching);
    }

    /**
     * A hot domain (most of the events) is batched on every subtask that reads it, and a quiet one on its
     * destination's home subtask only; every record arrives once and blocks keep max_records.
     */
    @Test
    void aHotDomainIsBatchedWhereItIsReadAndAQuietOneAtItsDestinationsHome(@TempDir Path deadBlocks) throws Exception {
        String topic = "raw-hot";
        kafka.createTopic(topic, 2);
        BatchingConfig batching = new BatchingConfig(100, Duration.ofSeconds(60), 1_000_000);
        StreamConfig stream = stream(91, "c9", DataSource.HTTP, List.of("hot.example.com", "quiet.example.com"), false,
                100, true, "{\"id\":\"$request_id\",\"h\":\"$host\"}", "$dataset", batching);
        int hot = 40_000;
        int quiet = 30;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(kafka.plainClientProps(), new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < hot + quiet; i++) {
                String host = i < hot ? "hot.example.com" : "quiet.example.com";
                byte[] json = ("{\"client\":\"c9\",\"host\":\"" + host + "\",\"request_id\":\"hot-" + i + "\"}")
                        .getBytes(StandardCharsets.US_ASCII);
                producer.send(new ProducerRecord<>(topic, i % 2, null, json)); // both readers get half
            }
            producer.flush();
        }
        JobConfig config = new JobConfig(
                new SourceConfig(kafka.bootstrapServers(), Map.of(DataSource.HTTP, topic), "edge-itcase-hot",
                        SourceConfig.StartingPosition.EARLIEST, MAX_EVENT_BYTES, Map.of()),
                new DeadLetterConfig(DEAD_LETTER_TOPIC, deadBlocks.toUri().toString()),
                new DeliveryConfig(Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofSeconds(1),
                        Duration.ofMinutes(2), 10_000, 100_000_000),
                Duration.ofMillis(300), List.of(stream), TestStreams.LOOPBACK);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        EdgeStreamingPipeline.build(env, config, EdgeStreamingPipeline.Options.BOUNDED);
        env.execute("edge-streaming hot domain ITCase");

        Map<String, java.util.Set<Integer>> subtasksByDomain = new HashMap<>();
        Map<String, java.util.Set<Boolean>> localByDomain = new HashMap<>();
        List<String> ids = new ArrayList<>();
        for (HttpReceiver.Request request : receiver.deliveredBlocks()) {
            if (!request.path().equals("/s91")) {
                continue;
            }
            String[] blockId = request.idempotencyKey().split(":")[0].split("/");
            int lane = laneOf(Long.parseLong(blockId[2]));
            int subtask = org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignKeyToParallelOperator(
                    BatchingKeys.key(91, blockId[1], BatchingKeys.OWN_KEY, lane), 128, 2);
            subtasksByDomain.computeIfAbsent(blockId[1], k -> new java.util.TreeSet<>()).add(subtask);
            localByDomain.computeIfAbsent(blockId[1], k -> new java.util.TreeSet<>()).add(BatchingKeys.isLocal(lane));
            List<String> records = List.of(request.bodyAsString().split("\n"));
            assertThat(records.size()).as("records in %s", request).isLessThanOrEqualTo(100);
            records.forEach(r -> ids.add(r.replaceAll(".*\"id\":\"([^\"]*)\".*", "$1")));
        }
        assertThat(ids).as("every record once").hasSize(hot + quiet).doesNotHaveDuplicates();
        assertThat(subtasksByDomain.get("hot.example.com")).as("subtasks batching the hot domain").containsExactly(0, 1);
        assertThat(subtasksByDomain.get("quiet.example.com")).as("subtasks batching the quiet domain")
                .containsExactly(KeyPlacement.homeOf(stream.endpoint().destinationId(), 2));
        // The hot domain's blocks come from the batchers chained to the routers (local lanes), the quiet one's from
        // the batcher its records crossed the network to.
        assertThat(localByDomain.get("hot.example.com")).as("hot domain batched locally").contains(true);
        assertThat(localByDomain.get("quiet.example.com")).as("quiet domain batched at home").containsExactly(false);
    }

    @Test
    void routesProjectsBatchesAndDeliversExactlyTheExpectedRecords(@TempDir Path deadBlocks) throws Exception {
        BatchingConfig small = new BatchingConfig(7, Duration.ofSeconds(60), 1_000_000);
        BatchingConfig sized = new BatchingConfig(2000, Duration.ofSeconds(60), 600);
        BatchingConfig large = new BatchingConfig(2000, Duration.ofSeconds(60), 1_000_000);
        String shop = "{\"h\":\"$host\",\"s\":\"$status\",\"id\":\"$request_id\"}";
        List<Expectation> expectations = List.of(
                new Expectation(stream(11, "c1", DataSource.HTTP, List.of("www.shop.com", "*.img.shop.com"), false, 100,
                        true, shop, "$dataset", small),
                        e -> e.source() == DataSource.HTTP && e.get("client").equals("c1")
                                && (e.domain().equals("www.shop.com") || e.domain().endsWith(".img.shop.com")),
                        e -> "{\"h\":\"" + e.get("host") + "\",\"s\":\"" + e.get("status") + "\",\"id\":\""
                                + e.get("request_id") + "\"}"),
                new Expectation(stream(12, "c1", DataSource.HTTP, List.of(), true, 50, true,
                        "{\"id\":\"$request_id\",\"h\":\"$host\"}", "$dataset", large),
                        e -> e.source() == DataSource.HTTP && e.get("client").equals("c1"),
                        e -> "{\"id\":\"" + e.get("request_id") + "\",\"h\":\"" + e.get("host") + "\"}"),
                new Expectation(stream(13, "c2", DataSource.WAF, List.of("api.c2.net"), false, 100, true,
                        "{\"h\":\"$host\",\"f\":\"$waf_attack_family\",\"a\":\"$waf_args\"}", "[$dataset]", sized),
                        e -> e.source() == DataSource.WAF && e.get("client").equals("c2")
                                && e.domain().equals("api.c2.net") && e.get("waf_args").length() < 500,
                        e -> "{\"h\":\"" + e.get("host") + "\",\"f\":\"" + e.get("waf_attack_family") + "\",\"a\":\""
                                + e.get("waf_args") + "\"}"),
                new Expectation(stream(14, "c1", DataSource.HTTP, List.of(), true, 100, false,
                        "{\"h\":\"$host\"}", "$dataset", large),
                        e -> false, e -> ""),
                new Expectation(stream(15, "c2", DataSource.HTTP, List.of("API.C2.NET"), false, 100, true,
                        "{\"h\":\"$host\",\"m\":\"$request_method\",\"missing\":\"$upstream_addr\"}", "$dataset", large),
                        e -> e.source() == DataSource.HTTP && e.get("client").equals("c2")
                                && e.domain().equals("api.c2.net"),
                        e -> "{\"h\":\"" + e.get("host") + "\",\"m\":\"" + e.get("request_method") + "\",\"missing\":\"-\"}"));

        // Events: three clients (c3 has no stream), several hosts, both data sources.
        List<Event> events = new ArrayList<>();
        String[] c1Hosts = {"www.shop.com", "WWW.Shop.COM", "a.img.shop.com", "img.shop.com", "B.IMG.shop.com:8443",
                "other.c1.io"};
        String[] c2Hosts = {"api.c2.net", "Api.C2.net:443", "www.c2.net"};
        String[] statuses = {"200", "200", "304", "404", "500", "301"};
        for (int i = 0; i < 300; i++) {
            String client = i % 5 == 4 ? "c3" : i % 5 == 3 ? "c2" : "c1";
            String host = client.equals("c1") ? c1Hosts[(i / 5) % c1Hosts.length]
                    : client.equals("c2") ? c2Hosts[(i / 5) % c2Hosts.length] : "c3.org";
            Map<String, String> f = new LinkedHashMap<>();
            f.put("client", client);
            f.put("host", host);
            f.put("status", statuses[i % statuses.length]);
            f.put("request_id", "req-" + i);
            f.put("request_method", i % 7 == 0 ? "POST" : "GET");
            f.put("request_uri", "/p/" + i);
            events.add(new Event(DataSource.HTTP, f));
        }
        String[] families = {"SQL", "XSS", "RFI", "$LEARNING_BLOCK"};
        for (int i = 0; i < 80; i++) {
            Map<String, String> f = new LinkedHashMap<>();
            f.put("client", i % 4 == 0 ? "c1" : "c2");
            f.put("host", i % 8 == 1 ? "www.c2.net" : i % 4 == 0 ? "www.shop.com" : "api.c2.net");
            f.put("waf_attack_family", families[i % families.length]);
            // One WAF record can never fit stream 13's max_size: dead-lettered as RECORD_TOO_LARGE.
            f.put("waf_args", i == 10 ? "q" + "x".repeat(700) : "id=" + i);
            events.add(new Event(DataSource.WAF, f));
        }
        Map<String, String> malformedHttp = new LinkedHashMap<>();
        malformedHttp.put("hello world", "NOT_JSON");
        malformedHttp.put("[1,2]", "NOT_AN_OBJECT");
        malformedHttp.put("{\"client\":\"c1\",\"host\":\"www.sh", "TRUNCATED");
        malformedHttp.put("{\"host\":\"www.shop.com\",\"status\":\"200\"}", DeadLetterEvent.MISSING_CLIENT);
        malformedHttp.put("{\"client\":\"c1\",\"status\":\"200\"}", DeadLetterEvent.MISSING_HOST);
        malformedHttp.put("{\"client\":\"c1\",\"host\":\"www.shop.com\",\"request_uri\":\"/" + "z".repeat(MAX_EVENT_BYTES)
                + "\"}", "TOO_LARGE");

        List<byte[]> httpValues = new ArrayList<>();
        List<byte[]> wafValues = new ArrayList<>();
        for (Event e : events) {
            (e.source() == DataSource.HTTP ? httpValues : wafValues).add(e.json());
        }
        malformedHttp.keySet().forEach(m -> httpValues.add(m.getBytes(StandardCharsets.US_ASCII)));
        wafValues.add("not json either".getBytes(StandardCharsets.US_ASCII));
        kafka.send(HTTP_TOPIC, httpValues);
        kafka.send(WAF_TOPIC, wafValues);
        // An event far over max_event_bytes and over Kafka's default record size: dead-lettered cut.
        byte[] huge = ("{\"client\":\"c1\",\"host\":\"www.shop.com\",\"request_uri\":\"/" + "h".repeat(2 << 20) + "\"}")
                .getBytes(StandardCharsets.US_ASCII);
        Map<String, Object> bigProducer = new HashMap<>(kafka.plainClientProps());
        bigProducer.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 << 20);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(bigProducer, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(HTTP_TOPIC, huge)).get(30, TimeUnit.SECONDS);
        }

        JobConfig config = new JobConfig(
                new SourceConfig(kafka.bootstrapServers(), Map.of(DataSource.HTTP, HTTP_TOPIC, DataSource.WAF, WAF_TOPIC),
                        "edge-itcase", SourceConfig.StartingPosition.EARLIEST, MAX_EVENT_BYTES, Map.of()),
                new DeadLetterConfig(DEAD_LETTER_TOPIC, deadBlocks.toUri().toString()),
                new DeliveryConfig(Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofSeconds(1),
                        Duration.ofMinutes(2), 1000, 100_000_000),
                Duration.ofMillis(300),
                expectations.stream().map(Expectation::stream).toList(),
                TestStreams.LOOPBACK);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        EdgeStreamingPipeline.build(env, config, EdgeStreamingPipeline.Options.BOUNDED);
        env.execute("edge-streaming ITCase");

        // Delivered blocks, by stream (the receiver path) and in sequence order per domain.
        Map<Long, List<String>> delivered = new TreeMap<>();
        Map<String, List<Long>> sequences = new HashMap<>();
        for (HttpReceiver.Request request : receiver.deliveredBlocks()) {
            long streamId = Long.parseLong(request.path().substring(2));
            if (expectations.stream().noneMatch(e -> e.stream().id() == streamId)) {
                continue; // another test's stream (the receiver is shared)
            }
            StreamConfig stream = expectations.stream().map(Expectation::stream).filter(s -> s.id() == streamId)
                    .findFirst().orElseThrow();
            String body = request.bodyAsString();
            assertThat((long) request.body().length).as("payload of %s", request).isLessThanOrEqualTo(stream.batching().maxSize());
            if (((HttpEndpoint) stream.endpoint()).payloadFormat().equals("[$dataset]")) {
                assertThat(body).startsWith("[").endsWith("]");
                body = body.substring(1, body.length() - 1);
            }
            List<String> records = List.of(body.split("\n", -1));
            assertThat(records.size()).as("records in %s", request).isBetween(1, stream.batching().maxRecords());
            // Block id "<stream>/<domain>/<sequence>" leads the idempotency key.
            String[] blockId = request.idempotencyKey().split(":")[0].split("/");
            assertThat(Long.parseLong(blockId[0])).isEqualTo(streamId);
            // A host the stream lists has a key of its own; the others share one of the stream's 64 keys,
            // in a block of their own or in the key's shared block "*<bucket>".
            boolean listed = stream.domains().stream().anyMatch(d -> d.equalsIgnoreCase(blockId[1]));
            String key = listed ? blockId[1] : blockId[1].startsWith("*") ? "#" + blockId[1].substring(1)
                    : "#" + BatchingKeys.bucket(BatchingKeys.hostHash(blockId[1]), streamId, 64);
            for (String record : records) {
                String host = record.replaceAll(".*\"h\":\"([^\"]*)\".*", "$1").toLowerCase(Locale.ROOT)
                        .replaceAll(":.*", "");
                if (blockId[1].startsWith("*")) {
                    assertThat("#" + BatchingKeys.bucket(BatchingKeys.hostHash(host), streamId, 64)).as("key of %s", record)
                            .isEqualTo(key);
                } else {
                    assertThat(host).as("domain of %s", record).isEqualTo(blockId[1]);
                }
            }
            // At parallelism 2 every key has a lane (KeyPlacement), which numbers its blocks in its own range.
            long sequence = Long.parseLong(blockId[2]);
            int lane = laneOf(sequence);
            assertThat(BatchingKeys.lane(BatchingKeys.laned(key, lane))).as("lane of %s", request).isEqualTo(lane).isPositive();
            sequences.computeIfAbsent(blockId[0] + "/" + key + "~" + lane, k -> new ArrayList<>()).add(sequence);
            delivered.computeIfAbsent(streamId, k -> new ArrayList<>()).addAll(records);
        }
        // Per key and lane: own keys number their blocks from their lane's base (lane x 10^16, local lanes + 5 x
        // 10^15), shared keys from that base + 64 x 10^12.
        sequences.forEach((key, seqs) -> {
            long first = BatchingKeys.laneSequenceBase(key) + (key.contains("/#") ? SharedKeyBatcher.firstSequence(64) : 0);
            assertThat(seqs).as(key).containsExactlyInAnyOrderElementsOf(
                    java.util.stream.LongStream.range(first, first + seqs.size()).boxed().toList());
        });
        assertThat(sequences.keySet()).as("keys").anyMatch(k -> k.startsWith("12/#")).anyMatch(k -> k.startsWith("11/#"))
                .anyMatch(k -> k.startsWith("11/www.shop.com~"));

        for (Expectation expectation : expectations) {
            long id = expectation.stream().id();
            List<String> expected = events.stream().filter(expectation.selects()).map(expectation.record()).sorted().toList();
            List<String> actual = delivered.getOrDefault(id, List.of()).stream().sorted().toList();
            if (expectation.stream().samplingPercentage() < 100) {
                // Sampled: a subset of the matching records, about the configured share.
                assertThat(expected).containsAll(actual);
                assertThat(actual).doesNotHaveDuplicates();
                assertThat(actual.size()).isBetween(expected.size() / 4, expected.size() * 3 / 4);
            } else {
                assertThat(actual).as("records of stream %d", id).isEqualTo(expected);
            }
        }
        assertThat(delivered.get(11L)).hasSizeGreaterThan(60); // enough for several 7-record blocks
        assertThat(receiver.deliveredBlocks().stream().filter(r -> r.path().equals("/s13")).count()).isGreaterThan(2);
        assertThat(delivered).doesNotContainKey(14L);

        // Dead letters: original bytes, reason and origin as headers, committed exactly once.
        Map<String, String> expectedReasons = new HashMap<>(malformedHttp);
        expectedReasons.put("not json either", "NOT_JSON");
        Event tooLargeRecord = events.stream().filter(e -> e.get("waf_args").length() > 500).findFirst().orElseThrow();
        expectedReasons.put(new String(tooLargeRecord.json(), StandardCharsets.US_ASCII), DeadLetterEvent.RECORD_TOO_LARGE);
        List<ConsumerRecord<byte[], byte[]>> dead = new ArrayList<>(kafka.readCommitted(DEAD_LETTER_TOPIC,
                expectedReasons.size() + 1, Duration.ofSeconds(60)));
        // The huge event: its first bytes, marked as cut, pointing at the whole original.
        List<ConsumerRecord<byte[], byte[]>> cut = dead.stream()
                .filter(r -> r.headers().lastHeader(DeadLetterEvent.HEADER_VALUE_TRUNCATED) != null).toList();
        assertThat(cut).hasSize(1);
        ConsumerRecord<byte[], byte[]> cutRecord = cut.get(0);
        dead.remove(cutRecord);
        assertThat(header(cutRecord, DeadLetterEvent.HEADER_REASON)).isEqualTo("TOO_LARGE");
        assertThat(header(cutRecord, DeadLetterEvent.HEADER_VALUE_TRUNCATED)).isEqualTo("true");
        assertThat(header(cutRecord, DeadLetterEvent.HEADER_VALUE_BYTES)).isEqualTo(Integer.toString(huge.length));
        assertThat(cutRecord.value()).isEqualTo(Arrays.copyOf(huge, DeadLetterRecordSerializer.MAX_VALUE_BYTES));
        int cutPartition = Integer.parseInt(header(cutRecord, DeadLetterEvent.HEADER_SOURCE_PARTITION));
        long cutOffset = Long.parseLong(header(cutRecord, DeadLetterEvent.HEADER_SOURCE_OFFSET));
        assertThat(header(cutRecord, DeadLetterEvent.HEADER_SOURCE_TOPIC)).isEqualTo(HTTP_TOPIC);
        assertThat(kafka.readCommitted(HTTP_TOPIC, Duration.ofSeconds(10)).stream()
                .filter(r -> r.partition() == cutPartition && r.offset() == cutOffset)
                .map(ConsumerRecord::value)).containsExactly(huge);
        Map<String, String> actualReasons = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : dead) {
            assertThat(record.headers().lastHeader(DeadLetterEvent.HEADER_VALUE_BYTES)).isNull();
            String value = new String(record.value(), StandardCharsets.US_ASCII);
            assertThat(actualReasons.put(value, header(record, DeadLetterEvent.HEADER_REASON))).as("duplicate").isNull();
            String topic = header(record, DeadLetterEvent.HEADER_SOURCE_TOPIC);
            assertThat(topic).isEqualTo(value.equals("not json either") || expectedReasons.get(value).equals(
                    DeadLetterEvent.RECORD_TOO_LARGE) ? WAF_TOPIC : HTTP_TOPIC);
            assertThat(header(record, DeadLetterEvent.HEADER_DETAIL)).isNotBlank();
            // The headers point at the original record.
            int partition = Integer.parseInt(header(record, DeadLetterEvent.HEADER_SOURCE_PARTITION));
            long offset = Long.parseLong(header(record, DeadLetterEvent.HEADER_SOURCE_OFFSET));
            assertThat(kafka.readCommitted(topic, Duration.ofSeconds(10)).stream()
                    .filter(r -> r.partition() == partition && r.offset() == offset)
                    .map(r -> new String(r.value(), StandardCharsets.US_ASCII))).containsExactly(value);
        }
        assertThat(actualReasons).isEqualTo(expectedReasons);
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** The lane of the key that cut a block, from the block's sequence ({@link BatchingKeys#laneSequenceBase}). */
    private static int laneOf(long sequence) {
        int lane = (int) (sequence / BatchingKeys.LANE_SEQUENCE_RANGE);
        return sequence % BatchingKeys.LANE_SEQUENCE_RANGE >= BatchingKeys.LOCAL_SEQUENCE_OFFSET
                ? BatchingKeys.LOCAL_LANE + lane : lane;
    }
}
