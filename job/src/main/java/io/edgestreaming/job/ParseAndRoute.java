package io.edgestreaming.job;

import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.Limits;
import io.edgestreaming.config.SharedJobConfig;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.JobConfigRef;
import io.edgestreaming.connectors.LogFields;
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
import java.util.Objects;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parses each raw event once (one streaming pass), routes it to every stream it feeds and projects it
 * through each stream's compiled template. Events that cannot be parsed, lack {@code client} or
 * {@code host}, or whose projection can never fit its stream's {@code max_size} go to the
 * {@link #DEAD_LETTER} side output with a reason: input never fails the job.
 *
 * <p>Metrics (operator scope): {@code eventsRead}, {@code eventsUnrouted} (no stream matched),
 * {@code recordsRouted}, {@code eventsDeadLettered}, and under the label {@code reason}
 * {@code eventsDeadLettered}; per stream (label {@code stream}): {@code eventsIn} (events it matched),
 * {@code eventsSampledOut}, {@code records} (routed), and by {@code reason} {@code recordsDeadLettered}.
 */
public class ParseAndRoute extends ProcessFunction<RawEvent, RoutedRecord> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ParseAndRoute.class);

    public static final OutputTag<DeadLetterEvent> DEAD_LETTER =
            new OutputTag<>("dead-letter-events", DeadLetterEvent.TYPE_INFO);
    /**
     * Records batched on another subtask (their key's home, {@link KeyPlacement}): keyed through the network. The
     * main output holds the records this subtask batches itself, in the batcher chained to it (local lanes).
     */
    public static final OutputTag<RoutedRecord> REMOTE = new OutputTag<>("remote-records", RoutedRecord.TYPE_INFO);

    /** The job's configuration, resolved in open(): the job graph carries only its fingerprint. */
    private final JobConfigRef config;
    /** Streams of its own instead (tests); null with a shared configuration. */
    private final List<StreamConfig> ownStreams;
    private final int maxEventBytes;
    private final int batchingKeysPerStream;

    /** Held while the function lives: it keeps the TaskManager's one copy of the configuration. */
    private transient SharedJobConfig.Shared shared;

    private transient Map<DataSource, EventParser> parsers;
    private transient StreamRouter router;
    private transient KeyPlacement placement;
    private transient boolean parallel;
    /** By {@link StreamRouter.Route#ordinal()}: array reads instead of four boxed-id map lookups per record. */
    private transient PerStream[] perStream;
    private transient Map<Long, MetricGroup> streamGroups;
    private transient Map<String, Counter> streamDeadLettered;
    private transient List<StreamRouter.Route> matches;
    private transient List<StreamRouter.Route> sampledOut;
    private transient Map<String, Boolean> loggedDeadLetter;
    private transient MetricGroup metrics;
    private transient Map<String, Counter> deadLetteredByReason;
    private transient Counter eventsRead;
    private transient Counter eventsUnrouted;
    private transient Counter recordsRouted;
    private transient Counter eventsDeadLettered;

    public ParseAndRoute(List<StreamConfig> streams, int maxEventBytes) {
        this(streams, maxEventBytes, JobConfig.DEFAULT_BATCHING_KEYS_PER_STREAM);
    }

    /** @param batchingKeysPerStream shared batching keys per stream for hosts it does not list exactly */
    public ParseAndRoute(List<StreamConfig> streams, int maxEventBytes, int batchingKeysPerStream) {
        this(null, List.copyOf(streams), maxEventBytes, batchingKeysPerStream);
    }

    /** The streams of the job's shared configuration. */
    public ParseAndRoute(JobConfigRef config, int maxEventBytes, int batchingKeysPerStream) {
        this(Objects.requireNonNull(config, "config"), null, maxEventBytes, batchingKeysPerStream);
    }

    private ParseAndRoute(JobConfigRef config, List<StreamConfig> ownStreams, int maxEventBytes,
            int batchingKeysPerStream) {
        if (batchingKeysPerStream < 1 || batchingKeysPerStream > Limits.MAX_BATCHING_KEYS_PER_STREAM) {
            throw new IllegalArgumentException("batchingKeysPerStream " + batchingKeysPerStream);
        }
        this.config = config;
        this.ownStreams = ownStreams;
        this.maxEventBytes = maxEventBytes;
        this.batchingKeysPerStream = batchingKeysPerStream;
    }

    @Override
    public void open(OpenContext openContext) {
        List<StreamConfig> streams;
        if (ownStreams != null) {
            streams = ownStreams;
        } else {
            shared = config.resolve(getRuntimeContext());
            streams = shared.config().streams();
        }
        parsers = new EnumMap<>(DataSource.class);
        for (DataSource source : DataSource.values()) {
            parsers.put(source, new EventParser(source, maxEventBytes));
        }
        router = new StreamRouter(streams);
        org.apache.flink.api.common.TaskInfo task = getRuntimeContext().getTaskInfo();
        placement = new KeyPlacement(task.getIndexOfThisSubtask(), task.getNumberOfParallelSubtasks(),
                task.getMaxNumberOfParallelSubtasks());
        parallel = task.getNumberOfParallelSubtasks() > 1;
        List<PerStream> active = new ArrayList<>();
        streamGroups = new HashMap<>();
        streamDeadLettered = new HashMap<>();
        matches = new ArrayList<>();
        sampledOut = new ArrayList<>();
        loggedDeadLetter = new HashMap<>();
        metrics = getRuntimeContext().getMetricGroup();
        for (StreamConfig stream : streams) {
            if (stream.active()) {
                // In the router's order of active streams, so that a route's ordinal indexes this array.
                active.add(new PerStream(stream.id(), CompiledTemplate.compile(stream.template()), PayloadSizer.of(stream)));
            }
        }
        perStream = active.toArray(new PerStream[0]);
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
            deadLetter(ctx, event, null, e.reason().name(), e.getMessage());
            return;
        }
        String client = parsed.client();
        if (isMissing(client)) {
            deadLetter(ctx, event, null, DeadLetterEvent.MISSING_CLIENT, "the " + source.id() + " event has no client");
            return;
        }
        String host = parsed.host();
        if (isMissing(host)) {
            deadLetter(ctx, event, null, DeadLetterEvent.MISSING_HOST, "the " + source.id() + " event has no host");
            return;
        }
        String domain = StreamRouter.normalizeHost(host);
        router.route(source, client, domain, event.value(), matches, sampledOut);
        for (StreamRouter.Route route : sampledOut) {
            StreamCounters sampled = perStream[route.ordinal()].counters();
            sampled.eventsIn.inc();
            sampled.sampledOut.inc();
        }
        if (matches.isEmpty()) {
            eventsUnrouted.inc();
            return;
        }
        long hostHash = 0;
        boolean hostHashed = false;
        long now = parallel ? System.nanoTime() : 0; // only placement's rate windows read it
        for (StreamRouter.Route route : matches) {
            long streamId = route.stream().id();
            PerStream target = perStream[route.ordinal()];
            StreamCounters counted = target.counters();
            counted.eventsIn.inc();
            byte[] record = target.template.project(parsed);
            PayloadSizer sizer = target.sizer;
            if (!sizer.fitsAlone(record.length)) {
                // It could never be delivered; dead-letter it rather than block the key forever.
                deadLetter(ctx, event, streamId, DeadLetterEvent.RECORD_TOO_LARGE, "stream " + streamId
                        + ": the projected record of " + record.length + " bytes does not fit max_size "
                        + sizer.maxSize());
                continue;
            }
            int bucket = BatchingKeys.OWN_KEY;
            if (!route.listsExactly(domain)) {
                if (!hostHashed) {
                    hostHash = BatchingKeys.hostHash(domain);
                    hostHashed = true;
                }
                bucket = BatchingKeys.bucket(hostHash, streamId, batchingKeysPerStream);
            }
            int lane = placement.lane(route, streamId, bucket < 0 ? domain : BatchingKeys.sharedKey(bucket),
                    route.stream().batching().maxRecords(), now);
            RoutedRecord routed = new RoutedRecord(streamId, domain, bucket, lane, record);
            if (BatchingKeys.isLocal(lane)) {
                out.collect(routed);
            } else {
                ctx.output(REMOTE, routed);
            }
            recordsRouted.inc();
            counted.records.inc();
        }
    }

    /**
     * A stream's template and sizer, and its counters once one of its events reached this subtask: at 10,000
     * streams and parallelism P, counters registered up front were 3 x 10,000 x P series, most never moving.
     */
    private final class PerStream {
        final long streamId;
        final CompiledTemplate template;
        final PayloadSizer sizer;
        private StreamCounters counters;

        PerStream(long streamId, CompiledTemplate template, PayloadSizer sizer) {
            this.streamId = streamId;
            this.template = template;
            this.sizer = sizer;
        }

        StreamCounters counters() {
            StreamCounters c = counters;
            if (c == null) {
                MetricGroup group = streamGroup(streamId);
                c = counters = new StreamCounters(group.counter("records"), group.counter("eventsIn"),
                        group.counter("eventsSampledOut"));
            }
            return c;
        }
    }

    private record StreamCounters(Counter records, Counter eventsIn, Counter sampledOut) {}

    private MetricGroup streamGroup(long streamId) {
        return streamGroups.computeIfAbsent(streamId, id -> metrics.addGroup("stream", String.valueOf(id)));
    }

    private static boolean isMissing(String value) {
        return value == null || value.isEmpty() || "-".equals(value);
    }

    private void deadLetter(Context ctx, RawEvent event, Long streamId, String reason, String detail) {
        ctx.output(DEAD_LETTER, DeadLetterEvent.of(event, reason, detail));
        eventsDeadLettered.inc();
        deadLetteredByReason.computeIfAbsent(reason, r -> metrics.addGroup("reason", r).counter("eventsDeadLettered"))
                .inc();
        if (streamId != null) {
            streamDeadLettered.computeIfAbsent(streamId + "/" + reason,
                    k -> streamGroup(streamId).addGroup("reason", reason).counter("recordsDeadLettered")).inc();
        }
        // The first of each reason (and stream) at WARN, the rest at DEBUG: bad input must not flood the log.
        boolean first = loggedDeadLetter.putIfAbsent(streamId + "/" + reason, Boolean.TRUE) == null;
        if (first || LOG.isDebugEnabled()) {
            try (LogFields f = LogFields.of(streamId, null, null)) {
                String line = "Event from {}[{}]@{} dead-lettered ({}): {}";
                Object[] args = {event.topic(), event.partition(), event.offset(), reason, detail};
                if (first) {
                    LOG.warn(line + (LOG.isDebugEnabled() ? "" : "; more of this reason only at DEBUG"), args);
                } else {
                    LOG.debug(line, args);
                }
            }
        }
    }
}
