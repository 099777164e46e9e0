package io.edgestreaming.job;

import io.edgestreaming.templates.DataSource;
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
 * One raw event as read from Kafka: the value's bytes untouched, plus where it came from (for the
 * dead-letter headers). The data source is known from the topic.
 */
@TypeInfo(RawEvent.TypeFactory.class)
public final class RawEvent {
    private final DataSource dataSource;
    private final String topic;
    private final int partition;
    private final long offset;
    private final byte[] value;

    public RawEvent(DataSource dataSource, String topic, int partition, long offset, byte[] value) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.topic = Objects.requireNonNull(topic, "topic");
        this.partition = partition;
        this.offset = offset;
        this.value = value == null ? new byte[0] : value;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public String topic() {
        return topic;
    }

    public int partition() {
        return partition;
    }

    public long offset() {
        return offset;
    }

    /** The Kafka record value. Not copied: do not modify. */
    public byte[] value() {
        return value;
    }

    @Override
    public String toString() {
        return "RawEvent{" + topic + "-" + partition + "@" + offset + ", " + value.length + " bytes}";
    }

    public static final TypeInformation<RawEvent> TYPE_INFO = new SerializerTypeInfo<>(RawEvent.class, Serializer.INSTANCE);

    /** Lets Flink's type extraction find {@link Serializer}. */
    public static final class TypeFactory extends TypeInfoFactory<RawEvent> {
        @Override
        public TypeInformation<RawEvent> createTypeInfo(Type t, Map<String, TypeInformation<?>> params) {
            return TYPE_INFO;
        }
    }

    /** Fields in order, value as length-prefixed bytes. */
    public static final class Serializer extends TypeSerializerSingleton<RawEvent> {
        private static final long serialVersionUID = 1L;
        public static final Serializer INSTANCE = new Serializer();
        private static final DataSource[] SOURCES = DataSource.values();

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public RawEvent createInstance() {
            return new RawEvent(DataSource.HTTP, "", 0, 0, new byte[0]);
        }

        @Override
        public RawEvent copy(RawEvent from) {
            return from;
        }

        @Override
        public RawEvent copy(RawEvent from, RawEvent reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(RawEvent e, DataOutputView out) throws IOException {
            out.writeByte(e.dataSource.ordinal());
            out.writeUTF(e.topic);
            out.writeInt(e.partition);
            out.writeLong(e.offset);
            out.writeInt(e.value.length);
            out.write(e.value);
        }

        @Override
        public RawEvent deserialize(DataInputView in) throws IOException {
            DataSource source = SOURCES[in.readByte()];
            String topic = in.readUTF();
            int partition = in.readInt();
            long offset = in.readLong();
            byte[] value = new byte[in.readInt()];
            in.readFully(value);
            return new RawEvent(source, topic, partition, offset, value);
        }

        @Override
        public RawEvent deserialize(RawEvent reuse, DataInputView in) throws IOException {
            return deserialize(in);
        }

        @Override
        public void copy(DataInputView in, DataOutputView out) throws IOException {
            out.writeByte(in.readByte());
            out.writeUTF(in.readUTF());
            out.writeInt(in.readInt());
            out.writeLong(in.readLong());
            int length = in.readInt();
            out.writeInt(length);
            out.write(in, length);
        }

        @Override
        public TypeSerializerSnapshot<RawEvent> snapshotConfiguration() {
            return new Snapshot();
        }

        public static final class Snapshot extends SimpleTypeSerializerSnapshot<RawEvent> {
            public Snapshot() {
                super(() -> INSTANCE);
            }
        }
    }
}
