package io.edgestreaming.connectors.engine;

import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.JobConfig;
import java.io.Serializable;
import java.util.Map;

/**
 * Which endpoint a delivery operator sends each block to, derived from the configuration in the TaskManager
 * (so no endpoint, and no secret in it, travels in the job graph). The default is the streams' own endpoints
 * by stream id; the job's dead letters have their own.
 */
public interface DeliveryRoutes extends Serializable {

    /** Unique per kind of routes: names the TaskManager's shared copy of what they derive. */
    String name();

    /** The endpoint of every stream id this operator delivers for. */
    Map<Long, Endpoint> endpoints(JobConfig config);

    /** Per destination id, the largest payload one of its blocks can have (see {@link TransportContext}). */
    Map<String, Long> largestBlocks(JobConfig config, String endpointType);
}
