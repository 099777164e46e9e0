package io.edgestreaming.testkit;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka cluster of another release than the one on this class path, run as a child JVM from
 * its own jars: by default Kafka 3.9 (before KIP-890, so transactions use the classic protocol,
 * transaction.version absent), whose jars the module {@code testkit/kafka-3.9} copies to its
 * {@code target/lib} during the build.
 *
 * <p>KRaft in combined mode (node 1 is broker and controller, static {@code controller.quorum.voters}),
 * listeners on 127.0.0.1 at free ports, formatted with the release's own {@code kafka.tools.StorageTool format}
 * (its default feature levels, as {@code kafka-storage format} sets up a new cluster of that release), then
 * started as {@code kafka.Kafka server.properties} with the same {@code java} as this JVM. The settings match
 * {@link EmbeddedKafka}'s: one replica for the transaction and offsets logs, transaction.max.timeout.ms of one
 * hour, no automatic topic creation, one partition by default, no initial rebalance delay.
 *
 * <p>Everything the child prints (formatter and broker, through a log4j console appender) goes to
 * {@link #logFile()} in the broker's temporary directory, which {@link #close()} deletes; when the broker cannot
 * start, the directory is kept and the exception says where the log is and quotes its last lines. The child exits
 * by itself when this JVM ends, even killed ({@link ChildProcessMain}).
 */
public final class ChildProcessKafka implements TestKafka {

    private static final Logger LOG = LoggerFactory.getLogger(ChildProcessKafka.class);

    /** System property: directory of the Kafka 3.9 jars (default: {@code testkit/kafka-3.9/target/lib}). */
    public static final String KAFKA_39_LIB_PROPERTY = "edgestreaming.kafka39.lib";

    private static final int START_ATTEMPTS = 3;
    private static final int LOG_TAIL_LINES = 40;

    private final Path libDir;
    private final String kafkaVersion;
    private final ChildKafkaDir files;
    private final int brokerPort;
    private final List<String> javaOptions;
    private final Duration startTimeout;
    private final Thread shutdownHook;
    private Process process;
    private Admin admin;
    private boolean brokerStopped;
    private boolean closed;

    private ChildProcessKafka(Builder builder, Path dir, int brokerPort, int controllerPort) throws IOException {
        this.libDir = builder.libDir;
        this.kafkaVersion = builder.kafkaVersion;
        this.files = new ChildKafkaDir(dir);
        this.brokerPort = brokerPort;
        this.javaOptions = List.copyOf(builder.javaOptions);
        this.startTimeout = builder.startTimeout;
        files.writeServerProperties(brokerPort, controllerPort, builder.brokerProps);
        files.writeLog4jProperties();
        files.copyLauncher();
        this.shutdownHook = new Thread(this::killChild, "kafka-child-" + brokerPort + "-killer");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** A Kafka 3.9 broker with the default settings. */
    public static ChildProcessKafka start() {
        return builder().start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Configures the child broker; {@link #start()} formats and starts it. */
    public static final class Builder {
        private Path libDir;
        private String kafkaVersion;
        private final Map<String, String> brokerProps = new LinkedHashMap<>();
        private final List<String> javaOptions = new ArrayList<>(
                // One broker of a test: a small heap, the serial collector and C1 only start faster and leave
                // the (two, shared) cores to the test.
                List.of("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                        "-Djava.awt.headless=true"));
        private Duration startTimeout = Duration.ofSeconds(90);

        private Builder() {
        }

        /** Directory holding the broker's jars (kafka_2.13-X.jar and its dependencies); default: Kafka 3.9. */
        public Builder libDir(Path libDir) {
            this.libDir = libDir;
            return this;
        }

        /** A broker property on top of (and winning over) the defaults. */
        public Builder brokerProp(String key, String value) {
            brokerProps.put(key, value);
            return this;
        }

        public Builder brokerProps(Map<String, String> props) {
            brokerProps.putAll(props);
            return this;
        }

        /** An extra option of the child JVM (after the defaults, so e.g. another -Xmx wins). */
        public Builder javaOption(String option) {
            javaOptions.add(option);
            return this;
        }

        /** How long {@link #start()} waits for the broker to serve requests (default 90 s). */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /**
         * Formats and starts the broker in a new temporary directory, waits until an admin client reaches it.
         * Tries new ports (and a new directory) if a port was taken in the meantime.
         */
        public ChildProcessKafka start() {
            if (libDir == null) {
                libDir = defaultLibDir();
            }
            kafkaVersion = ChildKafkaDir.versionOfLib(libDir);
            long startNanos = System.nanoTime();
            for (int attempt = 1; ; attempt++) {
                ChildProcessKafka kafka = null;
                try {
                    Path dir = Files.createTempDirectory("edge-kafka-" + kafkaVersion + "-");
                    int[] ports = freePorts(2);
                    kafka = new ChildProcessKafka(this, dir, ports[0], ports[1]);
                    kafka.format();
                    kafka.launch();
                    if (LOG.isInfoEnabled()) { // describe() asks the broker
                        LOG.info("{} ready in {} ms (log: {})", kafka.describe(),
                                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), kafka.files.logFile);
                    }
                    return kafka;
                } catch (IOException | RuntimeException e) {
                    if (kafka == null) {
                        throw new IllegalStateException("cannot prepare a Kafka " + kafkaVersion + " broker: " + e, e);
                    }
                    boolean portTaken = kafka.files.logContains("Address already in use");
                    if (portTaken && attempt < START_ATTEMPTS) {
                        LOG.warn("Kafka {} child broker: a port was taken meanwhile, trying other ports", kafkaVersion);
                        kafka.close();
                        continue;
                    }
                    // Keep the directory: its log says why.
                    kafka.killChild();
                    kafka.closeAdmin();
                    Runtime.getRuntime().removeShutdownHook(kafka.shutdownHook);
                    kafka.closed = true;
                    throw new IllegalStateException("Kafka " + kafkaVersion + " broker (child process) failed to start: "
                            + e.getMessage() + "\nIts log (kept): " + kafka.files.logFile + "; last lines:\n"
                            + kafka.files.logTail(LOG_TAIL_LINES), e);
                }
            }
        }
    }

    /** The directory of the Kafka 3.9 jars that the module testkit/kafka-3.9 copies at build time. */
    public static Path defaultLibDir() {
        return ChildKafkaDir.defaultLibDir();
    }

    private static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }

    private List<String> javaCommand(List<String> mainAndArgs) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(javaOptions);
        command.add("-Dlog4j.configuration=" + files.log4jProperties.toUri());
        command.add("-cp");
        command.add(files.launcherDir + File.pathSeparator + libDir.resolve("*"));
        command.addAll(mainAndArgs);
        return command;
    }

    private ProcessBuilder processBuilder(List<String> mainAndArgs) {
        ProcessBuilder pb = new ProcessBuilder(javaCommand(mainAndArgs)).directory(files.dir.toFile());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(files.logFile.toFile()));
        return pb;
    }

    private void format() throws IOException {
        String clusterId = Uuid.randomUuid().toString();
        ProcessBuilder pb = processBuilder(List.of("kafka.tools.StorageTool", "format",
                "--cluster-id", clusterId, "--config", files.serverProperties.toString()));
        Process formatter = pb.start();
        closeQuietly(formatter.getOutputStream()); // it reads nothing
        try {
            if (!formatter.waitFor(60, TimeUnit.SECONDS)) {
                formatter.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException("kafka.tools.StorageTool format did not finish within 60 s");
            }
        } catch (InterruptedException e) {
            formatter.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while formatting", e);
        }
        if (formatter.exitValue() != 0) {
            throw new IllegalStateException("kafka.tools.StorageTool format exited with " + formatter.exitValue());
        }
    }

    private void launch() throws IOException {
        files.appendToLog("==== edge-streaming testkit: starting kafka.Kafka " + files.serverProperties + "\n");
        process = processBuilder(List.of(ChildProcessMain.class.getName(), "kafka.Kafka",
                files.serverProperties.toString())).start();
        // The child's stdin stays open (ChildProcessMain exits at its end of file): never close it here.
        if (admin == null) {
            admin = Admin.create(plainClientProps());
        }
        awaitReady();
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        Map<String, Object> quick = plainClientProps();
        quick.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000);
        quick.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
        quick.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        Exception last = null;
        try (Admin probe = Admin.create(quick)) {
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("kafka.Kafka exited with " + process.exitValue());
                }
                try {
                    if (!probe.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                        probe.listTopics().names().get(5, TimeUnit.SECONDS);
                        return;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for the broker", e);
                } catch (Exception e) {
                    last = e;
                }
                sleep(100);
            }
        }
        throw new IllegalStateException("not serving requests at " + bootstrapServers() + " after "
                + startTimeout.toSeconds() + " s (last error: " + last + ")");
    }

    @Override
    public String bootstrapServers() {
        return "127.0.0.1:" + brokerPort;
    }

    @Override
    public Admin admin() {
        return admin;
    }

    @Override
    public Map<String, Object> plainClientProps() {
        Map<String, Object> props = new HashMap<>();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return props;
    }

    /** The release of the jars the child runs (from kafka_2.13-X.jar in the lib directory). */
    @Override
    public String kafkaVersion() {
        return kafkaVersion;
    }

    /** The version the running broker wrote in its log ("Kafka version: X"), if it did. */
    public Optional<String> loggedKafkaVersion() {
        return files.loggedKafkaVersion();
    }

    @Override
    public String describe() {
        return "Kafka " + kafkaVersion + " child process" + (process != null ? " (pid " + process.pid() + ")" : "")
                + " (transaction.version " + transactionVersion() + ") at " + bootstrapServers();
    }

    /** Everything the child printed: formatter and broker logs. Deleted by {@link #close()}. */
    public Path logFile() {
        return files.logFile;
    }

    /** The child's process id (changes with {@link #startBroker()}). */
    public long pid() {
        return process.pid();
    }

    /**
     * Stops the broker JVM (SIGTERM, a clean shutdown; killed after 30 s), keeping its data and port: clients get
     * connection refused until {@link #startBroker()}.
     */
    @Override
    public synchronized void stopBroker() {
        if (!brokerStopped && !closed) {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    LOG.warn("Kafka {} child broker did not stop within 30 s: killing it", kafkaVersion);
                    killChild();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                killChild();
            }
            brokerStopped = true;
            LOG.info("Kafka {} child broker at {} stopped", kafkaVersion, bootstrapServers());
        }
    }

    /** Starts the broker JVM again on the same ports with its data; waits until it serves requests. */
    @Override
    public synchronized void startBroker() {
        if (brokerStopped && !closed) {
            try {
                launch();
            } catch (IOException | RuntimeException e) {
                killChild();
                throw new IllegalStateException("Kafka " + kafkaVersion + " broker (child process) did not come back: "
                        + e.getMessage() + "\nIts log: " + files.logFile + "; last lines:\n" + files.logTail(LOG_TAIL_LINES), e);
            }
            brokerStopped = false;
            LOG.info("Kafka {} child broker at {} started again", kafkaVersion, bootstrapServers());
        }
    }

    /** Kills the child (no clean shutdown: nothing is kept) and deletes its directory. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeAdmin();
        killChild();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or will run: nothing to remove.
        }
        files.delete();
    }

    private void closeAdmin() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
    }

    private void killChild() {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
            try {
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    LOG.warn("Kafka child process {} did not die within 30 s", p.pid());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (p != null) {
            closeQuietly(p.getOutputStream());
        }
    }

    private static void closeQuietly(OutputStream out) {
        try {
            out.close();
        } catch (IOException ignored) {
            // The process is gone.
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
