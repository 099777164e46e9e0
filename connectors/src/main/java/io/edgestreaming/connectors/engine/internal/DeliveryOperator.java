package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.DeliveryRoutes;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import io.edgestreaming.connectors.engine.TransportContext;
import io.edgestreaming.connectors.engine.TransportFactory;
import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.SharedJobConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.runtime.checkpoint.CheckpointOptions;
import org.apache.flink.runtime.checkpoint.SavepointType;
import org.apache.flink.runtime.state.CheckpointStreamFactory;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.OperatorSnapshotFutures;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write-ahead delivery operator: keeps every block in operator state from its arrival until the
 * destination acknowledged it (or it was dead-lettered), and sends nothing before the checkpoint that
 * covers the block completed. See {@link io.edgestreaming.connectors.engine} for why.
 *
 * <p>Life of a block: {@link #processElement} hands it to the {@link Preparer}, which prepares it (exact
 * payload + delivery key) off the task thread; {@code accept} then holds it unstaged, on the task
 * thread, in arrival order, always before the next snapshot; {@link #snapshotState} stages it under the
 * checkpoint id (and writes every undelivered block into the snapshot); {@link #notifyCheckpointComplete}
 * moves blocks staged at or before that id to their destination's queue; the {@link DeliveryEngine}
 * sends them asynchronously within the destination's concurrency and circuit-breaker limits and the
 * subtask's memory budget (spooling what does not fit); prepared blocks, outcomes and I/O results come
 * back as mailbox mails, so all state is touched on the task thread only. This class keeps the checkpoint
 * life cycle; {@link CheckpointStaging} keeps the blocks between arrival and release (and why a stop
 * savepoint releases none), {@link DeliveryEndpoints} what the configuration says about endpoints.
 *
 * <p>Pending blocks are a plain (split-redistributed) operator {@link ListState}: any subtask can
 * deliver any block (each has the whole configuration), so on rescaling the pending blocks are simply
 * spread over the new subtasks; a union list state would make every subtask re-deliver everything.
 * The transport's own state, in contrast, is union list state: what it remembers about a block (a
 * Kafka transaction it is in, or that it is already committed) must reach whichever subtask the
 * block lands on; the transport picks out what concerns its restored blocks.
 */
public final class DeliveryOperator extends AbstractStreamOperator<Void> implements OneInputStreamOperator<Block, Void> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryOperator.class);
    static final String STATE_NAME = "pending-blocks";
    /**
     * The transport's own state is union list state: after rescaling every subtask sees everything the
     * transport kept (a Kafka transaction and the blocks in it can land on different subtasks, since
     * the pending blocks are split independently), and the transport keeps only what concerns it.
     */
    static final String TRANSPORT_STATE_NAME = "transport-state-deferred";
    /** The same, one byte array per element, written before the state could be completed off the task thread. */
    static final String UNION_TRANSPORT_STATE_NAME = "transport-state-union";
    /** Split-redistributed transport state of checkpoints taken before it became union state. */
    static final String LEGACY_TRANSPORT_STATE_NAME = "transport-state";

    private final String endpointType;
    private final TransportFactory transportFactory;
    /** Held while the operator lives: it keeps the TaskManager's one copy of the configuration. */
    private final transient SharedJobConfig.Shared config;
    private final DeliveryConfig delivery;
    private final AddressPolicy addressPolicy;
    private final String deadLetterPath;
    private final DeliveryEndpoints endpoints;
    private final DeliveryOperatorFactory.Options options;
    private final transient MailboxExecutor mailbox;

    private transient Transport transport;
    private transient DeliveryEngine engine;
    private transient Preparer preparer;
    private transient Backoff backoff;
    private transient ListState<Pending> state;
    private transient ListState<DeferredTransportState> transportState;
    /** Every undelivered block of this subtask by delivery key, in arrival order. */
    private transient LinkedHashMap<String, Pending> pending;
    private transient CheckpointStaging staging;
    private transient Map<String, Destination> destinations;
    private transient boolean finished;

    DeliveryOperator(
            StreamOperatorParameters<Void> parameters,
            SharedJobConfig.Shared config,
            String endpointType,
            TransportFactory transportFactory,
            DeliveryOperatorFactory.Options options,
            DeliveryRoutes routes) {
        super(parameters);
        this.mailbox = parameters.getMailboxExecutor();
        this.endpointType = endpointType;
        this.transportFactory = transportFactory;
        this.config = config;
        this.delivery = config.config().delivery();
        this.addressPolicy = config.config().addressPolicy();
        this.deadLetterPath = config.config().deadLetter().blocksPath();
        this.options = options;
        this.endpoints = new DeliveryEndpoints(config, endpointType, routes);
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        transport = transportFactory.create(delivery, addressPolicy);
        backoff = new Backoff(delivery.initialBackoff(), delivery.maxBackoff());
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        engine = new DeliveryEngine(endpointType, transport, delivery, endpoints.byStream(), options, mailbox,
                getProcessingTimeService(), getMetricGroup(), deadLetterPath, delivery.spoolPathOr(deadLetterPath),
                memoryBudget(), "delivery-io-" + endpointType + "-" + subtask);
        preparer = new Preparer("prepare-" + endpointType + "-" + subtask, 1, Preparer.MAX_IN_FLIGHT, transport, mailbox,
                this::accept);
        pending = engine.pending;
        destinations = engine.destinations;
        staging = new CheckpointStaging(engine);
        state = context.getOperatorStateStore().getListState(new ListStateDescriptor<>(STATE_NAME, PendingSerializer.INSTANCE));
        transportState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>(TRANSPORT_STATE_NAME, DeferredTransportState.Serializer.INSTANCE));
        List<byte[]> restoredTransportState = new ArrayList<>();
        if (context.isRestored()) {
            for (DeferredTransportState s : transportState.get()) {
                restoredTransportState.addAll(s.get());
            }
            // Older forms, read once and emptied (registered only here: a fresh job's checkpoints stay without them).
            ListState<byte[]> unionTransportState = context.getOperatorStateStore().getUnionListState(
                    new ListStateDescriptor<>(UNION_TRANSPORT_STATE_NAME, BytePrimitiveArraySerializer.INSTANCE));
            ListState<byte[]> legacyTransportState = context.getOperatorStateStore().getListState(
                    new ListStateDescriptor<>(LEGACY_TRANSPORT_STATE_NAME, BytePrimitiveArraySerializer.INSTANCE));
            unionTransportState.get().forEach(restoredTransportState::add);
            legacyTransportState.get().forEach(restoredTransportState::add);
            unionTransportState.clear();
            legacyTransportState.clear();
        }
        transport.initializeState(new TransportContext(getRuntimeContext().getJobInfo().getJobId().toHexString(),
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks(),
                getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks(),
                context.getRestoredCheckpointId().orElse(-1L), endpoints.ofType(), getMetricGroup(), endpoints.largestBlocks()),
                restoredTransportState);
        if (context.isRestored()) {
            // Whatever a restored snapshot holds is covered by a completed checkpoint (the restored
            // one): deliverable now, with the key and bytes fixed when it was staged.
            List<StagedBlock> restored = new ArrayList<>();
            long now = engine.now();
            for (Pending p : state.get()) {
                if (!pending.containsKey(p.key())) {
                    engine.add(p);
                    if (!p.refused()) {
                        restored.add(p.block);
                    }
                }
            }
            transport.restore(restored);
            for (Pending p : new ArrayList<>(pending.values())) {
                if (!p.refused() && !p.lastReason.isEmpty()) {
                    // Rebuild the retry schedule of blocks that had failed (timers are not part of
                    // checkpoints). One merely in flight at the snapshot goes again at once.
                    p.nextAttemptMillis = Math.max(now, p.lastAttemptMillis + backoff.delayMillis(p.attempts));
                }
                engine.release(p, now);
            }
            LOG.info("Delivery ({}): restored {} undelivered block(s) from checkpoint {}", endpointType, restored.size(),
                    context.getRestoredCheckpointId().orElse(-1));
        }
    }

    /**
     * {@code delivery.memory_budget}, or {@link MemoryBudget#derive} from the heap, the TaskManager's slots
     * ({@code taskmanager.numberOfTaskSlots} of the task's configuration) and the endpoint types in use.
     */
    private long memoryBudget() {
        if (delivery.memoryBudget() != DeliveryConfig.DERIVED_MEMORY_BUDGET) {
            return delivery.memoryBudget();
        }
        int slots = getContainingTask().getEnvironment().getTaskManagerInfo().getConfiguration()
                .get(TaskManagerOptions.NUM_TASK_SLOTS);
        long budget = MemoryBudget.derive(Runtime.getRuntime().maxMemory(), slots, endpoints.typesInUse());
        LOG.info("Delivery ({}): memory budget {} bytes ({}% of the heap / {} slot(s) / {} delivery operator(s) per slot)",
                endpointType, budget, (int) (MemoryBudget.HEAP_FRACTION * 100), slots, endpoints.typesInUse());
        return budget;
    }

    @Override
    public void open() throws Exception {
        super.open();
        engine.dispatchAll();
    }

    @Override
    public void processElement(StreamRecord<Block> element) throws Exception {
        Block block = element.getValue();
        Endpoint endpoint = endpoints.byStream().get(block.streamId());
        if (endpoint == null) {
            deadLetterUnprepared(block, "unknown", "unknown", "stream " + block.streamId() + " is not in the configuration");
            return;
        }
        preparer.submit(block, endpoint);
    }

    /** A prepared block (or its prepare's failure), in arrival order, on the task thread. */
    private void accept(Block block, Endpoint endpoint, Prepared prepared, Exception failure) throws Exception {
        Destination d = engine.destination(endpoint.destinationId());
        if (failure != null) {
            deadLetterUnprepared(block, endpoint.destinationId(), endpoint.describe(), "cannot prepare the payload: " + failure.getMessage());
            return;
        }
        StagedBlock staged = new StagedBlock(block.streamId(), block.dataSource(), block.domain(), block.sequence(),
                block.recordCount(), endpoint.destinationId(), prepared.payload(), prepared.deliveryKey(), prepared.contentEncoding());
        if (pending.containsKey(staged.deliveryKey())) {
            return; // the very same bytes with the same identity are already pending
        }
        Pending p = new Pending(staged);
        // Blocks waiting for their checkpoint do not count: only what the destination failed to take.
        String refusal = engine.backlogRefusal(d, p.bytes());
        if (refusal != null) {
            if (!options.checkpointingEnabled()) {
                engine.add(p);
                engine.deadLetter(d, p, endpoint, refusal);
                return;
            }
            // Not yet: a failure before a checkpoint covers it replays the block, which may then be
            // accepted and delivered. Held (never sent) until that checkpoint completes.
            p.deadLetterReason = refusal;
        }
        engine.add(p);
        if (options.checkpointingEnabled()) {
            staging.arrived(p);
            if (!p.refused()) {
                transport.accepted(p.block);
            }
        } else {
            // No checkpoint will ever come: nothing to wait for (and no exactly-once either).
            engine.makeDeliverable(p, engine.now());
            engine.dispatch(d);
        }
        engine.awaitBudget();
    }

    /** Every block handed over is in the snapshot, as when prepare ran inside processElement. */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        preparer.applyAll();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    /** Notes a stop savepoint's id: only here does Flink tell an operator what kind of snapshot it takes. */
    @Override
    public OperatorSnapshotFutures snapshotState(long checkpointId, long timestamp, CheckpointOptions checkpointOptions,
            CheckpointStreamFactory factory) throws Exception {
        preparer.applyAll(); // again (after prepareSnapshotPreBarrier): nothing handed over may miss the snapshot
        if (checkpointOptions.getCheckpointType() instanceof SavepointType savepoint
                && savepoint.isSynchronous() && !savepoint.shouldDrain()) {
            // What is acknowledged before the savepoint is not in it; what is in it, only the restored job sends.
            staging.stopSavepointTaken(checkpointId);
            if (transport.resendsInFlightAfterRestore()) {
                engine.awaitInFlight(System.currentTimeMillis() + delivery.requestTimeout().toMillis() + 1000);
            }
        }
        return super.snapshotState(checkpointId, timestamp, checkpointOptions, factory);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        // Every block handed over was applied by snapshotState(long, ...), the only way here.
        super.snapshotState(context);
        long checkpointId = context.getCheckpointId();
        staging.stage(checkpointId, transport);
        state.update(new ArrayList<>(pending.values()));
        // Completed by the transport off the task thread; the asynchronous part writes it (see DeferredTransportState).
        transportState.update(List.of(new DeferredTransportState(transport.snapshotState(checkpointId))));
        engine.checkpointTaken(checkpointId);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        int held = staging.checkpointCompleted(checkpointId, finished);
        if (held > 0) {
            LOG.info("Delivery ({}): stop-with-savepoint {} completed; its {} staged block(s) are left to the job"
                    + " restored from it", endpointType, checkpointId, held);
        }
        // Also at a stop: Kafka commits the savepoint's transaction now (a restore reads its fate back),
        // so no transaction stays open behind a stopped job.
        transport.checkpointCompleted(checkpointId);
        for (Destination d : destinations.values()) {
            engine.dispatch(d);
        }
        engine.checkpointCompleted(checkpointId);
        if (finished && staging.isEmpty()) {
            // The final checkpoint of a bounded input: the task ends when this returns, so drain now.
            drain();
        }
    }

    @Override
    public void notifyCheckpointAborted(long checkpointId) throws Exception {
        super.notifyCheckpointAborted(checkpointId);
        staging.checkpointAborted(checkpointId); // its blocks stay staged under its id
    }

    @Override
    public void finish() throws Exception {
        preparer.applyAll();
        finished = true;
        transport.finish();
        if (!options.checkpointingEnabled()) {
            drain();
        }
        // With checkpointing, the final checkpoint stages what is left and its notification drains.
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            if (preparer != null) {
                preparer.close(); // blocks not applied are not in the last checkpoint: replayed
            }
            if (engine != null) {
                engine.close();
            }
            if (transport != null) {
                transport.close();
            }
        } finally {
            super.close();
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** Delivers or dead-letters everything pending before the task ends (bounded input). */
    private void drain() throws Exception {
        staging.releaseAll(System.currentTimeMillis());
        engine.drain();
    }

    private void deadLetterUnprepared(Block block, String destinationId, String destination, String reason) throws Exception {
        String key = io.edgestreaming.connectors.engine.DeliveryKeys.of(block.blockId(), block.records());
        StagedBlock staged = new StagedBlock(block.streamId(), block.dataSource(), block.domain(), block.sequence(),
                block.recordCount(), destinationId, block.records(), key, Prepared.IDENTITY);
        if (!pending.containsKey(key)) {
            engine.deadLetterAtOnce(new Pending(staged), destination, reason);
        }
    }

    // Visible for tests.
    int pendingCount() {
        return pending.size();
    }

    /** Applies every block handed over, as before a snapshot. */
    void applyPrepared() throws Exception {
        preparer.applyAll();
    }

    boolean prepareMailQueued() {
        return preparer.mailQueued();
    }

    Collection<Pending> pendingView() {
        return pending.values();
    }

    Destination destinationView(String id) {
        return destinations.get(id);
    }

    DeliveryEngine engineView() {
        return engine;
    }
}
