package io.edgestreaming.connectors.s3;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.DeliveryTopology;
import io.edgestreaming.connectors.Fixtures;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.config.Secret;
import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.HttpReceiver;
import java.io.ByteArrayInputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** The transport on its own: payloads, names, validation, and failures against real sockets. */
class S3TransportTest {
    private static final String SECRET = "s3cr3t-value-never-shown";

    @Test
    void theS3EndpointTypeIsDeliveredByThisTransport() {
        assertThat(DeliveryTopology.transports().get("s3")).isInstanceOf(S3Transport.Factory.class);
    }

    @Test
    void prepareFixesNameAndBodyOnceAndGzipsWhenAsked() throws Exception {
        Block block = block(7, "example.com", 3, 50);
        try (S3Transport transport = new S3Transport(delivery(), Fixtures.LOOPBACK, () -> 1622575860091L)) {
            Prepared plain = transport.prepare(block, endpoint(URI.create("http://127.0.0.1:1"), "plain/text", "waf_logs"));
            assertThat(plain.payload()).isEqualTo(block.records());
            assertThat(plain.contentEncoding()).isEqualTo(Prepared.IDENTITY);
            assertThat(plain.deliveryKey()).isEqualTo("waf_logs_1622575860091_"
                    + S3ObjectKeys.contentUuid(block.blockId(), block.records()));
            // Same block again (a repeat after a restore): same name.
            assertThat(transport.prepare(block, endpoint(URI.create("http://127.0.0.1:1"), "plain/text", "waf_logs")).deliveryKey())
                    .isEqualTo(plain.deliveryKey());

            Prepared gzip = transport.prepare(block, endpoint(URI.create("http://127.0.0.1:1"), "application/gzip", "waf_logs"));
            assertThat(gzip.contentEncoding()).isEqualTo(Prepared.GZIP);
            assertThat(gzip.deliveryKey()).isEqualTo(plain.deliveryKey());
            try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzip.payload()))) {
                assertThat(in.readAllBytes()).isEqualTo(block.records());
            }
        }
    }

    @Test
    void validationRefusesWhatCannotWork() {
        S3Transport.Factory factory = new S3Transport.Factory();
        factory.validate(endpoint(URI.create("https://s3.us-east-1.amazonaws.com"), "plain/text", ""));
        factory.validate(endpoint(URI.create("http://minio:9000"), "application/gzip", "p"));
        assertThatThrownBy(() -> factory.validate(endpoint(URI.create("ftp://minio:21"), "plain/text", "")))
                .hasMessageContaining("host_url");
        assertThatThrownBy(() -> factory.validate(endpoint(URI.create("http://minio:9000"), "text/csv", "")))
                .hasMessageContaining("content_type");
        assertThatThrownBy(() -> factory.validate(endpoint(URI.create("http://minio:9000"), "plain/text", "p".repeat(1000))))
                .hasMessageContaining("object_key_prefix");
    }

    @Test
    void virtualHostedOnAwsUnlessTheBucketHasDotsPathStyleElsewhere() {
        assertThat(S3Clients.pathStyle(endpoint(URI.create("https://s3.eu-west-1.amazonaws.com"), "plain/text", ""))).isFalse();
        assertThat(S3Clients.pathStyle(new S3Endpoint(URI.create("https://s3.amazonaws.com"), "logs.example.com", "us-east-1",
                "AK", Secret.of(SECRET), "", "text/plain", S3Endpoint.KeyLayout.AZION))).isTrue();
        assertThat(S3Clients.pathStyle(endpoint(URI.create("https://storage.googleapis.com"), "plain/text", ""))).isTrue();
    }

    @Test
    void anUnreachableHostIsARetriedFailureNamingTheProblem() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        Outcome outcome = deliverOnce(endpoint(URI.create("http://127.0.0.1:" + closedPort), "plain/text", "x"));
        assertThat(outcome.kind()).isEqualTo(Outcome.Kind.RETRY);
        assertThat(outcome.reason()).contains("unreachable").doesNotContain(SECRET);
    }

    @Test
    void anUntrustedHttpsCertificateIsRefused() throws Exception {
        try (HttpReceiver tls = HttpReceiver.startTls()) {
            Outcome outcome = deliverOnce(endpoint(tls.url("/"), "plain/text", "x"));
            assertThat(outcome.kind()).isEqualTo(Outcome.Kind.RETRY);
            assertThat(outcome.reason()).contains("TLS").doesNotContain(SECRET);
            assertThat(tls.requests()).as("no request reached the untrusted server").isEmpty();
        }
    }

    @Test
    void aRefusedAccessKeyOrSecretKeyIsARetriedFailureSayingTheCredentialWasRefused() throws Exception {
        try (EmbeddedS3 s3 = EmbeddedS3.start("right-access", "right-secret-4Gh")) {
            s3.createBucket("logs");
            String wrongSecret = "wrong-secret-value-8Pw";
            Outcome badSecret = deliverOnce(new S3Endpoint(s3.endpoint(), "logs", EmbeddedS3.REGION, "right-access",
                    Secret.of(wrongSecret), "x", "text/plain", S3Endpoint.KeyLayout.AZION));
            assertThat(badSecret.kind()).isEqualTo(Outcome.Kind.RETRY);
            assertThat(badSecret.reason()).contains("SignatureDoesNotMatch").contains("credential refused")
                    .contains("secret_key").doesNotContain(wrongSecret);
            Outcome badKey = deliverOnce(new S3Endpoint(s3.endpoint(), "logs", EmbeddedS3.REGION, "unknown-access",
                    Secret.of(wrongSecret), "x", "text/plain", S3Endpoint.KeyLayout.AZION));
            assertThat(badKey.kind()).isEqualTo(Outcome.Kind.RETRY);
            assertThat(badKey.reason()).contains("InvalidAccessKeyId").contains("credential refused")
                    .contains("access_key").doesNotContain(wrongSecret);
            assertThat(s3.listKeys("logs")).isEmpty();
        }
    }

    @Test
    void everyConnectionGoesThroughTheAddressPolicyAtTheDnsHook() throws Exception {
        try (EmbeddedS3 s3 = EmbeddedS3.start("access", SECRET);
                ServerSocket tripwire = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            s3.createBucket("logs");
            S3Endpoint store = new S3Endpoint(s3.endpoint(), "logs", EmbeddedS3.REGION, "access", Secret.of(SECRET), "x",
                    "text/plain", S3Endpoint.KeyLayout.AZION);
            Outcome refused = deliverOnce(store, AddressPolicy.PUBLIC_ONLY);
            assertThat(refused.kind()).as("a destination failure, retried").isEqualTo(Outcome.Kind.RETRY);
            assertThat(refused.reason()).isEqualTo("address refused: host 127.0.0.1 is a loopback address; allow it in"
                    + " allowed_networks to use it");
            assertThat(s3.listKeys("logs")).isEmpty();

            // A name is resolved by the hook too, before any connection.
            java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
            Thread acceptor = new Thread(() -> {
                while (!tripwire.isClosed()) {
                    try (java.net.Socket socket = tripwire.accept()) {
                        connections.incrementAndGet();
                    } catch (java.io.IOException closed) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            Outcome byName = deliverOnce(endpoint(URI.create("http://localhost:" + tripwire.getLocalPort()), "plain/text", "x"),
                    AddressPolicy.PUBLIC_ONLY);
            assertThat(byName.reason()).startsWith("address refused: host localhost resolves to ").doesNotContain(SECRET);
            assertThat(connections.get()).isZero();

            assertThat(deliverOnce(store, Fixtures.LOOPBACK).kind()).isEqualTo(Outcome.Kind.DELIVERED);
            assertThat(s3.listKeys("logs")).hasSize(1);
        }
    }

    /** A destination without requests for a while closes its client and so its pooled connections; the next block opens new ones. */
    @Test
    void anIdleDestinationReleasesItsClientAndItsConnections() throws Exception {
        Duration saved = S3Transport.idleClient;
        S3Transport.idleClient = Duration.ofMillis(500);
        try (EmbeddedS3 s3 = EmbeddedS3.start("access", SECRET); S3Transport transport = new S3Transport(delivery(), Fixtures.LOOPBACK)) {
            s3.createBucket("logs");
            S3Endpoint store = new S3Endpoint(s3.endpoint(), "logs", EmbeddedS3.REGION, "access", Secret.of(SECRET), "x",
                    "text/plain", S3Endpoint.KeyLayout.AZION);
            int port = s3.endpoint().getPort();
            long others = establishedTo(port); // the test server's own client
            assertThat(deliver(transport, store, 0).kind()).isEqualTo(Outcome.Kind.DELIVERED);
            assertThat(establishedTo(port)).as("the destination's pooled connection").isGreaterThan(others);

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (establishedTo(port) > others && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(establishedTo(port)).as("connections of the idle destination").isLessThanOrEqualTo(others);
            assertThat(transport.openClients()).isZero();

            assertThat(deliver(transport, store, 1).kind()).as("a new client for the next block").isEqualTo(Outcome.Kind.DELIVERED);
            assertThat(s3.listKeys("logs")).hasSize(2);
        } finally {
            S3Transport.idleClient = saved;
        }
    }

    /**
     * The SDK clients' timeout threads live as long as the transport: once it closes none is left to keep the
     * job's class loader alive on a session cluster (a JVM-wide "s3-timeouts" pool never ended).
     */
    @Test
    void closingTheTransportEndsTheThreadsThatTimeOutItsCalls() throws Exception {
        java.util.Set<Thread> before = timeoutThreads();
        try (EmbeddedS3 s3 = EmbeddedS3.start("access", SECRET)) {
            s3.createBucket("logs");
            S3Endpoint store = new S3Endpoint(s3.endpoint(), "logs", EmbeddedS3.REGION, "access", Secret.of(SECRET), "x",
                    "text/plain", S3Endpoint.KeyLayout.AZION);
            try (S3Transport transport = new S3Transport(delivery(), Fixtures.LOOPBACK)) {
                assertThat(deliver(transport, store, 0).kind()).isEqualTo(Outcome.Kind.DELIVERED);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!leftAfter(before).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(leftAfter(before)).as("timeout threads after the transport closed").isEmpty();
    }

    /** Timeout threads started since {@code before} and still alive, and any of the former JVM-wide pool. */
    private static java.util.List<String> leftAfter(java.util.Set<Thread> before) {
        return timeoutThreads().stream()
                .filter(t -> !before.contains(t) || t.getName().startsWith("s3-timeouts"))
                .map(Thread::getName).toList();
    }

    private static java.util.Set<Thread> timeoutThreads() {
        java.util.Set<Thread> threads = new java.util.HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            String name = t.getName();
            if (t.isAlive() && (name.startsWith("s3-timeouts") || name.startsWith("s3-housekeeping-")
                    || name.startsWith("sdk-ScheduledExecutor"))) {
                threads.add(t);
            }
        }
        return threads;
    }

    private static Outcome deliver(S3Transport transport, S3Endpoint endpoint, int sequence) throws Exception {
        Block block = block(1, "example.com", sequence, 2);
        Prepared p = transport.prepare(block, endpoint);
        StagedBlock staged = new StagedBlock(1, block.dataSource(), block.domain(), sequence, block.recordCount(),
                endpoint.destinationId(), p.payload(), p.deliveryKey(), p.contentEncoding());
        return transport.deliver(staged, endpoint).get(30, TimeUnit.SECONDS);
    }

    /** Established TCP connections of this network namespace to a local port (client side: the remote port). */
    private static long establishedTo(int port) throws java.io.IOException {
        String remote = String.format(":%04X", port);
        long n = 0;
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            java.nio.file.Path path = java.nio.file.Path.of(table);
            if (!java.nio.file.Files.exists(path)) {
                continue;
            }
            for (String line : java.nio.file.Files.readAllLines(path)) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 3 && f[2].endsWith(remote) && f[3].equals("01")) {
                    n++;
                }
            }
        }
        return n;
    }

    private static Outcome deliverOnce(S3Endpoint endpoint) throws Exception {
        return deliverOnce(endpoint, Fixtures.LOOPBACK);
    }

    private static Outcome deliverOnce(S3Endpoint endpoint, AddressPolicy addresses) throws Exception {
        Block block = block(1, "example.com", 0, 2);
        try (S3Transport transport = new S3Transport(delivery(), addresses)) {
            Prepared p = transport.prepare(block, endpoint);
            StagedBlock staged = new StagedBlock(1, block.dataSource(), block.domain(), 0, block.recordCount(),
                    endpoint.destinationId(), p.payload(), p.deliveryKey(), p.contentEncoding());
            return transport.deliver(staged, endpoint).get(30, TimeUnit.SECONDS);
        }
    }

    private static S3Endpoint endpoint(URI host, String contentType, String prefix) {
        return new S3Endpoint(host, "logs", "us-east-1", "AKIDEXAMPLE", Secret.of(SECRET), prefix, contentType,
                S3Endpoint.KeyLayout.AZION);
    }
}
