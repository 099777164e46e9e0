package io.edgestreaming.job.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.DeadLetterDelivery;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.internal.DeadLetterStore;
import io.edgestreaming.connectors.http.HttpTransport;
import io.edgestreaming.connectors.kafka.KafkaMessages;
import io.edgestreaming.connectors.s3.S3Transport;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.HttpReceiver;
import io.edgestreaming.templates.DataSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * dead-letters list, show and replay on a store written by the job's own DeadLetterStore, with payloads and
 * keys prepared by the job's own transports, replayed to the testkit's real servers.
 */
class DeadLettersITCase {
    private static final String S3_SECRET = "s3-secret-7b3d9e1f6a";
    private static final String TOKEN = "tok-2a6c8e0f4b";
    private static final String DOMAIN = "www.shop.example";
    private static EmbeddedS3 s3;
    private static EmbeddedKafka kafka;

    @TempDir
    Path dir;
    private HttpReceiver receiver;
    private Path config;
    private JobConfig job;
    private String storeUri;
    /** Entry base path -> delivery key, of the blocks written into the store. */
    private final Map<String, String> keys = new LinkedHashMap<>();
    private final Map<String, List<String>> records = new LinkedHashMap<>();

    @BeforeAll
    static void startServers() {
        s3 = EmbeddedS3.start("edge-access", S3_SECRET);
        s3.createBucket("logs");
        s3.createBucket("dead");
        kafka = EmbeddedKafka.start();
        kafka.createTopic("out", 1);
    }

    @AfterAll
    static void stopServers() {
        if (s3 != null) {
            s3.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @BeforeEach
    void writeStore() throws Exception {
        receiver = HttpReceiver.start();
        storeUri = dir.resolve("dead-letter").toUri().toString();
        String yaml = Cli.head(storeUri)
                + Cli.stream(1, """
                        endpoint_type: standard
                        url: %s
                        headers:
                          Authorization: "Bearer ${env:TOKEN}"
                        compression: gzip
                        """.formatted(receiver.url("/ingest")))
                + Cli.stream(2, """
                        endpoint_type: s3
                        host_url: %s
                        bucket_name: logs
                        region: us-east-1
                        access_key: edge-access
                        secret_key: ${env:S3_SECRET}
                        object_key_prefix: arch
                        """.formatted(s3.endpoint()))
                + Cli.stream(3, "endpoint_type: kafka\nbootstrap_servers: " + kafka.bootstrapServers() + "\nkafka_topic: out\n")
                + Cli.stream(4, "endpoint_type: kafka\nbootstrap_servers: " + kafka.bootstrapServers() + "\nkafka_topic: missing\n");
        config = dir.resolve("streams.yaml");
        Files.writeString(config, yaml);
        job = ConfigLoader.load(config, env()::get);

        HttpTransport http = new HttpTransport(job.delivery(), job.addressPolicy());
        S3Transport s3Transport = new S3Transport(job.delivery(), job.addressPolicy());
        Endpoint httpEndpoint = stream(1).endpoint();
        deadLetter(http.prepare(block(1, 0, 3), httpEndpoint), block(1, 0, 3), httpEndpoint, "HTTP 503 until max_retry_duration (24h)", "2026-01-01T10:00:00Z");
        deadLetter(http.prepare(block(1, 1, 2), httpEndpoint), block(1, 1, 2), httpEndpoint, "HTTP 400: bad request", "2026-01-01T11:00:00Z");
        deadLetter(http.prepare(block(1, 2, 4), httpEndpoint), block(1, 2, 4), httpEndpoint, "HTTP 503 until max_retry_duration (24h)", "2026-01-01T12:00:00Z");
        deadLetter(s3Transport.prepare(block(2, 0, 2), stream(2).endpoint()), block(2, 0, 2), stream(2).endpoint(),
                "S3 NoSuchBucket (HTTP 404) putting to bucket logs", "2026-01-01T13:00:00Z");
        deadLetter(kafkaPrepared(block(3, 0, 2)), block(3, 0, 2), stream(3).endpoint(), "timed out (cluster unreachable)", "2026-01-01T14:00:00Z");
        deadLetter(kafkaPrepared(block(4, 0, 1)), block(4, 0, 1), stream(4).endpoint(), "timed out (cluster unreachable)", "2026-01-01T15:00:00Z");
        // A stream removed from the configuration since.
        deadLetter(http.prepare(block(9, 0, 1), httpEndpoint), block(9, 0, 1), httpEndpoint, "stream removed", "2026-01-01T16:00:00Z");
        http.close();
        s3Transport.close();
    }

    @AfterEach
    void stopReceiver() {
        receiver.close();
    }

    @Test
    void listsEveryBlockAndSelectsByStreamReasonAndTime() {
        Cli.Run all = cli("dead-letters", "list", "--config", config.toString());
        System.out.println(all);
        assertThat(all.code()).as("%s", all).isZero();
        assertThat(all.out()).contains("7 block(s) in " + storeUri)
                .contains("stream-1/" + DOMAIN + "/0-").contains("2026-01-01T10:00:00Z")
                .contains("POST " + receiver.url("/ingest")).contains("HTTP 400: bad request").contains("pending");
        assertThat(all.err()).contains("read 7/7 manifest(s)");

        assertThat(cli("dead-letters", "list", "--store", storeUri, "--stream", "1").out()).contains("3 block(s)");
        assertThat(cli("dead-letters", "list", "--store", storeUri, "--reason", "bad REQUEST").out()).contains("1 block(s)");
        Cli.Run window = cli("dead-letters", "list", "--store", storeUri, "--since", "2026-01-01T10:30:00Z", "--until", "2026-01-01T12:00");
        assertThat(window.out()).contains("1 block(s)").contains("HTTP 400");
        assertThat(cli("dead-letters", "list", "--store", storeUri, "--since", "1d").out()).contains("0 block(s)");
    }

    @Test
    void showsTheManifestAndTheFirstRecordsDecompressed() {
        String entry = entry(1, 2);
        Cli.Run run = cli("dead-letters", "show", entry, "--config", config.toString(), "--records", "2");
        System.out.println(run);
        assertThat(run.code()).as("%s", run).isZero();
        assertThat(run.out()).contains("entry: " + entry).contains("state: pending")
                .contains("\"delivery_key\" : \"" + keys.get(entry) + "\"").contains("\"content_encoding\" : \"gzip\"")
                .contains("gzip").contains("first 2 of 4 record(s)")
                .contains("  " + records.get(entry).get(0)).contains("  " + records.get(entry).get(1))
                .doesNotContain(records.get(entry).get(2));
        Cli.Run byBlockId = cli("dead-letters", "show", "1/" + DOMAIN + "/2", "--store", storeUri);
        assertThat(byBlockId.out()).contains("entry: " + entry);
        assertThat(cli("dead-letters", "show", "stream-1/nope/0-0", "--store", storeUri).code()).isEqualTo(1);
    }

    @Test
    void anInterruptedReplayRunAgainDeliversEachBlockOnceAndLosesNone() throws Exception {
        // The receiver takes the first block, then fails.
        receiver.respondWith(500);
        receiver.respondNext(200, 1);
        Cli.Run first = cli("dead-letters", "replay", "--config", config.toString(), "--stream", "1");
        System.out.println(first);
        assertThat(first.code()).as("%s", first).isEqualTo(1);
        assertThat(first.out()).contains("replayed 1, failed 2 of 3");
        assertThat(first.out().lines().filter(l -> l.contains("FAILED") && l.contains("HTTP 500"))).hasSize(2);
        assertThat(first.err()).contains("replayed 3/3 block(s)");
        assertThat(markers()).hasSize(1);

        receiver.respondWith(200);
        Cli.Run again = cli("dead-letters", "replay", "--config", config.toString(), "--stream", "1");
        assertThat(again.code()).as("%s", again).isZero();
        assertThat(again.out()).contains("replayed 2, failed 0, skipped 1 already replayed");
        assertThat(markers()).hasSize(3);
        assertThat(cli("dead-letters", "replay", "--config", config.toString(), "--stream", "1").out())
                .contains("replayed 0, failed 0, skipped 3 already replayed");

        List<String> streamOne = keys.keySet().stream().filter(k -> k.startsWith("stream-1/")).toList();
        assertThat(receiver.deliveredBlocks()).extracting(HttpReceiver.Request::idempotencyKey)
                .containsExactlyInAnyOrderElementsOf(streamOne.stream().map(keys::get).toList());
        assertThat(receiver.deliveredRecords()).containsExactlyInAnyOrderElementsOf(
                streamOne.stream().flatMap(k -> records.get(k).stream()).toList());
        assertThat(receiver.repeats()).isZero();
        assertThat(receiver.deliveredBlocks()).allSatisfy(r -> {
            assertThat(r.header("Authorization")).isEqualTo("Bearer " + TOKEN);
            assertThat(r.header("Content-Encoding")).isEqualTo("gzip");
        });

        // Killed after the receiver took a block but before its marker was written: a new replay repeats it
        // with the same key, which the receiver drops. Nothing doubled.
        Files.delete(markers().get(0));
        Cli.Run afterCrash = cli("dead-letters", "replay", "--config", config.toString(), "--stream", "1");
        assertThat(afterCrash.out()).contains("replayed 1, failed 0, skipped 2");
        assertThat(receiver.repeats()).isEqualTo(1);
        assertThat(receiver.conflictingRepeats()).isEmpty();
        assertThat(receiver.deliveredBlocks()).hasSize(3);
        assertThat(cli("dead-letters", "list", "--store", storeUri, "--stream", "1", "--pending").out()).contains("0 block(s)");
        assertThat(first.all() + again.all()).doesNotContain(TOKEN).doesNotContain(S3_SECRET);
    }

    @Test
    void replaysToS3AndKafkaWithTheOriginalKeysAndReportsAMissingTopic() {
        Cli.Run run = cli("dead-letters", "replay", "--config", config.toString(), "--stream", "2", "--stream", "3", "--stream", "4");
        assertThat(run.code()).as("%s", run).isEqualTo(1);
        assertThat(run.out()).contains("replayed 2, failed 1 of 3");
        assertThat(run.out().lines().filter(l -> l.startsWith("stream-4/"))).singleElement().asString()
                .contains("FAILED").contains("topic missing does not exist");

        String s3Entry = entry(2, 0);
        assertThat(s3.listKeysSettled("logs")).containsExactly(keys.get(s3Entry));
        assertThat(new String(s3.get("logs", keys.get(s3Entry)), StandardCharsets.UTF_8))
                .isEqualTo(String.join("\n", records.get(s3Entry)));
        assertThat(s3.contentType("logs", keys.get(s3Entry))).isEqualTo("text/plain");

        List<ConsumerRecord<byte[], byte[]>> read = kafka.readCommitted("out", 2, Duration.ofSeconds(10));
        assertThat(read).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .containsExactlyElementsOf(records.get(entry(3, 0)));
        assertThat(read).allSatisfy(r -> assertThat(new String(r.headers().lastHeader(KafkaMessages.BLOCK_ID).value(),
                StandardCharsets.UTF_8)).isEqualTo("3/" + DOMAIN + "/0"));

        // Run again: the replayed ones are skipped, the one that failed fails again; nothing new in the topic.
        Cli.Run again = cli("dead-letters", "replay", "--config", config.toString(), "--stream", "2", "--stream", "3", "--stream", "4");
        assertThat(again.out()).contains("replayed 0, failed 1, skipped 2");
        assertThat(kafka.readCommitted("out", Duration.ofSeconds(2))).hasSize(2);
    }

    @Test
    void aRemovedStreamsBlocksGoWhereToStreamSays() {
        Cli.Run refused = cli("dead-letters", "replay", "--config", config.toString(), "--stream", "9");
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.out()).contains("stream 9 is no longer in the configuration").contains("--to-stream");

        Cli.Run moved = cli("dead-letters", "replay", "--config", config.toString(), "--stream", "9", "--to-stream", "1");
        assertThat(moved.code()).as("%s", moved).isZero();
        assertThat(receiver.deliveredBlocks()).singleElement()
                .satisfies(r -> assertThat(r.idempotencyKey()).isEqualTo(keys.get(entry(9, 0))));
    }

    @Test
    void theJobsOwnDeadLetterEventBlocksAreNeverReplayedToAStream() throws Exception {
        Block events = new Block(DeadLetterDelivery.STREAM_ID, DeadLetterDelivery.DATA_SOURCE, DeadLetterDelivery.domain(0),
                0, 1, new byte[] {1, 0, 0, 0, 0});
        Endpoint topic = DeadLetterDelivery.endpoint(job);
        deadLetter(kafkaPrepared(events), events, topic, "timed out (cluster unreachable)", "2026-01-01T17:00:00Z");

        // To a Kafka stream the frames would pass as a block: refused before anything is sent.
        Cli.Run run = cli("dead-letters", "replay", "--config", config.toString(), "--stream", "0", "--to-stream", "3");
        assertThat(run.code()).as("%s", run).isEqualTo(1);
        assertThat(run.out()).contains("failed 1 of 1").contains("stream 0 holds dead-letter events");
    }

    @Test
    void aDryRunSendsAndMarksNothing() {
        Cli.Run run = cli("dead-letters", "replay", "--config", config.toString(), "--all", "--dry-run");
        assertThat(run.code()).as("%s", run).isEqualTo(1); // stream 9 has nowhere to go
        assertThat(run.out()).contains("would replay 6, failed 1 of 7")
                .contains(keys.get(entry(1, 0))).contains(keys.get(entry(2, 0)));
        assertThat(receiver.requests()).isEmpty();
        assertThat(markers()).isEmpty();
    }

    @Test
    void readsAndMarksAStoreOnS3() throws Exception {
        Path root = dir.resolve("dead-letter");
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                s3.client().putObject(b -> b.bucket("dead").key("blocks/" + root.relativize(f)), RequestBody.fromFile(f));
            }
        }
        Map<String, String> env = new LinkedHashMap<>(env());
        env.put("AWS_ACCESS_KEY_ID", "edge-access");
        env.put("AWS_SECRET_ACCESS_KEY", S3_SECRET);
        String store = "s3://dead/blocks";
        Cli.Run list = Cli.run(env, "dead-letters", "list", "--store", store, "--s3-endpoint", s3.endpoint().toString());
        assertThat(list.code()).as("%s", list).isZero();
        assertThat(list.out()).contains("7 block(s) in s3://dead/blocks");

        Cli.Run replay = Cli.run(env, "dead-letters", "replay", "--config", config.toString(), "--store", store,
                "--s3-endpoint", s3.endpoint().toString(), "--stream", "1", "--reason", "400");
        assertThat(replay.code()).as("%s", replay).isZero();
        assertThat(s3.listKeys("dead")).contains("blocks/" + entry(1, 1) + ".replayed.json");
        assertThat(receiver.deliveredBlocks()).singleElement()
                .satisfies(r -> assertThat(r.idempotencyKey()).isEqualTo(keys.get(entry(1, 1))));
        assertThat(list.all() + replay.all()).doesNotContain(S3_SECRET);
    }

    // ---- the store ----

    private Map<String, String> env() {
        return Map.of("TOKEN", TOKEN, "S3_SECRET", S3_SECRET);
    }

    private Cli.Run cli(String... args) {
        return Cli.run(env(), args);
    }

    private StreamConfig stream(long id) {
        return job.streams().stream().filter(s -> s.id() == id).findFirst().orElseThrow();
    }

    private Block block(long stream, long sequence, int n) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            lines.add("{\"stream\":" + stream + ",\"seq\":" + sequence + ",\"i\":" + i + "}");
        }
        return new Block(stream, DataSource.HTTP, DOMAIN, sequence, n, String.join("\n", lines).getBytes(StandardCharsets.US_ASCII));
    }

    /** As KafkaTransport prepares a block: the records as they are, key = block id and a digest. */
    private static Prepared kafkaPrepared(Block block) throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(block.records());
        return new Prepared(block.records(), block.blockId() + ":" + HexFormat.of().formatHex(digest, 0, 16), Prepared.IDENTITY);
    }

    private void deadLetter(Prepared prepared, Block block, Endpoint endpoint, String reason, String at) throws Exception {
        StagedBlock staged = new StagedBlock(block.streamId(), block.dataSource(), block.domain(), block.sequence(),
                block.recordCount(), endpoint.destinationId(), prepared.payload(), prepared.deliveryKey(), prepared.contentEncoding());
        long millis = Instant.parse(at).toEpochMilli();
        org.apache.flink.core.fs.Path manifest = new DeadLetterStore(storeUri).write(staged,
                new DeadLetterStore.Entry(endpoint.endpointType(), endpoint.describe(), reason, 7, millis - 86_400_000L, millis, millis));
        String path = manifest.toUri().getPath();
        String base = path.substring(path.indexOf("/stream-") + 1, path.length() - DeadLetterStore.MANIFEST_SUFFIX.length());
        keys.put(base, prepared.deliveryKey());
        records.put(base, List.of(new String(block.records(), StandardCharsets.US_ASCII).split("\n")));
    }

    private String entry(long stream, long sequence) {
        String prefix = "stream-" + stream + "/" + DOMAIN + "/" + sequence + "-";
        return keys.keySet().stream().filter(k -> k.startsWith(prefix)).findFirst().orElseThrow();
    }

    private List<Path> markers() {
        try (Stream<Path> files = Files.walk(dir.resolve("dead-letter"))) {
            return files.filter(f -> f.toString().endsWith(".replayed.json")).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
