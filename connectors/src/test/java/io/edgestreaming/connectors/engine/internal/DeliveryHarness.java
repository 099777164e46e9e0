package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.BlockSerializer;
import io.edgestreaming.connectors.engine.TransportFactory;
import io.edgestreaming.config.JobConfig;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.apache.flink.api.common.JobID;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.SavepointType;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.runtime.operators.testutils.MockInputSplitProvider;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;

/**
 * Drives one {@link DeliveryOperator} through Flink's operator test harness: the real operator, state
 * backend and mailbox, with processing time under the test's control. Outcomes of asynchronous
 * deliveries arrive as mails; {@link #runMailsUntil} runs them on the test thread as the task would.
 */
public final class DeliveryHarness implements AutoCloseable {
    private final OneInputStreamOperatorTestHarness<Block, Void> harness;
    private long checkpointTimestamp = 1;

    private DeliveryHarness(OneInputStreamOperatorTestHarness<Block, Void> harness) {
        this.harness = harness;
    }

    public static DeliveryHarness open(JobConfig config, TransportFactory transport, OperatorSubtaskState restore) throws Exception {
        return open(config, transport, restore, new DeliveryOperatorFactory.Options(4, Duration.ofSeconds(10), true));
    }

    public static DeliveryHarness open(JobConfig config, TransportFactory transport, OperatorSubtaskState restore,
            DeliveryOperatorFactory.Options options) throws Exception {
        return open(new OneInputStreamOperatorTestHarness<>(new DeliveryOperatorFactory(config, transport, options),
                BlockSerializer.INSTANCE), restore);
    }

    /**
     * Subtask {@code subtaskIndex} of {@code parallelism} (max parallelism {@link #MAX_PARALLELISM}), for
     * rescaling tests: restore it from a share made with
     * {@code AbstractStreamOperatorTestHarness.repartitionOperatorState(state, MAX_PARALLELISM, old, parallelism, subtaskIndex)}.
     */
    public static DeliveryHarness open(JobConfig config, TransportFactory transport, OperatorSubtaskState restore,
            int parallelism, int subtaskIndex) throws Exception {
        return open(new OneInputStreamOperatorTestHarness<Block, Void>(new DeliveryOperatorFactory(config, transport,
                new DeliveryOperatorFactory.Options(4, Duration.ofSeconds(10), true)), MAX_PARALLELISM, parallelism, subtaskIndex),
                restore);
    }

    public static final int MAX_PARALLELISM = 128;

    /**
     * Like {@link #open(JobConfig, TransportFactory, OperatorSubtaskState, int, int)}, as an attempt of
     * the job {@code jobId} (the harness otherwise makes up a job id per subtask) restored from checkpoint
     * {@code restoredCheckpointId}: several harnesses then act as subtasks and attempts of one job.
     */
    public static DeliveryHarness open(JobConfig config, TransportFactory transport, OperatorSubtaskState restore,
            int parallelism, int subtaskIndex, JobID jobId, long restoredCheckpointId) throws Exception {
        MockEnvironment env = new MockEnvironmentBuilder().setTaskName("MockTask").setManagedMemorySize(3 * 1024 * 1024)
                .setInputSplitProvider(new MockInputSplitProvider()).setBufferSize(1024).setJobID(jobId)
                .setMaxParallelism(MAX_PARALLELISM).setParallelism(parallelism).setSubtaskIndex(subtaskIndex).build();
        OneInputStreamOperatorTestHarness<Block, Void> h = new OneInputStreamOperatorTestHarness<>(
                new DeliveryOperatorFactory(config, transport, new DeliveryOperatorFactory.Options(4, Duration.ofSeconds(10), true)),
                BlockSerializer.INSTANCE, env);
        h.setRestoredCheckpointId(restoredCheckpointId);
        return open(h, restore);
    }

    /** A fresh subtask whose checkpoints may hold up to {@code maxStateBytes} inline (blocks of tens of megabytes). */
    public static DeliveryHarness openWithStateUpTo(JobConfig config, TransportFactory transport, int maxStateBytes)
            throws Exception {
        OneInputStreamOperatorTestHarness<Block, Void> h = new OneInputStreamOperatorTestHarness<>(new DeliveryOperatorFactory(
                config, transport, new DeliveryOperatorFactory.Options(4, Duration.ofSeconds(10), true)), BlockSerializer.INSTANCE);
        h.setCheckpointStorage(new org.apache.flink.runtime.state.storage.JobManagerCheckpointStorage(maxStateBytes));
        return open(h, null);
    }

    /** A fresh subtask on a TaskManager with this configuration (e.g. {@code taskmanager.numberOfTaskSlots}). */
    public static DeliveryHarness openOnTaskManager(JobConfig config, TransportFactory transport,
            org.apache.flink.configuration.Configuration taskManager) throws Exception {
        MockEnvironment env = new MockEnvironmentBuilder().setTaskName("MockTask").setManagedMemorySize(3 * 1024 * 1024)
                .setInputSplitProvider(new MockInputSplitProvider()).setBufferSize(1024)
                .setTaskManagerRuntimeInfo(new org.apache.flink.runtime.util.TestingTaskManagerRuntimeInfo(taskManager)).build();
        return open(new OneInputStreamOperatorTestHarness<>(new DeliveryOperatorFactory(config, transport,
                new DeliveryOperatorFactory.Options(4, Duration.ofSeconds(10), true)), BlockSerializer.INSTANCE, env), null);
    }

    private static DeliveryHarness open(OneInputStreamOperatorTestHarness<Block, Void> h, OperatorSubtaskState restore)
            throws Exception {
        h.setProcessingTime(System.currentTimeMillis());
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return new DeliveryHarness(h);
    }

    /**
     * processElement, then the block's preparation applied (as the next snapshot would), so the block is
     * pending when this returns; runs no mail.
     */
    public void process(Block block) throws Exception {
        harness.processElement(block, 0);
        ((DeliveryOperator) harness.getOperator()).applyPrepared();
    }

    /** processElement alone, as the task calls it: the block may still be being prepared. */
    public void processWithoutWaiting(Block block) throws Exception {
        harness.processElement(block, 0);
    }

    public OperatorSubtaskState snapshot(long checkpointId) throws Exception {
        return harness.snapshot(checkpointId, checkpointTimestamp++);
    }

    /**
     * A checkpoint as the task takes it: the synchronous part runs now, on the caller's thread (the
     * task thread), the asynchronous part (writing the state) on another thread, like Flink's
     * asynchronous snapshot threads. The future holds the state once written.
     */
    public java.util.concurrent.CompletableFuture<OperatorSubtaskState> snapshotAsync(long checkpointId) throws Exception {
        org.apache.flink.streaming.api.operators.OperatorSnapshotFutures futures = harness.getOperator().snapshotState(
                checkpointId, checkpointTimestamp++,
                org.apache.flink.runtime.checkpoint.CheckpointOptions.forCheckpointWithDefaultLocation(),
                new org.apache.flink.runtime.state.memory.MemCheckpointStreamFactory(Integer.MAX_VALUE));
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return org.apache.flink.streaming.api.operators.OperatorSnapshotFinalizer.create(futures)
                        .getJobManagerOwnedState();
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
    }

    /**
     * A savepoint of stop-with-savepoint, taken as the task takes it: synchronous, {@code drain} as with
     * {@code flink stop --drain} (call {@link #endInput} first, as the task does), else as {@code flink stop}.
     */
    public OperatorSubtaskState stopSavepoint(long checkpointId, boolean drain) throws Exception {
        SavepointType type = drain ? SavepointType.terminate(SavepointFormatType.CANONICAL)
                : SavepointType.suspend(SavepointFormatType.CANONICAL);
        return harness.snapshotWithLocalState(checkpointId, checkpointTimestamp++, type).getJobManagerOwnedState();
    }

    public void complete(long checkpointId) throws Exception {
        harness.notifyOfCompletedCheckpoint(checkpointId);
    }

    /** The checkpoint failed or was declined: Flink's notification to the operator. */
    public void abort(long checkpointId) throws Exception {
        harness.getOperator().notifyCheckpointAborted(checkpointId);
    }

    /** Moves processing time forward, firing due timers (retry wake-ups). */
    public void advance(Duration by) throws Exception {
        harness.setProcessingTime(harness.getProcessingTime() + by.toMillis());
    }

    public long processingTime() {
        return harness.getProcessingTime();
    }

    /** Mails (delivery outcomes) waiting in the task mailbox, not yet run. */
    public int queuedMails() {
        // Not the mail of a preparation that process() already applied.
        return harness.getTaskMailbox().size() - (((DeliveryOperator) harness.getOperator()).prepareMailQueued() ? 1 : 0);
    }

    public int pending() {
        return ((DeliveryOperator) harness.getOperator()).pendingCount();
    }

    /** Failed attempts the engine retried for this destination so far (its {@code retries} metric). */
    public long retries(String destinationId) {
        Destination d = destination(destinationId);
        return d == null ? 0 : d.retries.getCount();
    }

    /** The engine's bookkeeping and metrics of one destination, or null. */
    Destination destination(String id) {
        return ((DeliveryOperator) harness.getOperator()).destinationView(id);
    }

    private DeliveryEngine engine() {
        return ((DeliveryOperator) harness.getOperator()).engineView();
    }

    /** The subtask's memory budget for undelivered blocks (bytes). */
    public long memoryBudget() {
        return engine().budget().limit();
    }

    /** Payload bytes of undelivered blocks in the heap now (the engine's own accounting, metric heldBytes). */
    public long heldBytes() {
        return engine().budget().heldBytes;
    }

    /** Payload bytes of undelivered blocks on the spool now (metric spooledBytes). */
    public long spooledBytes() {
        return engine().budget().spooledBytes;
    }

    /** The same per destination (0 if it has none). */
    public long heldBytes(String destinationId) {
        Destination d = destination(destinationId);
        return d == null ? 0 : d.heldBytes;
    }

    public long spooledBytes(String destinationId) {
        Destination d = destination(destinationId);
        return d == null ? 0 : d.spooledBytes;
    }

    /** Blocks on the spool now, all destinations. */
    public int spooledBlocks() {
        int n = 0;
        for (Destination d : ((DeliveryOperator) harness.getOperator()).engineView().destinations.values()) {
            n += d.spooledBlocks;
        }
        return n;
    }

    /** Spooled blocks whose file was gone when read back (metric spoolFilesMissing). */
    public long spoolFilesMissing() {
        return engine().spoolFilesMissing();
    }

    /** Dead-letter writes that failed and were retried (metric deadLetterFailures). */
    public long deadLetterFailures() {
        return engine().deadLetterFailures();
    }

    /** Runs mails until the engine's I/O (spool, dead-letter store) has handed back every result. */
    public boolean awaitIo(Duration timeout) throws Exception {
        return runMailsUntil(() -> engine().ioOutstanding() == 0, timeout);
    }

    /** Runs mails (delivery outcomes) until the condition holds; false on timeout. */
    public boolean runMailsUntil(BooleanSupplier condition, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        TaskMailbox mailbox = harness.getTaskMailbox();
        while (!condition.getAsBoolean()) {
            Optional<Mail> mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY);
            if (mail.isPresent()) {
                mail.get().run();
            } else if (System.nanoTime() > deadline) {
                return false;
            } else {
                Thread.sleep(2);
            }
        }
        return true;
    }

    /** Runs mails for a while (to show that something does NOT happen). */
    public void runMailsFor(Duration duration) throws Exception {
        runMailsUntil(() -> false, duration);
    }

    /** End of a bounded input as the task does it: endInput, then the operator's finish(). */
    public void endInput() throws Exception {
        harness.endInput();
        harness.getOperator().finish();
    }

    public OneInputStreamOperatorTestHarness<Block, Void> raw() {
        return harness;
    }

    @Override
    public void close() throws Exception {
        harness.close();
    }
}
