package io.edgestreaming.job.cli;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.AddressGuard;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.http.HttpTransport;
import io.edgestreaming.connectors.kafka.KafkaErrors;
import io.edgestreaming.connectors.s3.S3Transport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Proves that a stream's destination takes a delivery, with the job's own transports and settings:
 * <ul>
 *   <li>HTTP: one probe record, formatted as the stream's blocks are (payload format, separator,
 *       compression), POSTed with the stream's headers and an Idempotency-Key; 2xx is a pass.
 *   <li>S3: a probe object under the prefix written as the job writes objects, then removed.
 *   <li>Kafka: the topic exists and may be written, and a transaction is begun and aborted.
 * </ul>
 * Every answer is awaited at most {@code request_timeout}. Every connection passes allowed_networks as
 * the job's own do: a refused address fails the check and nothing is sent.
 */
final class EndpointChecks implements AutoCloseable {
    static final String PROBE_DOMAIN = "edge-streaming-probe";

    /** The outcome of one check; {@code detail} says what was proven, or exactly why it failed. */
    record Result(boolean ok, String detail, Duration took) {}

    private final DeliveryConfig delivery;
    private final AddressPolicy addresses;
    private final AddressGuard kafkaAddresses;
    private final Duration timeout;
    private final HttpTransport http;
    private final S3Transport s3;

    EndpointChecks(DeliveryConfig delivery, AddressPolicy addresses) {
        this.delivery = delivery;
        this.addresses = addresses;
        this.kafkaAddresses = new AddressGuard(addresses, "Kafka");
        this.timeout = delivery.requestTimeout();
        this.http = new HttpTransport(delivery, addresses);
        this.s3 = new S3Transport(delivery, addresses);
    }

    Result check(StreamConfig stream) {
        long start = System.nanoTime();
        Result r;
        try {
            Endpoint endpoint = stream.endpoint();
            if (endpoint instanceof HttpEndpoint h) {
                r = http(stream, h);
            } else if (endpoint instanceof S3Endpoint s) {
                r = s3(stream, s);
            } else {
                r = kafka(stream, (KafkaEndpoint) endpoint);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r = new Result(false, "interrupted", null);
        } catch (RuntimeException e) {
            r = new Result(false, "unexpected failure: " + EdgeStreamingCli.describe(e), null);
        }
        return new Result(r.ok(), r.detail(), Duration.ofNanos(System.nanoTime() - start));
    }

    /** {"edge_streaming_probe":"check-endpoints","stream_id":1001,"sent_at":"..."}: plain ASCII JSON, like every record. */
    static byte[] probeRecord(StreamConfig stream) {
        return ("{\"edge_streaming_probe\":\"check-endpoints\",\"stream_id\":" + stream.id() + ",\"sent_at\":\""
                + Instant.now() + "\"}").getBytes(StandardCharsets.US_ASCII);
    }

    private Result http(StreamConfig stream, HttpEndpoint endpoint) throws InterruptedException {
        Block probe = new Block(stream.id(), stream.dataSource(), PROBE_DOMAIN, System.currentTimeMillis(), 1,
                probeRecord(stream));
        Prepared prepared = http.prepare(probe, endpoint);
        StagedBlock staged = new StagedBlock(stream.id(), stream.dataSource(), PROBE_DOMAIN, probe.sequence(), 1,
                endpoint.destinationId(), prepared.payload(), prepared.deliveryKey(), prepared.contentEncoding());
        Outcome outcome = await(http.deliver(staged, endpoint), timeout);
        return outcome.kind() == Outcome.Kind.DELIVERED
                ? new Result(true, "probe record accepted (2xx), Idempotency-Key " + prepared.deliveryKey(), null)
                : new Result(false, outcome.reason(), null);
    }

    private Result s3(StreamConfig stream, S3Endpoint endpoint) throws InterruptedException {
        String key = probeKey(endpoint);
        boolean gzip = S3Transport.APPLICATION_GZIP.equals(S3Transport.contentType(endpoint));
        byte[] record = probeRecord(stream);
        StagedBlock staged = new StagedBlock(stream.id(), stream.dataSource(), PROBE_DOMAIN, 0, 1,
                endpoint.destinationId(), gzip ? Payloads.gzip(record) : record, key, gzip ? Prepared.GZIP : Prepared.IDENTITY);
        Outcome outcome = await(s3.deliver(staged, endpoint), timeout);
        if (outcome.kind() != Outcome.Kind.DELIVERED) {
            return new Result(false, outcome.reason(), null);
        }
        try (S3Client client = S3Transport.newClient(endpoint, timeout, addresses)) {
            client.deleteObject(b -> b.bucket(endpoint.bucketName()).key(key));
        } catch (AwsServiceException e) {
            String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
            return new Result(true, "probe object " + key + " written, but removing it was refused (" + code + ", HTTP "
                    + e.statusCode() + "; the job needs no DeleteObject): remove it by hand", null);
        } catch (RuntimeException e) {
            return new Result(true, "probe object " + key + " written, but removing it failed ("
                    + EdgeStreamingCli.describe(e) + "): remove it by hand", null);
        }
        return new Result(true, "probe object " + key + " written to bucket " + endpoint.bucketName() + " and removed", null);
    }

    /** Under the prefix as the job's objects are ({@code <prefix>_...} or {@code <prefix>/...}), and named for what it is. */
    static String probeKey(S3Endpoint endpoint) {
        String prefix = endpoint.objectKeyPrefix() == null ? "" : endpoint.objectKeyPrefix();
        String name = "edge-streaming-probe-" + UUID.randomUUID();
        if (prefix.isEmpty()) {
            return name;
        }
        if (endpoint.keyLayout() == S3Endpoint.KeyLayout.DATED) {
            return prefix + (prefix.endsWith("/") ? "" : "/") + name;
        }
        return prefix + "_" + name;
    }

    private Result kafka(StreamConfig stream, KafkaEndpoint endpoint) throws InterruptedException {
        long start = System.nanoTime();
        try (KafkaDestination destination = new KafkaDestination(endpoint, delivery, kafkaAddresses, "check", Long.toString(stream.id()))) {
            String problem = destination.topicProblem();
            if (problem != null) {
                return new Result(false, problem, null);
            }
            // Both steps together within request_timeout.
            destination.limitProducerWaits(timeout.toMillis() - (System.nanoTime() - start) / 1_000_000);
            destination.beginAndAbort();
            return new Result(true, "topic " + endpoint.kafkaTopic() + " (" + destination.partitions()
                    + " partitions) writable; transaction " + destination.transactionalId() + " begun and aborted", null);
        } catch (RuntimeException e) {
            return new Result(false, KafkaErrors.reason(e, endpoint), null);
        }
    }

    /** The outcome of a transport's delivery, awaited at most request_timeout (and a little). */
    static Outcome await(CompletableFuture<Outcome> future, Duration timeout) throws InterruptedException {
        try {
            // The transports bound their own calls; this only guards against one that does not answer.
            return future.get(timeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            return Outcome.retry("no answer within request_timeout (" + timeout.toSeconds() + " s)");
        } catch (java.util.concurrent.ExecutionException e) {
            return Outcome.retry("unexpected failure: " + EdgeStreamingCli.describe(e.getCause()));
        }
    }

    @Override
    public void close() {
        http.close();
        s3.close();
    }
}
