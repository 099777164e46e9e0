package io.edgestreaming.job;

import io.edgestreaming.connectors.Block;
import io.edgestreaming.templates.DataSource;
import java.util.Arrays;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.util.Collector;

/**
 * The batcher's half for shared keys (stream, "#" + bucket), which carry the hosts a stream does not
 * list exactly (see {@link BatchingKeys}). A shared key keeps one open block per host for up to
 * {@value #OWN_BLOCKS} hosts, the first to come while a slot is free; records of any other host, and of
 * every host that is not a plausible host name ({@link BatchingKeys#mayOwnBlock}), go into the key's
 * one shared block, whose domain is "*" + bucket. Each open block follows the stream's max_records,
 * max_size and max_interval rules on its own, with its own deadline timer; a host's slot frees when its
 * block is cut. So a stream has at most batching_keys_per_stream x 5 open blocks besides its listed
 * hosts, however many Host values arrive. Which block a record joins is decided from keyed state
 * only, never from arrival accidents a restore cannot see, so a replay cuts the same blocks.
 *
 * <p>One sequence per key numbers all its blocks, so ids {@code stream/host/seq} and
 * {@code stream/*bucket/seq} stay unique (for a given K a host always lands in the same bucket). It
 * counts from K x 10^12 (K = batching_keys_per_stream), not 0: own keys count from 0, so a host that
 * moves between its own key and a shared one (an upgrade from per-host keys, a change of the stream's
 * domains) or between shared keys (a change to a K not used before) never gets an id it had. The
 * sequence has the
 * batcher's idle TTL ({@link BlockBatcher#IDLE_KEY_TTL}), written when a block is cut; the open blocks
 * have none: they exist only until their timer cuts them (within max_interval), so an open block's
 * state never expires in part, and a restore of state older than the TTL still finds and cuts it.
 *
 * <p>State: {@code sharedBlocks} (the slots' bookkeeping), {@code sharedRecords0..4} (one list per
 * slot: appending is a RocksDB merge, never a rewrite), {@code sharedFoldedHosts} (hashes of the
 * distinct hosts in the shared block, at most 64) and {@code sharedSequence}.
 */
final class SharedKeyBatcher {
    /** Hosts that may have an open block of their own in one shared key. */
    static final int OWN_BLOCKS = 4;
    /** The slot of the shared block. */
    static final int SHARED = OWN_BLOCKS;
    static final int SLOTS = OWN_BLOCKS + 1;
    /** Distinct folded hosts tracked per shared block; beyond, hostsFolded is a lower bound. */
    static final int MAX_TRACKED_FOLDED_HOSTS = 64;
    private static final long END_OF_INPUT = Long.MAX_VALUE;
    private static final DataSource[] SOURCES = DataSource.values();
    /** The sequences of one K: [K x 10^12, (K + 1) x 10^12). */
    static final long SEQUENCE_RANGE = 1_000_000_000_000L;

    private final ValueState<SharedBlocks> blocks;
    private final ListState<byte[]>[] records;
    private final ValueState<long[]> foldedHosts;
    private final ValueState<Long> sequence;
    private final java.util.function.LongFunction<BlockBatcher.StreamCounters> counters;
    private final long firstSequence;

    @SuppressWarnings("unchecked")
    SharedKeyBatcher(RuntimeContext context, java.util.function.LongFunction<BlockBatcher.StreamCounters> counters,
            int batchingKeysPerStream) {
        this.counters = counters;
        this.firstSequence = firstSequence(batchingKeysPerStream);
        blocks = context.getState(new ValueStateDescriptor<>("sharedBlocks", TypeInformation.of(SharedBlocks.class)));
        records = new ListState[SLOTS];
        for (int slot = 0; slot < SLOTS; slot++) {
            records[slot] = context.getListState(new ListStateDescriptor<>("sharedRecords" + slot,
                    PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        }
        foldedHosts = context.getState(new ValueStateDescriptor<>("sharedFoldedHosts",
                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        ValueStateDescriptor<Long> sequenceDescriptor = new ValueStateDescriptor<>("sharedSequence", Types.LONG);
        sequenceDescriptor.enableTimeToLive(StateTtlConfig.newBuilder(BlockBatcher.IDLE_KEY_TTL)
                .updateTtlOnCreateAndWrite()
                .neverReturnExpired()
                .cleanupFullSnapshot()
                .build());
        sequence = context.getState(sequenceDescriptor);
    }

    void processElement(RoutedRecord record, BlockBatcher.Spec spec, Tuple2<Long, String> key, TimerService timers,
            Collector<Block> out) throws Exception {
        SharedBlocks state = blocks.value();
        if (state == null) {
            state = SharedBlocks.empty();
        }
        state.dataSource = spec.dataSource().ordinal();
        BlockBatcher.StreamCounters metrics = counters.apply(key.f0);
        String host = record.domain();
        int slot = state.slotOf(host);
        if (slot < 0) {
            slot = admit(state, host, metrics);
        }
        int length = record.record().length;
        if (state.counts[slot] > 0 && spec.sizer().payloadSize(state.counts[slot] + 1,
                state.recordBytes[slot] + length) > spec.sizer().maxSize()) {
            cut(key, state, slot, timers, out);
            if (slot != SHARED) {
                // The host goes on in a new block of its own, in the slot its last block just freed.
                state.hosts[slot] = host;
                metrics.hostsAdmitted.inc();
            }
        }
        records[slot].add(record.record());
        int count = ++state.counts[slot];
        state.recordBytes[slot] += length;
        if (count == 1) {
            state.deadlines[slot] = timers.currentProcessingTime() + spec.maxIntervalMillis();
            timers.registerProcessingTimeTimer(state.deadlines[slot]);
            timers.registerEventTimeTimer(END_OF_INPUT);
        }
        if (slot == SHARED) {
            metrics.recordsFolded.inc();
            countFoldedHost(state, host, metrics);
        }
        if (count >= spec.maxRecords()
                || spec.sizer().payloadSize(count, state.recordBytes[slot]) >= spec.sizer().maxSize()) {
            cut(key, state, slot, timers, out);
        }
        save(state);
    }

    /**
     * Cuts the open blocks that are due: all of them at end of input, else those whose deadline is at or
     * before the timer (a timer older than a block's deadline belongs to an earlier block).
     *
     * @param endOfInputTimerLost the key's own-key state was cut by this timer too, deleting the
     *     end-of-input timer that the open blocks still need
     */
    void onTimer(long timestamp, boolean endOfInput, Tuple2<Long, String> key, TimerService timers,
            boolean endOfInputTimerLost, Collector<Block> out) throws Exception {
        SharedBlocks state = blocks.value();
        if (state == null) {
            return;
        }
        for (int slot = 0; slot < SLOTS; slot++) {
            if (state.counts[slot] > 0 && (endOfInput || state.deadlines[slot] <= timestamp)) {
                cut(key, state, slot, timers, out);
            }
        }
        if (endOfInputTimerLost && state.anyOpen()) {
            timers.registerEventTimeTimer(END_OF_INPUT);
        }
        save(state);
    }

    /** A free own-block slot for a plausible host name, else the shared block. */
    private static int admit(SharedBlocks state, String host, BlockBatcher.StreamCounters metrics) {
        if (BatchingKeys.mayOwnBlock(host)) {
            int slot = state.freeSlot();
            if (slot >= 0) {
                state.hosts[slot] = host;
                metrics.hostsAdmitted.inc();
                return slot;
            }
        }
        return SHARED;
    }

    /** Counts a host once per shared block, tracking up to 64 distinct ones (by 64-bit hash). */
    private void countFoldedHost(SharedBlocks state, String host, BlockBatcher.StreamCounters metrics)
            throws Exception {
        if (state.foldedHosts >= MAX_TRACKED_FOLDED_HOSTS) {
            return;
        }
        long hash = BatchingKeys.hostHash(host);
        long[] seen = foldedHosts.value();
        int known = seen == null ? 0 : seen.length;
        for (int i = 0; i < known; i++) {
            if (seen[i] == hash) {
                return;
            }
        }
        // A new array, never the one state handed out (the heap backend keeps that very object).
        long[] more = seen == null ? new long[1] : Arrays.copyOf(seen, known + 1);
        more[known] = hash;
        foldedHosts.update(more);
        state.foldedHosts = more.length;
        metrics.hostsFolded.inc();
    }

    private void cut(Tuple2<Long, String> key, SharedBlocks state, int slot, TimerService timers,
            Collector<Block> out) throws Exception {
        String domain = slot == SHARED ? BatchingKeys.sharedBlockDomain(key.f1) : state.hosts[slot];
        Long next = sequence.value();
        // A counter of another K (the configuration changed) starts over in this K's range (in this lane's).
        long first = firstSequence + BatchingKeys.laneSequenceBase(key.f1);
        long seq = next == null || next < first || next >= first + SEQUENCE_RANGE ? first : next;
        Block block = BlockBatcher.assemble(key.f0, SOURCES[state.dataSource], domain, seq, records[slot].get(),
                state.counts[slot]);
        if (block != null) {
            out.collect(block);
            BlockBatcher.StreamCounters metrics = counters.apply(key.f0);
            if (metrics != null) {
                metrics.blockCut(block);
            }
            sequence.update(seq + 1);
        }
        records[slot].clear();
        state.counts[slot] = 0;
        state.recordBytes[slot] = 0;
        state.hosts[slot] = null;
        if (slot == SHARED) {
            foldedHosts.clear();
            state.foldedHosts = 0;
        }
        long deadline = state.deadlines[slot];
        if (!state.anyOpenWithDeadline(deadline)) {
            timers.deleteProcessingTimeTimer(deadline);
        }
        if (!state.anyOpen()) {
            timers.deleteEventTimeTimer(END_OF_INPUT);
        }
    }

    static long firstSequence(int batchingKeysPerStream) {
        return batchingKeysPerStream * SEQUENCE_RANGE;
    }

    private void save(SharedBlocks state) throws Exception {
        if (state.anyOpen()) {
            blocks.update(state);
        } else {
            blocks.clear();
        }
    }
}
