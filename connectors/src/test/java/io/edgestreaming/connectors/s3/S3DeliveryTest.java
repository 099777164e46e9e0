package io.edgestreaming.connectors.s3;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.LogCapture;
import io.edgestreaming.connectors.engine.internal.DeliveryHarness;
import io.edgestreaming.connectors.engine.internal.DeliveryOperatorFactory;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.config.Secret;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.testkit.EmbeddedS3;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine with the S3 transport, driven through Flink's operator harness against real S3 servers
 * (two s3proxy instances, each with its own key pair).
 */
class S3DeliveryTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String UUID_RE = "([0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})";
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    private static EmbeddedS3 alpha;
    private static EmbeddedS3 beta;

    @TempDir
    Path deadLetters;

    @BeforeAll
    static void startServers() {
        alpha = EmbeddedS3.start("alpha-access", "alpha-secret-Kx81");
        beta = EmbeddedS3.start("beta-access", "beta-secret-Qz27");
    }

    @AfterAll
    static void stopServers() {
        if (alpha != null) {
            alpha.close();
        }
        if (beta != null) {
            beta.close();
        }
    }

    /**
     * Many tenants: the S3 clients of a subtask share one timeout scheduler, its housekeeping thread (the SDK's
     * own is five threads per client); it ends with the subtask, see S3TransportTest.
     */
    @Test
    void s3ClientsShareOneTimeoutScheduler() throws Exception {
        String b1 = bucket(alpha);
        String b2 = bucket(alpha);
        String b3 = bucket(beta);
        JobConfig config = job(deadLetters, delivery(),
                stream(1, endpoint(alpha, b1, alpha.secretKey(), "", "text/plain", S3Endpoint.KeyLayout.AZION)),
                stream(2, endpoint(alpha, b2, alpha.secretKey(), "", "text/plain", S3Endpoint.KeyLayout.AZION)),
                stream(3, endpoint(beta, b3, beta.secretKey(), "", "text/plain", S3Endpoint.KeyLayout.AZION)));
        Set<Thread> before = timeoutThreads();
        try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), null)) {
            for (int stream = 1; stream <= 3; stream++) {
                h.process(block(stream, "example.com", 0, 2));
            }
            h.snapshot(1);
            h.complete(1);
            assertThat(deliverUntil(h, () -> h.pending() == 0, WAIT)).isTrue();
            Set<Thread> created = timeoutThreads();
            created.removeAll(before);
            assertThat(created).as("timeout threads for 3 S3 clients of one subtask")
                    .hasSizeLessThanOrEqualTo(1)
                    .allMatch(t -> t.getName().startsWith("s3-housekeeping-"));
        }
    }

    /**
     * Many tenants: the destinations of a subtask share its delivery threads. Delivering to 20 destinations one
     * after another needs as many threads as requests ran at once (4 here), not 4 per destination (80 before).
     */
    @Test
    void destinationsShareDeliveryThreadsAsManyAsRequestsRunAtOnce() throws Exception {
        int destinations = 20;
        StreamConfig[] streams = new StreamConfig[destinations];
        String[] buckets = new String[destinations];
        for (int i = 0; i < destinations; i++) {
            buckets[i] = bucket(alpha);
            streams[i] = stream(i + 1, endpoint(alpha, buckets[i], alpha.secretKey(), "", "text/plain", S3Endpoint.KeyLayout.AZION));
        }
        JobConfig config = job(deadLetters, delivery(), streams);
        Set<String> before = deliveryThreads();
        try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), null)) {
            for (int s = 1; s <= destinations; s++) {
                for (int b = 0; b < 4; b++) {
                    h.process(block(s, "example.com", b, 2));
                }
                h.snapshot(s);
                h.complete(s);
                assertThat(deliverUntil(h, () -> h.pending() == 0, WAIT)).isTrue();
            }
            Set<String> created = deliveryThreads();
            created.removeAll(before);
            assertThat(created).as("delivery threads for %d destinations, 4 requests at once", destinations)
                    .hasSizeLessThanOrEqualTo(2 * S3DestinationQueue.REQUESTS_PER_DESTINATION);
        }
        for (String b : buckets) {
            assertThat(alpha.listKeys(b)).hasSize(4);
        }
    }

    /**
     * The house rule with a shared pool: ten stores that accept connections and never answer hold 40 requests
     * (4 each, up to request_timeout); a healthy destination's blocks are delivered meanwhile, at once.
     */
    @Test
    void hangingStoresNeverDelayAnotherDestination() throws Exception {
        try (HangingServer hanging = new HangingServer()) {
            var tenSeconds = new io.edgestreaming.config.DeliveryConfig(Duration.ofSeconds(10), Duration.ofMillis(50),
                    Duration.ofMillis(400), Duration.ofMinutes(10), 1000, 64L << 20);
            int hangingDestinations = 10;
            List<StreamConfig> streams = new ArrayList<>();
            for (int i = 1; i <= hangingDestinations; i++) {
                streams.add(stream(i, new S3Endpoint(hanging.endpoint(), "hang-" + i, EmbeddedS3.REGION, "AK", Secret.of("s"), "",
                        "text/plain", S3Endpoint.KeyLayout.AZION)));
            }
            String good = bucket(beta);
            streams.add(stream(100, endpoint(beta, good, beta.secretKey(), "", "text/plain", S3Endpoint.KeyLayout.AZION)));
            JobConfig config = job(deadLetters, tenSeconds, streams.toArray(StreamConfig[]::new));
            try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), null)) {
                for (int i = 1; i <= hangingDestinations; i++) {
                    for (int b = 0; b < 4; b++) {
                        h.process(block(i, "example.com", b, 1));
                    }
                }
                h.snapshot(1);
                h.complete(1);
                assertThat(h.runMailsUntil(() -> hanging.connections() >= 4 * hangingDestinations, WAIT))
                        .as("every hanging destination holds 4 requests").isTrue();

                for (int b = 0; b < 4; b++) {
                    h.process(block(100, "example.com", b, 1));
                }
                h.snapshot(2);
                long start = System.nanoTime();
                h.complete(2);
                assertThat(h.runMailsUntil(() -> h.pending() == 4 * hangingDestinations, WAIT)).isTrue();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
                assertThat(beta.listKeys(good)).hasSize(4);
                assertThat(hanging.connections()).as("the hanging ones still hang, no more than 4 each")
                        .isEqualTo(4 * hangingDestinations);
            }
        }
    }

    /** Accepts connections and never answers (a hung store); closing it closes them. */
    private static final class HangingServer implements AutoCloseable {
        private final java.net.ServerSocket server;
        private final List<java.net.Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();

        HangingServer() throws IOException {
            server = new java.net.ServerSocket(0, 200, java.net.InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        accepted.add(server.accept());
                    } catch (IOException closed) {
                        return;
                    }
                }
            }, "hanging-s3");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        java.net.URI endpoint() {
            return java.net.URI.create("http://127.0.0.1:" + server.getLocalPort());
        }

        int connections() {
            return accepted.size();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (java.net.Socket s : accepted) {
                s.close();
            }
        }
    }

    private static Set<String> deliveryThreads() {
        Set<String> names = new java.util.HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("s3-delivery-")) {
                names.add(t.getName());
            }
        }
        return names;
    }

    /** Threads that may run S3 calls' timeouts: the SDK's own, the former JVM-wide pool, a subtask's housekeeping. */
    private static Set<Thread> timeoutThreads() {
        Set<Thread> threads = new java.util.HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            String name = t.getName();
            if (t.isAlive() && (name.startsWith("sdk-ScheduledExecutor") || name.startsWith("s3-timeouts")
                    || name.startsWith("s3-housekeeping-"))) {
                threads.add(t);
            }
        }
        return threads;
    }

    @Test
    void objectsAppearOnlyAfterTheirCheckpointCompletesNamedAsAzionDoes() throws Exception {
        String bucket = bucket(alpha);
        JobConfig config = job(deadLetters, delivery(),
                stream(1, endpoint(alpha, bucket, alpha.secretKey(), "waf_logs", "text/plain", S3Endpoint.KeyLayout.AZION)),
                stream(2, endpoint(alpha, bucket, alpha.secretKey(), "", "text/plain", S3Endpoint.KeyLayout.AZION)));
        long before = System.currentTimeMillis();
        try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), null)) {
            Block first = block(1, "example.com", 0, 3);
            Block unprefixed = block(2, "example.com", 0, 2);
            Block late = block(1, "example.com", 1, 4);
            h.process(first);
            h.process(unprefixed);
            h.snapshot(1);
            h.process(late); // after checkpoint 1 was taken: checkpoint 2 covers it
            h.runMailsFor(Duration.ofMillis(300));
            assertThat(alpha.listKeys(bucket)).as("nothing before checkpoint 1 completes").isEmpty();

            h.complete(1);
            assertThat(deliverUntil(h, () -> h.pending() == 1, WAIT)).isTrue();
            long after = System.currentTimeMillis();
            List<String> keys = alpha.listKeys(bucket);
            assertThat(keys).hasSize(2);
            String prefixed = keys.stream().filter(k -> k.startsWith("waf_logs_")).findFirst().orElseThrow();
            Matcher m = Pattern.compile("waf_logs_(\\d{13})_" + UUID_RE).matcher(prefixed);
            assertThat(m.matches()).as(prefixed).isTrue();
            assertThat(Long.parseLong(m.group(1))).isBetween(before, after);
            assertThat(m.group(2)).isEqualTo(S3ObjectKeys.contentUuid(first.blockId(), first.records()).toString());
            assertThat(alpha.get(bucket, prefixed)).isEqualTo(first.records());
            assertThat(alpha.contentType(bucket, prefixed)).isEqualTo("text/plain");

            String bare = keys.stream().filter(k -> !k.startsWith("waf_logs_")).findFirst().orElseThrow();
            assertThat(bare).matches("\\d{13}_" + UUID_RE);
            assertThat(alpha.get(bucket, bare)).isEqualTo(unprefixed.records());

            h.runMailsFor(Duration.ofMillis(200));
            assertThat(alpha.listKeys(bucket)).as("the late block waits for checkpoint 2").hasSize(2);
            h.snapshot(2);
            h.complete(2);
            assertThat(deliverUntil(h, () -> h.pending() == 0, WAIT)).isTrue();
            assertThat(alpha.listKeys(bucket)).hasSize(3);
            assertThat(recordsIn(alpha, bucket)).containsExactlyInAnyOrderElementsOf(lines(first, unprefixed, late));
        }
        assertThat(alpha.openMultipartUploads(bucket)).isEmpty();
    }

    /**
     * {@code flink stop} (synchronous savepoint, no drain): the stopping job writes no object of the
     * blocks its savepoint covers; the job restored from it writes each of them once.
     */
    @Test
    void stopWithSavepointWritesNoObjectOfTheSavepointTheRestoredJobWritesEach() throws Exception {
        String bucket = bucket(alpha);
        JobConfig config = job(deadLetters, delivery(),
                stream(1, endpoint(alpha, bucket, alpha.secretKey(), "stop", "text/plain", S3Endpoint.KeyLayout.AZION)));
        Block first = block(1, "example.com", 0, 2);
        Block second = block(1, "example.com", 1, 3);
        Block third = block(1, "example.com", 2, 1);
        OperatorSubtaskState savepoint;
        try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), null)) {
            h.process(first);
            h.snapshot(1);
            h.complete(1);
            assertThat(deliverUntil(h, () -> h.pending() == 0, WAIT)).isTrue();
            h.process(second);
            h.process(third);
            savepoint = h.stopSavepoint(2, false);
            h.complete(2); // the stopping task's last notification; it closes next
            deliverUntil(h, () -> false, Duration.ofMillis(500)); // time for writes that must not happen
            assertThat(alpha.listKeys(bucket)).as("objects after the stop").hasSize(1);
        }
        try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), savepoint)) {
            assertThat(deliverUntil(h, () -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(alpha.listKeys(bucket)).hasSize(3);
        assertThat(recordsIn(alpha, bucket)).containsExactlyInAnyOrderElementsOf(lines(first, second, third));
    }

    @Test
    void gzipObjectsInTheDatedLayoutDecompressToTheBlock() throws Exception {
        String bucket = bucket(alpha);
        JobConfig config = job(deadLetters, delivery(),
                stream(1, endpoint(alpha, bucket, alpha.secretKey(), "edge/logs", "application/gzip", S3Endpoint.KeyLayout.DATED)));
        long before = System.currentTimeMillis();
        Block block = block(1, "example.com", 0, 200);
        try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), null)) {
            h.process(block);
            h.snapshot(1);
            h.complete(1);
            assertThat(deliverUntil(h, () -> h.pending() == 0, WAIT)).isTrue();
        }
        long after = System.currentTimeMillis();
        List<String> keys = alpha.listKeys(bucket);
        assertThat(keys).hasSize(1);
        String key = keys.get(0);
        assertThat(key).matches("edge/logs/\\d{4}/\\d{2}/\\d{2}/\\d{2}/\\d{2}/" + UUID_RE);
        String minute = key.substring("edge/logs/".length(), "edge/logs/".length() + 16);
        DateTimeFormatter path = DateTimeFormatter.ofPattern("yyyy/MM/dd/HH/mm").withZone(ZoneOffset.UTC);
        assertThat(minute).isIn(path.format(Instant.ofEpochMilli(before)), path.format(Instant.ofEpochMilli(after)));
        assertThat(alpha.contentType(bucket, key)).isEqualTo("application/gzip");
        byte[] stored = alpha.get(bucket, key);
        assertThat(stored.length).isLessThan(block.records().length);
        assertThat(gunzip(stored)).isEqualTo(block.records());
    }

    @Test
    void aBlockOfSeveralMegabytesIsOneObjectFromOnePut() throws Exception {
        String bucket = bucket(alpha);
        JobConfig config = job(deadLetters, delivery(),
                stream(1, endpoint(alpha, bucket, alpha.secretKey(), "big", "text/plain", S3Endpoint.KeyLayout.AZION)));
        Block big = block(1, "example.com", 0, 80_000); // ~3 MB, past Azion's smallest max_size (1,000,000)
        assertThat(big.records().length).isGreaterThan(2_500_000);
        try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), null)) {
            h.process(big);
            h.snapshot(1);
            h.complete(1);
            assertThat(deliverUntil(h, () -> h.pending() == 0, WAIT)).isTrue();
        }
        List<String> keys = alpha.listKeys(bucket);
        assertThat(keys).hasSize(1);
        assertThat(alpha.get(bucket, keys.get(0))).isEqualTo(big.records());
        assertThat(alpha.openMultipartUploads(bucket)).isEmpty();
    }

    @Test
    void failuresBeforeAndDuringDeliveryLeaveEveryRecordInExactlyOneObject() throws Exception {
        String bucket = bucket(alpha);
        JobConfig config = job(deadLetters, delivery(),
                stream(1, endpoint(alpha, bucket, alpha.secretKey(), "logs", "text/plain", S3Endpoint.KeyLayout.AZION)));
        // One PUT at a time, so a "crash" can fall between two deliveries.
        DeliveryOperatorFactory.Options oneAtATime = new DeliveryOperatorFactory.Options(1, Duration.ofSeconds(10), true);
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            blocks.add(block(1, "example.com", i, 5 + i));
        }

        // Crash between staging and delivery: checkpoint 1 holds the blocks, its completion never arrives.
        OperatorSubtaskState checkpoint1;
        try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), null, oneAtATime)) {
            for (Block b : blocks) {
                h.process(b);
            }
            checkpoint1 = h.snapshot(1);
            h.runMailsFor(Duration.ofMillis(200));
        }
        assertThat(alpha.listKeys(bucket)).isEmpty();

        // Restore from checkpoint 1: deliverable at once; crash again after some objects are stored.
        OperatorSubtaskState checkpoint2;
        try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), checkpoint1, oneAtATime)) {
            assertThat(deliverUntil(h, () -> alpha.listKeys(bucket).size() >= 2, WAIT)).isTrue();
            checkpoint2 = h.snapshot(2);
        }
        List<String> afterPartial = alpha.listKeysSettled(bucket);
        assertThat(afterPartial.size()).isBetween(2, 6);

        // Restore from the latest checkpoint: only what was unacknowledged is put again, same names.
        try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), checkpoint2, oneAtATime)) {
            assertThat(deliverUntil(h, () -> h.pending() == 0, WAIT)).isTrue();
        }
        List<String> complete = alpha.listKeysSettled(bucket);
        assertThat(complete).hasSize(6).containsAll(afterPartial);

        // Restore from the OLDER checkpoint 1 again: every block is put again under its fixed name,
        // overwriting identical bytes; still six objects.
        try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), checkpoint1, oneAtATime)) {
            assertThat(deliverUntil(h, () -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(alpha.listKeysSettled(bucket)).isEqualTo(complete);
        assertThat(recordsIn(alpha, bucket)).containsExactlyInAnyOrderElementsOf(lines(blocks.toArray(Block[]::new)));
        assertThat(alpha.openMultipartUploads(bucket)).isEmpty();
        try (Stream<Path> files = Files.walk(deadLetters)) {
            assertThat(files.filter(Files::isRegularFile)).as("nothing dead-lettered").isEmpty();
        }
    }

    @Test
    void wrongSecretOrMissingBucketDeadLettersThoseStreamsWhileTwoOtherBucketsKeepFlowing() throws Exception {
        String alphaBucket = bucket(alpha);
        String betaBucket = bucket(beta);
        // Another bucket, so that it is another destination (ids hold host, bucket and access key, not the secret).
        String betaOther = bucket(beta);
        String wrongSecret = "not-the-beta-secret-9f3";
        JobConfig config = job(deadLetters, delivery(Duration.ofSeconds(5)),
                stream(1, endpoint(alpha, alphaBucket, alpha.secretKey(), "a", "text/plain", S3Endpoint.KeyLayout.AZION)),
                stream(2, endpoint(beta, betaBucket, beta.secretKey(), "b", "application/gzip", S3Endpoint.KeyLayout.AZION)),
                stream(3, endpoint(beta, betaOther, wrongSecret, "wrong-secret", "text/plain", S3Endpoint.KeyLayout.AZION)),
                stream(4, endpoint(alpha, "no-such-bucket-" + BUCKETS.incrementAndGet(), alpha.secretKey(), "missing",
                        "text/plain", S3Endpoint.KeyLayout.AZION)));
        List<Block> good = new ArrayList<>();
        try (DeliveryHarness h = DeliveryHarness.open(config, new S3Transport.Factory(), null)) {
            for (long stream = 1; stream <= 4; stream++) {
                Block b = block(stream, "example.com", 0, 3);
                h.process(b);
                if (stream <= 2) {
                    good.add(b);
                }
            }
            h.snapshot(1);
            h.complete(1);
            assertThat(deliverUntil(h, () -> alpha.listKeys(alphaBucket).size() == 1 && beta.listKeys(betaBucket).size() == 1, WAIT))
                    .isTrue();

            // The failing streams are retried (and fail) while the healthy ones keep delivering.
            for (int round = 1; round <= 3; round++) {
                Block a = block(1, "example.com", round, 2);
                Block b = block(2, "example.com", round, 2);
                good.add(a);
                good.add(b);
                h.process(a);
                h.process(b);
                h.snapshot(1 + round);
                h.complete(1 + round);
                int expected = 1 + round;
                assertThat(deliverUntil(h, () -> alpha.listKeys(alphaBucket).size() == expected
                        && beta.listKeys(betaBucket).size() == expected, WAIT)).isTrue();
                h.advance(Duration.ofMillis(300)); // retry wake-ups of the failing destinations
            }
            assertThat(deliverUntil(h, () -> h.pending() == 2, WAIT)).as("the failing blocks are still being retried").isTrue();
            assertThat(manifests()).isEmpty();

            // Past max_retry_duration (5 s of processing time) they go to the dead-letter store.
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (h.pending() > 0 && System.nanoTime() < deadline) {
                h.advance(Duration.ofMillis(250));
                h.runMailsFor(Duration.ofMillis(50));
            }
            assertThat(h.pending()).isZero();
        }
        assertThat(recordsIn(alpha, alphaBucket)).hasSize(3 + 3 * 2);
        assertThat(recordsIn(beta, betaBucket)).containsExactlyInAnyOrderElementsOf(
                lines(good.stream().filter(b -> b.streamId() == 2).toArray(Block[]::new)));
        assertThat(recordsIn(alpha, alphaBucket)).containsExactlyInAnyOrderElementsOf(
                lines(good.stream().filter(b -> b.streamId() == 1).toArray(Block[]::new)));
        assertThat(beta.listKeys(betaBucket)).allMatch(k -> k.startsWith("b_"));
        assertThat(beta.listKeys(betaOther)).isEmpty();

        List<Path> manifests = manifests();
        assertThat(manifests).hasSize(2);
        ObjectMapper json = new ObjectMapper();
        JsonNode wrong = json.readTree(manifests.stream().filter(p -> p.toString().contains("stream-3")).findFirst().orElseThrow().toFile());
        JsonNode missing = json.readTree(manifests.stream().filter(p -> p.toString().contains("stream-4")).findFirst().orElseThrow().toFile());
        assertThat(wrong.get("reason").asText()).contains("max_retry_duration").contains("SignatureDoesNotMatch")
                .contains("secret_key");
        assertThat(missing.get("reason").asText()).contains("max_retry_duration").contains("NoSuchBucket")
                .contains("bucket_name");
        assertThat(wrong.get("attempts").asInt()).isGreaterThan(1);
        assertThat(missing.get("attempts").asInt()).isGreaterThan(1);
        assertThat(wrong.get("delivery_key").asText()).matches("wrong-secret_\\d{13}_" + UUID_RE);
        for (Path p : allFiles()) {
            assertThat(Files.readString(p, StandardCharsets.ISO_8859_1)).doesNotContain(wrongSecret)
                    .doesNotContain(alpha.secretKey()).doesNotContain(beta.secretKey());
        }
        Path payload = Path.of(manifests.get(0).toString().replace(".manifest.json", ".payload"));
        assertThat(Files.readAllBytes(payload)).isEqualTo(block(manifests.get(0).toString().contains("stream-3") ? 3 : 4,
                "example.com", 0, 3).records());
    }

    @Test
    void aRefusedSecretKeyKeepsTheBlocksUntilTheCorrectedKeyDeliversThemAllOnce() throws Exception {
        String bucket = bucket(beta);
        String wrongSecret = "rotated-away-secret-5Tz";
        S3Endpoint refused = endpoint(beta, bucket, wrongSecret, "logs", "text/plain", S3Endpoint.KeyLayout.AZION);
        S3Endpoint corrected = endpoint(beta, bucket, beta.secretKey(), "logs", "text/plain", S3Endpoint.KeyLayout.AZION);
        // The secret is not part of the destination: correcting it keeps the destination and its pending blocks.
        assertThat(corrected.destinationId()).isEqualTo(refused.destinationId());
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            blocks.add(block(1, "example.com", i, 3));
        }

        OperatorSubtaskState whileRefused;
        try (LogCapture log = LogCapture.open();
                DeliveryHarness h = DeliveryHarness.open(job(deadLetters, delivery(), stream(1, refused)),
                        new S3Transport.Factory(), null)) {
            for (Block b : blocks) {
                h.process(b);
            }
            h.snapshot(1);
            h.complete(1);
            // Paused and retried with backoff, not dead-lettered.
            assertThat(deliverUntil(h, () -> h.retries(refused.destinationId()) >= 6, WAIT))
                    .as("retried while refused (%s retries, %s pending)", h.retries(refused.destinationId()), h.pending())
                    .isTrue();
            assertThat(h.pending()).isEqualTo(4);
            assertThat(manifests()).as("nothing dead-lettered").isEmpty();
            assertThat(beta.listKeys(bucket)).isEmpty();
            List<String> failing = log.matching("failing", refused.destinationId());
            assertThat(failing).as("one warning when it starts failing").hasSize(1);
            assertThat(failing.get(0)).contains("SignatureDoesNotMatch").contains("credential refused");
            assertThat(log.all()).noneMatch(m -> m.contains(wrongSecret) || m.contains(beta.secretKey()));
            whileRefused = h.snapshot(2);
        }

        // The operator corrects secret_key and restarts the job from its last checkpoint.
        try (LogCapture log = LogCapture.open();
                DeliveryHarness h = DeliveryHarness.open(job(deadLetters, delivery(), stream(1, corrected)),
                        new S3Transport.Factory(), whileRefused)) {
            assertThat(deliverUntil(h, () -> h.pending() == 0, WAIT)).isTrue();
            assertThat(log.matching("failing", corrected.destinationId())).isEmpty();
        }
        assertThat(beta.listKeys(bucket)).hasSize(4);
        assertThat(recordsIn(beta, bucket)).containsExactlyInAnyOrderElementsOf(lines(blocks.toArray(Block[]::new)));
        assertThat(manifests()).as("nothing dead-lettered").isEmpty();
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * Runs delivery outcomes until the condition holds, moving processing time along so that a retry
     * (a transient failure on a loaded machine) is not stuck behind a timer that never fires.
     */
    private static boolean deliverUntil(DeliveryHarness h, java.util.function.BooleanSupplier condition, Duration timeout)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!h.runMailsUntil(condition, Duration.ofMillis(100))) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            h.advance(Duration.ofMillis(100));
        }
        return true;
    }

    private static S3Endpoint endpoint(EmbeddedS3 server, String bucket, String secret, String prefix, String contentType,
            S3Endpoint.KeyLayout layout) {
        return new S3Endpoint(server.endpoint(), bucket, EmbeddedS3.REGION, server.accessKey(), Secret.of(secret), prefix,
                contentType, layout);
    }

    private static String bucket(EmbeddedS3 server) {
        String name = "bucket-" + BUCKETS.incrementAndGet();
        server.createBucket(name);
        return name;
    }

    /** Every record of every object in the bucket (gzip objects decompressed). */
    private static List<String> recordsIn(EmbeddedS3 server, String bucket) throws IOException {
        List<String> records = new ArrayList<>();
        for (String key : server.listKeys(bucket)) {
            byte[] body = server.get(bucket, key);
            if ("application/gzip".equals(server.contentType(bucket, key))) {
                body = gunzip(body);
            }
            records.addAll(Arrays.asList(new String(body, StandardCharsets.US_ASCII).split("\n")));
        }
        return records;
    }

    private static List<String> lines(Block... blocks) {
        List<String> lines = new ArrayList<>();
        for (Block b : blocks) {
            lines.addAll(Arrays.asList(new String(b.records(), StandardCharsets.US_ASCII).split("\n")));
        }
        return lines;
    }

    private static byte[] gunzip(byte[] bytes) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            return in.readAllBytes();
        }
    }

    private List<Path> manifests() throws IOException {
        return allFiles().stream().filter(p -> p.toString().endsWith(".manifest.json")).toList();
    }

    private List<Path> allFiles() throws IOException {
        try (Stream<Path> files = Files.walk(deadLetters)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }
}
