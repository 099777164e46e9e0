package io.edgestreaming.connectors.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.templates.DataSource;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;
import org.apache.flink.runtime.state.CompressibleFSDataInputStream;
import org.apache.flink.runtime.state.CompressibleFSDataOutputStream;
import org.apache.flink.runtime.state.SnappyStreamCompressionDecorator;
import org.apache.flink.runtime.state.StreamCompressionDecorator;
import org.apache.flink.runtime.state.UncompressedStreamCompressionDecorator;
import org.junit.jupiter.api.Test;

/** State entries: the payload inline, or once spooled its handle; entries of older versions still read. */
class PendingSerializerTest {
    private static final byte[] PAYLOAD = "{\"a\":\"1\"}\n{\"a\":\"2\"}".getBytes(StandardCharsets.US_ASCII);

    private static StagedBlock block() {
        return new StagedBlock(7, DataSource.WAF, "example.com", 3, 2, "dest-1", PAYLOAD, "7/example.com/3:abc", "gzip");
    }

    private static Pending roundTrip(Pending p) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        PendingSerializer.INSTANCE.serialize(p, out);
        return PendingSerializer.INSTANCE.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    }

    /** In memory, as Flink's checkpoint streams: getPos, bulk and single-byte writes. */
    private static final class MemoryOut extends FSDataOutputStream {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public long getPos() {
            return bytes.size();
        }

        @Override
        public void write(int b) {
            bytes.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
        }

        @Override
        public void flush() {}

        @Override
        public void sync() {}

        @Override
        public void close() {}
    }

    @Test
    void operatorStateStreamsTakeThePayloadInOneWriteAndReadBackTheSameBytes() throws Exception {
        byte[] big = new byte[200_000];
        Random random = new Random(5);
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (random.nextInt(4) == 0 ? random.nextInt(256) : 'a' + i % 7);
        }
        Pending[] entries = new Pending[3];
        for (int i = 0; i < entries.length; i++) {
            entries[i] = new Pending(new StagedBlock(7, DataSource.HTTP, "example.com", i, 2, "dest-1",
                    i == 1 ? big : PAYLOAD, "7/example.com/" + i + ":abc", "identity"));
            entries[i].attempts = i;
        }
        for (StreamCompressionDecorator compression
                : new StreamCompressionDecorator[] {SnappyStreamCompressionDecorator.INSTANCE, UncompressedStreamCompressionDecorator.INSTANCE}) {
            // As Flink's operator state snapshot writes: a DataOutputViewStreamWrapper over CompressibleFSDataOutputStream.
            MemoryOut file = new MemoryOut();
            CompressibleFSDataOutputStream compressible = new CompressibleFSDataOutputStream(file, compression);
            DataOutputViewStreamWrapper view = new DataOutputViewStreamWrapper(compressible);
            assertThat(PendingSerializer.bulk(view)).as("the bulk path is found").isNotNull();
            for (Pending p : entries) {
                PendingSerializer.INSTANCE.serialize(p, view);
            }
            compressible.flush();
            // The byte-at-a-time path (any other stream) writes the same file.
            MemoryOut plainFile = new MemoryOut();
            CompressibleFSDataOutputStream plain = new CompressibleFSDataOutputStream(plainFile, compression);
            DataOutputViewStreamWrapper plainView = new DataOutputViewStreamWrapper(new java.io.FilterOutputStream(plain) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }
            });
            assertThat(PendingSerializer.bulk(plainView)).isNull();
            for (Pending p : entries) {
                PendingSerializer.INSTANCE.serialize(p, plainView);
            }
            plain.flush();
            assertThat(file.bytes.toByteArray()).isEqualTo(plainFile.bytes.toByteArray());

            CompressibleFSDataInputStream in = new CompressibleFSDataInputStream(
                    new MemoryIn(file.bytes.toByteArray()), compression);
            DataInputViewStreamWrapper inView = new DataInputViewStreamWrapper(in);
            for (Pending p : entries) {
                Pending back = PendingSerializer.INSTANCE.deserialize(inView);
                assertThat(back.block.payload()).isEqualTo(p.block.payload());
                assertThat(back.key()).isEqualTo(p.key());
                assertThat(back.attempts).isEqualTo(p.attempts);
            }
        }
    }

    private static final class MemoryIn extends FSDataInputStream {
        private final ByteArrayInputStream in;
        private final int length;

        MemoryIn(byte[] bytes) {
            this.in = new ByteArrayInputStream(bytes);
            this.length = bytes.length;
        }

        @Override
        public void seek(long desired) {
            in.reset();
            in.skip(desired);
        }

        @Override
        public long getPos() {
            return length - in.available();
        }

        @Override
        public int read() {
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) {
            return in.read(b, off, len);
        }
    }

    @Test
    void inlineEntriesKeepThePayload() throws Exception {
        Pending p = new Pending(block());
        p.stagedAt = 4;
        p.attempts = 2;
        p.lastReason = "HTTP 503";
        Pending back = roundTrip(p);
        assertThat(back.block.payload()).isEqualTo(PAYLOAD);
        assertThat(back.spooled).isNull();
        assertThat(back.stagedAt).isEqualTo(4);
        assertThat(back.attempts).isEqualTo(2);
        assertThat(back.lastReason).isEqualTo("HTTP 503");
    }

    @Test
    void aSpooledEntryKeepsItsHandleNotThePayload() throws Exception {
        Pending p = new Pending(block().withoutPayload());
        p.spooled = new SpoolHandle("file:/spool/stream-7/example.com/3-00.block", PAYLOAD.length, 1234);
        DataOutputSerializer out = new DataOutputSerializer(64);
        PendingSerializer.INSTANCE.serialize(p, out);
        byte[] bytes = out.getCopyOfBuffer();
        assertThat(new String(bytes, StandardCharsets.ISO_8859_1)).doesNotContain("{\"a\":\"1\"}");

        Pending back = PendingSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes));
        assertThat(back.block.hasPayload()).isFalse();
        assertThat(back.bytes()).isEqualTo(PAYLOAD.length);
        assertThat(back.spooled).isEqualTo(p.spooled);
        assertThat(back.key()).isEqualTo("7/example.com/3:abc");
        assertThat(back.block.contentEncoding()).isEqualTo("gzip");
        assertThatThrownBy(back.block::payload).isInstanceOf(IllegalStateException.class).hasMessageContaining("spool");
        // A block read back from the spool and still pending is written as its handle too.
        Pending loaded = new Pending(block());
        loaded.spooled = p.spooled;
        assertThat(roundTrip(loaded).spooled).isEqualTo(p.spooled);
        assertThat(PendingSerializer.INSTANCE.copy(loaded).spooled).isEqualTo(p.spooled);
    }

    /** Version 2 as checkpoints before the spool wrote it. */
    @Test
    void entriesOfVersionTwoStillRead() throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        out.writeInt(2);
        out.writeLong(7);
        out.writeByte(DataSource.WAF.ordinal());
        out.writeUTF("example.com");
        out.writeLong(3);
        out.writeInt(2);
        out.writeUTF("dest-1");
        out.writeUTF("7/example.com/3:abc");
        out.writeUTF("identity");
        out.writeInt(PAYLOAD.length);
        out.write(PAYLOAD);
        out.writeLong(4);
        out.writeInt(1);
        out.writeLong(1000);
        out.writeLong(2000);
        out.writeLong(3000);
        out.writeUTF("HTTP 500");
        out.writeUTF("backlog bound");
        Pending back = PendingSerializer.INSTANCE.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertThat(back.block.payload()).isEqualTo(PAYLOAD);
        assertThat(back.block.blockId()).isEqualTo("7/example.com/3");
        assertThat(back.spooled).isNull();
        assertThat(back.deliverableSinceMillis).isEqualTo(3000);
        assertThat(back.deadLetterReason).isEqualTo("backlog bound");
    }
}
