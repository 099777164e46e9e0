package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.config.Endpoint;
import io.edgestreaming.connectors.engine.DeliveryRoutes;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.SharedJobConfig;
import io.edgestreaming.config.StreamConfig;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a delivery operator of one endpoint type looks up in the configuration, derived once per TaskManager: each lookup is a
 * {@link SharedJobConfig.Shared#slice} (immutable), so every delivery operator of the TaskManager reads
 * the same instance instead of its own copy.
 */
final class DeliveryEndpoints implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String endpointType;
    private final Map<Long, Endpoint> byStream;
    /** Per destination of this endpoint type: the largest block its streams can cut ({@link io.edgestreaming.connectors.engine.TransportContext}). */
    private final Map<String, Long> largestBlocks;
    /** Delivery operators per slot that hold blocks: one per endpoint type in use, and the dead-letter writer's. */
    private final int typesInUse;

    /** The streams' own endpoints. */
    static final DeliveryRoutes STREAMS = new Streams();

    DeliveryEndpoints(SharedJobConfig.Shared config, String endpointType) {
        this(config, endpointType, STREAMS);
    }

    DeliveryEndpoints(SharedJobConfig.Shared config, String endpointType, DeliveryRoutes routes) {
        this.endpointType = endpointType;
        // Every delivery operator of this TaskManager reads the same map.
        this.byStream = config.slice("delivery:endpoints-by-stream" + suffix(routes), routes::endpoints);
        this.largestBlocks = config.slice("delivery:largest-blocks:" + endpointType + suffix(routes),
                c -> routes.largestBlocks(c, endpointType));
        this.typesInUse = config.slice("delivery:endpoint-types-in-use", c -> {
            Set<String> types = new HashSet<>();
            for (StreamConfig stream : c.streams()) {
                types.add(stream.endpoint().endpointType());
            }
            // The job's dead-letter writer (DeadLetterDelivery, attached whenever there is a source) is one more
            // operator per slot that holds blocks: counted, so that all of them together stay within the heap share.
            int deadLetterWriter = c.source() != null ? 1 : 0;
            return Math.max(1, types.size() + deadLetterWriter);
        });
    }

    private static String suffix(DeliveryRoutes routes) {
        return routes == STREAMS ? "" : ":" + routes.name();
    }

    private static final class Streams implements DeliveryRoutes {
        private static final long serialVersionUID = 1L;

        @Override
        public String name() {
            return "streams";
        }

        @Override
        public Map<Long, Endpoint> endpoints(JobConfig config) {
            return endpointsByStream(config);
        }

        @Override
        public Map<String, Long> largestBlocks(JobConfig config, String endpointType) {
            return DeliveryEndpoints.largestBlocks(config, endpointType);
        }

        private Object readResolve() {
            return STREAMS;
        }
    }

    private static Map<Long, Endpoint> endpointsByStream(JobConfig config) {
        Map<Long, Endpoint> endpoints = new HashMap<>();
        for (StreamConfig stream : config.streams()) {
            endpoints.put(stream.id(), stream.endpoint());
        }
        return Collections.unmodifiableMap(endpoints);
    }

    private static Map<String, Long> largestBlocks(JobConfig config, String endpointType) {
        Map<String, Long> largest = new HashMap<>();
        // A record larger than max_size is cut as a block of its own: a projection of one event, counted twice
        // (JSON escaping can grow what it copies).
        long oneRecord = config.source() == null ? 0 : 2L * config.source().maxEventBytes();
        for (StreamConfig stream : config.streams()) {
            if (stream.endpoint().endpointType().equals(endpointType) && stream.batching() != null) {
                largest.merge(stream.endpoint().destinationId(), Math.max(stream.batching().maxSize(), oneRecord), Math::max);
            }
        }
        return Map.copyOf(largest);
    }

    /** The endpoint of every stream in the configuration, by stream id. */
    Map<Long, Endpoint> byStream() {
        return byStream;
    }

    /** The endpoints of this operator's type, in the order of {@link #byStream}. */
    List<Endpoint> ofType() {
        List<Endpoint> endpoints = new ArrayList<>();
        for (Endpoint endpoint : byStream.values()) {
            if (endpoint.endpointType().equals(endpointType)) {
                endpoints.add(endpoint);
            }
        }
        return endpoints;
    }

    Map<String, Long> largestBlocks() {
        return largestBlocks;
    }

    int typesInUse() {
        return typesInUse;
    }
}
