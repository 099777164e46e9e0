package io.edgestreaming.bench;

import io.edgestreaming.testkit.ChildProcessKafka;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.Properties;
import java.util.stream.Stream;

/** What the benchmarks share around the job: the child broker, the machine's load, the heap, clean-up. */
final class BenchEnv {
    private BenchEnv() {}

    /**
     * A Kafka 4.2 broker in a child JVM, run as Kafka's own start scripts run it: 1 GB heap, G1 with 20 ms pauses,
     * C2 (the testkit's defaults, serial GC and C1 only, suit a short test, not a measurement).
     */
    static ChildProcessKafka startChildBroker() {
        return ChildProcessKafka.builder()
                .libDir(kafka42Lib())
                .javaOption("-Xms1g").javaOption("-Xmx1g")
                .javaOption("-XX:-UseSerialGC").javaOption("-XX:+UseG1GC").javaOption("-XX:MaxGCPauseMillis=20")
                .javaOption("-XX:InitiatingHeapOccupancyPercent=35").javaOption("-XX:+ExplicitGCInvokesConcurrent")
                .javaOption("-XX:TieredStopAtLevel=4")
                .startTimeout(Duration.ofSeconds(120))
                .start();
    }

    private static Path kafka42Lib() {
        String configured = System.getProperty("edge.bench.kafka42.lib");
        if (configured == null) {
            Properties props = new Properties();
            try (InputStream in = BenchEnv.class.getResourceAsStream("bench.properties")) {
                props.load(in);
            } catch (IOException | NullPointerException e) {
                throw new IllegalStateException("bench.properties missing: build with ./run-bench.sh", e);
            }
            configured = props.getProperty("kafka42.lib");
        }
        Path lib = Path.of(configured);
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException("no Kafka 4.2 broker jars at " + lib + ": build with ./run-bench.sh");
        }
        return lib;
    }

    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException e) {
            double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            return String.format(Locale.ROOT, "%.2f", load);
        }
    }

    static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Heap in use after two full collections (the second frees what finalization of the first let go). */
    static long heapAfterGc() {
        System.gc();
        System.gc();
        return heapUsed();
    }

    static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
