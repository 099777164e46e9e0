package io.edgestreaming.job;

import io.edgestreaming.connectors.Block;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TEMPORARY stand-in for the delivery engine: logs each block's id, record count and size and counts
 * them per stream ({@code stream.<id>.blocksOut}, {@code stream.<id>.bytesOut}), so the job runs end to
 * end before {@code DeliveryTopology} exists. It delivers nothing.
 */
public final class LoggingBlockSink implements Sink<Block> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(LoggingBlockSink.class);

    @Override
    public SinkWriter<Block> createWriter(WriterInitContext context) {
        MetricGroup metrics = context.metricGroup();
        Map<Long, Counter[]> counters = new HashMap<>();
        return new SinkWriter<>() {
            @Override
            public void write(Block block, Context ctx) {
                LOG.info("block {} ({}): {} records, {} bytes", block.blockId(), block.dataSource().id(),
                        block.recordCount(), block.records().length);
                Counter[] c = counters.computeIfAbsent(block.streamId(), id -> {
                    MetricGroup group = metrics.addGroup("stream", String.valueOf(id));
                    return new Counter[] {group.counter("blocksOut"), group.counter("bytesOut")};
                });
                c[0].inc();
                c[1].inc(block.records().length);
            }

            @Override
            public void flush(boolean endOfInput) {}

            @Override
            public void close() {}
        };
    }
}
