package io.edgestreaming.connectors.engine.internal;

import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.http;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.connectors.http.HttpTransport;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.config.Secret;
import io.edgestreaming.config.SourceConfig;
import io.edgestreaming.templates.DataSource;
import java.util.Map;
import java.net.URI;
import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default budget: a share of the heap per slot and per delivery operator that holds blocks. */
class MemoryBudgetTest {
    @TempDir
    Path deadLetters;

    @Test
    void derivedFromTheHeapTheTaskManagersSlotsAndTheEndpointTypesInUse() throws Exception {
        // Two endpoint types in use (standard and s3): two delivery operators per slot hold blocks.
        S3Endpoint s3 = new S3Endpoint(URI.create("http://127.0.0.1:9"), "bucket", "us-east-1", "key", Secret.of("secret"), null,
                "text/plain", S3Endpoint.KeyLayout.AZION);
        JobConfig config = job(deadLetters, delivery(), stream(1, http(URI.create("http://127.0.0.1:9/a"))), stream(2, s3));
        Configuration taskManager = new Configuration();
        taskManager.set(TaskManagerOptions.NUM_TASK_SLOTS, 2);
        try (DeliveryHarness h = DeliveryHarness.openOnTaskManager(config, new HttpTransport.Factory(), taskManager)) {
            assertThat(h.memoryBudget()).isEqualTo((long) (Runtime.getRuntime().maxMemory() * 0.25) / 2 / 2);
        }
    }

    @Test
    void theJobsDeadLetterWriterCountsAsOneMoreDeliveryOperator() throws Exception {
        // A job with a source also runs the dead-letter writer (DeadLetterDelivery): the standard endpoint's
        // operator and that one share the slot's part of the heap.
        JobConfig streams = job(deadLetters, delivery(), stream(1, http(URI.create("http://127.0.0.1:9/a"))));
        JobConfig config = new JobConfig(new SourceConfig("127.0.0.1:9", Map.of(DataSource.HTTP, "http"), "edge", null,
                1 << 20, Map.of()), streams.deadLetter(), streams.delivery(), streams.checkpointInterval(),
                streams.streams(), streams.addressPolicy());
        Configuration taskManager = new Configuration();
        taskManager.set(TaskManagerOptions.NUM_TASK_SLOTS, 2);
        try (DeliveryHarness h = DeliveryHarness.openOnTaskManager(config, new HttpTransport.Factory(), taskManager)) {
            assertThat(h.memoryBudget()).isEqualTo((long) (Runtime.getRuntime().maxMemory() * 0.25) / 2 / 2);
        }
    }

    @Test
    void sharedByTheDestinationsWithPendingBlocks() {
        MemoryBudget budget = new MemoryBudget(300);
        assertThat(budget.share()).isEqualTo(300);
        budget.destinationsWithBlocks = 3;
        assertThat(budget.share()).isEqualTo(100);
        assertThat(MemoryBudget.derive(1000, 0, 0)).isEqualTo(250);
    }
}
