package io.edgestreaming.bench;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Snapshots of this JVM's CPU time (process and per thread), the broker's CPU time (when it is a child process)
 * and GC time, taken at the 10% and 90% marks of a run; the difference is what the run cost in between.
 */
final class Probe {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    static final String JIT = "JIT compiler";
    /** The JVM's own threads (GC, VM) and the threads that ended between two snapshots: the unattributed rest. */
    static final String JVM = "JVM (GC) and ended threads";
    /** The rest where the JIT compiler threads' CPU cannot be read (no per-thread schedstat in /proc). */
    private static final String JVM_AND_JIT = "JVM (GC, JIT) and ended threads";
    private static final boolean THREAD_SCHEDSTAT = Files.isReadable(Path.of("/proc/thread-self/schedstat"));

    /** The broker's CPU time in ns, or -1 when it runs in this JVM. */
    private final LongSupplier brokerCpu;

    Probe(Long brokerPid) {
        if (brokerPid == null) {
            brokerCpu = () -> -1;
        } else {
            ProcessHandle broker = ProcessHandle.of(brokerPid).orElseThrow();
            brokerCpu = () -> broker.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
        }
        if (THREADS.isThreadCpuTimeSupported() && !THREADS.isThreadCpuTimeEnabled()) {
            THREADS.setThreadCpuTimeEnabled(true);
        }
    }

    /** {@code compilerCpu}: the JIT compiler threads' CPU time by kernel thread id, null where it cannot be read. */
    record Snapshot(long nanos, long events, long processCpu, long brokerCpu, Map<Long, String> names,
            Map<Long, Long> threadCpu, long gcMillis, long gcCount, Map<Long, Long> compilerCpu) {}

    Snapshot snapshot(long events) {
        long now = System.nanoTime();
        long process = OS.getProcessCpuTime();
        long broker = brokerCpu.getAsLong();
        Map<Long, String> names = new HashMap<>();
        Map<Long, Long> cpu = new HashMap<>();
        long[] ids = THREADS.getAllThreadIds();
        ThreadInfo[] infos = THREADS.getThreadInfo(ids);
        for (int i = 0; i < ids.length; i++) {
            if (infos[i] == null) {
                continue;
            }
            long t = THREADS.getThreadCpuTime(ids[i]);
            if (t >= 0) {
                names.put(ids[i], infos[i].getThreadName());
                cpu.put(ids[i], t);
            }
        }
        long gcMillis = 0;
        long gcCount = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcMillis += Math.max(0, gc.getCollectionTime());
            gcCount += Math.max(0, gc.getCollectionCount());
        }
        return new Snapshot(now, events, process, broker, names, cpu, gcMillis, gcCount, compilerCpu());
    }

    /**
     * The CPU time in ns of the C1/C2 compiler threads by kernel thread id. ThreadMXBean does not list them (hidden JVM
     * threads), so from /proc: {@code task/<tid>/comm} for the name, the first field of {@code schedstat} for the time
     * on a CPU (the same clock as getThreadCpuTime).
     */
    private static Map<Long, Long> compilerCpu() {
        if (!THREAD_SCHEDSTAT) {
            return null;
        }
        Map<Long, Long> cpu = new HashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    if (group(Files.readString(task.resolve("comm")).strip()).equals(JIT)) {
                        String schedstat = Files.readString(task.resolve("schedstat"));
                        cpu.put(Long.parseLong(task.getFileName().toString()),
                                Long.parseLong(schedstat.substring(0, schedstat.indexOf(' '))));
                    }
                } catch (IOException endedMeanwhile) {
                    // the thread ended while listing
                }
            }
        } catch (IOException e) {
            return null;
        }
        return cpu;
    }

    /** Who used this JVM's CPU between two snapshots, in ns, by kind of thread; the rest is the JVM's own. */
    static Map<String, Long> cpuByGroup(Snapshot from, Snapshot to) {
        Map<String, Long> groups = new LinkedHashMap<>();
        for (String g : new String[] {"tasks", "prepare (gzip, SHA-256)", "checkpoints' async part", "delivery I/O", "Kafka clients",
            "receivers (HTTP, S3)", "Flink runtime", "bench", "other threads"}) {
            groups.put(g, 0L);
        }
        long attributed = 0;
        for (Map.Entry<Long, Long> e : to.threadCpu().entrySet()) {
            long before = from.threadCpu().getOrDefault(e.getKey(), 0L);
            long delta = Math.max(0, e.getValue() - before);
            groups.merge(group(to.names().get(e.getKey())), delta, Long::sum);
            attributed += delta;
        }
        boolean jit = from.compilerCpu() != null && to.compilerCpu() != null;
        if (jit) {
            // A compiler thread ended in between stays in the rest, like every ended thread.
            long compiling = 0;
            for (Map.Entry<Long, Long> e : to.compilerCpu().entrySet()) {
                compiling += Math.max(0, e.getValue() - from.compilerCpu().getOrDefault(e.getKey(), 0L));
            }
            groups.put(JIT, compiling);
            attributed += compiling;
        }
        groups.put(jit ? JVM : JVM_AND_JIT, Math.max(0, to.processCpu() - from.processCpu() - attributed));
        return groups;
    }

    static String group(String thread) {
        if (thread == null) {
            return "other threads";
        }
        // JVM threads: seen by the profiler and in /proc only (their names cut to 15 characters), not by ThreadMXBean.
        if (thread.startsWith("C2 Compiler") || thread.startsWith("C1 Compiler")) {
            return JIT;
        }
        if (thread.startsWith("GC Thread") || thread.startsWith("G1 ") || thread.startsWith("VM Thread")
                || thread.startsWith("VM Periodic") || thread.startsWith("Sweeper")) {
            return JVM;
        }
        if (thread.startsWith("Source Data Fetcher") || thread.startsWith("kafka-producer-network-thread")
                || thread.startsWith("kafka-coordinator") || thread.startsWith("kafka-admin")) {
            return "Kafka clients";
        }
        if (thread.matches(".*\\(\\d+/\\d+\\)#\\d+.*")) {
            return "tasks";
        }
        if (thread.startsWith("http-delivery") || thread.startsWith("kafka-delivery") || thread.startsWith("s3-delivery")
                || thread.startsWith("HttpClient")) {
            return "delivery I/O";
        }
        if (thread.startsWith("prepare-")) {
            // The delivery operators' payloads and keys (gzip, SHA-256), off their task threads since 2026-12-06.
            return "prepare (gzip, SHA-256)";
        }
        if (thread.startsWith("http-receiver") || thread.startsWith("qtp") || thread.startsWith("S3Proxy")
                || thread.contains("jetty") || thread.startsWith("user thread")) {
            return "receivers (HTTP, S3)";
        }
        if (thread.startsWith("AsyncOperations")) {
            return "checkpoints' async part";
        }
        if (thread.startsWith("flink-") || thread.startsWith("Flink") || thread.startsWith("pekko")
                || thread.contains("-pekko.") || thread.startsWith("jobmanager") || thread.startsWith("mini-cluster")
                || thread.startsWith("Checkpoint")
                || thread.startsWith("OutputFlusher") || thread.contains("taskmanager") || thread.startsWith("Timer")
                || thread.startsWith("ForkJoinPool")) {
            return "Flink runtime";
        }
        if (thread.startsWith("bench-") || thread.equals("main")) {
            return "bench";
        }
        return "other threads";
    }
}
