package io.edgestreaming.connectors.s3;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.connectors.AddressGuard;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import io.edgestreaming.connectors.engine.TransportFactory;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import software.amazon.awssdk.services.s3.S3Client;

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
 * <h2>Requests, threads, addresses</h2>
 * {@link S3DeliveryPool}: one pool of delivery threads per subtask, at most 4 requests per destination;
 * {@link #deliver} only hands the request over, the task thread never waits on S3 and starts no delivery
 * thread. {@link S3DestinationQueue}: one destination's queue and client, the client closed once the
 * destination had no request for {@link #idleClient} (1 min) and built again by the next one.
 * {@link S3Clients}: SDK retries off, a hard per-call timeout of {@code request_timeout}, every connection's
 * address checked against allowed_networks. {@link S3Put}: one PutObject per block, with {@code Content-MD5}.
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
    public static final String ENDPOINT_TYPE = "s3";
    public static final String TEXT_PLAIN = "text/plain";
    public static final String APPLICATION_GZIP = "application/gzip";
    /** A destination without a request for this long closes its client and connections (tests shorten it). */
    static volatile Duration idleClient = Duration.ofMinutes(1);

    private final Duration requestTimeout;
    private final LongSupplier clock;
    private final S3DeliveryPool pool;
    private volatile boolean closed;

    /** @param addresses the allowed_networks every connection's address must pass */
    public S3Transport(DeliveryConfig delivery, AddressPolicy addresses) {
        this(delivery, addresses, System::currentTimeMillis);
    }

    /** @param clock the wall clock that timestamps object names (tests pin it) */
    S3Transport(DeliveryConfig delivery, AddressPolicy addresses, LongSupplier clock) {
        this.requestTimeout = delivery.requestTimeout();
        this.clock = clock;
        this.pool = new S3DeliveryPool(requestTimeout, new AddressGuard(addresses, "S3"), idleClient);
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
        if (closed || !pool.start()) {
            return CompletableFuture.completedFuture(Outcome.retry("S3 transport closing"));
        }
        return pool.submit(block, s3)
                // Belt and braces: the SDK's own call timeouts (PUT, probe, PUT) should fire first. Also ends
                // the wait of a request queued behind the destination's own hanging ones.
                .orTimeout(3 * requestTimeout.toMillis() + 5000, TimeUnit.MILLISECONDS)
                .exceptionally(error -> S3Errors.classify(error, s3, requestTimeout));
    }

    /** Clients open now (tests). */
    int openClients() {
        return pool.openClients();
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
        pool.close();
    }

    /**
     * A client for the endpoint exactly as deliveries use it (addressing, signing, timeouts, no SDK retries),
     * for the command-line tool's checks; the caller closes it (and with it the SDK's own timeout threads).
     */
    public static S3Client newClient(S3Endpoint s3, Duration requestTimeout, AddressPolicy addresses) {
        return S3Clients.build(s3, requestTimeout, new AddressGuard(addresses, "S3"), null);
    }
}
