package io.edgestreaming.connectors.engine.internal;

import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.http;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.DeliveryKeys;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import io.edgestreaming.connectors.engine.TransportContext;
import io.edgestreaming.connectors.engine.TransportFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transport's own checkpoint state: completed off the task thread (the synchronous part of a
 * checkpoint does not wait for it, the checkpoint holds it), restored to the transport, and the
 * previous form of the state (one byte array per element) still read.
 */
class TransportStateTest {
    /** What each run's transport was given at its restore. */
    private static final Map<String, List<String>> RESTORED = new ConcurrentHashMap<>();
    private static final long STATE_DELAY_MILLIS = 600;

    @TempDir
    Path deadLetters;

    private JobConfig config() {
        return job(deadLetters, delivery(), stream(1, http(URI.create("http://state.invalid/a"))));
    }

    @Test
    void aTransportStateCompletedLaterIsWaitedForOffTheTaskThreadAndRestored() throws Exception {
        String run = "deferred";
        CompletableFuture<OperatorSubtaskState> checkpoint;
        try (DeliveryHarness h = DeliveryHarness.open(config(), new LateStateFactory(run), null)) {
            long start = System.nanoTime();
            checkpoint = h.snapshotAsync(7);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("synchronous part, ms")
                    .isLessThan(STATE_DELAY_MILLIS / 2);
            assertThat(checkpoint).isNotDone();
            checkpoint.get(30, TimeUnit.SECONDS);
        }
        try (DeliveryHarness h = DeliveryHarness.open(config(), new LateStateFactory(run), checkpoint.get())) {
            assertThat(RESTORED.get(run)).containsExactly("state of checkpoint 7");
        }
    }

    @Test
    void theStateOfTheEarlierFormIsReadOnceAndNotWrittenAgain() throws Exception {
        OperatorSubtaskState old;
        try (OneInputStreamOperatorTestHarness<Block, Void> h = new OneInputStreamOperatorTestHarness<>(new EarlierForm())) {
            h.open();
            old = h.snapshot(3, 3);
        }
        String run = "earlier";
        OperatorSubtaskState next;
        try (DeliveryHarness h = DeliveryHarness.open(config(), new LateStateFactory(run), old)) {
            assertThat(RESTORED.get(run)).containsExactly("kafka writer state, earlier form");
            next = h.snapshot(4);
        }
        try (DeliveryHarness h = DeliveryHarness.open(config(), new LateStateFactory(run), next)) {
            assertThat(RESTORED.get(run)).containsExactly("state of checkpoint 4");
        }
    }

    /** Writes the transport state as the engine did before it was deferred. */
    static final class EarlierForm extends AbstractStreamOperator<Void> implements OneInputStreamOperator<Block, Void> {
        @Override
        public void initializeState(StateInitializationContext context) throws Exception {
            super.initializeState(context);
            context.getOperatorStateStore().getUnionListState(new ListStateDescriptor<>(
                    DeliveryOperator.UNION_TRANSPORT_STATE_NAME, BytePrimitiveArraySerializer.INSTANCE))
                    .add("kafka writer state, earlier form".getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void processElement(StreamRecord<Block> element) {}
    }

    /** A transport whose checkpoint state completes {@link #STATE_DELAY_MILLIS} later, on another thread. */
    record LateStateFactory(String run) implements TransportFactory {
        @Override
        public String endpointType() {
            return "standard";
        }

        @Override
        public Transport create(DeliveryConfig delivery, io.edgestreaming.config.AddressPolicy addressPolicy) {
            return new Transport() {
                @Override
                public void initializeState(TransportContext context, List<byte[]> restoredState) {
                    RESTORED.put(run, restoredState.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList());
                }

                @Override
                public CompletableFuture<List<byte[]>> snapshotState(long checkpointId) {
                    return CompletableFuture.supplyAsync(
                            () -> List.of(("state of checkpoint " + checkpointId).getBytes(StandardCharsets.UTF_8)),
                            CompletableFuture.delayedExecutor(STATE_DELAY_MILLIS, TimeUnit.MILLISECONDS));
                }

                @Override
                public Prepared prepare(Block block, Endpoint endpoint) {
                    return new Prepared(block.records(), DeliveryKeys.of(block.blockId(), block.records()), Prepared.IDENTITY);
                }

                @Override
                public CompletableFuture<Outcome> deliver(StagedBlock block, Endpoint endpoint) {
                    return CompletableFuture.completedFuture(Outcome.delivered());
                }
            };
        }
    }
}
