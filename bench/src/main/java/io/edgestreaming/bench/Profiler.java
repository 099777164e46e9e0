package io.edgestreaming.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import one.profiler.AsyncProfiler;
import one.profiler.Counter;

/**
 * CPU profile of one measured phase with async-profiler 2.9, the version flink-runtime depends on (Flink's own
 * REST profiler uses it): itimer sampling every 10 ms of CPU time, per thread, Java and native frames (GC, JIT,
 * kernel-side copies show up as native frames). Writes the collapsed stacks (input for any flame graph tool) and
 * returns the top frames by self time, by thread group, and the edge-streaming methods by inclusive time.
 */
final class Profiler {
    private final AsyncProfiler profiler;
    private final String event;

    private Profiler(AsyncProfiler profiler, String event) {
        this.profiler = profiler;
        this.event = event;
    }

    /** Null (with the reason printed) when the native library cannot be loaded here. */
    /**
     * @param event {@code itimer} (CPU time of every thread) or {@code wall} (wall-clock time of the task threads:
     *     where they wait, e.g. in a checkpoint's synchronous part)
     */
    static Profiler load(Path extractDir, String event) {
        try {
            System.setProperty("one.profiler.extractPath", extractDir.toString());
            return new Profiler(AsyncProfiler.getInstance(), event);
        } catch (Throwable e) {
            org.slf4j.LoggerFactory.getLogger(Profiler.class).warn("async-profiler unavailable ({}): running without profiles", e.toString());
            return null;
        }
    }

    void start() throws IOException {
        profiler.execute("start,event=" + event + ",interval=" + (event.equals("wall") ? "20ms" : "10ms") + ",threads");
    }

    /** Stops, writes the collapsed stacks to {@code file}, returns a summary. */
    String stop(Path file, int top) throws IOException {
        profiler.stop();
        String collapsed = profiler.dumpCollapsed(Counter.SAMPLES);
        Files.writeString(file, collapsed);
        return summarize(collapsed, top, event.equals("wall"));
    }

    static String summarize(String collapsed, int top, boolean tasksOnly) {
        Map<String, Long> self = new HashMap<>();
        Map<String, Long> ours = new HashMap<>();
        Map<String, Long> byGroup = new HashMap<>();
        long total = 0;
        for (String line : collapsed.split("\n")) {
            int space = line.lastIndexOf(' ');
            if (space < 0) {
                continue;
            }
            long samples = Long.parseLong(line.substring(space + 1).trim());
            String[] frames = line.substring(0, space).split(";");
            String thread = frames[0].startsWith("[") ? frames[0].replaceAll("^\\[(.*?)( tid=\\d+)?\\]$", "$1") : "?";
            if (tasksOnly && !(Probe.group(thread).equals("tasks") && thread.matches(".*\\(\\d+/\\d+\\)#\\d+")
                    && !thread.contains("Trigger for") && !thread.startsWith("OutputFlusher"))) {
                continue;
            }
            total += samples;
            byGroup.merge(tasksOnly ? thread : Probe.group(thread), samples, Long::sum);
            self.merge(frames[frames.length - 1], samples, Long::sum);
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (String f : frames) {
                if (f.startsWith("io/edgestreaming/") || f.startsWith("io.edgestreaming.")) {
                    String m = f.replace('/', '.').replaceAll("_\\[[a-z0-9]\\]$", "");
                    if (seen.add(m)) {
                        ours.merge(m, samples, Long::sum);
                    }
                }
            }
        }
        StringBuilder out = new StringBuilder();
        out.append(tasksOnly ? String.format(Locale.ROOT, "  %,d samples of the task threads (every 20 ms of wall-clock"
                + " time, running or waiting)%n", total)
                : String.format(Locale.ROOT, "  %,d samples (10 ms of CPU each)%n", total));
        out.append(tasksOnly ? "  by task thread:\n" : "  by thread group:\n");
        appendTop(out, byGroup, total, 10);
        out.append("  top frames by self time:\n");
        appendTop(out, self, total, top);
        out.append("  edge-streaming methods by inclusive time:\n");
        appendTop(out, ours, total, top);
        return out.toString();
    }

    private static void appendTop(StringBuilder out, Map<String, Long> counts, long total, int top) {
        List<Map.Entry<String, Long>> list = new ArrayList<>(counts.entrySet());
        list.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
        for (int i = 0; i < Math.min(top, list.size()); i++) {
            out.append(String.format(Locale.ROOT, "    %5.1f%%  %s%n", 100.0 * list.get(i).getValue() / Math.max(1, total),
                    list.get(i).getKey().replace('/', '.')));
        }
    }
}
