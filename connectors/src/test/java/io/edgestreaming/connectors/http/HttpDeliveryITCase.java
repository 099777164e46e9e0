package io.edgestreaming.connectors.http;

import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.http;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.BlockTypeInfoFactory;
import io.edgestreaming.connectors.DeliveryTopology;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.testkit.HttpReceiver;
import io.edgestreaming.templates.DataSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole delivery topology in a Flink MiniCluster with checkpoints: one endpoint answers 503,
 * then goes down, then comes back, while the other stream's blocks keep arriving promptly; every
 * block of the failing endpoint arrives once after recovery; the bounded job loses nothing at its end.
 */
class HttpDeliveryITCase {
    private static final Logger LOG = LoggerFactory.getLogger(HttpDeliveryITCase.class);
    private static final int BLOCKS = 160; // one block every 50 ms
    private static final int TO_FAILING = 80; // even i
    private static final int TO_UNKNOWN = 10; // i % 16 == 5
    private static final int TO_HEALTHY = BLOCKS - TO_FAILING - TO_UNKNOWN;
    private static final long FAILING = 1;
    private static final long HEALTHY = 2;
    private static final long UNKNOWN = 3;

    @TempDir
    Path deadLetters;

    @Test
    void aFailingDestinationNeverDelaysAnotherAndLosesNothing() throws Exception {
        try (HttpReceiver failing = HttpReceiver.start(); HttpReceiver healthy = HttpReceiver.start()) {
            failing.respondWith(503, Duration.ofSeconds(1));
            JobConfig config = job(deadLetters, delivery(), stream(FAILING, http(failing.url("/a"))),
                    stream(HEALTHY, http(healthy.url("/b"))));

            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(2);
            env.enableCheckpointing(100);
            var blocks = env.fromSequence(0, BLOCKS - 1).setParallelism(1)
                    .map(HttpDeliveryITCase::blockOf).setParallelism(1).returns(BlockTypeInfoFactory.TYPE_INFO);
            DeliveryTopology.attach(blocks, config);
            JobClient job = env.executeAsync("delivery isolation");

            // Phase 1: 503 with Retry-After. Phase 2: connection refused. Phase 3: healthy again.
            failing.awaitRequests(3, Duration.ofSeconds(60));
            failing.goDown();
            long downAt = System.currentTimeMillis();
            Thread.sleep(3000);
            long upAt = System.currentTimeMillis();
            failing.comeBack();
            failing.respondWith(200);

            job.getJobExecutionResult().get(120, TimeUnit.SECONDS);

            // The healthy stream: every block, once, each soon after it was cut, also during the outage.
            assertThat(healthy.deliveredBlocks()).hasSize(TO_HEALTHY);
            assertThat(healthy.repeats()).isZero();
            List<Long> latencies = healthy.deliveredBlocks().stream().map(r -> r.receivedAt().toEpochMilli() - createdAt(r)).toList();
            List<Long> sorted = latencies.stream().sorted().toList();
            LOG.info("Healthy stream: {} blocks, latency from cut to arrival median {} ms, max {} ms; {} during the outage",
                    sorted.size(), sorted.get(sorted.size() / 2), sorted.get(sorted.size() - 1),
                    healthy.deliveredBlocks().stream().filter(r -> r.receivedAt().toEpochMilli() > downAt && r.receivedAt().toEpochMilli() < upAt).count());
            assertThat(latencies).allMatch(l -> l < 5000, "every healthy block within 5 s of being cut");
            long duringOutage = healthy.deliveredBlocks().stream().filter(r -> r.receivedAt().toEpochMilli() > downAt && r.receivedAt().toEpochMilli() < upAt).count();
            assertThat(duringOutage).as("healthy blocks delivered while the other endpoint was down").isGreaterThan(5);

            // The failing stream: everything arrives after recovery, each block id once, no conflicting repeat.
            assertThat(failing.deliveredBlocks()).hasSize(TO_FAILING);
            assertThat(failing.conflictingRepeats()).isEmpty();
            assertThat(failing.deliveredBlocks().stream().map(HttpReceiver.Request::idempotencyKey).distinct()).hasSize(TO_FAILING);

            // Blocks of a stream the configuration does not know (stream 3): dead-lettered, not lost.
            List<JsonNode> manifests = manifests();
            assertThat(manifests).hasSize(TO_UNKNOWN).allMatch(m -> m.get("stream_id").asLong() == UNKNOWN
                    && m.get("reason").asText().contains("not in the configuration"));
        }
    }

    /** Block i: streams 1 and 2 alternate, every 16th block one of a stream missing from the configuration. */
    private static Block blockOf(long i) throws InterruptedException {
        Thread.sleep(50);
        long stream = i % 2 == 0 ? FAILING : HEALTHY;
        if (i % 16 == 5) {
            stream = UNKNOWN;
        }
        String record = "{\"t\":\"" + System.currentTimeMillis() + "\",\"i\":\"" + i + "\"}";
        return new Block(stream, DataSource.HTTP, "example.com", i, 1, record.getBytes(StandardCharsets.US_ASCII));
    }

    private static long createdAt(HttpReceiver.Request request) {
        try {
            return new ObjectMapper().readTree(request.decodedBody()).get("t").asLong();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private List<JsonNode> manifests() {
        return io.edgestreaming.connectors.Fixtures.manifests(deadLetters);
    }
}
