package io.edgestreaming.job;

import io.edgestreaming.connectors.kafka.DeadLetterMessages;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A dead-lettered event as its one message on the dead-letter topic ({@link DeadLetterMessages}: the original
 * bytes, cut at {@link #MAX_VALUE_BYTES} with {@code value-truncated} and {@code value-bytes}, and the reason and
 * source as headers), for Flink's {@code KafkaSink}: the job's graph before {@link DeadLetterBlocker}, which the
 * savepoint upgrade test builds. Test code only: the job no longer writes dead letters with that sink.
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
