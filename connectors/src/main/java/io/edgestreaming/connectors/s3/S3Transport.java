package io.edgestreaming.connectors.s3;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.connectors.AddressGuard;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import io.edgestreaming.connectors.engine.TransportFactory;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.config.Secret;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.http.apache5.ProxyConfiguration;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * S3 and S3-compatible object stores ({@code endpoint_type: s3}): AWS S3, MinIO, Ceph, Google Cloud
 * Storage interoperability, ... with the AWS SDK for Java v2.
 *
 * <h2>Staging: the engine's write-ahead state, then one PutObject</h2>
 * The engine keeps each block's prepared payload in checkpointed state and calls {@link #deliver}
 * only after the checkpoint that covers it completed. So {@link #prepare} fixes everything once: the
 * object key (the {@link Prepared#deliveryKey()}) and the exact body (gzip-compressed for
 * {@code application/gzip}); {@link #deliver} PUTs that body under that key. A repeat (retry, or
 * re-delivery after a restore) overwrites the same object with identical bytes: harmless. One
 * PutObject takes up to 5 GiB and {@code max_size} is below 2 GiB, so multipart uploads are never
 * needed and never started: none can be left open after a failure. (The alternative, parts uploaded
 * while the checkpoint is taken and completed after it, would only move bytes out of checkpoint state
 * at the price of uploads to abort on every restore.)
 *
 * <h2>Object names</h2>
 * {@link S3ObjectKeys}: Azion's {@code <prefix>_<epoch millis>_<UUID>} or the dated layout. The UUID is
 * derived from the block id and a digest of the block's records, so a block re-cut with identical
 * content gets the same UUID and different content never does. The timestamp is the wall clock when
 * the block reached the delivery operator ({@code prepare}); it is then part of the key held in
 * state. Consequences:
 * <ul>
 *   <li>retries and every restore from the latest checkpoint deliver the key from state: exactly one
 *       object per block;
 *   <li>a restore from an OLDER checkpoint or savepoint re-cuts blocks that may already be stored;
 *       their new timestamp makes a second object with the same UUID suffix (a duplicate that a
 *       reader can drop by UUID), never an overwrite of different data. A time carried by the block
 *       itself (the batcher's checkpointed first-record time) would close that gap; the Block has none
 *       today.
 * </ul>
 *
 * <h2>Requests</h2>
 * One {@link S3Client} per destination (host, bucket, credentials), signed SigV4 for the configured
 * region with that destination's static credentials; path-style addressing except on AWS hosts
 * (virtual-hosted there, unless the bucket name has dots); HTTPS verified by the JDK trust store; SDK
 * retries off (the engine retries with backoff and circuit breaking); a hard per-call timeout of
 * {@code request_timeout}; {@code Content-MD5} so the store verifies the body; no SDK "flexible
 * checksums" beyond what an API requires (several S3-compatible stores refuse them). A client (and its
 * connection pool) is closed once its destination had no request for {@link #idleClient} (1 min), and built
 * again by the next one. When a PUT breaks off mid-request (a store
 * that refuses may answer before reading the body, and the client may then report only a failed
 * write; or a stale pooled connection), one body-less request to the bucket tells which: the store's
 * error code becomes the outcome, or, if the store answers fine, the PUT is made once more at once.
 *
 * <h2>Threads</h2>
 * The client is synchronous: a PUT holds a thread until it ends (at most {@code request_timeout} per call).
 * {@link #deliver} only hands the request over; the task thread never waits on S3 and starts no delivery
 * thread (only the housekeeping thread, at the first request). All destinations of the subtask share one
 * pool whose threads are the requests running: a thread is started only when no idle one is there (by the
 * housekeeping thread, since a thread start may wait for the JVM's thread lock), is reused by any
 * destination, and ends after 30 s idle. Each destination runs at most {@link #REQUESTS_PER_DESTINATION} requests; more wait in its own
 * queue, never in the pool's, so a store that hangs holds at most that many threads and delays no other
 * destination. Threads per subtask: at most 4 × the destinations with requests running (the engine sends
 * at most 4 per destination at once), idle ones expiring, plus the housekeeping thread. Per subtask, not per JVM: closing the transport
 * interrupts exactly its own requests, and no thread outlives the job's class loader by more than that.
 *
 * <h2>Addresses</h2>
 * The HTTP client is Apache HttpClient 5 ({@code apache5-client}) for its DNS hook: every connection
 * resolves its host through allowed_networks ({@link AddressGuard}), so the address connected is the
 * address checked, also for the virtual-hosted {@code <bucket>.s3...amazonaws.com} names that
 * {@code host_url} does not show. A refused address fails the request before anything is sent, and is
 * retried like an unreachable host. No proxy is used (a proxy would resolve the host itself, past the check).
 *
 * <h2>Errors</h2>
 * Retried (dead-lettered once {@code max_retry_duration} is over): 5xx, throttling, timeouts,
 * connection and TLS failures, and the configuration errors an operator fixes on the store side while
 * the job runs: {@code NoSuchBucket} (the bucket must exist beforehand), {@code AccessDenied},
 * {@code InvalidAccessKeyId}, {@code SignatureDoesNotMatch} (wrong secret key), wrong region. Permanent
 * (dead-lettered at once): errors about the object itself that no retry can change, such as
 * {@code EntityTooLarge} and {@code KeyTooLongError}. Reasons name the error code, the HTTP status, the
 * bucket and a hint, and never contain the secret key.
 */
public final class S3Transport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(S3Transport.class);
    public static final String ENDPOINT_TYPE = "s3";
    public static final String TEXT_PLAIN = "text/plain";
    public static final String APPLICATION_GZIP = "application/gzip";
    /** Requests running at once per destination (the engine's in-flight limit): what a hanging store can hold. */
    static final int REQUESTS_PER_DESTINATION = 4;
    private static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final long WORKER_KEEP_ALIVE_SECONDS = 30;
    /** A destination without a request for this long closes its client and connections (tests shorten it). */
    static volatile Duration idleClient = Duration.ofMinutes(1);
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final Duration requestTimeout;
    private final AddressGuard addresses;
    private final LongSupplier clock;
    private final Map<ClientKey, Destination> destinations = new ConcurrentHashMap<>();
    /** The requests of every destination: no queue, a thread per request running, idle threads expire. */
    private final ThreadPoolExecutor workers;
    /** Starts workers (off the task thread) and closes idle clients; started with the first request. */
    private final ScheduledThreadPoolExecutor housekeeping;
    private final Duration idle;
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile boolean closed;

    /** @param addresses the allowed_networks every connection's address must pass */
    public S3Transport(DeliveryConfig delivery, AddressPolicy addresses) {
        this(delivery, addresses, System::currentTimeMillis);
    }

    /** @param clock the wall clock that timestamps object names (tests pin it) */
    S3Transport(DeliveryConfig delivery, AddressPolicy addresses, LongSupplier clock) {
        this.requestTimeout = delivery.requestTimeout();
        this.addresses = new AddressGuard(addresses, "S3");
        this.clock = clock;
        this.idle = idleClient;
        this.workers = new ThreadPoolExecutor(0, Integer.MAX_VALUE, WORKER_KEEP_ALIVE_SECONDS, TimeUnit.SECONDS,
                new SynchronousQueue<>(), daemon("s3-delivery-"));
        this.housekeeping = new ScheduledThreadPoolExecutor(1, daemon("s3-housekeeping-"));
        this.housekeeping.setRemoveOnCancelPolicy(true);
    }

    private static java.util.concurrent.ThreadFactory daemon(String prefix) {
        return r -> {
            Thread t = new Thread(r, prefix + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Factory for {@code s3} endpoints. */
    public static final class Factory implements TransportFactory {
        private static final long serialVersionUID = 1L;

        @Override
        public String endpointType() {
            return ENDPOINT_TYPE;
        }

        @Override
        public void validate(Endpoint endpoint) {
            if (!(endpoint instanceof S3Endpoint s3)) {
                throw new IllegalArgumentException("not an S3 endpoint: " + endpoint.describe());
            }
            URI host = s3.hostUrl();
            if (host == null || host.getHost() == null
                    || !("https".equalsIgnoreCase(host.getScheme()) || "http".equalsIgnoreCase(host.getScheme()))) {
                throw new IllegalArgumentException("host_url must be an http(s) URL with a host, was " + host);
            }
            if (s3.bucketName() == null || s3.bucketName().isBlank()) {
                throw new IllegalArgumentException("bucket_name is missing");
            }
            if (s3.region() == null || s3.region().isBlank()) {
                throw new IllegalArgumentException("region is missing");
            }
            if (s3.accessKey() == null || s3.accessKey().isBlank() || s3.secretKey() == null || s3.secretKey().isEmpty()) {
                throw new IllegalArgumentException("access_key and secret_key are required");
            }
            contentType(s3);
            String prefix = S3ObjectKeys.prefixProblem(s3.objectKeyPrefix());
            if (prefix != null) {
                throw new IllegalArgumentException(prefix);
            }
        }

        @Override
        public Transport create(DeliveryConfig delivery, AddressPolicy addresses) {
            return new S3Transport(delivery, addresses);
        }
    }

    @Override
    public Prepared prepare(Block block, Endpoint endpoint) {
        S3Endpoint s3 = (S3Endpoint) endpoint;
        byte[] body = block.records();
        String key = S3ObjectKeys.key(s3.objectKeyPrefix(), s3.keyLayout(), clock.getAsLong(),
                S3ObjectKeys.contentUuid(block.blockId(), body));
        if (APPLICATION_GZIP.equals(contentType(s3))) {
            return new Prepared(io.edgestreaming.connectors.engine.Gzip.compress(body), key, Prepared.GZIP);
        }
        return new Prepared(body, key, Prepared.IDENTITY);
    }

    @Override
    public CompletableFuture<Outcome> deliver(StagedBlock block, Endpoint endpoint) {
        S3Endpoint s3 = (S3Endpoint) endpoint;
        if (closed) {
            return CompletableFuture.completedFuture(Outcome.retry("S3 transport closing"));
        }
        if (started.compareAndSet(false, true)) {
            long period = Math.max(10, idle.toMillis() / 2);
            try {
                housekeeping.scheduleWithFixedDelay(this::releaseIdleClients, period, period, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                return CompletableFuture.completedFuture(Outcome.retry("S3 transport closing"));
            }
        }
        Destination destination = destinations.computeIfAbsent(ClientKey.of(s3), k -> new Destination(s3, requestTimeout, addresses));
        return destination.submit(block, s3)
                // Belt and braces: the SDK's own call timeouts (PUT, probe, PUT) should fire first. Also ends
                // the wait of a request queued behind the destination's own hanging ones.
                .orTimeout(3 * requestTimeout.toMillis() + 5000, TimeUnit.MILLISECONDS)
                .exceptionally(error -> S3Errors.classify(error, s3, requestTimeout));
    }

    /**
     * Runs {@code task} on an idle worker, or on a new one started by the housekeeping thread: never
     * queued behind another request, and the task thread never starts a thread.
     */
    private void run(Runnable task, Runnable rejected) {
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
        for (Destination d : destinations.values()) {
            S3Client c = d.releaseIfIdle(now, idle.toNanos());
            if (c != null) {
                LOG.debug("S3 client of {} closed after {} without requests", d.description, idle);
                try {
                    workers.execute(() -> closeQuietly(c)); // this thread starts workers: it never waits on a store
                } catch (RejectedExecutionException e) {
                    closeQuietly(c);
                }
            }
        }
    }

    private static void closeQuietly(S3Client c) {
        try {
            c.close();
        } catch (RuntimeException e) {
            LOG.debug("closing an S3 client failed", e);
        }
    }

    /** Clients open now (tests). */
    int openClients() {
        int n = 0;
        for (Destination d : destinations.values()) {
            n += d.hasClient() ? 1 : 0;
        }
        return n;
    }

    /** The stored Content-Type: {@code text/plain} (Azion's {@code plain/text}) or {@code application/gzip}. */
    public static String contentType(S3Endpoint s3) {
        String type = s3.contentType() == null ? TEXT_PLAIN : s3.contentType().trim().toLowerCase(Locale.ROOT);
        return switch (type) {
            case "text/plain", "plain/text", "" -> TEXT_PLAIN;
            case APPLICATION_GZIP -> APPLICATION_GZIP;
            default -> throw new IllegalArgumentException(
                    "content_type must be plain/text, text/plain or application/gzip, was " + s3.contentType());
        };
    }

    @Override
    public void close() {
        closed = true;
        housekeeping.shutdownNow();
        workers.shutdownNow(); // interrupts this transport's requests
        for (Destination d : destinations.values()) {
            S3Client c = d.close();
            if (c != null) {
                closeQuietly(c);
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

    /**
     * One destination's client (built on a worker when first needed, closed when idle) and its requests:
     * at most {@link #REQUESTS_PER_DESTINATION} running, the rest waiting in its own queue. Lane fields
     * are guarded by {@code this}; building a client holds only {@code building}, so the task thread never
     * waits for it.
     */
    private final class Destination {
        private final Duration requestTimeout;
        private final AddressGuard addresses;
        private final Object building = new Object();
        private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
        private final String description;
        private int running;
        private long lastUsedNanos = System.nanoTime();
        private S3Client client;
        private boolean closed;

        Destination(S3Endpoint s3, Duration requestTimeout, AddressGuard addresses) {
            this.description = s3.describe();
            this.requestTimeout = requestTimeout;
            this.addresses = addresses;
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
            run(() -> drain(request), () -> {
                synchronized (this) {
                    running--;
                }
                result.complete(Outcome.retry("S3 transport closing"));
            });
            return result;
        }

        /** On a worker: this request, then the destination's waiting ones, until none is left. */
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

        Outcome put(StagedBlock block, S3Endpoint s3) {
            S3Client c = client(s3);
            if (c == null) {
                return Outcome.retry("S3 transport closing");
            }
            byte[] payload = block.payload();
            PutObjectRequest request = PutObjectRequest.builder()
                    .bucket(s3.bucketName())
                    .key(block.deliveryKey())
                    .contentType(contentType(s3))
                    .contentLength((long) payload.length)
                    .contentMD5(md5(payload))
                    .build();
            RequestBody body = RequestBody.fromContentProvider(
                    ContentStreamProvider.fromByteArrayUnsafe(payload), payload.length, contentType(s3));
            try {
                c.putObject(request, body);
            } catch (SdkClientException e) {
                if (!S3Errors.closedMidRequest(e)) {
                    throw e;
                }
                probe(c, s3, e);
                // The store answers: the PUT met a stale pooled connection or a blip. Once more now; same
                // key, same bytes, so a repeat is harmless.
                c.putObject(request, body);
            }
            return Outcome.delivered();
        }

        /**
         * A store that refuses a PUT (missing bucket, bad signature) may answer and close the connection
         * before reading the body; the client may then report only a failed write and the store's error
         * code is lost. A body-less request to the bucket recovers it (thrown, so the
         * reason names the real problem); if that request succeeds, the store is fine.
         */
        private static void probe(S3Client c, S3Endpoint s3, SdkClientException putFailure) {
            try {
                c.listObjectsV2(b -> b.bucket(s3.bucketName()).maxKeys(1));
            } catch (AwsServiceException refused) {
                refused.addSuppressed(putFailure);
                throw refused;
            } catch (RuntimeException probeFailed) {
                putFailure.addSuppressed(probeFailed);
                throw putFailure;
            }
        }

        /** Only called while a request of this destination runs, so an idle release never takes it from under it. */
        private S3Client client(S3Endpoint s3) {
            synchronized (building) {
                synchronized (this) {
                    if (closed || client != null) {
                        return client;
                    }
                }
                S3Client c = build(s3, requestTimeout, addresses);
                synchronized (this) {
                    if (closed) {
                        closeQuietly(c);
                        return null;
                    }
                    client = c;
                }
                LOG.info("S3 client for {} (region {}, {} addressing)", description, s3.region(),
                        pathStyle(s3) ? "path-style" : "virtual-hosted");
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

    /**
     * A client for the endpoint exactly as deliveries use it (addressing, signing, timeouts, no SDK retries),
     * for the command-line tool's checks; the caller closes it.
     */
    public static S3Client newClient(S3Endpoint s3, Duration requestTimeout, AddressPolicy addresses) {
        return build(s3, requestTimeout, new AddressGuard(addresses, "S3"));
    }

    /** Timeouts of every S3 client of this JVM; never shut down (the SDK does not close a scheduler it was given). */
    private static final java.util.concurrent.ScheduledExecutorService TIMEOUTS =
            java.util.concurrent.Executors.newScheduledThreadPool(2, r -> {
                Thread t = new Thread(r, "s3-timeouts");
                t.setDaemon(true);
                return t;
            });

    static S3Client build(S3Endpoint s3, Duration requestTimeout, AddressGuard addresses) {
        Duration connect = requestTimeout.compareTo(MAX_CONNECT_TIMEOUT) < 0 ? requestTimeout : MAX_CONNECT_TIMEOUT;
        return S3Client.builder()
                .endpointOverride(s3.hostUrl())
                .region(Region.of(s3.region()))
                .forcePathStyle(pathStyle(s3))
                // Some stores mishandle an early refusal of "Expect: 100-continue" (the error code is lost
                // as a failed write); blocks are small, send them whole.
                .serviceConfiguration(c -> c.expectContinueEnabled(false))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(s3.accessKey(), s3.secretKey().reveal())))
                // A builder, not a built client: the SDK closes an HTTP client it built (and its connections) with
                // the S3 client, but never one it was given.
                .httpClientBuilder(Apache5HttpClient.builder()
                        .connectionTimeout(connect)
                        .socketTimeout(requestTimeout)
                        .expectContinueEnabled(false)
                        .dnsResolver(new CheckedDns(addresses))
                        .proxyConfiguration(ProxyConfiguration.builder()
                                .useSystemPropertyValues(false).useEnvironmentVariableValues(false).build()))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(o -> o
                        // One scheduler for the timeouts of every client (the SDK's own is 5 threads per client).
                        .scheduledExecutorService(TIMEOUTS)
                        .retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallTimeout(requestTimeout)
                        .apiCallAttemptTimeout(requestTimeout))
                .build();
    }

    /** Apache HttpClient's resolver, through allowed_networks: the addresses it connects to are checked ones. */
    private record CheckedDns(AddressGuard addresses) implements DnsResolver {
        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            return addresses.resolve(host);
        }

        @Override
        public String resolveCanonicalHostname(String host) throws UnknownHostException {
            return SystemDefaultDnsResolver.INSTANCE.resolveCanonicalHostname(host);
        }
    }

    /** Path-style for custom hosts; AWS prefers virtual-hosted, which TLS allows only for dot-free bucket names. */
    static boolean pathStyle(S3Endpoint s3) {
        String host = s3.hostUrl().getHost() == null ? "" : s3.hostUrl().getHost().toLowerCase(Locale.ROOT);
        boolean aws = host.equals("amazonaws.com") || host.endsWith(".amazonaws.com");
        return !aws || s3.bucketName().contains(".");
    }

    private static String md5(byte[] payload) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(payload));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
