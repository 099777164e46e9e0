package io.edgestreaming.config;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;

/**
 * The whole job configuration, loaded and validated by {@link ConfigLoader}. Immutable and
 * serializable: operators carry it (or parts of it) in their closures.
 *
 * @param source where raw events come from
 * @param deadLetter where malformed events and undeliverable blocks go
 * @param delivery retry, timeout and backlog rules shared by every endpoint type
 * @param checkpointInterval exactly-once checkpoint interval; a block is visible after the checkpoint
 *     that follows it
 * @param streams the customers' streams, inactive ones included
 * @param batchingKeysPerStream the batcher's shared keys per stream: hosts a stream does not list exactly
 *     (all_domains, wildcards) share these, so visitor-chosen Host headers cannot multiply its blocks
 * @param addressPolicy {@code allowed_networks}: the special addresses (loopback, private, ...) that
 *     endpoints may connect to; null means none
 */
public record JobConfig(
        SourceConfig source,
        DeadLetterConfig deadLetter,
        DeliveryConfig delivery,
        Duration checkpointInterval,
        List<StreamConfig> streams,
        int batchingKeysPerStream,
        AddressPolicy addressPolicy)
        implements Serializable {
    public static final int DEFAULT_BATCHING_KEYS_PER_STREAM = 64;

    public JobConfig {
        // Absent means the strictest policy, never an open one.
        addressPolicy = addressPolicy == null ? AddressPolicy.PUBLIC_ONLY : addressPolicy;
    }

    /** With the default batching_keys_per_stream and no special address allowed. */
    public JobConfig(SourceConfig source, DeadLetterConfig deadLetter, DeliveryConfig delivery,
            Duration checkpointInterval, List<StreamConfig> streams) {
        this(source, deadLetter, delivery, checkpointInterval, streams, DEFAULT_BATCHING_KEYS_PER_STREAM, null);
    }

    /** With the default batching_keys_per_stream. */
    public JobConfig(SourceConfig source, DeadLetterConfig deadLetter, DeliveryConfig delivery,
            Duration checkpointInterval, List<StreamConfig> streams, AddressPolicy addressPolicy) {
        this(source, deadLetter, delivery, checkpointInterval, streams, DEFAULT_BATCHING_KEYS_PER_STREAM, addressPolicy);
    }

    /** With no special address allowed. */
    public JobConfig(SourceConfig source, DeadLetterConfig deadLetter, DeliveryConfig delivery,
            Duration checkpointInterval, List<StreamConfig> streams, int batchingKeysPerStream) {
        this(source, deadLetter, delivery, checkpointInterval, streams, batchingKeysPerStream, null);
    }
}
