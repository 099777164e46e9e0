package io.edgestreaming.bench;

import java.util.Arrays;
import java.util.List;

/** The end-to-end benchmark's arithmetic: CPU per million events, medians over rounds, counts between samples. */
final class Figures {
    private Figures() {}

    static double cpuPerMillion(long nanos, long events) {
        return nanos / 1e9 / events * 1e6;
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /**
     * The count at a moment (nanoTime), interpolated linearly between the two samples around it: a checkpoint's trigger
     * falls anywhere in a 100 ms sampling gap, and at 100k+ events/s the nearest sample would be off by thousands.
     * Before the first sample and after the last, theirs.
     */
    static double eventsAt(List<Long> nanos, List<Long> events, long at) {
        if (at <= nanos.get(0)) {
            return events.get(0);
        }
        for (int i = 1; i < nanos.size(); i++) {
            if (at <= nanos.get(i)) {
                double f = (double) (at - nanos.get(i - 1)) / (nanos.get(i) - nanos.get(i - 1));
                return events.get(i - 1) + f * (events.get(i) - events.get(i - 1));
            }
        }
        return events.get(events.size() - 1);
    }

    /** [longest stretch in ns during which the count did not grow, its start in nanoTime] within [from, to]. */
    static long[] longestPause(List<Long> nanos, List<Long> events, int from, int to) {
        long longest = 0;
        long at = nanos.get(from);
        int lastGrowth = from;
        for (int i = from + 1; i <= to; i++) {
            if (events.get(i) > events.get(i - 1)) {
                lastGrowth = i;
            } else if (nanos.get(i) - nanos.get(lastGrowth) > longest) {
                longest = nanos.get(i) - nanos.get(lastGrowth);
                at = nanos.get(lastGrowth);
            }
        }
        return new long[] {longest, at};
    }
}
