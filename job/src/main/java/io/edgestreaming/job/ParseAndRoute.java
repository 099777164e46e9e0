package io.edgestreaming.job;

import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.templates.CompiledTemplate;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.templates.EventParser;
import io.edgestreaming.templates.MalformedEventException;
import io.edgestreaming.templates.ParsedEvent;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Parses each raw event once (one streaming pass), routes it to every stream it feeds and projects it
 * through each stream's compiled template. Events that cannot be parsed, lack {@code client} or
 * {@code host}, or whose projection can never fit its stream's {@code max_size} go to the
 * {@link #DEAD_LETTER} side output with a reason: input never fails the job.
 *
 * <p>Metrics (operator scope): {@code eventsRead}, {@code eventsUnrouted} (no stream matched),
 * {@code recordsRouted}, {@code eventsDeadLettered} and {@code deadLettered.<REASON>}, and per stream
 * {@code stream.<id>.records}.
 */
public class ParseAndRoute extends ProcessFunction<RawEvent, RoutedRecord> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetterEvent> DEAD_LETTER =
            new OutputTag<>("dead-letter-events", DeadLetterEvent.TYPE_INFO);

    private final List<StreamConfig> streams;
    private final int maxEventBytes;

    private transient Map<DataSource, EventParser> parsers;
    private transient StreamRouter router;
    private transient Map<Long, CompiledTemplate> templates;
    private transient Map<Long, PayloadSizer> sizers;
    private transient Map<Long, Counter> streamRecords;
    private transient List<StreamRouter.Route> matches;
    private transient MetricGroup metrics;
    private transient Map<String, Counter> deadLetteredByReason;
    private transient Counter eventsRead;
    private transient Counter eventsUnrouted;
    private transient Counter recordsRouted;
    private transient Counter eventsDeadLettered;

    public ParseAndRoute(List<StreamConfig> streams, int maxEventBytes) {
        this.streams = List.copyOf(streams);
        this.maxEventBytes = maxEventBytes;
    }

    @Override
    public void open(OpenContext openContext) {
        parsers = new EnumMap<>(DataSource.class);
        for (DataSource source : DataSource.values()) {
            parsers.put(source, new EventParser(source, maxEventBytes));
        }
        router = new StreamRouter(streams);
        templates = new HashMap<>();
        sizers = new HashMap<>();
        streamRecords = new HashMap<>();
        matches = new ArrayList<>();
        metrics = getRuntimeContext().getMetricGroup();
        for (StreamConfig stream : streams) {
            if (stream.active()) {
                templates.put(stream.id(), CompiledTemplate.compile(stream.template()));
                sizers.put(stream.id(), PayloadSizer.of(stream));
                streamRecords.put(stream.id(), metrics.addGroup("stream", String.valueOf(stream.id())).counter("records"));
            }
        }
        eventsRead = metrics.counter("eventsRead");
        eventsUnrouted = metrics.counter("eventsUnrouted");
        recordsRouted = metrics.counter("recordsRouted");
        eventsDeadLettered = metrics.counter("eventsDeadLettered");
        deadLetteredByReason = new HashMap<>();
    }

    @Override
    public void processElement(RawEvent event, Context ctx, Collector<RoutedRecord> out) {
        eventsRead.inc();
        DataSource source = event.dataSource();
        ParsedEvent parsed;
        try {
            parsed = parsers.get(source).parse(event.value());
        } catch (MalformedEventException e) {
            deadLetter(ctx, event, e.reason().name(), e.getMessage());
            return;
        }
        String client = parsed.client();
        if (isMissing(client)) {
            deadLetter(ctx, event, DeadLetterEvent.MISSING_CLIENT, "the " + source.id() + " event has no client");
            return;
        }
        String host = parsed.host();
        if (isMissing(host)) {
            deadLetter(ctx, event, DeadLetterEvent.MISSING_HOST, "the " + source.id() + " event has no host");
            return;
        }
        String domain = StreamRouter.normalizeHost(host);
        router.route(source, client, domain, event.value(), matches);
        if (matches.isEmpty()) {
            eventsUnrouted.inc();
            return;
        }
        for (StreamRouter.Route route : matches) {
            long streamId = route.stream().id();
            byte[] record = templates.get(streamId).project(parsed);
            PayloadSizer sizer = sizers.get(streamId);
            if (!sizer.fitsAlone(record.length)) {
                // It could never be delivered; dead-letter it rather than block the key forever.
                deadLetter(ctx, event, DeadLetterEvent.RECORD_TOO_LARGE, "stream " + streamId
                        + ": the projected record of " + record.length + " bytes does not fit max_size "
                        + sizer.maxSize());
                continue;
            }
            out.collect(new RoutedRecord(streamId, domain, record));
            recordsRouted.inc();
            streamRecords.get(streamId).inc();
        }
    }

    private static boolean isMissing(String value) {
        return value == null || value.isEmpty() || "-".equals(value);
    }

    private void deadLetter(Context ctx, RawEvent event, String reason, String detail) {
        ctx.output(DEAD_LETTER, DeadLetterEvent.of(event, reason, detail));
        eventsDeadLettered.inc();
        deadLetteredByReason.computeIfAbsent(reason, r -> metrics.addGroup("deadLettered").counter(r)).inc();
    }
}
