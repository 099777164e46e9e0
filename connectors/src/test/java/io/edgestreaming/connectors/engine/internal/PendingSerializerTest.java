package io.edgestreaming.connectors.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.templates.DataSource;
import java.nio.charset.StandardCharsets;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
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
