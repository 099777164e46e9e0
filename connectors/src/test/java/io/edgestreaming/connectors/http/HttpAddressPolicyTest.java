package io.edgestreaming.connectors.http;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.http;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.manifests;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.Secret;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.LogCapture;
import io.edgestreaming.connectors.engine.internal.DeliveryHarness;
import io.edgestreaming.testkit.HttpReceiver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The address policy at connection time: a host that passed at load but whose address is refused when
 * a block goes out (DNS changed, allowed_networks narrowed) gets nothing, not even a TCP connection; its
 * destination pauses and retries, its blocks wait (never dead-lettered as refused) and arrive once it
 * is allowed. Redirects are not followed.
 */
class HttpAddressPolicyTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path deadLetters;

    @Test
    void aRefusedAddressGetsNoConnectionAndItsBlocksWait() throws Exception {
        try (ServerSocket tripwire = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                LogCapture log = LogCapture.open()) {
            AtomicInteger connections = new AtomicInteger();
            Thread acceptor = new Thread(() -> {
                while (!tripwire.isClosed()) {
                    try (Socket s = tripwire.accept()) {
                        connections.incrementAndGet();
                    } catch (IOException closed) {
                        return;
                    }
                }
            }, "tripwire");
            acceptor.setDaemon(true);
            acceptor.start();
            // A name, as customers write them: localhost passed the loader of a runner that allows loopback.
            HttpEndpoint endpoint = http(URI.create("http://localhost:" + tripwire.getLocalPort() + "/in"));
            try (DeliveryHarness h = DeliveryHarness.open(job(deadLetters, delivery(), AddressPolicy.PUBLIC_ONLY,
                    stream(1, endpoint)), new HttpTransport.Factory(), null)) {
                h.process(block(1, "example.com", 0, 2));
                h.process(block(1, "example.com", 1, 2));
                h.snapshot(1);
                h.complete(1);
                assertThat(driveUntil(h, () -> h.retries(endpoint.destinationId()) >= 4)).as("paused and retried").isTrue();
                assertThat(connections.get()).as("not even a TCP connection").isZero();
                assertThat(h.pending()).as("both blocks wait").isEqualTo(2);
            }
            assertThat(manifests(deadLetters)).as("nothing dead-lettered").isEmpty();
            assertThat(log.matching("HTTP: connections to host localhost refused by the address policy (host localhost resolves to"))
                    .as("one line when the host becomes refused").hasSize(1);
            List<String> failing = log.matching("failing", "address refused: host localhost resolves to");
            assertThat(failing).as("the engine's one warning names the rule").hasSize(1);
            assertThat(failing.get(0)).contains("a loopback address; allow it in allowed_networks to use it");
        }
    }

    @Test
    void blocksRefusedAtConnectionArriveOnceWhenTheAddressIsAllowedAgain() throws Exception {
        try (HttpReceiver receiver = HttpReceiver.start(); LogCapture log = LogCapture.open()) {
            HttpEndpoint endpoint = new HttpEndpoint(receiver.url("/in?token=query-never-shown"),
                    Map.of("Authorization", Secret.of("Bearer header-never-shown")), "\n", "$dataset", 1_000_000,
                    HttpEndpoint.Compression.NONE, null);
            List<Block> blocks = List.of(block(1, "example.com", 0, 3), block(1, "example.com", 1, 3));
            OperatorSubtaskState checkpoint;
            try (DeliveryHarness h = DeliveryHarness.open(job(deadLetters, delivery(), AddressPolicy.PUBLIC_ONLY,
                    stream(1, endpoint)), new HttpTransport.Factory(), null)) {
                blocks.forEach(b -> process(h, b));
                checkpoint = h.snapshot(1);
                h.complete(1);
                assertThat(driveUntil(h, () -> h.retries(endpoint.destinationId()) >= 3)).isTrue();
                assertThat(receiver.requests()).as("nothing sent to a refused address").isEmpty();
                assertThat(h.pending()).isEqualTo(2);
            }
            assertThat(manifests(deadLetters)).isEmpty();

            // allowed_networks lists loopback again: the waiting blocks go out, each once.
            try (DeliveryHarness h = DeliveryHarness.open(job(deadLetters, delivery(), stream(1, endpoint)),
                    new HttpTransport.Factory(), checkpoint)) {
                assertThat(driveUntil(h, () -> h.pending() == 0)).isTrue();
            }
            assertThat(receiver.deliveredBlocks()).hasSize(2);
            assertThat(receiver.repeats()).isZero();
            assertThat(manifests(deadLetters)).isEmpty();
            assertThat(log.matching("address refused: host 127.0.0.1 is a loopback address")).isNotEmpty();
            assertThat(log.all()).noneMatch(m -> m.contains("never-shown"));
        }
    }

    @Test
    void aRedirectIsNeverFollowed() throws Exception {
        try (HttpReceiver redirecting = HttpReceiver.start(); HttpReceiver elsewhere = HttpReceiver.start()) {
            redirecting.redirectTo(302, elsewhere.url("/latest/meta-data/"));
            HttpEndpoint toOther = http(redirecting.url("/to-other"));
            try (DeliveryHarness h = DeliveryHarness.open(job(deadLetters, delivery(), stream(1, toOther)),
                    new HttpTransport.Factory(), null)) {
                h.process(block(1, "example.com", 0, 2));
                h.snapshot(1);
                h.complete(1);
                assertThat(driveUntil(h, () -> h.pending() == 0)).isTrue();
                redirecting.redirectTo(307, URI.create("http://169.254.169.254/latest/meta-data/"));
                h.process(block(1, "example.com", 1, 2));
                h.snapshot(2);
                h.complete(2);
                assertThat(driveUntil(h, () -> h.pending() == 0)).isTrue();
            }
            assertThat(redirecting.requests()).extracting(HttpReceiver.Request::status).containsExactly(302, 307);
            assertThat(elsewhere.requests()).as("the redirect's target never asked").isEmpty();
            List<JsonNode> dead = manifests(deadLetters);
            assertThat(dead).extracting(m -> m.get("reason").asText()).containsExactlyInAnyOrder(
                    "HTTP 302: status 302 as programmed", "HTTP 307: status 307 as programmed");
        }
    }

    private static void process(DeliveryHarness h, Block b) {
        try {
            h.process(b);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static boolean driveUntil(DeliveryHarness h, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            h.runMailsFor(Duration.ofMillis(50));
            h.advance(Duration.ofMillis(250)); // processing time drives the backoff timers
        }
        return true;
    }
}
