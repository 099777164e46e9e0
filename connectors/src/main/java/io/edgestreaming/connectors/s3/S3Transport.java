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
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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
 * checksums" beyond what an API requires (several S3-compatible stores refuse them). The client is
 * synchronous, so each destination has a small bounded pool of daemon threads and {@link #deliver}
 * only hands work to it: the task thread never waits on S3. When a PUT breaks off mid-request (a store
 * that refuses may answer before reading the body, and the client may then report only a failed
 * write; or a stale pooled connection), one body-less request to the bucket tells which: the store's
 * error code becomes the outcome, or, if the store answers fine, the PUT is made once more at once.
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
    /** Concurrent PUTs per destination; the engine's in-flight limit per destination is what bounds the queue. */
    static final int THREADS_PER_DESTINATION = 4;
    private static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final Duration requestTimeout;
    private final AddressGuard addresses;
    private final LongSupplier clock;
    private final Map<ClientKey, Destination> destinations = new ConcurrentHashMap<>();
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
        Destination destination = destinations.computeIfAbsent(ClientKey.of(s3), k -> new Destination(s3, requestTimeout, addresses));
        try {
            return CompletableFuture.supplyAsync(() -> destination.put(block, s3), destination.executor)
                    // Belt and braces: the SDK's own call timeouts (PUT, probe, PUT) should fire first.
                    .orTimeout(3 * requestTimeout.toMillis() + 5000, TimeUnit.MILLISECONDS)
                    .exceptionally(error -> S3Errors.classify(error, s3, requestTimeout));
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(Outcome.retry("S3 transport closing"));
        }
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
        for (Destination d : destinations.values()) {
            d.close();
        }
        destinations.clear();
    }

    /** What identifies one client: destination id has host, bucket and access key; the secret may differ. */
    private record ClientKey(String destinationId, String region, Secret secret) {
        static ClientKey of(S3Endpoint s3) {
            return new ClientKey(s3.destinationId(), s3.region(), s3.secretKey());
        }
    }

    /** One destination's client (built lazily on its own thread) and bounded thread pool. */
    private static final class Destination {
        private static final AtomicInteger THREADS = new AtomicInteger();
        final ThreadPoolExecutor executor;
        private final Duration requestTimeout;
        private final AddressGuard addresses;
        private final String description;
        private S3Client client;
        private boolean closed;

        Destination(S3Endpoint s3, Duration requestTimeout, AddressGuard addresses) {
            this.requestTimeout = requestTimeout;
            this.addresses = addresses;
            this.description = s3.describe();
            this.executor = new ThreadPoolExecutor(THREADS_PER_DESTINATION, THREADS_PER_DESTINATION, 30, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), r -> {
                        Thread t = new Thread(r, "s3-delivery-" + THREADS.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
            this.executor.allowCoreThreadTimeOut(true);
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

        private synchronized S3Client client(S3Endpoint s3) {
            if (closed) {
                return null;
            }
            if (client == null) {
                client = build(s3, requestTimeout, addresses);
                LOG.info("S3 client for {} (region {}, {} addressing)", description, s3.region(),
                        pathStyle(s3) ? "path-style" : "virtual-hosted");
            }
            return client;
        }

        synchronized void close() {
            closed = true;
            executor.shutdownNow();
            if (client != null) {
                client.close();
                client = null;
            }
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
                .httpClient(Apache5HttpClient.builder()
                        .connectionTimeout(connect)
                        .socketTimeout(requestTimeout)
                        .expectContinueEnabled(false)
                        .dnsResolver(new CheckedDns(addresses))
                        .proxyConfiguration(ProxyConfiguration.builder()
                                .useSystemPropertyValues(false).useEnvironmentVariableValues(false).build())
                        .build())
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
