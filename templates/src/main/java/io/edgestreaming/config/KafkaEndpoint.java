package io.edgestreaming.config;

import java.time.Duration;

/**
 * {@code endpoint_type: kafka}.
 *
 * @param bootstrapServers "host1:port1,host2:port2"
 * @param kafkaTopic the one topic written to
 * @param useTls TLS to the brokers
 * @param sasl optional SASL authentication, null when not used
 * @param caFile optional PEM file of CAs to trust for TLS
 * @param messageFormat one message per record (key = domain) or one per block
 * @param compression none, gzip, lz4, zstd or snappy
 * @param transactionTimeout Kafka transaction timeout; below the broker's transaction.max.timeout.ms
 * @param properties extra client properties (secrets), applied over the connection settings above and under
 *     the producer's own; empty for customer endpoints, the source cluster's {@code properties} for the
 *     job's dead-letter topic
 */
public record KafkaEndpoint(
        String bootstrapServers,
        String kafkaTopic,
        boolean useTls,
        Sasl sasl,
        String caFile,
        MessageFormat messageFormat,
        String compression,
        Duration transactionTimeout,
        java.util.Map<String, Secret> properties)
        implements Endpoint {

    public enum MessageFormat {
        RECORD,
        BLOCK,
        /**
         * Not configurable: the job's own dead-lettered events, length-prefixed frames in one block, one
         * message per event with its headers.
         */
        DEAD_LETTER
    }

    public KafkaEndpoint {
        properties = properties == null ? java.util.Map.of() : java.util.Map.copyOf(properties);
    }

    /** A customer's endpoint: no extra client properties. */
    public KafkaEndpoint(String bootstrapServers, String kafkaTopic, boolean useTls, Sasl sasl, String caFile,
            MessageFormat messageFormat, String compression, Duration transactionTimeout) {
        this(bootstrapServers, kafkaTopic, useTls, sasl, caFile, messageFormat, compression, transactionTimeout,
                java.util.Map.of());
    }

    /** SASL credentials; mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. */
    public record Sasl(String mechanism, String username, Secret password) implements java.io.Serializable {}

    @Override
    public String endpointType() {
        return "kafka";
    }

    @Override
    public String destinationId() {
        // Never the id of a customer's destination on the same topic (its transactional ids derive from it).
        String type = messageFormat == MessageFormat.DEAD_LETTER ? "kafka-dead-letters:" : "kafka:";
        return type + bootstrapServers + "/" + kafkaTopic + (sasl == null ? "" : "@" + sasl.username());
    }

    @Override
    public String describe() {
        return "kafka://" + bootstrapServers + "/" + kafkaTopic;
    }
}
