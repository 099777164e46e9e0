package io.edgestreaming.config;

import io.edgestreaming.templates.DataSource;
import java.io.Serializable;
import java.util.Map;

/**
 * The raw-event Kafka source.
 *
 * @param bootstrapServers "host1:port1,host2:port2"
 * @param topics the raw topic of each data source (a data source without a topic is not read)
 * @param groupId the consumer group
 * @param startingPosition where a job without a checkpoint starts reading
 * @param maxEventBytes events larger than this are dead-lettered, not parsed
 * @param properties extra Kafka consumer properties (security settings and the like); values are
 *     redacted in toString because they may hold credentials
 */
public record SourceConfig(
        String bootstrapServers,
        Map<DataSource, String> topics,
        String groupId,
        StartingPosition startingPosition,
        int maxEventBytes,
        Map<String, Secret> properties)
        implements Serializable {

    public enum StartingPosition {
        /** The group's committed offsets, else the earliest. */
        COMMITTED_OR_EARLIEST,
        /** The group's committed offsets, else the latest. */
        COMMITTED_OR_LATEST,
        EARLIEST,
        LATEST
    }
}
