package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.LogFields;
import io.edgestreaming.connectors.engine.Transport;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.runtime.tasks.ProcessingTimeService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to a block once its checkpoint let it go, for one delivery operator subtask. The
 * {@link DeliveryOperator} keeps the checkpoint life cycle and calls in; this coordinator keeps the
 * pending blocks, the destinations and the life cycle (hold, drain, close), and hands the work to its
 * roles: the {@link SendScheduler} (queues, sends, outcomes, retries and expiry), the {@link Spooler}
 * (memory budget and spool, with its {@link SpoolGarbage}) and the {@link DeadLetterWriter}.
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

    private final String endpointType;
    private final DeliveryConfig delivery;
    private final Map<Long, Endpoint> endpointsByStream;
    private final DeliveryOperatorFactory.Options options;
    private final MailboxExecutor mailbox;
    private final ProcessingTimeService time;
    private final MetricGroup metrics;
    private final BlockIo io;
    private final MemoryBudget budget;
    final Spooler spooler;
    final DeadLetterWriter deadLetters;
    final SendScheduler scheduler;

    /** Every undelivered block of this subtask by delivery key, in arrival order. */
    final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();
    final Map<String, Destination> destinations = new HashMap<>();
    private boolean draining;
    private boolean closed;
    /** A stop savepoint was taken: no send starts, since the job restored from it sends what it holds. */
    private boolean holding;

    DeliveryEngine(String endpointType, Transport transport, DeliveryConfig delivery, Map<Long, Endpoint> endpointsByStream,
            DeliveryOperatorFactory.Options options, MailboxExecutor mailbox, ProcessingTimeService time, MetricGroup metrics,
            String deadLetterPath, String spoolPath, long memoryBudget, String ioThreadName) {
        this.endpointType = endpointType;
        this.delivery = delivery;
        this.endpointsByStream = endpointsByStream;
        this.options = options;
        this.mailbox = mailbox;
        this.time = time;
        this.metrics = metrics;
        Backoff backoff = new Backoff(delivery.initialBackoff(), delivery.maxBackoff());
        DeadLetterStore deadLetterStore = new DeadLetterStore(deadLetterPath);
        Spool spool = new Spool(spoolPath);
        this.io = new BlockIo(ioThreadName, mailbox);
        this.budget = new MemoryBudget(memoryBudget);
        metrics.gauge("memoryBudgetBytes", budget::limit);
        metrics.gauge("heldBytes", () -> budget.heldBytes);
        metrics.gauge("spooledBytes", () -> budget.spooledBytes);
        // The roles call back into this coordinator and each other through it, only once constructed.
        this.spooler = new Spooler(this, spool, io, backoff, transport, delivery.maxRetryDuration().toMillis(),
                options.checkpointingEnabled(), metrics);
        this.deadLetters = new DeadLetterWriter(this, deadLetterStore, deadLetterPath, spool, io, backoff, metrics);
        this.scheduler = new SendScheduler(this, transport, delivery, endpointsByStream, options.maxInFlightPerDestination(),
                mailbox, time, backoff);
    }

    Destination destination(String id) {
        return destinations.computeIfAbsent(id, k -> new Destination(k, metrics, budget));
    }

    MemoryBudget budget() {
        return budget;
    }

    String endpointType() {
        return endpointType;
    }

    boolean closed() {
        return closed;
    }

    boolean holding() {
        return holding;
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
            p.block = p.block.withoutPayload(spooler.sourceOf(p.spooled)); // restored: the transport may read it back itself
        }
        pending.put(p.key(), p);
        if (p.arrivedMillis == 0) {
            p.arrivedMillis = System.currentTimeMillis();
        }
        destination(p.block.destinationId()).added(p);
        spooler.enforceBudget();
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
                scheduler.dispatch(d);
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
        scheduler.makeDeliverable(destination(p.block.destinationId()), p, now);
    }

    void dispatchAll() {
        for (Destination d : destinations.values()) {
            scheduler.dispatch(d);
        }
    }

    void dispatch(Destination d) {
        scheduler.dispatch(d);
    }

    /** A block leaves (acknowledged): its spool file, if any, goes after the next checkpoint. */
    void remove(Destination d, Pending p) {
        if (pending.remove(p.key()) != null) {
            d.removed(p);
            if (p.spooled != null) {
                spooler.garbage().discard(p.spooled.path());
            }
        }
    }

    /** Snapshot {@code checkpointId} is taken: spool files discarded before it go when it completes. */
    void checkpointTaken(long checkpointId) {
        spooler.garbage().checkpointTaken(checkpointId);
    }

    /** Checkpoint {@code checkpointId} completed: no restore of the latest checkpoint needs those files. */
    void checkpointCompleted(long checkpointId) {
        spooler.garbage().checkpointCompleted(checkpointId);
    }

    // ---- dead letters ----

    /** See {@link DeadLetterWriter}: a block is never lost, a failed write is retried with backoff. */
    void deadLetter(Destination d, Pending p, Endpoint endpoint, String reason) {
        deadLetters.deadLetter(d, p, endpoint, reason);
    }

    /** A block that never became pending (no endpoint, or no payload): pending only until it is written. */
    void deadLetterAtOnce(Pending p, String destination, String reason) {
        Destination d = destination(p.block.destinationId());
        pending.put(p.key(), p);
        d.added(p);
        deadLetters.deadLetterAtOnce(d, p, destination, reason);
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
                        + " delivered nor written to the dead-letter store " + deadLetters.path() + " before the input ended");
            }
            for (Destination d : destinations.values()) {
                if (pastDeadline) {
                    while (!d.ready.isEmpty()) {
                        Pending p = d.ready.poll();
                        deadLetter(d, p, endpointsByStream.get(p.block.streamId()), "not delivered before the bounded input ended"
                                + " (drain timeout " + options.drainTimeout() + ", " + p.attempts + " attempts; last: " + p.lastReason + ")");
                    }
                } else {
                    scheduler.dispatch(d);
                }
            }
            if (!pending.isEmpty() && !mailbox.tryYield()) {
                Thread.sleep(2);
            }
        }
        spooler.garbage().deleteAll();
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

    static LogFields fields(Destination d, Pending p) {
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

    static String describe(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        return truncate(cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }

    // Visible for tests.
    int ioOutstanding() {
        return io.outstanding();
    }

    long spoolFilesMissing() {
        return spooler.spoolFilesMissing();
    }

    long deadLetterFailures() {
        return deadLetters.deadLetterFailures();
    }
}
