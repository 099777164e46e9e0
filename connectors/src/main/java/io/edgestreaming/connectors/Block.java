package io.edgestreaming.connectors;

import io.edgestreaming.templates.DataSource;
import java.util.Arrays;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * A block: up to {@code max_records} projected records of one stream and one domain, cut by the
 * batcher and delivered as one unit. Records are compact ASCII JSON, which never holds a raw '\n', so
 * they travel joined by '\n' in one array; each transport re-joins them with the stream's separator.
 *
 * <p>{@link #sequence()} comes from the batcher's checkpointed state (per stream and domain), so a
 * block's id is the same after a restore from the checkpoint that produced it.
 */
@TypeInfo(BlockTypeInfoFactory.class)
public final class Block {
    public static final byte RECORD_SEPARATOR = '\n';

    private final long streamId;
    private final DataSource dataSource;
    private final String domain;
    private final long sequence;
    private final int recordCount;
    private final byte[] records;

    public Block(long streamId, DataSource dataSource, String domain, long sequence, int recordCount, byte[] records) {
        this.streamId = streamId;
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.domain = Objects.requireNonNull(domain, "domain");
        this.sequence = sequence;
        this.recordCount = recordCount;
        this.records = Objects.requireNonNull(records, "records");
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

    /** The records joined by '\n' (no trailing separator). Not copied: do not modify. */
    public byte[] records() {
        return records;
    }

    /** {@code <streamId>/<domain>/<sequence>}: unique per stream and domain, stable across restores. */
    public String blockId() {
        return streamId + "/" + domain + "/" + sequence;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Block b
                && streamId == b.streamId
                && sequence == b.sequence
                && recordCount == b.recordCount
                && dataSource == b.dataSource
                && domain.equals(b.domain)
                && Arrays.equals(records, b.records);
    }

    @Override
    public int hashCode() {
        return Objects.hash(streamId, domain, sequence);
    }

    @Override
    public String toString() {
        return "Block{" + blockId() + ", " + dataSource.id() + ", " + recordCount + " records, "
                + records.length + " bytes}";
    }
}
