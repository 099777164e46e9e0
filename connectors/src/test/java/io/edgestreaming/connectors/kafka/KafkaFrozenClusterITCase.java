package io.edgestreaming.connectors.kafka;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static io.edgestreaming.connectors.kafka.KafkaDeliveryITCase.awaitDelivered;
import static io.edgestreaming.connectors.kafka.KafkaDeliveryITCase.process;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.blockMessage;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.endpoint;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.read;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.internal.DeliveryHarness;
import io.edgestreaming.testkit.ChildProcessKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster that stops answering while a checkpoint flushes its transaction: the broker process is
 * frozen (SIGSTOP), so its connections stay open and requests hang, as with a hung or overloaded
 * broker (a stopped one refuses at once). The checkpoint's synchronous part, on the task thread,
 * must not wait for it; the asynchronous part holds the state until the flush is done, and the block
 * arrives once when the cluster answers again.
 */
class KafkaFrozenClusterITCase {
    @TempDir
    Path deadLetters;

    @Test
    void aFrozenClusterDoesNotHoldTheTaskThreadAtACheckpoint() throws Exception {
        try (ChildProcessKafka kafka = ChildProcessKafka.start()) {
            kafka.createTopic("events", 1);
            JobConfig config = job(deadLetters, delivery(),
                    stream(1, endpoint(kafka, "events", KafkaEndpoint.MessageFormat.BLOCK, "none")));
            Block first = block(1, "example.com", 0, 2);
            Block second = block(1, "example.com", 1, 3);
            try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
                process(h, first);
                h.snapshot(1);
                h.complete(1);
                assertThat(awaitDelivered(h)).isTrue();

                process(h, second); // streamed into a new open transaction
                signal(kafka, "STOP");
                try {
                    long start = System.nanoTime();
                    CompletableFuture<OperatorSubtaskState> state = h.snapshotAsync(2);
                    long syncMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    // Before the state was deferred, this part waited for the flush: min(5 s, request timeout).
                    assertThat(syncMillis).as("synchronous part of the checkpoint, ms").isLessThan(1000);
                    Thread.sleep(500);
                    assertThat(state).as("the asynchronous part waits for the flush").isNotDone();
                    signal(kafka, "CONT");
                    state.get(60, TimeUnit.SECONDS);
                } finally {
                    signal(kafka, "CONT");
                }
                h.complete(2);
                assertThat(awaitDelivered(h)).isTrue();
            }
            assertThat(read(kafka, "events", 2)).containsExactly(blockMessage(first), blockMessage(second));
            assertThat(KafkaFixtures.manifests(deadLetters)).isEmpty();
        }
    }

    private static void signal(ChildProcessKafka kafka, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(kafka.pid())).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -" + signal).isTrue();
    }
}
