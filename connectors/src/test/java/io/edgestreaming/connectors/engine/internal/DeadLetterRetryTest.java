package io.edgestreaming.connectors.engine.internal;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.http;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.connectors.LogCapture;
import io.edgestreaming.connectors.http.HttpTransport;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.testkit.HttpReceiver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dead-letter store failing: the block stays pending (and in every snapshot) and its write is
 * retried with backoff; nothing fails the job, and once the store works the block is there, once.
 */
class DeadLetterRetryTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void aFailingDeadLetterWriteIsRetriedUntilTheStoreWorksAndNeverFailsTheJob() throws Exception {
        Path blocker = dir.resolve("store");
        Files.writeString(blocker, "a file where the store's folder should be"); // every write under it fails
        Path store = blocker.resolve("dead-letter");
        try (HttpReceiver receiver = HttpReceiver.start(); LogCapture log = LogCapture.open()) {
            receiver.respondWith(400); // permanent: to the dead-letter store at once
            JobConfig config = job(store, delivery(), stream(1, http(receiver.url("/refuses"))));
            OperatorSubtaskState whileFailing;
            try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
                h.process(block(1, "example.com", 0, 2));
                h.snapshot(1);
                h.complete(1);
                assertThat(h.runMailsUntil(() -> h.deadLetterFailures() >= 3, WAIT)).as("retried").isTrue();
                assertThat(h.pending()).as("still pending, not lost").isEqualTo(1);
                whileFailing = h.snapshot(2);
                Files.delete(blocker); // the store works again
                assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
            }
            assertThat(receiver.requests()).as("refused once, never sent again").hasSize(1);
            assertThat(manifests(store)).hasSize(1);
            assertThat(log.matching("cannot write block 1/example.com/0 to the dead-letter store")).hasSize(1);
            assertThat(log.matching("dead-letter store", "works again")).hasSize(1);

            // A restore of the snapshot taken while it failed writes it again (same entry), never sends it.
            try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), whileFailing)) {
                assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
            }
            assertThat(receiver.requests()).hasSize(1);
            assertThat(manifests(store)).hasSize(1);
        }
    }

    private static java.util.List<Path> manifests(Path store) throws Exception {
        try (Stream<Path> files = Files.walk(store)) {
            return files.filter(p -> p.toString().endsWith(".manifest.json")).toList();
        }
    }
}
