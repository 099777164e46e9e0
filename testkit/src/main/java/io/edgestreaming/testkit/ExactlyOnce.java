package io.edgestreaming.testkit;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares what an endpoint holds with the records it should hold, computed independently from the
 * input: every expected record exactly once, nothing else. A failure names the records, so a broken
 * run says which records were lost or duplicated, not just how many.
 */
public final class ExactlyOnce {
    /** Records listed per category in a failure message; the counts are always complete. */
    private static final int LISTED = 20;

    private ExactlyOnce() {}

    /** The outcome of one endpoint. */
    public record Report(String endpoint, int expected, int delivered, SortedSet<String> lost,
            SortedMap<String, Integer> duplicated, SortedSet<String> unexpected) {

        public boolean exactlyOnce() {
            return lost.isEmpty() && duplicated.isEmpty() && unexpected.isEmpty();
        }

        /** One paragraph: counts, then the records lost, duplicated (with their count) and unexpected. */
        public String describe() {
            StringBuilder out = new StringBuilder().append(endpoint).append(": ").append(expected)
                    .append(" records expected, ").append(delivered).append(" delivered");
            if (exactlyOnce()) {
                return out.append(", each expected record exactly once").toString();
            }
            out.append("; ").append(lost.size()).append(" lost, ").append(duplicated.size()).append(" duplicated, ")
                    .append(unexpected.size()).append(" unexpected");
            list(out, "lost", lost);
            List<String> dups = new ArrayList<>();
            duplicated.forEach((record, n) -> dups.add(n + "x " + record));
            list(out, "duplicated", dups);
            list(out, "unexpected", unexpected);
            return out.toString();
        }

        private static void list(StringBuilder out, String what, Collection<String> records) {
            if (records.isEmpty()) {
                return;
            }
            out.append("\n  ").append(what).append(records.size() > LISTED ? " (first " + LISTED + ")" : "")
                    .append(':');
            records.stream().limit(LISTED).forEach(r -> out.append("\n    ").append(r));
        }
    }

    /**
     * @param expected the records the endpoint must hold; must be distinct (input records carry ids)
     * @param delivered everything the endpoint holds, repeats included
     */
    public static Report compare(String endpoint, Collection<String> expected, Collection<String> delivered) {
        SortedSet<String> expectedSet = new TreeSet<>(expected);
        if (expectedSet.size() != expected.size()) {
            throw new IllegalArgumentException("expected records of " + endpoint + " are not distinct");
        }
        Map<String, Integer> counts = new HashMap<>();
        delivered.forEach(r -> counts.merge(r, 1, Integer::sum));
        SortedSet<String> lost = new TreeSet<>(expectedSet);
        lost.removeAll(counts.keySet());
        SortedSet<String> unexpected = new TreeSet<>(counts.keySet());
        unexpected.removeAll(expectedSet);
        SortedMap<String, Integer> duplicated = new TreeMap<>();
        counts.forEach((record, n) -> {
            if (n > 1) {
                duplicated.put(record, n);
            }
        });
        return new Report(endpoint, expected.size(), delivered.size(), lost, duplicated, unexpected);
    }

    /** @throws AssertionError describing every endpoint that is not exactly-once */
    public static void assertExactlyOnce(Report... reports) {
        List<String> failures = new ArrayList<>();
        for (Report report : reports) {
            if (!report.exactlyOnce()) {
                failures.add(report.describe());
            }
        }
        if (!failures.isEmpty()) {
            throw new AssertionError("exactly-once broken:\n" + String.join("\n", failures));
        }
    }
}
