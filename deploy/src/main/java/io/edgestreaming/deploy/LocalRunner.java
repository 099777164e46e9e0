package io.edgestreaming.deploy;

import io.edgestreaming.config.ConfigException;
import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.job.EdgeStreamingPipeline;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.HttpReceiver;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local runner ({@code ./run-local.sh}): in one JVM, a KRaft Kafka broker, an S3 server with the
 * example bucket, an HTTP receiver that stores what it gets, an event generator, and the job on a
 * MiniCluster with Flink's web UI, using {@code deploy/config/example.yaml}. Prints progress every 5 s
 * (the one place that writes to stdout) and stops cleanly on Ctrl-C or after {@code --duration}.
 */
public final class LocalRunner {
    /** Read by log4j2-local-runner.xml: the log file goes into the output directory. */
    static final String OUTPUT_DIR_PROPERTY = "edge.local.output";
    private static final PrintStream OUT = System.out;
    static final String BUCKET = "edge-logs";
    static final String S3_ACCESS_KEY = "local-access-key";
    static final String S3_SECRET_KEY = "local-secret-key";

    private final Options options;
    private final AtomicBoolean stopping = new AtomicBoolean();

    private EmbeddedKafka kafka;
    private EmbeddedS3 s3;
    private HttpReceiver receiver;
    private EventGenerator generator;
    private Thread generatorThread;
    private MiniCluster cluster;
    private JobID jobId;

    record Options(Path config, Duration duration, int eventsPerSecond, String restPorts, Path outputDir) {
        static Options parse(String[] args) {
            Path config = Path.of("deploy/config/example.yaml");
            Duration duration = null;
            int rate = 200;
            String ports = "8081-8099";
            Path output = Path.of(System.getProperty("java.io.tmpdir"), "edge-streaming-local");
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (arg) {
                    case "--config" -> config = Path.of(required(arg, value));
                    case "--duration" -> duration = parseDuration(required(arg, value));
                    case "--rate" -> rate = parseRate(required(arg, value));
                    case "--rest-port" -> ports = required(arg, value);
                    case "--output" -> output = Path.of(required(arg, value));
                    case "-h", "--help" -> throw new IllegalArgumentException("help");
                    default -> throw new IllegalArgumentException("unknown option " + arg);
                }
                i++;
            }
            return new Options(config, duration, rate, ports, output);
        }

        private static String required(String option, String value) {
            if (value == null) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return value;
        }

        /** 120s, 5m, 1h, 500ms, or a bare number of seconds; more than zero. */
        static Duration parseDuration(String text) {
            Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
            Duration d = null;
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                d = switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofSeconds(n);
                };
            }
            if (d == null || d.isZero()) {
                throw new IllegalArgumentException("--duration: '" + text + "' is not a duration (write e.g. 120s, 5m, 1h)");
            }
            return d;
        }

        private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|)");

        static int parseRate(String text) {
            try {
                int rate = Integer.parseInt(text.trim());
                if (rate > 0) {
                    return rate;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException("--rate: '" + text + "' is not a positive number of events per second");
        }
    }

    LocalRunner(Options options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            boolean help = "help".equals(e.getMessage());
            OUT.println((help ? "" : e.getMessage() + "\n")
                    + "usage: ./run-local.sh [--duration 120s] [--rate events-per-second] [--config deploy/config/example.yaml]"
                    + " [--rest-port 8081-8099] [--output dir]");
            System.exit(help ? 0 : 2);
            return;
        }
        // Before the first logger exists: log4j2 reads it once, when it configures the log file.
        System.setProperty(OUTPUT_DIR_PROPERTY, options.outputDir().toAbsolutePath().toString());
        LocalRunner runner = new LocalRunner(options);
        // Ctrl-C / TERM are handled here, not by a shutdown hook: the JVM's shutdown hooks of Kafka's
        // test kit delete the broker's directory while it still runs (the broker then halts the JVM),
        // so everything is stopped in order first and the JVM exits afterwards.
        for (String signal : new String[] {"INT", "TERM"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> runner.requestStop());
            } catch (IllegalArgumentException e) {
                log().debug("signal {} cannot be handled here: {}", signal, e.toString());
            }
        }
        int exit = runner.run();
        System.exit(exit);
    }

    int run() {
        try {
            start();
            return watch();
        } catch (ConfigException e) {
            OUT.println("The configuration " + options.config() + " cannot be used:");
            e.problems().forEach(p -> OUT.println("  " + p));
            return 2;
        } catch (Exception e) {
            log().error("local runner failed", e);
            OUT.println("FAILED: " + e);
            return 1;
        } finally {
            shutdown();
        }
    }

    private void start() throws Exception {
        Files.createDirectories(options.outputDir());
        Path httpDir = Files.createDirectories(options.outputDir().resolve("http-receiver"));
        OUT.println("Starting Kafka (KRaft), S3 (s3proxy) and the HTTP receiver ...");
        // Kafka's storage formatter prints to System.out; the console is for progress only.
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            kafka = EmbeddedKafka.start();
        } finally {
            System.setOut(OUT);
        }
        s3 = EmbeddedS3.start(S3_ACCESS_KEY, S3_SECRET_KEY);
        s3.createBucket(BUCKET);
        receiver = HttpReceiver.start();
        receiver.onDelivered(request -> store(httpDir, request));

        Map<String, String> env = new HashMap<>();
        env.put("EDGE_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
        env.put("EDGE_HTTP_URL", receiver.url("/ingest").toString());
        env.put("EDGE_S3_URL", s3.endpoint().toString());
        env.put("EDGE_S3_ACCESS_KEY", S3_ACCESS_KEY);
        env.put("EDGE_S3_SECRET_KEY", S3_SECRET_KEY);
        Path configFile = options.config().toAbsolutePath();
        // Loaded as a file, so its ${file:} references may read beside it as the job's would.
        JobConfig config = ConfigLoader.load(configFile,
                name -> env.containsKey(name) ? env.get(name) : System.getenv(name));

        Set<String> topics = new LinkedHashSet<>(config.source().topics().values());
        topics.add(config.deadLetter().eventsTopic());
        for (StreamConfig stream : config.streams()) {
            if (stream.endpoint() instanceof KafkaEndpoint k && k.bootstrapServers().equals(kafka.bootstrapServers())) {
                topics.add(k.kafkaTopic());
            }
        }
        for (String topic : topics) {
            kafka.createTopic(topic, config.source().topics().containsValue(topic) ? 2 : 1);
        }

        String httpTopic = config.source().topics().get(DataSource.HTTP);
        String wafTopic = config.source().topics().get(DataSource.WAF);
        generator = new EventGenerator(kafka.producer(), httpTopic, wafTopic, options.eventsPerSecond());
        generatorThread = new Thread(generator, "event-generator");
        generatorThread.setDaemon(true);
        generatorThread.start();

        Configuration flink = new Configuration();
        flink.set(RestOptions.BIND_PORT, options.restPorts());
        flink.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        flink.setString("metrics.reporter.progress.factory.class", ProgressMetrics.Factory.class.getName());
        cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(flink)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(2)
                .build());
        cluster.start();

        StreamExecutionEnvironment jobEnv = new StreamExecutionEnvironment(flink);
        jobEnv.setParallelism(2);
        EdgeStreamingPipeline.build(jobEnv, config, EdgeStreamingPipeline.Options.UNBOUNDED);
        StreamGraph streamGraph = jobEnv.getStreamGraph();
        streamGraph.setJobName("edge-streaming (local, " + config.streams().size() + " streams)");
        JobGraph graph = streamGraph.getJobGraph();
        jobId = cluster.submitJob(graph).get(60, TimeUnit.SECONDS).getJobID();

        URI web = cluster.getRestAddress().get(30, TimeUnit.SECONDS);
        OUT.println();
        OUT.println("edge-streaming is running locally (" + options.eventsPerSecond() + " events/s"
                + (options.duration() == null ? ", Ctrl-C to stop" : ", for " + options.duration().toSeconds() + " s")
                + ").");
        OUT.println("  Flink web UI     " + web);
        OUT.println("  Kafka            " + kafka.bootstrapServers() + "  raw topics " + config.source().topics().values()
                + ", dead letters " + config.deadLetter().eventsTopic() + ", all topics " + topics);
        OUT.println("  HTTP receiver    " + receiver.url("/ingest") + "  bodies stored in " + httpDir);
        OUT.println("  S3               " + s3.endpoint() + "  bucket " + BUCKET + " (access key " + S3_ACCESS_KEY + ")");
        OUT.println("  dead blocks      " + config.deadLetter().blocksPath());
        OUT.println("  logs             " + options.outputDir().resolve("local-runner.log"));
        OUT.println("  config           " + configFile);
        OUT.println();
        streamNames = new TreeMap<>();
        for (StreamConfig stream : config.streams()) {
            streamNames.put(String.valueOf(stream.id()), stream.name() + " -> " + stream.endpoint().endpointType()
                    + (stream.active() ? "" : " (inactive)"));
        }
    }

    private Map<String, String> streamNames = Map.of();

    private int watch() throws Exception {
        long started = System.nanoTime();
        long deadline = options.duration() == null ? Long.MAX_VALUE : started + options.duration().toNanos();
        long nextReport = started + TimeUnit.SECONDS.toNanos(5);
        while (!stopping.get() && System.nanoTime() < deadline) {
            JobStatus status = cluster.getJobStatus(jobId).get(10, TimeUnit.SECONDS);
            if (status.isGloballyTerminalState()) {
                OUT.println("The job ended: " + status + " (see " + options.outputDir().resolve("local-runner.log") + ")");
                return status == JobStatus.FINISHED ? 0 : 1;
            }
            if (System.nanoTime() >= nextReport) {
                report(Duration.ofNanos(System.nanoTime() - started), status);
                nextReport += TimeUnit.SECONDS.toNanos(5);
            }
            Thread.sleep(200);
        }
        report(Duration.ofNanos(System.nanoTime() - started), cluster.getJobStatus(jobId).get(10, TimeUnit.SECONDS));
        return 0;
    }

    private void report(Duration elapsed, JobStatus status) {
        OUT.printf("[%4ds] %s | events generated %,d (malformed %,d) | read %,d | records routed %,d | unrouted %,d"
                        + " | dead-lettered %,d%s%n",
                elapsed.toSeconds(), status, generator.generated(), generator.malformed(),
                ProgressMetrics.sum("eventsRead"), ProgressMetrics.sum("recordsRouted"),
                ProgressMetrics.sum("eventsUnrouted"), ProgressMetrics.sum("eventsDeadLettered"), reasons());
        Map<String, long[]> perStream = new TreeMap<>();
        Map<String, long[]> perDestination = new TreeMap<>();
        for (ProgressMetrics.Entry e : ProgressMetrics.entries()) {
            if (e.stream() != null) {
                long[] v = perStream.computeIfAbsent(e.stream(), k -> new long[3]);
                switch (e.name()) {
                    case "records" -> v[0] += e.value();
                    case "blocksCut" -> v[1] += e.value();
                    case "blockBytesCut" -> v[2] += e.value();
                    default -> { }
                }
            } else if (e.destination() != null) {
                long[] v = perDestination.computeIfAbsent(e.destination(), k -> new long[5]);
                switch (e.name()) {
                    case "deliveredBlocks" -> v[0] += e.value();
                    case "deliveredBytes" -> v[1] += e.value();
                    case "pendingBlocks" -> v[2] += e.value();
                    case "deadLetteredBlocks" -> v[3] += e.value();
                    case "retries" -> v[4] += e.value();
                    default -> { }
                }
            }
        }
        perStream.forEach((id, v) -> OUT.printf("    stream %s %-40s records %,9d | blocks cut %,6d (%s)%n", id,
                streamNames.getOrDefault(id, ""), v[0], v[1], bytes(v[2])));
        perDestination.forEach((id, v) -> OUT.printf("    destination %-50s delivered %,6d blocks (%s) | pending %,d"
                + " | dead-lettered %,d | retries %,d%n", id, v[0], bytes(v[1]), v[2], v[3], v[4]));
        OUT.printf("    receiver %,d blocks | bucket %s %,d objects%n", receiver.deliveredBlocks().size(), BUCKET,
                s3.listKeys(BUCKET).size());
    }

    private static String reasons() {
        Map<String, Long> byReason = new TreeMap<>();
        for (ProgressMetrics.Entry e : ProgressMetrics.entries()) {
            if (e.name().equals("eventsDeadLettered") && e.reason() != null) {
                byReason.merge(e.reason(), e.value(), Long::sum);
            }
        }
        return byReason.isEmpty() ? "" : " " + byReason;
    }

    private static String bytes(long n) {
        return n < 10_000 ? n + " B" : n < 10_000_000 ? (n / 1000) + " kB" : (n / 1_000_000) + " MB";
    }

    private static void store(Path dir, HttpReceiver.Request request) {
        String key = request.idempotencyKey() == null ? "request-" + System.nanoTime() : request.idempotencyKey();
        try {
            Files.write(dir.resolve(key.replaceAll("[^A-Za-z0-9._-]", "_") + ".txt"), request.decodedBody());
        } catch (IOException e) {
            log().warn("cannot store a received block in {}: {}", dir, e.toString());
        }
    }

    /** Ctrl-C: the main loop stops, shuts everything down in order, then exits. */
    private void requestStop() {
        if (stopping.compareAndSet(false, true)) {
            OUT.println("Stopping ...");
        }
    }

    private void shutdown() {
        stopping.set(true);
        try {
            if (generator != null) {
                generator.stop();
                generatorThread.join(5_000);
            }
            if (cluster != null) {
                if (jobId != null) {
                    try {
                        cluster.cancelJob(jobId).get(30, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        log().debug("cancel: {}", e.toString());
                    }
                }
                cluster.closeAsync().get(60, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            log().warn("shutting down the MiniCluster: {}", e.toString());
        } finally {
            closeQuietly(receiver);
            closeQuietly(s3);
            closeQuietly(kafka);
            OUT.println("Stopped. Outputs stay in " + options.outputDir() + ".");
        }
    }

    /** Not a static field: the logger must not be created before main sets {@link #OUTPUT_DIR_PROPERTY}. */
    private static Logger log() {
        return LoggerFactory.getLogger(LocalRunner.class);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable != null) {
            try {
                closeable.close();
            } catch (Exception e) {
                log().warn("closing {}: {}", closeable.getClass().getSimpleName(), e.toString());
            }
        }
    }
}
