package io.edgestreaming.connectors.engine;

import io.edgestreaming.config.Endpoint;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.MetricGroup;
import java.util.Objects;

/**
 * What a transport learns about its operator subtask when it starts ({@link Transport#initializeState}).
 * A transport that names things on the destination (Kafka transactional ids) needs identities that are
 * unique per job and subtask and stable across restarts; one that reconnects after a restore needs the
 * endpoints before any block arrives.
 *
 * @param jobId the Flink job id (hex); stays the same across failover restarts of one job
 * @param subtaskIndex index of this subtask
 * @param parallelism number of subtasks now
 * @param maxParallelism the operator's max parallelism: no subtask index of any attempt of this job
 *     reaches it (at least {@code parallelism})
 * @param restoredCheckpointId the checkpoint restored from, or -1 on a fresh start
 * @param endpoints every endpoint of the configuration that this operator's endpoint type serves
 * @param metrics the operator's metric group, for the transport's own metrics
 * @param largestBlocks per destination id, the largest payload a block of its streams can have (bytes before any
 *     compression): their largest {@code max_size}, or one record alone where that is larger; absent when unknown
 */
public record TransportContext(String jobId, int subtaskIndex, int parallelism, int maxParallelism,
        long restoredCheckpointId, List<Endpoint> endpoints, MetricGroup metrics, Map<String, Long> largestBlocks) {
    public TransportContext {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(metrics, "metrics");
        maxParallelism = Math.max(maxParallelism, parallelism);
        endpoints = List.copyOf(endpoints);
        largestBlocks = Map.copyOf(largestBlocks);
    }

    /** Without block sizes (transports then assume the largest they accept). */
    public TransportContext(String jobId, int subtaskIndex, int parallelism, int maxParallelism,
            long restoredCheckpointId, List<Endpoint> endpoints, MetricGroup metrics) {
        this(jobId, subtaskIndex, parallelism, maxParallelism, restoredCheckpointId, endpoints, metrics, Map.of());
    }
}
