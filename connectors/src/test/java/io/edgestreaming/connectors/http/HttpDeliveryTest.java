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

    private LoopbackReceiver receiver;

    @BeforeEach
    void start() throws Exception {
        receiver = LoopbackReceiver.start();
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
            assertThat(h.runMailsUntil(() -> receiver.delivered().size() == 1, WAIT)).isTrue();
            h.runMailsFor(Duration.ofMillis(300));
            assertThat(receiver.delivered()).hasSize(1);
            LoopbackReceiver.Request request = receiver.delivered().get(0);
            assertThat(request.body()).isEqualTo(first.records());
            assertThat(request.header("Content-Type")).isEqualTo("application/x-ndjson");
            assertThat(request.key()).startsWith("1/example.com/0:");

            h.snapshot(2);
            h.complete(2);
            assertThat(h.runMailsUntil(() -> receiver.delivered().size() == 2 && h.pending() == 0, WAIT)).isTrue();
            assertThat(receiver.delivered().get(1).body()).isEqualTo(second.records());
        }
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
            assertThat(h.runMailsUntil(() -> receiver.delivered().size() >= 2, WAIT)).isTrue();
            receiver.respondWith(503, null);
            h.runMailsFor(Duration.ofMillis(300));
            checkpoint2 = h.snapshot(2);
        }
        int deliveredBeforeCrash = receiver.delivered().size();
        assertThat(deliveredBeforeCrash).isBetween(2, 5);
        receiver.respondWith(200, null);

        // Restore from the OLDER checkpoint 1: all six blocks come again, with the same identity.
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), checkpoint1)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(receiver.delivered()).hasSize(6);
        assertThat(receiver.acceptedRepeats()).isEqualTo(deliveredBeforeCrash);
        assertThat(receiver.conflictingRepeats()).isEmpty();

        // Restore from checkpoint 2: only what was undelivered then is sent again.
        int requestsBefore = receiver.requests().size();
        try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), checkpoint2)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        assertThat(receiver.requests().size() - requestsBefore).isEqualTo(6 - deliveredBeforeCrash);
        assertThat(receiver.delivered()).hasSize(6);
        assertThat(receiver.conflictingRepeats()).isEmpty();
        Set<String> keys = receiver.requests().stream().map(LoopbackReceiver.Request::key).collect(Collectors.toSet());
        assertThat(keys).hasSize(6);
    }
}
