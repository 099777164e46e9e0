package io.edgestreaming.connectors.http;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.http;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.internal.DeliveryHarness;
import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.testkit.HttpReceiver;
import io.edgestreaming.testkit.TestTls;
import io.edgestreaming.config.Secret;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine with the HTTP transport, driven through Flink's operator harness against a real server. */
class HttpDeliveryTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path deadLetters;

    private HttpReceiver receiver;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    @Test
    void nothingIsPostedBeforeItsCheckpointCompletes() throws Exception {
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/ingest"))));
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            Block first = block(1, "example.com", 0, 3);
            Block second = block(1, "example.com", 1, 2);
            h.process(first);
            h.snapshot(1);
            h.process(second); // arrives after checkpoint 1 was taken: checkpoint 2 covers it
            h.runMailsFor(Duration.ofMillis(300));
            assertThat(receiver.requests()).as("nothing before checkpoint 1 completes").isEmpty();

            h.complete(1);
            assertThat(h.runMailsUntil(() -> receiver.deliveredBlocks().size() == 1, WAIT)).isTrue();
            h.runMailsFor(Duration.ofMillis(300));
            assertThat(receiver.deliveredBlocks()).hasSize(1);
            HttpReceiver.Request request = receiver.deliveredBlocks().get(0);
            assertThat(request.decodedBody()).isEqualTo(first.records());
            assertThat(request.header("Content-Type")).isEqualTo("application/x-ndjson");
            assertThat(request.idempotencyKey()).startsWith("1/example.com/0:");

            h.snapshot(2);
            h.complete(2);
            assertThat(h.runMailsUntil(() -> receiver.deliveredBlocks().size() == 2 && h.pending() == 0, WAIT)).isTrue();
            assertThat(receiver.deliveredBlocks().get(1).decodedBody()).isEqualTo(second.records());
        }
    }

    /** Many tenants: destinations with the same trust configuration share one client (one selector thread). */
    @Test
    void destinationsShareOneClientPerTrustConfiguration() throws Exception {
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/one"))), stream(2, http(receiver.url("/two"))),
                stream(3, http(receiver.url("/three"))), stream(4, http(receiver.url("/four"))));
        long before = selectorThreads();
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            for (int stream = 1; stream <= 4; stream++) {
                h.process(block(stream, "example.com", 0, 2));
            }
            h.snapshot(1);
            h.complete(1);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
            assertThat(receiver.deliveredBlocks()).hasSize(4);
            assertThat(selectorThreads() - before).as("HTTP client selector threads for 4 destinations").isLessThanOrEqualTo(1);
        }
    }

    private static long selectorThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().contains("SelectorManager")).count();
    }

    @Test
    void restoreRedeliversEachBlockOnceWithTheSameKeyAndBody() throws Exception {
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/ingest"))));
        OperatorSubtaskState checkpoint1;
        OperatorSubtaskState checkpoint2;
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            for (int i = 0; i < 6; i++) {
                h.process(block(1, "example.com", i, 5));
            }
            checkpoint1 = h.snapshot(1);
            // Only some blocks get through before the "crash".
            h.complete(1);
            assertThat(h.runMailsUntil(() -> receiver.deliveredBlocks().size() >= 2, WAIT)).isTrue();
            receiver.respondWith(503);
            h.runMailsFor(Duration.ofMillis(300));
            checkpoint2 = h.snapshot(2);
        }
        int deliveredBeforeCrash = receiver.deliveredBlocks().size();
        assertThat(deliveredBeforeCrash).isBetween(2, 5);
        receiver.respondWith(200);

        // Restore from the OLDER checkpoint 1: all six blocks come again, with the same identity.
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), checkpoint1)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(receiver.deliveredBlocks()).hasSize(6);
        assertThat(receiver.repeats()).isEqualTo(deliveredBeforeCrash);
        assertThat(receiver.conflictingRepeats()).isEmpty();

        // Restore from checkpoint 2: only what was undelivered then is sent again.
        int requestsBefore = receiver.requests().size();
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), checkpoint2)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(receiver.requests().size() - requestsBefore).isEqualTo(6 - deliveredBeforeCrash);
        assertThat(receiver.deliveredBlocks()).hasSize(6);
        assertThat(receiver.conflictingRepeats()).isEmpty();
        Set<String> keys = receiver.requests().stream().map(HttpReceiver.Request::idempotencyKey).collect(Collectors.toSet());
        assertThat(keys).hasSize(6);
    }

    /**
     * {@code flink stop} (a synchronous savepoint without drain, as every roll-out and rescale takes): the
     * blocks the savepoint covers are in its state, so the job that restores it sends them; the stopping
     * job must not send them too, nor those of an earlier checkpoint not yet notified (they are in the
     * savepoint as well). Blocks released before the savepoint still go out as usual.
     */
    @Test
    void stopWithSavepointLeavesTheSavepointsBlocksToTheJobThatRestoresIt() throws Exception {
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/stop"))));
        List<Block> blocks = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            blocks.add(block(1, "example.com", i, 2));
        }
        OperatorSubtaskState savepoint;
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            for (Block b : blocks.subList(0, 3)) {
                h.process(b);
            }
            h.snapshot(1);
            h.complete(1);
            assertThat(h.runMailsUntil(() -> receiver.deliveredBlocks().size() == 3 && h.pending() == 0, WAIT)).isTrue();
            h.process(blocks.get(3));
            h.snapshot(2); // its notification comes late, after the savepoint's
            h.process(blocks.get(4));
            h.process(blocks.get(5));
            savepoint = h.stopSavepoint(3, false);
            h.complete(3); // the stopping task's last notification; it closes next
            h.complete(2);
            h.runMailsFor(Duration.ofMillis(500)); // time for sends that must not happen
            assertThat(receiver.requests()).as("requests after the stop").hasSize(3);
            assertThat(h.pending()).isEqualTo(3);
        }
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), savepoint)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        Set<String> keys = blocks.stream()
                .map(b -> HttpTransport.idempotencyKey(b.blockId(), b.records())).collect(Collectors.toSet());
        assertThat(receiver.requests()).extracting(HttpReceiver.Request::idempotencyKey)
                .as("each block once, none repeated").containsExactlyInAnyOrderElementsOf(keys);
        assertThat(receiver.repeats()).isZero();
    }

    /**
     * Sends still under way when {@code flink stop} takes its savepoint (a slow endpoint): the stop lets
     * them finish first, so their blocks are not in the savepoint, and starts no new send after it; what
     * the savepoint holds only the restored job sends. Nothing is sent twice.
     */
    @Test
    void stopWithSavepointLetsSendsUnderWayFinishAndStartsNoneSoNothingIsSentTwice() throws Exception {
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/slow-stop"))));
        List<Block> blocks = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            blocks.add(block(1, "example.com", i, 2));
        }
        receiver.delay(Duration.ofMillis(700));
        OperatorSubtaskState savepoint;
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            for (Block b : blocks) {
                h.process(b);
            }
            h.snapshot(1);
            h.complete(1); // released: sends start (4 at a time), each answered after 700 ms
            h.snapshot(2); // its notification comes late, after the savepoint's
            savepoint = h.stopSavepoint(3, false);
            h.complete(3);
            h.complete(2); // a late notification must not start the sends the savepoint holds
            h.runMailsFor(Duration.ofMillis(1500)); // time for sends that must not happen
        }
        receiver.delay(Duration.ZERO);
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), savepoint)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        Set<String> keys = blocks.stream()
                .map(b -> HttpTransport.idempotencyKey(b.blockId(), b.records())).collect(Collectors.toSet());
        assertThat(receiver.requests()).extracting(HttpReceiver.Request::idempotencyKey)
                .as("each block once, none repeated").containsExactlyInAnyOrderElementsOf(keys);
        assertThat(receiver.repeats()).isZero();
    }

    /**
     * A stop savepoint that is declined, or that completes while the job goes on (the stop failed after
     * it): its blocks stay staged and the next completed checkpoint sends them, once.
     */
    @Test
    void aStopSavepointThatDoesNotStopTheJobIsSentByTheNextCheckpoint() throws Exception {
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/nostop"))));
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            h.process(block(1, "example.com", 0, 1));
            h.stopSavepoint(1, false);
            h.abort(1); // declined
            h.process(block(1, "example.com", 1, 1));
            h.stopSavepoint(2, false);
            h.complete(2); // completed, but the job did not stop
            h.runMailsFor(Duration.ofMillis(300));
            assertThat(receiver.requests()).as("nothing of a stop savepoint from the stopping job").isEmpty();
            h.process(block(1, "example.com", 2, 1));
            h.snapshot(3);
            h.complete(3);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(receiver.requests()).extracting(HttpReceiver.Request::idempotencyKey)
                .map(k -> k.substring(0, k.indexOf(':')))
                .containsExactlyInAnyOrder("1/example.com/0", "1/example.com/1", "1/example.com/2");
    }

    /** {@code flink stop --drain}: the job ends and nobody restores it, so the stop delivers everything. */
    @Test
    void aStopSavepointWithDrainDeliversAtTheStop() throws Exception {
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/drain"))));
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            for (int i = 0; i < 4; i++) {
                h.process(block(1, "example.com", i, 2));
            }
            h.endInput(); // the task drains before the savepoint: end of input, finish()
            h.stopSavepoint(1, true);
            h.complete(1); // returns once every block is delivered
            assertThat(h.pending()).isZero();
        }
        assertThat(receiver.deliveredBlocks()).hasSize(4);
        assertThat(receiver.repeats()).isZero();
    }

    @Test
    void jsonArrayFormatGzipAndCustomHeaders() throws Exception {
        HttpEndpoint endpoint = new HttpEndpoint(receiver.url("/array"),
                Map.of("Authorization", Secret.of("Bearer s3cr3t-token"), "X-Tenant", Secret.of("acme")),
                ",", "[$dataset]", 1_000_000, HttpEndpoint.Compression.GZIP, null);
        HttpEndpoint typed = new HttpEndpoint(receiver.url("/typed"), Map.of("Content-Type", Secret.of("application/json")),
                ",", "[$dataset]", 1_000_000, HttpEndpoint.Compression.NONE, null);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint), stream(2, typed));
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            h.process(block(1, "example.com", 0, 3));
            h.process(block(2, "example.com", 0, 2));
            h.snapshot(1);
            h.complete(1);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        Map<String, HttpReceiver.Request> byPath = receiver.deliveredBlocks().stream()
                .collect(Collectors.toMap(HttpReceiver.Request::path, r -> r));
        HttpReceiver.Request gzipped = byPath.get("/array");
        assertThat(gzipped.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(gzipped.body()).isNotEqualTo(gzipped.decodedBody());
        JsonNode array = new ObjectMapper().readTree(gzipped.decodedBody());
        assertThat(array.isArray()).isTrue();
        assertThat(array).hasSize(3);
        assertThat(array.get(2).get("i").asText()).isEqualTo("2");
        assertThat(gzipped.header("Authorization")).isEqualTo("Bearer s3cr3t-token");
        assertThat(gzipped.header("X-Tenant")).isEqualTo("acme");
        assertThat(gzipped.header("Content-Type")).isEqualTo("text/plain; charset=us-ascii");
        HttpReceiver.Request plain = byPath.get("/typed");
        assertThat(plain.header("Content-Type")).isEqualTo("application/json");
        assertThat(plain.header("Content-Encoding")).isNull();
        assertThat(new ObjectMapper().readTree(plain.decodedBody())).hasSize(2);
    }

    @Test
    void aBodyAtTheMinimumMaxSizeArrivesByteForByte() throws Exception {
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/big"))));
        StringBuilder records = new StringBuilder();
        int i = 0;
        while (records.length() < 999_000) {
            if (i > 0) {
                records.append('\n');
            }
            records.append("{\"i\":\"").append(i++).append("\",\"pad\":\"").append("x".repeat(80)).append("\"}");
        }
        byte[] bytes = records.toString().getBytes(StandardCharsets.US_ASCII);
        Block big = new Block(1, io.edgestreaming.templates.DataSource.HTTP, "example.com", 0, i, bytes);
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            h.process(big);
            h.snapshot(1);
            h.complete(1);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(receiver.deliveredBlocks()).hasSize(1);
        assertThat(receiver.deliveredBlocks().get(0).decodedBody()).isEqualTo(bytes);
    }

    @Test
    void permanentRejectionGoesToTheDeadLetterStoreWithAReadableManifest() throws Exception {
        receiver.respondWith(400);
        HttpEndpoint endpoint = new HttpEndpoint(receiver.url("/reject"), Map.of("Authorization", Secret.of("Bearer s3cr3t-token")),
                "\n", "$dataset", 1_000_000, HttpEndpoint.Compression.NONE, null);
        JobConfig config = job(deadLetters, delivery(), stream(7, endpoint));
        Block rejected = block(7, "example.com", 3, 4);
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            h.process(rejected);
            h.snapshot(1);
            h.complete(1);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(receiver.requests()).as("a permanent failure is not retried").hasSize(1);
        JsonNode manifest = onlyManifest();
        assertThat(manifest.get("block_id").asText()).isEqualTo("7/example.com/3");
        assertThat(manifest.get("stream_id").asLong()).isEqualTo(7);
        assertThat(manifest.get("record_count").asInt()).isEqualTo(4);
        assertThat(manifest.get("reason").asText()).startsWith("HTTP 400");
        assertThat(manifest.get("attempts").asInt()).isEqualTo(1);
        assertThat(manifest.get("destination").asText()).isEqualTo("POST " + receiver.url("/reject"));
        assertThat(manifest.get("first_attempt").asText()).isNotEmpty();
        assertThat(manifest.get("last_attempt").asText()).isNotEmpty();
        Path payload = manifestPath().resolveSibling(manifest.get("payload_file").asText());
        assertThat(Files.readAllBytes(payload)).isEqualTo(rejected.records());
        assertThat(Files.readString(manifestPath())).doesNotContain("s3cr3t");
    }

    @Test
    void retriesThatOutliveMaxRetryDurationAreDeadLettered() throws Exception {
        receiver.respondWith(503, Duration.ZERO);
        JobConfig config = job(deadLetters, delivery(Duration.ofSeconds(3)), stream(1, http(receiver.url("/flaky"))));
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            h.process(block(1, "example.com", 0, 2));
            h.snapshot(1);
            h.complete(1);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (h.pending() > 0 && System.nanoTime() < deadline) {
                h.runMailsFor(Duration.ofMillis(50));
                h.advance(Duration.ofMillis(250)); // processing time drives the backoff timers
            }
            assertThat(h.pending()).isZero();
        }
        assertThat(receiver.requests().size()).as("retried with backoff before giving up").isGreaterThan(2);
        JsonNode manifest = onlyManifest();
        assertThat(manifest.get("reason").asText()).contains("max_retry_duration").contains("HTTP 503");
        assertThat(manifest.get("attempts").asInt()).isEqualTo(receiver.requests().size());
    }

    @Test
    void pastTheBacklogBoundNewBlocksAreDeadLetteredNotDropped() throws Exception {
        receiver.respondWith(503);
        var bounded = new io.edgestreaming.config.DeliveryConfig(Duration.ofSeconds(5), Duration.ofMillis(50),
                Duration.ofMillis(400), Duration.ofMinutes(10), 2, 64L << 20);
        JobConfig config = job(deadLetters, bounded, stream(1, http(receiver.url("/slow"))));
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            // Blocks waiting for their checkpoint are not a backlog: a busy destination loses none.
            for (int i = 0; i < 5; i++) {
                h.process(block(1, "example.com", i, 1));
            }
            h.snapshot(1);
            h.complete(1);
            h.runMailsFor(Duration.ofMillis(200));
            assertThat(Files.exists(deadLetters.resolve("stream-1"))).isFalse();
            // Five released and not taken: past the bound of 2, the next block is refused ...
            h.process(block(1, "example.com", 5, 1));
            // ... but dead-lettered only once a checkpoint covers it (a replay could accept it).
            assertThat(Files.exists(deadLetters.resolve("stream-1"))).isFalse();
            receiver.respondWith(200);
            h.snapshot(2);
            h.complete(2);
            assertThat(driveUntil(h, () -> h.pending() == 0)).isTrue();
            JsonNode manifest = onlyManifest();
            assertThat(manifest.get("block_id").asText()).isEqualTo("1/example.com/5");
            assertThat(manifest.get("reason").asText()).contains("backlog bound");
            assertThat(manifest.get("attempts").asInt()).isZero();
        }
        assertThat(receiver.deliveredBlocks()).extracting(HttpReceiver.Request::idempotencyKey)
                .noneMatch(k -> k.startsWith("1/example.com/5:"));
        assertThat(receiver.deliveredBlocks()).hasSize(5);
    }

    @Test
    void aBlockRefusedByTheBacklogBoundIsNotDeadLetteredBeforeACheckpointCoversIt() throws Exception {
        receiver.respondWith(503);
        var bounded = new io.edgestreaming.config.DeliveryConfig(Duration.ofSeconds(5), Duration.ofMillis(50),
                Duration.ofMillis(400), Duration.ofMinutes(10), 2, 64L << 20);
        JobConfig config = job(deadLetters, bounded, stream(1, http(receiver.url("/bound"))));
        Block b2 = block(1, "example.com", 2, 1);
        OperatorSubtaskState checkpoint1;
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            h.process(block(1, "example.com", 0, 1));
            h.process(block(1, "example.com", 1, 1));
            checkpoint1 = h.snapshot(1);
            h.complete(1);
            h.process(b2); // over the bound
            h.runMailsFor(Duration.ofMillis(200));
        } // fails before checkpoint 2
        receiver.respondWith(200);
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), checkpoint1)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
            h.process(b2); // replayed by the source; now within the bound
            h.snapshot(3);
            h.complete(3);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(receiver.deliveredBlocks()).hasSize(3);
        assertThat(Files.exists(deadLetters.resolve("stream-1"))).as("delivered, so not dead-lettered").isFalse();

        // Refused under a checkpoint that completes: dead-lettered, and a restore does not send it.
        receiver.respondWith(503);
        Block b3 = block(1, "example.com", 3, 1);
        Block b4 = block(1, "example.com", 4, 1);
        Block b5 = block(1, "example.com", 5, 1);
        OperatorSubtaskState checkpoint5;
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            h.process(b3);
            h.process(b4);
            h.snapshot(4);
            h.complete(4);
            h.process(b5); // over the bound
            checkpoint5 = h.snapshot(5);
            h.complete(5);
            // b5 leaves once its dead-letter write is done; b3 and b4 wait for the destination.
            assertThat(h.runMailsUntil(() -> h.pending() == 2, WAIT)).isTrue();
            assertThat(onlyManifest().get("block_id").asText()).isEqualTo("1/example.com/5");
        }
        receiver.respondWith(200);
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), checkpoint5)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(receiver.deliveredBlocks()).extracting(HttpReceiver.Request::idempotencyKey)
                .noneMatch(k -> k.startsWith("1/example.com/5:"));
        assertThat(onlyManifest().get("block_id").asText()).isEqualTo("1/example.com/5");
    }

    @Test
    void onRescalingThePendingBlocksAreSpreadNotDuplicated() throws Exception {
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/rescale"))));
        receiver.respondWith(503);
        OperatorSubtaskState checkpoint;
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            for (int i = 0; i < 8; i++) {
                h.process(block(1, "example.com", i, 1));
            }
            checkpoint = h.snapshot(1);
        }
        receiver.respondWith(200);
        List<Integer> shares = new java.util.ArrayList<>();
        for (int subtask = 0; subtask < 2; subtask++) {
            OperatorSubtaskState share = org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness
                    .repartitionOperatorState(checkpoint, 128, 1, 2, subtask);
            try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), share)) {
                shares.add(h.pending());
                assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
            }
        }
        assertThat(shares).allMatch(n -> n > 0).extracting(Integer::intValue).containsExactly(4, 4);
        assertThat(receiver.requests()).hasSize(8);
        assertThat(receiver.deliveredBlocks()).hasSize(8);
    }

    @Test
    void httpsWithAnUntrustedCertificateIsRefusedByDefaultAndAcceptedWithItsCa() throws Exception {
        try (HttpReceiver tls = HttpReceiver.startTls()) {
            HttpEndpoint strict = new HttpEndpoint(tls.url("/strict"), Map.of(), "\n", "$dataset", 1_000_000,
                    HttpEndpoint.Compression.NONE, null);
            HttpEndpoint trusting = new HttpEndpoint(tls.url("/trusting"), Map.of(), "\n", "$dataset", 1_000_000,
                    HttpEndpoint.Compression.NONE, TestTls.caPem().toString());
            JobConfig config = job(deadLetters, delivery(Duration.ofSeconds(2)), stream(1, strict), stream(2, trusting));
            try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
                h.process(block(1, "example.com", 0, 2));
                h.process(block(2, "example.com", 0, 2));
                h.snapshot(1);
                h.complete(1);
                assertThat(h.runMailsUntil(() -> tls.deliveredBlocks().size() == 1, WAIT)).isTrue();
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (h.pending() > 0 && System.nanoTime() < deadline) {
                    h.runMailsFor(Duration.ofMillis(50));
                    h.advance(Duration.ofMillis(500));
                }
                assertThat(h.pending()).isZero();
            }
            assertThat(tls.deliveredBlocks()).extracting(HttpReceiver.Request::path).containsExactly("/trusting");
            JsonNode manifest = onlyManifest();
            assertThat(manifest.get("stream_id").asLong()).isEqualTo(1);
            assertThat(manifest.get("reason").asText()).contains("TLS failure");
            assertThat(manifest.get("attempts").asInt()).isGreaterThan(1);
        }
    }

    @Test
    void requestTimeoutAndTooManyRequestsAreRetriedOtherClientErrorsAreNot() throws Exception {
        receiver.respondNext(408, 1);
        receiver.respondNext(429, 1);
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/retry"))),
                stream(2, http(receiver.url("/gone"))));
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            h.process(block(1, "example.com", 0, 2));
            h.snapshot(1);
            h.complete(1);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (receiver.deliveredBlocks().isEmpty() && System.nanoTime() < deadline) {
                h.runMailsFor(Duration.ofMillis(50));
                h.advance(Duration.ofMillis(250)); // processing time drives the backoff timers
            }
            assertThat(receiver.requests()).extracting(HttpReceiver.Request::status).containsExactly(408, 429, 200);

            receiver.respondWith(404);
            h.process(block(2, "example.com", 0, 1));
            h.snapshot(2);
            h.complete(2);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(receiver.requests()).as("a 404 is not retried").hasSize(4);
        JsonNode manifest = onlyManifest();
        assertThat(manifest.get("stream_id").asLong()).isEqualTo(2);
        assertThat(manifest.get("reason").asText()).startsWith("HTTP 404");
    }

    @Test
    void aRefusedCredentialPausesTheDestinationUntilItIsFixedThenEveryBlockArrivesOnce() throws Exception {
        String token = "Bearer r0tated-t0ken-8Yq2";
        HttpEndpoint endpoint = new HttpEndpoint(receiver.url("/auth"), Map.of("Authorization", Secret.of(token)),
                "\n", "$dataset", 1_000_000, HttpEndpoint.Compression.NONE, null);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint));
        List<Block> blocks = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            blocks.add(block(1, "example.com", i, 3));
        }
        Set<String> keys = blocks.stream()
                .map(b -> HttpTransport.idempotencyKey(b.blockId(), b.records())).collect(Collectors.toSet());
        String destination = ":" + receiver.port() + "/auth";
        receiver.respondWith(401); // the customer rotated the token
        try (io.edgestreaming.connectors.LogCapture log = io.edgestreaming.connectors.LogCapture.open();
                DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            for (Block b : blocks) {
                h.process(b);
            }
            h.snapshot(1);
            h.complete(1);
            // Paused and retried with backoff, not dead-lettered: first 401, then 403.
            assertThat(driveUntil(h, () -> receiver.requests().size() >= 8))
                    .as("retried while refused (%s requests, %s pending)", receiver.requests().size(), h.pending()).isTrue();
            receiver.respondWith(403);
            int before = receiver.requests().size();
            assertThat(driveUntil(h, () -> receiver.requests().size() >= before + 3)).isTrue();
            assertThat(h.pending()).as("every block still waits").isEqualTo(6);
            assertThat(Files.exists(deadLetters.resolve("stream-1"))).as("nothing dead-lettered").isFalse();
            assertThat(receiver.deliveredBlocks()).isEmpty();

            receiver.respondWith(200); // fixed
            assertThat(driveUntil(h, () -> h.pending() == 0)).isTrue();

            assertThat(log.matching("failing", destination)).as("one warning when it starts failing").hasSize(1);
            assertThat(log.matching("failing", destination).get(0)).contains("HTTP 401").contains("credential refused");
            assertThat(log.matching("recovered", destination)).as("one line when it recovers").hasSize(1);
            assertThat(log.all()).noneMatch(m -> m.contains("r0tated-t0ken"));
        }
        assertThat(receiver.requests()).extracting(HttpReceiver.Request::status).contains(401, 403);
        assertThat(receiver.deliveredBlocks()).extracting(HttpReceiver.Request::idempotencyKey)
                .containsExactlyInAnyOrderElementsOf(keys);
        assertThat(receiver.requests()).extracting(HttpReceiver.Request::idempotencyKey).allMatch(keys::contains);
        assertThat(receiver.repeats()).isZero();
        assertThat(receiver.conflictingRepeats()).isEmpty();
        assertThat(receiver.deliveredRecords()).containsExactlyInAnyOrderElementsOf(blocks.stream()
                .flatMap(b -> Stream.of(new String(b.records(), StandardCharsets.US_ASCII).split("\n"))).toList());
        try (Stream<Path> files = Files.walk(deadLetters)) {
            assertThat(files.filter(Files::isRegularFile)).as("nothing dead-lettered").isEmpty();
        }
    }

    @Test
    void aCredentialRefusedForLongerThanMaxRetryDurationIsDeadLetteredWithoutTheSecret() throws Exception {
        // The refusal's body echoes the credential, as some endpoints do: it must not reach the manifest.
        String token = "s3cr3t-Echoed-77";
        com.sun.net.httpserver.HttpServer echo = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 16);
        echo.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            byte[] body = ("invalid credential: " + exchange.getRequestHeaders().getFirst("Authorization"))
                    .getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        echo.start();
        try {
            java.net.URI url = java.net.URI.create("http://127.0.0.1:" + echo.getAddress().getPort() + "/echo");
            HttpEndpoint endpoint = new HttpEndpoint(url, Map.of("Authorization", Secret.of("Bearer " + token)),
                    "\n", "$dataset", 1_000_000, HttpEndpoint.Compression.NONE, null);
            JobConfig config = job(deadLetters, delivery(Duration.ofSeconds(2)), stream(1, endpoint));
            try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
                h.process(block(1, "example.com", 0, 2));
                h.snapshot(1);
                h.complete(1);
                assertThat(driveUntil(h, () -> h.pending() == 0)).isTrue();
            }
        } finally {
            echo.stop(0);
        }
        JsonNode manifest = onlyManifest();
        assertThat(manifest.get("reason").asText()).contains("max_retry_duration").contains("HTTP 401")
                .contains("credential refused").contains("invalid credential");
        assertThat(manifest.get("attempts").asInt()).isGreaterThan(1);
        assertThat(Files.readString(manifestPath())).doesNotContain(token);
    }

    @Test
    void retryAfterIsHonouredBeforeTheNextAttempt() throws Exception {
        receiver.respondWith(503, Duration.ofSeconds(3));
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/busy"))));
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            h.process(block(1, "example.com", 0, 1));
            h.snapshot(1);
            h.complete(1);
            assertThat(h.runMailsUntil(() -> receiver.requests().size() == 1, WAIT)).isTrue();
            h.runMailsFor(Duration.ofMillis(200));
            receiver.respondWith(200);
            h.advance(Duration.ofMillis(2500)); // backoff alone (max 400 ms) would have retried by now
            h.runMailsFor(Duration.ofMillis(300));
            assertThat(receiver.requests()).hasSize(1);
            h.advance(Duration.ofMillis(600));
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(receiver.requests()).hasSize(2);
        assertThat(receiver.deliveredBlocks()).hasSize(1);
    }

    @Test
    void atTheEndOfABoundedInputTheFinalCheckpointDrainsEverything() throws Exception {
        receiver.respondNext(503, 2);
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/end"))));
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            for (int i = 0; i < 5; i++) {
                h.process(block(1, "example.com", i, 2));
            }
            h.endInput(); // finish(): timers stop; nothing is sent before the final checkpoint
            assertThat(receiver.requests()).isEmpty();
            h.snapshot(1);
            h.complete(1); // returns only when every block is delivered or dead-lettered
            assertThat(h.pending()).isZero();
        }
        assertThat(receiver.deliveredBlocks()).hasSize(5);
        assertThat(receiver.requests()).hasSize(7);
    }

    @Test
    void withoutCheckpointingABoundedRunDrainsInFinish() throws Exception {
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/nocp"))));
        var options = new io.edgestreaming.connectors.engine.internal.DeliveryOperatorFactory.Options(4, Duration.ofSeconds(10), false);
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null, options)) {
            for (int i = 0; i < 3; i++) {
                h.process(block(1, "example.com", i, 2));
            }
            h.endInput();
            assertThat(h.pending()).isZero();
        }
        assertThat(receiver.deliveredBlocks()).hasSize(3);
    }

    @Test
    void aBlockOfAStreamMissingFromTheConfigurationIsDeadLettered() throws Exception {
        JobConfig config = job(deadLetters, delivery(), stream(1, http(receiver.url("/known"))));
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
            h.process(block(99, "example.com", 4, 2));
            // Written on the engine's I/O thread; pending (and in every snapshot) until it is.
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        JsonNode manifest = onlyManifest();
        assertThat(manifest.get("block_id").asText()).isEqualTo("99/example.com/4");
        assertThat(manifest.get("reason").asText()).contains("not in the configuration");
        assertThat(receiver.requests()).isEmpty();
    }

    @Test
    void aHangingDestinationTimesOutAndNeverHoldsUpAnother() throws Exception {
        try (HttpReceiver slow = HttpReceiver.start()) {
            slow.delay(Duration.ofSeconds(3));
            var oneSecond = new io.edgestreaming.config.DeliveryConfig(Duration.ofSeconds(1), Duration.ofMillis(50),
                    Duration.ofMillis(400), Duration.ofMinutes(10), 1000, 64L << 20);
            JobConfig config = job(deadLetters, oneSecond, stream(1, http(slow.url("/slow"))), stream(2, http(receiver.url("/fast"))));
            try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
                for (int i = 0; i < 4; i++) {
                    h.process(block(1, "example.com", i, 1));
                    h.process(block(2, "example.com", i, 1));
                }
                h.snapshot(1);
                long start = System.nanoTime();
                h.complete(1);
                assertThat(h.runMailsUntil(() -> h.pending() == 4, WAIT)).isTrue();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));
                assertThat(receiver.deliveredBlocks()).as("the fast destination got all its blocks").hasSize(4);
                assertThat(slow.requests()).as("while the slow one has not answered any").isEmpty();

                // Its attempts hit the 1 s request timeout and are retried; once it answers quickly, all arrive.
                assertThat(h.runMailsUntil(() -> slow.requests().size() >= 1, WAIT)).isTrue();
                slow.delay(Duration.ZERO);
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (h.pending() > 0 && System.nanoTime() < deadline) {
                    h.runMailsFor(Duration.ofMillis(50));
                    h.advance(Duration.ofMillis(250));
                }
                assertThat(h.pending()).isZero();
            }
            assertThat(slow.deliveredBlocks()).hasSize(4);
            assertThat(slow.conflictingRepeats()).isEmpty();
        }
    }

    /** Runs outcomes and moves processing time (the backoff timers) until the condition holds; false on timeout. */
    private static boolean driveUntil(DeliveryHarness h, java.util.function.BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            h.runMailsFor(Duration.ofMillis(50));
            h.advance(Duration.ofMillis(250));
        }
        return true;
    }

    private Path manifestPath() throws Exception {
        List<Path> manifests = manifests();
        assertThat(manifests).hasSize(1);
        return manifests.get(0);
    }

    private List<Path> manifests() {
        try (Stream<Path> files = Files.walk(deadLetters)) {
            return files.filter(p -> p.toString().endsWith(".manifest.json")).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private JsonNode onlyManifest() throws Exception {
        return new ObjectMapper().readTree(Files.readAllBytes(manifestPath()));
    }
}
