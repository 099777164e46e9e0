package io.edgestreaming.bench;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A Flink metric reporter that keeps the live metric objects of the running jobs in this JVM, so the benchmark
 * reads counters and gauges directly (every 100 ms) instead of polling the REST API. Registered in the
 * MiniCluster's configuration ({@code metrics.reporter.bench.factory.class}).
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

    private static final List<Entry> ENTRIES = new CopyOnWriteArrayList<>();
    private static final Map<Metric, Entry> BY_METRIC = new ConcurrentHashMap<>();

    static List<Entry> entries() {
        return ENTRIES;
    }

    /** Sum over subtasks (and streams, destinations) of the metrics with this name. */
    static long sum(String name) {
        return (long) sum(name, e -> true);
    }

    static double sum(String name, Predicate<Entry> filter) {
        double total = 0;
        for (Entry e : ENTRIES) {
            if (e.name().equals(name) && filter.test(e)) {
                total += e.value();
            }
        }
        return total;
    }

    /** Average over the matching metrics (e.g. a task gauge over its subtasks); NaN when none. */
    static double average(String name, Predicate<Entry> filter) {
        double total = 0;
        int n = 0;
        for (Entry e : ENTRIES) {
            if (e.name().equals(name) && filter.test(e)) {
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
        ENTRIES.add(entry);
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
        Entry entry = BY_METRIC.remove(metric);
        if (entry != null) {
            ENTRIES.remove(entry);
        }
    }

    /** Found by Flink through META-INF/services. */
    public static final class Factory implements MetricReporterFactory {
        @Override
        public MetricReporter createMetricReporter(Properties properties) {
            return new BenchMetrics();
        }
    }
}
