package io.edgestreaming.templates.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;

/**
 * Companion to {@link ProjectionBenchmark} for a shared, noisy machine: JMH measures the three variants
 * one after the other, so a load change between them skews the ratios. This runs them in alternating
 * 100 ms slices, counts events per second of the thread's CPU time (time the cores spent on other
 * processes does not count), and reports the median of each and the ratios of the medians.
 *
 * <p>{@code java -cp templates/target/benchmarks.jar io.edgestreaming.templates.bench.InterleavedRatio [rounds]}
 */
public final class InterleavedRatio {
    private static long sink;

    private InterleavedRatio() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        ProjectionBenchmark b = new ProjectionBenchmark();
        b.setup();
        String[] names = {"compiledProjection", "naiveTreeModel", "bareTokenize"};
        double[][] rates = new double[names.length][rounds];
        boolean only = args.length > 1; // e.g. "0": run only the listed variants (profiling)
        for (int round = -10; round < rounds; round++) { // 10 warm-up rounds
            for (int v = 0; v < names.length; v++) {
                if (only && !args[1].contains(Integer.toString(v))) {
                    continue;
                }
                double rate = slice(b, v);
                if (round >= 0) {
                    rates[v][round] = rate;
                }
            }
        }
        double[] medians = new double[names.length];
        StringBuilder out = new StringBuilder();
        for (int v = 0; v < names.length; v++) {
            double[] sorted = rates[v].clone();
            Arrays.sort(sorted);
            medians[v] = sorted[sorted.length / 2];
            out.append(String.format(Locale.ROOT, "%-20s median %,12.0f events/cpu-s  (p10 %,.0f, p90 %,.0f)%n",
                    names[v], medians[v], sorted[sorted.length / 10], sorted[sorted.length * 9 / 10]));
        }
        out.append(String.format(Locale.ROOT, "compiled / naive    = %.2fx (target >= 2)%n", medians[0] / medians[1]));
        out.append(String.format(Locale.ROOT, "compiled / tokenize = %.2fx (target >= 0.5)%n", medians[0] / medians[2]));
        // The benchmark's own output, like JMH's; the sink keeps the JIT from dropping the work.
        System.out.print(out);
        if (sink == 42) {
            System.out.println();
        }
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** Events per second of this thread's CPU time: other processes taking the cores do not count. */
    private static double slice(ProjectionBenchmark b, int variant) throws Exception {
        long cpuStart = THREADS.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        long deadline = start + 100_000_000L;
        long ops = 0;
        long now;
        do {
            for (int i = 0; i < 64; i++) {
                switch (variant) {
                    case 0 -> sink += b.compiledProjection().length;
                    case 1 -> sink += b.naiveTreeModel().length;
                    default -> sink += b.bareTokenize();
                }
            }
            ops += 64;
            now = System.nanoTime();
        } while (now < deadline);
        return ops * 1e9 / (THREADS.getCurrentThreadCpuTime() - cpuStart);
    }
}
