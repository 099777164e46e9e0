package io.edgestreaming.job;

import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.templates.DataSource;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * Test fixture: the batcher as it was before shared keys (commit 10d17b5), unchanged but for its name,
 * so tests can write keyed state in the old layout (every host its own key) and restore it into the
 * current {@link BlockBatcher}, as a savepoint taken before the upgrade would be.
 */
public class LegacyBlockBatcher extends KeyedProcessFunction<Tuple2<Long, String>, RoutedRecord, Block> {
    private static final long serialVersionUID = 1L;
    private static final long END_OF_INPUT = Long.MAX_VALUE;
    private static final DataSource[] SOURCES = DataSource.values();

    public static final TypeInformation<Tuple2<Long, String>> KEY_TYPE = Types.TUPLE(Types.LONG, Types.STRING);

    /**
     * A (stream, domain) that received no record for this long forgets its bookkeeping, sequence
     * included: keyed state stays bounded however many host names events carry (an all_domains stream
     * sees every Host a client's visitors send). Its next block starts again at sequence 0; every
     * delivery key (Idempotency-Key, Kafka transaction bookkeeping, S3 object UUID, dead-letter file)
     * also carries a digest of the block's bytes, so a reused block id is never taken for a repeat.
     *
     * <p>Only {@code batch} has this TTL, never the buffered records: they exist only while a block is
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

    /** Keys records by (stream id, domain). */
    public static final class StreamDomainKey implements KeySelector<RoutedRecord, Tuple2<Long, String>> {
        private static final long serialVersionUID = 1L;

        @Override
        public Tuple2<Long, String> getKey(RoutedRecord record) {
            return Tuple2.of(record.streamId(), record.domain());
        }
    }

    private final Map<Long, Spec> specs;

    private transient ValueState<BatchState> batch;
    private transient ListState<byte[]> records;
    private transient Map<Long, Counter[]> streamCounters;

    public LegacyBlockBatcher(Map<Long, Spec> specs) {
        this.specs = Map.copyOf(specs);
    }

    public static LegacyBlockBatcher forStreams(List<StreamConfig> streams) {
        Map<Long, Spec> specs = new HashMap<>();
        for (StreamConfig stream : streams) {
            specs.put(stream.id(), Spec.of(stream));
        }
        return new LegacyBlockBatcher(specs);
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
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
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        for (Long streamId : specs.keySet()) {
            MetricGroup group = metrics.addGroup("stream", String.valueOf(streamId));
            streamCounters.put(streamId, new Counter[] {group.counter("blocksCut"), group.counter("blockBytesCut")});
        }
    }

    @Override
    public void processElement(RoutedRecord record, Context ctx, Collector<Block> out) throws Exception {
        Spec spec = specs.get(record.streamId());
        if (spec == null) {
            // The router only emits configured streams; this is a wiring bug, not bad input.
            throw new IllegalStateException("record for unknown stream " + record.streamId());
        }
        TimerService timers = ctx.timerService();
        BatchState state = batch.value();
        if (state == null) {
            state = new BatchState();
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
        BatchState state = batch.value();
        if (state == null) {
            state = new BatchState();
            if (!adoptOrphanedRecords(ctx.getCurrentKey(), state)) {
                return;
            }
            flush(ctx.getCurrentKey(), state, ctx.timerService(), out);
            batch.update(state);
            return;
        }
        if (state.count == 0) {
            return;
        }
        // A processing-time timer older than the open block's deadline belongs to an earlier block.
        if (ctx.timeDomain() == TimeDomain.EVENT_TIME || timestamp >= state.deadline) {
            flush(ctx.getCurrentKey(), state, ctx.timerService(), out);
            batch.update(state);
        }
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
        // Count and size come from the records themselves, so a block always holds exactly what is
        // buffered, even if the bookkeeping disagrees (state written before adoptOrphanedRecords existed).
        List<byte[]> buffered = new ArrayList<>(state.count);
        long size = -1;
        for (byte[] record : records.get()) {
            buffered.add(record);
            size += record.length + 1;
        }
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("block of stream " + key.f0 + " too large for one array: " + size);
        }
        if (!buffered.isEmpty()) {
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
            out.collect(new Block(key.f0, SOURCES[state.dataSource], key.f1, state.nextSequence, buffered.size(), joined));
            Counter[] counters = streamCounters.get(key.f0);
            if (counters != null) {
                counters[0].inc();
                counters[1].inc(joined.length);
            }
            state.nextSequence++;
        }
        records.clear();
        timers.deleteProcessingTimeTimer(state.deadline);
        timers.deleteEventTimeTimer(END_OF_INPUT);
        state.count = 0;
        state.recordBytes = 0;
    }
}
