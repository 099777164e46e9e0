package io.edgestreaming.job;

import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.SourceConfig;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.BlockTypeInfoFactory;
import io.edgestreaming.connectors.DeadLetterDelivery;
import io.edgestreaming.connectors.DeliveryTopology;
import io.edgestreaming.connectors.JobConfigRef;
import io.edgestreaming.templates.DataSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamUtils;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * Builds the job graph: Kafka raw topics -> parse and route (dead letters to Kafka) -> batchers, keyed by
 * (stream, listed host or shared key, lane) -> delivery. Used by {@link EdgeStreamingJob}, the local runner and the
 * tests, so they all run the same graph.
 *
 * <p>Two batchers per subtask, one code: the local one, chained to the router, batches the keys the router keeps
 * (hot keys, every key at parallelism 1; {@link KeyPlacement}) with no network hop; the other batches the records
 * routers send to their keys' home subtask. Both feed the subtask's delivery operators (a task of their own: the
 * blocks of both cross one local channel, a copy per block instead of a serialization per record).
 *
 * <p>Operator uids are fixed: savepoints stay restorable across versions of the job.
 *
 * <p>The configuration travels compressed in the job's Flink configuration ({@link JobConfigRef}), not in the
 * operators: they carry its fingerprint and share one decoded copy per TaskManager.
 */
public final class EdgeStreamingPipeline {
    /** The uid of the dead-letter operator, once Flink's KafkaSink (its writer's uid). */
    static final String DEAD_LETTER_UID = "dead-letter-events-sink";

    private EdgeStreamingPipeline() {}

    /**
     * @param bounded read the raw topics up to their latest offsets at start, then finish (tests); the
     *     job proper reads forever
     */
    public record Options(boolean bounded) {
        public static final Options UNBOUNDED = new Options(false);
        public static final Options BOUNDED = new Options(true);
    }

    /**
     * The router's two outputs: records it batches itself (local lanes, to the batcher chained to it) and records
     * for their keys' home subtask (through the network). Tests splice operators into either.
     */
    public record Routed(DataStream<RoutedRecord> local, DataStream<RoutedRecord> remote) {
        static Routed of(SingleOutputStreamOperator<RoutedRecord> router) {
            return new Routed(router, router.getSideOutput(ParseAndRoute.REMOTE));
        }
    }

    /** The whole job: route, batch, deliver. */
    public static void build(StreamExecutionEnvironment env, JobConfig config, Options options) {
        deliver(batch(route(env, config, options), config), config);
    }

    /** Everything up to and including the batchers; the dead-letter writer is attached. */
    public static DataStream<Block> blocks(StreamExecutionEnvironment env, JobConfig config, Options options) {
        return batch(route(env, config, options), config);
    }

    /**
     * The first stage: Kafka source, then parse, route and project; events that cannot be used go to
     * the dead-letter topic through the operators attached here. The stages are public so that tests can splice operators
     * (failure injection) between them and still run the job's own graph.
     */
    public static Routed route(StreamExecutionEnvironment env, JobConfig config, Options options) {
        configure(env, config);
        DataStream<RawEvent> raw = env
                .fromSource(source(config.source(), options.bounded()), WatermarkStrategy.noWatermarks(),
                        "raw events", RawEvent.TYPE_INFO)
                .uid("raw-events-source");
        SingleOutputStreamOperator<RoutedRecord> routed = raw
                .process(new ParseAndRoute(JobConfigRef.share(env, config), config.source().maxEventBytes(),
                        config.batchingKeysPerStream()), RoutedRecord.TYPE_INFO)
                .name("parse and route")
                .uid("parse-and-route");
        deadLetters(routed.getSideOutput(ParseAndRoute.DEAD_LETTER), config);
        return Routed.of(routed);
    }

    /**
     * The second stage: key by (stream, host) for hosts a stream lists, by (stream, "#" + bucket) for the
     * rest (see {@link BatchingKeys}), each with its lane, and cut blocks.
     */
    public static DataStream<Block> batch(Routed routed, JobConfig config) {
        JobConfigRef ref = JobConfigRef.share(routed.local().getExecutionEnvironment(), config);
        return batch(routed, () -> BlockBatcher.shared(ref, config.batchingKeysPerStream()));
    }

    /**
     * The local batcher is chained to the router: its input is already partitioned as keyBy would (the router keeps a
     * record only if its key's key group is this subtask's), so it is reinterpreted as keyed, not shuffled. The
     * batcher behind the network keeps uid "batcher": savepoints of the single-batcher job restore into it.
     */
    static DataStream<Block> batch(Routed routed, java.util.function.Supplier<BlockBatcher> batcher) {
        DataStream<Block> local = DataStreamUtils
                .reinterpretAsKeyedStream(routed.local(), new BlockBatcher.StreamDomainKey(), BlockBatcher.KEY_TYPE)
                .process(batcher.get(), BlockTypeInfoFactory.TYPE_INFO)
                .name("batcher (local keys)")
                .uid("batcher-local");
        DataStream<Block> remote = routed.remote()
                .keyBy(new BlockBatcher.StreamDomainKey(), BlockBatcher.KEY_TYPE)
                .process(batcher.get(), BlockTypeInfoFactory.TYPE_INFO)
                .name("batcher")
                .uid("batcher");
        // One head for the delivery task, so that the per-type routes chain behind it (a union feeding them directly
        // would make each route a task of its own, every block copied to each).
        return local.union(remote)
                .map(new PassBlocks(), BlockTypeInfoFactory.TYPE_INFO)
                .name("blocks of both batchers")
                .uid("batcher-blocks");
    }

    /** Hands blocks on unchanged: the delivery task's head. */
    static final class PassBlocks implements org.apache.flink.api.common.functions.MapFunction<Block, Block> {
        private static final long serialVersionUID = 1L;

        @Override
        public Block map(Block block) {
            return block;
        }
    }

    /** The last stage: one write-ahead delivery operator per endpoint type. */
    public static void deliver(DataStream<Block> blocks, JobConfig config) {
        DeliveryTopology.attach(blocks, config);
    }

    /**
     * Exactly-once checkpoints at the configured interval unless Flink options already enable them,
     * and no Kryo: a type without a serializer fails when the graph is built, not in production.
     */
    static void configure(StreamExecutionEnvironment env, JobConfig config) {
        if (!env.getCheckpointConfig().isCheckpointingEnabled()) {
            env.enableCheckpointing(config.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        }
        env.getCheckpointConfig().setCheckpointingConsistencyMode(CheckpointingMode.EXACTLY_ONCE);
        Configuration pipeline = new Configuration();
        pipeline.set(PipelineOptions.GENERIC_TYPES, false);
        // Blocks wait in state until their checkpoint completes (write-ahead), and JSON records compress
        // several times over: snappy-compressed snapshots (keyed and operator state) unless set otherwise.
        if (env.getConfiguration().getOptional(ExecutionOptions.SNAPSHOT_COMPRESSION).isEmpty()) {
            pipeline.set(ExecutionOptions.SNAPSHOT_COMPRESSION, true);
        }
        env.configure(pipeline);
    }

    static KafkaSource<RawEvent> source(SourceConfig source, boolean bounded) {
        Map<String, DataSource> sourceByTopic = new HashMap<>();
        List<String> topics = new ArrayList<>();
        source.topics().forEach((dataSource, topic) -> {
            sourceByTopic.put(topic, dataSource);
            topics.add(topic);
        });
        KafkaSourceBuilder<RawEvent> builder = KafkaSource.<RawEvent>builder()
                .setBootstrapServers(source.bootstrapServers())
                .setTopics(topics)
                .setGroupId(source.groupId())
                .setDeserializer(new RawEventDeserializer(sourceByTopic))
                .setStartingOffsets(startingOffsets(source.startingPosition()))
                .setClientIdPrefix(source.groupId());
        if (source.properties() != null) {
            source.properties().forEach((key, value) -> builder.setProperty(key, value.reveal()));
        }
        // Events of aborted producer transactions must never reach customers.
        builder.setProperty("isolation.level", "read_committed");
        if (bounded) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }

    static OffsetsInitializer startingOffsets(SourceConfig.StartingPosition position) {
        return switch (position == null ? SourceConfig.StartingPosition.COMMITTED_OR_EARLIEST : position) {
            case COMMITTED_OR_EARLIEST -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            case COMMITTED_OR_LATEST -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.LATEST);
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
        };
    }

    /**
     * Dead letters to the dead-letter topic, exactly once, on the delivery engine ({@link DeadLetterDelivery}).
     * Cut into blocks in a task of its own, not chained to the source: its checkpoints never hold up the source,
     * and its input is a trickle, so the network hop costs nothing. The first two operators keep the uids of the
     * writer and committer Flink's {@code KafkaSink} had under {@link #DEAD_LETTER_UID}, so savepoints of that
     * job restore.
     */
    static void deadLetters(DataStream<DeadLetterEvent> events, JobConfig config) {
        DataStream<Block> blocks = events
                .transform("dead-letter blocks", BlockTypeInfoFactory.TYPE_INFO, new DeadLetterBlocker())
                .startNewChain()
                .name("dead-letter events")
                .uid(DEAD_LETTER_UID)
                .transform("dead-letter blocks (old sink's committer)", BlockTypeInfoFactory.TYPE_INFO,
                        new LegacySinkState<Block>())
                .uid(String.format(LegacySinkState.COMMITTER_UID_FORMAT, DEAD_LETTER_UID));
        DeadLetterDelivery.attach(blocks, config, "dead-letter-delivery");
    }
}
