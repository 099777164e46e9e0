package io.edgestreaming.connectors.engine.internal;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.http;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.http.HttpTransport;
import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.testkit.HttpReceiver;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-destination metrics: delivered blocks and bytes, retries, dead-lettered, pending. */
class DeliveryMetricsTest {
    @TempDir
    Path deadLetters;

    @Test
    void countsPerDestination() throws Exception {
        try (HttpReceiver good = HttpReceiver.start(); HttpReceiver bad = HttpReceiver.start()) {
            good.respondNext(503, 1);
            bad.respondWith(422);
            HttpEndpoint goodEndpoint = http(good.url("/good"));
            HttpEndpoint badEndpoint = http(bad.url("/bad"));
            JobConfig config = job(deadLetters, delivery(), stream(1, goodEndpoint), stream(2, badEndpoint));
            try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
                Block b1 = block(1, "example.com", 0, 3);
                Block b2 = block(1, "example.com", 1, 2);
                h.process(b1);
                h.process(b2);
                h.process(block(2, "example.com", 0, 1));
                Destination goodDestination = h.destination(goodEndpoint.destinationId());
                assertThat(goodDestination.pendingBlocks).isEqualTo(2);
                assertThat(goodDestination.pendingBytes).isEqualTo(b1.records().length + b2.records().length);
                h.snapshot(1);
                h.complete(1);
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (h.pending() > 0 && System.nanoTime() < deadline) {
                    h.runMailsFor(Duration.ofMillis(50));
                    h.advance(Duration.ofMillis(250));
                }
                assertThat(h.pending()).isZero();
                assertThat(goodDestination.deliveredBlocks.getCount()).isEqualTo(2);
                assertThat(goodDestination.deliveredBytes.getCount()).isEqualTo(b1.records().length + b2.records().length);
                assertThat(goodDestination.retries.getCount()).isEqualTo(1);
                assertThat(goodDestination.deadLettered.getCount()).isZero();
                assertThat(goodDestination.pendingBlocks).isZero();
                Destination badDestination = h.destination(badEndpoint.destinationId());
                assertThat(badDestination.deadLettered.getCount()).isEqualTo(1);
                assertThat(badDestination.deliveredBlocks.getCount()).isZero();
                assertThat(badDestination.retries.getCount()).isZero();
            }
        }
    }
}
