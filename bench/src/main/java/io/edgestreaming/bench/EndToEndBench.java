package io.edgestreaming.bench;

import io.edgestreaming.job.EdgeStreamingPipeline;
import io.edgestreaming.testkit.ChildProcessKafka;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.TestKafka;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
    static final String HTTP_TOPIC = "http";
    static final String WAF_TOPIC = "waf";

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
    private Probe probe;

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

    /** The logger of the whole benchmark: bench.log names this class for every line of it. */
    static Logger log() {
        return LoggerFactory.getLogger(EndToEndBench.class);
    }

    // ---------------------------------------------------------------- the run

    private int run() throws Exception {
        long started = System.nanoTime();
        work = Files.createTempDirectory("edge-bench-");
        GcWatcher gcWatcher = new GcWatcher();
        print(String.format(Locale.ROOT, "edge-streaming end-to-end benchmark, %s, %d cores, load average %s, %s %s,"
                        + " max heap %,d MB", LocalDate.now(), Runtime.getRuntime().availableProcessors(), BenchEnv.loadAverage(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"),
                Runtime.getRuntime().maxMemory() >> 20));
        print("options: " + options);

        startBroker();
        kafka.createTopic(HTTP_TOPIC, 2);
        kafka.createTopic(WAF_TOPIC, 2);
        print("writing the backlog ...");
        Corpus corpus = Corpus.write(kafka, HTTP_TOPIC, WAF_TOPIC, options.events(), options.malformedPerTenThousand(),
                options.seed());
        print("backlog: " + corpus.describe());
        for (Streams.Spec s : Streams.ALL) {
            log().info("stream {} {}: {} records expected", s.id(), s.name(), corpus.expected.get(s.id()).size());
        }
        startMiniCluster();
        Profiler profiler = options.profile() == null ? null : Profiler.load(work, options.profile());
        EndToEndReport report = new EndToEndReport(this::print, options, corpus);
        FlinkRun flinkRun = new FlinkRun(benchCluster, probe, gcWatcher, profiler, options, corpus, report, this::print);
        FlinkReaders flink = new FlinkReaders(kafka, work, benchCluster.config, options, corpus, flinkRun);

        List<RawReader.Result> raws = new ArrayList<>();
        // One list of the job's results per state backend, in the order given.
        Map<String, List<FlinkRun.Result>> jobs = new LinkedHashMap<>();
        options.backends().forEach(b -> jobs.put(b, new ArrayList<>()));
        List<FlinkRun.Result> stocks = new ArrayList<>();
        for (int round = 1; round <= options.rounds(); round++) {
            String run = "r" + round;
            flinkRun.profiling = profiler != null && round == options.rounds();
            print("");
            print("== round " + round + " of " + options.rounds() + " (load average " + BenchEnv.loadAverage() + ")");
            RawReader.Result raw = RawReader.read(kafka, probe, corpus.events, run);
            report.raw(raw);
            raws.add(raw);
            // Alternate the order of the two Flink pipelines: neither always runs on a warmer JVM.
            // With several state backends, their order is reversed every round as well.
            List<String> backends = new ArrayList<>(options.backends());
            if (round % 2 == 0) {
                stocks.add(flink.stock(run));
                Collections.reverse(backends);
            }
            for (String backend : backends) {
                jobs.get(backend).add(flink.job(run, backend));
            }
            if (round % 2 == 1) {
                stocks.add(flink.stock(run));
            }
        }
        report.summary(raws, jobs, stocks, Duration.ofNanos(System.nanoTime() - started));
        Path file = options.output().resolve("results.txt");
        Files.writeString(file, results.toString());
        OUT.println("(also in " + file + "; logs in " + options.output().resolve("bench.log") + ")");
        boolean exactlyOnce = jobs.values().stream().flatMap(List::stream).allMatch(FlinkRun.Result::exactlyOnce)
                && stocks.stream().allMatch(FlinkRun.Result::exactlyOnce);
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
        print("Flink MiniCluster: 1 TaskManager, " + options.parallelism() + " slots, REST " + benchCluster.restAddress);
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
