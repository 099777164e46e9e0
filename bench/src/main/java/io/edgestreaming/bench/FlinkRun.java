package io.edgestreaming.bench;

import io.edgestreaming.bench.ExactlyOnceCheck.Verification;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.jobgraph.JobGraph;

/**
 * A Flink reader's run in the end-to-end benchmark (the job or the stock pipeline), from submission to delivery and
 * the check of its outputs, and its figures: rate, CPU and GC between the 10% and 90% marks, pauses of the source,
 * heap, checkpoints.
 */
final class FlinkRun {
    record Result(String name, double rate, double seconds, double cpuPerM, double brokerCpuPerM,
            Map<String, Long> cpuGroups, long windowEvents, long maxPauseMs, double pauseAtSeconds, long maxPauseAllMs,
            double busy, double backPressured, double idle, double gcPercent, long peakHeapAfterGc, long heapBefore,
            long heapEnd, long receiverBytes, FlinkRest.Checkpoints checkpoints, long submitEpochMillis,
            double settleSeconds, List<String> verification, boolean exactlyOnce, String profile, String pauseContext,
            List<Long> bytesRead, double maxWrittenPerRead) {}

    private final BenchCluster cluster;
    private final Probe probe;
    private final GcWatcher gcWatcher;
    private final Profiler profiler;
    private final EndToEndBench.Options options;
    private final Corpus corpus;
    private final EndToEndReport report;
    private final Consumer<String> print;
    /** Whether this round's Flink runs are profiled (the last round, on the warmest JVM). */
    boolean profiling;

    FlinkRun(BenchCluster cluster, Probe probe, GcWatcher gcWatcher, Profiler profiler, EndToEndBench.Options options,
            Corpus corpus, EndToEndReport report, Consumer<String> print) {
        this.cluster = cluster;
        this.probe = probe;
        this.gcWatcher = gcWatcher;
        this.profiler = profiler;
        this.options = options;
        this.corpus = corpus;
        this.report = report;
        this.print = print;
    }

    /**
     * Submits a job, samples it every 100 ms until it has read the whole backlog, then waits until it has delivered
     * everything (the metric condition, and two more completed checkpoints), checks the endpoints, and cancels it.
     */
    Result measure(String name, String run, JobGraph graph, Duration settleAtLeast,
            BooleanSupplier deliveredCondition, Function<Integer, Verification> verify,
            LongSupplier receiverBytes) throws Exception {
        long n = corpus.events;
        System.gc();
        long heapBefore = BenchEnv.heapUsed();
        long submitEpoch = System.currentTimeMillis();
        long submitNanos = System.nanoTime();
        JobID jobId = cluster.mini.submitJob(graph).get(60, TimeUnit.SECONDS).getJobID();
        String id = jobId.toString();
        print.accept(name + ": submitted job " + id);

        record Sample(long nanos, long events, double busy, double backPressured, double idle) {}
        List<Sample> samples = new ArrayList<>();
        Probe.Snapshot s10 = null;
        Probe.Snapshot s90 = null;
        long peakHeap = -1;
        String profile = null;
        long deadline = submitNanos + TimeUnit.SECONDS.toNanos(Math.max(300, n / 500));
        long nextStatus = 0;
        while (true) {
            long now = System.nanoTime();
            if (now >= nextStatus) {
                cluster.checkRunning(jobId);
                nextStatus = now + TimeUnit.SECONDS.toNanos(1);
            }
            long events = (long) BenchMetrics.sum("eventsRead", e -> id.equals(e.jobId()));
            samples.add(new Sample(now, events, sourceGauge(id, "busyTimeMsPerSecond"),
                    sourceGauge(id, "backPressuredTimeMsPerSecond"), sourceGauge(id, "idleTimeMsPerSecond")));
            if (s10 == null && events >= n / 10) {
                s10 = probe.snapshot(events);
                gcWatcher.open();
                if (profiling) {
                    profiler.start();
                }
                print.accept(String.format(Locale.ROOT, "  10%% read after %.1f s", (now - submitNanos) / 1e9));
            }
            if (s90 == null && events >= n * 9 / 10) {
                s90 = probe.snapshot(events);
                peakHeap = gcWatcher.close();
                if (profiling) {
                    profile = profiler.stop(options.output().resolve("profile-" + options.profile() + "-"
                            + name.replaceAll("[^a-z]+", "-").replaceAll("^-|-$", "") + "-" + run + ".collapsed"), 25);
                }
                logThreads(s10, s90);
                print.accept(String.format(Locale.ROOT, "  90%% read after %.1f s", (now - submitNanos) / 1e9));
            }
            if (events >= n) {
                break;
            }
            if (now > deadline) {
                throw new IllegalStateException(name + " read " + events + " of " + n + " events before the deadline");
            }
            Thread.sleep(100);
        }
        long allRead = System.nanoTime();
        print.accept(String.format(Locale.ROOT, "  100%% read after %.1f s", (allRead - submitNanos) / 1e9));

        // Delivered: the condition holds, at least settleAtLeast after the last event (open blocks are cut by their
        // max_interval timer), and two more checkpoints completed (their transactions and deliveries are done).
        long checkpointsAtEnd = completedCheckpoints(id);
        long settleDeadline = allRead + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < allRead + settleAtLeast.toNanos() || !deliveredCondition.getAsBoolean()
                || completedCheckpoints(id) < checkpointsAtEnd + 2) {
            cluster.checkRunning(jobId);
            if (System.nanoTime() > settleDeadline) {
                throw new IllegalStateException(name + ": not everything delivered 5 minutes after the last event");
            }
            Thread.sleep(200);
        }
        Thread.sleep(1000);
        double settle = (System.nanoTime() - allRead) / 1e9;
        FlinkRest.Checkpoints checkpoints = cluster.rest.checkpoints(id);
        System.gc();
        long heapEnd = BenchEnv.heapUsed();
        long held = receiverBytes.getAsLong();

        Verification v = verify.apply(1);
        for (int attempt = 2; !v.exactlyOnce() && v.onlyMissing() && attempt <= 6; attempt++) {
            print.accept("  not everything there yet, checking again in 3 s");
            Thread.sleep(3000);
            v = verify.apply(attempt);
        }
        cluster.cancel(jobId);

        // The figures.
        double window = (s90.nanos() - s10.nanos()) / 1e9;
        long windowEvents = s90.events() - s10.events();
        int i10 = 0;
        while (samples.get(i10).events() < s10.events()) {
            i10++;
        }
        int i90 = i10;
        while (samples.get(i90).events() < s90.events()) {
            i90++;
        }
        long[] pause = Figures.longestPause(samples.stream().map(Sample::nanos).toList(),
                samples.stream().map(Sample::events).toList(), i10, i90);
        int first = 0;
        while (samples.get(first).events() == 0) {
            first++;
        }
        long[] pauseAll = Figures.longestPause(samples.stream().map(Sample::nanos).toList(),
                samples.stream().map(Sample::events).toList(), first, samples.size() - 1);
        double busy = 0;
        double bp = 0;
        double idle = 0;
        int count = 0;
        for (int i = i10; i <= i90; i++) {
            Sample s = samples.get(i);
            if (!Double.isNaN(s.busy())) {
                busy += s.busy();
                bp += s.backPressured();
                idle += s.idle();
                count++;
            }
        }
        // Raw bytes read between each checkpoint's trigger and the previous completed one's (the first: the submit's),
        // and the largest share of them a checkpoint triggered between the 10% and 90% marks wrote.
        List<Long> nanos = samples.stream().map(Sample::nanos).toList();
        List<Long> read = samples.stream().map(Sample::events).toList();
        double bytesPerEvent = (double) corpus.bytes / corpus.events;
        List<Long> bytesRead = new ArrayList<>();
        double maxWrittenPerRead = Double.NaN;
        double before = 0;
        for (FlinkRest.Checkpoint c : checkpoints.history()) {
            long trigger = submitNanos + (c.triggerMillis() - submitEpoch) * 1_000_000;
            double at = Figures.eventsAt(nanos, read, trigger);
            long bytes = Math.round((at - before) * bytesPerEvent);
            bytesRead.add(bytes);
            before = at;
            if (trigger >= s10.nanos() && trigger <= s90.nanos() && bytes > 0) {
                double ratio = (double) c.checkpointedSize() / bytes;
                maxWrittenPerRead = Double.isNaN(maxWrittenPerRead) ? ratio : Math.max(maxWrittenPerRead, ratio);
            }
        }
        Result r = new Result(name, windowEvents / window, (allRead - submitNanos) / 1e9,
                Figures.cpuPerMillion(s90.processCpu() - s10.processCpu(), windowEvents),
                s10.brokerCpu() < 0 ? Double.NaN : Figures.cpuPerMillion(s90.brokerCpu() - s10.brokerCpu(), windowEvents),
                Probe.cpuByGroup(s10, s90), windowEvents, pause[0] / 1_000_000,
                (pause[1] - submitNanos) / 1e9, pauseAll[0] / 1_000_000,
                count == 0 ? Double.NaN : busy / count / 10, count == 0 ? Double.NaN : bp / count / 10,
                count == 0 ? Double.NaN : idle / count / 10,
                100.0 * (s90.gcMillis() - s10.gcMillis()) / (window * 1000), peakHeap, heapBefore, heapEnd, held,
                checkpoints, submitEpoch, settle, v.lines(), v.exactlyOnce(), profile,
                pauseContext(checkpoints, submitEpoch + (pause[1] - submitNanos) / 1_000_000, pause[0] / 1_000_000),
                bytesRead, maxWrittenPerRead);
        report.flinkResult(r);
        return r;
    }

    /** The checkpoints in progress during a pause (epoch millis), e.g. "during checkpoint 3 (sync 1,813 ms)". */
    private static String pauseContext(FlinkRest.Checkpoints checkpoints, long startMillis, long lengthMillis) {
        List<String> during = new ArrayList<>();
        for (FlinkRest.Checkpoint c : checkpoints.history()) {
            if (c.triggerMillis() <= startMillis + lengthMillis && c.triggerMillis() + c.duration() >= startMillis) {
                during.add(String.format(Locale.ROOT, "checkpoint %d (sync up to %,d ms)", c.id(), c.maxSync()));
            }
        }
        return during.isEmpty() ? "no checkpoint in progress" : "during " + String.join(", ", during);
    }

    private static long completedCheckpoints(String jobId) {
        return (long) BenchMetrics.sum("numberOfCompletedCheckpoints", e -> jobId.equals(e.jobId()));
    }

    /** A task gauge of the source task (busy, back-pressured, idle ms per second), averaged over its subtasks. */
    private static double sourceGauge(String jobId, String name) {
        return BenchMetrics.average(name, e -> jobId.equals(e.jobId()) && e.task() != null
                && e.task().startsWith("Source"));
    }

    private static void logThreads(Probe.Snapshot from, Probe.Snapshot to) {
        List<Map.Entry<Long, Long>> deltas = new ArrayList<>();
        for (Map.Entry<Long, Long> e : to.threadCpu().entrySet()) {
            deltas.add(Map.entry(e.getKey(), e.getValue() - from.threadCpu().getOrDefault(e.getKey(), 0L)));
        }
        deltas.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
        StringBuilder sb = new StringBuilder("CPU by thread between 10% and 90%:");
        for (int i = 0; i < Math.min(40, deltas.size()); i++) {
            String thread = to.names().get(deltas.get(i).getKey());
            sb.append(String.format(Locale.ROOT, "%n  %8.3f s  %-22s %s", deltas.get(i).getValue() / 1e9,
                    Probe.group(thread), thread));
        }
        EndToEndBench.log().info(sb.toString());
    }
}
