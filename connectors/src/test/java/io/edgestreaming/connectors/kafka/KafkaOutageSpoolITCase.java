package io.edgestreaming.connectors.kafka;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static io.edgestreaming.connectors.kafka.KafkaDeliveryITCase.process;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.blockMessage;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.endpoint;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.read;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.internal.DeliveryHarness;
import io.edgestreaming.testkit.EmbeddedKafka;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Kafka cluster down for long, with a small memory budget: its blocks leave the heap for the spool
 * (the engine's and the writer's references alike: checked with weak references to the payloads, so
 * the heap really lets go of them), and when the cluster returns the writer reads them back and every
 * block arrives exactly once; the spool is empty afterwards.
 */
class KafkaOutageSpoolITCase {
    private static final long BUDGET = 32 * 1024;
    private static final int BLOCKS = 60;

    @TempDir
    Path dir;

    @Test
    void aDownClusterSpoolsItsBacklogAndWritesItOnceWhenBack() throws Exception {
        Path spoolDir = dir.resolve("spool");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopic("events", 1);
            JobConfig config = config(kafka, spoolDir);
            List<String> expected = new ArrayList<>();
            List<WeakReference<byte[]>> payloads = new ArrayList<>();
            long cp = 0;
            try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
                Block first = block(1, "example.com", 0, 100);
                expected.add(blockMessage(first));
                process(h, first);
                h.snapshot(++cp);
                h.complete(cp);
                assertThat(KafkaDeliveryITCase.awaitDelivered(h)).isTrue();

                kafka.stopBroker();
                for (int i = 1; i <= BLOCKS; i++) {
                    Block b = block(1, "example.com", i, 100);
                    expected.add(blockMessage(b));
                    payloads.add(new WeakReference<>(b.records()));
                    process(h, b);
                    if (i % 10 == 0) {
                        h.snapshot(++cp);
                        h.complete(cp);
                    }
                    h.runMailsFor(Duration.ofMillis(20));
                    h.advance(Duration.ofMillis(100));
                    assertThat(h.heldBytes()).as("held in the heap after block %s", i).isLessThanOrEqualTo(BUDGET);
                }
                assertThat(h.awaitIo(Duration.ofSeconds(30))).isTrue();
                long spooled = h.spooledBytes();
                long total = (long) BLOCKS * first.records().length;
                assertThat(spooled).as("most of the %s bytes are on the spool", total).isGreaterThan(total - BUDGET - 4096);
                long freed = 0;
                for (int attempt = 0; attempt < 20 && freed < (total - 2 * BUDGET) / first.records().length; attempt++) {
                    System.gc();
                    Thread.sleep(50);
                    freed = payloads.stream().filter(r -> r.get() == null).count();
                }
                assertThat(freed).as("payloads let go of by the engine and the writer (of %s)", BLOCKS)
                        .isGreaterThanOrEqualTo((total - 2 * BUDGET) / first.records().length);

                kafka.startBroker();
                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                while (h.pending() > 0 && System.nanoTime() < deadline) {
                    h.snapshot(++cp);
                    h.complete(cp);
                    h.runMailsUntil(() -> h.pending() == 0, Duration.ofMillis(300));
                    h.advance(Duration.ofMillis(500));
                }
                assertThat(h.pending()).as("everything written after the cluster returned").isZero();
                h.snapshot(++cp);
                h.complete(cp);
                assertThat(h.awaitIo(Duration.ofSeconds(30))).isTrue();
                assertThat(h.spooledBytes()).isZero();
            }
            assertThat(read(kafka, "events", expected.size())).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(files(spoolDir)).as("spool empty").isEmpty();
            assertThat(KafkaFixtures.manifests(dir.resolve("dead-letter"))).as("nothing dead-lettered").isEmpty();
        }
    }

    /**
     * A spooled Kafka block whose file is gone (only ever deleted once the block was acknowledged: a restore
     * of an older checkpoint) is taken as delivered, with a count, and the destination's other blocks still
     * arrive once: a missing file never blocks the destination.
     */
    @Test
    void aSpooledBlockWhoseFileIsGoneDoesNotStallTheDestination() throws Exception {
        Path spoolDir = dir.resolve("spool");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopic("events", 1);
            JobConfig config = config(kafka, spoolDir);
            List<Block> blocks = new ArrayList<>();
            long cp = 0;
            try (DeliveryHarness h = DeliveryHarness.open(config, new KafkaTransport.Factory(), null)) {
                kafka.stopBroker();
                for (int i = 0; i < 30; i++) {
                    Block b = block(1, "example.com", i, 100);
                    blocks.add(b);
                    process(h, b);
                    h.runMailsFor(Duration.ofMillis(10));
                }
                h.snapshot(++cp);
                h.complete(cp);
                assertThat(h.awaitIo(Duration.ofSeconds(30))).isTrue();
                List<Path> spooled = files(spoolDir);
                assertThat(spooled).as("spooled blocks").hasSizeGreaterThan(5);
                List<String> gone = new ArrayList<>();
                for (Path f : spooled.subList(0, 3)) {
                    gone.add(f.getFileName().toString());
                    Files.delete(f);
                }
                kafka.startBroker();
                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                while (h.pending() > 0 && System.nanoTime() < deadline) {
                    h.snapshot(++cp);
                    h.complete(cp);
                    h.runMailsUntil(() -> h.pending() == 0, Duration.ofMillis(300));
                    h.advance(Duration.ofMillis(500));
                }
                assertThat(h.pending()).as("nothing stalls on the missing files").isZero();
                assertThat(h.spoolFilesMissing()).isEqualTo(3);
                List<String> expected = blocks.stream()
                        .filter(b -> gone.stream().noneMatch(g -> g.startsWith(b.sequence() + "-")))
                        .map(KafkaFixtures::blockMessage).toList();
                assertThat(expected).hasSize(27);
                assertThat(read(kafka, "events", expected.size())).containsExactlyInAnyOrderElementsOf(expected);
            }
        }
    }

    /** One block-format stream to topic "events", a {@link #BUDGET} memory budget and a spool in {@code spoolDir}. */
    private JobConfig config(EmbeddedKafka kafka, Path spoolDir) {
        DeliveryConfig delivery = new DeliveryConfig(Duration.ofSeconds(3), Duration.ofMillis(50), Duration.ofMillis(400),
                Duration.ofMinutes(10), 10_000, 64L << 20, BUDGET, spoolDir.toUri().toString());
        return job(dir.resolve("dead-letter"), delivery,
                stream(1, endpoint(kafka, "events", KafkaEndpoint.MessageFormat.BLOCK, "none")));
    }

    private static List<Path> files(Path root) throws IOException {
        if (!Files.exists(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }
}
