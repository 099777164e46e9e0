package io.edgestreaming.job;

/**
 * The batcher's per-(stream, domain) bookkeeping, checkpointed as keyed state (a Flink POJO: public
 * fields, no-arg constructor, serialized by Flink's PojoSerializer, never Kryo). The records
 * themselves live in a separate list state without TTL; this state has one, and is rebuilt from the
 * records when it expired under an open block (see BlockBatcher#IDLE_KEY_TTL).
 */
public class BatchState {
    /** Records in the open block. */
    public int count;
    /** Sum of the open block's record lengths. */
    public long recordBytes;
    /** Sequence number the next block gets; survives flushes and restores (until the key idles out, see BlockBatcher#IDLE_KEY_TTL). */
    public long nextSequence;
    /** Processing time at which the open block is cut; meaningful only while count > 0. */
    public long deadline;
    /** The stream's data source (ordinal), kept so a block can be built even for a removed stream. */
    public int dataSource;

    public BatchState() {}
}
