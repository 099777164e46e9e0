package io.edgestreaming.connectors.s3;

import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.StagedBlock;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * One destination's client (built on a delivery thread when first needed, closed when idle) and its
 * requests: at most {@link #REQUESTS_PER_DESTINATION} running, the rest waiting in its own queue, so a
 * store that hangs holds at most that many threads and delays no other destination. Lane fields are
 * guarded by {@code this}; building a client holds only {@code building}, so the task thread never waits
 * for it.
 */
final class S3DestinationQueue {
    private static final Logger LOG = LoggerFactory.getLogger(S3DestinationQueue.class);
    /** Requests running at once per destination (the engine's in-flight limit): what a hanging store can hold. */
    static final int REQUESTS_PER_DESTINATION = 4;

    private final S3DeliveryPool pool;
    private final S3Clients clients;
    private final Object building = new Object();
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    private final String description;
    private int running;
    private long lastUsedNanos = System.nanoTime();
    private S3Client client;
    private boolean closed;

    S3DestinationQueue(S3Endpoint s3, S3DeliveryPool pool, S3Clients clients) {
        this.description = s3.describe();
        this.pool = pool;
        this.clients = clients;
    }

    String description() {
        return description;
    }

    /** Starts the PUT now if the destination runs fewer than its cap, else queues it behind its own. */
    CompletableFuture<Outcome> submit(StagedBlock block, S3Endpoint s3) {
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        Runnable request = () -> {
            if (result.isDone()) {
                return; // timed out while waiting: the engine has moved on
            }
            try {
                result.complete(put(block, s3));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        };
        synchronized (this) {
            if (closed) {
                return CompletableFuture.completedFuture(Outcome.retry("S3 transport closing"));
            }
            lastUsedNanos = System.nanoTime();
            if (running >= REQUESTS_PER_DESTINATION) {
                waiting.add(request);
                return result;
            }
            running++;
        }
        pool.run(() -> drain(request), () -> {
            synchronized (this) {
                running--;
            }
            result.complete(Outcome.retry("S3 transport closing"));
        });
        return result;
    }

    /** On a delivery thread: this request, then the destination's waiting ones, until none is left. */
    private void drain(Runnable first) {
        Runnable next = first;
        while (next != null) {
            next.run();
            synchronized (this) {
                next = waiting.poll();
                if (next == null) {
                    running--;
                    lastUsedNanos = System.nanoTime();
                }
            }
        }
    }

    private Outcome put(StagedBlock block, S3Endpoint s3) {
        S3Client c = client(s3);
        if (c == null) {
            return Outcome.retry("S3 transport closing");
        }
        return S3Put.put(c, block, s3);
    }

    /** The client if no request ran or waited for {@code idleNanos}; the caller closes it. */
    synchronized S3Client releaseIfIdle(long now, long idleNanos) {
        if (client == null || running > 0 || !waiting.isEmpty() || now - lastUsedNanos < idleNanos) {
            return null;
        }
        S3Client c = client;
        client = null;
        return c;
    }

    synchronized boolean hasClient() {
        return client != null;
    }

    /** Only called while a request of this destination runs, so an idle release never takes it from under it. */
    private S3Client client(S3Endpoint s3) {
        synchronized (building) {
            synchronized (this) {
                if (closed || client != null) {
                    return client;
                }
            }
            S3Client c = clients.open(s3);
            synchronized (this) {
                if (closed) {
                    S3Clients.closeQuietly(c);
                    return null;
                }
                client = c;
            }
            LOG.info("S3 client for {} (region {}, {} addressing)", description, s3.region(),
                    S3Clients.pathStyle(s3) ? "path-style" : "virtual-hosted");
            return c;
        }
    }

    /** Stops taking requests; returns the client for the caller to close. */
    synchronized S3Client close() {
        closed = true;
        waiting.clear();
        S3Client c = client;
        client = null;
        return c;
    }
}
