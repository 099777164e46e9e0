package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.AddressGuard;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Producer properties of one Kafka destination. Every wait is bounded by the engine's request timeout
 * (capped at 30 s), so a dead or refusing cluster costs a bounded time on the lane's own thread and
 * never on the task thread. The returned properties hold the SASL password: never log them.
 *
 * <p>Public for the command-line tool (job module), which checks and replays to a destination with the
 * very connection settings the job uses.
 *
 * <p>Addresses: every bootstrap server is resolved and checked against allowed_networks when a client's
 * properties are made, i.e. right before each producer, consumer or admin client is created (a
 * {@link BrokerAddressRefusedException} then). kafka-clients has no resolver hook: the addresses the
 * brokers advertise in their metadata, which the client connects to next, and a bootstrap name that
 * resolves differently later in a client's life are not checked. A network egress policy closes that gap.
 */
public final class KafkaClientConfig {
    /** Client-side cap of one request; the broker's message.max.bytes decides what it accepts. */
    static final int MAX_REQUEST_SIZE = 64 << 20;
    /** Beyond a message's value: its key (the domain), headers (block id ...), record and batch framing. */
    static final int MESSAGE_OVERHEAD = 64 << 10;
    private static final Duration MAX_WAIT = Duration.ofSeconds(30);

    private KafkaClientConfig() {}

    /** A producer for any block up to {@link #MAX_REQUEST_SIZE} (the command-line tool's replays). */
    public static Properties producer(KafkaEndpoint endpoint, DeliveryConfig delivery, String clientId,
            AddressGuard addresses) {
        return producer(endpoint, delivery, clientId, addresses, MAX_REQUEST_SIZE);
    }

    /**
     * A producer for blocks of at most {@code largestBlock} bytes. Its memory is bounded by what the destination
     * can have in flight, not Kafka's default of 32 MiB a producer: {@code buffer.memory} (everything the producer
     * holds: batches queued and in flight, and the batch buffers ({@link #batchSize}) it keeps for reuse until closed) is the
     * largest message, {@link #messageBound}. The producer refuses a message larger than its buffer as it
     * refuses one larger than {@code max.request.size}, so both are that one bound: a block the stream can cut
     * is never refused by the buffer (a message over it, whatever the cause, is refused as too large; a block
     * over {@code batch.size} gets a batch of its own). Sends beyond the buffer wait for acknowledgements
     * ({@code max.block.ms}), on the destination's own thread. Per destination and subtask the producers are
     * typically two (see {@link ProducerPool}), at most one per transactional id of its pool; this memory is
     * outside the engine's memory budget, which counts the blocks' payloads.
     */
    static Properties producer(KafkaEndpoint endpoint, DeliveryConfig delivery, String clientId, AddressGuard addresses,
            long largestBlock) {
        long wait = waitMillis(delivery);
        int bound = messageBound(largestBlock);
        Properties p = connection(endpoint, delivery, clientId, addresses);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, Long.toString(transactionTimeout(endpoint).toMillis()));
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, endpoint.compression() == null ? "none" : endpoint.compression());
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(bound));
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(bound));
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(batchSize(bound)));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(wait));
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(wait));
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(wait));
        return p;
    }

    /**
     * A quarter of the buffer, at most 256 KiB, at least Kafka's 16 KiB: a block of message_format record is
     * thousands of small messages written at once, and Kafka's 16 KiB batches made a produce request per ~80
     * records, costing the producer's network thread and the broker (measured with the end-to-end benchmark:
     * Kafka client threads 4.2 -> 3.3-3.5 CPU-s per million events). Four batches still fit the buffer, so one
     * partition's full batch never waits for another's.
     */
    static int batchSize(int bound) {
        return Math.max(16 << 10, Math.min(256 << 10, bound / 4));
    }

    /** The largest message of a block of {@code largestBlock} bytes, at most {@link #MAX_REQUEST_SIZE}. */
    static int messageBound(long largestBlock) {
        return (int) Math.min(MAX_REQUEST_SIZE, Math.max(0, largestBlock) + MESSAGE_OVERHEAD);
    }

    /** A consumer of the same cluster with the same credentials: reads a transaction's fate back. */
    static Properties consumer(KafkaEndpoint endpoint, DeliveryConfig delivery, String clientId, AddressGuard addresses) {
        Properties p = connection(endpoint, delivery, clientId + "-readback", addresses);
        p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(waitMillis(delivery)));
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(waitMillis(delivery)));
        return p;
    }

    /** An admin client of the same cluster with the same credentials (topic checks of the command-line tool). */
    public static Properties admin(KafkaEndpoint endpoint, DeliveryConfig delivery, String clientId, AddressGuard addresses) {
        Properties p = connection(endpoint, delivery, clientId, addresses);
        p.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(waitMillis(delivery)));
        p.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(waitMillis(delivery)));
        return p;
    }

    private static long waitMillis(DeliveryConfig delivery) {
        return Math.max(1000, Math.min(delivery.requestTimeout().toMillis(), MAX_WAIT.toMillis()));
    }

    /** Address (checked), timeouts of connecting, TLS and SASL. */
    private static Properties connection(KafkaEndpoint endpoint, DeliveryConfig delivery, String clientId,
            AddressGuard addresses) {
        checkBootstrapServers(endpoint, addresses);
        long wait = waitMillis(delivery);
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, endpoint.bootstrapServers());
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        p.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        p.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, Long.toString(Math.min(wait, 10_000)));
        p.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, Long.toString(Math.min(wait, 10_000)));
        KafkaEndpoint.Sasl sasl = endpoint.sasl();
        String protocol = endpoint.useTls() ? (sasl == null ? "SSL" : "SASL_SSL") : (sasl == null ? "PLAINTEXT" : "SASL_PLAINTEXT");
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
        if (endpoint.useTls() && endpoint.caFile() != null && !endpoint.caFile().isBlank()) {
            p.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
            p.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, endpoint.caFile());
        }
        if (sasl != null) {
            p.put(SaslConfigs.SASL_MECHANISM, sasl.mechanism());
            String module = sasl.mechanism().equals("PLAIN")
                    ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                    : "org.apache.kafka.common.security.scram.ScramLoginModule";
            p.put(SaslConfigs.SASL_JAAS_CONFIG, module + " required username=\"" + jaasEscape(sasl.username())
                    + "\" password=\"" + jaasEscape(sasl.password().reveal()) + "\";");
        }
        // The dead-letter topic's cluster is the source's, reached with the source's own settings (TLS, SASL ...).
        endpoint.properties().forEach((key, value) -> p.put(key, value.reveal()));
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, endpoint.bootstrapServers());
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        return p;
    }

    /**
     * Every bootstrap server must resolve to allowed addresses only. One that does not resolve is left
     * to the client, which fails on it as on any unreachable cluster.
     */
    static void checkBootstrapServers(KafkaEndpoint endpoint, AddressGuard addresses) {
        for (String entry : endpoint.bootstrapServers().split(",")) {
            String server = entry.trim();
            int colon = server.lastIndexOf(':');
            if (colon <= 0) {
                continue;
            }
            try {
                String refused = addresses.refusal(server.substring(0, colon));
                if (refused != null) {
                    throw new BrokerAddressRefusedException("bootstrap server " + server + ": " + refused);
                }
            } catch (UnknownHostException e) {
                // kafka-clients resolves it again and reports it.
            }
        }
    }

    /** The endpoint's transaction timeout, 10 minutes when unset (below the brokers' default 15 min maximum). */
    static Duration transactionTimeout(KafkaEndpoint endpoint) {
        return endpoint.transactionTimeout() == null ? Duration.ofMinutes(10) : endpoint.transactionTimeout();
    }

    private static String jaasEscape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
