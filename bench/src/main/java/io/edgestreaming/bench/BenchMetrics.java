package io.edgestreaming.bench;

import java.util.Collection;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A Flink metric reporter that keeps the live metric objects of the running jobs in this JVM, so the benchmark
 * reads counters and gauges directly (every 100 ms) instead of polling the REST API. Registered in the
 * MiniCluster's configuration ({@code metrics.reporter.bench.factory.class}). Hash-indexed by metric and by name:
 * a job of 10,000 streams registers over 100,000 metrics, which a copy-on-write list would copy once each.
 */
public final class BenchMetrics implements MetricReporter {

    /** One registered metric with the scope variables the benchmark filters on. */
    record Entry(String name, String jobId, String task, String operator, String stream, String destination, Metric metric) {
        double value() {
            if (metric instanceof Counter counter) {
                return counter.getCount();
            }
            if (metric instanceof Gauge<?> gauge && gauge.getValue() instanceof Number number) {
                return number.doubleValue();
            }
            return 0;
        }
    }

    private static final Map<Metric, Entry> BY_METRIC = new ConcurrentHashMap<>();
    private static final Map<String, Set<Entry>> BY_NAME = new ConcurrentHashMap<>();
    /** Registrations minus removals by job, scope and kind: what a scrape of every registered metric lists. */
    private static final Map<SeriesKey, LongAdder> REGISTERED = new ConcurrentHashMap<>();

    /** Where a metric belongs: {@code stream} (has a stream label), {@code destination}, or {@code other}. */
    record SeriesKey(String jobId, String scope, String kind) {}

    /** Live registrations by scope and kind (counter, gauge, histogram, meter) of one job (null: outside jobs). */
    static Map<SeriesKey, Long> registered(String jobId) {
        Map<SeriesKey, Long> out = new TreeMap<>(Comparator.comparing(SeriesKey::scope)
                .thenComparing(SeriesKey::kind));
        REGISTERED.forEach((k, v) -> {
            if (Objects.equals(k.jobId(), jobId) && v.sum() != 0) {
                out.put(k, v.sum());
            }
        });
        return out;
    }

    private static SeriesKey key(Metric metric, Map<String, String> variables) {
        String scope = variables.containsKey("<stream>") ? "stream"
                : variables.containsKey("<destination>") ? "destination" : "other";
        String kind = metric instanceof Counter ? "counter" : metric instanceof Gauge<?> ? "gauge"
                : metric instanceof Histogram ? "histogram" : "meter";
        return new SeriesKey(variables.get("<job_id>"), scope, kind);
    }

    static Collection<Entry> entries() {
        return BY_METRIC.values();
    }

    /** Sum over subtasks (and streams, destinations) of the metrics with this name. */
    static long sum(String name) {
        return (long) sum(name, e -> true);
    }

    static double sum(String name, Predicate<Entry> filter) {
        double total = 0;
        for (Entry e : BY_NAME.getOrDefault(name, Set.of())) {
            if (filter.test(e)) {
                total += e.value();
            }
        }
        return total;
    }

    /** Average over the matching metrics (e.g. a task gauge over its subtasks); NaN when none. */
    static double average(String name, Predicate<Entry> filter) {
        double total = 0;
        int n = 0;
        for (Entry e : BY_NAME.getOrDefault(name, Set.of())) {
            if (filter.test(e)) {
                total += e.value();
                n++;
            }
        }
        return n == 0 ? Double.NaN : total / n;
    }

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {}

    @Override
    public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        Map<String, String> variables = group.getAllVariables();
        Entry entry = new Entry(name, variables.get("<job_id>"), variables.get("<task_name>"), variables.get("<operator_name>"),
                variables.get("<stream>"), variables.get("<destination>"), metric);
        BY_METRIC.put(metric, entry);
        BY_NAME.computeIfAbsent(name, k -> ConcurrentHashMap.newKeySet()).add(entry);
        REGISTERED.computeIfAbsent(key(metric, variables), k -> new LongAdder()).increment();
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
        Entry entry = BY_METRIC.remove(metric);
        if (entry != null) {
            BY_NAME.getOrDefault(name, Set.of()).remove(entry);
        }
        REGISTERED.computeIfAbsent(key(metric, group.getAllVariables()), k -> new LongAdder()).decrement();
    }

    /** Found by Flink through META-INF/services. */
    public static final class Factory implements MetricReporterFactory {
        @Override
        public MetricReporter createMetricReporter(Properties properties) {
            return new BenchMetrics();
        }
    }
}
