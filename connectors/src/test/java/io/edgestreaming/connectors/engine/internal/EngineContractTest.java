package io.edgestreaming.connectors.engine.internal;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.http;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delivery engine on its own, with a transport whose answers each test scripts per destination (the
 * engine's SPI, not a stand-in for a server: the transports have their own tests against real servers).
 * What every endpoint type relies on: nothing before its checkpoint completes, retries with backoff and
 * one probe at a time while failing, permanent refusals and expired retries dead-lettered with their
 * reason, one destination that never answers delaying no other, and a restore that sends the same key
 * and bytes again.
 */
class EngineContractTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Map<String, Script> SCRIPTS = new ConcurrentHashMap<>();
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static final java.util.concurrent.ScheduledExecutorService ANSWERS =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "scripted-endpoint");
                t.setDaemon(true);
                return t;
            });

    @TempDir
    Path deadLetters;

    private final String run = "run" + RUNS.incrementAndGet();

    @AfterEach
    void forget() {
        SCRIPTS.remove(run);
    }

    private static HttpEndpoint endpoint(String name) {
        return http(URI.create("http://scripted.invalid/" + name));
    }

    @Test
    void nothingIsSentBeforeTheCheckpointThatCoversItCompletes() throws Exception {
        Script script = script();
        JobConfig config = job(deadLetters, delivery(), stream(1, endpoint("a")));
        try (DeliveryHarness h = DeliveryHarness.open(config, factory(), null)) {
            h.process(block(1, "example.com", 0, 2));
            h.snapshot(1);
            h.process(block(1, "example.com", 1, 2));
            h.runMailsFor(Duration.ofMillis(200));
            assertThat(script.calls()).as("no checkpoint completed").isEmpty();
            h.complete(1);
            assertThat(h.runMailsUntil(() -> h.pending() == 1, WAIT)).isTrue();
            assertThat(script.calls()).extracting(Call::blockId).containsExactly("1/example.com/0");
            h.snapshot(2);
            h.complete(2);
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
            assertThat(script.calls()).extracting(Call::blockId).containsExactly("1/example.com/0", "1/example.com/1");
        }
    }

    @Test
    void aFailingDestinationIsRetriedWithBackoffOneProbeAtATimeThenDelivered() throws Exception {
        Script script = script();
        HttpEndpoint a = endpoint("a");
        for (int i = 0; i < 8; i++) {
            script.answer(a, Outcome.retry("503"));
        }
        JobConfig config = job(deadLetters, delivery(), stream(1, a));
        try (DeliveryHarness h = DeliveryHarness.open(config, factory(), null)) {
            for (int i = 0; i < 4; i++) {
                h.process(block(1, "example.com", i, 1));
            }
            h.snapshot(1);
            h.complete(1);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (h.pending() > 0 && System.nanoTime() < deadline) {
                h.runMailsFor(Duration.ofMillis(20));
                assertThat(script.maxInFlightWhileFailing()).as("one probe at a time while failing").isLessThanOrEqualTo(1);
                h.advance(Duration.ofMillis(200));
            }
            assertThat(h.pending()).isZero();
            assertThat(h.retries(a.destinationId())).isEqualTo(8);
            assertThat(script.delivered()).hasSize(4);
            assertThat(manifests()).isEmpty();
        }
    }

    @Test
    void aPermanentRefusalIsDeadLetteredAtOnceWithItsReason() throws Exception {
        Script script = script();
        HttpEndpoint a = endpoint("a");
        script.answer(a, Outcome.permanent("HTTP 400: bad record"));
        JobConfig config = job(deadLetters, delivery(), stream(1, a));
        Block refused = block(1, "example.com", 0, 3);
        try (DeliveryHarness h = DeliveryHarness.open(config, factory(), null)) {
            h.process(refused);
            h.process(block(1, "example.com", 1, 1));
            h.snapshot(1);
            h.complete(1);
            assertThat(h.runMailsUntil(() -> h.pending() == 0 && manifests().size() == 1, WAIT)).isTrue();
            assertThat(h.awaitIo(WAIT)).isTrue();
        }
        JsonNode manifest = manifests().get(0);
        assertThat(manifest.get("block_id").asText()).isEqualTo(refused.blockId());
        assertThat(manifest.get("reason").asText()).contains("HTTP 400: bad record");
        assertThat(manifest.get("attempts").asInt()).isEqualTo(1);
    }

    @Test
    void retriesEndAfterMaxRetryDurationInTheDeadLetterStore() throws Exception {
        Script script = script();
        HttpEndpoint a = endpoint("a");
        script.always(a, Outcome.retry("connection refused"));
        DeliveryConfig shortRetry = delivery(Duration.ofSeconds(2));
        JobConfig config = job(deadLetters, shortRetry, stream(1, a));
        try (DeliveryHarness h = DeliveryHarness.open(config, factory(), null)) {
            h.process(block(1, "example.com", 0, 1));
            h.snapshot(1);
            h.complete(1);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (h.pending() > 0 && System.nanoTime() < deadline) {
                h.runMailsFor(Duration.ofMillis(20));
                h.advance(Duration.ofMillis(300));
            }
            assertThat(h.pending()).isZero();
            assertThat(h.awaitIo(WAIT)).isTrue();
        }
        assertThat(manifests()).singleElement().satisfies(m -> assertThat(m.get("reason").asText())
                .contains("not delivered within max_retry_duration").contains("connection refused"));
    }

    @Test
    void aDestinationThatNeverAnswersDelaysNoOther() throws Exception {
        Script script = script();
        HttpEndpoint stuck = endpoint("stuck");
        HttpEndpoint fine = endpoint("fine");
        script.hang(stuck);
        JobConfig config = job(deadLetters, delivery(), stream(1, stuck), stream(2, fine));
        try (DeliveryHarness h = DeliveryHarness.open(config, factory(), null)) {
            for (long cp = 1; cp <= 5; cp++) {
                for (int i = 0; i < 5; i++) {
                    h.process(block(1, "example.com", cp * 10 + i, 1));
                    h.process(block(2, "example.com", cp * 10 + i, 1));
                }
                h.snapshot(cp);
                h.complete(cp);
                long expected = cp * 5;
                assertThat(h.runMailsUntil(() -> script.delivered(fine).size() == expected, WAIT))
                        .as("checkpoint " + cp + ": the other destination's blocks all delivered").isTrue();
            }
            assertThat(script.delivered(stuck)).isEmpty();
            assertThat(h.runMailsUntil(() -> h.pending() == 25, WAIT)).as("only the stuck destination's blocks pending").isTrue();
        }
    }

    @Test
    void aRestoreSendsTheSameKeyAndBytesAgain() throws Exception {
        Script script = script();
        HttpEndpoint a = endpoint("a");
        script.hang(a);
        JobConfig config = job(deadLetters, delivery(), stream(1, a));
        Block b = block(1, "example.com", 7, 4);
        OperatorSubtaskState checkpoint;
        try (DeliveryHarness h = DeliveryHarness.open(config, factory(), null)) {
            h.process(b);
            checkpoint = h.snapshot(1);
            h.complete(1);
            assertThat(h.runMailsUntil(() -> script.calls().size() == 1, WAIT)).isTrue();
        }
        Script again = script();
        try (DeliveryHarness h = DeliveryHarness.open(config, factory(), checkpoint)) {
            assertThat(h.runMailsUntil(() -> h.pending() == 0, WAIT)).isTrue();
        }
        Call first = script.calls().get(0);
        Call second = again.calls().get(0);
        assertThat(second.key()).isEqualTo(first.key()).isEqualTo(DeliveryKeys.of(b.blockId(), b.records()));
        assertThat(second.payload()).isEqualTo(first.payload()).isEqualTo(b.records());
    }

    // ---------------------------------------------------------------------------------------------

    private Script script() {
        Script s = new Script();
        SCRIPTS.put(run, s);
        return s;
    }

    private TransportFactory factory() {
        return new ScriptedFactory(run);
    }

    private List<JsonNode> manifests() {
        return io.edgestreaming.connectors.Fixtures.manifests(deadLetters);
    }

    record Call(String destinationId, String blockId, String key, byte[] payload) {}

    /** Answers per destination: scripted outcomes first, then the default; records every call. */
    static final class Script {
        private final Map<String, Queue<Outcome>> answers = new ConcurrentHashMap<>();
        private final Map<String, Outcome> defaults = new ConcurrentHashMap<>();
        private final Map<String, Boolean> hanging = new ConcurrentHashMap<>();
        private final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
        private final Map<String, List<String>> delivered = new ConcurrentHashMap<>();
        private final AtomicInteger inFlight = new AtomicInteger();
        private volatile int maxInFlightWhileFailing;
        private volatile boolean failing;

        void answer(Endpoint e, Outcome... outcomes) {
            answers.computeIfAbsent(e.destinationId(), k -> new ArrayDeque<>()).addAll(List.of(outcomes));
        }

        void always(Endpoint e, Outcome outcome) {
            defaults.put(e.destinationId(), outcome);
        }

        void hang(Endpoint e) {
            hanging.put(e.destinationId(), true);
        }

        List<Call> calls() {
            synchronized (calls) {
                return List.copyOf(calls);
            }
        }

        List<String> delivered() {
            List<String> all = new ArrayList<>();
            delivered.values().forEach(all::addAll);
            return all;
        }

        List<String> delivered(Endpoint e) {
            return delivered.getOrDefault(e.destinationId(), List.of());
        }

        int maxInFlightWhileFailing() {
            return maxInFlightWhileFailing;
        }

        CompletableFuture<Outcome> deliver(StagedBlock block) {
            String id = block.destinationId();
            calls.add(new Call(id, block.blockId(), block.deliveryKey(), block.payload().clone()));
            if (hanging.containsKey(id)) {
                return new CompletableFuture<>();
            }
            int outstanding = inFlight.incrementAndGet();
            if (failing) {
                maxInFlightWhileFailing = Math.max(maxInFlightWhileFailing, outstanding);
            }
            Queue<Outcome> queue = answers.get(id);
            Outcome scripted = queue == null ? null : queue.poll();
            Outcome o = scripted != null ? scripted : defaults.getOrDefault(id, Outcome.delivered());
            // Answered a little later, like a real endpoint: attempts overlap as they would.
            CompletableFuture<Outcome> answer = new CompletableFuture<>();
            ANSWERS.schedule(() -> {
                failing = o.kind() == Outcome.Kind.RETRY;
                if (o.kind() == Outcome.Kind.DELIVERED) {
                    delivered.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>())).add(block.blockId());
                }
                inFlight.decrementAndGet();
                answer.complete(o);
            }, 20, java.util.concurrent.TimeUnit.MILLISECONDS);
            return answer;
        }
    }

    /** Serializable: finds its script by run name (the operator harness serializes the factory). */
    record ScriptedFactory(String run) implements TransportFactory {
        @Override
        public String endpointType() {
            return "standard";
        }

        @Override
        public Transport create(DeliveryConfig delivery, io.edgestreaming.config.AddressPolicy addresses) {
            Script script = SCRIPTS.get(run);
            return new Transport() {
                @Override
                public Prepared prepare(Block block, Endpoint endpoint) {
                    return new Prepared(block.records(), DeliveryKeys.of(block.blockId(), block.records()), Prepared.IDENTITY);
                }

                @Override
                public CompletableFuture<Outcome> deliver(StagedBlock block, Endpoint endpoint) {
                    return script.deliver(block);
                }
            };
        }
    }
}
