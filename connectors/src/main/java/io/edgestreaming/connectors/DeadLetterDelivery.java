package io.edgestreaming.connectors;

import io.edgestreaming.config.DeadLetterConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.config.Secret;
import io.edgestreaming.config.SourceConfig;
import io.edgestreaming.connectors.engine.DeliveryRoutes;
import io.edgestreaming.connectors.engine.internal.DeliveryOperatorFactory;
import io.edgestreaming.connectors.kafka.KafkaTransport;
import io.edgestreaming.templates.DataSource;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * Delivery of the job's dead-lettered raw events to {@code dead_letter.events_topic} on the source cluster, on
 * the write-ahead engine with the Kafka transport: the same exactly-once machinery as customers' Kafka
 * endpoints, a fixed pool of transactional ids per subtask ({@code <group_id>-dead-letter-<job>-<hash>-<subtask>-<slot>},
 * so the source cluster's ACLs on the prefix {@code <group_id>-dead-letter} still fit), and no broker call on the
 * task thread at a checkpoint.
 *
 * <p>Why this rather than Flink's {@code KafkaSink}: flink-connector-kafka 5.0.0 starts each checkpoint's
 * transaction with {@code initTransactions} in the synchronous part of the checkpoint (140 ms to 1.8 s measured)
 * and uses a new transactional id per checkpoint and subtask, which the brokers keep for 7 days (about 20,000 per
 * subtask per week at 30 s checkpoints). Why the engine rather than a writer of its own: the engine already holds
 * what a restore needs (blocks in state until their transaction is known committed, transaction.version-2-safe
 * recovery, rescaling, a cluster that refuses the writes for good ending in the dead-letter store after
 * max_retry_duration), so dead letters only need to arrive as {@link Block}s (cut by the job's
 * {@code DeadLetterBlocker}) in {@link io.edgestreaming.connectors.kafka.DeadLetterMessages}' framing.
 */
public final class DeadLetterDelivery {
    /** The stream id of dead-letter blocks; configured streams have ids from 1. */
    public static final long STREAM_ID = 0;
    /** Blocks carry a data source; dead letters mix both, so this one means nothing. */
    public static final DataSource DATA_SOURCE = DataSource.HTTP;
    /** Blocks are cut at this many bytes (one event alone may be larger: up to its value's cut plus headers). */
    public static final int MAX_BLOCK_BYTES = 4 << 20;

    private DeadLetterDelivery() {}

    /** The domain of the dead-letter blocks cut by one lane (a subtask index when the lane began). */
    public static String domain(int lane) {
        return "dead-letters-" + lane;
    }

    /** Adds the delivery operator behind the dead-letter blocks, chained to them. */
    public static SingleOutputStreamOperator<Void> attach(DataStream<Block> blocks, JobConfig config, String uid) {
        JobConfigRef ref = JobConfigRef.share(blocks.getExecutionEnvironment(), config);
        boolean checkpointing = blocks.getExecutionEnvironment().getCheckpointConfig().isCheckpointingEnabled();
        DeliveryOperatorFactory factory = new DeliveryOperatorFactory(ref,
                KafkaTransport.deadLetters(transactionalIdBase(config.source())),
                DeliveryOperatorFactory.Options.defaults(config, checkpointing), new Routes());
        return blocks.transform("deliver dead letters", Types.VOID, factory).name("deliver dead letters").uid(uid);
    }

    /** What every transactional id of the dead-letter writer starts with: the old sink's prefix. */
    public static String transactionalIdBase(SourceConfig source) {
        return source.groupId() + "-dead-letter";
    }

    /**
     * The dead-letter topic as a Kafka endpoint: the source's bootstrap servers and its {@code properties}
     * (security settings) minus consumer-only keys, transactions timing out after
     * {@link DeadLetterConfig#TRANSACTION_TIMEOUT}, no compression.
     */
    public static KafkaEndpoint endpoint(JobConfig config) {
        SourceConfig source = config.source();
        Map<String, Secret> properties = new LinkedHashMap<>();
        if (source.properties() != null) {
            source.properties().forEach((key, value) -> {
                if (!key.equals("isolation.level") && !key.startsWith("auto.offset") && !key.equals("group.id")) {
                    properties.put(key, value);
                }
            });
        }
        return new KafkaEndpoint(source.bootstrapServers(), config.deadLetter().eventsTopic(), false, null, null,
                KafkaEndpoint.MessageFormat.DEAD_LETTER, "none", DeadLetterConfig.TRANSACTION_TIMEOUT, properties);
    }

    /** Every block to the dead-letter topic. */
    static final class Routes implements DeliveryRoutes {
        private static final long serialVersionUID = 1L;

        @Override
        public String name() {
            return "dead-letter-events";
        }

        @Override
        public Map<Long, Endpoint> endpoints(JobConfig config) {
            return Map.of(STREAM_ID, endpoint(config));
        }

        @Override
        public Map<String, Long> largestBlocks(JobConfig config, String endpointType) {
            return Map.of(endpoint(config).destinationId(), (long) MAX_BLOCK_BYTES);
        }
    }
}
