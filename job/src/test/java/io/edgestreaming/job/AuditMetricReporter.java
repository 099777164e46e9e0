package io.edgestreaming.job;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;
import org.apache.flink.metrics.reporter.Scheduled;

/**
 * Records, for the secrets audit, every metric a MiniCluster registers: its full identifier, its scope
 * variables and every value it showed (read at each report and once more when it is removed).
 */
public final class AuditMetricReporter implements MetricReporter, Scheduled {
    /** identifier -> what was seen of it: the identifier, the variables and the values. */
    static final Map<String, List<String>> SEEN = new ConcurrentHashMap<>();
    private static final Map<Metric, String> LIVE = new ConcurrentHashMap<>();

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {
        report();
    }

    @Override
    public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        String id = group.getMetricIdentifier(name);
        List<String> seen = SEEN.computeIfAbsent(id, k -> java.util.Collections.synchronizedList(new ArrayList<>()));
        seen.add(id);
        seen.add(String.valueOf(group.getAllVariables()));
        LIVE.put(metric, id);
        record(metric, id);
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
        String id = LIVE.remove(metric);
        if (id != null) {
            record(metric, id);
        }
    }

    @Override
    public void report() {
        LIVE.forEach((metric, id) -> record(metric, id));
    }

    private static void record(Metric metric, String id) {
        String value;
        try {
            if (metric instanceof Gauge<?> g) {
                value = String.valueOf(g.getValue());
            } else if (metric instanceof Counter c) {
                value = Long.toString(c.getCount());
            } else if (metric instanceof Meter m) {
                value = m.getRate() + "/" + m.getCount();
            } else if (metric instanceof Histogram h) {
                value = String.valueOf(h.getCount());
            } else {
                value = String.valueOf(metric);
            }
        } catch (RuntimeException e) {
            value = "<" + e + ">";
        }
        List<String> seen = SEEN.get(id);
        if (seen != null && seen.size() < 200) {
            seen.add(value);
        }
    }

    /** Found by Flink through META-INF/services. */
    public static final class Factory implements MetricReporterFactory {
        @Override
        public MetricReporter createMetricReporter(Properties properties) {
            return new AuditMetricReporter();
        }
    }
}
