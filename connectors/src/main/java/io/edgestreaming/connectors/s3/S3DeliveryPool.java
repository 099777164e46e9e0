package io.edgestreaming.connectors.s3;

import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.config.Secret;
import io.edgestreaming.connectors.AddressGuard;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.StagedBlock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The threads of one subtask's S3 destinations.
 *
 * <p>The client is synchronous: a PUT holds a thread until it ends (at most {@code request_timeout} per
 * call). All destinations of the subtask share one pool whose threads are the requests running: a thread
 * is started only when no idle one is there (by the housekeeping thread, since a thread start may wait for
 * the JVM's thread lock), is reused by any destination, and ends after 30 s idle. Each destination runs at
 * most {@link S3DestinationQueue#REQUESTS_PER_DESTINATION} requests; more wait in its own queue, never in
 * the pool's. Threads per subtask: at most 4 × the destinations with requests running (the engine sends at
 * most 4 per destination at once), idle ones expiring, plus the housekeeping thread.
 *
 * <p>The housekeeping thread also closes idle clients and runs the SDK's call timeouts (short tasks:
 * interrupt a call, abort its request). Per subtask, not per JVM: closing the pool interrupts exactly its
 * own requests, and no thread outlives the job's class loader by more than that.
 */
final class S3DeliveryPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(S3DeliveryPool.class);
    private static final long WORKER_KEEP_ALIVE_SECONDS = 30;
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final Map<ClientKey, S3DestinationQueue> destinations = new ConcurrentHashMap<>();
    /** The requests of every destination: no queue, a thread per request running, idle threads expire. */
    private final ThreadPoolExecutor workers;
    /** Starts workers (off the task thread), closes idle clients, times out SDK calls; started with the first request. */
    private final ScheduledThreadPoolExecutor housekeeping;
    private final S3Clients clients;
    private final Duration idle;
    private final AtomicBoolean started = new AtomicBoolean();

    /** @param idle how long a destination without requests keeps its client */
    S3DeliveryPool(Duration requestTimeout, AddressGuard addresses, Duration idle) {
        this.idle = idle;
        this.workers = new ThreadPoolExecutor(0, Integer.MAX_VALUE, WORKER_KEEP_ALIVE_SECONDS, TimeUnit.SECONDS,
                new SynchronousQueue<>(), daemon("s3-delivery-"));
        this.housekeeping = new ScheduledThreadPoolExecutor(1, daemon("s3-housekeeping-"));
        // Every call's timeout is cancelled when the call ends: drop it from the queue at once.
        this.housekeeping.setRemoveOnCancelPolicy(true);
        this.clients = new S3Clients(requestTimeout, addresses, housekeeping);
    }

    private static ThreadFactory daemon(String prefix) {
        return r -> {
            Thread t = new Thread(r, prefix + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Starts the idle-client release with the first request; false once closed. */
    boolean start() {
        if (started.compareAndSet(false, true)) {
            long period = Math.max(10, idle.toMillis() / 2);
            try {
                housekeeping.scheduleWithFixedDelay(this::releaseIdleClients, period, period, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                return false;
            }
        }
        return true;
    }

    /** Hands the PUT to the destination's queue; the task thread never waits on S3. */
    CompletableFuture<Outcome> submit(StagedBlock block, S3Endpoint s3) {
        return destinations.computeIfAbsent(ClientKey.of(s3), k -> new S3DestinationQueue(s3, this, clients))
                .submit(block, s3);
    }

    /**
     * Runs {@code task} on an idle worker, or on a new one started by the housekeeping thread: never
     * queued behind another request, and the task thread never starts a thread.
     */
    void run(Runnable task, Runnable rejected) {
        if (workers.getQueue().offer(task)) {
            return; // an idle worker took it
        }
        try {
            housekeeping.execute(() -> {
                try {
                    workers.execute(task);
                } catch (RejectedExecutionException e) {
                    rejected.run();
                }
            });
        } catch (RejectedExecutionException e) {
            rejected.run();
        }
    }

    /** Closes the clients (and connection pools) of destinations without a request for {@link #idle}. */
    private void releaseIdleClients() {
        long now = System.nanoTime();
        for (S3DestinationQueue d : destinations.values()) {
            S3Client c = d.releaseIfIdle(now, idle.toNanos());
            if (c != null) {
                LOG.debug("S3 client of {} closed after {} without requests", d.description(), idle);
                try {
                    workers.execute(() -> S3Clients.closeQuietly(c)); // this thread starts workers: it never waits on a store
                } catch (RejectedExecutionException e) {
                    S3Clients.closeQuietly(c);
                }
            }
        }
    }

    /** Clients open now (tests). */
    int openClients() {
        int n = 0;
        for (S3DestinationQueue d : destinations.values()) {
            n += d.hasClient() ? 1 : 0;
        }
        return n;
    }

    /**
     * Interrupts this pool's requests and closes its clients. The housekeeping thread ends once the timeouts
     * of calls still running fired or were cancelled (periodic work stops at once), so it never outlives the
     * job by more than one {@code request_timeout}: the SDK never shuts down a scheduler it was handed.
     */
    @Override
    public void close() {
        housekeeping.shutdown();
        workers.shutdownNow(); // interrupts this transport's requests
        for (S3DestinationQueue d : destinations.values()) {
            S3Client c = d.close();
            if (c != null) {
                S3Clients.closeQuietly(c);
            }
        }
        destinations.clear();
    }

    /** What identifies one client: destination id has host, bucket and access key; the secret may differ. */
    private record ClientKey(String destinationId, String region, Secret secret) {
        static ClientKey of(S3Endpoint s3) {
            return new ClientKey(s3.destinationId(), s3.region(), s3.secretKey());
        }
    }
}
