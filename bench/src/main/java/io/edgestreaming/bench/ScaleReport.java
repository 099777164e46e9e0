package io.edgestreaming.bench;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/** The scale benchmark's figures, printed as they come: one section per phase, the resources as a table. */
final class ScaleReport {
    /** What the JVM held at one moment; {@code pairs}: destinations delivered to, per subtask, by endpoint type. */
    record Snapshot(long heap, Map<String, Integer> threads, Map<String, Integer> connections, int fds, int maps,
            Map<BenchMetrics.SeriesKey, Long> metrics, Map<Streams.Kind, Integer> pairs, Map<String, long[]> classes) {

        long metrics(String scope) {
            return metrics.entrySet().stream().filter(e -> e.getKey().scope().equals(scope)).mapToLong(Map.Entry::getValue)
                    .sum();
        }

        /** As a Prometheus reporter lists them: a histogram is 7 series (6 quantiles and a count). */
        long series(String scope) {
            return metrics.entrySet().stream().filter(e -> scope == null || e.getKey().scope().equals(scope))
                    .mapToLong(e -> e.getKey().kind().equals("histogram") ? 7 * e.getValue() : e.getValue()).sum();
        }

        int pairCount() {
            return pairs.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    /** The (destination, subtask) pairs of a running job by endpoint type: its destinations' metric groups. */
    static Map<Streams.Kind, Integer> pairs(String jobId) {
        Map<Streams.Kind, Integer> out = new EnumMap<>(Streams.Kind.class);
        for (Streams.Kind k : Streams.Kind.values()) {
            out.put(k, 0);
        }
        for (BenchMetrics.Entry e : BenchMetrics.entries()) {
            // The job's own dead-letter topic is no tenant's destination.
            if (jobId.equals(e.jobId()) && e.destination() != null && e.name().equals("deliveredBlocks")
                    && !e.destination().startsWith("kafka-dead-letters:")) {
                Streams.Kind kind = e.destination().startsWith("kafka:") ? Streams.Kind.KAFKA
                        : e.destination().startsWith("s3:") ? Streams.Kind.S3 : Streams.Kind.HTTP;
                out.merge(kind, 1, Integer::sum);
            }
        }
        return out;
    }

    private final Consumer<String> print;
    private final Tenants tenants;
    private final int parallelism;

    ScaleReport(Consumer<String> print, Tenants tenants, int parallelism) {
        this.print = print;
        this.tenants = tenants;
        this.parallelism = parallelism;
    }

    void configAtScale(List<ConfigAtScale.Figures> rounds) {
        int n = tenants.specs.size();
        print.accept("");
        print.accept(String.format(Locale.ROOT, "== configuration at scale: %,d streams loaded and validated"
                + " (ConfigLoader), endpoints checked (the transports), routed (StreamRouter), templates compiled", n));
        for (int i = 0; i < rounds.size(); i++) {
            ConfigAtScale.Figures f = rounds.get(i);
            print.accept(String.format(Locale.ROOT, "  %s: load + validate %,.0f ms, endpoint checks %,.0f ms, router %,.0f ms,"
                            + " templates %,.0f ms; retained heap %s + %s + %s", i == 0 ? "cold " : "warm " + i,
                    f.loadMillis(), f.endpointChecksMillis(), f.routerMillis(), f.templatesMillis(), mb(f.configHeap()),
                    mb(f.routerHeap()), mb(f.templatesHeap())));
        }
        ConfigAtScale.Figures last = rounds.get(rounds.size() - 1);
        print.accept(String.format(Locale.ROOT, "  per stream: configuration %,d B, router %,d B, compiled template %,d B"
                        + " (every parse-and-route subtask holds a router and the templates)", last.configHeap() / n,
                last.routerHeap() / n, last.templatesHeap() / n));
    }

    void graphSize(GraphSize full, GraphSize small, int smallStreams) {
        print.accept("");
        print.accept(String.format(Locale.ROOT, "== job graph: serialized %s with %,d streams, %s with %,d: the"
                        + " configuration is %s of it (%,d B per stream)", mb(full.bytes()), tenants.specs.size(),
                mb(small.bytes()), smallStreams, mb(full.bytes() - small.bytes()),
                (full.bytes() - small.bytes()) / (tenants.specs.size() - smallStreams)));
        for (GraphSize.Vertex v : full.vertices()) {
            GraphSize.Vertex s = small.vertex(v.name());
            print.accept(String.format(Locale.ROOT, "  vertex %-60s %10s (%s with %d streams)", FlinkRest.shortName(v.name()),
                    mb(v.bytes()), s == null ? "-" : mb(s.bytes()), smallStreams));
            v.operators().forEach((name, bytes) -> {
                Long was = s == null ? null : s.operators().get(name);
                print.accept(String.format(Locale.ROOT, "    operator %-56s %10s (%s)", name, mb(bytes),
                        was == null ? "-" : mb(was)));
            });
        }
    }

    void startup(ScaleRun idle, ScaleRun job) {
        print.accept("");
        print.accept("== start (seconds from submission; the last subtask to get there)");
        print.accept("| job | RUNNING | deploying | initializing (state, operators open) | all subtasks RUNNING |"
                + " first checkpoint |");
        print.accept("| --- | ---: | ---: | ---: | ---: | ---: |");
        for (ScaleRun r : List.of(idle, job)) {
            print.accept(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1f | %.1f |", r == idle
                    ? "idle (no backlog)" : "over the backlog", r.jobRunning, r.lastDeploying, r.lastInitializing,
                    r.allRunning, r.firstCheckpoint));
        }
    }

    void throughput(ScaleRun job, ScaleCorpus corpus) {
        print.accept("");
        if (job.nanosAll == 0) {
            print.accept("== throughput: the backlog was not read");
            return;
        }
        print.accept(String.format(Locale.ROOT, "== throughput: %,.0f events/s between 10%% and 90%% of the backlog (%,d"
                        + " events, %.1f MB, %.2f records per event); all read %.1f s after submission, %s", job.rate(),
                corpus.events, corpus.bytes / 1e6, (double) corpus.expectedRecords / corpus.events, job.readSeconds(),
                job.settleSeconds > 0 ? String.format(Locale.ROOT, "all delivered %.1f s later", job.settleSeconds)
                        : "not all delivered"));
    }

    void resources(Snapshot before, Snapshot idle, Snapshot after, Resources.Peaks peaks, long heldByReceivers) {
        Map<Streams.Kind, Integer> pairs = after.pairs();
        print.accept("");
        print.accept(String.format(Locale.ROOT, "== resources of this JVM (the TaskManager, the HTTP receiver and s3proxy;"
                        + " the broker runs apart). Destinations delivered to, per subtask (destination x subtask pairs):"
                        + " HTTP %,d, Kafka %,d, S3 %,d, of %,d destinations x %d subtasks",
                pairs.getOrDefault(Streams.Kind.HTTP, 0), pairs.getOrDefault(Streams.Kind.KAFKA, 0),
                pairs.getOrDefault(Streams.Kind.S3, 0), tenants.destinations.size(), parallelism));
        print.accept("| | before any job | idle job (all streams, no traffic) | after the traffic | peak during the"
                + " traffic | per destination and subtask (after - idle; peak - idle) |");
        print.accept("| --- | ---: | ---: | ---: | ---: | --- |");
        long jobHeap = after.heap() - heldByReceivers - idle.heap();
        print.accept(String.format(Locale.ROOT, "| heap after GC | %s | %s | %s (%s without the receivers' copies) | - |"
                        + " %,d KB (idle job - before: %,d B per stream) |", mb(before.heap()), mb(idle.heap()),
                mb(after.heap()), mb(after.heap() - heldByReceivers), jobHeap / Math.max(1, after.pairCount()) >> 10,
                (idle.heap() - before.heap()) / tenants.specs.size()));
        Map<String, Integer> peakThreads = peaks.threads();
        for (String kind : after.threads().keySet()) {
            Streams.Kind type = threadType(kind);
            print.accept(row("threads: " + kind, before.threads().get(kind), idle.threads().get(kind),
                    after.threads().get(kind), peakThreads.getOrDefault(kind, 0), type == null ? null : pairs.get(type),
                    type));
        }
        Map<String, Integer> peakConnections = peaks.connections();
        for (String server : after.connections().keySet()) {
            Streams.Kind type = server.startsWith("HTTP") ? Streams.Kind.HTTP : server.startsWith("Kafka")
                    ? Streams.Kind.KAFKA : server.startsWith("S3") ? Streams.Kind.S3 : null;
            print.accept(row("TCP connections: " + (server.equals("total") ? "all established" : "to the " + server),
                    before.connections().get(server), idle.connections().get(server), after.connections().get(server),
                    peakConnections.getOrDefault(server, 0), type == null ? null : pairs.get(type), type));
        }
        print.accept(row("file descriptors", before.fds(), idle.fds(), after.fds(), peaks.fileDescriptors(), null, null));
        print.accept(row("memory mappings (/proc/self/maps)", before.maps(), idle.maps(), after.maps(),
                peaks.memoryMappings(), null, null));
        long streamsBySubtask = (long) tenants.specs.size() * parallelism;
        print.accept(String.format(Locale.ROOT, "| metrics: per stream | - | %,d | %,d | - | %.1f per stream and subtask |",
                idle.metrics("stream"), after.metrics("stream"), (double) idle.metrics("stream") / streamsBySubtask));
        print.accept(String.format(Locale.ROOT, "| metrics: per destination | - | %,d | %,d | - | %.1f |",
                idle.metrics("destination"), after.metrics("destination"),
                (double) after.metrics("destination") / Math.max(1, after.pairCount())));
        print.accept(String.format(Locale.ROOT, "| metrics: other (operators, tasks, job) | - | %,d | %,d | - | - |",
                idle.metrics("other"), after.metrics("other")));
        print.accept(String.format(Locale.ROOT, "| series a Prometheus scrape lists (a histogram is 7) | - | %,d | %,d | - |"
                        + " %.1f per stream and subtask, %.1f per destination and subtask |", idle.series(null),
                after.series(null), (double) idle.series("stream") / streamsBySubtask,
                (double) after.series("destination") / Math.max(1, after.pairCount())));
        print.accept(String.format(Locale.ROOT, "  (metric registrations by scope and kind after the traffic: %s)",
                after.metrics()));
    }

    /** The classes whose live bytes grew most from one snapshot to the next; per {@code per} unit (e.g. a stream). */
    void heapGrowth(String title, Snapshot from, Snapshot to, int top, long per, String unit) {
        List<Map.Entry<String, long[]>> growth = new ArrayList<>();
        to.classes().forEach((name, v) -> {
            long[] was = from.classes().getOrDefault(name, new long[2]);
            growth.add(Map.entry(name, new long[] {v[0] - was[0], v[1] - was[1]}));
        });
        growth.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
        long total = growth.stream().mapToLong(e -> e.getValue()[1]).sum();
        print.accept(String.format(Locale.ROOT, "  live objects, %s: %s in all (%,d B per %s); the classes that grew most:",
                title, mb(total), total / Math.max(1, per), unit));
        for (Map.Entry<String, long[]> e : growth.subList(0, Math.min(top, growth.size()))) {
            print.accept(String.format(Locale.ROOT, "    %10s %,10d objects  %,8d B per %s  %s", mb(e.getValue()[1]),
                    e.getValue()[0], e.getValue()[1] / Math.max(1, per), unit, e.getKey()));
        }
    }

    private static Streams.Kind threadType(String kind) {
        return kind.startsWith("kafka-") ? Streams.Kind.KAFKA : kind.startsWith("HttpClient") || kind.startsWith("http-")
                ? Streams.Kind.HTTP : kind.startsWith("s3-") || kind.startsWith("sdk-") ? Streams.Kind.S3 : null;
    }

    /** {@code peak}: the sampled one, or the count after the traffic if higher (sampled once a second). */
    private static String row(String what, int before, int idle, int after, int sampledPeak, Integer pairs,
            Streams.Kind type) {
        int peak = Math.max(sampledPeak, after);
        String per = pairs == null || pairs == 0 ? "-" : String.format(Locale.ROOT, "%.2f; %.2f (%s)",
                (double) (after - idle) / pairs, (double) (peak - idle) / pairs, type);
        return String.format(Locale.ROOT, "| %s | %,d | %,d | %,d | %,d | %s |", what, before, idle, after, peak, per);
    }

    void checkpoints(FlinkRest.Checkpoints cps, long submitEpochMillis) {
        List<FlinkRest.Checkpoint> list = cps.history();
        print.accept("");
        if (list.isEmpty()) {
            print.accept("== checkpoints: none completed");
            return;
        }
        long[] sizes = list.stream().mapToLong(FlinkRest.Checkpoint::stateSize).sorted().toArray();
        long[] durations = list.stream().mapToLong(FlinkRest.Checkpoint::duration).sorted().toArray();
        FlinkRest.Checkpoint sync = list.stream().max((a, b) -> Long.compare(a.maxSync(), b.maxSync())).orElseThrow();
        FlinkRest.Checkpoint async = list.stream().max((a, b) -> Long.compare(a.maxAsync(), b.maxAsync())).orElseThrow();
        print.accept(String.format(Locale.ROOT, "== checkpoints: %d completed, %d failed%s; size median %s, largest %s;"
                        + " duration median %,d ms, longest %,d ms; slowest synchronous part %,d ms (%s), asynchronous %,d ms"
                        + " (%s)", cps.completed(), cps.failed(), cps.failed() > cps.failedInHistory() ? " ("
                        + (cps.failed() - cps.failedInHistory()) + " not in the history: a trigger that failed before the"
                        + " checkpoint started)" : "", mb(sizes[sizes.length / 2]), mb(sizes[sizes.length - 1]),
                durations[durations.length / 2], durations[durations.length - 1], sync.maxSync(), sync.maxSyncVertex(),
                async.maxAsync(), async.maxAsyncVertex()));
        List<String> each = new ArrayList<>();
        for (FlinkRest.Checkpoint c : list) {
            each.add(String.format(Locale.ROOT, "%d@%.0fs %s %,dms", c.id(), (c.triggerMillis() - submitEpochMillis) / 1000.0,
                    mb(c.stateSize()), c.duration()));
        }
        print.accept("  each (id@trigger size duration): " + String.join(", ", each));
    }

    static String mb(long bytes) {
        return Math.abs(bytes) < 10_000_000 ? String.format(Locale.ROOT, "%.2f MB", bytes / 1e6)
                : String.format(Locale.ROOT, "%,.0f MB", bytes / 1e6);
    }
}
