package io.edgestreaming.job;

import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Writes a dead-lettered event to the dead-letter topic: the value is the original bytes, untouched,
 * so it can be inspected and replayed; why and where it came from travel as headers.
 */
public final class DeadLetterRecordSerializer implements KafkaRecordSerializationSchema<DeadLetterEvent> {
    private static final long serialVersionUID = 1L;

    private final String topic;

    public DeadLetterRecordSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DeadLetterEvent event, KafkaSinkContext context, Long timestamp) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(DeadLetterEvent.HEADER_REASON, ascii(event.reason()));
        headers.add(DeadLetterEvent.HEADER_DETAIL, event.detail().getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterEvent.HEADER_SOURCE_TOPIC, event.topic().getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterEvent.HEADER_SOURCE_PARTITION, ascii(Integer.toString(event.partition())));
        headers.add(DeadLetterEvent.HEADER_SOURCE_OFFSET, ascii(Long.toString(event.offset())));
        return new ProducerRecord<>(topic, null, null, null, event.value(), headers);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
