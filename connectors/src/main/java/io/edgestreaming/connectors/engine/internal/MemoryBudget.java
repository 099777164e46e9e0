package io.edgestreaming.connectors.engine.internal;

/**
 * The heap that undelivered blocks of one delivery operator subtask may hold, shared fairly: each
 * destination with pending blocks gets {@code limit / destinations}, and always room for one block.
 * Past its share a destination's oldest blocks that are not in flight move to the spool.
 */
final class MemoryBudget {
    /** Default share of the JVM heap for all delivery operators of a TaskManager together. */
    static final double HEAP_FRACTION = 0.25;

    private final long limit;
    /** Payload bytes in the heap (pending blocks, reads under way). */
    long heldBytes;
    long spooledBytes;
    /** Held bytes whose spool write is under way: they leave the heap when it is confirmed. */
    long writingBytes;
    int destinationsWithBlocks;

    MemoryBudget(long limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("memory budget must be positive, was " + limit);
        }
        this.limit = limit;
    }

    /**
     * The default budget of one delivery operator subtask: {@link #HEAP_FRACTION} of the heap, split
     * over the TaskManager's slots and the delivery operators of a slot (one per endpoint type in use).
     */
    static long derive(long maxHeapBytes, int slots, int deliveryOperatorsPerSlot) {
        return Math.max(1, (long) (maxHeapBytes * HEAP_FRACTION) / Math.max(1, slots) / Math.max(1, deliveryOperatorsPerSlot));
    }

    long limit() {
        return limit;
    }

    /** The share of each destination that has pending blocks. */
    long share() {
        return limit / Math.max(1, destinationsWithBlocks);
    }
}
