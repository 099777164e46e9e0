package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.LogFields;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Transport;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.streaming.runtime.tasks.ProcessingTimeService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends deliverable blocks within each destination's limits and acts on their outcomes: in-flight and
 * memory limits, wake-up timers for what must wait, retries with backoff (or Retry-After) and the
 * destination's circuit, and expiry after max_retry_duration. Task thread only; outcomes come back
 * through the mailbox.
 */
final class SendScheduler {
    // The engine's log category, as before the split: log settings and alerts keep matching.
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryEngine.class);
    /** Retry-After beyond this is capped: a wrong header must not park a destination for days. */
    private static final long MAX_RETRY_AFTER_MILLIS = Duration.ofHours(1).toMillis();

    private final DeliveryEngine engine;
    private final Transport transport;
    private final DeliveryConfig delivery;
    private final Map<Long, Endpoint> endpointsByStream;
    private final int maxInFlightPerDestination;
    private final MailboxExecutor mailbox;
    private final ProcessingTimeService time;
    private final Backoff backoff;

    /** Destinations that wait for heap room to read a spooled block back. */
    private final LinkedHashSet<Destination> waitingForMemory = new LinkedHashSet<>();
    private long order;

    SendScheduler(DeliveryEngine engine, Transport transport, DeliveryConfig delivery, Map<Long, Endpoint> endpointsByStream,
            int maxInFlightPerDestination, MailboxExecutor mailbox, ProcessingTimeService time, Backoff backoff) {
        this.engine = engine;
        this.transport = transport;
        this.delivery = delivery;
        this.endpointsByStream = endpointsByStream;
        this.maxInFlightPerDestination = maxInFlightPerDestination;
        this.mailbox = mailbox;
        this.time = time;
        this.backoff = backoff;
    }

    /** Queues a block whose checkpoint completed at its destination, behind those released before it. */
    void makeDeliverable(Destination d, Pending p, long now) {
        if (p.deliverableSinceMillis == 0) {
            p.deliverableSinceMillis = now;
        }
        p.order = order++;
        d.released(p);
        d.enqueue(p, delivery.maxRetryDuration().toMillis());
    }

    /** Sends what the destination's limits allow now; schedules a wake-up for what must wait. */
    void dispatch(Destination d) {
        if (engine.closed() || engine.holding()) {
            return;
        }
        long now = engine.now();
        if (d.pausedAt(now)) {
            expireWhilePaused(d, now);
            schedule(d, d.pausedUntilMillis());
            return;
        }
        int limit = d.concurrencyLimit(maxInFlightPerDestination);
        while (d.inFlight + d.loading < limit && !d.ready.isEmpty()) {
            Pending p = d.ready.peek();
            if (p.nextAttemptMillis > now) {
                schedule(d, p.nextAttemptMillis);
                return;
            }
            if (expired(p, now) && transport.abandon(p.block)) {
                d.ready.poll();
                engine.deadLetters.deadLetter(d, p, endpointsByStream.get(p.block.streamId()), expiredReason(p));
                continue;
            }
            if (!p.inHeap() && transport.deliversFromMemory()) {
                if (!d.mayLoad(p.bytes())) {
                    engine.spooler.evict(d, p.bytes()); // payloads already on the spool are dropped at once
                    if (!d.mayLoad(p.bytes())) {
                        // Room comes when a send or a spool write of this subtask ends.
                        waitingForMemory.add(d);
                        return;
                    }
                }
                d.ready.poll();
                engine.spooler.load(d, p);
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
                engine.deadLetters.deadLetter(d, p, endpoint, endpoint == null
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
        if (engine.pending.get(p.key()) != p) {
            dispatch(d);
            return;
        }
        if (error != null) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            outcome = Outcome.retry("transport failed: " + cause.getClass().getSimpleName());
        }
        long now = engine.now();
        switch (outcome.kind()) {
            case DELIVERED -> {
                engine.remove(d, p);
                d.deliveredBlocks.inc();
                d.deliveredBytes.inc(p.bytes());
                if (p.arrivedMillis > 0) {
                    d.deliveryLatency.update(Math.max(0, System.currentTimeMillis() - p.arrivedMillis));
                }
                int failures = d.succeeded();
                if (failures > 0) {
                    try (LogFields f = DeliveryEngine.fields(d, p)) {
                        LOG.info("Destination {} recovered after {} failed attempt(s)", d.id, failures);
                    }
                }
            }
            case PERMANENT -> engine.deadLetters.deadLetter(d, p, endpointsByStream.get(p.block.streamId()),
                    DeliveryEngine.truncate(outcome.reason()));
            case RETRY -> {
                p.lastReason = DeliveryEngine.truncate(outcome.reason());
                if (expired(p, now) && transport.abandon(p.block)) {
                    d.retries.inc();
                    engine.deadLetters.deadLetter(d, p, endpointsByStream.get(p.block.streamId()), expiredReason(p));
                    break;
                }
                long retryAfter = outcome.retryAfter() == null ? 0 : Math.min(outcome.retryAfter().toMillis(), MAX_RETRY_AFTER_MILLIS);
                p.nextAttemptMillis = now + Math.max(retryAfter, backoff.delayMillis(p.attempts));
                p.order = order++;
                if (p.spooled != null && !p.writing) {
                    engine.spooler.dropPayload(d, p); // it waits on the spool, not in the heap
                }
                d.enqueue(p, delivery.maxRetryDuration().toMillis());
                long pause = d.failed(now, retryAfter, backoff);
                if (d.consecutiveFailures() == 1 || LOG.isDebugEnabled()) {
                    try (LogFields f = DeliveryEngine.fields(d, p)) {
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
        if (d.ready.isEmpty() || engine.draining() || now < d.nextExpiryMillis) {
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
            engine.deadLetters.deadLetter(d, p, endpointsByStream.get(p.block.streamId()), expiredReason(p));
        }
    }

    private String expiredReason(Pending p) {
        return "not delivered within max_retry_duration " + delivery.maxRetryDuration() + " (" + p.attempts
                + " attempts; last: " + p.lastReason + ")";
    }

    private boolean expired(Pending p, long now) {
        if (engine.draining()) {
            return false; // drain() applies its own deadline
        }
        return p.deliverableSinceMillis > 0 && now - p.deliverableSinceMillis >= delivery.maxRetryDuration().toMillis();
    }

    private void schedule(Destination d, long at) {
        if (engine.draining() || engine.closed()) {
            return; // drain() polls; timers no longer fire once input ended
        }
        long now = engine.now();
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

    /** Heap room was freed: destinations that waited for it dispatch again. */
    void wakeMemoryWaiters() {
        if (waitingForMemory.isEmpty()) {
            return;
        }
        List<Destination> waiting = new ArrayList<>(waitingForMemory);
        waitingForMemory.clear();
        for (Destination d : waiting) {
            dispatch(d);
        }
    }
}
