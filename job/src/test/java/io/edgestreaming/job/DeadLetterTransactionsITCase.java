package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.DeadLetterConfig;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.SourceConfig;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.testkit.EmbeddedKafka;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.client.program.ClusterClient;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dead-letter writer on a real KRaft broker (transaction.version 2, a fresh cluster's default): a fixed
 * number of transactional ids however many checkpoints pass, checkpoints that complete while the source cluster
 * is down (no broker call in their synchronous part), every dead letter once, and a savepoint taken with Flink's
 * KafkaSink as the dead-letter writer restores into the job.
 */
class DeadLetterTransactionsITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static final Pattern COMPLETED = Pattern.compile("\"completed\":(\\d+)");

    private static EmbeddedKafka kafka;
    /** The MiniCluster's REST address: checkpoint counts. */
    private static String rest;

    @BeforeAll
    static void startKafka() {
        kafka = EmbeddedKafka.start();
    }

    @BeforeEach
    void restAddress(@InjectClusterClient ClusterClient<?> cluster) {
        rest = cluster.getWebInterfaceURL();
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** Before: one more id per checkpoint and subtask (Flink's KafkaSink, INCREMENTING naming). */
    @Test
    void transactionalIdsStayFixedAcrossCheckpoints(@TempDir Path dir) throws Exception {
        String group = "dl-pool";
        JobConfig config = config(group, dir);
        List<byte[]> bad = malformed("pool", 60);
        kafka.send(topic(group), bad);
        JobClient job = submit(config, null);
        try {
            awaitCompletedCheckpoints(job.getJobID(), 30, Duration.ofSeconds(90));
            Set<String> ids = transactionalIds(group + "-dead-letter");
            assertThat(ids).as("transactional ids of the dead-letter writer after 30 checkpoints").isNotEmpty()
                    .hasSizeLessThanOrEqualTo(8 * 2);
            List<ConsumerRecord<byte[], byte[]>> dead = kafka.readCommitted(dlTopic(group), bad.size(), Duration.ofSeconds(60));
            assertThat(dead).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                    .containsExactlyInAnyOrderElementsOf(strings(bad));
        } finally {
            cancel(job);
        }
    }

    /**
     * Before: the synchronous part of every checkpoint of the dead-letter writer called initTransactions, so with
     * the broker down no checkpoint completed (each waited for max.block.ms, 60 s, then failed).
     */
    @Test
    void checkpointsCompleteWhileTheSourceClusterIsDownAndEveryDeadLetterArrivesOnce(@TempDir Path dir) throws Exception {
        String group = "dl-down";
        JobConfig config = config(group, dir);
        List<byte[]> before = malformed("before", 40);
        kafka.send(topic(group), before);
        JobClient job = submit(config, null);
        try {
            kafka.readCommitted(dlTopic(group), before.size(), Duration.ofSeconds(60));
            long completed = completedCheckpoints(job.getJobID());
            kafka.stopBroker();
            try {
                awaitCompletedCheckpoints(job.getJobID(), completed + 3, Duration.ofSeconds(40));
                assertThat(job.getJobStatus().get(10, TimeUnit.SECONDS)).isEqualTo(JobStatus.RUNNING);
            } finally {
                kafka.startBroker();
            }
            List<byte[]> after = malformed("after", 40);
            kafka.send(topic(group), after);
            List<byte[]> all = new ArrayList<>(before);
            all.addAll(after);
            List<ConsumerRecord<byte[], byte[]>> dead = kafka.readCommitted(dlTopic(group), all.size(), Duration.ofSeconds(90));
            awaitCompletedCheckpoints(job.getJobID(), completedCheckpoints(job.getJobID()) + 3, Duration.ofSeconds(60));
            dead = kafka.readCommitted(dlTopic(group), Duration.ofSeconds(5));
            assertThat(dead).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                    .as("every dead letter once").containsExactlyInAnyOrderElementsOf(strings(all));
        } finally {
            cancel(job);
        }
    }

    /**
     * A savepoint of the job as it was (dead letters through Flink's KafkaSink under the uid
     * "dead-letter-events-sink": its writer and its "Sink Committer: dead-letter-events-sink") restores into the job
     * with allowNonRestoredState false, and the restored job writes dead letters.
     */
    @Test
    void aSavepointOfTheKafkaSinkJobRestores(@TempDir Path dir) throws Exception {
        String group = "dl-upgrade";
        JobConfig config = config(group, dir);
        List<byte[]> first = malformed("old", 20);
        kafka.send(topic(group), first);
        JobClient old = submitOldGraph(config);
        kafka.readCommitted(dlTopic(group), first.size(), Duration.ofSeconds(60));
        awaitCompletedCheckpoints(old.getJobID(), 2, Duration.ofSeconds(60));
        String savepoint = old.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(),
                SavepointFormatType.CANONICAL).get(60, TimeUnit.SECONDS);
        old.getJobExecutionResult().get(60, TimeUnit.SECONDS);

        List<byte[]> second = malformed("new", 20);
        kafka.send(topic(group), second);
        JobClient job = submit(config, savepoint);
        try {
            await("the restored job's first checkpoint", () -> {
                try {
                    if (job.getJobStatus().get(10, TimeUnit.SECONDS) == JobStatus.FAILED) {
                        job.getJobExecutionResult().get(10, TimeUnit.SECONDS); // throws with why
                    }
                    return completedCheckpoints(job.getJobID()) >= 1;
                } catch (Exception e) {
                    throw new AssertionError("the savepoint did not restore: " + e, e);
                }
            }, Duration.ofSeconds(60));
            List<byte[]> all = new ArrayList<>(first);
            all.addAll(second);
            kafka.readCommitted(dlTopic(group), all.size(), Duration.ofSeconds(60));
            awaitCompletedCheckpoints(job.getJobID(), 3, Duration.ofSeconds(60));
            assertThat(kafka.readCommitted(dlTopic(group), Duration.ofSeconds(5)))
                    .extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                    .as("every dead letter once").containsExactlyInAnyOrderElementsOf(strings(all));
        } finally {
            cancel(job);
        }
    }

    /**
     * A dead-letter topic that does not exist (the brokers create none): the job goes on, and after
     * max_retry_duration every event is in the dead-letter store, in blocks of stream 0 with a reason.
     */
    @Test
    void aTopicThatDoesNotExistSendsTheDeadLettersToTheStoreAndTheJobGoesOn(@TempDir Path dir) throws Exception {
        String group = "dl-missing";
        kafka.createTopic(topic(group), 2);
        JobConfig config = new JobConfig(
                new SourceConfig(kafka.bootstrapServers(), Map.of(DataSource.HTTP, topic(group)), group,
                        SourceConfig.StartingPosition.EARLIEST, 4096, Map.of()),
                new DeadLetterConfig("no-such-topic", dir.resolve("dead").toUri().toString()),
                new DeliveryConfig(Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofMillis(500),
                        Duration.ofSeconds(2), 10_000, 100_000_000),
                Duration.ofMillis(100), List.of(), TestStreams.LOOPBACK);
        List<byte[]> bad = malformed("missing", 30);
        kafka.send(topic(group), bad);
        JobClient job = submit(config, null);
        try {
            Path store = dir.resolve("dead").resolve("stream-0");
            await("every dead letter in the dead-letter store", () -> {
                String payloads = payloads(store);
                return strings(bad).stream().allMatch(payloads::contains);
            }, Duration.ofSeconds(60));
            assertThat(job.getJobStatus().get(10, TimeUnit.SECONDS)).isEqualTo(JobStatus.RUNNING);
            try (var files = java.nio.file.Files.walk(store)) {
                String manifests = String.join("\n", files.filter(f -> f.toString().endsWith(".manifest.json"))
                        .map(DeadLetterTransactionsITCase::read).toList());
                assertThat(manifests).contains("no-such-topic");
            }
        } finally {
            cancel(job);
        }
    }

    private static String payloads(Path store) {
        if (!java.nio.file.Files.isDirectory(store)) {
            return "";
        }
        try (var files = java.nio.file.Files.walk(store)) {
            return String.join("\n", files.filter(f -> f.toString().endsWith(".payload"))
                    .map(DeadLetterTransactionsITCase::read).toList());
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static String read(Path file) {
        try {
            return java.nio.file.Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    // ---------------------------------------------------------------------------------------------

    private static String topic(String group) {
        return group + "-raw";
    }

    private static String dlTopic(String group) {
        return group + "-dead";
    }

    private static JobConfig config(String group, Path dir) {
        kafka.createTopic(topic(group), 2);
        kafka.createTopic(dlTopic(group), 1);
        return new JobConfig(
                new SourceConfig(kafka.bootstrapServers(), Map.of(DataSource.HTTP, topic(group)), group,
                        SourceConfig.StartingPosition.EARLIEST, 4096, Map.of()),
                new DeadLetterConfig(dlTopic(group), dir.resolve("dead").toUri().toString()),
                new DeliveryConfig(Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofSeconds(1),
                        Duration.ofMinutes(10), 10_000, 100_000_000),
                Duration.ofMillis(100), List.of(), TestStreams.LOOPBACK);
    }

    /** Not JSON, with a newline inside: each must arrive as one message, bytes unchanged. */
    private static List<byte[]> malformed(String tag, int n) {
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            values.add(("not json " + tag + "-" + i + "\nsecond line").getBytes(StandardCharsets.UTF_8));
        }
        return values;
    }

    private static List<String> strings(List<byte[]> values) {
        return values.stream().map(v -> new String(v, StandardCharsets.UTF_8)).toList();
    }

    private static JobClient submit(JobConfig config, String savepoint) throws Exception {
        StreamExecutionEnvironment env = environment(savepoint);
        EdgeStreamingPipeline.build(env, config, EdgeStreamingPipeline.Options.UNBOUNDED);
        return env.executeAsync("dead-letter transactions");
    }

    /** The dead-letter part of the job before this change: Flink's KafkaSink, as EdgeStreamingPipeline built it. */
    private static JobClient submitOldGraph(JobConfig config) throws Exception {
        StreamExecutionEnvironment env = environment(null);
        EdgeStreamingPipeline.configure(env, config);
        SingleOutputStreamOperator<RoutedRecord> routed = env
                .fromSource(EdgeStreamingPipeline.source(config.source(), false), WatermarkStrategy.noWatermarks(),
                        "raw events", RawEvent.TYPE_INFO)
                .uid("raw-events-source")
                .process(new ParseAndRoute(io.edgestreaming.connectors.JobConfigRef.share(env, config),
                        config.source().maxEventBytes(), config.batchingKeysPerStream()), RoutedRecord.TYPE_INFO)
                .uid("parse-and-route");
        Properties producer = new Properties();
        producer.setProperty("transaction.timeout.ms", Long.toString(DeadLetterConfig.TRANSACTION_TIMEOUT.toMillis()));
        routed.getSideOutput(ParseAndRoute.DEAD_LETTER)
                .sinkTo(KafkaSink.<DeadLetterEvent>builder()
                        .setBootstrapServers(config.source().bootstrapServers())
                        .setKafkaProducerConfig(producer)
                        .setRecordSerializer(new DeadLetterRecordSerializer(config.deadLetter().eventsTopic()))
                        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                        .setTransactionalIdPrefix(config.source().groupId() + "-dead-letter")
                        .build())
                .disableChaining()
                .name("dead-letter events")
                .uid("dead-letter-events-sink");
        // Its one batcher, keyed through the network by keys without lanes (local lanes came later: no key of theirs
        // may be in this batcher's state).
        routed.union(routed.getSideOutput(ParseAndRoute.REMOTE))
                .keyBy(new KeyWithoutLane(), BlockBatcher.KEY_TYPE)
                .process(BlockBatcher.shared(io.edgestreaming.connectors.JobConfigRef.share(env, config),
                        config.batchingKeysPerStream()), io.edgestreaming.connectors.BlockTypeInfoFactory.TYPE_INFO)
                .uid("batcher");
        return env.executeAsync("dead-letter transactions, old graph");
    }

    private static StreamExecutionEnvironment environment(String savepoint) {
        Configuration conf = new Configuration();
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
            conf.set(StateRecoveryOptions.SAVEPOINT_IGNORE_UNCLAIMED_STATE, false);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        return env;
    }

    /** Cancels a running job; one that already failed says why in the test's own assertion. */
    private static void cancel(JobClient job) {
        try {
            job.cancel().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            // already ended
        }
    }

    private static Set<String> transactionalIds(String prefix) throws Exception {
        Set<String> ids = new HashSet<>();
        for (TransactionListing t : kafka.admin().listTransactions().all().get(30, TimeUnit.SECONDS)) {
            if (t.transactionalId().startsWith(prefix)) {
                ids.add(t.transactionalId());
            }
        }
        return ids;
    }

    private static long completedCheckpoints(JobID job) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(rest + "/jobs/" + job + "/checkpoints"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = COMPLETED.matcher(r.body());
        return r.statusCode() == 200 && m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    private static void awaitCompletedCheckpoints(JobID job, long count, Duration timeout) throws Exception {
        await(count + " completed checkpoints", () -> {
            try {
                return completedCheckpoints(job) >= count;
            } catch (Exception e) {
                return false;
            }
        }, timeout);
    }

    private static void await(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}
