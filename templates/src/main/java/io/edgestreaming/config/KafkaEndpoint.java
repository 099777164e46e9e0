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
 */
public record KafkaEndpoint(
        String bootstrapServers,
        String kafkaTopic,
        boolean useTls,
        Sasl sasl,
        String caFile,
        MessageFormat messageFormat,
        String compression,
        Duration transactionTimeout)
        implements Endpoint {

    public enum MessageFormat {
        RECORD,
        BLOCK
    }

    /** SASL credentials; mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. */
    public record Sasl(String mechanism, String username, Secret password) implements java.io.Serializable {}

    @Override
    public String endpointType() {
        return "kafka";
    }

    @Override
    public String destinationId() {
        return "kafka:" + bootstrapServers + "/" + kafkaTopic + (sasl == null ? "" : "@" + sasl.username());
    }

    @Override
    public String describe() {
        return "kafka://" + bootstrapServers + "/" + kafkaTopic;
    }
}
