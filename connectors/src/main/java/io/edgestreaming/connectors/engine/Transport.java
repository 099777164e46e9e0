package io.edgestreaming.connectors.engine;

import io.edgestreaming.connectors.Block;
import io.edgestreaming.config.Endpoint;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The only part of delivery that differs per endpoint type (the SPI of the engine). The engine owns
 * state, checkpoints, queues, retries, circuit breaking and the dead-letter store; a transport only
 * turns a block into bytes and moves those bytes. One instance per operator subtask, created by a
 * {@link TransportFactory}; it pools connections/clients per destination itself.
 *
 * <p>Threading: {@link #prepare} runs on a thread of the operator's own, one block at a time, while
 * the task thread calls the other methods: it must only compute (touch no state they use).
 * {@link #stage}, {@link #checkpointCompleted}, {@link #restore} and {@link #close} run on the task
 * thread. {@link #deliver} is called on the task thread and must not
 * block; its future may complete on any thread (the engine hands the result back to the task thread
 * through the mailbox).
 */
public interface Transport extends AutoCloseable {

    /**
     * Builds the exact payload of a block for an endpoint, once, when the block arrives (off the task
     * thread, see the class comment; the engine applies results in arrival order). The delivery
     * key must join the block id with a digest of the block's content: a restore from an older
     * checkpoint can re-cut a block id with other records, and only such a key lets the destination
     * drop identical repeats without ever dropping different content.
     *
     * @throws Exception if the block cannot be made into a payload for this endpoint; the engine
     *     dead-letters the block with the message (which must not contain secrets)
     */
    Prepared prepare(Block block, Endpoint endpoint) throws Exception;

    /**
     * One asynchronous attempt to deliver a staged block whose checkpoint has completed. Must not
     * block and should not throw: failures are outcomes. The engine guarantees at most one attempt per
     * block at a time, but attempts of other blocks of the same destination run concurrently.
     *
     * @param endpoint the stream's current endpoint (same destination id as when staged); null if the
     *     stream no longer has that destination but {@link #abandon} refused to give the block up
     */
    CompletableFuture<Outcome> deliver(StagedBlock block, Endpoint endpoint);

    /**
     * A block the engine now holds (prepared, not refused), before any checkpoint covers it. A transport
     * may start moving it (Kafka writes it into an open transaction), as long as nothing becomes visible
     * before {@link #checkpointCompleted} of a checkpoint that covers it; if no such checkpoint completes,
     * the block comes back after the restore (or from the replay). Must not block nor throw.
     */
    default void accepted(StagedBlock block) {}

    /**
     * Called while a checkpoint is taken, with the blocks that this checkpoint covers for the first
     * time (they are in its state). A transport that must prepare something on the destination before
     * the checkpoint (a Kafka transaction) does it here; throwing fails the checkpoint.
     */
    default void stage(long checkpointId, Collection<StagedBlock> covered) throws Exception {}

    /**
     * The engine is about to dead-letter a block because max_retry_duration is over. Returns true if
     * the transport will never deliver it (and forgets it); false if it may still land (a Kafka
     * transaction holding it is prepared or being prepared): the engine then keeps the block and waits
     * for the outcome of {@link #deliver}, so a block is never both delivered and dead-lettered.
     */
    default boolean abandon(StagedBlock block) {
        return true;
    }

    /** Called after checkpoint {@code checkpointId} completed, before its blocks are delivered. */
    default void checkpointCompleted(long checkpointId) throws Exception {}

    /**
     * Called once after a restore with every block restored into this subtask (each covered by the
     * restored, completed checkpoint); they will be delivered again with the same delivery key.
     */
    default void restore(Collection<StagedBlock> pending) throws Exception {}

    /**
     * Called once, right after the transport is created and before {@link #restore}, with the
     * transport's own state from the restored checkpoint: empty on a fresh start, else every element
     * that <em>any</em> subtask returned from {@link #snapshotState} (union state), because after
     * rescaling a block restored here may have been tracked by another subtask. The transport keeps
     * only what concerns the blocks it gets in {@link #restore} (and what it alone is made responsible
     * for), so that state does not multiply. For transports that must remember destination-side
     * things across restarts (a Kafka transaction prepared before a checkpoint, to commit after the
     * restore).
     */
    default void initializeState(TransportContext context, List<byte[]> restoredState) throws Exception {}

    /**
     * Called at every checkpoint, after {@link #stage} (if any), on the task thread: the transport's own
     * state for this checkpoint. The task thread never waits for it: the future may complete later (a
     * Kafka transaction still flushing), and the checkpoint's asynchronous part writes it once complete,
     * so the checkpoint completes only with it. It must complete on its own within a bound the
     * transport chooses (it may not need the task thread to do so). On a restore every subtask gets the
     * elements of all subtasks (see {@link #initializeState}); keep them small. A failed future fails
     * the checkpoint.
     */
    default CompletableFuture<List<byte[]>> snapshotState(long checkpointId) throws Exception {
        return CompletableFuture.completedFuture(List.of());
    }

    /**
     * True (the default): a block whose delivery is under way when a stop savepoint is taken would be
     * sent again by the job restored from it (the endpoint only deduplicates by key, if at all), so the
     * engine lets those sends finish, bounded by {@code request_timeout}, before that savepoint. False
     * for a transport whose own state settles such blocks after the restore (Kafka's transactions).
     */
    default boolean resendsInFlightAfterRestore() {
        return true;
    }

    /**
     * A spoolable transport that keeps the blocks it is given ({@link #accepted}, {@link #stage},
     * {@link #restore}): whether it can let go of this block's payload now. The engine spools a block
     * only then, and afterwards calls {@link #payloadSpooled}.
     */
    default boolean releasesPayload(StagedBlock block) {
        return true;
    }

    /**
     * The engine moved this block's payload to its spool: {@code block} holds none but reads it back with
     * {@link StagedBlock#loadPayload()} (off the task thread). A transport that keeps the earlier
     * {@link StagedBlock} replaces it with this one, so the payload leaves the heap.
     */
    default void payloadSpooled(StagedBlock block) {}

    /**
     * True (the default): {@link #deliver} needs the payload in memory, so the engine reads a spooled one
     * back first. False for a transport that loads payloads itself when it writes them (Kafka).
     */
    default boolean deliversFromMemory() {
        return true;
    }

    /**
     * True (the default): the transport keeps no payload beyond a {@link #deliver} call, so the engine
     * may move the payload of a waiting block out of the heap to its spool when the subtask's memory
     * budget is used up, and reads it back before {@link #deliver} (see {@link #deliversFromMemory()}).
     * {@link #stage}, {@link #restore} and {@link #abandon} may then get blocks without their payload
     * ({@link StagedBlock#hasPayload()} false). A transport that keeps payloads itself says which it can
     * let go of ({@link #releasesPayload}); one that cannot return false: its blocks stay in the heap.
     */
    default boolean spoolable() {
        return true;
    }

    /**
     * The input ended (bounded run, {@code stop --drain}): the next checkpoint is the last one, and what
     * it covers must be made deliverable by it. Called on the task thread before that checkpoint.
     */
    default void finish() throws Exception {}

    @Override
    default void close() throws Exception {}
}
