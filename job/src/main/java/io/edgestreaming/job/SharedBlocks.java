package io.edgestreaming.job;

/**
 * The open blocks of one shared batching key (see {@link SharedKeyBatcher}), checkpointed as keyed
 * state (a Flink POJO: public fields, no-arg constructor, PojoSerializer, never Kryo). Slots 0..3 hold
 * the block of one host each, slot 4 the shared block; the records live in one list state per slot.
 * Exists only while a block is open, like the records, so it needs no TTL to stay bounded.
 */
public class SharedBlocks {
    /** The host of each own-block slot, null while the slot is free; slot 4's is always null. */
    public String[] hosts;
    /** Records in each slot's open block; 0 when it has none. */
    public int[] counts;
    /** Sum of the record lengths of each slot's open block. */
    public long[] recordBytes;
    /** Processing time at which each slot's open block is cut; meaningful only while its count > 0. */
    public long[] deadlines;
    /** The stream's data source (ordinal), kept so a block can be built even for a removed stream. */
    public int dataSource;
    /** Distinct hosts recorded in the shared block's folded-host set (at most 64 tracked). */
    public int foldedHosts;

    public SharedBlocks() {}

    static SharedBlocks empty() {
        SharedBlocks s = new SharedBlocks();
        s.hosts = new String[SharedKeyBatcher.SLOTS];
        s.counts = new int[SharedKeyBatcher.SLOTS];
        s.recordBytes = new long[SharedKeyBatcher.SLOTS];
        s.deadlines = new long[SharedKeyBatcher.SLOTS];
        return s;
    }

    /** The own-block slot of this host, or -1. */
    int slotOf(String host) {
        for (int slot = 0; slot < SharedKeyBatcher.OWN_BLOCKS; slot++) {
            if (host.equals(hosts[slot])) {
                return slot;
            }
        }
        return -1;
    }

    int freeSlot() {
        for (int slot = 0; slot < SharedKeyBatcher.OWN_BLOCKS; slot++) {
            if (hosts[slot] == null) {
                return slot;
            }
        }
        return -1;
    }

    boolean anyOpen() {
        for (int count : counts) {
            if (count > 0) {
                return true;
            }
        }
        return false;
    }

    /** Whether an open block is due at this time (so its timer must stay). */
    boolean anyOpenWithDeadline(long deadline) {
        for (int slot = 0; slot < counts.length; slot++) {
            if (counts[slot] > 0 && deadlines[slot] == deadline) {
                return true;
            }
        }
        return false;
    }
}
