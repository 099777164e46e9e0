package io.edgestreaming.connectors.engine.internal;

import java.util.Comparator;
import java.util.PriorityQueue;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * Everything the engine keeps per destination in one subtask: the queue of deliverable blocks, the
 * in-flight count, the circuit breaker and the metrics. A failing destination only ever pauses its
 * own queue; others never wait for it.
 *
 * <p>Circuit breaker: every transient failure pauses the destination for an exponentially growing,
 * jittered delay (or the destination's Retry-After, if longer); while it has failures it is
 * half-open and gets a single probe at a time; the first success closes it again.
 */
final class Destination {
    final String id;
    /** Deliverable blocks, earliest due first, then in arrival order. */
    final PriorityQueue<Pending> ready =
            new PriorityQueue<>(Comparator.comparingLong((Pending p) -> p.nextAttemptMillis).thenComparingLong(p -> p.order));

    /** Every pending block of this destination (unstaged, staged, ready, in flight). */
    int pendingBlocks;
    long pendingBytes;
    int inFlight;
    int consecutiveFailures;
    long pausedUntilMillis;
    /** Time of the earliest wake-up timer registered, or Long.MAX_VALUE. */
    long timerAtMillis = Long.MAX_VALUE;

    final Counter deliveredBlocks;
    final Counter deliveredBytes;
    final Counter retries;
    final Counter deadLettered;

    Destination(String id, MetricGroup operatorGroup) {
        this.id = id;
        MetricGroup group = operatorGroup.addGroup("destination", id);
        this.deliveredBlocks = group.counter("deliveredBlocks");
        this.deliveredBytes = group.counter("deliveredBytes");
        this.retries = group.counter("retries");
        this.deadLettered = group.counter("deadLetteredBlocks");
        group.gauge("pendingBlocks", () -> pendingBlocks);
        group.gauge("pendingBytes", () -> pendingBytes);
        group.gauge("inFlight", () -> inFlight);
        group.gauge("circuitOpen", () -> consecutiveFailures > 0 ? 1 : 0);
    }
}
