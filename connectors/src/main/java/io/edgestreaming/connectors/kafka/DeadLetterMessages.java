package io.edgestreaming.connectors.kafka;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The job's dead-lettered raw events on the dead-letter topic: one Kafka message per event, value = the
 * original bytes (cut at {@link #MAX_VALUE_BYTES}), why and where it came from as headers, no key.
 *
 * <p>On their way to the writer many events travel as one block ({@code message_format} {@code DEAD_LETTER}):
 * a version byte, then per event a frame of reason, detail, source topic, partition, offset, original length
 * and value, every variable part length-prefixed, since raw events may hold any byte, '\n' too.
 */
public final class DeadLetterMessages {
    /** Kafka header names on the dead-letter topic. */
    public static final String HEADER_REASON = "reason";
    public static final String HEADER_DETAIL = "reason-detail";
    public static final String HEADER_SOURCE_TOPIC = "source-topic";
    public static final String HEADER_SOURCE_PARTITION = "source-partition";
    public static final String HEADER_SOURCE_OFFSET = "source-offset";
    /** Only on a value cut to fit Kafka's record size limits. */
    public static final String HEADER_VALUE_TRUNCATED = "value-truncated";
    public static final String HEADER_VALUE_BYTES = "value-bytes";

    /**
     * A whole event (up to 64 MiB, {@code source.max_event_bytes}) would exceed the producer's and the broker's
     * 1 MiB defaults; this leaves over 100 KB of them for headers and batch overhead.
     */
    public static final int MAX_VALUE_BYTES = 900_000;

    private static final byte FORMAT_VERSION = 1;

    private DeadLetterMessages() {}

    /** One dead-lettered event. {@code value} is the original, whole. */
    public record Event(String reason, String detail, String topic, int partition, long offset, byte[] value) {}

    /** The message of one event, as the job has always written it. */
    public static ProducerRecord<byte[], byte[]> record(String deadLetterTopic, Event e) {
        byte[] value = e.value().length > MAX_VALUE_BYTES ? Arrays.copyOf(e.value(), MAX_VALUE_BYTES) : e.value();
        return record(deadLetterTopic, e, value, e.value().length);
    }

    private static ProducerRecord<byte[], byte[]> record(String deadLetterTopic, Event e, byte[] value, int originalLength) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(HEADER_REASON, ascii(e.reason()));
        headers.add(HEADER_DETAIL, e.detail().getBytes(StandardCharsets.UTF_8));
        headers.add(HEADER_SOURCE_TOPIC, e.topic().getBytes(StandardCharsets.UTF_8));
        headers.add(HEADER_SOURCE_PARTITION, ascii(Integer.toString(e.partition())));
        headers.add(HEADER_SOURCE_OFFSET, ascii(Long.toString(e.offset())));
        if (originalLength > value.length) {
            headers.add(HEADER_VALUE_TRUNCATED, ascii("true"));
            headers.add(HEADER_VALUE_BYTES, ascii(Integer.toString(originalLength)));
        }
        return new ProducerRecord<>(deadLetterTopic, null, null, null, value, headers);
    }

    /** Starts a block: call once before the first {@link #writeFrame}. */
    public static void writeHeader(DataOutputStream out) throws IOException {
        out.writeByte(FORMAT_VERSION);
    }

    /** Appends one event's frame, its value cut at {@link #MAX_VALUE_BYTES} here (the original length kept). */
    public static void writeFrame(DataOutputStream out, Event e) throws IOException {
        int length = Math.min(e.value().length, MAX_VALUE_BYTES);
        writeBytes(out, e.reason().getBytes(StandardCharsets.UTF_8));
        writeBytes(out, e.detail().getBytes(StandardCharsets.UTF_8));
        writeBytes(out, e.topic().getBytes(StandardCharsets.UTF_8));
        out.writeInt(e.partition());
        out.writeLong(e.offset());
        out.writeInt(e.value().length);
        out.writeInt(length);
        out.write(e.value(), 0, length);
    }

    /** The bytes {@link #writeFrame} adds for {@code e} (to cut blocks at a size bound). */
    public static long frameBytes(Event e) {
        return 4L * 6 + 8 + Math.min(e.value().length, MAX_VALUE_BYTES)
                + 3L * (e.reason().length() + e.topic().length()) + 3L * e.detail().length();
    }

    /** The messages of a block, in the order of its frames. */
    static List<ProducerRecord<byte[], byte[]>> decode(byte[] payload, String deadLetterTopic) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
            int version = in.readByte();
            if (version != FORMAT_VERSION) {
                throw new IllegalArgumentException("unknown dead-letter block format " + version);
            }
            List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
            while (in.available() > 0) {
                String reason = new String(readBytes(in), StandardCharsets.UTF_8);
                String detail = new String(readBytes(in), StandardCharsets.UTF_8);
                String topic = new String(readBytes(in), StandardCharsets.UTF_8);
                int partition = in.readInt();
                long offset = in.readLong();
                int originalLength = in.readInt();
                byte[] value = readBytes(in);
                records.add(record(deadLetterTopic, new Event(reason, detail, topic, partition, offset, value), value,
                        originalLength));
            }
            return records;
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt dead-letter block", e);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        return bytes;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
