package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.DeadLetterConfig;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.SourceConfig;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.templates.Templates;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.junit.jupiter.api.Test;

/** The job's own serializers round-trip, and the whole graph builds with generic types (Kryo) disabled. */
class SerializersTest {

    private static <T> T roundTrip(TypeSerializer<T> serializer, T value) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(value, out);
        T copy = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        // copy(in, out) must move exactly one value's bytes.
        DataOutputSerializer copied = new DataOutputSerializer(64);
        serializer.copy(new DataInputDeserializer(out.getCopyOfBuffer()), copied);
        assertThat(copied.getCopyOfBuffer()).isEqualTo(out.getCopyOfBuffer());
        return copy;
    }

    @Test
    void recordTypesRoundTrip() throws Exception {
        byte[] bytes = "{\"a\":\"b\"}".getBytes(StandardCharsets.US_ASCII);
        RawEvent raw = roundTrip(RawEvent.Serializer.INSTANCE, new RawEvent(DataSource.WAF, "raw-waf", 3, 99L, bytes));
        assertThat(raw.dataSource()).isEqualTo(DataSource.WAF);
        assertThat(raw.topic()).isEqualTo("raw-waf");
        assertThat(raw.partition()).isEqualTo(3);
        assertThat(raw.offset()).isEqualTo(99L);
        assertThat(raw.value()).isEqualTo(bytes);

        RoutedRecord routed = roundTrip(RoutedRecord.Serializer.INSTANCE, new RoutedRecord(7, "a.com", bytes));
        assertThat(routed.streamId()).isEqualTo(7);
        assertThat(routed.domain()).isEqualTo("a.com");
        assertThat(routed.record()).isEqualTo(bytes);
        assertThat(routed.bucket()).isEqualTo(BatchingKeys.OWN_KEY);
        assertThat(roundTrip(RoutedRecord.Serializer.INSTANCE, new RoutedRecord(7, "a.com", 4095, bytes)).bucket())
                .isEqualTo(4095);

        DeadLetterEvent dead = roundTrip(DeadLetterEvent.Serializer.INSTANCE,
                new DeadLetterEvent("NOT_JSON", "détail " + "x".repeat(70_000), "raw-http", 1, 5L, bytes));
        assertThat(dead.reason()).isEqualTo("NOT_JSON");
        assertThat(dead.detail()).startsWith("détail ").hasSize(70_007);
        assertThat(dead.value()).isEqualTo(bytes);
    }

    @Test
    void theBatchersStateTypesArePojosNotKryo() {
        // Generic types are disabled in the job: a state type Flink cannot analyse would fail at runtime.
        for (Class<?> type : List.of(BatchState.class, SharedBlocks.class)) {
            assertThat(TypeInformation.of(type)).as(type.getSimpleName()).isInstanceOf(PojoTypeInfo.class);
        }
    }

    @Test
    void theWholeGraphBuildsWithGenericTypesDisabled() throws Exception {
        JobConfig config = new JobConfig(
                new SourceConfig("127.0.0.1:1", Map.of(DataSource.HTTP, "raw-http", DataSource.WAF, "raw-waf"), "g",
                        SourceConfig.StartingPosition.EARLIEST, 4096, Map.of()),
                new DeadLetterConfig("dead-letter", "file:///tmp/dead-blocks"),
                new DeliveryConfig(Duration.ofSeconds(20), Duration.ofSeconds(1), Duration.ofMinutes(1),
                        Duration.ofHours(1), 100, 100_000_000),
                Duration.ofSeconds(7),
                List.of(TestStreams.withBatching(
                        new io.edgestreaming.config.StreamConfig(1, "s", "c1", DataSource.HTTP, Templates.byId(2),
                                List.of("a.com"), false, 100, true, TestStreams.kafka(), TestStreams.DEFAULT_BATCHING),
                        TestStreams.kafka(), TestStreams.DEFAULT_BATCHING)),
                TestStreams.LOOPBACK);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        EdgeStreamingPipeline.build(env, config, EdgeStreamingPipeline.Options.UNBOUNDED);

        assertThat(env.getConfig().getSerializerConfig().hasGenericTypesDisabled()).isTrue();
        assertThat(env.getCheckpointConfig().getCheckpointInterval()).isEqualTo(7_000);
        StreamGraph graph = env.getStreamGraph(); // creates every serializer; a Kryo fallback would throw
        assertThat(graph.getStreamNodes()).extracting(n -> n.getTransformationUID())
                .contains("raw-events-source", "parse-and-route", "batcher", "dead-letter-events-sink", "delivery-standard");
    }
}
