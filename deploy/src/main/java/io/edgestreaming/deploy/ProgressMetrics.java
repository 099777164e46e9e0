package io.edgestreaming.deploy;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A Flink metric reporter that keeps the job's live metric objects in this JVM, so the local runner
 * can print progress without polling the REST API. Registered in the MiniCluster's configuration.
 */
public final class ProgressMetrics implements MetricReporter {

    /** One registered metric with the user-group variables the job's operators add. */
    record Entry(String name, String stream, String destination, String reason, Metric metric) {
        long value() {
            if (metric instanceof Counter counter) {
                return counter.getCount();
            }
            if (metric instanceof Gauge<?> gauge && gauge.getValue() instanceof Number number) {
                return number.longValue();
            }
            return 0;
        }
    }

    private static final List<Entry> ENTRIES = new CopyOnWriteArrayList<>();
    private static final Map<Metric, Entry> BY_METRIC = new ConcurrentHashMap<>();

    /** Every metric currently registered by the running job. */
    static List<Entry> entries() {
        return ENTRIES;
    }

    /**
     * Sum over subtasks of the metrics with this name, without those of a reason group: an operator registers a
     * total and one per reason under the same name (eventsDeadLettered), which together would count twice.
     */
    static long sum(String name) {
        long total = 0;
        for (Entry e : ENTRIES) {
            if (e.name().equals(name) && e.reason() == null) {
                total += e.value();
            }
        }
        return total;
    }

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {}

    @Override
    public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        Map<String, String> variables = group.getAllVariables();
        Entry entry = new Entry(name, variables.get("<stream>"), variables.get("<destination>"), variables.get("<reason>"),
                metric);
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
            return new ProgressMetrics();
        }
    }
}
