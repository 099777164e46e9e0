package io.edgestreaming.bench;

import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.job.EdgeStreamingPipeline;
import io.edgestreaming.testkit.ChildProcessKafka;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.HttpReceiver;
import io.edgestreaming.testkit.TestKafka;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * End to end throughput, three readers of one preloaded backlog side by side in one run ({@code ./run-bench.sh}):
 *
 * <ol>
 *   <li><b>raw</b>: Kafka's own consumer (read_committed, from the earliest offsets, settings of Kafka's
 *       ConsumerPerformance) reading the raw topics {@code http} and {@code waf};</li>
 *   <li><b>job</b>: the whole job ({@link EdgeStreamingPipeline#build}) on a Flink MiniCluster, exactly-once
 *       checkpoints every 5 s, ten streams delivering to an HTTP receiver, Kafka topics on the same broker and an S3
 *       bucket on s3proxy; afterwards every endpoint is checked to hold each expected record exactly once;</li>
 *   <li><b>stock</b>: what a user would write instead: KafkaSource -> Jackson tree projection of template 184 ->
 *       KafkaSink exactly once (checked the same way).</li>
 * </ol>
 *
 * <p>The broker is a Kafka 4.2 child process (its CPU is measured apart); the MiniCluster, the HTTP receiver,
 * s3proxy and the raw consumer share this JVM. Rates are taken between the moments 10% and 90% of the backlog had
 * been read, and so are the CPU figures. Everything is printed to the console and to {@code results.txt} in the
 * output directory (default {@code bench/target/e2e-bench}), the logs to {@code bench.log} there.
 */
public final class EndToEndBench {
    private static final PrintStream OUT = System.out;
    private static final String OUTPUT_PROPERTY = "edge.bench.output";
    private static final String HTTP_TOPIC = "http";
    private static final String WAF_TOPIC = "waf";
    private static final Duration CHECKPOINT_INTERVAL = Duration.ofSeconds(5);
    private static final Duration MAX_INTERVAL = Duration.ofSeconds(5);
    private static final String S3_ACCESS = "bench-access";
    private static final String S3_SECRET = "bench-secret-key";

    /** {@code profile}: null, "itimer" (CPU) or "wall" (wall clock of the task threads); the last round only. */
    record Options(int events, int rounds, int parallelism, int malformedPerTenThousand, boolean childBroker,
            String profile, Path output, long seed, List<String> backends) {

        static Options parse(String[] args) {
            int events = 1_000_000;
            int rounds = 3;
            int parallelism = 2;
            int malformed = 10;
            boolean child = true;
            String profile = null;
            Path output = Path.of("bench/target/e2e-bench");
            long seed = 4529;
            List<String> backends = List.of("hashmap");
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (arg) {
                    case "--events" -> events = Integer.parseInt(required(arg, value).replace("_", "").replace(",", ""));
                    case "--rounds" -> rounds = Integer.parseInt(required(arg, value));
                    case "--parallelism" -> parallelism = Integer.parseInt(required(arg, value));
                    case "--malformed-per-10000" -> malformed = Integer.parseInt(required(arg, value));
                    case "--broker" -> child = switch (required(arg, value)) {
                        case "child" -> true;
                        case "embedded" -> false;
                        default -> throw new IllegalArgumentException("--broker: child or embedded");
                    };
                    case "--seed" -> seed = Long.parseLong(required(arg, value));
                    case "--output" -> output = Path.of(required(arg, value));
                    case "--state-backends" -> {
                        backends = List.of(required(arg, value).split(","));
                        if (backends.isEmpty() || !List.of("hashmap", "rocksdb", "forst").containsAll(backends)
                                || backends.stream().distinct().count() != backends.size()) {
                            throw new IllegalArgumentException("--state-backends: a list of hashmap, rocksdb, forst");
                        }
                    }
                    case "--profile" -> {
                        profile = "itimer";
                        i--;
                    }
                    case "--profile-wall" -> {
                        profile = "wall";
                        i--;
                    }
                    case "-h", "--help" -> throw new IllegalArgumentException("help");
                    default -> throw new IllegalArgumentException("unknown option " + arg);
                }
                i++;
            }
            if (events < 1000 || rounds < 1 || parallelism < 1) {
                throw new IllegalArgumentException("--events at least 1000, --rounds and --parallelism at least 1");
            }
            return new Options(events, rounds, parallelism, malformed, child, profile, output, seed, backends);
        }

        private static String required(String option, String value) {
            if (value == null) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return value;
        }
    }

    private final Options options;
    private final StringBuilder results = new StringBuilder();
    private TestKafka kafka;
    private Long brokerPid;
    private Path work;
    private BenchCluster benchCluster;
    private MiniCluster cluster;
    private Configuration flinkConfig;
    private FlinkRest rest;
    private Probe probe;
    private GcWatcher gcWatcher;
    private Profiler profiler;
    private Corpus corpus;
    /** Whether this round's Flink runs are profiled (the last round, on the warmest JVM). */
    private boolean profiling;

    private EndToEndBench(Options options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            boolean help = "help".equals(e.getMessage());
            OUT.println((help ? "" : e.getMessage() + "\n") + "usage: ./run-bench.sh [--events 1000000] [--rounds 3]"
                    + " [--parallelism 2] [--malformed-per-10000 10] [--broker child|embedded] [--profile | --profile-wall]"
                    + " [--seed 4529] [--output bench/target/e2e-bench] [--state-backends hashmap,rocksdb,forst]");
            System.exit(help ? 0 : 2);
            return;
        }
        Files.createDirectories(options.output());
        // Before the first logger exists: log4j2 reads it when it configures the log file.
        System.setProperty(OUTPUT_PROPERTY, options.output().toAbsolutePath().toString());
        int exit;
        EndToEndBench bench = new EndToEndBench(options);
        try {
            exit = bench.run();
        } catch (Throwable e) {
            log().error("benchmark failed", e);
            OUT.println("FAILED: " + e);
            exit = 1;
        } finally {
            bench.shutdown();
        }
        System.exit(exit);
    }

    private static Logger log() {
        return LoggerFactory.getLogger(EndToEndBench.class);
    }

    // ---------------------------------------------------------------- the run

    private int run() throws Exception {
        long started = System.nanoTime();
        work = Files.createTempDirectory("edge-bench-");
        gcWatcher = new GcWatcher();
        print(String.format(Locale.ROOT, "edge-streaming end-to-end benchmark, %s, %d cores, load average %s, %s %s,"
                        + " max heap %,d MB", LocalDate.now(), Runtime.getRuntime().availableProcessors(), BenchEnv.loadAverage(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"),
                Runtime.getRuntime().maxMemory() >> 20));
        print("options: " + options);

        startBroker();
        kafka.createTopic(HTTP_TOPIC, 2);
        kafka.createTopic(WAF_TOPIC, 2);
        print("writing the backlog ...");
        corpus = Corpus.write(kafka, HTTP_TOPIC, WAF_TOPIC, options.events(), options.malformedPerTenThousand(),
                options.seed());
        print("backlog: " + corpus.describe());
        for (Streams.Spec s : Streams.ALL) {
            log().info("stream {} {}: {} records expected", s.id(), s.name(), corpus.expected.get(s.id()).size());
        }
        startMiniCluster();
        if (options.profile() != null) {
            profiler = Profiler.load(work, options.profile());
        }

        List<RawResult> raws = new ArrayList<>();
        // One list of the job's results per state backend, in the order given.
        Map<String, List<FlinkResult>> jobs = new LinkedHashMap<>();
        options.backends().forEach(b -> jobs.put(b, new ArrayList<>()));
        List<FlinkResult> stocks = new ArrayList<>();
        for (int round = 1; round <= options.rounds(); round++) {
            String run = "r" + round;
            profiling = profiler != null && round == options.rounds();
            print("");
            print("== round " + round + " of " + options.rounds() + " (load average " + BenchEnv.loadAverage() + ")");
            raws.add(raw(run));
            // Alternate the order of the two Flink pipelines: neither always runs on a warmer JVM.
            // With several state backends, their order is reversed every round as well.
            List<String> backends = new ArrayList<>(options.backends());
            if (round % 2 == 0) {
                stocks.add(stock(run));
                java.util.Collections.reverse(backends);
            }
            for (String backend : backends) {
                jobs.get(backend).add(job(run, backend));
            }
            if (round % 2 == 1) {
                stocks.add(stock(run));
            }
        }
        summary(raws, jobs, stocks, Duration.ofNanos(System.nanoTime() - started));
        Path file = options.output().resolve("results.txt");
        Files.writeString(file, results.toString());
        OUT.println("(also in " + file + "; logs in " + options.output().resolve("bench.log") + ")");
        boolean exactlyOnce = jobs.values().stream().flatMap(List::stream).allMatch(FlinkResult::exactlyOnce)
                && stocks.stream().allMatch(FlinkResult::exactlyOnce);
        return exactlyOnce ? 0 : 3;
    }

    private void startBroker() {
        if (options.childBroker()) {
            ChildProcessKafka child = BenchEnv.startChildBroker();
            kafka = child;
            brokerPid = child.pid();
        } else {
            // Kafka's storage formatter prints to System.out; the console is for results only.
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            try {
                kafka = EmbeddedKafka.start();
            } finally {
                System.setOut(OUT);
            }
        }
        probe = new Probe(brokerPid);
        print("broker: " + kafka.describe() + (brokerPid == null ? " (in this JVM: its CPU is in the JVM's)" : ""));
    }

    private void startMiniCluster() throws Exception {
        benchCluster = BenchCluster.start(options.parallelism(), work);
        cluster = benchCluster.mini;
        flinkConfig = benchCluster.config;
        rest = benchCluster.rest;
        print("Flink MiniCluster: 1 TaskManager, " + options.parallelism() + " slots, REST " + benchCluster.restAddress);
    }

    // ---------------------------------------------------------------- 1. Kafka's own consumer

    record RawResult(long events, long bytes, double seconds, double rate, double mbPerSecond, double cpuPerM,
            double brokerCpuPerM) {}

    private RawResult raw(String run) {
        Properties props = new Properties();
        props.putAll(kafka.plainClientProps());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-raw-" + run);
        // Kafka's ConsumerPerformance defaults: 2 MB socket buffer, 1 MB per partition and fetch, no CRC checks.
        props.put(ConsumerConfig.RECEIVE_BUFFER_CONFIG, 2 * 1024 * 1024);
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024 * 1024);
        props.put(ConsumerConfig.CHECK_CRCS_CONFIG, false);
        long n = corpus.events;
        long count = 0;
        long bytes = 0;
        long bytes10 = 0;
        long bytes90 = 0;
        Probe.Snapshot s10 = null;
        Probe.Snapshot s90 = null;
        long start = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : List.of(HTTP_TOPIC, WAF_TOPIC)) {
                for (PartitionInfo p : consumer.partitionsFor(topic)) {
                    partitions.add(new TopicPartition(topic, p.partition()));
                }
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            while (count < n) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    count++;
                    bytes += r.value().length + (r.key() == null ? 0 : r.key().length);
                }
                if (s10 == null && count >= n / 10) {
                    s10 = probe.snapshot(count);
                    bytes10 = bytes;
                }
                if (s90 == null && count >= n * 9 / 10) {
                    s90 = probe.snapshot(count);
                    bytes90 = bytes;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the raw consumer read " + count + " of " + n + " in 10 minutes");
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double window = (s90.nanos() - s10.nanos()) / 1e9;
        long windowEvents = s90.events() - s10.events();
        RawResult r = new RawResult(count, bytes, seconds, windowEvents / window, (bytes90 - bytes10) / 1e6 / window,
                cpuPerMillion(s90.processCpu() - s10.processCpu(), windowEvents),
                s10.brokerCpu() < 0 ? Double.NaN : cpuPerMillion(s90.brokerCpu() - s10.brokerCpu(), windowEvents));
        print(String.format(Locale.ROOT, "raw KafkaConsumer: %,d events (%.1f MB) in %.2f s; 10%%-90%%: %,.0f events/s,"
                        + " %.1f MB/s; CPU per million events: %.2f s this JVM, %s broker", count, bytes / 1e6, seconds,
                r.rate(), r.mbPerSecond(), r.cpuPerM(), brokerCpu(r.brokerCpuPerM())));
        return r;
    }

    // ---------------------------------------------------------------- 2. the job, 3. the stock pipeline

    record FlinkResult(String name, double rate, double seconds, double cpuPerM, double brokerCpuPerM,
            Map<String, Long> cpuGroups, long windowEvents, long maxPauseMs, double pauseAtSeconds, long maxPauseAllMs,
            double busy, double backPressured, double idle, double gcPercent, long peakHeapAfterGc, long heapBefore,
            long heapEnd, long receiverBytes, FlinkRest.Checkpoints checkpoints, long submitEpochMillis,
            double settleSeconds, List<String> verification, boolean exactlyOnce, String profile, String pauseContext,
            List<Long> bytesRead, double maxWrittenPerRead) {}

    private FlinkResult job(String round, String backend) throws Exception {
        boolean several = options.backends().size() > 1;
        String run = several ? round + "-" + backend : round;
        String name = options.backends().equals(List.of("hashmap")) ? "edge-streaming job" : "edge-streaming job (" + backend + ")";
        HttpReceiver receiver = HttpReceiver.start();
        EmbeddedS3 s3 = EmbeddedS3.start(S3_ACCESS, S3_SECRET);
        String bucket = "bench-" + run;
        try {
            s3.createBucket(bucket);
            String deadTopic = "dead-" + run;
            kafka.createTopic(deadTopic, 1);
            for (Streams.Spec s : Streams.ALL) {
                if (s.kind() == Streams.Kind.KAFKA) {
                    kafka.createTopic(s.topic(run), 2);
                }
            }
            Path deadBlocks = work.resolve("dead-blocks-" + run);
            String baseUrl = receiver.url("/").toString().replaceAll("/$", "");
            String yaml = Streams.yaml(new Streams.Targets(run, baseUrl, kafka.bootstrapServers(), s3.endpoint().toString(),
                            bucket, S3_ACCESS, S3_SECRET), kafka.bootstrapServers(), HTTP_TOPIC, WAF_TOPIC, deadTopic,
                    deadBlocks.toUri().toString(), CHECKPOINT_INTERVAL.toSeconds() + "s", MAX_INTERVAL.toSeconds() + "s");
            Files.writeString(options.output().resolve("job-" + run + ".yaml"), yaml);
            JobConfig config = ConfigLoader.parse(yaml);
            Configuration jobConfig = new Configuration(flinkConfig);
            jobConfig.setString("state.backend.type", backend);
            if (!backend.equals("hashmap")) {
                // What a deployment on RocksDB or ForSt would use: only new SST files go into each checkpoint.
                jobConfig.setString("execution.checkpointing.incremental", "true");
                jobConfig.setString(backend.equals("rocksdb") ? "state.backend.rocksdb.localdir" : "state.backend.forst.local-dir",
                        work.resolve(backend + "-" + run).toString());
            }
            StreamExecutionEnvironment env = new StreamExecutionEnvironment(jobConfig);
            env.setParallelism(options.parallelism());
            EdgeStreamingPipeline.build(env, config, EdgeStreamingPipeline.Options.UNBOUNDED);
            StreamGraph graph = env.getStreamGraph();
            graph.setJobName("edge-streaming bench " + run + " (" + config.streams().size() + " streams)");

            BooleanSupplier delivered = () -> BenchMetrics.sum("pendingBlocks") == 0
                    && BenchMetrics.sum("blocksCut") == BenchMetrics.sum("deliveredBlocks")
                    + BenchMetrics.sum("deadLetteredBlocks");
            Function<Integer, Verification> verify = attempt -> verifyJob(run, receiver, s3, bucket, deadTopic, deadBlocks);
            return measure(name, run, graph.getJobGraph(), MAX_INTERVAL.plusSeconds(1), delivered,
                    verify, () -> Outputs.heldInJvm(receiver, s3, List.of(bucket)));
        } finally {
            receiver.close();
            s3.close();
            List<String> topics = new ArrayList<>(List.of("dead-" + run));
            Streams.ALL.stream().filter(s -> s.kind() == Streams.Kind.KAFKA).forEach(s -> topics.add(s.topic(run)));
            deleteTopics(topics);
        }
    }

    /** Frees the broker's disk of a finished run's output (a million events' output is gigabytes). */
    private void deleteTopics(List<String> topics) {
        try {
            kafka.admin().deleteTopics(topics).all().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            log().warn("cannot delete topics {}: {}", topics, e.toString());
        }
    }

    private FlinkResult stock(String run) throws Exception {
        String out = "stock-" + run;
        kafka.createTopic(out, 2);
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(new Configuration(flinkConfig));
        env.setParallelism(options.parallelism());
        StockPipeline.build(env, kafka.bootstrapServers(), HTTP_TOPIC, WAF_TOPIC, out, run, CHECKPOINT_INTERVAL.toMillis());
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName("stock Flink pipeline bench " + run);
        Function<Integer, Verification> verify = attempt -> {
            LongBag held = Outputs.topic(kafka, out);
            LongBag.Comparison c = LongBag.compare("kafka " + out + " (read_committed)", corpus.expectedStock, held);
            return new Verification(List.of(c.describe()), c.exactlyOnce(), !c.exactlyOnce() && c.duplicated() == 0
                    && c.unexpected() == 0);
        };
        try {
            return measure("stock Flink pipeline", run, graph.getJobGraph(), Duration.ZERO, () -> true, verify, () -> 0L);
        } finally {
            deleteTopics(List.of(out));
        }
    }

    /** What the endpoints hold: lines to print, exactly once or not, and whether waiting longer could help. */
    record Verification(List<String> lines, boolean exactlyOnce, boolean onlyMissing) {}

    /**
     * Submits a job, samples it every 100 ms until it has read the whole backlog, then waits until it has delivered
     * everything (the metric condition, and two more completed checkpoints), checks the endpoints, and cancels it.
     */
    private FlinkResult measure(String name, String run, JobGraph graph, Duration settleAtLeast,
            BooleanSupplier deliveredCondition, Function<Integer, Verification> verify,
            java.util.function.LongSupplier receiverBytes) throws Exception {
        long n = corpus.events;
        System.gc();
        long heapBefore = BenchEnv.heapUsed();
        long submitEpoch = System.currentTimeMillis();
        long submitNanos = System.nanoTime();
        JobID jobId = cluster.submitJob(graph).get(60, TimeUnit.SECONDS).getJobID();
        String id = jobId.toString();
        print(name + ": submitted job " + id);

        record Sample(long nanos, long events, double busy, double backPressured, double idle) {}
        List<Sample> samples = new ArrayList<>();
        Probe.Snapshot s10 = null;
        Probe.Snapshot s90 = null;
        long peakHeap = -1;
        String profile = null;
        long deadline = submitNanos + TimeUnit.SECONDS.toNanos(Math.max(300, n / 500));
        long nextStatus = 0;
        while (true) {
            long now = System.nanoTime();
            if (now >= nextStatus) {
                checkRunning(jobId);
                nextStatus = now + TimeUnit.SECONDS.toNanos(1);
            }
            long events = (long) BenchMetrics.sum("eventsRead", e -> id.equals(e.jobId()));
            samples.add(new Sample(now, events, sourceGauge(id, "busyTimeMsPerSecond"),
                    sourceGauge(id, "backPressuredTimeMsPerSecond"), sourceGauge(id, "idleTimeMsPerSecond")));
            if (s10 == null && events >= n / 10) {
                s10 = probe.snapshot(events);
                gcWatcher.open();
                if (profiling) {
                    profiler.start();
                }
                print(String.format(Locale.ROOT, "  10%% read after %.1f s", (now - submitNanos) / 1e9));
            }
            if (s90 == null && events >= n * 9 / 10) {
                s90 = probe.snapshot(events);
                peakHeap = gcWatcher.close();
                if (profiling) {
                    profile = profiler.stop(options.output().resolve("profile-" + options.profile() + "-"
                            + name.replaceAll("[^a-z]+", "-").replaceAll("^-|-$", "") + "-" + run + ".collapsed"), 25);
                }
                logThreads(s10, s90);
                print(String.format(Locale.ROOT, "  90%% read after %.1f s", (now - submitNanos) / 1e9));
            }
            if (events >= n) {
                break;
            }
            if (now > deadline) {
                throw new IllegalStateException(name + " read " + events + " of " + n + " events before the deadline");
            }
            Thread.sleep(100);
        }
        long allRead = System.nanoTime();
        print(String.format(Locale.ROOT, "  100%% read after %.1f s", (allRead - submitNanos) / 1e9));

        // Delivered: the condition holds, at least settleAtLeast after the last event (open blocks are cut by their
        // max_interval timer), and two more checkpoints completed (their transactions and deliveries are done).
        long checkpointsAtEnd = completedCheckpoints(id);
        long settleDeadline = allRead + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < allRead + settleAtLeast.toNanos() || !deliveredCondition.getAsBoolean()
                || completedCheckpoints(id) < checkpointsAtEnd + 2) {
            checkRunning(jobId);
            if (System.nanoTime() > settleDeadline) {
                throw new IllegalStateException(name + ": not everything delivered 5 minutes after the last event");
            }
            Thread.sleep(200);
        }
        Thread.sleep(1000);
        double settle = (System.nanoTime() - allRead) / 1e9;
        FlinkRest.Checkpoints checkpoints = rest.checkpoints(id);
        System.gc();
        long heapEnd = BenchEnv.heapUsed();
        long held = receiverBytes.getAsLong();

        Verification v = verify.apply(1);
        for (int attempt = 2; !v.exactlyOnce() && v.onlyMissing() && attempt <= 6; attempt++) {
            print("  not everything there yet, checking again in 3 s");
            Thread.sleep(3000);
            v = verify.apply(attempt);
        }
        benchCluster.cancel(jobId);

        // The figures.
        double window = (s90.nanos() - s10.nanos()) / 1e9;
        long windowEvents = s90.events() - s10.events();
        int i10 = 0;
        while (samples.get(i10).events() < s10.events()) {
            i10++;
        }
        int i90 = i10;
        while (samples.get(i90).events() < s90.events()) {
            i90++;
        }
        long[] pause = longestPause(samples.stream().map(Sample::nanos).toList(),
                samples.stream().map(Sample::events).toList(), i10, i90);
        int first = 0;
        while (samples.get(first).events() == 0) {
            first++;
        }
        long[] pauseAll = longestPause(samples.stream().map(Sample::nanos).toList(),
                samples.stream().map(Sample::events).toList(), first, samples.size() - 1);
        double busy = 0;
        double bp = 0;
        double idle = 0;
        int count = 0;
        for (int i = i10; i <= i90; i++) {
            Sample s = samples.get(i);
            if (!Double.isNaN(s.busy())) {
                busy += s.busy();
                bp += s.backPressured();
                idle += s.idle();
                count++;
            }
        }
        // Raw bytes read between each checkpoint's trigger and the previous completed one's (the first: the submit's),
        // and the largest share of them a checkpoint triggered between the 10% and 90% marks wrote.
        List<Long> nanos = samples.stream().map(Sample::nanos).toList();
        List<Long> read = samples.stream().map(Sample::events).toList();
        double bytesPerEvent = (double) corpus.bytes / corpus.events;
        List<Long> bytesRead = new ArrayList<>();
        double maxWrittenPerRead = Double.NaN;
        double before = 0;
        for (FlinkRest.Checkpoint c : checkpoints.history()) {
            long trigger = submitNanos + (c.triggerMillis() - submitEpoch) * 1_000_000;
            double at = eventsAt(nanos, read, trigger);
            long bytes = Math.round((at - before) * bytesPerEvent);
            bytesRead.add(bytes);
            before = at;
            if (trigger >= s10.nanos() && trigger <= s90.nanos() && bytes > 0) {
                double ratio = (double) c.checkpointedSize() / bytes;
                maxWrittenPerRead = Double.isNaN(maxWrittenPerRead) ? ratio : Math.max(maxWrittenPerRead, ratio);
            }
        }
        FlinkResult r = new FlinkResult(name, windowEvents / window, (allRead - submitNanos) / 1e9,
                cpuPerMillion(s90.processCpu() - s10.processCpu(), windowEvents),
                s10.brokerCpu() < 0 ? Double.NaN : cpuPerMillion(s90.brokerCpu() - s10.brokerCpu(), windowEvents),
                Probe.cpuByGroup(s10, s90), windowEvents, pause[0] / 1_000_000,
                (pause[1] - submitNanos) / 1e9, pauseAll[0] / 1_000_000,
                count == 0 ? Double.NaN : busy / count / 10, count == 0 ? Double.NaN : bp / count / 10,
                count == 0 ? Double.NaN : idle / count / 10,
                100.0 * (s90.gcMillis() - s10.gcMillis()) / (window * 1000), peakHeap, heapBefore, heapEnd, held,
                checkpoints, submitEpoch, settle, v.lines(), v.exactlyOnce(), profile,
                pauseContext(checkpoints, submitEpoch + (pause[1] - submitNanos) / 1_000_000, pause[0] / 1_000_000),
                bytesRead, maxWrittenPerRead);
        printFlinkResult(r, submitNanos, allRead);
        return r;
    }

    /** The checkpoints in progress during a pause (epoch millis), e.g. "during checkpoint 3 (sync 1,813 ms)". */
    private static String pauseContext(FlinkRest.Checkpoints checkpoints, long startMillis, long lengthMillis) {
        List<String> during = new ArrayList<>();
        for (FlinkRest.Checkpoint c : checkpoints.history()) {
            if (c.triggerMillis() <= startMillis + lengthMillis && c.triggerMillis() + c.duration() >= startMillis) {
                during.add(String.format(Locale.ROOT, "checkpoint %d (sync up to %,d ms)", c.id(), c.maxSync()));
            }
        }
        return during.isEmpty() ? "no checkpoint in progress" : "during " + String.join(", ", during);
    }

    /**
     * The count at a moment (nanoTime), interpolated linearly between the two samples around it: a checkpoint's trigger
     * falls anywhere in a 100 ms sampling gap, and at 100k+ events/s the nearest sample would be off by thousands.
     * Before the first sample and after the last, theirs.
     */
    private static double eventsAt(List<Long> nanos, List<Long> events, long at) {
        if (at <= nanos.get(0)) {
            return events.get(0);
        }
        for (int i = 1; i < nanos.size(); i++) {
            if (at <= nanos.get(i)) {
                double f = (double) (at - nanos.get(i - 1)) / (nanos.get(i) - nanos.get(i - 1));
                return events.get(i - 1) + f * (events.get(i) - events.get(i - 1));
            }
        }
        return events.get(events.size() - 1);
    }

    /** [longest stretch in ns during which the count did not grow, its start in nanoTime] within [from, to]. */
    private static long[] longestPause(List<Long> nanos, List<Long> events, int from, int to) {
        long longest = 0;
        long at = nanos.get(from);
        int lastGrowth = from;
        for (int i = from + 1; i <= to; i++) {
            if (events.get(i) > events.get(i - 1)) {
                lastGrowth = i;
            } else if (nanos.get(i) - nanos.get(lastGrowth) > longest) {
                longest = nanos.get(i) - nanos.get(lastGrowth);
                at = nanos.get(lastGrowth);
            }
        }
        return new long[] {longest, at};
    }

    private Verification verifyJob(String run, HttpReceiver receiver, EmbeddedS3 s3, String bucket, String deadTopic,
            Path deadBlocks) {
        List<String> lines = new ArrayList<>();
        boolean ok = true;
        boolean onlyMissing = true;
        for (Streams.Spec s : Streams.ALL) {
            Outputs.Held held = Outputs.read(s, run, receiver, kafka, s3, bucket);
            LongBag.Comparison c = LongBag.compare(s.id() + " " + s.name() + " -> " + s.kind().name().toLowerCase(Locale.ROOT)
                    + " (" + String.format(Locale.ROOT, "%,d", held.units()) + " " + unit(s) + ")",
                    corpus.expected.get(s.id()), held.records());
            lines.add(c.describe());
            ok &= c.exactlyOnce();
            onlyMissing &= c.duplicated() == 0 && c.unexpected() == 0;
        }
        LongBag.Comparison dead = LongBag.compare("dead-letter topic (malformed events)", corpus.expectedDeadLetters,
                Outputs.topic(kafka, deadTopic));
        lines.add(dead.describe());
        ok &= dead.exactlyOnce();
        onlyMissing &= dead.duplicated() == 0 && dead.unexpected() == 0;
        int conflicts = receiver.conflictingRepeats().size();
        List<String> open = s3.openMultipartUploads(bucket);
        long deadFiles = 0;
        if (Files.isDirectory(deadBlocks)) {
            try (Stream<Path> files = Files.walk(deadBlocks)) {
                deadFiles = files.filter(Files::isRegularFile).count();
            } catch (IOException e) {
                deadFiles = -1;
            }
        }
        lines.add(String.format(Locale.ROOT, "HTTP repeats %d (conflicting %d), open multipart uploads %d, dead-lettered"
                + " block files %d", receiver.repeats(), conflicts, open.size(), deadFiles));
        ok &= conflicts == 0 && open.isEmpty() && deadFiles == 0;
        return new Verification(lines, ok, onlyMissing);
    }

    private static String unit(Streams.Spec s) {
        return switch (s.kind()) {
            case HTTP -> "requests";
            case KAFKA -> "messages";
            case S3 -> "objects";
        };
    }

    private void checkRunning(JobID jobId) throws Exception {
        benchCluster.checkRunning(jobId);
    }

    private static long completedCheckpoints(String jobId) {
        return (long) BenchMetrics.sum("numberOfCompletedCheckpoints", e -> jobId.equals(e.jobId()));
    }

    /** A task gauge of the source task (busy, back-pressured, idle ms per second), averaged over its subtasks. */
    private static double sourceGauge(String jobId, String name) {
        return BenchMetrics.average(name, e -> jobId.equals(e.jobId()) && e.task() != null
                && e.task().startsWith("Source"));
    }

    private void logThreads(Probe.Snapshot from, Probe.Snapshot to) {
        List<Map.Entry<Long, Long>> deltas = new ArrayList<>();
        for (Map.Entry<Long, Long> e : to.threadCpu().entrySet()) {
            deltas.add(Map.entry(e.getKey(), e.getValue() - from.threadCpu().getOrDefault(e.getKey(), 0L)));
        }
        deltas.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
        StringBuilder sb = new StringBuilder("CPU by thread between 10% and 90%:");
        for (int i = 0; i < Math.min(40, deltas.size()); i++) {
            String thread = to.names().get(deltas.get(i).getKey());
            sb.append(String.format(Locale.ROOT, "%n  %8.3f s  %-22s %s", deltas.get(i).getValue() / 1e9,
                    Probe.group(thread), thread));
        }
        log().info(sb.toString());
    }

    // ---------------------------------------------------------------- output

    private void printFlinkResult(FlinkResult r, long submitNanos, long allRead) {
        print(String.format(Locale.ROOT, "%s: %,d events read in %.1f s, delivered %.1f s later; 10%%-90%%: %,.0f events/s",
                r.name(), corpus.events, r.seconds(), r.settleSeconds(), r.rate()));
        print(String.format(Locale.ROOT, "  CPU per million events: %.2f s this JVM (%s), %s broker; GC %.1f%% of the"
                + " window", r.cpuPerM(), groups(r.cpuGroups(), r.windowEvents()), brokerCpu(r.brokerCpuPerM()),
                r.gcPercent()));
        print(String.format(Locale.ROOT, "  source: longest pause %,d ms between 10%% and 90%% (at %.1f s, %s), %,d ms"
                        + " from the first event to the last; busy %.0f%%, back-pressured %.0f%%, idle %.0f%% (task metrics,"
                        + " 10%%-90%%)", r.maxPauseMs(), r.pauseAtSeconds(), r.pauseContext(), r.maxPauseAllMs(), r.busy(),
                r.backPressured(), r.idle()));
        print(String.format(Locale.ROOT, "  heap after GC: %s during 10%%-90%% (GC notifications); %,d MB after"
                        + " System.gc() at the end (%,d MB before the job; the receivers hold %,d MB of delivered output)",
                r.peakHeapAfterGc() < 0 ? "no GC"
                        : String.format(Locale.ROOT, "at most %,d MB", r.peakHeapAfterGc() >> 20),
                r.heapEnd() >> 20, r.heapBefore() >> 20, r.receiverBytes() >> 20));
        FlinkRest.Checkpoints cps = r.checkpoints();
        print(String.format(Locale.ROOT, "  checkpoints: %d completed, %d failed%s", cps.completed(), cps.failed(),
                cps.failed() > cps.failedInHistory() ? " (" + (cps.failed() - cps.failedInHistory()) + " not in the"
                        + " checkpoint history: a trigger that failed before the checkpoint started)" : ""));
        // "written": what this checkpoint uploaded (less than its state with incremental RocksDB/ForSt checkpoints);
        // "read MB": raw event bytes read since the previous checkpoint's trigger (the first: since the submit).
        print("      id   at s     state   written  read MB written/read     e2e ms  max sync ms (subtask)"
                + "                        max async ms  align ms");
        for (int i = 0; i < cps.history().size(); i++) {
            FlinkRest.Checkpoint c = cps.history().get(i);
            long read = r.bytesRead().get(i);
            print(String.format(Locale.ROOT, "    %4d %6.1f %9s %9s %8.1f %12s %8d  %6d  %-40s %8d %8d", c.id(),
                    (c.triggerMillis() - r.submitEpochMillis()) / 1000.0, mb(c.stateSize()), mb(c.checkpointedSize()),
                    read / 1e6, read > 0 ? percent((double) c.checkpointedSize() / read) : "-", c.duration(),
                    c.maxSync(), cut(c.maxSyncVertex(), 40), c.maxAsync(), c.maxAlignment()));
        }
        print("  exactly once:");
        r.verification().forEach(l -> print("    " + l));
        print("    => " + (r.exactlyOnce() ? "every record exactly once" : "NOT EXACTLY ONCE"));
        if (r.profile() != null) {
            print("  profile (async-profiler " + options.profile() + ", 10%-90%):");
            print(r.profile().stripTrailing());
        }
    }

    private void summary(List<RawResult> raws, Map<String, List<FlinkResult>> jobsByBackend, List<FlinkResult> stocks,
            Duration took) {
        double raw = median(raws.stream().mapToDouble(RawResult::rate).toArray());
        double rawMb = median(raws.stream().mapToDouble(RawResult::mbPerSecond).toArray());
        double stock = median(stocks.stream().mapToDouble(FlinkResult::rate).toArray());
        double mbPerEvent = corpus.bytes / 1e6 / corpus.events;
        print("");
        print(String.format(Locale.ROOT, "== summary (%s, %d round(s): rates and CPU are medians over the rounds; pause,"
                        + " checkpoints and heap are those of the round with the median rate; %,d events, %.0f B per event"
                        + " on average, parallelism %d, load average %s, took %d min %d s)", LocalDate.now(), options.rounds(),
                corpus.events, mbPerEvent * 1e6, options.parallelism(), BenchEnv.loadAverage(), took.toMinutes(),
                took.toSecondsPart()));
        print("");
        print("| reader | events/s (10%-90%) | MB/s | CPU-s per M events (this JVM / broker) | longest source pause |"
                + " checkpoints: max written / max duration / max sync part | max written/read of the checkpoints"
                + " triggered between the 10% and 90% marks | heap after GC (peak / end) | exactly once |");
        print("| --- | ---: | ---: | --- | ---: | --- | ---: | --- | --- |");
        print(String.format(Locale.ROOT, "| raw KafkaConsumer (read_committed) | %,.0f | %.1f | %.2f / %s | - | - | - | - | - |",
                raw, rawMb, median(raws.stream().mapToDouble(RawResult::cpuPerM).toArray()),
                brokerCpu(median(raws.stream().mapToDouble(RawResult::brokerCpuPerM).toArray()))));
        List<List<FlinkResult>> rows = new ArrayList<>(jobsByBackend.values());
        rows.add(stocks);
        for (List<FlinkResult> list : rows) {
            FlinkResult m = list.stream().sorted(Comparator.comparingDouble(FlinkResult::rate)).toList()
                    .get(list.size() / 2);
            long maxState = 0;
            long maxDuration = 0;
            long maxSync = 0;
            String syncWhere = "";
            for (FlinkRest.Checkpoint c : m.checkpoints().history()) {
                maxState = Math.max(maxState, c.checkpointedSize());
                maxDuration = Math.max(maxDuration, c.duration());
                if (c.maxSync() > maxSync) {
                    maxSync = c.maxSync();
                    syncWhere = c.maxSyncVertex();
                }
            }
            print(String.format(Locale.ROOT, "| %s | %,.0f | %.1f | %.2f / %s | %,d ms | %s / %,d ms / %,d ms (%s) |"
                            + " %s | %s / %,d MB | %s |", m.name(), median(list.stream().mapToDouble(FlinkResult::rate).toArray()),
                    median(list.stream().mapToDouble(FlinkResult::rate).toArray()) * mbPerEvent,
                    median(list.stream().mapToDouble(FlinkResult::cpuPerM).toArray()),
                    brokerCpu(median(list.stream().mapToDouble(FlinkResult::brokerCpuPerM).toArray())),
                    m.maxPauseMs(), mb(maxState), maxDuration, maxSync, syncWhere,
                    Double.isNaN(m.maxWrittenPerRead()) ? "-" : percent(m.maxWrittenPerRead()),
                    m.peakHeapAfterGc() < 0 ? "-" : (m.peakHeapAfterGc() >> 20) + " MB", m.heapEnd() >> 20,
                    list.stream().allMatch(FlinkResult::exactlyOnce) ? "yes" : "NO"));
        }
        for (Map.Entry<String, List<FlinkResult>> e : jobsByBackend.entrySet()) {
            ratios(jobsByBackend.size() > 1 ? " (" + e.getKey() + ")" : "", raws, e.getValue(), stocks, raw, stock);
        }
    }

    private void ratios(String label, List<RawResult> raws, List<FlinkResult> jobs, List<FlinkResult> stocks, double raw,
            double stock) {
        double job = median(jobs.stream().mapToDouble(FlinkResult::rate).toArray());
        print("");
        double[] jobRaw = new double[jobs.size()];
        double[] jobStock = new double[jobs.size()];
        for (int i = 0; i < jobs.size(); i++) {
            jobRaw[i] = jobs.get(i).rate() / raws.get(i).rate();
            jobStock[i] = jobs.get(i).rate() / stocks.get(i).rate();
        }
        print(String.format(Locale.ROOT, "job%s / raw   = %.3fx (median of the rounds' ratios; %.3fx from the medians)",
                label, median(jobRaw), job / raw));
        print(String.format(Locale.ROOT, "job%s / stock = %.2fx (median of the rounds' ratios; %.2fx from the medians)",
                label, median(jobStock), job / stock));
        if (options.rounds() > 1) {
            print("per round (events/s): raw " + rates(raws.stream().mapToDouble(RawResult::rate).toArray()) + " | job "
                    + rates(jobs.stream().mapToDouble(FlinkResult::rate).toArray()) + " | stock "
                    + rates(stocks.stream().mapToDouble(FlinkResult::rate).toArray()));
            print("per round (ratios): job / raw " + ratios(jobRaw, 3) + " | job / stock " + ratios(jobStock, 2));
        }
    }

    private static String ratios(double[] values, int decimals) {
        List<String> out = new ArrayList<>();
        for (double v : values) {
            out.add(String.format(Locale.ROOT, "%." + decimals + "fx", v));
        }
        return String.join(", ", out);
    }

    private static String rates(double[] values) {
        List<String> out = new ArrayList<>();
        for (double v : values) {
            out.add(String.format(Locale.ROOT, "%,.0f", v));
        }
        return String.join(", ", out);
    }

    private static String groups(Map<String, Long> groups, long events) {
        List<String> parts = new ArrayList<>();
        groups.forEach((g, ns) -> {
            if (ns > 0) {
                parts.add(String.format(Locale.ROOT, "%s %.2f", g, cpuPerMillion(ns, events)));
            }
        });
        return String.join(", ", parts);
    }

    private static double cpuPerMillion(long nanos, long events) {
        return nanos / 1e9 / events * 1e6;
    }

    private static String brokerCpu(double perM) {
        return Double.isNaN(perM) ? "n/a (in this JVM)" : String.format(Locale.ROOT, "%.2f s", perM);
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String mb(long bytes) {
        return bytes < 10_000_000 ? String.format(Locale.ROOT, "%.1f MB", bytes / 1e6)
                : String.format(Locale.ROOT, "%.0f MB", bytes / 1e6);
    }

    /** A share as a percentage; two decimals below 1% (the stock pipeline checkpoints little more than offsets). */
    private static String percent(double share) {
        return String.format(Locale.ROOT, share < 0.01 ? "%.2f%%" : "%.1f%%", share * 100);
    }

    private static String cut(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "…";
    }

    private void print(String line) {
        OUT.println(line);
        results.append(line).append('\n');
        log().info(line);
    }

    // ---------------------------------------------------------------- shutdown

    private void shutdown() {
        if (benchCluster != null) {
            try {
                benchCluster.close();
            } catch (Exception e) {
                log().warn("closing the MiniCluster: {}", e.toString());
            }
        }
        if (kafka != null) {
            try {
                kafka.close();
            } catch (Exception e) {
                log().warn("closing the broker: {}", e.toString());
            }
        }
        if (work != null) {
            try {
                BenchEnv.deleteRecursively(work);
            } catch (IOException e) {
                log().warn("cannot delete {}: {}", work, e.toString());
            }
        }
    }
}
