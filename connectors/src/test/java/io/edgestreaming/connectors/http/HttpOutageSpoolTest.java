package io.edgestreaming.connectors.http;

import static io.edgestreaming.connectors.Fixtures.http;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.SlowFileSystem;
import io.edgestreaming.connectors.engine.internal.DeliveryHarness;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.testkit.HttpReceiver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An endpoint down (503) long enough to pass its memory share many times while two others keep
 * receiving on the same subtask: the heap held by undelivered blocks stays within the budget at every
 * sample, the dead endpoint's blocks go to the spool, the others arrive within seconds of their
 * checkpoint, and after the recovery every record of every stream arrived once and the spool is empty.
 * Once with a local spool, once with a spool whose every create, open and delete takes 30 ms.
 */
class HttpOutageSpoolTest {
    private static final long BUDGET = 300 * 1024;
    private static final int ROUNDS = 80;
    private static final int RECORDS_PER_BLOCK = 20;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private long maxHeld;
    private final List<String> overBudget = new ArrayList<>();

    @ParameterizedTest(name = "spool on {0}")
    @ValueSource(strings = {"file", SlowFileSystem.SCHEME})
    void aDeadEndpointSpoolsItsBacklogWhileTheOthersKeepFlowingWithinTheBudget(String scheme) throws Exception {
        SlowFileSystem.delay(Duration.ofMillis(30));
        Path spoolDir = dir.resolve("spool");
        Path deadLetters = dir.resolve("dead-letter");
        String spool = scheme.equals("file") ? spoolDir.toUri().toString() : SlowFileSystem.uri(spoolDir);
        try (HttpReceiver dead = HttpReceiver.start(); HttpReceiver good = HttpReceiver.start()) {
            dead.respondWith(503);
            HttpEndpoint deadEndpoint = http(dead.url("/dead"));
            DeliveryConfig delivery = new DeliveryConfig(Duration.ofSeconds(5), Duration.ofMillis(50), Duration.ofMillis(400),
                    Duration.ofMinutes(10), 10_000, 64L << 20, BUDGET, spool);
            JobConfig config = job(deadLetters, delivery, stream(1, deadEndpoint), stream(2, http(good.url("/a"))),
                    stream(3, http(good.url("/b"))));
            Map<String, Long> checkpointOfBlock = new HashMap<>();
            Map<Long, Long> completedAtMillis = new HashMap<>();
            List<Block> all = new ArrayList<>();
            List<String> coveredNext = new ArrayList<>();
            long maxSpooledDead = 0;
            long maxSpoolFiles = 0;
            long worstProcessNanos = 0;
            long worstSnapshotNanos = 0;
            long checkpoint = 0;
            try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
                assertThat(h.memoryBudget()).isEqualTo(BUDGET);
                for (int round = 0; round < ROUNDS; round++) {
                    List<Block> blocks = List.of(block(1, 2L * round), block(1, 2L * round + 1), block(2, round), block(3, round));
                    for (Block b : blocks) {
                        long start = System.nanoTime();
                        h.process(b);
                        worstProcessNanos = Math.max(worstProcessNanos, System.nanoTime() - start);
                        sample(h, "after process");
                        all.add(b);
                        coveredNext.add(b.blockId());
                    }
                    if (round % 2 == 1) {
                        checkpoint++;
                        long start = System.nanoTime();
                        h.snapshot(checkpoint);
                        worstSnapshotNanos = Math.max(worstSnapshotNanos, System.nanoTime() - start);
                        for (String id : coveredNext) {
                            checkpointOfBlock.put(id, checkpoint);
                        }
                        coveredNext.clear();
                        h.complete(checkpoint);
                        completedAtMillis.put(checkpoint, System.currentTimeMillis());
                    }
                    h.runMailsUntil(() -> sample(h, "running mails"), Duration.ofMillis(40));
                    h.advance(Duration.ofMillis(100)); // the dead destination's backoff timers
                    maxSpooledDead = Math.max(maxSpooledDead, h.spooledBytes(deadEndpoint.destinationId()));
                    maxSpoolFiles = Math.max(maxSpoolFiles, files(spoolDir).size());
                }
                assertThat(dead.deliveredBlocks()).as("still down").isEmpty();
                assertThat(maxSpoolFiles).as("spool files during the outage").isGreaterThan(0);
                assertThat(maxSpooledDead).as("the dead destination passed its share several times")
                        .isGreaterThan(3 * BUDGET / 3);

                dead.respondWith(200);
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (h.pending() > 0 && System.nanoTime() < deadline) {
                    h.runMailsUntil(() -> sample(h, "recovering"), Duration.ofMillis(50));
                    h.advance(Duration.ofMillis(250));
                }
                assertThat(h.pending()).as("everything delivered after the recovery").isZero();
                // Files of delivered blocks go once a checkpoint taken after their delivery completed.
                assertThat(files(spoolDir)).as("not before that checkpoint").isNotEmpty();
                h.snapshot(++checkpoint);
                h.complete(checkpoint);
                assertThat(h.awaitIo(WAIT)).isTrue();
                assertThat(h.spooledBytes()).isZero();
                assertThat(h.heldBytes()).isZero();
            }
            assertThat(overBudget).as("heap held by undelivered blocks over the budget of %s bytes", BUDGET).isEmpty();
            assertThat(files(spoolDir)).as("spool empty after the recovery").isEmpty();

            // Every record of every stream exactly once; no key twice, no key with another body.
            for (HttpReceiver r : List.of(dead, good)) {
                assertThat(r.conflictingRepeats()).isEmpty();
                assertThat(r.repeats()).isZero();
                assertThat(r.deliveredBlocks().stream().map(HttpReceiver.Request::idempotencyKey).distinct().count())
                        .isEqualTo(r.deliveredBlocks().size());
            }
            assertThat(dead.deliveredRecords()).containsExactlyInAnyOrderElementsOf(records(all, 1));
            assertThat(good.deliveredRecords()).containsExactlyInAnyOrderElementsOf(
                    Stream.concat(records(all, 2).stream(), records(all, 3).stream()).toList());
            for (HttpReceiver.Request r : dead.deliveredBlocks()) {
                Block b = all.stream().filter(x -> r.idempotencyKey().startsWith(x.blockId() + ":")).findFirst().orElseThrow();
                assertThat(r.idempotencyKey()).isEqualTo(HttpTransport.idempotencyKey(b.blockId(), b.records()));
                assertThat(r.decodedBody()).isEqualTo(b.records());
            }
            assertThat(files(deadLetters).stream().filter(p -> p.startsWith(spoolDir) == false).toList())
                    .as("nothing dead-lettered").isEmpty();

            // The other streams: each block within 5 s of the checkpoint that covered it completing.
            List<Long> latencies = new ArrayList<>();
            for (HttpReceiver.Request r : good.deliveredBlocks()) {
                String blockId = r.idempotencyKey().substring(0, r.idempotencyKey().lastIndexOf(':'));
                long completed = completedAtMillis.get(checkpointOfBlock.get(blockId));
                latencies.add(r.receivedAt().toEpochMilli() - completed);
            }
            latencies.sort(Long::compare);
            long p99 = latencies.get((int) Math.ceil(latencies.size() * 0.99) - 1);
            System.out.printf("spool on %s: max held %d of %d bytes, max spooled (dead destination) %d bytes, max spool files %d,"
                    + " other streams' latency after their checkpoint p50 %d ms p99 %d ms max %d ms, worst processElement %d ms,"
                    + " worst snapshot %d ms%n", scheme, maxHeld, BUDGET, maxSpooledDead, maxSpoolFiles,
                    latencies.get(latencies.size() / 2), p99, latencies.get(latencies.size() - 1),
                    worstProcessNanos / 1_000_000, worstSnapshotNanos / 1_000_000);
            assertThat(latencies).hasSize(2 * ROUNDS);
            assertThat(p99).as("p99 latency of the other streams after their checkpoint (ms)").isLessThanOrEqualTo(5000);
        }
    }

    @org.junit.jupiter.api.Test
    void aRestoreFromACheckpointWhoseBlocksAreSpooledDeliversThemWithTheSameKeyAndBytes() throws Exception {
        Path spoolDir = dir.resolve("spool");
        long budget = 64 * 1024;
        try (HttpReceiver receiver = HttpReceiver.start();
                io.edgestreaming.connectors.LogCapture log = io.edgestreaming.connectors.LogCapture.open()) {
            receiver.respondWith(503);
            DeliveryConfig delivery = new DeliveryConfig(Duration.ofSeconds(5), Duration.ofMillis(50), Duration.ofMillis(400),
                    Duration.ofMinutes(10), 10_000, 64L << 20, budget, spoolDir.toUri().toString());
            JobConfig config = job(dir.resolve("dead-letter"), delivery, stream(1, http(receiver.url("/restore"))));
            List<Block> blocks = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                blocks.add(block(1, i));
            }
            long payload = blocks.stream().mapToLong(b -> b.records().length).sum();
            org.apache.flink.runtime.checkpoint.OperatorSubtaskState checkpoint2;
            long spooled;
            int spooledBlocks;
            try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
                for (Block b : blocks) {
                    h.process(b);
                }
                h.snapshot(1);
                h.complete(1);
                assertThat(h.awaitIo(WAIT)).isTrue();
                h.runMailsFor(Duration.ofMillis(200));
                assertThat(h.awaitIo(WAIT)).isTrue();
                spooled = h.spooledBytes();
                spooledBlocks = h.spooledBlocks();
                assertThat(spooled).as("most of the %s bytes are on the spool", payload).isGreaterThan(payload - budget - 1);
                checkpoint2 = h.snapshot(2);
            } // the "crash": checkpoint 2 is the latest
            // Handles instead of payloads: the checkpoint shrank by (nearly) what is spooled.
            assertThat(checkpoint2.getStateSize()).as("checkpoint size").isLessThan(payload - spooled + 30 * 300L);
            assertThat(files(spoolDir)).hasSize(spooledBlocks);

            receiver.respondWith(200);
            try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), checkpoint2)) {
                assertThat(h.spooledBytes()).isEqualTo(spooled);
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (h.pending() > 0 && System.nanoTime() < deadline) {
                    h.runMailsFor(Duration.ofMillis(50));
                    h.advance(Duration.ofMillis(250));
                }
                assertThat(h.pending()).isZero();
                h.snapshot(3);
                h.complete(3);
                assertThat(h.awaitIo(WAIT)).isTrue();
            }
            assertThat(files(spoolDir)).as("deleted once checkpoint 3 (after the deliveries) completed").isEmpty();
            assertThat(receiver.deliveredBlocks()).hasSize(30);
            assertThat(receiver.conflictingRepeats()).isEmpty();
            for (Block b : blocks) {
                HttpReceiver.Request r = receiver.deliveredBlocks().stream()
                        .filter(x -> x.idempotencyKey().equals(HttpTransport.idempotencyKey(b.blockId(), b.records())))
                        .findFirst().orElseThrow();
                assertThat(r.decodedBody()).isEqualTo(b.records());
            }

            // Restoring the OLDER checkpoint 2 again: its spooled blocks' files are gone (they were
            // delivered): taken as delivered, with a WARN and a count; the ones inline are re-sent (repeats).
            int requests = receiver.requests().size();
            try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), checkpoint2)) {
                assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
                assertThat(h.spoolFilesMissing()).isEqualTo(spooledBlocks);
            }
            assertThat(receiver.requests().size() - requests).isEqualTo(30 - spooledBlocks);
            assertThat(receiver.conflictingRepeats()).isEmpty();
            assertThat(receiver.deliveredBlocks()).hasSize(30);
            assertThat(log.matching("spool file of block", "is gone", "taken as delivered")).isNotEmpty();
        }
    }

    @org.junit.jupiter.api.Test
    void aSpoolSlowerThanTheInputPausesTheInputRatherThanOutgrowTheBudget() throws Exception {
        SlowFileSystem.delay(Duration.ofMillis(150));
        Path spoolDir = dir.resolve("slow-spool");
        long budget = 100 * 1024;
        try (HttpReceiver receiver = HttpReceiver.start()) {
            receiver.respondWith(503);
            DeliveryConfig delivery = new DeliveryConfig(Duration.ofSeconds(5), Duration.ofMillis(50), Duration.ofMillis(400),
                    Duration.ofMinutes(10), 10_000, 64L << 20, budget, SlowFileSystem.uri(spoolDir));
            JobConfig config = job(dir.resolve("dead-letter"), delivery, stream(1, http(receiver.url("/slow-spool"))));
            List<Block> blocks = new ArrayList<>();
            long worst = 0;
            long maxAfterProcess = 0;
            try (DeliveryHarness h = DeliveryHarness.open(config, new HttpTransport.Factory(), null)) {
                for (int i = 0; i < 40; i++) {
                    Block b = block(1, i);
                    blocks.add(b);
                    long start = System.nanoTime();
                    h.process(b); // 10 KB arrive faster than a 150 ms spool takes them
                    worst = Math.max(worst, System.nanoTime() - start);
                    maxAfterProcess = Math.max(maxAfterProcess, h.heldBytes());
                }
                System.out.printf("spool of 150 ms per file: max held after an element %d of %d bytes, longest wait of the"
                        + " input for the spool %d ms%n", maxAfterProcess, budget, worst / 1_000_000);
                assertThat(maxAfterProcess).as("held after each element").isLessThanOrEqualTo(budget);
                assertThat(Duration.ofNanos(worst)).as("the input waited for the spool").isGreaterThan(Duration.ofMillis(100));
                h.snapshot(1);
                h.complete(1);
                receiver.respondWith(200);
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (h.pending() > 0 && System.nanoTime() < deadline) {
                    h.runMailsFor(Duration.ofMillis(50));
                    h.advance(Duration.ofMillis(250));
                }
                assertThat(h.pending()).isZero();
                h.snapshot(2);
                h.complete(2);
                assertThat(h.awaitIo(WAIT)).isTrue();
            } finally {
                SlowFileSystem.delay(Duration.ofMillis(30));
            }
            assertThat(receiver.deliveredBlocks()).hasSize(40);
            assertThat(receiver.conflictingRepeats()).isEmpty();
            assertThat(receiver.deliveredRecords()).containsExactlyInAnyOrderElementsOf(records(blocks, 1));
            assertThat(files(spoolDir)).isEmpty();
        }
    }

    /** Samples the engine's heap accounting; never stops the mail loop. */
    private boolean sample(DeliveryHarness h, String when) {
        long held = h.heldBytes();
        maxHeld = Math.max(maxHeld, held);
        if (held > BUDGET && overBudget.size() < 20) {
            overBudget.add(held + " bytes " + when);
        }
        return false;
    }

    /** A block of about 10 KB: 20 records of about 500 bytes. */
    static Block block(long streamId, long sequence) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < RECORDS_PER_BLOCK; i++) {
            lines.add("{\"stream\":\"" + streamId + "\",\"seq\":\"" + sequence + "\",\"i\":\"" + i + "\",\"pad\":\""
                    + "x".repeat(460) + "\"}");
        }
        return new Block(streamId, DataSource.HTTP, "example.com", sequence, RECORDS_PER_BLOCK,
                String.join("\n", lines).getBytes(StandardCharsets.US_ASCII));
    }

    private static List<String> records(List<Block> blocks, long streamId) {
        return blocks.stream().filter(b -> b.streamId() == streamId)
                .flatMap(b -> Stream.of(new String(b.records(), StandardCharsets.US_ASCII).split("\n")))
                .collect(Collectors.toList());
    }

    static List<Path> files(Path root) {
        if (!Files.exists(root)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
