package io.edgestreaming.connectors.engine.internal;

import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.PriorityQueue;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * Everything the engine keeps per destination in one subtask: the queue of deliverable blocks, the
 * in-flight count, the circuit breaker, what its blocks hold in the heap and on the spool, and the
 * metrics. A failing destination only ever pauses its own queue; others never wait for it.
 *
 * <p>Circuit breaker: every transient failure pauses the destination for an exponentially growing,
 * jittered delay (or the destination's Retry-After, if longer); while it has failures it is
 * half-open and gets a single probe at a time; the first success closes it again.
 */
final class Destination {
    final String id;
    private final MemoryBudget budget;
    /** Deliverable blocks, earliest due first, then in arrival order. */
    final PriorityQueue<Pending> ready =
            new PriorityQueue<>(Comparator.comparingLong((Pending p) -> p.nextAttemptMillis).thenComparingLong(p -> p.order));
    /** Its pending blocks whose payload is in the heap, oldest first: the order they go to the spool in. */
    final LinkedHashSet<Pending> inHeap = new LinkedHashSet<>();

    /** Every pending block of this destination (unstaged, staged, ready, in flight; in the heap or spooled). */
    int pendingBlocks;
    long pendingBytes;
    /** Pending blocks whose checkpoint completed: what the destination has not taken yet (max_pending_*). */
    int backlogBlocks;
    long backlogBytes;
    /** Payload bytes in the heap, including reads from the spool under way. */
    long heldBytes;
    /** Payload bytes of pending blocks that are on the spool. */
    long spooledBytes;
    int spooledBlocks;
    /** Payload bytes whose spool write is under way (still in {@link #heldBytes}). */
    long writingBytes;
    int inFlight;
    /** Reads from the spool under way for a send; they count against the concurrency limit. */
    int loading;
    /** When the next block of {@link #ready} can pass max_retry_duration: no scan before. */
    long nextExpiryMillis = Long.MAX_VALUE;
    /** Time of the earliest wake-up timer registered, or Long.MAX_VALUE. */
    long timerAtMillis = Long.MAX_VALUE;

    private int consecutiveFailures;
    private long pausedUntilMillis;

    final Counter deliveredBlocks;
    final Counter deliveredBytes;
    final Counter retries;
    final Counter attempts;
    final Counter deadLettered;
    /** Millis from a block's arrival here (its cut, about) to its acknowledgement. */
    final Histogram deliveryLatency;

    Destination(String id, MetricGroup operatorGroup, MemoryBudget budget) {
        this.id = id;
        this.budget = budget;
        MetricGroup group = operatorGroup.addGroup("destination", id);
        this.deliveredBlocks = group.counter("deliveredBlocks");
        this.deliveredBytes = group.counter("deliveredBytes");
        this.retries = group.counter("retries");
        this.attempts = group.counter("attempts");
        this.deliveryLatency = group.histogram("deliveryLatencyMillis", new DescriptiveStatisticsHistogram(1000));
        this.deadLettered = group.counter("deadLetteredBlocks");
        group.gauge("pendingBlocks", () -> pendingBlocks);
        group.gauge("pendingBytes", () -> pendingBytes);
        group.gauge("backlogBlocks", () -> backlogBlocks);
        group.gauge("heldBytes", () -> heldBytes);
        group.gauge("spooledBytes", () -> spooledBytes);
        group.gauge("spooledBlocks", () -> spooledBlocks);
        group.gauge("inFlight", () -> inFlight);
        group.gauge("heldBlocks", inHeap::size);
        group.gauge("circuitOpen", () -> consecutiveFailures > 0 ? 1 : 0);
        group.gauge("state", this::state);
    }

    // ---- circuit ----

    /** For dashboards: 0 healthy, 1 backing off (one failure in a row), 2 circuit open (more). */
    int state() {
        return consecutiveFailures == 0 ? 0 : consecutiveFailures == 1 ? 1 : 2;
    }

    /** Attempts allowed at once: all while healthy, one probe while failing. Reads for a send count. */
    int concurrencyLimit(int healthyLimit) {
        return consecutiveFailures > 0 ? 1 : healthyLimit;
    }

    boolean pausedAt(long now) {
        return pausedUntilMillis > now;
    }

    long pausedUntilMillis() {
        return pausedUntilMillis;
    }

    boolean failing() {
        return consecutiveFailures > 0;
    }

    /** A delivery succeeded: closes the circuit. Returns the failures it had (0: it was healthy). */
    int succeeded() {
        int had = consecutiveFailures;
        consecutiveFailures = 0;
        pausedUntilMillis = 0;
        return had;
    }

    /** A transient failure: pauses the destination; returns the pause in millis. */
    long failed(long now, long retryAfterMillis, Backoff backoff) {
        retries.inc();
        consecutiveFailures++;
        long pause = Math.max(retryAfterMillis, backoff.delayMillis(consecutiveFailures));
        pausedUntilMillis = Math.max(pausedUntilMillis, now + pause);
        return pause;
    }

    int consecutiveFailures() {
        return consecutiveFailures;
    }

    // ---- what its blocks hold ----

    /** Queues a deliverable block (again). */
    void enqueue(Pending p, long maxRetryMillis) {
        ready.add(p);
        if (p.deliverableSinceMillis > 0) {
            nextExpiryMillis = Math.min(nextExpiryMillis, p.deliverableSinceMillis + maxRetryMillis);
        }
    }

    /** A block became pending here (arrived or restored), its payload in the heap or on the spool. */
    void added(Pending p) {
        if (pendingBlocks++ == 0) {
            budget.destinationsWithBlocks++;
        }
        pendingBytes += p.bytes();
        if (p.inHeap()) {
            inHeap.add(p);
            hold(p.bytes());
        }
        if (p.spooled != null) {
            spooled(p.bytes(), 1);
        }
    }

    /** Its checkpoint completed: it counts against the backlog bound now. */
    void released(Pending p) {
        if (!p.inBacklog) {
            p.inBacklog = true;
            backlogBlocks++;
            backlogBytes += p.bytes();
        }
    }

    /** A block left (delivered, dead-lettered, or its spool file was gone). */
    void removed(Pending p) {
        if (--pendingBlocks == 0) {
            budget.destinationsWithBlocks--;
        }
        pendingBytes -= p.bytes();
        if (p.inBacklog) {
            p.inBacklog = false;
            backlogBlocks--;
            backlogBytes -= p.bytes();
        }
        if (inHeap.remove(p)) {
            hold(-p.bytes());
        }
        if (p.spooled != null) {
            spooled(-p.bytes(), -1);
        }
    }

    void writeStarted(Pending p) {
        p.writing = true;
        writingBytes += p.bytes();
        budget.writingBytes += p.bytes();
    }

    void writeEnded(Pending p) {
        p.writing = false;
        writingBytes -= p.bytes();
        budget.writingBytes -= p.bytes();
    }

    /** Its spool file is written (the block is still pending). */
    void spoolConfirmed(Pending p, SpoolHandle handle) {
        p.spooled = handle;
        spooled(p.bytes(), 1);
    }

    /** The heap lets go of a payload that is safe on the spool. */
    void dropPayload(Pending p, io.edgestreaming.connectors.engine.StagedBlock.PayloadSource source) {
        p.block = p.block.withoutPayload(source);
        if (inHeap.remove(p)) {
            hold(-p.bytes());
        }
    }

    /** A read from the spool starts: its bytes count as held from now (the budget reserves them). */
    void loadStarted(Pending p) {
        p.loading = true;
        loading++;
        hold(p.bytes());
    }

    /** The read ended: with the payload, or (null) without it. */
    void loadEnded(Pending p, byte[] payload) {
        p.loading = false;
        loading--;
        if (payload != null) {
            p.block = p.block.withPayload(payload);
            inHeap.add(p);
        } else {
            hold(-p.bytes());
        }
    }

    /** Whether a spooled block of {@code bytes} may be read back now: within its share, or the first. */
    boolean mayLoad(int bytes) {
        return heldBytes == 0 || (heldBytes + bytes <= budget.share() && budget.heldBytes + bytes <= budget.limit());
    }

    /** Bytes over this destination's share that no spool write under way will free. */
    long excess() {
        return heldBytes - writingBytes - budget.share();
    }

    private void hold(long bytes) {
        heldBytes += bytes;
        budget.heldBytes += bytes;
    }

    private void spooled(long bytes, int blocks) {
        spooledBytes += bytes;
        spooledBlocks += blocks;
        budget.spooledBytes += bytes;
    }
}
