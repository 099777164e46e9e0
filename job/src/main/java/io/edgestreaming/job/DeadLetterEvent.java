package io.edgestreaming.job;

import io.edgestreaming.connectors.kafka.DeadLetterMessages;
import java.io.IOException;
import java.lang.reflect.Type;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * A raw event the job could not process, on its way to the dead-letter topic: the original bytes
 * untouched plus why and where it came from (written as Kafka headers).
 *
 * @param reason a stable upper-case code: the parser's reason ({@code TOO_LARGE}, {@code NOT_JSON},
 *     ...), or {@link #MISSING_CLIENT}, {@link #MISSING_HOST}, {@link #RECORD_TOO_LARGE}
 * @param detail a human explanation, never holding secrets
 */
@TypeInfo(DeadLetterEvent.TypeFactory.class)
public record DeadLetterEvent(String reason, String detail, String topic, int partition, long offset, byte[] value) {

    public static final String MISSING_CLIENT = "MISSING_CLIENT";
    public static final String MISSING_HOST = "MISSING_HOST";
    public static final String RECORD_TOO_LARGE = "RECORD_TOO_LARGE";

    /** Kafka header names on the dead-letter topic ({@link DeadLetterMessages}). */
    public static final String HEADER_REASON = DeadLetterMessages.HEADER_REASON;
    public static final String HEADER_DETAIL = DeadLetterMessages.HEADER_DETAIL;
    public static final String HEADER_SOURCE_TOPIC = DeadLetterMessages.HEADER_SOURCE_TOPIC;
    public static final String HEADER_SOURCE_PARTITION = DeadLetterMessages.HEADER_SOURCE_PARTITION;
    public static final String HEADER_SOURCE_OFFSET = DeadLetterMessages.HEADER_SOURCE_OFFSET;
    /** Only on a value cut to fit Kafka's record size limits. */
    public static final String HEADER_VALUE_TRUNCATED = DeadLetterMessages.HEADER_VALUE_TRUNCATED;
    public static final String HEADER_VALUE_BYTES = DeadLetterMessages.HEADER_VALUE_BYTES;

    public DeadLetterEvent {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(value, "value");
    }

    static DeadLetterEvent of(RawEvent event, String reason, String detail) {
        return new DeadLetterEvent(reason, detail, event.topic(), event.partition(), event.offset(), event.value());
    }

    @Override
    public String toString() {
        return "DeadLetterEvent{" + reason + ", " + topic + "-" + partition + "@" + offset + ", " + detail + "}";
    }

    public static final TypeInformation<DeadLetterEvent> TYPE_INFO =
            new SerializerTypeInfo<>(DeadLetterEvent.class, Serializer.INSTANCE);

    /** Lets Flink's type extraction find {@link Serializer}. */
    public static final class TypeFactory extends TypeInfoFactory<DeadLetterEvent> {
        @Override
        public TypeInformation<DeadLetterEvent> createTypeInfo(Type t, Map<String, TypeInformation<?>> params) {
            return TYPE_INFO;
        }
    }

    /** Fields in order, value as length-prefixed bytes; the detail may exceed writeUTF's 64 KB. */
    public static final class Serializer extends TypeSerializerSingleton<DeadLetterEvent> {
        private static final long serialVersionUID = 1L;
        public static final Serializer INSTANCE = new Serializer();

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public DeadLetterEvent createInstance() {
            return new DeadLetterEvent("", "", "", 0, 0, new byte[0]);
        }

        @Override
        public DeadLetterEvent copy(DeadLetterEvent from) {
            return from;
        }

        @Override
        public DeadLetterEvent copy(DeadLetterEvent from, DeadLetterEvent reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(DeadLetterEvent e, DataOutputView out) throws IOException {
            out.writeUTF(e.reason);
            writeBytes(e.detail.getBytes(java.nio.charset.StandardCharsets.UTF_8), out);
            out.writeUTF(e.topic);
            out.writeInt(e.partition);
            out.writeLong(e.offset);
            writeBytes(e.value, out);
        }

        private static void writeBytes(byte[] bytes, DataOutputView out) throws IOException {
            out.writeInt(bytes.length);
            out.write(bytes);
        }

        private static byte[] readBytes(DataInputView in) throws IOException {
            byte[] bytes = new byte[in.readInt()];
            in.readFully(bytes);
            return bytes;
        }

        @Override
        public DeadLetterEvent deserialize(DataInputView in) throws IOException {
            String reason = in.readUTF();
            String detail = new String(readBytes(in), java.nio.charset.StandardCharsets.UTF_8);
            String topic = in.readUTF();
            int partition = in.readInt();
            long offset = in.readLong();
            return new DeadLetterEvent(reason, detail, topic, partition, offset, readBytes(in));
        }

        @Override
        public DeadLetterEvent deserialize(DeadLetterEvent reuse, DataInputView in) throws IOException {
            return deserialize(in);
        }

        @Override
        public void copy(DataInputView in, DataOutputView out) throws IOException {
            serialize(deserialize(in), out);
        }

        @Override
        public TypeSerializerSnapshot<DeadLetterEvent> snapshotConfiguration() {
            return new Snapshot();
        }

        public static final class Snapshot extends SimpleTypeSerializerSnapshot<DeadLetterEvent> {
            public Snapshot() {
                super(() -> INSTANCE);
            }
        }
    }
}
