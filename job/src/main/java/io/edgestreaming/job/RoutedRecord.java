package io.edgestreaming.job;

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
 * One projected record of one stream for one domain: what the batcher collects into blocks. The bucket
 * says which batching key it goes to ({@link BatchingKeys}): its own (host) key, or a shared one.
 */
@TypeInfo(RoutedRecord.TypeFactory.class)
public final class RoutedRecord {
    private final long streamId;
    private final String domain;
    private final int bucket;
    private final int lane;
    private final byte[] record;

    /** A record of a host its stream lists exactly: batched under its own key. */
    public RoutedRecord(long streamId, String domain, byte[] record) {
        this(streamId, domain, BatchingKeys.OWN_KEY, record);
    }

    public RoutedRecord(long streamId, String domain, int bucket, byte[] record) {
        this(streamId, domain, bucket, 0, record);
    }

    /** @param lane where its key is batched ({@link KeyPlacement}); 0 for Flink's hash alone */
    public RoutedRecord(long streamId, String domain, int bucket, int lane, byte[] record) {
        this.streamId = streamId;
        this.domain = Objects.requireNonNull(domain, "domain");
        this.bucket = bucket;
        this.lane = lane;
        this.record = Objects.requireNonNull(record, "record");
    }

    public long streamId() {
        return streamId;
    }

    /** The event's host, lower-cased: blocks are cut per stream and domain. */
    public String domain() {
        return domain;
    }

    /** The stream's shared batching key this record goes to, or {@link BatchingKeys#OWN_KEY}. */
    public int bucket() {
        return bucket;
    }

    /** The lane of its batching key ({@link KeyPlacement}); 0: none. */
    public int lane() {
        return lane;
    }

    /** The projected record: compact ASCII JSON without '\n'. Not copied: do not modify. */
    public byte[] record() {
        return record;
    }

    @Override
    public String toString() {
        return "RoutedRecord{stream " + streamId + ", " + domain + (bucket < 0 ? "" : ", bucket " + bucket)
                + (lane == 0 ? "" : ", lane " + lane) + ", "
                + record.length + " bytes}";
    }

    public static final TypeInformation<RoutedRecord> TYPE_INFO =
            new SerializerTypeInfo<>(RoutedRecord.class, Serializer.INSTANCE);

    /** Lets Flink's type extraction find {@link Serializer}. */
    public static final class TypeFactory extends TypeInfoFactory<RoutedRecord> {
        @Override
        public TypeInformation<RoutedRecord> createTypeInfo(Type t, Map<String, TypeInformation<?>> params) {
            return TYPE_INFO;
        }
    }

    /** Fields in order, record as length-prefixed bytes. Only on the wire (never in keyed state). */
    public static final class Serializer extends TypeSerializerSingleton<RoutedRecord> {
        private static final long serialVersionUID = 1L;
        public static final Serializer INSTANCE = new Serializer();

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public RoutedRecord createInstance() {
            return new RoutedRecord(0, "", new byte[0]);
        }

        @Override
        public RoutedRecord copy(RoutedRecord from) {
            return from;
        }

        @Override
        public RoutedRecord copy(RoutedRecord from, RoutedRecord reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(RoutedRecord r, DataOutputView out) throws IOException {
            out.writeLong(r.streamId);
            out.writeUTF(r.domain);
            out.writeInt(r.bucket);
            out.writeShort(r.lane);
            out.writeInt(r.record.length);
            out.write(r.record);
        }

        @Override
        public RoutedRecord deserialize(DataInputView in) throws IOException {
            long streamId = in.readLong();
            String domain = in.readUTF();
            int bucket = in.readInt();
            int lane = in.readShort();
            byte[] record = new byte[in.readInt()];
            in.readFully(record);
            return new RoutedRecord(streamId, domain, bucket, lane, record);
        }

        @Override
        public RoutedRecord deserialize(RoutedRecord reuse, DataInputView in) throws IOException {
            return deserialize(in);
        }

        @Override
        public void copy(DataInputView in, DataOutputView out) throws IOException {
            out.writeLong(in.readLong());
            out.writeUTF(in.readUTF());
            out.writeInt(in.readInt());
            out.writeShort(in.readShort());
            int length = in.readInt();
            out.writeInt(length);
            out.write(in, length);
        }

        @Override
        public TypeSerializerSnapshot<RoutedRecord> snapshotConfiguration() {
            return new Snapshot();
        }

        public static final class Snapshot extends SimpleTypeSerializerSnapshot<RoutedRecord> {
            public Snapshot() {
                super(() -> INSTANCE);
            }
        }
    }
}
