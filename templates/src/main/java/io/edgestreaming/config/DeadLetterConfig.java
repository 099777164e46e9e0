package io.edgestreaming.config;

import java.io.Serializable;
import java.time.Duration;

/**
 * Where what cannot be processed goes; nothing is silently discarded.
 *
 * @param eventsTopic Kafka topic (on the source cluster) for raw events that cannot be parsed or
 *     routed, each with its reason and source topic/partition/offset as headers
 * @param blocksPath Flink FileSystem path ({@code file://} locally, {@code s3://} in production) for
 *     blocks that could not be delivered: one entry per block, payload plus manifest
 */
public record DeadLetterConfig(String eventsTopic, String blocksPath) implements Serializable {
    /**
     * Kafka transaction timeout of the dead-letter events writer: under the brokers' default 15 min
     * maximum ({@code transaction.max.timeout.ms}); checkpoint_interval is bounded by it.
     */
    public static final Duration TRANSACTION_TIMEOUT = Duration.ofMinutes(10);
}
