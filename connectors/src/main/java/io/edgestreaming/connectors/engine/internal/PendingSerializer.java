package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.templates.DataSource;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;

/**
 * Serializer of the engine's state entries. Each entry starts with a format version so later fields
 * can be added without breaking savepoints.
 */
final class PendingSerializer extends TypeSerializerSingleton<Pending> {
    private static final long serialVersionUID = 1L;
    static final PendingSerializer INSTANCE = new PendingSerializer();
    // 2: + deadLetterReason; 3: the payload inline or, once spooled, its spool handle instead
    private static final int VERSION = 3;
    private static final byte INLINE = 0;
    private static final byte SPOOLED = 1;
    private static final DataSource[] SOURCES = DataSource.values();
    /** FilterOutputStream.out and CompressibleFSDataOutputStream.compressingDelegate, or null: see {@link #bulk}. */
    private static final Field WRAPPED = field(FilterOutputStream.class, "out");
    private static final Class<?> COMPRESSIBLE = type("org.apache.flink.runtime.state.CompressibleFSDataOutputStream");
    private static final Field COMPRESSING = COMPRESSIBLE == null ? null : field(COMPRESSIBLE, "compressingDelegate");

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public Pending createInstance() {
        return null;
    }

    @Override
    public Pending copy(Pending from) {
        Pending copy = new Pending(from.block); // the block itself is immutable
        copy.spooled = from.spooled;
        copy.stagedAt = from.stagedAt;
        copy.attempts = from.attempts;
        copy.firstAttemptMillis = from.firstAttemptMillis;
        copy.lastAttemptMillis = from.lastAttemptMillis;
        copy.deliverableSinceMillis = from.deliverableSinceMillis;
        copy.lastReason = from.lastReason;
        copy.deadLetterReason = from.deadLetterReason;
        return copy;
    }

    @Override
    public Pending copy(Pending from, Pending reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(Pending p, DataOutputView out) throws IOException {
        StagedBlock b = p.block;
        out.writeInt(VERSION);
        out.writeLong(b.streamId());
        out.writeByte(b.dataSource().ordinal());
        out.writeUTF(b.domain());
        out.writeLong(b.sequence());
        out.writeInt(b.recordCount());
        out.writeUTF(b.destinationId());
        out.writeUTF(b.deliveryKey());
        out.writeUTF(b.contentEncoding());
        if (p.spooled != null) {
            // Only once its spool write was confirmed: the snapshot keeps where the bytes are.
            out.writeByte(SPOOLED);
            out.writeInt(p.spooled.length());
            out.writeUTF(p.spooled.path());
            out.writeInt(p.spooled.crc());
        } else {
            out.writeByte(INLINE);
            out.writeInt(b.payload().length);
            OutputStream bulk = bulk(out);
            if (bulk != null) {
                bulk.write(b.payload());
            } else {
                out.write(b.payload());
            }
        }
        out.writeLong(p.stagedAt);
        out.writeInt(p.attempts);
        out.writeLong(p.firstAttemptMillis);
        out.writeLong(p.lastAttemptMillis);
        out.writeLong(p.deliverableSinceMillis);
        out.writeUTF(p.lastReason);
        out.writeUTF(p.deadLetterReason);
    }

    /**
     * Where the payload can be written in one call, or null. Flink 2.2 snapshots operator state through a
     * {@code CompressibleFSDataOutputStream}, which only implements {@code write(int)}: a payload written
     * to it goes to the (snappy) compressing stream one byte per call, ~11% of the job's CPU in the
     * end-to-end benchmark. That class forwards every byte unchanged to its {@code compressingDelegate},
     * and nothing buffers in between (DataOutputStream does not), so writing the payload to the delegate
     * directly yields the same bytes. Found by reflection (Flink's JVMs open java.io); where it is not
     * accessible, or another stream is passed (restore copies, savepoint tools), the plain path is taken.
     */
    static OutputStream bulk(DataOutputView out) {
        if (WRAPPED == null || COMPRESSING == null || !(out instanceof DataOutputViewStreamWrapper)) {
            return null;
        }
        try {
            Object inner = WRAPPED.get(out);
            return COMPRESSIBLE.isInstance(inner) ? (OutputStream) COMPRESSING.get(inner) : null;
        } catch (IllegalAccessException | RuntimeException e) {
            return null;
        }
    }

    private static Field field(Class<?> owner, String name) {
        try {
            Field f = owner.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // e.g. java.io not opened to this module: the byte-at-a-time path then
        }
    }

    private static Class<?> type(String name) {
        try {
            return Class.forName(name, false, PendingSerializer.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    @Override
    public Pending deserialize(DataInputView in) throws IOException {
        int version = in.readInt();
        if (version < 1 || version > VERSION) {
            throw new IOException("unknown delivery state entry version " + version);
        }
        long streamId = in.readLong();
        DataSource source = SOURCES[in.readByte()];
        String domain = in.readUTF();
        long sequence = in.readLong();
        int records = in.readInt();
        String destinationId = in.readUTF();
        String key = in.readUTF();
        String encoding = in.readUTF();
        byte kind = version >= 3 ? in.readByte() : INLINE;
        Pending p;
        if (kind == SPOOLED) {
            int length = in.readInt();
            SpoolHandle handle = new SpoolHandle(in.readUTF(), length, in.readInt());
            // The engine reads the bytes back when the destination is ready for them.
            p = new Pending(StagedBlock.withoutPayload(streamId, source, domain, sequence, records, destinationId, length, key,
                    encoding));
            p.spooled = handle;
        } else if (kind == INLINE) {
            byte[] payload = new byte[in.readInt()];
            in.readFully(payload);
            p = new Pending(new StagedBlock(streamId, source, domain, sequence, records, destinationId, payload, key, encoding));
        } else {
            throw new IOException("unknown payload kind " + kind + " in delivery state entry");
        }
        p.stagedAt = in.readLong();
        p.attempts = in.readInt();
        p.firstAttemptMillis = in.readLong();
        p.lastAttemptMillis = in.readLong();
        p.deliverableSinceMillis = in.readLong();
        p.lastReason = in.readUTF();
        if (version >= 2) {
            p.deadLetterReason = in.readUTF();
        }
        return p;
    }

    @Override
    public Pending deserialize(Pending reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    @Override
    public TypeSerializerSnapshot<Pending> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Versioned snapshot, so savepoints restore. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<Pending> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
