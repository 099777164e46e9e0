package io.edgestreaming.testkit;

import io.edgestreaming.testkit.HttpReceiver.Request;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What an {@link HttpReceiver} received and how it counts it (see its class doc): every request, the delivered
 * blocks deduplicated by {@code Idempotency-Key}, repeats and conflicting repeats; and waiting for them.
 * Thread-safe (guarded by this object's monitor).
 */
final class ReceivedRequests {
    private final List<Request> requests = new ArrayList<>();
    private final List<Request> delivered = new ArrayList<>();
    private final Map<String, byte[]> firstBodyByKey = new HashMap<>();
    private final Map<String, Request> deliveredByKey = new LinkedHashMap<>();
    private final List<Request> conflicting = new ArrayList<>();
    private int repeats;
    private Consumer<Request> onDelivered = r -> { };

    synchronized void onDelivered(Consumer<Request> listener) {
        this.onDelivered = listener;
    }

    /** Records an answered request; calls the delivery listener (outside the lock) if it is a new block. */
    void record(Request request) {
        Consumer<Request> listener = null;
        synchronized (this) {
            requests.add(request);
            String key = request.idempotencyKey();
            boolean ok = request.status() / 100 == 2;
            if (key != null) {
                byte[] first = firstBodyByKey.putIfAbsent(key, request.decodedBody());
                if (first != null && !Arrays.equals(first, request.decodedBody())) {
                    conflicting.add(request);
                }
                if (deliveredByKey.containsKey(key)) {
                    repeats++;
                } else if (ok) {
                    deliveredByKey.put(key, request);
                    delivered.add(request);
                    listener = onDelivered;
                }
            } else if (ok) {
                delivered.add(request);
                listener = onDelivered;
            }
            notifyAll();
        }
        if (listener != null) {
            listener.accept(request);
        }
    }

    synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    synchronized List<Request> deliveredBlocks() {
        return List.copyOf(delivered);
    }

    synchronized int repeats() {
        return repeats;
    }

    synchronized List<Request> conflictingRepeats() {
        return List.copyOf(conflicting);
    }

    /** Wakes every waiter (the receiver closes). */
    synchronized void wakeUp() {
        notifyAll();
    }

    /**
     * Waits until at least {@code n} blocks are delivered; returns the delivered blocks.
     *
     * @throws AssertionError naming what arrived, when the timeout passes first
     */
    synchronized List<Request> awaitBlocks(int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (delivered.size() < n) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("expected " + n + " delivered blocks within " + timeout + ", got "
                        + delivered.size() + " (" + requests.size() + " requests, last: "
                        + (requests.isEmpty() ? "none" : requests.get(requests.size() - 1)) + ")");
            }
            waitNanos(left, "blocks");
        }
        return List.copyOf(delivered);
    }

    /** Waits until at least {@code n} requests (any outcome) were answered; returns all requests. */
    synchronized List<Request> awaitRequests(int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (requests.size() < n) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("expected " + n + " requests within " + timeout + ", got " + requests.size());
            }
            waitNanos(left, "requests");
        }
        return List.copyOf(requests);
    }

    private void waitNanos(long nanos, String what) {
        try {
            TimeUnit.NANOSECONDS.timedWait(this, nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + what, e);
        }
    }
}
