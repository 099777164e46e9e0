package io.edgestreaming.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of one {@link ChildProcessKafka}: its temporary directory with the broker's configuration, the
 * launcher class, the data and the log everything the child prints goes to; and where the broker's jars are.
 */
final class ChildKafkaDir {
    private static final Logger LOG = LoggerFactory.getLogger(ChildKafkaDir.class);
    private static final String BUILD_HINT = "build them with `mvn -B -ntp -pl testkit -am process-resources` "
            + "(module testkit/kafka-3.9 copies them) or point -D" + ChildProcessKafka.KAFKA_39_LIB_PROPERTY
            + " at a directory of jars";
    private static final Pattern KAFKA_JAR = Pattern.compile("kafka_2\\.1[23]-(\\d[^/]*)\\.jar");
    private static final Pattern VERSION_LINE = Pattern.compile("Kafka version: (\\S+)");

    final Path dir;
    final Path logFile;
    final Path serverProperties;
    final Path log4jProperties;
    final Path launcherDir;

    ChildKafkaDir(Path dir) {
        this.dir = dir;
        this.logFile = dir.resolve("kafka.log");
        this.serverProperties = dir.resolve("server.properties");
        this.log4jProperties = dir.resolve("log4j.properties");
        this.launcherDir = dir.resolve("launcher");
    }

    /** The directory of the Kafka 3.9 jars that the module testkit/kafka-3.9 copies at build time. */
    static Path defaultLibDir() {
        String configured = System.getProperty(ChildProcessKafka.KAFKA_39_LIB_PROPERTY);
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

    /** The release of the jars in {@code libDir}, from its kafka_2.13-X.jar. */
    static String versionOfLib(Path libDir) {
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

    /** KRaft in combined mode: node 1 is broker and controller, listeners on 127.0.0.1; {@code extra} wins. */
    void writeServerProperties(int brokerPort, int controllerPort, Map<String, String> extra) throws IOException {
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
        props.putAll(BrokerSettings.singleNodeDefaults());
        props.putAll(extra);
        StringBuilder text = new StringBuilder("# Written by the edge-streaming testkit (ChildProcessKafka)\n");
        props.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Files.writeString(serverProperties, text.toString(), StandardCharsets.UTF_8);
    }

    void writeLog4jProperties() throws IOException {
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
    void copyLauncher() throws IOException {
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

    void appendToLog(String text) throws IOException {
        Files.writeString(logFile, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    boolean logContains(String text) {
        try (Stream<String> lines = Files.lines(logFile, StandardCharsets.UTF_8)) {
            return lines.anyMatch(line -> line.contains(text));
        } catch (IOException | UncheckedIOException e) {
            return false;
        }
    }

    String logTail(int count) {
        try {
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    /** The version the broker wrote in its log ("Kafka version: X"), if it did. */
    Optional<String> loggedKafkaVersion() {
        try (Stream<String> lines = Files.lines(logFile, StandardCharsets.UTF_8)) {
            return lines.map(VERSION_LINE::matcher).filter(Matcher::find).map(m -> m.group(1)).findFirst();
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty();
        }
    }

    void delete() {
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
}
