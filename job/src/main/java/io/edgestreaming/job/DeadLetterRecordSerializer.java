package io.edgestreaming.job;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Writes a dead-lettered event to the dead-letter topic: the value is the original bytes, untouched
 * (up to a bound, below), so it can be inspected and replayed; why and where it came from travel as
 * headers.
 *
 * <p>A value over {@link #MAX_VALUE_BYTES} is cut to its first {@link #MAX_VALUE_BYTES} bytes and
 * marked with {@code value-truncated: true} and {@code value-bytes: <original length>}: a whole event
 * (up to 64 MiB, {@code source.max_event_bytes}) would exceed the producer's {@code max.request.size}
 * and the broker's {@code message.max.bytes} (both about 1 MiB by default), and the sink would fail the
 * job on every restart. The {@code source-*} headers point at the complete original record.
 */
public final class DeadLetterRecordSerializer implements KafkaRecordSerializationSchema<DeadLetterEvent> {
    private static final long serialVersionUID = 1L;

    /** Leaves over 100 KB of the 1,048,576-byte defaults for headers and batch overhead. */
    public static final int MAX_VALUE_BYTES = 900_000;

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
        byte[] value = event.value();
        if (value.length > MAX_VALUE_BYTES) {
            headers.add(DeadLetterEvent.HEADER_VALUE_TRUNCATED, ascii("true"));
            headers.add(DeadLetterEvent.HEADER_VALUE_BYTES, ascii(Integer.toString(value.length)));
            value = Arrays.copyOf(value, MAX_VALUE_BYTES);
        }
        return new ProducerRecord<>(topic, null, null, null, value, headers);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
