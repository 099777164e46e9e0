package io.edgestreaming.job;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * A pass-through operator spliced into the job's graph at a named site; it fails the job once, the way
 * a test {@link Plan} says. Plans live in static fields: the MiniCluster runs in the test's JVM.
 *
 * <ul>
 *   <li>{@link Mode#AFTER_CHECKPOINT}: the first element after checkpoint {@code n} completed throws (or,
 *       if no element comes within {@link #IDLE_FALLBACK_NANOS}, a timer does: the input may be drained).
 *   <li>{@link Mode#ASYNC_SNAPSHOT}: the first snapshot after checkpoint {@code n} completed fails in its
 *       asynchronous phase (the operator state's serializer throws while the state is written out).
 *   <li>{@link Mode#ON_SIGNAL}: throws as soon as the test raises {@link Plan#signal}, also while no
 *       element flows (a processing-time timer polls).
 * </ul>
 */
final class FailureInjector<T> extends AbstractStreamOperator<T> implements OneInputStreamOperator<T, T> {
    private static final long serialVersionUID = 1L;
    private static final long POLL_MILLIS = 10;
    static final long IDLE_FALLBACK_NANOS = 500_000_000L;

    enum Mode { AFTER_CHECKPOINT, ASYNC_SNAPSHOT, ON_SIGNAL }

    /** What to do at one site, and what happened there. */
    static final class Plan {
        final Mode mode;
        final long afterCheckpoint;
        final AtomicBoolean signal = new AtomicBoolean();
        final AtomicBoolean armed = new AtomicBoolean();
        volatile long armedAtNanos;
        final AtomicInteger fired = new AtomicInteger();

        Plan(Mode mode, long afterCheckpoint) {
            this.mode = mode;
            this.afterCheckpoint = afterCheckpoint;
        }

        /** True exactly once across all subtasks: the caller fails now. */
        boolean fire() {
            return fired.compareAndSet(0, 1);
        }
    }

    /** Plans by site. */
    static final Map<String, Plan> PLANS = new ConcurrentHashMap<>();
    /** The highest checkpoint id any injector was told is complete. */
    static final AtomicLong LAST_COMPLETED_CHECKPOINT = new AtomicLong(-1);
    /** Subtasks of any injector that started from restored state (a failover, or a savepoint). */
    static final AtomicInteger RESTORED_SUBTASKS = new AtomicInteger();

    static void reset() {
        PLANS.clear();
        LAST_COMPLETED_CHECKPOINT.set(-1);
        RESTORED_SUBTASKS.set(0);
    }

    /** Splices an injector into {@code stream} at {@code site}. */
    static <T> DataStream<T> at(DataStream<T> stream, String site, TypeInformation<T> type) {
        return at(stream, site, "inject-" + site, type);
    }

    /** As above, for a second injector of the same plan (it fires once across all of them). */
    static <T> DataStream<T> at(DataStream<T> stream, String site, String uid, TypeInformation<T> type) {
        return stream.transform("inject failure: " + site, type, new Factory<T>(site)).uid(uid);
    }

    private final String site;
    private transient ListState<Long> snapshots;

    private FailureInjector(StreamOperatorParameters<T> parameters, String site) {
        super(parameters);
        this.site = site;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        snapshots = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("snapshots", new FailingLongSerializer(site)));
        if (context.isRestored()) {
            RESTORED_SUBTASKS.incrementAndGet();
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        poll();
    }

    private void poll() {
        getProcessingTimeService().registerTimer(getProcessingTimeService().getCurrentProcessingTime() + POLL_MILLIS,
                time -> {
                    Plan plan = PLANS.get(site);
                    if (plan != null && plan.mode == Mode.ON_SIGNAL && plan.signal.get() && plan.fire()) {
                        throw new InjectedFailure(site + ": failure on the test's signal");
                    }
                    if (plan != null && plan.mode == Mode.AFTER_CHECKPOINT && plan.armed.get()
                            && System.nanoTime() - plan.armedAtNanos > IDLE_FALLBACK_NANOS && plan.fire()) {
                        throw new InjectedFailure(site + ": failure after checkpoint " + plan.afterCheckpoint
                                + " completed (no element since)");
                    }
                    poll();
                });
    }

    @Override
    public void processElement(StreamRecord<T> element) throws Exception {
        Plan plan = PLANS.get(site);
        if (plan != null && plan.mode == Mode.AFTER_CHECKPOINT && plan.armed.get() && plan.fire()) {
            throw new InjectedFailure(site + ": failure after checkpoint " + plan.afterCheckpoint + " completed");
        }
        output.collect(element);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        snapshots.update(List.of(context.getCheckpointId()));
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        LAST_COMPLETED_CHECKPOINT.accumulateAndGet(checkpointId, Math::max);
        Plan plan = PLANS.get(site);
        if (plan != null && plan.mode != Mode.ON_SIGNAL && checkpointId >= plan.afterCheckpoint
                && !plan.armed.get()) {
            plan.armedAtNanos = System.nanoTime();
            plan.armed.set(true);
        }
    }

    /** The failure this operator throws; its message names the site. */
    static final class InjectedFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InjectedFailure(String message) {
            super("injected: " + message);
        }
    }

    /**
     * Long serializer whose {@code serialize} throws once an {@link Mode#ASYNC_SNAPSHOT} plan is armed:
     * operator state is copied in a checkpoint's synchronous phase and serialized in its asynchronous one.
     */
    static final class FailingLongSerializer extends TypeSerializerSingleton<Long> {
        private static final long serialVersionUID = 1L;
        private final String site;

        FailingLongSerializer(String site) {
            this.site = site;
        }

        @Override
        public void serialize(Long record, DataOutputView target) throws IOException {
            Plan plan = PLANS.get(site);
            if (plan != null && plan.mode == Mode.ASYNC_SNAPSHOT && plan.armed.get() && plan.fire()) {
                throw new IOException("injected: " + site + ": failure in the asynchronous phase of checkpoint "
                        + record);
            }
            LongSerializer.INSTANCE.serialize(record, target);
        }

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public Long createInstance() {
            return 0L;
        }

        @Override
        public Long copy(Long from) {
            return from;
        }

        @Override
        public Long copy(Long from, Long reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return Long.BYTES;
        }

        @Override
        public Long deserialize(DataInputView source) throws IOException {
            return LongSerializer.INSTANCE.deserialize(source);
        }

        @Override
        public Long deserialize(Long reuse, DataInputView source) throws IOException {
            return deserialize(source);
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws IOException {
            LongSerializer.INSTANCE.copy(source, target);
        }

        @Override
        public TypeSerializerSnapshot<Long> snapshotConfiguration() {
            return new Snapshot();
        }

        /** Restores as a plain long serializer: a restored job has no plan armed. */
        public static final class Snapshot extends SimpleTypeSerializerSnapshot<Long> {
            public Snapshot() {
                super(() -> LongSerializer.INSTANCE);
            }
        }
    }

    private static final class Factory<T> extends AbstractStreamOperatorFactory<T>
            implements OneInputStreamOperatorFactory<T, T> {
        private static final long serialVersionUID = 1L;
        private final String site;

        Factory(String site) {
            this.site = site;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <O extends StreamOperator<T>> O createStreamOperator(StreamOperatorParameters<T> parameters) {
            return (O) new FailureInjector<T>(parameters, site);
        }

        @Override
        @SuppressWarnings("rawtypes")
        public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
            return FailureInjector.class;
        }
    }
}
