package io.edgestreaming.bench;

import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The end-to-end benchmark's figures as printed: each reader's lines of a round, then the summary (a markdown table of
 * the medians over the rounds) and the job's ratios to the raw consumer and to the stock pipeline.
 */
final class EndToEndReport {
    private final Consumer<String> print;
    private final EndToEndBench.Options options;
    private final Corpus corpus;

    EndToEndReport(Consumer<String> print, EndToEndBench.Options options, Corpus corpus) {
        this.print = print;
        this.options = options;
        this.corpus = corpus;
    }

    void raw(RawReader.Result r) {
        print(String.format(Locale.ROOT, "raw KafkaConsumer: %,d events (%.1f MB) in %.2f s; 10%%-90%%: %,.0f events/s,"
                        + " %.1f MB/s; CPU per million events: %.2f s this JVM, %s broker", r.events(), r.bytes() / 1e6,
                r.seconds(), r.rate(), r.mbPerSecond(), r.cpuPerM(), brokerCpu(r.brokerCpuPerM())));
    }

    void flinkResult(FlinkRun.Result r) {
        print(String.format(Locale.ROOT, "%s: %,d events read in %.1f s, delivered %.1f s later; 10%%-90%%: %,.0f events/s",
                r.name(), corpus.events, r.seconds(), r.settleSeconds(), r.rate()));
        print(String.format(Locale.ROOT, "  CPU per million events: %.2f s this JVM (%s), %s broker; GC %.1f%% of the"
                + " window", r.cpuPerM(), groups(r.cpuGroups(), r.windowEvents()), brokerCpu(r.brokerCpuPerM()),
                r.gcPercent()));
        print(String.format(Locale.ROOT, "  source: longest pause %,d ms between 10%% and 90%% (at %.1f s, %s), %,d ms"
                        + " from the first event to the last; busy %.0f%%, back-pressured %.0f%%, idle %.0f%% (task metrics,"
                        + " 10%%-90%%)", r.maxPauseMs(), r.pauseAtSeconds(), r.pauseContext(), r.maxPauseAllMs(), r.busy(),
                r.backPressured(), r.idle()));
        print(String.format(Locale.ROOT, "  heap after GC: %s during 10%%-90%% (GC notifications); %,d MB after"
                        + " System.gc() at the end (%,d MB before the job; the receivers hold %,d MB of delivered output)",
                r.peakHeapAfterGc() < 0 ? "no GC"
                        : String.format(Locale.ROOT, "at most %,d MB", r.peakHeapAfterGc() >> 20),
                r.heapEnd() >> 20, r.heapBefore() >> 20, r.receiverBytes() >> 20));
        FlinkRest.Checkpoints cps = r.checkpoints();
        print(String.format(Locale.ROOT, "  checkpoints: %d completed, %d failed%s", cps.completed(), cps.failed(),
                cps.failed() > cps.failedInHistory() ? " (" + (cps.failed() - cps.failedInHistory()) + " not in the"
                        + " checkpoint history: a trigger that failed before the checkpoint started)" : ""));
        // "written": what this checkpoint uploaded (less than its state with incremental RocksDB/ForSt checkpoints);
        // "read MB": raw event bytes read since the previous checkpoint's trigger (the first: since the submit).
        print("      id   at s     state   written  read MB written/read     e2e ms  max sync ms (subtask)"
                + "                        max async ms  align ms");
        for (int i = 0; i < cps.history().size(); i++) {
            FlinkRest.Checkpoint c = cps.history().get(i);
            long read = r.bytesRead().get(i);
            print(String.format(Locale.ROOT, "    %4d %6.1f %9s %9s %8.1f %12s %8d  %6d  %-40s %8d %8d", c.id(),
                    (c.triggerMillis() - r.submitEpochMillis()) / 1000.0, mb(c.stateSize()), mb(c.checkpointedSize()),
                    read / 1e6, read > 0 ? percent((double) c.checkpointedSize() / read) : "-", c.duration(),
                    c.maxSync(), cut(c.maxSyncVertex(), 40), c.maxAsync(), c.maxAlignment()));
        }
        print("  exactly once:");
        r.verification().forEach(l -> print("    " + l));
        print("    => " + (r.exactlyOnce() ? "every record exactly once" : "NOT EXACTLY ONCE"));
        if (r.profile() != null) {
            print("  profile (async-profiler " + options.profile() + ", 10%-90%):");
            print(r.profile().stripTrailing());
        }
    }

    void summary(List<RawReader.Result> raws, Map<String, List<FlinkRun.Result>> jobsByBackend,
            List<FlinkRun.Result> stocks, Duration took) {
        double raw = Figures.median(raws.stream().mapToDouble(RawReader.Result::rate).toArray());
        double rawMb = Figures.median(raws.stream().mapToDouble(RawReader.Result::mbPerSecond).toArray());
        double stock = Figures.median(stocks.stream().mapToDouble(FlinkRun.Result::rate).toArray());
        double mbPerEvent = corpus.bytes / 1e6 / corpus.events;
        print("");
        print(String.format(Locale.ROOT, "== summary (%s, %d round(s): rates and CPU are medians over the rounds; pause,"
                        + " checkpoints and heap are those of the round with the median rate; %,d events, %.0f B per event"
                        + " on average, parallelism %d, load average %s, took %d min %d s)", LocalDate.now(), options.rounds(),
                corpus.events, mbPerEvent * 1e6, options.parallelism(), BenchEnv.loadAverage(), took.toMinutes(),
                took.toSecondsPart()));
        print("");
        print("| reader | events/s (10%-90%) | MB/s | CPU-s per M events (this JVM / broker) | longest source pause |"
                + " checkpoints: max written / max duration / max sync part | max written/read of the checkpoints"
                + " triggered between the 10% and 90% marks | heap after GC (peak / end) | exactly once |");
        print("| --- | ---: | ---: | --- | ---: | --- | ---: | --- | --- |");
        print(String.format(Locale.ROOT, "| raw KafkaConsumer (read_committed) | %,.0f | %.1f | %.2f / %s | - | - | - | - | - |",
                raw, rawMb, Figures.median(raws.stream().mapToDouble(RawReader.Result::cpuPerM).toArray()),
                brokerCpu(Figures.median(raws.stream().mapToDouble(RawReader.Result::brokerCpuPerM).toArray()))));
        List<List<FlinkRun.Result>> rows = new ArrayList<>(jobsByBackend.values());
        rows.add(stocks);
        for (List<FlinkRun.Result> list : rows) {
            FlinkRun.Result m = list.stream().sorted(Comparator.comparingDouble(FlinkRun.Result::rate)).toList()
                    .get(list.size() / 2);
            long maxState = 0;
            long maxDuration = 0;
            long maxSync = 0;
            String syncWhere = "";
            for (FlinkRest.Checkpoint c : m.checkpoints().history()) {
                maxState = Math.max(maxState, c.checkpointedSize());
                maxDuration = Math.max(maxDuration, c.duration());
                if (c.maxSync() > maxSync) {
                    maxSync = c.maxSync();
                    syncWhere = c.maxSyncVertex();
                }
            }
            print(String.format(Locale.ROOT, "| %s | %,.0f | %.1f | %.2f / %s | %,d ms | %s / %,d ms / %,d ms (%s) |"
                            + " %s | %s / %,d MB | %s |", m.name(),
                    Figures.median(list.stream().mapToDouble(FlinkRun.Result::rate).toArray()),
                    Figures.median(list.stream().mapToDouble(FlinkRun.Result::rate).toArray()) * mbPerEvent,
                    Figures.median(list.stream().mapToDouble(FlinkRun.Result::cpuPerM).toArray()),
                    brokerCpu(Figures.median(list.stream().mapToDouble(FlinkRun.Result::brokerCpuPerM).toArray())),
                    m.maxPauseMs(), mb(maxState), maxDuration, maxSync, syncWhere,
                    Double.isNaN(m.maxWrittenPerRead()) ? "-" : percent(m.maxWrittenPerRead()),
                    m.peakHeapAfterGc() < 0 ? "-" : (m.peakHeapAfterGc() >> 20) + " MB", m.heapEnd() >> 20,
                    list.stream().allMatch(FlinkRun.Result::exactlyOnce) ? "yes" : "NO"));
        }
        for (Map.Entry<String, List<FlinkRun.Result>> e : jobsByBackend.entrySet()) {
            ratios(jobsByBackend.size() > 1 ? " (" + e.getKey() + ")" : "", raws, e.getValue(), stocks, raw, stock);
        }
    }

    private void ratios(String label, List<RawReader.Result> raws, List<FlinkRun.Result> jobs,
            List<FlinkRun.Result> stocks, double raw, double stock) {
        double job = Figures.median(jobs.stream().mapToDouble(FlinkRun.Result::rate).toArray());
        print("");
        double[] jobRaw = new double[jobs.size()];
        double[] jobStock = new double[jobs.size()];
        for (int i = 0; i < jobs.size(); i++) {
            jobRaw[i] = jobs.get(i).rate() / raws.get(i).rate();
            jobStock[i] = jobs.get(i).rate() / stocks.get(i).rate();
        }
        print(String.format(Locale.ROOT, "job%s / raw   = %.3fx (median of the rounds' ratios; %.3fx from the medians)",
                label, Figures.median(jobRaw), job / raw));
        print(String.format(Locale.ROOT, "job%s / stock = %.2fx (median of the rounds' ratios; %.2fx from the medians)",
                label, Figures.median(jobStock), job / stock));
        if (options.rounds() > 1) {
            print("per round (events/s): raw " + rates(raws.stream().mapToDouble(RawReader.Result::rate).toArray())
                    + " | job " + rates(jobs.stream().mapToDouble(FlinkRun.Result::rate).toArray()) + " | stock "
                    + rates(stocks.stream().mapToDouble(FlinkRun.Result::rate).toArray()));
            print("per round (ratios): job / raw " + ratios(jobRaw, 3) + " | job / stock " + ratios(jobStock, 2));
        }
    }

    private static String ratios(double[] values, int decimals) {
        List<String> out = new ArrayList<>();
        for (double v : values) {
            out.add(String.format(Locale.ROOT, "%." + decimals + "fx", v));
        }
        return String.join(", ", out);
    }

    private static String rates(double[] values) {
        List<String> out = new ArrayList<>();
        for (double v : values) {
            out.add(String.format(Locale.ROOT, "%,.0f", v));
        }
        return String.join(", ", out);
    }

    private static String groups(Map<String, Long> groups, long events) {
        List<String> parts = new ArrayList<>();
        groups.forEach((g, ns) -> {
            if (ns > 0) {
                parts.add(String.format(Locale.ROOT, "%s %.2f", g, Figures.cpuPerMillion(ns, events)));
            }
        });
        return String.join(", ", parts);
    }

    private static String brokerCpu(double perM) {
        return Double.isNaN(perM) ? "n/a (in this JVM)" : String.format(Locale.ROOT, "%.2f s", perM);
    }

    private static String mb(long bytes) {
        return bytes < 10_000_000 ? String.format(Locale.ROOT, "%.1f MB", bytes / 1e6)
                : String.format(Locale.ROOT, "%.0f MB", bytes / 1e6);
    }

    /** A share as a percentage; two decimals below 1% (the stock pipeline checkpoints little more than offsets). */
    private static String percent(double share) {
        return String.format(Locale.ROOT, share < 0.01 ? "%.2f%%" : "%.1f%%", share * 100);
    }

    private static String cut(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "…";
    }

    private void print(String line) {
        print.accept(line);
    }
}
