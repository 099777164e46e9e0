package io.edgestreaming.testkit;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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

    private static final String BUILD_HINT = "build them with `mvn -B -ntp -pl testkit -am process-resources` "
            + "(module testkit/kafka-3.9 copies them) or point -D" + KAFKA_39_LIB_PROPERTY + " at a directory of jars";
    private static final Pattern KAFKA_JAR = Pattern.compile("kafka_2\\.1[23]-(\\d[^/]*)\\.jar");
    private static final Pattern VERSION_LINE = Pattern.compile("Kafka version: (\\S+)");
    private static final int START_ATTEMPTS = 3;
    private static final int LOG_TAIL_LINES = 40;

    private final Path libDir;
    private final String kafkaVersion;
    private final Path dir;
    private final Path logFile;
    private final Path serverProperties;
    private final Path log4jProperties;
    private final Path launcherDir;
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
        this.dir = dir;
        this.logFile = dir.resolve("kafka.log");
        this.serverProperties = dir.resolve("server.properties");
        this.log4jProperties = dir.resolve("log4j.properties");
        this.launcherDir = dir.resolve("launcher");
        this.brokerPort = brokerPort;
        this.javaOptions = List.copyOf(builder.javaOptions);
        this.startTimeout = builder.startTimeout;
        writeServerProperties(builder.brokerProps, controllerPort);
        writeLog4jProperties();
        copyLauncher();
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
            kafkaVersion = versionOfLib(libDir);
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
                                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), kafka.logFile);
                    }
                    return kafka;
                } catch (IOException | RuntimeException e) {
                    if (kafka == null) {
                        throw new IllegalStateException("cannot prepare a Kafka " + kafkaVersion + " broker: " + e, e);
                    }
                    boolean portTaken = kafka.logContains("Address already in use");
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
                            + e.getMessage() + "\nIts log (kept): " + kafka.logFile + "; last lines:\n"
                            + kafka.logTail(LOG_TAIL_LINES), e);
                }
            }
        }
    }

    /** The directory of the Kafka 3.9 jars that the module testkit/kafka-3.9 copies at build time. */
    public static Path defaultLibDir() {
        String configured = System.getProperty(KAFKA_39_LIB_PROPERTY);
        if (configured == null || configured.isBlank()) {
            Properties props = new Properties();
            try (InputStream in = ChildProcessKafka.class.getResourceAsStream("child-kafka.properties")) {
                if (in == null) {
                    throw new IllegalStateException("child-kafka.properties missing from the testkit's class path");
                }
                props.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            configured = props.getProperty("kafka39.lib");
        }
        Path lib = Path.of(configured);
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException("no Kafka 3.9 broker jars at " + lib + ": " + BUILD_HINT);
        }
        return lib;
    }

    private static String versionOfLib(Path libDir) {
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(libDir, "kafka_2.1*.jar")) {
            for (Path jar : jars) {
                Matcher m = KAFKA_JAR.matcher(jar.getFileName().toString());
                if (m.matches()) {
                    return m.group(1);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + libDir, e);
        }
        throw new IllegalStateException("no kafka_2.13-<version>.jar in " + libDir + ": " + BUILD_HINT);
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

    private void writeServerProperties(Map<String, String> extra, int controllerPort) throws IOException {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("node.id", "1");
        props.put("process.roles", "broker,controller");
        props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        props.put("controller.listener.names", "CONTROLLER");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("log.dirs", dir.resolve("data").toString());
        props.putAll(EmbeddedKafka.singleNodeDefaults());
        props.putAll(extra);
        StringBuilder text = new StringBuilder("# Written by the edge-streaming testkit (ChildProcessKafka)\n");
        props.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Files.writeString(serverProperties, text.toString(), StandardCharsets.UTF_8);
    }

    private void writeLog4jProperties() throws IOException {
        // The child's stdout and stderr go to kafka.log; the request log is too chatty to be useful here.
        Files.writeString(log4jProperties, String.join("\n",
                "log4j.rootLogger=INFO, stdout",
                "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
                "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
                "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
                "log4j.logger.kafka.request.logger=WARN",
                "log4j.logger.org.apache.kafka.clients.NetworkClient=WARN",
                ""), StandardCharsets.UTF_8);
    }

    /** Only ChildProcessMain (JDK-only) goes on the child's class path, not the testkit and its Kafka 4.2. */
    private void copyLauncher() throws IOException {
        String name = ChildProcessMain.class.getSimpleName() + ".class";
        Path target = launcherDir.resolve(ChildProcessMain.class.getPackageName().replace('.', '/')).resolve(name);
        Files.createDirectories(target.getParent());
        try (InputStream in = ChildProcessMain.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " not found on the class path");
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private List<String> javaCommand(List<String> mainAndArgs) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(javaOptions);
        command.add("-Dlog4j.configuration=" + log4jProperties.toUri());
        command.add("-cp");
        command.add(launcherDir + File.pathSeparator + libDir.resolve("*"));
        command.addAll(mainAndArgs);
        return command;
    }

    private ProcessBuilder processBuilder(List<String> mainAndArgs) {
        ProcessBuilder pb = new ProcessBuilder(javaCommand(mainAndArgs)).directory(dir.toFile());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        return pb;
    }

    private void format() throws IOException {
        String clusterId = Uuid.randomUuid().toString();
        ProcessBuilder pb = processBuilder(List.of("kafka.tools.StorageTool", "format",
                "--cluster-id", clusterId, "--config", serverProperties.toString()));
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
        appendToLog("==== edge-streaming testkit: starting kafka.Kafka " + serverProperties + "\n");
        process = processBuilder(List.of(ChildProcessMain.class.getName(), "kafka.Kafka",
                serverProperties.toString())).start();
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
        try (Stream<String> lines = Files.lines(logFile, StandardCharsets.UTF_8)) {
            return lines.map(VERSION_LINE::matcher).filter(Matcher::find).map(m -> m.group(1)).findFirst();
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty();
        }
    }

    @Override
    public String describe() {
        return "Kafka " + kafkaVersion + " child process" + (process != null ? " (pid " + process.pid() + ")" : "")
                + " (transaction.version " + transactionVersion() + ") at " + bootstrapServers();
    }

    /** Everything the child printed: formatter and broker logs. Deleted by {@link #close()}. */
    public Path logFile() {
        return logFile;
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
                        + e.getMessage() + "\nIts log: " + logFile + "; last lines:\n" + logTail(LOG_TAIL_LINES), e);
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
        deleteDirectory();
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

    private void deleteDirectory() {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("cannot delete the Kafka child broker's directory {}", dir, e);
        }
    }

    private boolean logContains(String text) {
        try (Stream<String> lines = Files.lines(logFile, StandardCharsets.UTF_8)) {
            return lines.anyMatch(line -> line.contains(text));
        } catch (IOException | UncheckedIOException e) {
            return false;
        }
    }

    private String logTail(int count) {
        try {
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    private void appendToLog(String text) throws IOException {
        Files.writeString(logFile, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
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
