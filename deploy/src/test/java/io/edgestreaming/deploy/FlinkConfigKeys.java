package io.edgestreaming.deploy;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.MetricOptions;

/**
 * Every configuration key Flink 2.2 declares: the static {@link ConfigOption} fields of the {@code *Options}
 * classes in flink-core, flink-runtime, flink-clients and flink-streaming-java, with their fallback and
 * deprecated keys.
 */
final class FlinkConfigKeys {

    /** A key and the option that declares it; {@code deprecated} when it is a deprecated fallback key. */
    record Known(ConfigOption<?> option, boolean deprecated) {
    }

    /** Jars to scan, each named by a class it holds (code source works with Surefire's manifest-only jar). */
    private static final String[] ANCHORS = {
        "org.apache.flink.configuration.Configuration", // flink-core
        "org.apache.flink.runtime.jobgraph.JobGraph", // flink-runtime
        "org.apache.flink.client.cli.CliFrontend", // flink-clients
        "org.apache.flink.streaming.api.environment.StreamExecutionEnvironment", // flink-streaming-java
    };

    /**
     * Options of one metric reporter, set as {@code metrics.reporter.<name>.<key>}: Flink declares the
     * generic ones (factory.class, interval, scope.*, filter.*) in {@link MetricOptions} with the bare key.
     * {@code port} is the Prometheus reporter's own (PrometheusReporterFactory, in flink-metrics-prometheus
     * which ships in the image's plugins/ and is not on this class path).
     */
    static final Set<String> PROMETHEUS_REPORTER_KEYS = Set.of("port");

    private static Map<String, Known> keys;

    private FlinkConfigKeys() {
    }

    static synchronized Map<String, Known> all() {
        if (keys == null) {
            Map<String, Known> found = new HashMap<>();
            for (String anchor : ANCHORS) {
                for (Class<?> c : optionClasses(anchor)) {
                    collect(c, found);
                }
            }
            keys = found;
        }
        return keys;
    }

    /** Bare keys of reporter-scoped options (declared in MetricOptions without the metrics. prefix). */
    static Set<String> reporterKeys() {
        Map<String, Known> fromMetricOptions = new HashMap<>();
        collect(MetricOptions.class, fromMetricOptions);
        Set<String> bare = new LinkedHashSet<>();
        fromMetricOptions.keySet().stream().filter(k -> !k.startsWith("metrics.")).forEach(bare::add);
        return bare;
    }

    private static Set<Class<?>> optionClasses(String anchor) {
        Set<Class<?>> classes = new LinkedHashSet<>();
        try {
            Class<?> a = Class.forName(anchor);
            Path jar = Path.of(a.getProtectionDomain().getCodeSource().getLocation().toURI());
            try (JarFile jf = new JarFile(jar.toFile())) {
                jf.stream()
                        .map(e -> e.getName())
                        .filter(n -> n.startsWith("org/apache/flink/") && n.endsWith("Options.class") && !n.contains("$"))
                        .forEach(n -> {
                            String name = n.substring(0, n.length() - ".class".length()).replace('/', '.');
                            try {
                                classes.add(Class.forName(name, false, FlinkConfigKeys.class.getClassLoader()));
                            } catch (ClassNotFoundException | LinkageError e) {
                                // An optional integration's options (its dependencies are absent): not ours.
                            }
                        });
            }
        } catch (ClassNotFoundException | URISyntaxException | java.io.IOException e) {
            throw new IllegalStateException("cannot scan the jar of " + anchor, e);
        }
        if (classes.isEmpty()) {
            throw new IllegalStateException("no *Options classes found next to " + anchor);
        }
        return classes;
    }

    private static void collect(Class<?> c, Map<String, Known> into) {
        Field[] fields;
        try {
            fields = c.getDeclaredFields();
        } catch (LinkageError e) {
            return;
        }
        for (Field f : fields) {
            if (!Modifier.isStatic(f.getModifiers()) || !ConfigOption.class.isAssignableFrom(f.getType())) {
                continue;
            }
            try {
                f.setAccessible(true);
                ConfigOption<?> option = (ConfigOption<?>) f.get(null);
                if (option == null) {
                    continue;
                }
                into.put(option.key(), new Known(option, false));
                for (FallbackKey fallback : option.fallbackKeys()) {
                    into.putIfAbsent(fallback.getKey(), new Known(option, fallback.isDeprecated()));
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                // A field whose class cannot initialise here: skip it rather than guess.
            }
        }
    }
}
