package io.edgestreaming.connectors.engine;

import io.edgestreaming.templates.DataSource;
import java.util.Objects;

/**
 * A block as the engine keeps it in checkpointed state until it is delivered or dead-lettered: the
 * block's identity plus what the transport {@linkplain Transport#prepare prepared} (payload and
 * delivery key). Immutable; what the engine tracks about attempts lives beside it.
 */
public final class StagedBlock {
    private final long streamId;
    private final DataSource dataSource;
    private final String domain;
    private final long sequence;
    private final int recordCount;
    private final String destinationId;
    private final byte[] payload;
    private final String deliveryKey;
    private final String contentEncoding;

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
        this.deliveryKey = Objects.requireNonNull(deliveryKey, "deliveryKey");
        this.contentEncoding = Objects.requireNonNull(contentEncoding, "contentEncoding");
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

    /** The exact bytes to deliver. Not copied: do not modify. */
    public byte[] payload() {
        return payload;
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
        return "StagedBlock{" + blockId() + ", " + recordCount + " records, " + payload.length + " bytes}";
    }
}
