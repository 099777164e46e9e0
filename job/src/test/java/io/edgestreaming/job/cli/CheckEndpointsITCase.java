package io.edgestreaming.job.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.HttpReceiver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** check-endpoints against the testkit's real servers: one destination that takes deliveries and one that fails, per type. */
class CheckEndpointsITCase {
    private static final String TOKEN = "tok-8c1e5a9f3b7d2e6a";
    private static final String S3_SECRET = "s3-secret-5d8e2b9c4a";
    private static HttpReceiver good;
    private static HttpReceiver failing;
    private static EmbeddedS3 s3;
    private static EmbeddedKafka kafka;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        good = HttpReceiver.start();
        failing = HttpReceiver.start();
        failing.respondWith(500);
        s3 = EmbeddedS3.start("edge-access", S3_SECRET);
        s3.createBucket("logs");
        kafka = EmbeddedKafka.start();
        kafka.createTopic("out", 2);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {good, failing, s3, kafka}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // the next one still closes
            }
        }
    }

    private Path config() throws Exception {
        String yaml = Cli.head("file://" + dir.resolve("dl"))
                + Cli.stream(1, """
                        endpoint_type: standard
                        url: %s
                        headers:
                          Authorization: "Bearer ${env:TOKEN}"
                        log_line_separator: ","
                        payload_format: "[$dataset]"
                        """.formatted(good.url("/ingest")))
                + Cli.stream(2, "endpoint_type: standard\nurl: " + failing.url("/ingest") + "\n")
                + Cli.stream(3, s3Endpoint("logs"))
                + Cli.stream(4, s3Endpoint("no-such-bucket"))
                + Cli.stream(5, "endpoint_type: kafka\nbootstrap_servers: " + kafka.bootstrapServers() + "\nkafka_topic: out\n")
                + Cli.stream(6, "endpoint_type: kafka\nbootstrap_servers: " + kafka.bootstrapServers() + "\nkafka_topic: missing\n");
        Path f = dir.resolve("streams.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    private static String s3Endpoint(String bucket) {
        return """
                endpoint_type: s3
                host_url: %s
                bucket_name: %s
                region: us-east-1
                access_key: edge-access
                secret_key: ${env:S3_SECRET}
                object_key_prefix: edge/logs
                content_type: application/gzip
                """.formatted(s3.endpoint(), bucket);
    }

    private static final Map<String, String> ENV = Map.of("TOKEN", TOKEN, "S3_SECRET", S3_SECRET);

    @Test
    void provesEachDestinationAndSaysExactlyWhyOneFails() throws Exception {
        Cli.Run run = Cli.run(ENV, "check-endpoints", "--config", config().toString());
        System.out.println(run);

        assertThat(run.code()).as("%s", run).isEqualTo(1);
        String[] lines = run.out().split("\n");
        assertThat(lines[0]).startsWith("STREAM").contains("DESTINATION").contains("RESULT").contains("TIME");
        assertThat(row(lines, 1)).contains("POST " + good.url("/ingest")).contains(" ok ").contains("probe record accepted");
        assertThat(row(lines, 2)).contains("FAILED").contains("HTTP 500");
        assertThat(row(lines, 3)).contains(" ok ").contains("written to bucket logs and removed");
        assertThat(row(lines, 4)).contains("FAILED").contains("NoSuchBucket").contains("no-such-bucket");
        assertThat(row(lines, 5)).contains(" ok ").contains("topic out (2 partitions)").contains("begun and aborted");
        assertThat(row(lines, 6)).contains("FAILED").contains("topic missing does not exist");
        assertThat(run.out()).contains("3 of 6 endpoint(s) FAILED");
        assertThat(run.err()).contains("checked 6/6 endpoint(s)");
        assertThat(run.all()).doesNotContain(TOKEN).doesNotContain(S3_SECRET);

        // The HTTP probe is one record, formatted as the stream's blocks, with the stream's headers and a key.
        HttpReceiver.Request probe = good.deliveredBlocks().get(0);
        assertThat(probe.header("Authorization")).isEqualTo("Bearer " + TOKEN);
        assertThat(probe.idempotencyKey()).startsWith("1/edge-streaming-probe/");
        assertThat(probe.bodyAsString()).startsWith("[{\"edge_streaming_probe\":\"check-endpoints\",\"stream_id\":1,");
        // The S3 probe was written under the prefix and removed again.
        assertThat(s3.listKeysSettled("logs")).isEmpty();
        // Nothing visible in the topic: the transaction held no message.
        assertThat(kafka.readCommitted("out", java.time.Duration.ofSeconds(2))).isEmpty();
    }

    @Test
    void checksOnlyTheStreamsNamed() throws Exception {
        Cli.Run run = Cli.run(ENV, "check-endpoints", "--config", config().toString(), "--stream", "1", "--stream", "5");
        assertThat(run.code()).as("%s", run).isZero();
        assertThat(run.out()).contains("all 2 endpoint(s) can deliver").doesNotContain("FAILED");
        assertThat(Cli.run(ENV, "check-endpoints", "--config", config().toString(), "--stream", "42").code()).isEqualTo(2);
    }

    @Test
    void anInvalidConfigurationIsRefusedBeforeAnythingIsConnected() throws Exception {
        int before = good.requests().size();
        Cli.Run run = Cli.run(Map.of(), "check-endpoints", "--config", config().toString());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("TOKEN").contains("S3_SECRET");
        assertThat(good.requests()).hasSize(before);
    }

    @Test
    void internalAddressesAreRefusedUnlessAllowedAndNothingIsConnected() throws Exception {
        int before = good.requests().size();
        Path f = dir.resolve("public-only.yaml");
        Files.writeString(f, Files.readString(config()).replace(Cli.LOOPBACK, ""));
        Cli.Run run = Cli.run(ENV, "check-endpoints", "--config", f.toString());
        assertThat(run.code()).as("%s", run).isEqualTo(1);
        assertThat(run.err()).contains("6 configuration problem(s)")
                .contains("streams[0].endpoint.url: stream 1: host 127.0.0.1 is a loopback address; allow it in allowed_networks")
                .contains("streams[2].endpoint.host_url: stream 3: host 127.0.0.1 is a loopback address")
                .contains("streams[4].endpoint.bootstrap_servers: stream 5: broker " + kafka.bootstrapServers());
        assertThat(run.all()).doesNotContain(TOKEN).doesNotContain(S3_SECRET);
        assertThat(good.requests()).hasSize(before);
    }

    /** The checks connect as the job does: an address refused when they run (DNS changed) is not connected to. */
    @Test
    void theChecksPassTheAddressPolicyWhenTheyConnect() throws Exception {
        int before = good.requests().size();
        io.edgestreaming.config.JobConfig job = io.edgestreaming.config.ConfigLoader.load(config(), ENV::get);
        try (EndpointChecks checks = new EndpointChecks(job.delivery(), io.edgestreaming.config.AddressPolicy.PUBLIC_ONLY)) {
            for (int i : new int[] {0, 2, 4}) {
                EndpointChecks.Result r = checks.check(job.streams().get(i));
                assertThat(r.ok()).as("%s", r).isFalse();
                assertThat(r.detail()).containsPattern("address refused: host (127\\.0\\.0\\.1 is|localhost resolves to"
                        + " 127\\.0\\.0\\.1,) a loopback address");
            }
        }
        assertThat(good.requests()).hasSize(before);
        assertThat(s3.listKeysSettled("logs")).isEmpty();
    }

    @Test
    void aCheckWaitsNoLongerThanTheRequestTimeout() throws Exception {
        try (HttpReceiver slow = HttpReceiver.start()) {
            slow.delay(java.time.Duration.ofSeconds(30));
            Path f = dir.resolve("slow.yaml");
            Files.writeString(f, Cli.head("file://" + dir.resolve("dl"))
                    + Cli.stream(1, "endpoint_type: standard\nurl: " + slow.url("/slow") + "\n"));
            long start = System.nanoTime();
            Cli.Run run = Cli.run(Map.of(), "check-endpoints", "--config", f.toString());
            long seconds = (System.nanoTime() - start) / 1_000_000_000L;
            assertThat(run.code()).as("%s", run).isEqualTo(1);
            assertThat(row(run.out().split("\n"), 1)).contains("FAILED").contains("timed out");
            assertThat(seconds).as("request_timeout is 5s").isLessThan(12);
            slow.delay(java.time.Duration.ZERO);
        }
    }

    private static String row(String[] lines, long stream) {
        for (String l : lines) {
            if (l.startsWith(stream + " ")) {
                return l;
            }
        }
        throw new AssertionError("no row for stream " + stream + " in:\n" + String.join("\n", lines));
    }
}
