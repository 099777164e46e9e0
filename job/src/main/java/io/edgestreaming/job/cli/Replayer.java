package io.edgestreaming.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.AddressGuard;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.http.HttpTransport;
import io.edgestreaming.connectors.kafka.KafkaErrors;
import io.edgestreaming.connectors.s3.S3Transport;
import io.edgestreaming.templates.DataSource;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Sends dead-lettered blocks again, each once, with its original delivery key, through the job's own
 * transports: HTTP with the same Idempotency-Key, S3 under the same object name, Kafka with the same
 * headers ({@code block_id}) in a transaction of its own. An accepted block gets a marker next to its
 * manifest; a refused one stays as it was. A repeat (a marker lost, {@code --again}) is harmless where the
 * destination dedupes by that key (HTTP receivers honouring Idempotency-Key; S3 overwrites the same object
 * with the same bytes); Kafka consumers dedupe by {@code block_id}.
 */
final class Replayer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Why a block cannot be replayed; the block stays where it is. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String reason) {
            super(reason, null, false, false);
        }
    }

    private final DeliveryConfig delivery;
    private final AddressPolicy addresses;
    private final AddressGuard kafkaAddresses;
    private final BlockStore store;
    private HttpTransport http;
    private S3Transport s3;
    private final Map<String, KafkaDestination> kafka = new HashMap<>();
    private final Map<String, String> topicProblems = new HashMap<>();

    /** @param addresses allowed_networks, which replays pass as the job's deliveries do */
    Replayer(DeliveryConfig delivery, AddressPolicy addresses, BlockStore store) {
        this.delivery = delivery;
        this.addresses = addresses;
        this.kafkaAddresses = new AddressGuard(addresses, "Kafka");
        this.store = store;
    }

    /**
     * The block as it will be sent to {@code target}'s endpoint: the stored payload (re-encoded if the
     * endpoint's compression changed since) under the original delivery key.
     */
    StagedBlock prepare(DeadLetterEntry e, StreamConfig target) throws Refused {
        Endpoint endpoint = target.endpoint();
        if (e.endpointType() != null && !e.endpointType().equals(endpoint.endpointType())) {
            throw new Refused("the block was made for a " + e.endpointType() + " endpoint; stream " + target.id() + " now has a "
                    + endpoint.endpointType() + " endpoint, which takes another payload");
        }
        byte[] payload;
        try {
            payload = store.read(e.payloadPath());
        } catch (IOException ex) {
            throw new Refused("cannot read the payload: " + ex.getMessage());
        }
        if (e.payloadBytes() >= 0 && payload.length != e.payloadBytes()) {
            throw new Refused("the payload has " + payload.length + " bytes, its manifest says " + e.payloadBytes());
        }
        boolean wantGzip = switch (endpoint.endpointType()) {
            case HttpTransport.ENDPOINT_TYPE -> ((HttpEndpoint) endpoint).compression() == HttpEndpoint.Compression.GZIP;
            case S3Transport.ENDPOINT_TYPE -> S3Transport.APPLICATION_GZIP.equals(S3Transport.contentType((S3Endpoint) endpoint));
            default -> false;
        };
        try {
            // The delivery key covers the uncompressed content, so it holds whatever the encoding.
            if (e.gzip() && !wantGzip) {
                payload = Payloads.gunzip(payload);
            } else if (!e.gzip() && wantGzip) {
                payload = Payloads.gzip(payload);
            }
        } catch (IOException ex) {
            throw new Refused("the payload is not valid gzip: " + ex.getMessage());
        }
        DataSource source = DataSource.fromId(e.dataSource()).orElse(target.dataSource());
        return new StagedBlock(e.streamId(), source, e.domain() == null ? "" : e.domain(), e.sequence(), e.recordCount(),
                endpoint.destinationId(), payload, e.deliveryKey(), wantGzip ? Prepared.GZIP : Prepared.IDENTITY);
    }

    /** Sends the block once and marks it replayed. */
    void replay(DeadLetterEntry e, StreamConfig target) throws Refused, InterruptedException {
        StagedBlock block = prepare(e, target);
        Endpoint endpoint = target.endpoint();
        if (endpoint instanceof KafkaEndpoint k) {
            sendToKafka(block, k);
        } else {
            Outcome outcome = EndpointChecks.await(endpoint instanceof HttpEndpoint
                    ? http().deliver(block, endpoint) : s3().deliver(block, endpoint), delivery.requestTimeout());
            if (outcome.kind() != Outcome.Kind.DELIVERED) {
                throw new Refused(outcome.reason());
            }
        }
        ObjectNode marker = JSON.createObjectNode()
                .put("replayed_at", Instant.now().toString())
                .put("stream_id", target.id())
                .put("endpoint_type", endpoint.endpointType())
                .put("destination", endpoint.describe())
                .put("delivery_key", e.deliveryKey());
        try {
            store.write(e.markerPath(), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(marker));
        } catch (IOException ex) {
            throw new Refused("delivered, but the replay marker could not be written (" + ex.getMessage()
                    + "): a later replay sends it again, with the same key");
        }
    }

    private void sendToKafka(StagedBlock block, KafkaEndpoint endpoint) throws Refused, InterruptedException {
        String id = endpoint.destinationId();
        KafkaDestination destination = kafka.computeIfAbsent(id, k -> new KafkaDestination(endpoint, delivery, kafkaAddresses, "replay", ""));
        if (!topicProblems.containsKey(id)) {
            topicProblems.put(id, destination.topicProblem());
        }
        String problem = topicProblems.get(id);
        if (problem != null) {
            throw new Refused(problem);
        }
        try {
            destination.write(block);
        } catch (InterruptedException ex) {
            throw ex;
        } catch (Exception ex) {
            throw new Refused(KafkaErrors.reason(ex, endpoint));
        }
    }

    private HttpTransport http() {
        if (http == null) {
            http = new HttpTransport(delivery, addresses);
        }
        return http;
    }

    private S3Transport s3() {
        if (s3 == null) {
            s3 = new S3Transport(delivery, addresses);
        }
        return s3;
    }

    @Override
    public void close() {
        if (http != null) {
            http.close();
        }
        if (s3 != null) {
            s3.close();
        }
        kafka.values().forEach(KafkaDestination::close);
    }
}
