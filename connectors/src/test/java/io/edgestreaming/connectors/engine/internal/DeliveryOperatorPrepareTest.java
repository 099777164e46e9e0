package io.edgestreaming.connectors.engine.internal;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.http;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.manifests;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.DeliveryKeys;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import io.edgestreaming.connectors.engine.TransportFactory;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gzip and SHA-256 of {@link Transport#prepare} run off the task thread: processElement only hands the
 * block over; results are applied on the task thread in arrival order, and every block handed over is in
 * the next snapshot, as when prepare ran inside processElement.
 */
class DeliveryOperatorPrepareTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Map<String, Gate> GATES = new ConcurrentHashMap<>();
    private static final AtomicInteger RUNS = new AtomicInteger();

    @TempDir
    Path deadLetters;

    private final String run = "prepare" + RUNS.incrementAndGet();

    @AfterEach
    void forget() {
        GATES.remove(run);
    }

    private static HttpEndpoint endpoint() {
        return http(URI.create("http://gated.invalid/a"));
    }

    private Gate gate() {
        Gate g = new Gate();
        GATES.put(run, g);
        return g;
    }

    @Test
    void processElementReturnsWhileTheBlockIsStillBeingPreparedAndTheNextSnapshotHoldsIt() throws Exception {
        Gate gate = gate();
        CountDownLatch slow = gate.hold(0);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint()));
        OperatorSubtaskState snapshot;
        try (DeliveryHarness h = DeliveryHarness.open(config, new GatedFactory(run), null)) {
            long start = System.nanoTime();
            h.processWithoutWaiting(block(1, "example.com", 0, 3));
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(tookMillis).as("processElement waited for prepare").isLessThan(1000);
            assertThat(gate.started.await(5, TimeUnit.SECONDS)).as("prepare started").isTrue();
            assertThat(gate.accepted).as("applied before its prepare returned").isEmpty();
            slow.countDown();
            h.raw().prepareSnapshotPreBarrier(1); // no mail run: the checkpoint applies what was handed over
            assertThat(gate.accepted).containsExactly(0L);
            snapshot = h.snapshot(1);
            assertThat(h.pending()).isEqualTo(1);
        }
        assertThat(gate.threads).containsOnly("prepare-standard-0");
        try (DeliveryHarness restored = DeliveryHarness.open(config, new GatedFactory(run), snapshot)) {
            assertThat(restored.pending()).as("restored from the snapshot").isEqualTo(1);
        }
    }

    @Test
    void aPreparedBlockIsAppliedByAMailBeforeAnyCheckpoint() throws Exception {
        Gate gate = gate();
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint()));
        try (DeliveryHarness h = DeliveryHarness.open(config, new GatedFactory(run), null)) {
            h.processWithoutWaiting(block(1, "example.com", 0, 3));
            assertThat(h.runMailsUntil(() -> h.pending() == 1, WAIT)).isTrue();
            assertThat(gate.accepted).containsExactly(0L);
        }
    }

    @Test
    void blocksAreAppliedInArrivalOrderWhenTheFirstIsTheSlowest() throws Exception {
        Gate gate = gate();
        CountDownLatch slow = gate.hold(0);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint()));
        try (DeliveryHarness h = DeliveryHarness.open(config, new GatedFactory(run), null)) {
            h.processWithoutWaiting(block(1, "example.com", 0, 1));
            h.processWithoutWaiting(block(1, "example.com", 1, 1));
            h.runMailsFor(Duration.ofMillis(100));
            assertThat(gate.accepted).as("nothing overtakes the slow first block").isEmpty();
            CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(slow::countDown);
            long start = System.nanoTime();
            h.processWithoutWaiting(block(1, "example.com", 2, 1)); // two in flight: waits for the oldest
            assertThat((System.nanoTime() - start) / 1_000_000).as("waited for the oldest").isGreaterThanOrEqualTo(200);
            assertThat(gate.accepted).startsWith(0L);
            h.process(block(1, "example.com", 3, 1));
            h.snapshot(1);
            assertThat(gate.accepted).containsExactly(0L, 1L, 2L, 3L);
            DeliveryOperator op = (DeliveryOperator) h.raw().getOperator();
            assertThat(op.pendingView()).extracting(p -> p.block.sequence()).containsExactly(0L, 1L, 2L, 3L);
        }
    }

    @Test
    void aBlockWhosePrepareThrowsIsDeadLetteredAsBefore() throws Exception {
        Gate gate = gate();
        gate.failing.add(1L);
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint()));
        try (DeliveryHarness h = DeliveryHarness.open(config, new GatedFactory(run), null)) {
            h.processWithoutWaiting(block(1, "example.com", 0, 1));
            h.processWithoutWaiting(block(1, "example.com", 1, 2));
            h.processWithoutWaiting(block(1, "example.com", 2, 1));
            h.snapshot(1); // without prepareSnapshotPreBarrier: snapshotState applies them too
            assertThat(gate.accepted).containsExactly(0L, 2L);
            assertThat(h.runMailsUntil(() -> manifests(deadLetters).size() == 1, WAIT)).isTrue();
            assertThat(h.awaitIo(WAIT)).isTrue();
            assertThat(h.pending()).as("the dead-lettered block is no longer pending").isEqualTo(2);
        }
        var manifest = manifests(deadLetters).get(0);
        assertThat(manifest.get("block_id").asText()).isEqualTo("1/example.com/1");
        assertThat(manifest.get("reason").asText()).contains("cannot prepare the payload: no payload for this block");
    }

    /** What the gated transport saw; shared by run name (the harness serializes the factory). */
    static final class Gate {
        final Map<Long, CountDownLatch> latches = new ConcurrentHashMap<>();
        final Set<Long> failing = ConcurrentHashMap.newKeySet();
        final List<Long> accepted = new CopyOnWriteArrayList<>();
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        final CountDownLatch started = new CountDownLatch(1);

        CountDownLatch hold(long sequence) {
            return latches.computeIfAbsent(sequence, s -> new CountDownLatch(1));
        }
    }

    /** Prepares a held block only once its latch is released (at most 5 s, so an old, blocking operator fails rather than hangs). */
    record GatedFactory(String run) implements TransportFactory {
        @Override
        public String endpointType() {
            return "standard";
        }

        @Override
        public Transport create(DeliveryConfig delivery, io.edgestreaming.config.AddressPolicy addresses) {
            Gate gate = GATES.get(run);
            return new Transport() {
                @Override
                public Prepared prepare(Block block, Endpoint endpoint) throws Exception {
                    gate.threads.add(Thread.currentThread().getName());
                    gate.started.countDown();
                    CountDownLatch latch = gate.latches.get(block.sequence());
                    if (latch != null) {
                        latch.await(5, TimeUnit.SECONDS);
                    }
                    if (gate.failing.contains(block.sequence())) {
                        throw new IllegalStateException("no payload for this block");
                    }
                    return new Prepared(block.records(), DeliveryKeys.of(block.blockId(), block.records()), Prepared.IDENTITY);
                }

                @Override
                public void accepted(StagedBlock block) {
                    gate.accepted.add(block.sequence());
                }

                @Override
                public CompletableFuture<Outcome> deliver(StagedBlock block, Endpoint endpoint) {
                    return CompletableFuture.completedFuture(Outcome.delivered());
                }
            };
        }
    }
}
