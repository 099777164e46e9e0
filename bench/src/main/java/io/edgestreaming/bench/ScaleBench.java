package io.edgestreaming.bench;

import io.edgestreaming.config.ConfigException;
import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.job.EdgeStreamingPipeline;
import io.edgestreaming.testkit.ChildProcessKafka;
import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.HttpReceiver;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.NewTopic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Many tenants ({@code ./run-bench.sh --scale}): 10,000 streams of 2,000 clients over 2,000 destinations of all
 * endpoint types (1,000 paths of one HTTP receiver, 500 topics of one Kafka broker, 500 buckets of one S3 server,
 * all on loopback), exactly once, on a Flink MiniCluster as {@link EndToEndBench} runs it. In one run it measures the
 * configuration's cost (load, validate, route; the job graph), an idle job of all the streams (startup, heap, threads,
 * connections, metrics), then the job over a preloaded backlog that reaches every stream (throughput, checkpoints,
 * the same resources after every destination was delivered to and at their peak), and checks every destination.
 * The difference between the idle job and the job after its deliveries is what the destinations cost; it is printed
 * per destination and subtask, by endpoint type. Results go to the console and {@code results.txt} in the output
 * directory (default {@code bench/target/scale-bench}), the logs to {@code bench.log} there.
 */
public final class ScaleBench {
    private static final PrintStream OUT = System.out;
    static final String USAGE = "usage: ./run-bench.sh --scale [--streams 10000] [--destinations 2000] [--events 100000]"
            + " [--parallelism 2] [--checkpoint-interval 5s] [--max-interval 10s] [--settle-timeout 30m]"
            + " [--malformed-per-10000 10] [--seed 4529]"
            + " [--output bench/target/scale-bench]";
    private static final String HTTP_TOPIC = "http";
    private static final String WAF_TOPIC = "waf";
    private static final String DEAD_TOPIC = "dead-letters";
    private static final String S3_ACCESS = "scale-access";
    private static final String S3_SECRET = "scale-secret-key";
    private static final String ALLOWED_NETWORKS = "allowed_networks: [\"127.0.0.0/8\", \"::1/128\"]\n";

    record Options(int streams, int destinations, int events, int parallelism, Duration checkpointInterval,
            Duration maxInterval, Duration settleTimeout, int malformedPerTenThousand, long seed, Path output) {

        static Options parse(String[] args) {
            int streams = 10_000;
            int destinations = 2_000;
            int events = 100_000;
            int parallelism = 2;
            Duration checkpointInterval = Duration.ofSeconds(5);
            Duration maxInterval = Duration.ofSeconds(10);
            Duration settleTimeout = Duration.ofMinutes(30);
            int malformed = 10;
            long seed = 4529;
            Path output = Path.of("bench/target/scale-bench");
            for (int i = 0; i < args.length; i += 2) {
                String arg = args[i];
                if (arg.equals("-h") || arg.equals("--help")) {
                    throw new IllegalArgumentException("help");
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(arg + " needs a value");
                }
                String v = args[i + 1].replace("_", "").replace(",", "");
                switch (arg) {
                    case "--streams" -> streams = Integer.parseInt(v);
                    case "--destinations" -> destinations = Integer.parseInt(v);
                    case "--events" -> events = Integer.parseInt(v);
                    case "--parallelism" -> parallelism = Integer.parseInt(v);
                    case "--checkpoint-interval" -> checkpointInterval = duration(v);
                    case "--max-interval" -> maxInterval = duration(v);
                    case "--settle-timeout" -> settleTimeout = duration(v);
                    case "--malformed-per-10000" -> malformed = Integer.parseInt(v);
                    case "--seed" -> seed = Long.parseLong(v);
                    case "--output" -> output = Path.of(args[i + 1]);
                    default -> throw new IllegalArgumentException("unknown option " + arg);
                }
            }
            Tenants.of(streams, destinations); // checks the shape
            if (events < 1000 || parallelism < 1) {
                throw new IllegalArgumentException("--events at least 1000, --parallelism at least 1");
            }
            return new Options(streams, destinations, events, parallelism, checkpointInterval, maxInterval, settleTimeout,
                    malformed, seed, output);
        }

        /** "5s" or "30m". */
        private static Duration duration(String v) {
            long n = Long.parseLong(v.substring(0, v.length() - 1));
            return switch (v.charAt(v.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                default -> throw new IllegalArgumentException("durations in seconds or minutes, e.g. 5s or 30m");
            };
        }
    }

    private final Options options;
    private final StringBuilder results = new StringBuilder();
    private Path work;
    private ChildProcessKafka kafka;
    private HttpReceiver receiver;
    private EmbeddedS3 s3;
    private BenchCluster cluster;
    private Tenants tenants;
    private ScaleCorpus corpus;
    /** Server ports, to count connections by server. */
    private final Map<Integer, String> ports = new LinkedHashMap<>();
    private String allowedNetworks;

    private ScaleBench(Options options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            boolean help = "help".equals(e.getMessage());
            OUT.println((help ? "" : e.getMessage() + "\n") + USAGE);
            System.exit(help ? 0 : 2);
            return;
        }
        Files.createDirectories(options.output());
        // Before the first logger exists: log4j2 reads it when it configures the log file.
        System.setProperty("edge.bench.output", options.output().toAbsolutePath().toString());
        ScaleBench bench = new ScaleBench(options);
        int exit;
        try {
            exit = bench.run();
        } catch (Throwable e) {
            log().error("benchmark failed", e);
            OUT.println("FAILED: " + e);
            exit = 1;
        } finally {
            bench.shutdown();
        }
        // Thousands of delivery threads can keep the JVM's exit waiting; the results are written by now.
        int code = exit;
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                return;
            }
            Runtime.getRuntime().halt(code);
        }, "bench-exit-watchdog");
        halt.setDaemon(true);
        halt.start();
        System.exit(exit);
    }

    private int run() throws Exception {
        long started = System.nanoTime();
        work = Files.createTempDirectory("edge-scale-bench-");
        print(String.format(Locale.ROOT, "edge-streaming scale benchmark, %s %s UTC, %d cores, load average %s, %s %s,"
                        + " max heap %,d MB", LocalDate.now(ZoneOffset.UTC), LocalTime.now(ZoneOffset.UTC)
                        .truncatedTo(ChronoUnit.MINUTES), Runtime.getRuntime().availableProcessors(), BenchEnv.loadAverage(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"), Runtime.getRuntime().maxMemory() >> 20));
        print("options: " + options);
        tenants = Tenants.of(options.streams(), options.destinations());
        startServers();
        allowedNetworks = allowedNetworks();
        String yaml = yaml(HTTP_TOPIC, WAF_TOPIC, "scale-job", tenants);
        Files.writeString(options.output().resolve("scale-job.yaml"), yaml);
        print(String.format(Locale.ROOT, "tenants: %,d streams of %,d clients -> %,d destinations: %,d HTTP paths, %,d Kafka"
                        + " topics, %,d S3 buckets; %,d bytes of YAML (%s); allowed_networks %s", tenants.specs.size(),
                tenants.clients, tenants.destinations.size(), tenants.httpDestinations, tenants.kafkaDestinations,
                tenants.s3Destinations, yaml.length(), options.output().resolve("scale-job.yaml"),
                allowedNetworks.isEmpty() ? "not known to this build's configuration loader: left out" : "set to loopback"));

        ScaleReport report = new ScaleReport(this::print, tenants, options.parallelism());
        report.configAtScale(ConfigAtScale.measure(yaml, 3));

        print("writing the backlog ...");
        corpus = ScaleCorpus.write(kafka, HTTP_TOPIC, WAF_TOPIC, tenants, options.events(),
                options.malformedPerTenThousand(), options.seed());
        print("backlog: " + corpus.describe());

        cluster = BenchCluster.start(options.parallelism(), work);
        print("Flink MiniCluster: 1 TaskManager, " + options.parallelism() + " slots, REST " + cluster.restAddress);
        JobGraph full = jobGraph(yaml, "scale");
        report.graphSize(GraphSize.of(full), GraphSize.of(jobGraph(yaml("idle-http", "idle-waf", "graph-5",
                tenants.first(Tenants.STREAMS_PER_CLIENT)), "5 streams")), Tenants.STREAMS_PER_CLIENT);

        ScaleReport.Snapshot before = snapshot(null, Map.of());
        ScaleRun idle = new ScaleRun(cluster, this::print);
        ScaleReport.Snapshot idleSnapshot;
        print("");
        print("== idle job: every stream, empty raw topics");
        idle.submit(jobGraph(yaml("idle-http", "idle-waf", "scale-idle", tenants), "idle"));
        idle.awaitCheckpoints(1);
        Thread.sleep(2000);
        idle.firstCheckpointFrom(cluster.rest.checkpoints(idle.jobId()));
        idleSnapshot = snapshot(idle.jobId(), Map.of());
        cluster.cancel(idle.jobIdObject());

        print("");
        print("== job over the backlog");
        ScaleRun job = new ScaleRun(cluster, this::print);
        Resources.Peaks peaks;
        String failure = null;
        try (Resources.Peaks sampled = new Resources.Peaks(ports)) {
            peaks = sampled;
            job.submit(full);
            try {
                job.readAll(corpus.events);
                job.awaitDelivered(options.maxInterval().plusSeconds(1), options.settleTimeout());
            } catch (IllegalStateException e) {
                // What was measured up to here is still printed: a job that cannot keep up is a finding.
                failure = e.getMessage();
                print("  FAILED: " + failure);
            }
        }
        boolean running = !cluster.mini.getJobStatus(job.jobIdObject()).get(60, TimeUnit.SECONDS).isGloballyTerminalState();
        FlinkRest.Checkpoints checkpoints = cluster.rest.checkpoints(job.jobId());
        job.firstCheckpointFrom(checkpoints);
        job.updatePairs();
        ScaleReport.Snapshot after = snapshot(job.jobId(), job.pairs());
        Map<String, Integer> otherThreads = Resources.threadNames("other");
        Map<String, Integer> fdKinds = Resources.fileDescriptorKinds();
        List<String> buckets = tenants.destinations.stream().filter(d -> d.kind() == Streams.Kind.S3)
                .map(Tenants.Destination::name).toList();
        long heldByReceivers = Outputs.heldInJvm(receiver, s3, buckets);
        ScaleOutputs.Verification v = failure == null ? verify() : null;
        if (running) {
            cluster.cancel(job.jobIdObject());
        }

        report.startup(idle, job);
        report.throughput(job, corpus);
        if (failure != null) {
            print("");
            print("== the job did not deliver everything: " + failure + (running ? "" : "; the job had failed, so the"
                    + " \"after\" column below is after its failure (the peaks were sampled while it ran)"));
        }
        report.resources(before, idleSnapshot, after, peaks, heldByReceivers);
        print("  threads of no kind above after the traffic, by name (digits as #): " + otherThreads);
        print("  file descriptors after the traffic by kind: " + fdKinds + " (the limit: " + fdLimit() + ")");
        report.heapGrowth("idle job - before", before, idleSnapshot, 12, tenants.specs.size(), "stream");
        report.heapGrowth("after the traffic - idle job (the receivers' copies included)", idleSnapshot, after, 20,
                after.pairCount(), "destination and subtask");
        report.checkpoints(checkpoints, job.submitEpochMillis());
        print("");
        print("== exactly once");
        if (v == null) {
            print("  not checked: not everything was delivered");
        } else {
            v.lines().forEach(l -> print("  " + l));
            print("  => " + (v.exactlyOnce() ? "every record exactly once" : "NOT EXACTLY ONCE"));
        }
        print(String.format(Locale.ROOT, "(took %d min %d s; load average at the end %s)",
                TimeUnit.NANOSECONDS.toMinutes(System.nanoTime() - started),
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) % 60, BenchEnv.loadAverage()));
        Path file = options.output().resolve("results.txt");
        Files.writeString(file, results.toString());
        OUT.println("(also in " + file + "; logs in " + options.output().resolve("bench.log") + ")");
        return v == null ? 4 : v.exactlyOnce() ? 0 : 3;
    }

    private void startServers() throws Exception {
        kafka = BenchEnv.startChildBroker();
        receiver = HttpReceiver.start();
        s3 = EmbeddedS3.start(S3_ACCESS, S3_SECRET);
        ports.put(receiver.port(), "HTTP receiver");
        ports.put(Integer.parseInt(kafka.bootstrapServers().substring(kafka.bootstrapServers().lastIndexOf(':') + 1)),
                "Kafka broker");
        ports.put(s3.endpoint().getPort(), "S3 server");
        List<NewTopic> topics = new ArrayList<>();
        for (String raw : List.of(HTTP_TOPIC, WAF_TOPIC, "idle-http", "idle-waf")) {
            topics.add(new NewTopic(raw, 2, (short) 1));
        }
        topics.add(new NewTopic(DEAD_TOPIC, 1, (short) 1));
        for (Tenants.Destination d : tenants.destinations) {
            if (d.kind() == Streams.Kind.KAFKA) {
                topics.add(new NewTopic(d.name(), 1, (short) 1));
            } else if (d.kind() == Streams.Kind.S3) {
                s3.createBucket(d.name());
            }
        }
        kafka.admin().createTopics(topics).all().get(120, TimeUnit.SECONDS);
        print("servers: " + kafka.describe() + "; HTTP receiver " + receiver.url("/") + "; S3 " + s3.endpoint() + " ("
                + tenants.s3Destinations + " buckets); " + topics.size() + " topics");
    }

    /** The allowed_networks line when the configuration loader knows the key (a later version), else "". */
    private static String allowedNetworks() throws ConfigException {
        String probe = Streams.header("127.0.0.1:9092", "h", "w", "probe", "d", "file:///tmp/probe", "5s",
                ALLOWED_NETWORKS) + "  - {id: 1, name: p, client: c, template_id: 184, all_domains: true,"
                + " endpoint: {endpoint_type: standard, url: 'http://127.0.0.1:1/x'}}\n";
        try {
            ConfigLoader.parse(probe);
            return ALLOWED_NETWORKS;
        } catch (ConfigException e) {
            if (e.problems().stream().anyMatch(p -> p.startsWith("allowed_networks") && p.contains("unknown key"))) {
                return "";
            }
            throw e;
        }
    }

    private String yaml(String httpTopic, String wafTopic, String groupId, Tenants which) {
        String httpBase = receiver.url("/").toString().replaceAll("/$", "");
        return which.yaml(kafka.bootstrapServers(), httpTopic, wafTopic, groupId, DEAD_TOPIC,
                work.resolve("dead-blocks").toUri().toString(), options.checkpointInterval().toSeconds() + "s",
                options.maxInterval().toSeconds() + "s", allowedNetworks, httpBase, s3.endpoint().toString(), S3_ACCESS,
                S3_SECRET);
    }

    private JobGraph jobGraph(String yaml, String name) throws Exception {
        JobConfig config = ConfigLoader.parse(yaml);
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(new Configuration(cluster.config));
        env.setParallelism(options.parallelism());
        EdgeStreamingPipeline.build(env, config, EdgeStreamingPipeline.Options.UNBOUNDED);
        var graph = env.getStreamGraph();
        graph.setJobName("edge-streaming scale bench " + name + " (" + config.streams().size() + " streams)");
        return graph.getJobGraph();
    }

    /** {@code pairs}: the destinations delivered to per subtask, by type (see {@link ScaleReport#pairs}). */
    private ScaleReport.Snapshot snapshot(String jobId, Map<Streams.Kind, Integer> pairs) {
        long heap = BenchEnv.heapAfterGc();
        Map<String, long[]> classes = Resources.classHistogram();
        return new ScaleReport.Snapshot(heap, Resources.threads(), Resources.connections(ports),
                Resources.fileDescriptors(), Resources.memoryMappings(),
                jobId == null ? Map.of() : BenchMetrics.registered(jobId), pairs, classes);
    }

    private ScaleOutputs.Verification verify() throws Exception {
        Path deadBlocks = work.resolve("dead-blocks");
        ScaleOutputs.Verification v = ScaleOutputs.verify(tenants, corpus, receiver, kafka, s3, DEAD_TOPIC, deadBlocks);
        for (int attempt = 2; !v.exactlyOnce() && v.onlyMissing() && attempt <= 4; attempt++) {
            print("  not everything there yet, checking again in 5 s");
            Thread.sleep(5000);
            v = ScaleOutputs.verify(tenants, corpus, receiver, kafka, s3, DEAD_TOPIC, deadBlocks);
        }
        return v;
    }

    /** The process's limit of open files, from /proc/self/limits. */
    private static String fdLimit() {
        try {
            return Files.readAllLines(Path.of("/proc/self/limits")).stream().filter(l -> l.startsWith("Max open files"))
                    .map(l -> l.replaceAll("\\s+", " ").trim()).findFirst().orElse("unknown");
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    /** Not a static field: the log file's directory is set in main, before log4j2 starts. */
    private static Logger log() {
        return LoggerFactory.getLogger(ScaleBench.class);
    }

    private void print(String line) {
        OUT.println(line);
        results.append(line).append('\n');
        log().info(line);
    }

    private void shutdown() {
        for (AutoCloseable c : new AutoCloseable[] {cluster, receiver, s3, kafka}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    log().warn("closing {}: {}", c, e.toString());
                }
            }
        }
        if (work != null) {
            try {
                BenchEnv.deleteRecursively(work);
            } catch (Exception e) {
                log().warn("cannot delete {}: {}", work, e.toString());
            }
        }
    }
}
