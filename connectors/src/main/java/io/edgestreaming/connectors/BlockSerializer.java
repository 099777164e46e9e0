package io.edgestreaming.connectors;

import io.edgestreaming.templates.DataSource;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/** Flink serializer of {@link Block}: fields in order, records as length-prefixed bytes. */
public final class BlockSerializer extends TypeSerializerSingleton<Block> {
    private static final long serialVersionUID = 1L;
    public static final BlockSerializer INSTANCE = new BlockSerializer();
    private static final DataSource[] SOURCES = DataSource.values();

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public Block createInstance() {
        return new Block(0, DataSource.HTTP, "", 0, 0, new byte[0]);
    }

    @Override
    public Block copy(Block from) {
        return from; // immutable
    }

    @Override
    public Block copy(Block from, Block reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(Block block, DataOutputView out) throws IOException {
        out.writeLong(block.streamId());
        out.writeByte(block.dataSource().ordinal());
        out.writeUTF(block.domain());
        out.writeLong(block.sequence());
        out.writeInt(block.recordCount());
        byte[] records = block.records();
        out.writeInt(records.length);
        out.write(records);
    }

    @Override
    public Block deserialize(DataInputView in) throws IOException {
        long streamId = in.readLong();
        DataSource source = SOURCES[in.readByte()];
        String domain = in.readUTF();
        long sequence = in.readLong();
        int count = in.readInt();
        byte[] records = new byte[in.readInt()];
        in.readFully(records);
        return new Block(streamId, source, domain, sequence, count, records);
    }

    @Override
    public Block deserialize(Block reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        out.writeLong(in.readLong());
        out.writeByte(in.readByte());
        out.writeUTF(in.readUTF());
        out.writeLong(in.readLong());
        out.writeInt(in.readInt());
        int length = in.readInt();
        out.writeInt(length);
        out.write(in, length);
    }

    @Override
    public TypeSerializerSnapshot<Block> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Versioned snapshot so a savepoint written by this serializer can be restored. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<Block> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
