package io.edgestreaming.connectors.engine;

import io.edgestreaming.templates.DataSource;
import java.util.Objects;

/**
 * A block as the engine keeps it in checkpointed state until it is delivered or dead-lettered: the
 * block's identity plus what the transport {@linkplain Transport#prepare prepared} (payload and
 * delivery key). Immutable; what the engine tracks about attempts lives beside it.
 *
 * <p>For a {@linkplain Transport#spoolable() spoolable} transport the engine may hold a block whose
 * payload is on its spool, not in memory ({@link #hasPayload()} false; {@link #payload()} then throws;
 * {@link #loadPayload()} reads it back, off the task thread). {@link Transport#deliver} gets the payload
 * unless the transport says it does not need it ({@link Transport#deliversFromMemory()}).
 */
public final class StagedBlock {
    private final long streamId;
    private final DataSource dataSource;
    private final String domain;
    private final long sequence;
    private final int recordCount;
    private final String destinationId;
    /** Null while the payload is on the spool only. */
    private final byte[] payload;
    private final int payloadLength;
    private final String deliveryKey;
    private final String contentEncoding;
    /** Where a spooled payload can be read back; null while in memory or unknown. */
    private final PayloadSource source;

    /** Reads a spooled payload back: blocking I/O, never on the task thread. */
    @FunctionalInterface
    public interface PayloadSource {
        byte[] read() throws java.io.IOException;
    }

    public StagedBlock(
            long streamId,
            DataSource dataSource,
            String domain,
            long sequence,
            int recordCount,
            String destinationId,
            byte[] payload,
            String deliveryKey,
            String contentEncoding) {
        this.streamId = streamId;
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.domain = Objects.requireNonNull(domain, "domain");
        this.sequence = sequence;
        this.recordCount = recordCount;
        this.destinationId = Objects.requireNonNull(destinationId, "destinationId");
        this.payload = Objects.requireNonNull(payload, "payload");
        this.payloadLength = payload.length;
        this.deliveryKey = Objects.requireNonNull(deliveryKey, "deliveryKey");
        this.contentEncoding = Objects.requireNonNull(contentEncoding, "contentEncoding");
        this.source = null;
    }

    /** A block whose payload is on the engine's spool only (restored from a snapshot that holds its handle). */
    public static StagedBlock withoutPayload(long streamId, DataSource dataSource, String domain, long sequence,
            int recordCount, String destinationId, int payloadLength, String deliveryKey, String contentEncoding) {
        return new StagedBlock(new StagedBlock(streamId, dataSource, domain, sequence, recordCount, destinationId, new byte[0],
                deliveryKey, contentEncoding), null, payloadLength);
    }

    private StagedBlock(StagedBlock from, byte[] payload) {
        this(from, payload, from.payloadLength, null);
    }

    private StagedBlock(StagedBlock from, byte[] payload, int payloadLength) {
        this(from, payload, payloadLength, null);
    }

    private StagedBlock(StagedBlock from, byte[] payload, int payloadLength, PayloadSource source) {
        this.streamId = from.streamId;
        this.dataSource = from.dataSource;
        this.domain = from.domain;
        this.sequence = from.sequence;
        this.recordCount = from.recordCount;
        this.destinationId = from.destinationId;
        this.payload = payload;
        this.payloadLength = payloadLength;
        this.deliveryKey = from.deliveryKey;
        this.contentEncoding = from.contentEncoding;
        this.source = source;
    }

    /** The same block without its payload in memory (the engine spooled it). */
    public StagedBlock withoutPayload() {
        return payload == null ? this : new StagedBlock(this, null);
    }

    /** The same block without its payload in memory, read back from {@code source} by {@link #loadPayload()}. */
    public StagedBlock withoutPayload(PayloadSource source) {
        return new StagedBlock(this, null, payloadLength, Objects.requireNonNull(source, "source"));
    }

    /**
     * The payload, from memory or read back from the spool: blocking I/O, so never on the task thread.
     *
     * @throws IllegalStateException if it is on the spool and the block does not know where
     */
    public byte[] loadPayload() throws java.io.IOException {
        if (payload != null) {
            return payload;
        }
        if (source == null) {
            return payload(); // throws: nothing to read it from
        }
        byte[] bytes = source.read();
        if (bytes.length != payloadLength) {
            throw new java.io.IOException("payload of " + blockId() + " read back with " + bytes.length + " bytes, expected "
                    + payloadLength);
        }
        return bytes;
    }

    /** The same block with its payload read back; it must be exactly as long as the original. */
    public StagedBlock withPayload(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length != payloadLength) {
            throw new IllegalArgumentException("payload of " + blockId() + " has " + bytes.length + " bytes, expected " + payloadLength);
        }
        return new StagedBlock(this, bytes);
    }

    public long streamId() {
        return streamId;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public String domain() {
        return domain;
    }

    public long sequence() {
        return sequence;
    }

    public int recordCount() {
        return recordCount;
    }

    /** {@link io.edgestreaming.config.Endpoint#destinationId()} of the stream's endpoint when staged. */
    public String destinationId() {
        return destinationId;
    }

    /**
     * The exact bytes to deliver. Not copied: do not modify.
     *
     * @throws IllegalStateException if the payload is on the spool only ({@link #hasPayload()} false)
     */
    public byte[] payload() {
        if (payload == null) {
            throw new IllegalStateException("the payload of " + blockId() + " is on the delivery spool, not in memory");
        }
        return payload;
    }

    /** False while the engine keeps the payload on its spool only. */
    public boolean hasPayload() {
        return payload != null;
    }

    /** Length of the payload, also while it is on the spool. */
    public int payloadLength() {
        return payloadLength;
    }

    public String deliveryKey() {
        return deliveryKey;
    }

    public String contentEncoding() {
        return contentEncoding;
    }

    /** Same as {@link io.edgestreaming.connectors.Block#blockId()}. */
    public String blockId() {
        return streamId + "/" + domain + "/" + sequence;
    }

    @Override
    public String toString() {
        return "StagedBlock{" + blockId() + ", " + recordCount + " records, " + payloadLength + " bytes"
                + (payload == null ? ", spooled" : "") + "}";
    }
}
