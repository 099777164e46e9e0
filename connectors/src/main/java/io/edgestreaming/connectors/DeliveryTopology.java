package io.edgestreaming.connectors;

import io.edgestreaming.connectors.kafka.KafkaTransport;
import io.edgestreaming.connectors.engine.TransportFactory;
import io.edgestreaming.connectors.engine.internal.DeliveryOperatorFactory;
import io.edgestreaming.connectors.http.HttpTransport;
import io.edgestreaming.connectors.s3.S3Transport;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.SharedJobConfig;
import io.edgestreaming.config.StreamConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFilterFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The delivery end of the job: fans the blocks out by their stream's endpoint type, each type into
 * its own write-ahead delivery operator (the one engine, {@link io.edgestreaming.connectors.engine},
 * with that type's transport).
 *
 * <p>An operator exists for every endpoint type whether or not the configuration uses it today, with
 * a fixed uid ({@code delivery-<type>}): a later configuration that drops the last stream of a type
 * still finds a home for that type's pending blocks when it restores.
 */
public final class DeliveryTopology {
    /** Operator uid prefix; stable so savepoints keep restoring. */
    public static final String UID_PREFIX = "delivery-";

    private DeliveryTopology() {}

    /** The transport of every endpoint type, in a fixed order. */
    public static Map<String, TransportFactory> transports() {
        Map<String, TransportFactory> transports = new LinkedHashMap<>();
        transports.put(HttpTransport.ENDPOINT_TYPE, new HttpTransport.Factory());
        transports.put(KafkaTransport.ENDPOINT_TYPE, new KafkaTransport.Factory());
        transports.put(S3Transport.ENDPOINT_TYPE, new S3Transport.Factory());
        return transports;
    }

    /**
     * Adds the delivery operators behind {@code blocks}.
     *
     * @throws IllegalArgumentException if an endpoint cannot be used (the message names the stream)
     */
    public static void attach(DataStream<Block> blocks, JobConfig config) {
        attach(blocks, config, JobConfigRef.share(blocks.getExecutionEnvironment(), config));
    }

    /** As above, the operators carrying {@code ref} (the shared {@code config}) rather than the configuration. */
    public static void attach(DataStream<Block> blocks, JobConfig config, JobConfigRef ref) {
        Map<String, TransportFactory> transports = transports();
        List<String> problems = new ArrayList<>();
        for (StreamConfig stream : config.streams()) {
            String type = stream.endpoint().endpointType();
            TransportFactory transport = transports.get(type);
            if (transport == null) {
                problems.add("streams[id=" + stream.id() + "].endpoint: unknown endpoint type " + type);
                continue;
            }
            try {
                transport.validate(stream.endpoint());
            } catch (IllegalArgumentException e) {
                problems.add("streams[id=" + stream.id() + "].endpoint: " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("cannot deliver: " + String.join("; ", problems));
        }
        boolean checkpointing = blocks.getExecutionEnvironment().getCheckpointConfig().isCheckpointingEnabled();
        DeliveryOperatorFactory.Options options = DeliveryOperatorFactory.Options.defaults(config, checkpointing);
        String first = null;
        for (Map.Entry<String, TransportFactory> entry : transports.entrySet()) {
            String type = entry.getKey();
            // Blocks of a stream the configuration does not know go to the first route, whose engine
            // dead-letters them with that reason.
            boolean takesUnknown = first == null;
            first = first == null ? type : first;
            SingleOutputStreamOperator<Block> routed = blocks
                    .filter(new EndpointTypeFilter(type, ref, takesUnknown))
                    .name("route " + type)
                    .uid(UID_PREFIX + "route-" + type);
            routed.transform("deliver " + type, Types.VOID, new DeliveryOperatorFactory(ref, entry.getValue(), options))
                    .name("deliver " + type)
                    .uid(UID_PREFIX + type);
        }
    }

    /** Keeps the blocks whose stream delivers to one endpoint type. */
    static final class EndpointTypeFilter extends RichFilterFunction<Block> {
        private static final long serialVersionUID = 1L;
        private final String type;
        private final JobConfigRef config;
        private final boolean takesUnknown;
        /** Held while the filter lives: it keeps the TaskManager's one copy of the configuration. */
        private transient SharedJobConfig.Shared shared;
        /** Shared by the filters of every type and subtask in this TaskManager. */
        private transient Map<Long, String> typeByStream;

        EndpointTypeFilter(String type, JobConfigRef config, boolean takesUnknown) {
            this.type = type;
            this.config = config;
            this.takesUnknown = takesUnknown;
        }

        @Override
        public void open(OpenContext openContext) {
            shared = config.resolve(getRuntimeContext());
            typeByStream = shared.slice("delivery:type-by-stream", c -> {
                Map<Long, String> types = new HashMap<>();
                for (StreamConfig stream : c.streams()) {
                    types.put(stream.id(), stream.endpoint().endpointType());
                }
                return Map.copyOf(types);
            });
        }

        @Override
        public boolean filter(Block block) {
            String streamType = typeByStream.get(block.streamId());
            return streamType == null ? takesUnknown : streamType.equals(type);
        }
    }
}
