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
 * @param addressPolicy {@code allowed_networks}: the special addresses (loopback, private, ...) that
 *     endpoints may connect to; null means none
 */
public record JobConfig(
        SourceConfig source,
        DeadLetterConfig deadLetter,
        DeliveryConfig delivery,
        Duration checkpointInterval,
        List<StreamConfig> streams,
        AddressPolicy addressPolicy)
        implements Serializable {

    public JobConfig {
        // Absent means the strictest policy, never an open one.
        addressPolicy = addressPolicy == null ? AddressPolicy.PUBLIC_ONLY : addressPolicy;
    }
}
