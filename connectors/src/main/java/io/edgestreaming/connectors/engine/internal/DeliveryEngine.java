package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.LogFields;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.runtime.tasks.ProcessingTimeService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to a block once its checkpoint let it go, for one delivery operator subtask: the
 * destinations' queues, sends and outcomes, retries and expiry, the dead-letter store, and the memory
 * budget with its spool. The {@link DeliveryOperator} keeps the checkpoint life cycle and calls in.
 * Task thread only; blocking I/O runs on {@link BlockIo} and comes back through the mailbox.
 *
 * <p>Memory: every payload in the heap counts against the {@link MemoryBudget}. A destination over its
 * share writes its oldest blocks that are not in flight to the {@link Spool}; a block stays in the heap
 * (and inline in snapshots) until its write is confirmed, then only its handle remains. A spooled block
 * is read back when its destination can send it, within its share. Spool files are deleted once a
 * checkpoint taken after the block left completed, so the latest checkpoint never misses one.
 */
final class DeliveryEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryEngine.class);
    private static final int MAX_REASON = 1000;
    /** Retry-After beyond this is capped: a wrong header must not park a destination for days. */
    private static final long MAX_RETRY_AFTER_MILLIS = Duration.ofHours(1).toMillis();
    /** A spool file that cannot be deleted is tried this often, then left (it is harmless). */
    private static final int DELETE_ATTEMPTS = 3;

    private final String endpointType;
    private final Transport transport;
    private final DeliveryConfig delivery;
    private final Map<Long, Endpoint> endpointsByStream;
    private final DeliveryOperatorFactory.Options options;
    private final MailboxExecutor mailbox;
    private final ProcessingTimeService time;
    private final MetricGroup metrics;
    private final Backoff backoff;
    private final DeadLetterStore deadLetters;
    private final String deadLetterPath;
    private final Spool spool;
    private final BlockIo io;
    private final MemoryBudget budget;
    private final boolean spoolable;

    /** Every undelivered block of this subtask by delivery key, in arrival order. */
    final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();
    final Map<String, Destination> destinations = new HashMap<>();
    private final LinkedHashSet<Destination> waitingForMemory = new LinkedHashSet<>();
    /** Spool files of blocks that left since the last snapshot: deleted after the next checkpoint. */
    private List<String> spoolGarbage = new ArrayList<>();
    private final TreeMap<Long, List<String>> spoolGarbageByCheckpoint = new TreeMap<>();
    private long order;
    private boolean draining;
    private boolean closed;
    /** A stop savepoint was taken: no send starts, since the job restored from it sends what it holds. */
    private boolean holding;
    private int spoolFailuresInARow;
    private int deadLetterFailuresInARow;

    private final Counter spoolWrites;
    private final Counter spoolReads;
    private final Counter spoolFailures;
    private final Counter spoolFilesMissing;
    private final Counter deadLetterFailures;

    DeliveryEngine(String endpointType, Transport transport, DeliveryConfig delivery, Map<Long, Endpoint> endpointsByStream,
            DeliveryOperatorFactory.Options options, MailboxExecutor mailbox, ProcessingTimeService time, MetricGroup metrics,
            String deadLetterPath, String spoolPath, long memoryBudget, String ioThreadName) {
        this.endpointType = endpointType;
        this.transport = transport;
        this.delivery = delivery;
        this.endpointsByStream = endpointsByStream;
        this.options = options;
        this.mailbox = mailbox;
        this.time = time;
        this.metrics = metrics;
        this.backoff = new Backoff(delivery.initialBackoff(), delivery.maxBackoff());
        this.deadLetterPath = deadLetterPath;
        this.deadLetters = new DeadLetterStore(deadLetterPath);
        this.spool = new Spool(spoolPath);
        this.io = new BlockIo(ioThreadName, mailbox);
        this.budget = new MemoryBudget(memoryBudget);
        this.spoolable = transport.spoolable();
        metrics.gauge("memoryBudgetBytes", budget::limit);
        metrics.gauge("heldBytes", () -> budget.heldBytes);
        metrics.gauge("spooledBytes", () -> budget.spooledBytes);
        this.spoolWrites = metrics.counter("spoolWrites");
        this.spoolReads = metrics.counter("spoolReads");
        this.spoolFailures = metrics.counter("spoolFailures");
        this.spoolFilesMissing = metrics.counter("spoolFilesMissing");
        this.deadLetterFailures = metrics.counter("deadLetterFailures");
    }

    Destination destination(String id) {
        return destinations.computeIfAbsent(id, k -> new Destination(k, metrics, budget));
    }

    MemoryBudget budget() {
        return budget;
    }

    /** Whether a destination's backlog leaves room for one more block of {@code bytes} (max_pending_*). */
    String backlogRefusal(Destination d, int bytes) {
        if (d.backlogBlocks >= delivery.maxPendingBlocksPerDestination()
                || d.backlogBytes + bytes > delivery.maxPendingBytesPerDestination()) {
            return "backlog bound of the destination exceeded (" + d.backlogBlocks + " blocks, " + d.backlogBytes
                    + " bytes not taken since their checkpoint; limits " + delivery.maxPendingBlocksPerDestination()
                    + " blocks, " + delivery.maxPendingBytesPerDestination() + " bytes)";
        }
        return null;
    }

    /** A block becomes pending (arrived or restored); then the budget is enforced. */
    void add(Pending p) {
        if (p.spooled != null && !p.block.hasPayload()) {
            p.block = p.block.withoutPayload(sourceOf(p.spooled)); // restored: the transport may read it back itself
        }
        pending.put(p.key(), p);
        if (p.arrivedMillis == 0) {
            p.arrivedMillis = System.currentTimeMillis();
        }
        destination(p.block.destinationId()).added(p);
        enforceBudget();
    }

    /**
     * Back-pressure: while the heap is over budget and spool writes are under way (or being retried),
     * the task waits for them in the mailbox, as Flink's async I/O operator waits for a free slot: the
     * input pauses, deliveries and their outcomes go on. Without writes under way nothing would free
     * the heap sooner, so it does not wait (in-flight sends end within request_timeout).
     */
    void awaitBudget() throws InterruptedException {
        while (!closed && budget.heldBytes > budget.limit() && budget.writingBytes > 0) {
            mailbox.yield();
        }
    }

    /**
     * Starts or ends holding sends for a stop savepoint. While held, no send starts; sends already
     * started finish and are acknowledged as usual.
     */
    void hold(boolean hold) {
        boolean released = holding && !hold;
        holding = hold;
        if (released) {
            for (Destination d : destinations.values()) {
                dispatch(d);
            }
        }
    }

    /**
     * Runs the mailbox until no send is in flight or the deadline passed: a block acknowledged before a
     * stop savepoint is not in it, so the job restored from it does not send that block again.
     */
    void awaitInFlight(long deadlineMillis) throws InterruptedException {
        while (!closed && inFlight() > 0 && System.currentTimeMillis() < deadlineMillis) {
            if (!mailbox.tryYield()) {
                Thread.sleep(2);
            }
        }
    }

    private int inFlight() {
        int n = 0;
        for (Destination d : destinations.values()) {
            n += d.inFlight;
        }
        return n;
    }

    // ---- a block's checkpoint completed ----

    /** A block whose checkpoint completed: deliverable, or dead-lettered if refused at arrival. */
    void release(Pending p, long now) {
        if (p.refused()) {
            deadLetter(destination(p.block.destinationId()), p, endpointsByStream.get(p.block.streamId()), p.deadLetterReason);
        } else {
            makeDeliverable(p, now);
        }
    }

    void makeDeliverable(Pending p, long now) {
        Destination d = destination(p.block.destinationId());
        if (p.deliverableSinceMillis == 0) {
            p.deliverableSinceMillis = now;
        }
        p.order = order++;
        d.released(p);
        d.enqueue(p, delivery.maxRetryDuration().toMillis());
    }

    void dispatchAll() {
        for (Destination d : destinations.values()) {
            dispatch(d);
        }
    }

    /** Sends what the destination's limits allow now; schedules a wake-up for what must wait. */
    void dispatch(Destination d) {
        if (closed || holding) {
            return;
        }
        long now = now();
        if (d.pausedAt(now)) {
            expireWhilePaused(d, now);
            schedule(d, d.pausedUntilMillis());
            return;
        }
        int limit = d.concurrencyLimit(options.maxInFlightPerDestination());
        while (d.inFlight + d.loading < limit && !d.ready.isEmpty()) {
            Pending p = d.ready.peek();
            if (p.nextAttemptMillis > now) {
                schedule(d, p.nextAttemptMillis);
                return;
            }
            if (expired(p, now) && transport.abandon(p.block)) {
                d.ready.poll();
                deadLetter(d, p, endpointsByStream.get(p.block.streamId()), expiredReason(p));
                continue;
            }
            if (!p.inHeap() && transport.deliversFromMemory()) {
                if (!d.mayLoad(p.bytes())) {
                    evict(d, p.bytes()); // payloads already on the spool are dropped at once
                    if (!d.mayLoad(p.bytes())) {
                        // Room comes when a send or a spool write of this subtask ends.
                        waitingForMemory.add(d);
                        return;
                    }
                }
                d.ready.poll();
                load(d, p);
                continue;
            }
            d.ready.poll();
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
        d.attempts.inc();
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
                if (p.arrivedMillis > 0) {
                    d.deliveryLatency.update(Math.max(0, System.currentTimeMillis() - p.arrivedMillis));
                }
                int failures = d.succeeded();
                if (failures > 0) {
                    try (LogFields f = fields(d, p)) {
                        LOG.info("Destination {} recovered after {} failed attempt(s)", d.id, failures);
                    }
                }
            }
            case PERMANENT -> deadLetter(d, p, endpointsByStream.get(p.block.streamId()), truncate(outcome.reason()));
            case RETRY -> {
                p.lastReason = truncate(outcome.reason());
                if (expired(p, now) && transport.abandon(p.block)) {
                    d.retries.inc();
                    deadLetter(d, p, endpointsByStream.get(p.block.streamId()), expiredReason(p));
                    break;
                }
                long retryAfter = outcome.retryAfter() == null ? 0 : Math.min(outcome.retryAfter().toMillis(), MAX_RETRY_AFTER_MILLIS);
                p.nextAttemptMillis = now + Math.max(retryAfter, backoff.delayMillis(p.attempts));
                p.order = order++;
                if (p.spooled != null && !p.writing) {
                    dropPayload(d, p); // it waits on the spool, not in the heap
                }
                d.enqueue(p, delivery.maxRetryDuration().toMillis());
                long pause = d.failed(now, retryAfter, backoff);
                if (d.consecutiveFailures() == 1 || LOG.isDebugEnabled()) {
                    try (LogFields f = fields(d, p)) {
                        LOG.warn("Destination {} failing ({}); pausing it {} ms, other destinations unaffected", d.id,
                                p.lastReason, pause);
                    }
                }
            }
        }
        dispatch(d);
        wakeMemoryWaiters();
    }

    /** Blocks that waited longer than max_retry_duration behind an open circuit go to dead-letter. */
    private void expireWhilePaused(Destination d, long now) {
        if (d.ready.isEmpty() || draining || now < d.nextExpiryMillis) {
            return;
        }
        long maxRetry = delivery.maxRetryDuration().toMillis();
        List<Pending> expired = new ArrayList<>();
        long[] next = {Long.MAX_VALUE};
        // One pass (PriorityQueue.removeIf re-heapifies once), not a remove(Object) per block.
        d.ready.removeIf(p -> {
            if (expired(p, now) && transport.abandon(p.block)) {
                expired.add(p);
                return true;
            }
            if (p.deliverableSinceMillis > 0) {
                next[0] = Math.min(next[0], p.deliverableSinceMillis + maxRetry);
            }
            return false;
        });
        d.nextExpiryMillis = next[0];
        for (Pending p : expired) {
            deadLetter(d, p, endpointsByStream.get(p.block.streamId()), expiredReason(p));
        }
    }

    private String expiredReason(Pending p) {
        return "not delivered within max_retry_duration " + delivery.maxRetryDuration() + " (" + p.attempts
                + " attempts; last: " + p.lastReason + ")";
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
        time.registerTimer(at, timestamp -> {
            if (d.timerAtMillis == at) {
                d.timerAtMillis = Long.MAX_VALUE;
            }
            dispatch(d);
        });
    }

    private void remove(Destination d, Pending p) {
        if (pending.remove(p.key()) != null) {
            d.removed(p);
            if (p.spooled != null) {
                discard(p.spooled.path());
            }
        }
    }

    // ---- memory budget and spool ----

    /** Every destination over its share moves its oldest blocks not in flight to the spool. */
    private void enforceBudget() {
        if (!spoolable) {
            return;
        }
        for (Destination d : destinations.values()) {
            if (d.excess() > 0) {
                evict(d, 0);
            }
        }
    }

    /** Frees {@code d}'s heap down to its share less {@code room}, oldest blocks first. */
    private void evict(Destination d, long room) {
        if (!spoolable) {
            return;
        }
        long excess = d.excess() + room;
        Iterator<Pending> it = d.inHeap.iterator();
        List<Pending> drop = new ArrayList<>();
        while (excess > 0 && it.hasNext()) {
            Pending p = it.next();
            if (p.inFlight || p.writing || p.deadLettering || !transport.releasesPayload(p.block)) {
                continue;
            }
            if (p.spooled != null) {
                drop.add(p); // already on the spool: free
            } else {
                write(d, p);
            }
            excess -= p.bytes();
        }
        for (Pending p : drop) {
            dropPayload(d, p);
        }
    }

    /** The heap lets go of a payload that is safe on the spool; so does the transport. */
    private void dropPayload(Destination d, Pending p) {
        d.dropPayload(p, sourceOf(p.spooled));
        transport.payloadSpooled(p.block);
    }

    private StagedBlock.PayloadSource sourceOf(SpoolHandle handle) {
        return () -> spool.read(handle);
    }

    private void write(Destination d, Pending p) {
        d.writeStarted(p);
        StagedBlock block = p.block;
        io.submit("spool write", 0, () -> spool.write(block), (handle, error) -> onWritten(d, p, handle, error));
    }

    private void onWritten(Destination d, Pending p, SpoolHandle handle, Throwable error) {
        boolean current = pending.get(p.key()) == p;
        if (error != null) {
            spoolFailures.inc();
            if (spoolFailuresInARow++ == 0) {
                LOG.warn("Delivery ({}): spool {} failing ({}); blocks over the memory budget stay in the heap and the input"
                        + " waits until it works again", endpointType, spool.root(), describe(error));
            }
            if (current && !closed) {
                // Kept as a write under way: the input keeps waiting (back-pressure) rather than outgrow the heap.
                StagedBlock block = p.block;
                io.submit("spool write", backoff.delayMillis(spoolFailuresInARow), () -> spool.write(block),
                        (h, e) -> onWritten(d, p, h, e));
                return;
            }
            d.writeEnded(p);
            wakeMemoryWaiters();
            return;
        }
        if (spoolFailuresInARow > 0) {
            LOG.info("Delivery ({}): spool {} works again after {} failure(s)", endpointType, spool.root(), spoolFailuresInARow);
            spoolFailuresInARow = 0;
        }
        spoolWrites.inc();
        d.writeEnded(p);
        if (!current) {
            discard(handle.path()); // the block left while its file was written
        } else {
            d.spoolConfirmed(p, handle);
            if (!p.inFlight && !p.deadLettering) {
                dropPayload(d, p);
            }
        }
        enforceBudget();
        wakeMemoryWaiters();
    }

    private void load(Destination d, Pending p) {
        d.loadStarted(p);
        SpoolHandle handle = p.spooled;
        io.submit("spool read", 0, () -> spool.read(handle), (bytes, error) -> onLoaded(d, p, bytes, error));
    }

    private void onLoaded(Destination d, Pending p, byte[] payload, Throwable error) {
        if (error == null) {
            spoolReads.inc();
            d.loadEnded(p, payload);
            if (spoolFailuresInARow > 0) {
                LOG.info("Delivery ({}): spool {} works again after {} failure(s)", endpointType, spool.root(), spoolFailuresInARow);
                spoolFailuresInARow = 0;
            }
        } else {
            d.loadEnded(p, null);
            if (error instanceof Spool.MissingFileException) {
                missing(d, p);
                dispatch(d);
                wakeMemoryWaiters();
                return;
            }
            spoolFailures.inc();
            if (spoolFailuresInARow++ == 0) {
                LOG.warn("Delivery ({}): spool {} failing ({}); its blocks wait", endpointType, spool.root(), describe(error));
            }
            p.nextAttemptMillis = now() + backoff.delayMillis(spoolFailuresInARow);
        }
        d.enqueue(p, delivery.maxRetryDuration().toMillis());
        dispatch(d);
        wakeMemoryWaiters();
    }

    /**
     * A spooled block whose file is gone: only ever deleted after the block was acknowledged (delivered
     * or dead-lettered) and a later checkpoint completed, so this is a restore from an older checkpoint.
     */
    private void missing(Destination d, Pending p) {
        spoolFilesMissing.inc();
        LOG.warn("Delivery ({}): spool file of block {} ({}) is gone: it was acknowledged after the checkpoint restored"
                + " (an older one); taken as delivered", endpointType, p.block.blockId(), p.spooled.path());
        remove(d, p);
    }

    private void wakeMemoryWaiters() {
        if (waitingForMemory.isEmpty()) {
            return;
        }
        List<Destination> waiting = new ArrayList<>(waitingForMemory);
        waitingForMemory.clear();
        for (Destination d : waiting) {
            dispatch(d);
        }
    }

    /** A spool file no longer needed: deleted once a checkpoint taken from now on completed. */
    private void discard(String path) {
        if (options.checkpointingEnabled() && !draining) {
            spoolGarbage.add(path);
        } else {
            delete(List.of(path), 1);
        }
    }

    /** Snapshot {@code checkpointId} is taken: files discarded before it go when it completes. */
    void checkpointTaken(long checkpointId) {
        if (!spoolGarbage.isEmpty()) {
            spoolGarbageByCheckpoint.put(checkpointId, spoolGarbage);
            spoolGarbage = new ArrayList<>();
        }
    }

    /** Checkpoint {@code checkpointId} completed: no restore of the latest checkpoint needs these files. */
    void checkpointCompleted(long checkpointId) {
        NavigableMap<Long, List<String>> done = spoolGarbageByCheckpoint.headMap(checkpointId, true);
        for (List<String> paths : done.values()) {
            delete(paths, 1);
        }
        done.clear();
    }

    private void delete(List<String> paths, int attempt) {
        io.submit("spool delete", attempt == 1 ? 0 : backoff.delayMillis(attempt), () -> {
            List<String> failed = new ArrayList<>();
            Exception last = null;
            for (String path : paths) {
                try {
                    spool.delete(path);
                } catch (Exception e) {
                    failed.add(path);
                    last = e;
                }
            }
            if (last != null) {
                throw new SpoolDeleteException(failed, last);
            }
            return null;
        }, (ignored, error) -> {
            if (error instanceof SpoolDeleteException failed) {
                if (attempt < DELETE_ATTEMPTS && !closed) {
                    delete(failed.paths, attempt + 1);
                } else {
                    LOG.warn("Delivery ({}): {} spool file(s) not deleted ({}); they are no longer needed", endpointType,
                            failed.paths.size(), describe(failed.getCause()));
                }
            }
        });
    }

    private static final class SpoolDeleteException extends Exception {
        private static final long serialVersionUID = 1L;
        final transient List<String> paths;

        SpoolDeleteException(List<String> paths, Exception cause) {
            super(cause);
            this.paths = paths;
        }
    }

    // ---- dead letters ----

    /**
     * Writes a block to the dead-letter store on an I/O thread. A write that fails keeps the block
     * pending (in every snapshot, with its reason) and is retried with backoff up to max_backoff, for as
     * long as it takes: a block is never lost and the job goes on (a restore writes it again).
     */
    void deadLetter(Destination d, Pending p, Endpoint endpoint, String reason) {
        p.deadLetterReason = reason;
        p.deadLettering = true;
        DeadLetterStore.Entry entry = new DeadLetterStore.Entry(
                endpoint == null ? endpointType : endpoint.endpointType(),
                endpoint == null ? d.id : endpoint.describe(),
                reason,
                p.attempts,
                p.firstAttemptMillis,
                p.lastAttemptMillis,
                System.currentTimeMillis());
        writeDeadLetter(d, p, entry, 0);
    }

    private void writeDeadLetter(Destination d, Pending p, DeadLetterStore.Entry entry, long delayMillis) {
        StagedBlock block = p.block;
        SpoolHandle handle = p.spooled;
        io.submit("dead-letter write", delayMillis, () -> block.hasPayload()
                ? deadLetters.write(block, entry)
                : deadLetters.write(block, entry, out -> spool.copyTo(handle, out)),
                (path, error) -> onDeadLettered(d, p, entry, error));
    }

    private void onDeadLettered(Destination d, Pending p, DeadLetterStore.Entry entry, Throwable error) {
        if (pending.get(p.key()) != p) {
            return;
        }
        if (error instanceof Spool.MissingFileException) {
            p.deadLettering = false;
            missing(d, p);
            wakeMemoryWaiters();
            return;
        }
        if (error != null) {
            deadLetterFailures.inc();
            p.deadLetterFailures++;
            if (deadLetterFailuresInARow++ == 0) {
                LOG.warn("Delivery ({}): cannot write block {} to the dead-letter store {} ({}); it stays pending and is"
                        + " retried with backoff", endpointType, p.block.blockId(), deadLetterPath, describe(error));
            }
            if (!closed) {
                writeDeadLetter(d, p, entry, backoff.delayMillis(p.deadLetterFailures));
            }
            return;
        }
        if (deadLetterFailuresInARow > 0) {
            LOG.info("Delivery ({}): the dead-letter store {} works again after {} failure(s)", endpointType, deadLetterPath,
                    deadLetterFailuresInARow);
            deadLetterFailuresInARow = 0;
        }
        p.deadLettering = false;
        remove(d, p);
        d.deadLettered.inc();
        try (LogFields f = fields(d, p)) {
            LOG.warn("Block {} ({} records) to {} dead-lettered: {}", p.block.blockId(), p.block.recordCount(),
                    entry.destination(), entry.reason());
        }
        dispatch(d);
        wakeMemoryWaiters();
    }

    /** A block that never became pending (no endpoint, or no payload): pending only until it is written. */
    void deadLetterAtOnce(Pending p, String destination, String reason) {
        Destination d = destination(p.block.destinationId());
        pending.put(p.key(), p);
        d.added(p);
        DeadLetterStore.Entry entry = new DeadLetterStore.Entry(endpointType, destination, truncate(reason), 0, 0, 0,
                System.currentTimeMillis());
        p.deadLetterReason = entry.reason();
        p.deadLettering = true;
        writeDeadLetter(d, p, entry, 0);
    }

    // ---- end of input ----

    /**
     * Delivers or dead-letters everything pending before the task ends (bounded input). Timers are
     * stopped by then, so this loop polls the mailbox for outcomes and re-dispatches by itself. Dead-letter
     * writes that keep failing fail the task after a second drain timeout (the restore writes them again).
     */
    void drain() throws Exception {
        draining = true;
        holding = false;
        long deadline = System.currentTimeMillis() + options.drainTimeout().toMillis();
        long giveUp = deadline + options.drainTimeout().toMillis();
        if (!pending.isEmpty()) {
            LOG.info("Delivery ({}): input ended, draining {} pending block(s)", endpointType, pending.size());
        }
        while (!pending.isEmpty()) {
            long now = now();
            boolean pastDeadline = now >= deadline;
            if (now >= giveUp) {
                throw new IllegalStateException("Delivery (" + endpointType + "): " + pending.size() + " block(s) neither"
                        + " delivered nor written to the dead-letter store " + deadLetterPath + " before the input ended");
            }
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
        // Nothing will be restored after the final checkpoint: its blocks' files can go now.
        for (List<String> paths : spoolGarbageByCheckpoint.values()) {
            delete(paths, 1);
        }
        spoolGarbageByCheckpoint.clear();
        if (!spoolGarbage.isEmpty()) {
            delete(spoolGarbage, 1);
            spoolGarbage = new ArrayList<>();
        }
        while (io.outstanding() > 0 && System.currentTimeMillis() < giveUp) {
            if (!mailbox.tryYield()) {
                Thread.sleep(2);
            }
        }
        draining = false;
    }

    boolean draining() {
        return draining;
    }

    private static LogFields fields(Destination d, Pending p) {
        return LogFields.of(p.block.streamId(), d.id, p.block.blockId());
    }

    long now() {
        // The drain loop runs after timers stopped; it keeps time by the wall clock.
        return draining ? System.currentTimeMillis() : time.getCurrentProcessingTime();
    }

    @Override
    public void close() {
        closed = true;
        io.close();
    }

    static String truncate(String reason) {
        String r = reason == null ? "" : reason;
        return r.length() <= MAX_REASON ? r : r.substring(0, MAX_REASON) + "...";
    }

    private static String describe(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        return truncate(cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }

    // Visible for tests.
    int ioOutstanding() {
        return io.outstanding();
    }

    long spoolFilesMissing() {
        return spoolFilesMissing.getCount();
    }

    long deadLetterFailures() {
        return deadLetterFailures.getCount();
    }
}
