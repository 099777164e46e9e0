package io.edgestreaming.bench;

import io.edgestreaming.bench.ExactlyOnceCheck.Verification;
import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.job.EdgeStreamingPipeline;
import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.HttpReceiver;
import io.edgestreaming.testkit.TestKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;

/**
 * The two Flink readers of a round: the whole job with its endpoints (an HTTP receiver, Kafka topics, an S3 bucket),
 * on one state backend, and the stock pipeline; each built, run through {@link FlinkRun}, checked, and its output
 * freed afterwards.
 */
final class FlinkReaders {
    private static final Duration CHECKPOINT_INTERVAL = Duration.ofSeconds(5);
    private static final Duration MAX_INTERVAL = Duration.ofSeconds(5);
    private static final String S3_ACCESS = "bench-access";
    private static final String S3_SECRET = "bench-secret-key";

    private final TestKafka kafka;
    private final Path work;
    /** The cluster's configuration; each job's starts from a copy of it. */
    private final Configuration flinkConfig;
    private final EndToEndBench.Options options;
    private final Corpus corpus;
    private final FlinkRun flinkRun;

    FlinkReaders(TestKafka kafka, Path work, Configuration flinkConfig, EndToEndBench.Options options, Corpus corpus,
            FlinkRun flinkRun) {
        this.kafka = kafka;
        this.work = work;
        this.flinkConfig = flinkConfig;
        this.options = options;
        this.corpus = corpus;
        this.flinkRun = flinkRun;
    }

    FlinkRun.Result job(String round, String backend) throws Exception {
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
                            bucket, S3_ACCESS, S3_SECRET), kafka.bootstrapServers(), EndToEndBench.HTTP_TOPIC,
                    EndToEndBench.WAF_TOPIC, deadTopic, deadBlocks.toUri().toString(), CHECKPOINT_INTERVAL.toSeconds() + "s",
                    MAX_INTERVAL.toSeconds() + "s");
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
            Function<Integer, Verification> verify = attempt -> ExactlyOnceCheck.job(corpus, run, receiver, kafka, s3,
                    bucket, deadTopic, deadBlocks);
            return flinkRun.measure(name, run, graph.getJobGraph(), MAX_INTERVAL.plusSeconds(1), delivered,
                    verify, () -> Outputs.heldInJvm(receiver, s3, List.of(bucket)));
        } finally {
            receiver.close();
            s3.close();
            List<String> topics = new ArrayList<>(List.of("dead-" + run));
            Streams.ALL.stream().filter(s -> s.kind() == Streams.Kind.KAFKA).forEach(s -> topics.add(s.topic(run)));
            deleteTopics(topics);
        }
    }

    FlinkRun.Result stock(String run) throws Exception {
        String out = "stock-" + run;
        kafka.createTopic(out, 2);
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(new Configuration(flinkConfig));
        env.setParallelism(options.parallelism());
        StockPipeline.build(env, kafka.bootstrapServers(), EndToEndBench.HTTP_TOPIC, EndToEndBench.WAF_TOPIC, out, run,
                CHECKPOINT_INTERVAL.toMillis());
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName("stock Flink pipeline bench " + run);
        Function<Integer, Verification> verify = attempt -> ExactlyOnceCheck.stock(corpus, kafka, out);
        try {
            return flinkRun.measure("stock Flink pipeline", run, graph.getJobGraph(), Duration.ZERO, () -> true, verify,
                    () -> 0L);
        } finally {
            deleteTopics(List.of(out));
        }
    }

    /** Frees the broker's disk of a finished run's output (a million events' output is gigabytes). */
    private void deleteTopics(List<String> topics) {
        try {
            kafka.admin().deleteTopics(topics).all().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            EndToEndBench.log().warn("cannot delete topics {}: {}", topics, e.toString());
        }
    }
}
