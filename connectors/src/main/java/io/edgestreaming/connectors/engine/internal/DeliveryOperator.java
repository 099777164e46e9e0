package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import io.edgestreaming.connectors.engine.TransportContext;
import io.edgestreaming.connectors.engine.TransportFactory;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.StreamConfig;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.apache.flink.api.common.operators.MailboxExecutor;
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
 * <p>Life of a block: {@link #processElement} prepares it (exact payload + delivery key) and holds it
 * unstaged; {@link #snapshotState} stages it under the checkpoint id (and writes every undelivered
 * block into the snapshot); {@link #notifyCheckpointComplete} moves blocks staged at or before that id
 * to their destination's queue; {@link #dispatch} sends them asynchronously within the destination's
 * concurrency and circuit-breaker limits; the outcome comes back as a mailbox mail
 * ({@link #onOutcome}), so all state is touched on the task thread only. Blocks staged by the savepoint
 * of {@code flink stop} (synchronous, no drain) are not released by its notification: they are in the
 * savepoint, so the job restored from it sends them (see {@link #stopSavepoints}).
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
    static final String TRANSPORT_STATE_NAME = "transport-state-union";
    /** Split-redistributed transport state of checkpoints taken before it became union state. */
    static final String LEGACY_TRANSPORT_STATE_NAME = "transport-state";
    private static final int MAX_REASON = 1000;
    /** Retry-After beyond this is capped: a wrong header must not park a destination for days. */
    private static final long MAX_RETRY_AFTER_MILLIS = Duration.ofHours(1).toMillis();

    private final String endpointType;
    private final TransportFactory transportFactory;
    private final DeliveryConfig delivery;
    private final String deadLetterPath;
    private final Map<Long, Endpoint> endpointsByStream;
    private final DeliveryOperatorFactory.Options options;
    private final transient MailboxExecutor mailbox;

    private transient Transport transport;
    private transient DeadLetterStore deadLetters;
    private transient Backoff backoff;
    private transient ListState<Pending> state;
    private transient ListState<byte[]> transportState;
    /** Every undelivered block of this subtask by delivery key, in arrival order. */
    private transient LinkedHashMap<String, Pending> pending;
    private transient List<Pending> unstaged;
    private transient TreeMap<Long, List<Pending>> staged;
    /**
     * Ids of synchronous savepoints without drain ({@code flink stop}) taken and not yet completed or
     * aborted. The job that restores such a savepoint delivers the blocks staged at it (they are in its
     * state); released here as well, they would be sent twice. If the job goes on after all, the next
     * completed checkpoint releases them (a release covers every staged id up to the completed one).
     */
    private transient TreeSet<Long> stopSavepoints;
    /** The last stop savepoint that completed: a late notification of an older checkpoint releases nothing. */
    private transient long stopSavepointCompleted;
    private transient Map<String, Destination> destinations;
    private transient long order;
    private transient boolean finished;
    private transient boolean draining;
    private transient boolean closed;

    DeliveryOperator(
            StreamOperatorParameters<Void> parameters,
            JobConfig config,
            String endpointType,
            TransportFactory transportFactory,
            DeliveryOperatorFactory.Options options) {
        super(parameters);
        this.mailbox = parameters.getMailboxExecutor();
        this.endpointType = endpointType;
        this.transportFactory = transportFactory;
        this.delivery = config.delivery();
        this.deadLetterPath = config.deadLetter().blocksPath();
        this.options = options;
        Map<Long, Endpoint> endpoints = new HashMap<>();
        for (StreamConfig stream : config.streams()) {
            endpoints.put(stream.id(), stream.endpoint());
        }
        this.endpointsByStream = endpoints;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        transport = transportFactory.create(delivery);
        deadLetters = new DeadLetterStore(deadLetterPath);
        backoff = new Backoff(delivery.initialBackoff(), delivery.maxBackoff());
        pending = new LinkedHashMap<>();
        unstaged = new ArrayList<>();
        staged = new TreeMap<>();
        stopSavepoints = new TreeSet<>();
        stopSavepointCompleted = Long.MIN_VALUE;
        destinations = new HashMap<>();
        state = context.getOperatorStateStore().getListState(new ListStateDescriptor<>(STATE_NAME, PendingSerializer.INSTANCE));
        transportState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>(TRANSPORT_STATE_NAME, BytePrimitiveArraySerializer.INSTANCE));
        ListState<byte[]> legacyTransportState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>(LEGACY_TRANSPORT_STATE_NAME, BytePrimitiveArraySerializer.INSTANCE));
        List<byte[]> restoredTransportState = new ArrayList<>();
        if (context.isRestored()) {
            transportState.get().forEach(restoredTransportState::add);
            legacyTransportState.get().forEach(restoredTransportState::add);
            legacyTransportState.clear();
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (Endpoint endpoint : endpointsByStream.values()) {
            if (endpoint.endpointType().equals(endpointType)) {
                endpoints.add(endpoint);
            }
        }
        transport.initializeState(new TransportContext(getRuntimeContext().getJobInfo().getJobId().toHexString(),
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks(),
                getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks(),
                context.getRestoredCheckpointId().orElse(-1L), endpoints, getMetricGroup()), restoredTransportState);
        if (context.isRestored()) {
            // Whatever a restored snapshot holds is covered by a completed checkpoint (the restored
            // one): deliverable now, with the key and bytes fixed when it was staged.
            List<StagedBlock> restored = new ArrayList<>();
            long now = now();
            for (Pending p : state.get()) {
                if (pending.putIfAbsent(p.key(), p) == null) {
                    Destination d = destination(p.block.destinationId());
                    d.pendingBlocks++;
                    d.pendingBytes += p.bytes();
                    if (!p.refused()) {
                        restored.add(p.block);
                    }
                }
            }
            transport.restore(restored);
            for (Pending p : new ArrayList<>(pending.values())) {
                release(p, now);
                if (!p.refused() && !p.lastReason.isEmpty()) {
                    // Rebuild the retry schedule of blocks that had failed (timers are not part of
                    // checkpoints). One merely in flight at the snapshot goes again at once.
                    p.nextAttemptMillis = Math.max(now, p.lastAttemptMillis + backoff.delayMillis(p.attempts));
                }
            }
            LOG.info("Delivery ({}): restored {} undelivered block(s) from checkpoint {}", endpointType, restored.size(),
                    context.getRestoredCheckpointId().orElse(-1));
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        for (Destination d : destinations.values()) {
            dispatch(d);
        }
    }

    @Override
    public void processElement(StreamRecord<Block> element) throws Exception {
        Block block = element.getValue();
        Endpoint endpoint = endpointsByStream.get(block.streamId());
        if (endpoint == null) {
            deadLetterUnprepared(block, "unknown", "unknown", "stream " + block.streamId() + " is not in the configuration");
            return;
        }
        Destination d = destination(endpoint.destinationId());
        Prepared prepared;
        try {
            prepared = transport.prepare(block, endpoint);
        } catch (Exception e) {
            deadLetterUnprepared(block, endpoint.destinationId(), endpoint.describe(), "cannot prepare the payload: " + e.getMessage());
            return;
        }
        StagedBlock staged = new StagedBlock(block.streamId(), block.dataSource(), block.domain(), block.sequence(),
                block.recordCount(), endpoint.destinationId(), prepared.payload(), prepared.deliveryKey(), prepared.contentEncoding());
        if (pending.containsKey(staged.deliveryKey())) {
            return; // the very same bytes with the same identity are already pending
        }
        Pending p = new Pending(staged);
        if (d.pendingBlocks >= delivery.maxPendingBlocksPerDestination()
                || d.pendingBytes + p.bytes() > delivery.maxPendingBytesPerDestination()) {
            String reason = "pending bound of the destination exceeded (" + d.pendingBlocks + " blocks, "
                    + d.pendingBytes + " bytes pending; limits " + delivery.maxPendingBlocksPerDestination() + " blocks, "
                    + delivery.maxPendingBytesPerDestination() + " bytes)";
            if (!options.checkpointingEnabled()) {
                deadLetter(d, p, endpoint, reason);
                return;
            }
            // Not yet: a failure before a checkpoint covers it replays the block, which may then be
            // accepted and delivered. Held (never sent) until that checkpoint completes.
            p.deadLetterReason = reason;
        }
        pending.put(p.key(), p);
        d.pendingBlocks++;
        d.pendingBytes += p.bytes();
        if (options.checkpointingEnabled()) {
            unstaged.add(p);
            if (!p.refused()) {
                transport.accepted(p.block);
            }
        } else {
            // No checkpoint will ever come: nothing to wait for (and no exactly-once either).
            makeDeliverable(p, now());
            dispatch(d);
        }
    }

    /** Notes a stop savepoint's id: only here does Flink tell an operator what kind of snapshot it takes. */
    @Override
    public OperatorSnapshotFutures snapshotState(long checkpointId, long timestamp, CheckpointOptions checkpointOptions,
            CheckpointStreamFactory factory) throws Exception {
        if (checkpointOptions.getCheckpointType() instanceof SavepointType savepoint
                && savepoint.isSynchronous() && !savepoint.shouldDrain()) {
            stopSavepoints.add(checkpointId);
        }
        return super.snapshotState(checkpointId, timestamp, checkpointOptions, factory);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        long checkpointId = context.getCheckpointId();
        if (!unstaged.isEmpty()) {
            List<StagedBlock> covered = new ArrayList<>(unstaged.size());
            for (Pending p : unstaged) {
                p.stagedAt = checkpointId;
                if (!p.refused()) {
                    covered.add(p.block); // a refused block must never reach a Kafka transaction
                }
            }
            transport.stage(checkpointId, covered);
            staged.put(checkpointId, unstaged);
            unstaged = new ArrayList<>();
        }
        state.update(new ArrayList<>(pending.values()));
        transportState.update(transport.snapshotState(checkpointId));
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        // A finished operator's state is not restored (its task ended), so then the stop delivers.
        boolean stopping = stopSavepoints.contains(checkpointId) && !finished;
        stopSavepoints.headSet(checkpointId, true).clear();
        if (stopping || checkpointId < stopSavepointCompleted) {
            // Every block still staged (also under an earlier, aborted checkpoint) is in the stop
            // savepoint: the job restored from it sends them. Released here too, they would go twice.
            if (stopping) {
                stopSavepointCompleted = checkpointId;
                int held = 0;
                for (List<Pending> blocks : staged.values()) {
                    held += blocks.size();
                }
                if (held > 0) {
                    LOG.info("Delivery ({}): stop-with-savepoint {} completed; its {} staged block(s) are left to the job"
                            + " restored from it", endpointType, checkpointId, held);
                }
            }
        } else {
            NavigableMap<Long, List<Pending>> covered = staged.headMap(checkpointId, true);
            long now = now();
            for (List<Pending> blocks : covered.values()) {
                for (Pending p : blocks) {
                    if (pending.get(p.key()) == p) {
                        release(p, now);
                    }
                }
            }
            covered.clear();
        }
        // Also at a stop: Kafka commits the savepoint's transaction now (a restore reads its fate back),
        // so no transaction stays open behind a stopped job.
        transport.checkpointCompleted(checkpointId);
        for (Destination d : destinations.values()) {
            dispatch(d);
        }
        if (finished && unstaged.isEmpty() && staged.isEmpty()) {
            // The final checkpoint of a bounded input: the task ends when this returns, so drain now.
            drain();
        }
    }

    @Override
    public void notifyCheckpointAborted(long checkpointId) throws Exception {
        super.notifyCheckpointAborted(checkpointId);
        // Its blocks stay staged under its id; the next completed checkpoint releases them.
        stopSavepoints.remove(checkpointId);
    }

    @Override
    public void finish() throws Exception {
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
        closed = true;
        try {
            if (transport != null) {
                transport.close();
            }
        } finally {
            super.close();
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** A block whose checkpoint completed: deliverable, or dead-lettered if refused at arrival. */
    private void release(Pending p, long now) {
        if (p.refused()) {
            deadLetter(destination(p.block.destinationId()), p, endpointsByStream.get(p.block.streamId()), p.deadLetterReason);
        } else {
            makeDeliverable(p, now);
        }
    }

    private void makeDeliverable(Pending p, long now) {
        Destination d = destination(p.block.destinationId());
        if (p.deliverableSinceMillis == 0) {
            p.deliverableSinceMillis = now;
        }
        p.order = order++;
        d.ready.add(p);
    }

    /** Sends what the destination's limits allow now; schedules a wake-up for what must wait. */
    private void dispatch(Destination d) {
        if (closed) {
            return;
        }
        long now = now();
        if (d.pausedUntilMillis > now) {
            expireWhilePaused(d, now);
            schedule(d, d.pausedUntilMillis);
            return;
        }
        int limit = d.consecutiveFailures > 0 ? 1 : options.maxInFlightPerDestination();
        while (d.inFlight < limit && !d.ready.isEmpty()) {
            Pending p = d.ready.peek();
            if (p.nextAttemptMillis > now) {
                schedule(d, p.nextAttemptMillis);
                return;
            }
            d.ready.poll();
            if (expired(p, now) && transport.abandon(p.block)) {
                deadLetter(d, p, endpointsByStream.get(p.block.streamId()), "not delivered within max_retry_duration "
                        + delivery.maxRetryDuration() + " (" + p.attempts + " attempts; last: " + p.lastReason + ")");
                continue;
            }
            send(d, p, now);
        }
    }

    private void send(Destination d, Pending p, long now) {
        Endpoint endpoint = endpointsByStream.get(p.block.streamId());
        if (endpoint == null || !endpoint.destinationId().equals(d.id)) {
            if (transport.abandon(p.block)) {
                deadLetter(d, p, endpoint, endpoint == null
                        ? "stream " + p.block.streamId() + " is no longer in the configuration"
                        : "the stream's endpoint changed since the block was staged");
                return;
            }
            // In a transaction of a completed checkpoint: it lands where it was staged; learn the outcome.
            endpoint = null;
        }
        p.attempts++;
        p.lastAttemptMillis = now;
        if (p.firstAttemptMillis == 0) {
            p.firstAttemptMillis = now;
        }
        p.inFlight = true;
        d.inFlight++;
        CompletableFuture<Outcome> future;
        try {
            future = transport.deliver(p.block, endpoint);
        } catch (RuntimeException e) {
            future = CompletableFuture.completedFuture(Outcome.retry("transport failed: " + e.getClass().getSimpleName()));
        }
        future.whenComplete((outcome, error) -> {
            try {
                mailbox.execute(() -> onOutcome(d, p, outcome, error), "delivery outcome");
            } catch (RejectedExecutionException e) {
                // The task is closing: the block is still in the last snapshot and is re-delivered
                // (same key, same bytes) after the restore.
                LOG.debug("Delivery outcome of {} dropped: task closing", p.block.blockId());
            }
        });
    }

    private void onOutcome(Destination d, Pending p, Outcome outcome, Throwable error) {
        p.inFlight = false;
        d.inFlight--;
        if (pending.get(p.key()) != p) {
            dispatch(d);
            return;
        }
        if (error != null) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            outcome = Outcome.retry("transport failed: " + cause.getClass().getSimpleName());
        }
        long now = now();
        switch (outcome.kind()) {
            case DELIVERED -> {
                remove(d, p);
                d.deliveredBlocks.inc();
                d.deliveredBytes.inc(p.bytes());
                if (d.consecutiveFailures > 0) {
                    LOG.info("Destination {} recovered after {} failed attempt(s)", d.id, d.consecutiveFailures);
                }
                d.consecutiveFailures = 0;
                d.pausedUntilMillis = 0;
            }
            case PERMANENT -> deadLetter(d, p, endpointsByStream.get(p.block.streamId()), truncate(outcome.reason()));
            case RETRY -> {
                d.retries.inc();
                p.lastReason = truncate(outcome.reason());
                if (expired(p, now) && transport.abandon(p.block)) {
                    deadLetter(d, p, endpointsByStream.get(p.block.streamId()), "not delivered within max_retry_duration "
                            + delivery.maxRetryDuration() + " (" + p.attempts + " attempts; last: " + p.lastReason + ")");
                    break;
                }
                long retryAfter = outcome.retryAfter() == null ? 0 : Math.min(outcome.retryAfter().toMillis(), MAX_RETRY_AFTER_MILLIS);
                p.nextAttemptMillis = now + Math.max(retryAfter, backoff.delayMillis(p.attempts));
                p.order = order++;
                d.ready.add(p);
                d.consecutiveFailures++;
                long pause = Math.max(retryAfter, backoff.delayMillis(d.consecutiveFailures));
                d.pausedUntilMillis = Math.max(d.pausedUntilMillis, now + pause);
                if (d.consecutiveFailures == 1 || LOG.isDebugEnabled()) {
                    LOG.warn("Destination {} failing ({}); pausing it {} ms, other destinations unaffected", d.id, p.lastReason, pause);
                }
            }
        }
        dispatch(d);
    }

    /** A block that waited longer than max_retry_duration behind an open circuit goes to dead-letter. */
    private void expireWhilePaused(Destination d, long now) {
        if (d.ready.isEmpty()) {
            return;
        }
        List<Pending> expired = null;
        for (Pending p : d.ready) {
            if (expired(p, now) && transport.abandon(p.block)) {
                (expired == null ? expired = new ArrayList<>() : expired).add(p);
            }
        }
        if (expired != null) {
            for (Pending p : expired) {
                d.ready.remove(p);
                deadLetter(d, p, endpointsByStream.get(p.block.streamId()), "not delivered within max_retry_duration "
                        + delivery.maxRetryDuration() + " (" + p.attempts + " attempts; last: " + p.lastReason + ")");
            }
        }
    }

    private boolean expired(Pending p, long now) {
        if (draining) {
            return false; // drain() applies its own deadline
        }
        return p.deliverableSinceMillis > 0 && now - p.deliverableSinceMillis >= delivery.maxRetryDuration().toMillis();
    }

    private void schedule(Destination d, long at) {
        if (draining || closed) {
            return; // drain() polls; timers no longer fire once input ended
        }
        long now = now();
        if (d.timerAtMillis <= at && d.timerAtMillis > now) {
            return; // an earlier wake-up is already registered and will reschedule
        }
        d.timerAtMillis = at;
        getProcessingTimeService().registerTimer(at, timestamp -> {
            if (d.timerAtMillis == at) {
                d.timerAtMillis = Long.MAX_VALUE;
            }
            dispatch(d);
        });
    }

    /**
     * Delivers or dead-letters everything pending before the task ends (bounded input). Timers are
     * stopped by then, so this loop polls the mailbox for outcomes and re-dispatches by itself.
     */
    private void drain() throws Exception {
        draining = true;
        long deadline = System.currentTimeMillis() + options.drainTimeout().toMillis();
        long now = now();
        for (Pending p : unstaged) {
            release(p, now);
        }
        unstaged.clear();
        for (List<Pending> blocks : staged.values()) {
            for (Pending p : blocks) {
                if (pending.get(p.key()) == p) {
                    release(p, now);
                }
            }
        }
        staged.clear();
        if (!pending.isEmpty()) {
            LOG.info("Delivery ({}): input ended, draining {} pending block(s)", endpointType, pending.size());
        }
        while (!pending.isEmpty()) {
            now = now();
            boolean pastDeadline = now >= deadline;
            for (Destination d : destinations.values()) {
                if (pastDeadline) {
                    while (!d.ready.isEmpty()) {
                        Pending p = d.ready.poll();
                        deadLetter(d, p, endpointsByStream.get(p.block.streamId()), "not delivered before the bounded input ended"
                                + " (drain timeout " + options.drainTimeout() + ", " + p.attempts + " attempts; last: " + p.lastReason + ")");
                    }
                } else {
                    dispatch(d);
                }
            }
            if (!pending.isEmpty() && !mailbox.tryYield()) {
                Thread.sleep(2);
            }
        }
        draining = false;
    }

    private Destination destination(String id) {
        return destinations.computeIfAbsent(id, k -> new Destination(k, getMetricGroup()));
    }

    private void remove(Destination d, Pending p) {
        if (pending.remove(p.key()) != null) {
            d.pendingBlocks--;
            d.pendingBytes -= p.bytes();
        }
    }

    private void deadLetter(Destination d, Pending p, Endpoint endpoint, String reason) {
        DeadLetterStore.Entry entry = new DeadLetterStore.Entry(
                endpoint == null ? endpointType : endpoint.endpointType(),
                endpoint == null ? d.id : endpoint.describe(),
                reason,
                p.attempts,
                p.firstAttemptMillis,
                p.lastAttemptMillis,
                System.currentTimeMillis());
        try {
            deadLetters.write(p.block, entry);
        } catch (Exception e) {
            // Our own store is down: fail loudly rather than lose the block. The restart restores it
            // from the last checkpoint (or the upstream replays it).
            throw new IllegalStateException("cannot write block " + p.block.blockId() + " to the dead-letter store "
                    + deadLetterPath + ": " + e.getMessage(), e);
        }
        remove(d, p);
        d.deadLettered.inc();
        LOG.warn("Block {} ({} records) to {} dead-lettered: {}", p.block.blockId(), p.block.recordCount(), entry.destination(), reason);
    }

    private void deadLetterUnprepared(Block block, String destinationId, String destination, String reason) throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(block.records());
        String key = block.blockId() + ":" + HexFormat.of().formatHex(digest, 0, 16);
        StagedBlock staged = new StagedBlock(block.streamId(), block.dataSource(), block.domain(), block.sequence(),
                block.recordCount(), destinationId, block.records(), key, Prepared.IDENTITY);
        Pending p = new Pending(staged);
        Destination d = destination(destinationId);
        DeadLetterStore.Entry entry = new DeadLetterStore.Entry(endpointType, destination, truncate(reason), 0, 0, 0, System.currentTimeMillis());
        deadLetters.write(p.block, entry);
        d.deadLettered.inc();
        LOG.warn("Block {} ({} records) to {} dead-lettered: {}", block.blockId(), block.recordCount(), destination, entry.reason());
    }

    private static String truncate(String reason) {
        String r = reason == null ? "" : reason;
        return r.length() <= MAX_REASON ? r : r.substring(0, MAX_REASON) + "...";
    }

    private long now() {
        // The drain loop runs after timers stopped; it keeps time by the wall clock.
        return draining ? System.currentTimeMillis() : getProcessingTimeService().getCurrentProcessingTime();
    }

    // Visible for tests.
    int pendingCount() {
        return pending.size();
    }

    Collection<Pending> pendingView() {
        return pending.values();
    }

    Destination destinationView(String id) {
        return destinations.get(id);
    }

}
