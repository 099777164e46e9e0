package io.edgestreaming.bench;

import io.edgestreaming.templates.Templates;
import java.io.IOException;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

/**
 * The pipeline a Flink user would write instead of the job, for comparison: Flink's KafkaSource (read_committed,
 * from the earliest offsets) -> a Jackson tree-model projection of Azion template 184 -> Flink's KafkaSink,
 * exactly once, into one topic. No routing, no batching, no dead letters (what does not parse is dropped).
 */
final class StockPipeline {
    private StockPipeline() {}

    static void build(StreamExecutionEnvironment env, String bootstrap, String httpTopic, String wafTopic,
            String outTopic, String run, long checkpointMillis) {
        env.enableCheckpointing(checkpointMillis, CheckpointingMode.EXACTLY_ONCE);
        KafkaSource<byte[]> source = KafkaSource.<byte[]>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(httpTopic, wafTopic)
                .setGroupId("bench-stock-" + run)
                .setClientIdPrefix("bench-stock-" + run)
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setValueOnlyDeserializer(new Bytes())
                .setProperty("isolation.level", "read_committed")
                .build();
        KafkaSink<byte[]> sink = KafkaSink.<byte[]>builder()
                .setBootstrapServers(bootstrap)
                .setRecordSerializer(KafkaRecordSerializationSchema.<byte[]>builder()
                        .setTopic(outTopic)
                        .setValueSerializationSchema(new Identity())
                        .build())
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix("bench-stock-" + run)
                .setProperty("transaction.timeout.ms", "600000")
                .build();
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "raw events (stock)")
                .flatMap(new Project184(), PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)
                .name("jackson tree projection 184")
                .sinkTo(sink)
                .name("kafka sink (exactly once)");
    }

    /** Template 184 with Jackson's tree model; counts events read (the same metric name as the job's). */
    static final class Project184 extends RichFlatMapFunction<byte[], byte[]> {
        private static final long serialVersionUID = 1L;
        private transient TreeProjection projection;
        private transient Counter eventsRead;

        @Override
        public void open(OpenContext context) throws Exception {
            projection = TreeProjection.of(Templates.byId(184));
            eventsRead = getRuntimeContext().getMetricGroup().counter("eventsRead");
        }

        @Override
        public void flatMap(byte[] event, Collector<byte[]> out) {
            eventsRead.inc();
            byte[] record;
            try {
                record = projection.project(event);
            } catch (IOException notJson) {
                return;
            }
            if (record != null) {
                out.collect(record);
            }
        }
    }

    static final class Bytes implements DeserializationSchema<byte[]> {
        private static final long serialVersionUID = 1L;

        @Override
        public byte[] deserialize(byte[] message) {
            return message;
        }

        @Override
        public boolean isEndOfStream(byte[] next) {
            return false;
        }

        @Override
        public TypeInformation<byte[]> getProducedType() {
            return PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO;
        }
    }

    static final class Identity implements SerializationSchema<byte[]> {
        private static final long serialVersionUID = 1L;

        @Override
        public byte[] serialize(byte[] element) {
            return element;
        }
    }
}
