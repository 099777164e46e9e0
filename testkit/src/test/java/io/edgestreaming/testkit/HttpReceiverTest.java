package io.edgestreaming.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.zip.GZIPOutputStream;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class HttpReceiverTest {

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> post(HttpClient c, HttpReceiver receiver, String key, byte[] body, boolean gzip)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(receiver.url("/ingest"))
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (key != null) {
            b.header(HttpReceiver.IDEMPOTENCY_KEY, key);
        }
        if (gzip) {
            b.header("Content-Encoding", "gzip");
        }
        return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static byte[] gzip(String text) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    @Test
    void deduplicatesByIdempotencyKeyAndFlagsConflictingRepeats() throws Exception {
        try (HttpReceiver receiver = HttpReceiver.start()) {
            assertThat(post(client, receiver, "block-1", gzip("a\nb\n"), true).statusCode()).isEqualTo(200);
            // A retry of the same block (gzip output differs byte-wise, the decoded body does not).
            assertThat(post(client, receiver, "block-1", gzip("a\nb\n"), true).statusCode()).isEqualTo(200);
            assertThat(post(client, receiver, "block-2", "c".getBytes(StandardCharsets.UTF_8), false).statusCode())
                    .isEqualTo(200);

            assertThat(receiver.awaitBlocks(2, Duration.ofSeconds(5))).hasSize(2);
            assertThat(receiver.deliveredRecords()).containsExactly("a", "b", "c");
            assertThat(receiver.repeats()).isEqualTo(1);
            assertThat(receiver.conflictingRepeats()).isEmpty();
            HttpReceiver.Request first = receiver.deliveredBlocks().get(0);
            assertThat(first.method()).isEqualTo("POST");
            assertThat(first.path()).isEqualTo("/ingest");
            assertThat(first.header("content-encoding")).isEqualTo("gzip");
            assertThat(first.bodyAsString()).isEqualTo("a\nb\n");

            // Same key, other data: the exactly-once violation the receiver exists to catch.
            post(client, receiver, "block-1", "x\n".getBytes(StandardCharsets.UTF_8), false);
            assertThat(receiver.conflictingRepeats()).hasSize(1);
            assertThat(receiver.deliveredBlocks()).hasSize(2);
            assertThat(receiver.requests()).hasSize(4);
        }
    }

    @Test
    void programmedFailuresAreNotDeliveries() throws Exception {
        try (HttpReceiver receiver = HttpReceiver.start()) {
            receiver.respondWith(503, Duration.ofMillis(1500));
            HttpResponse<String> refused = post(client, receiver, "k", "r1".getBytes(StandardCharsets.UTF_8), false);
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("2");
            assertThat(receiver.deliveredBlocks()).isEmpty();

            receiver.respondWith(200);
            receiver.respondNext(429, 1);
            assertThat(post(client, receiver, "k", "r1".getBytes(StandardCharsets.UTF_8), false).statusCode())
                    .isEqualTo(429);
            assertThat(post(client, receiver, "k", "r1".getBytes(StandardCharsets.UTF_8), false).statusCode())
                    .isEqualTo(200);
            // Earlier failed attempts of a block are neither repeats nor deliveries.
            assertThat(receiver.deliveredBlocks()).hasSize(1);
            assertThat(receiver.repeats()).isZero();
            assertThat(receiver.requests()).extracting(HttpReceiver.Request::status).containsExactly(503, 429, 200);

            assertThatThrownBy(() -> receiver.awaitBlocks(2, Duration.ofMillis(200)))
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("expected 2 delivered blocks");
        }
    }

    @Test
    void slowAnswerTimesOutTheClientButIsStillRecorded() throws Exception {
        try (HttpReceiver receiver = HttpReceiver.start()) {
            receiver.delay(Duration.ofMillis(1500));
            HttpRequest request = HttpRequest.newBuilder(receiver.url("/slow"))
                    .timeout(Duration.ofMillis(300))
                    .header(HttpReceiver.IDEMPOTENCY_KEY, "slow-1")
                    .POST(HttpRequest.BodyPublishers.ofString("s"))
                    .build();
            assertThatThrownBy(() -> client.send(request, HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(HttpTimeoutException.class);
            // The server processed it although the client gave up: the retry must be a repeat.
            assertThat(receiver.awaitBlocks(1, Duration.ofSeconds(10))).hasSize(1);
            receiver.delay(Duration.ZERO);
            post(client, receiver, "slow-1", "s".getBytes(StandardCharsets.UTF_8), false);
            assertThat(receiver.repeats()).isEqualTo(1);
            assertThat(receiver.deliveredBlocks()).hasSize(1);
        }
    }

    @Test
    void goesDownAndComesBackOnTheSamePort() throws Exception {
        try (HttpReceiver receiver = HttpReceiver.start()) {
            int port = receiver.port();
            receiver.goDown();
            assertThat(receiver.isUp()).isFalse();
            HttpClient fresh = HttpClient.newHttpClient(); // no pooled connection to the old server
            assertThatThrownBy(() -> post(fresh, receiver, "d", "d".getBytes(StandardCharsets.UTF_8), false))
                    .isInstanceOf(ConnectException.class);
            receiver.comeBack();
            assertThat(receiver.port()).isEqualTo(port);
            assertThat(post(fresh, receiver, "d", "d".getBytes(StandardCharsets.UTF_8), false).statusCode())
                    .isEqualTo(200);
            assertThat(receiver.deliveredBlocks()).hasSize(1);
        }
    }

    @Test
    void httpsWithTheTestkitCertificate() throws Exception {
        try (HttpReceiver receiver = HttpReceiver.startTls()) {
            assertThat(receiver.url("/x").getScheme()).isEqualTo("https");
            HttpClient trusting = HttpClient.newBuilder().sslContext(TestTls.clientContext()).build();
            assertThat(post(trusting, receiver, "t", "t".getBytes(StandardCharsets.UTF_8), false).statusCode())
                    .isEqualTo(200);
            // Without the testkit CA the certificate is not trusted.
            assertThatThrownBy(() -> post(client, receiver, "u", "u".getBytes(StandardCharsets.UTF_8), false))
                    .isInstanceOf(SSLHandshakeException.class);
            assertThat(receiver.deliveredBlocks()).extracting(HttpReceiver.Request::idempotencyKey)
                    .containsExactly("t");
            assertThat(TestTls.caPemText()).startsWith("-----BEGIN CERTIFICATE-----");
        }
    }
}
