package io.edgestreaming.job;

import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.SharedJobConfig;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.JobConfigRef;
import io.edgestreaming.templates.DataSource;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Cuts the records of one key into {@link Block}s: a block is emitted when it holds {@code max_records}
 * records, when the next record would make its payload pass {@code max_size}, or {@code max_interval}
 * after its first record (a processing-time timer), whichever comes first.
 *
 * <p>Two kinds of key ({@link BatchingKeys}): a host its stream lists exactly has its own key (stream,
 * host), batched here in {@code batch} and {@code records} exactly as before shared keys existed (so old
 * savepoints restore, and the keys of hosts that now share one still flush through their restored
 * timers, then expire by TTL). All other hosts share a bounded set of keys (stream, "#" + bucket),
 * batched by {@link SharedKeyBatcher} (which follows the same rules per open block); the rest of this
 * comment is about own keys.
 *
 * <p>Everything lives in keyed state, so it is part of every checkpoint: the buffered records, their
 * count and size, the block's deadline and the next sequence number. A block's sequence therefore
 * depends only on checkpointed state, and restoring from the checkpoint that produced a block cuts it
 * again with the same id. Processing-time timers are snapshotted with the keyed state by Flink, so a
 * restored open block is still cut on time (at once if its deadline passed while the job was down).
 *
 * <p>At end of input (a bounded run, or stop-with-savepoint {@code --drain}) the sources emit the
 * final watermark, which fires the per-key event-time timer at {@link Long#MAX_VALUE}: every partial
 * block is flushed, so a bounded job delivers everything.
 */
public class BlockBatcher extends KeyedProcessFunction<Tuple2<Long, String>, RoutedRecord, Block> {
    private static final long serialVersionUID = 1L;
    private static final long END_OF_INPUT = Long.MAX_VALUE;
    private static final DataSource[] SOURCES = DataSource.values();

    public static final TypeInformation<Tuple2<Long, String>> KEY_TYPE = Types.TUPLE(Types.LONG, Types.STRING);

    /**
     * An own key that received no record for this long forgets its bookkeeping, sequence included: keyed
     * state stays bounded whatever hosts come and go (old savepoints also hold a key per Host value an
     * all_domains stream saw). Its next block starts again at sequence 0; every
     * delivery key (Idempotency-Key, Kafka transaction bookkeeping, S3 object UUID, dead-letter file)
     * also carries a digest of the block's bytes, so a reused block id is never taken for a repeat.
     *
     * <p>Only {@code batch} has this TTL (and a shared key's sequence, see {@link SharedKeyBatcher}),
     * never the buffered records: they exist only while a block is
     * open, and its timer cuts it within max_interval, so they need no TTL to stay bounded. Bookkeeping
     * can still expire under an open block when state older than the TTL is restored (a rollback to an
     * old savepoint, a job stopped for longer): the records are then found without it, and that block
     * is rebuilt from the records themselves and emitted at once ({@link #adoptOrphanedRecords}). So an
     * open block is never dropped, nor mixed with the key's next records. (One state object holding
     * records and count would rewrite every record on each update under RocksDB; dropping the TTL
     * from {@code batch} would not restore from existing savepoints.)
     */
    public static final Duration IDLE_KEY_TTL = Duration.ofDays(7);

    /** The batching rules of one stream. */
    public record Spec(DataSource dataSource, int maxRecords, long maxIntervalMillis, PayloadSizer sizer)
            implements Serializable {
        public static Spec of(StreamConfig stream) {
            return new Spec(stream.dataSource(), Math.max(1, stream.batching().maxRecords()),
                    Math.max(1, stream.batching().maxInterval().toMillis()), PayloadSizer.of(stream));
        }
    }

    /** Keys records by (stream id, host) or (stream id, "#" + bucket): see {@link BatchingKeys}. */
    public static final class StreamDomainKey implements KeySelector<RoutedRecord, Tuple2<Long, String>> {
        private static final long serialVersionUID = 1L;

        @Override
        public Tuple2<Long, String> getKey(RoutedRecord record) {
            return BatchingKeys.key(record.streamId(), record.domain(), record.bucket(), record.lane());
        }
    }

    /**
     * Per stream (label {@code stream}): blocks and bytes cut; in shared keys, {@code hostsAdmitted}
     * (blocks opened for one host of its own), {@code recordsFolded} (records put into a shared block)
     * and {@code hostsFolded} (distinct hosts per shared block, a lower bound past 64 in one block).
     */
    static final class StreamCounters {
        final Counter blocksCut;
        final Counter blockBytesCut;
        final Counter hostsAdmitted;
        final Counter recordsFolded;
        final Counter hostsFolded;

        StreamCounters(MetricGroup group) {
            blocksCut = group.counter("blocksCut");
            blockBytesCut = group.counter("blockBytesCut");
            hostsAdmitted = group.counter("hostsAdmitted");
            recordsFolded = group.counter("recordsFolded");
            hostsFolded = group.counter("hostsFolded");
        }

        void blockCut(Block block) {
            blocksCut.inc();
            blockBytesCut.inc(block.records().length);
        }
    }

    /** The job's configuration, resolved in open(): the job graph carries only its fingerprint. */
    private final JobConfigRef config;
    /** Specs of its own instead (tests); null with a shared configuration. */
    private final Map<Long, Spec> ownSpecs;
    private final int batchingKeysPerStream;

    /** Held while the function lives: it keeps the TaskManager's one copy of the configuration. */
    private transient SharedJobConfig.Shared shared;
    /** Shared by every batcher subtask of this TaskManager (immutable). */
    private transient Map<Long, Spec> specs;
    private transient ValueState<BatchState> batch;
    private transient ListState<byte[]> records;
    private transient Map<Long, StreamCounters> streamCounters;
    private transient SharedKeyBatcher sharedKeys;

    /** @param batchingKeysPerStream as ParseAndRoute's: it numbers the shared keys' blocks */
    public BlockBatcher(Map<Long, Spec> specs, int batchingKeysPerStream) {
        this(null, Map.copyOf(specs), batchingKeysPerStream);
    }

    private BlockBatcher(JobConfigRef config, Map<Long, Spec> ownSpecs, int batchingKeysPerStream) {
        this.config = config;
        this.ownSpecs = ownSpecs;
        this.batchingKeysPerStream = batchingKeysPerStream;
    }

    /** The streams of the job's shared configuration. */
    public static BlockBatcher shared(JobConfigRef config, int batchingKeysPerStream) {
        return new BlockBatcher(Objects.requireNonNull(config, "config"), null, batchingKeysPerStream);
    }

    static Map<Long, Spec> specs(List<StreamConfig> streams) {
        Map<Long, Spec> specs = new HashMap<>();
        for (StreamConfig stream : streams) {
            specs.put(stream.id(), Spec.of(stream));
        }
        return Map.copyOf(specs);
    }

    public static BlockBatcher forStreams(List<StreamConfig> streams) {
        return forStreams(streams, JobConfig.DEFAULT_BATCHING_KEYS_PER_STREAM);
    }

    public static BlockBatcher forStreams(List<StreamConfig> streams, int batchingKeysPerStream) {
        return new BlockBatcher(specs(streams), batchingKeysPerStream);
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        if (ownSpecs != null) {
            specs = ownSpecs;
        } else {
            shared = config.resolve(getRuntimeContext());
            specs = shared.slice("batcher:specs", c -> specs(c.streams()));
        }
        ValueStateDescriptor<BatchState> batchDescriptor = new ValueStateDescriptor<>("batch",
                TypeInformation.of(BatchState.class));
        // Refreshed by every record; see IDLE_KEY_TTL for why records have no TTL.
        batchDescriptor.enableTimeToLive(StateTtlConfig.newBuilder(IDLE_KEY_TTL)
                .updateTtlOnCreateAndWrite()
                .neverReturnExpired()
                .cleanupFullSnapshot()
                .build());
        batch = getRuntimeContext().getState(batchDescriptor);
        records = getRuntimeContext().getListState(
                new ListStateDescriptor<>("records", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        streamCounters = new HashMap<>();
        sharedKeys = new SharedKeyBatcher(getRuntimeContext(), this::counters, batchingKeysPerStream);
    }

    @Override
    public void processElement(RoutedRecord record, Context ctx, Collector<Block> out) throws Exception {
        Spec spec = specs.get(record.streamId());
        if (spec == null) {
            // The router only emits configured streams; this is a wiring bug, not bad input.
            throw new IllegalStateException("record for unknown stream " + record.streamId());
        }
        if (record.bucket() != BatchingKeys.OWN_KEY) {
            sharedKeys.processElement(record, spec, ctx.getCurrentKey(), ctx.timerService(), out);
            return;
        }
        TimerService timers = ctx.timerService();
        BatchState state = batch.value();
        if (state == null) {
            state = freshState(ctx.getCurrentKey());
            if (adoptOrphanedRecords(ctx.getCurrentKey(), state)) {
                // Its max_interval ran out while the job was down; the overdue timer may not have fired yet.
                flush(ctx.getCurrentKey(), state, timers, out);
            }
        }
        state.dataSource = spec.dataSource().ordinal();
        int length = record.record().length;
        if (state.count > 0
                && spec.sizer().payloadSize(state.count + 1, state.recordBytes + length) > spec.sizer().maxSize()) {
            flush(ctx.getCurrentKey(), state, timers, out);
        }
        records.add(record.record());
        state.count++;
        state.recordBytes += length;
        if (state.count == 1) {
            state.deadline = timers.currentProcessingTime() + spec.maxIntervalMillis();
            timers.registerProcessingTimeTimer(state.deadline);
            timers.registerEventTimeTimer(END_OF_INPUT);
        }
        if (state.count >= spec.maxRecords()
                || spec.sizer().payloadSize(state.count, state.recordBytes) >= spec.sizer().maxSize()) {
            flush(ctx.getCurrentKey(), state, timers, out);
        }
        batch.update(state);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Block> out) throws Exception {
        // Run for shared keys too: a key restored from before they existed was a host, and a visitor's
        // Host can be "#3"; its open block must still be cut.
        boolean cut = onOwnKeyTimer(timestamp, ctx, out);
        Tuple2<Long, String> key = ctx.getCurrentKey();
        if (BatchingKeys.isShared(key.f1)) {
            sharedKeys.onTimer(timestamp, ctx.timeDomain() == TimeDomain.EVENT_TIME, key, ctx.timerService(), cut, out);
        }
    }

    /** True if it cut a block (which deletes the key's end-of-input timer). */
    private boolean onOwnKeyTimer(long timestamp, OnTimerContext ctx, Collector<Block> out) throws Exception {
        BatchState state = batch.value();
        if (state == null) {
            state = freshState(ctx.getCurrentKey());
            if (!adoptOrphanedRecords(ctx.getCurrentKey(), state)) {
                return false;
            }
            flush(ctx.getCurrentKey(), state, ctx.timerService(), out);
            batch.update(state);
            return true;
        }
        if (state.count == 0) {
            return false;
        }
        // A processing-time timer older than the open block's deadline belongs to an earlier block.
        if (ctx.timeDomain() == TimeDomain.EVENT_TIME || timestamp >= state.deadline) {
            flush(ctx.getCurrentKey(), state, ctx.timerService(), out);
            batch.update(state);
            return true;
        }
        return false;
    }

    /**
     * A stream's counters, registered on the first block it has on this subtask: with placement a stream is
     * batched on few subtasks, so its series exist there only (10,000 streams x every subtask would not scale).
     * Null for a stream no longer configured.
     */
    StreamCounters counters(long streamId) {
        StreamCounters c = streamCounters.get(streamId);
        if (c == null && specs.containsKey(streamId)) {
            c = new StreamCounters(getRuntimeContext().getMetricGroup().addGroup("stream", String.valueOf(streamId)));
            streamCounters.put(streamId, c);
        }
        return c;
    }

    /** A key's first bookkeeping: a lane numbers its blocks in its own range ({@link BatchingKeys#laneSequenceBase}). */
    private static BatchState freshState(Tuple2<Long, String> key) {
        BatchState state = new BatchState();
        state.nextSequence = BatchingKeys.laneSequenceBase(key.f1);
        return state;
    }

    /**
     * Records buffered for this key while its bookkeeping is gone: the TTL expired {@code batch} under
     * an open block (see {@link #IDLE_KEY_TTL}). Rebuilds the open block's count and size from the
     * records into the fresh {@code state}; false if there are none.
     */
    private boolean adoptOrphanedRecords(Tuple2<Long, String> key, BatchState state) throws Exception {
        Iterable<byte[]> orphans = records.get();
        if (orphans == null) {
            return false;
        }
        for (byte[] record : orphans) {
            state.count++;
            state.recordBytes += record.length;
        }
        if (state.count == 0) {
            return false;
        }
        Spec spec = specs.get(key.f0);
        // A stream removed from the configuration delivers nowhere: its block only reaches the
        // dead-letter store (the data source in its manifest is then a guess).
        state.dataSource = spec == null ? 0 : spec.dataSource().ordinal();
        return true;
    }

    private void flush(Tuple2<Long, String> key, BatchState state, TimerService timers, Collector<Block> out)
            throws Exception {
        Block block = assemble(key.f0, SOURCES[state.dataSource], BatchingKeys.base(key.f1), state.nextSequence, records.get(),
                state.count);
        if (block != null) {
            out.collect(block);
            StreamCounters counters = counters(key.f0);
            if (counters != null) {
                counters.blockCut(block);
            }
            state.nextSequence++;
        }
        records.clear();
        timers.deleteProcessingTimeTimer(state.deadline);
        timers.deleteEventTimeTimer(END_OF_INPUT);
        state.count = 0;
        state.recordBytes = 0;
    }

    /**
     * The block of these buffered records, or null if there are none. Count and size come from the
     * records themselves, so a block always holds exactly what is buffered, even if the bookkeeping
     * disagrees (state written before adoptOrphanedRecords existed).
     */
    static Block assemble(long streamId, DataSource source, String domain, long sequence, Iterable<byte[]> records,
            int expectedCount) {
        if (records == null) {
            return null;
        }
        List<byte[]> buffered = new ArrayList<>(Math.max(1, expectedCount));
        long size = -1;
        for (byte[] record : records) {
            buffered.add(record);
            size += record.length + 1;
        }
        if (buffered.isEmpty()) {
            return null;
        }
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("block of stream " + streamId + " too large for one array: " + size);
        }
        byte[] joined = new byte[(int) size];
        int position = 0;
        for (int i = 0; i < buffered.size(); i++) {
            if (i > 0) {
                joined[position++] = Block.RECORD_SEPARATOR;
            }
            byte[] record = buffered.get(i);
            System.arraycopy(record, 0, joined, position, record.length);
            position += record.length;
        }
        return new Block(streamId, source, domain, sequence, buffered.size(), joined);
    }
}
