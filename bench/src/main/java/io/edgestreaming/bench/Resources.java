package io.edgestreaming.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * What this JVM holds at a moment: live threads by kind (the delivery transports' threads by their name prefixes,
 * Flink's, the Kafka clients', the receivers', the JVM's own) and established TCP connections from this process to
 * each server (its sockets in {@code /proc/self/fd} matched to {@code /proc/self/net/tcp} and {@code tcp6} by inode;
 * the in-process receivers' own ends have the server's port as their local port and are not counted).
 *
 * <p>Threads are counted from the kernel's view, {@code /proc/self/task/<tid>/comm} (names cut to 15 characters), not
 * with ThreadMXBean: its calls protect every thread of the JVM while they run (JDK 17's thread-safe memory
 * reclamation), and with thousands of threads every exiting thread then waits for them holding the JVM's thread
 * lock, which stalls every thread start (task threads included). Counting must not slow what it counts.
 */
final class Resources {
    /** The thread kinds, in print order. */
    static final List<String> THREAD_KINDS = List.of("kafka-delivery-*", "kafka-producer-network-thread",
            "HttpClient-*", "http-delivery-*", "s3-delivery-*", "sdk-ScheduledExecutor-* (S3 clients' timeouts)",
            "Flink (tasks, runtime)", "other Kafka clients", "receivers (HTTP, S3)", "JVM (GC, JIT, ...)", "other");
    private static final List<String> FLINK = List.of("Source: ", "batcher", "blocks of both", "flink-", "Flink", "pekko", "jobmanager",
            "mini-cluster", "Checkpoint", "OutputFlusher", "Timer", "ForkJoinPool", "AsyncOperation", "IOManager",
            "Time Trigger", "SourceCoordina", "resourcemanage", "RpcService", "BLOB Server", "Canceler", "Cleanup",
            "Sink", "dead-letter", "cluster-io", "metrics", "taskmanager", "Thread-", "pool-", "Scheduler-", "System Time",
            "CloseableReaper");
    private static final List<String> JVM = List.of("C1 CompilerThre", "C2 CompilerThre", "GC Thread", "G1 ", "VM Thread",
            "VM Periodic", "Reference Handl", "Finalizer", "Signal Dispatch", "Common-Cleaner", "Notification Th",
            "Service Thread", "Monitor Deflati", "Sweeper", "java", "main", "Attach Listene", "process reaper",
            "CompletableFutu", "Keep-Alive-Time", "idle-timeout-ta", "HTTP-Dispatcher", "bench-");
    private static final List<String> RECEIVERS = List.of("http-receiver-", "qtp", "S3Proxy", "jetty", "user thread");

    private Resources() {}

    /** The kind of a thread by its name as the kernel has it (at most 15 characters). */
    static String threadKind(String comm) {
        if (comm.startsWith("kafka-delivery-")) {
            return "kafka-delivery-*";
        }
        if (comm.startsWith("kafka-producer-")) {
            return "kafka-producer-network-thread";
        }
        if (comm.startsWith("HttpClient-")) {
            return "HttpClient-*";
        }
        if (comm.startsWith("http-delivery-")) {
            return "http-delivery-*";
        }
        if (comm.startsWith("s3-delivery-")) {
            return "s3-delivery-*";
        }
        if (comm.startsWith("sdk-ScheduledEx")) {
            return "sdk-ScheduledExecutor-* (S3 clients' timeouts)";
        }
        if (comm.startsWith("kafka-") || comm.startsWith("Source Data Fet")) {
            return "other Kafka clients";
        }
        if (RECEIVERS.stream().anyMatch(comm::startsWith)) {
            return "receivers (HTTP, S3)";
        }
        if (FLINK.stream().anyMatch(comm::startsWith)) {
            return "Flink (tasks, runtime)";
        }
        if (JVM.stream().anyMatch(comm::startsWith)) {
            return "JVM (GC, JIT, ...)";
        }
        return "other";
    }

    /** The names (comm) of this process's threads. */
    private static List<String> threadNames() {
        List<String> names = new java.util.ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    names.add(Files.readString(task.resolve("comm")).strip());
                } catch (IOException endedMeanwhile) {
                    // the thread ended while listing
                }
            }
        } catch (IOException e) {
            LoggerFactory.getLogger(Resources.class).warn("cannot list /proc/self/task: {}", e.toString());
        }
        return names;
    }

    /** Live threads by kind, every kind present (0 when none); "total" last. */
    static Map<String, Integer> threads() {
        Map<String, Integer> out = new LinkedHashMap<>();
        THREAD_KINDS.forEach(k -> out.put(k, 0));
        List<String> names = threadNames();
        names.forEach(n -> out.merge(threadKind(n), 1, Integer::sum));
        out.put("total", names.size());
        return out;
    }

    /** Live threads of a kind by name, digits replaced by '#', most frequent first (to see what "other" holds). */
    static Map<String, Integer> threadNames(String kind) {
        Map<String, Integer> counts = new java.util.HashMap<>();
        for (String name : threadNames()) {
            if (threadKind(name).equals(kind)) {
                counts.merge(name.replaceAll("[0-9]+", "#"), 1, Integer::sum);
            }
        }
        Map<String, Integer> out = new LinkedHashMap<>();
        counts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue())
                .forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /** Established connections of this process by the server they go to ({@code ports}: port to name); "total" last. */
    static Map<String, Integer> connections(Map<Integer, String> ports) {
        Map<String, Integer> out = new LinkedHashMap<>();
        ports.values().forEach(name -> out.put(name, 0));
        Set<Long> inodes = socketInodes();
        int total = 0;
        for (String file : new String[] {"/proc/self/net/tcp", "/proc/self/net/tcp6"}) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(file));
            } catch (IOException e) {
                continue;
            }
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.trim().split("\\s+");
                // sl local rem st tx:rx tr:when retrnsmt uid timeout inode; st 01 = ESTABLISHED
                if (f.length < 10 || !f[3].equals("01") || !inodes.contains(Long.parseLong(f[9]))) {
                    continue;
                }
                total++;
                int remotePort = Integer.parseInt(f[2].substring(f[2].indexOf(':') + 1), 16);
                String name = ports.get(remotePort);
                if (name != null) {
                    out.merge(name, 1, Integer::sum);
                }
            }
        }
        out.put("total", total);
        return out;
    }

    private static Set<Long> socketInodes() {
        Set<Long> inodes = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(Long.parseLong(target.substring(8, target.length() - 1)));
                    }
                } catch (IOException closedMeanwhile) {
                    // the descriptor went away while listing
                }
            }
        } catch (IOException e) {
            LoggerFactory.getLogger(Resources.class).warn("cannot list /proc/self/fd: {}", e.toString());
        }
        return inodes;
    }

    /** Open file descriptors of this process (sockets, selectors' epoll and pipes, files, jars). */
    static int fileDescriptors() {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Memory mappings of this process (each thread's stack and guard page among them; vm.max_map_count bounds them). */
    static int memoryMappings() {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return (int) lines.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Open file descriptors by kind: sockets, anon_inode:[eventpoll], pipes, files... */
    static Map<String, Integer> fileDescriptorKinds() {
        Map<String, Integer> out = new java.util.TreeMap<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    out.merge(target.startsWith("/") ? "file" : target.replaceAll(":?\\[?[0-9]+\\]?$", ""), 1,
                            Integer::sum);
                } catch (IOException closedMeanwhile) {
                    // the descriptor went away while listing
                }
            }
        } catch (IOException e) {
            out.put("unreadable", -1);
        }
        return out;
    }

    /**
     * Live objects by class after a full GC ({@code jcmd GC.class_histogram} of this JVM through its diagnostic
     * MBean): class name to {instances, bytes}.
     */
    static Map<String, long[]> classHistogram() {
        Map<String, long[]> out = new java.util.HashMap<>();
        try {
            String text = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
            for (String line : text.split("\n")) {
                // "   1:        123456       7890123  java.lang.String (java.base@17)"
                String[] f = line.trim().split("\\s+");
                if (f.length >= 4 && f[0].endsWith(":")) {
                    out.put(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
                }
            }
        } catch (Exception e) {
            LoggerFactory.getLogger(Resources.class).warn("no class histogram: {}", e.toString());
        }
        return out;
    }

    /**
     * Samples threads every 2 s, connections and file descriptors every 6 s (listing them costs more: every socket of
     * the machine is in /proc/self/net/tcp), on its own thread, and keeps the largest count of each.
     */
    static final class Peaks implements AutoCloseable {
        private final Map<String, Integer> threads = new LinkedHashMap<>();
        private final Map<String, Integer> connections = new LinkedHashMap<>();
        private int fds;
        private int maps;
        private final Thread sampler;
        private volatile boolean running = true;

        Peaks(Map<Integer, String> ports) {
            sampler = new Thread(() -> {
                for (int round = 0; running; round++) {
                    Map<String, Integer> t = Resources.threads();
                    Map<String, Integer> c = round % 3 == 0 ? Resources.connections(ports) : Map.of();
                    int f = round % 3 == 0 ? Resources.fileDescriptors() : 0;
                    int m = round % 3 == 0 ? Resources.memoryMappings() : 0;
                    synchronized (this) {
                        maps = Math.max(maps, m);
                        t.forEach((k, v) -> threads.merge(k, v, Math::max));
                        c.forEach((k, v) -> connections.merge(k, v, Math::max));
                        fds = Math.max(fds, f);
                    }
                    try {
                        Thread.sleep(2000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "bench-resource-sampler");
            sampler.setDaemon(true);
            sampler.start();
        }

        synchronized Map<String, Integer> threads() {
            return new LinkedHashMap<>(threads);
        }

        synchronized Map<String, Integer> connections() {
            return new LinkedHashMap<>(connections);
        }

        synchronized int fileDescriptors() {
            return fds;
        }

        synchronized int memoryMappings() {
            return maps;
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            sampler.interrupt();
            sampler.join(5000);
        }
    }
}
