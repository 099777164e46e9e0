package io.edgestreaming.job;

import io.edgestreaming.connectors.kafka.DeadLetterMessages;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A dead-lettered event as its one message on the dead-letter topic ({@link DeadLetterMessages}: the original
 * bytes, cut at {@link #MAX_VALUE_BYTES} with {@code value-truncated} and {@code value-bytes}, and the reason and
 * source as headers), for Flink's {@code KafkaSink}. The job no longer writes dead letters with that sink
 * ({@link DeadLetterBlocker}); kept for a graph with the old sink (the savepoint upgrade test), writing the same.
 */
public final class DeadLetterRecordSerializer implements KafkaRecordSerializationSchema<DeadLetterEvent> {
    private static final long serialVersionUID = 1L;

    public static final int MAX_VALUE_BYTES = DeadLetterMessages.MAX_VALUE_BYTES;

    private final String topic;

    public DeadLetterRecordSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DeadLetterEvent event, KafkaSinkContext context, Long timestamp) {
        return DeadLetterMessages.record(topic, new DeadLetterMessages.Event(event.reason(), event.detail(),
                event.topic(), event.partition(), event.offset(), event.value()));
    }
}
