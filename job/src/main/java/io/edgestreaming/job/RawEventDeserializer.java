package io.edgestreaming.job;

import io.edgestreaming.templates.DataSource;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Keeps each Kafka record's value untouched, with its topic, partition and offset and the topic's data source. */
public final class RawEventDeserializer implements KafkaRecordDeserializationSchema<RawEvent> {
    private static final long serialVersionUID = 1L;

    private final Map<String, DataSource> sourceByTopic;

    public RawEventDeserializer(Map<String, DataSource> sourceByTopic) {
        this.sourceByTopic = Map.copyOf(sourceByTopic);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawEvent> out) {
        DataSource source = sourceByTopic.get(record.topic());
        if (source == null) {
            // Only configured topics are subscribed; a mapping gap is a wiring bug.
            throw new IllegalStateException("no data source for topic " + record.topic());
        }
        out.collect(new RawEvent(source, record.topic(), record.partition(), record.offset(), record.value()));
    }

    @Override
    public TypeInformation<RawEvent> getProducedType() {
        return RawEvent.TYPE_INFO;
    }
}
