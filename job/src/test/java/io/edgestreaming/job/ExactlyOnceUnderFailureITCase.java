package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.BlockTypeInfoFactory;
import io.edgestreaming.connectors.JobConfigRef;
import io.edgestreaming.job.FailureInjector.Mode;
import io.edgestreaming.job.FailureInjector.Plan;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.ExactlyOnce;
import io.edgestreaming.testkit.HttpReceiver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * The product's promise under failure: the whole job (KRaft broker in, HTTP receiver, Kafka topics in
 * both message formats and an S3 bucket out, all at once) over a fixed corpus of generated events, with
 * one failure injected per run and a fixed-delay restart strategy. Afterwards each endpoint holds every
 * record it should exactly once (HTTP: distinct Idempotency-Key blocks, repeats only ever identical;
 * Kafka: read_committed; S3: the union of all objects), no block is over its limits, and every
 * malformed event is on the dead-letter topic exactly once. The expected records are computed here
 * from the corpus, not by the job's code. A broken run names the records lost or duplicated.
 */
class ExactlyOnceUnderFailureITCase {
    private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceUnderFailureITCase.class);

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4)
                    .build());

    private static final String BEFORE_BATCHER = "before-batcher";
    private static final String AFTER_BATCHER = "after-batcher";
    private static final int EVENTS = 2400;
    private static final int CHUNK = 100;
    private static final long CHUNK_PAUSE_MILLIS = 150;
    private static final int MAX_RECORDS = 40;
    private static final long MAX_SIZE = 1_000_000;
    private static final String[] HOSTS = {"www.shop.example", "img.shop.example", "api.shop.example"};
    private static final Duration DEADLINE = Duration.ofSeconds(120);

    private static EmbeddedKafka kafka;
    private static EmbeddedS3 s3;

    private HttpReceiver receiver;
    private String run;
    private Thread producer;
    private final AtomicBoolean stopProducing = new AtomicBoolean();

    @BeforeAll
    static void startServers() {
        // As a fresh Kafka 4.x cluster formats itself: transaction.version 2, where a re-commit after a
        // restore is fenced even when the transaction had committed.
        kafka = EmbeddedKafka.builder().transactionVersion(2).start();
        assertThat(kafka.transactionVersion()).as("transaction.version of the test broker").isEqualTo(2);
        s3 = EmbeddedS3.start("eo-access", "eo-secret-key");
    }

    @AfterAll
    static void stopServers() {
        if (s3 != null) {
            s3.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @BeforeEach
    void setUp(TestInfo test) {
        FailureInjector.reset();
        run = test.getTestMethod().orElseThrow().getName().replaceAll("[^A-Za-z]", "").toLowerCase(Locale.ROOT);
        run = run.substring(0, Math.min(40, run.length()));
        receiver = HttpReceiver.start();
        kafka.createTopic(topic("raw-http"), 2);
        kafka.createTopic(topic("raw-waf"), 1);
        kafka.createTopic(topic("dead"), 1);
        kafka.createTopic(topic("out-record"), 2);
        kafka.createTopic(topic("out-block"), 1);
        s3.createBucket(bucket());
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        stopProducing.set(true);
        if (producer != null) {
            producer.join(10_000);
        }
        receiver.close();
        FailureInjector.reset();
    }

    @Test
    void exceptionBeforeTheBatcherAfterACompletedCheckpoint(@TempDir Path dir) throws Exception {
        Plan plan = plan(BEFORE_BATCHER, new Plan(Mode.AFTER_CHECKPOINT, 3));
        Corpus corpus = runToCompletion(dir, plan);
        assertFailedOnceAndRestored(plan);
        assertDeliveredExactlyOnce(corpus, dir);
    }

    @Test
    void exceptionAfterTheBatcherAfterACompletedCheckpoint(@TempDir Path dir) throws Exception {
        Plan plan = plan(AFTER_BATCHER, new Plan(Mode.AFTER_CHECKPOINT, 3));
        Corpus corpus = runToCompletion(dir, plan);
        assertFailedOnceAndRestored(plan);
        assertDeliveredExactlyOnce(corpus, dir);
    }

    @Test
    void failureInTheAsynchronousPhaseOfACheckpoint(@TempDir Path dir) throws Exception {
        Plan plan = plan(AFTER_BATCHER, new Plan(Mode.ASYNC_SNAPSHOT, 3));
        Corpus corpus = runToCompletion(dir, plan);
        assertFailedOnceAndRestored(plan);
        assertDeliveredExactlyOnce(corpus, dir);
    }

    /**
     * As the Kubernetes manifest runs the job (tolerable-failed-checkpoints: 3): a checkpoint fails and
     * the job goes on without a restore. The blocks staged under the failed checkpoint (and a Kafka
     * transaction prepared for it) must be delivered once the next checkpoint completes.
     */
    @Test
    void aFailedCheckpointTheJobToleratesLosesNothing(@TempDir Path dir) throws Exception {
        Plan plan = plan(AFTER_BATCHER, new Plan(Mode.ASYNC_SNAPSHOT, 3));
        Corpus corpus = runToCompletion(dir, plan, 3);
        assertThat(plan.fired.get()).as("the injected checkpoint failure happened").isEqualTo(1);
        assertThat(FailureInjector.RESTORED_SUBTASKS.get()).as("no restore: the failure was tolerated").isZero();
        assertDeliveredExactlyOnce(corpus, dir);
    }

    /**
     * The receiver holds the answer to the 6th block while the job fails: blocks of that checkpoint
     * before it were acknowledged, it was received but not acknowledged, others were not yet sent.
     */
    @Test
    void failureDuringDeliveryAfterPartOfACheckpointsBlocks(@TempDir Path dir) throws Exception {
        Plan plan = plan(AFTER_BATCHER, new Plan(Mode.ON_SIGNAL, 0));
        int[] seen = {0};
        receiver.onDelivered(request -> {
            synchronized (seen) {
                if (++seen[0] != 6) {
                    return;
                }
            }
            plan.signal.set(true);
            awaitQuietly(() -> plan.fired.get() > 0, Duration.ofSeconds(20));
            sleepQuietly(300); // let the failover tear the delivery operators down before the answer goes out
        });
        Corpus corpus = runToCompletion(dir, plan);
        assertFailedOnceAndRestored(plan);
        assertThat(receiver.repeats()).as("the held block is sent again after the restore").isGreaterThanOrEqualTo(1);
        assertDeliveredExactlyOnce(corpus, dir);
    }

    @Test
    void stopWithSavepointAndRestartFromIt(@TempDir Path dir) throws Exception {
        JobConfig config = config(dir);
        Stopped stopped = stopWithSavepointAfterThreeBlocks(config, dir);

        // Restarted with a changed configuration (one more stream, of a client without events): operators resolve the
        // new one by its own fingerprint, and no state depends on it.
        StreamConfig s = config.streams().get(0);
        List<StreamConfig> streams = new ArrayList<>(config.streams());
        streams.add(new StreamConfig(990_001L, "added-on-restore", "no-such-client", s.dataSource(), s.template(),
                s.domains(), s.allDomains(), s.samplingPercentage(), true, s.endpoint(), s.batching()));
        JobConfig changed = new JobConfig(config.source(), config.deadLetter(), config.delivery(),
                config.checkpointInterval(), streams, config.batchingKeysPerStream(), config.addressPolicy());
        assertThat(JobConfigRef.share(new StreamExecutionEnvironment(new Configuration()), changed).fingerprint())
                .isNotEqualTo(JobConfigRef.share(new StreamExecutionEnvironment(new Configuration()), config).fingerprint());
        restartAndCheck(changed, stopped, 2, dir);
    }

    @Test
    void rescaleToParallelismThreeFromASavepoint(@TempDir Path dir) throws Exception {
        stopAndRestartAt(dir, 3);
    }

    @Test
    void rescaleToParallelismOneFromASavepoint(@TempDir Path dir) throws Exception {
        stopAndRestartAt(dir, 1);
    }

    /**
     * Rescaling: the open blocks of both batchers (the chained one's keyed state is redistributed like the other's)
     * are cut after the restore, the new subtasks batch in other lanes, and no block id is used twice.
     */
    private void stopAndRestartAt(Path dir, int parallelism) throws Exception {
        JobConfig config = config(dir);
        Stopped stopped = stopWithSavepointAfterThreeBlocks(config, dir);
        LOG.info("{}: restarting at parallelism {}", run, parallelism);
        restartAndCheck(config, stopped, parallelism, dir);
        List<String> blockIds = receiver.deliveredBlocks().stream()
                .map(b -> b.idempotencyKey().substring(0, b.idempotencyKey().indexOf(':'))).toList();
        assertThat(blockIds).as("HTTP block ids across the rescale").doesNotHaveDuplicates();
    }

    private record Stopped(Corpus corpus, String savepoint) {}

    /** A job at parallelism 2 until 3 checkpoints and 3 HTTP blocks, then stop-with-savepoint (no drain). */
    private Stopped stopWithSavepointAfterThreeBlocks(JobConfig config, Path dir) throws Exception {
        CountDownLatch stopped = new CountDownLatch(1);
        Corpus corpus = startProducing(() -> stopped.getCount() == 0);
        JobClient first = submit(config, null);
        await("3 checkpoints and 3 HTTP blocks", () -> FailureInjector.LAST_COMPLETED_CHECKPOINT.get() >= 3
                && receiver.deliveredBlocks().size() >= 3);
        String savepoint = first.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(),
                SavepointFormatType.CANONICAL).get(60, TimeUnit.SECONDS);
        first.getJobExecutionResult().get(60, TimeUnit.SECONDS);
        stopped.countDown(); // the second half of the corpus arrives while no job runs
        LOG.info("{}: stopped with savepoint {} after {} HTTP blocks", run, savepoint, receiver.deliveredBlocks().size());
        return new Stopped(corpus, savepoint);
    }

    /** A new job from the savepoint; every record of the corpus delivered exactly once across both jobs. */
    private void restartAndCheck(JobConfig config, Stopped stopped, int parallelism, Path dir) throws Exception {
        JobClient second = submit(config, stopped.savepoint(), 0, parallelism);
        try {
            awaitEverythingDelivered(stopped.corpus());
        } finally {
            cancel(second);
        }
        assertThat(FailureInjector.RESTORED_SUBTASKS.get()).as("subtasks restored from the savepoint").isPositive();
        assertDeliveredExactlyOnce(stopped.corpus(), dir);
    }

    // ---- one run ----

    private Corpus runToCompletion(Path dir, Plan plan) throws Exception {
        return runToCompletion(dir, plan, 0);
    }

    /** The second half of the corpus is written once the injected failure happened. */
    private Corpus runToCompletion(Path dir, Plan plan, int toleratedCheckpointFailures) throws Exception {
        JobConfig config = config(dir);
        Corpus corpus = startProducing(() -> plan.fired.get() > 0);
        JobClient job = submit(config, null, toleratedCheckpointFailures);
        try {
            awaitEverythingDelivered(corpus);
        } finally {
            cancel(job);
        }
        return corpus;
    }

    private JobClient submit(JobConfig config, String savepoint) throws Exception {
        return submit(config, savepoint, 0);
    }

    private JobClient submit(JobConfig config, String savepoint, int toleratedCheckpointFailures) throws Exception {
        return submit(config, savepoint, toleratedCheckpointFailures, 2);
    }

    private JobClient submit(JobConfig config, String savepoint, int toleratedCheckpointFailures, int parallelism)
            throws Exception {
        Configuration conf = new Configuration();
        conf.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, toleratedCheckpointFailures);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        // The job's own stages, with an injector spliced in before and after the batcher in every run
        // (the same graph in every run, so a savepoint of one run fits the next).
        // Before both batchers: the one chained to the router (local keys) and the one behind the network.
        EdgeStreamingPipeline.Routed stages = EdgeStreamingPipeline.route(env, config,
                EdgeStreamingPipeline.Options.UNBOUNDED);
        EdgeStreamingPipeline.Routed routed = new EdgeStreamingPipeline.Routed(
                FailureInjector.at(stages.local(), BEFORE_BATCHER, "inject-before-local-batcher", RoutedRecord.TYPE_INFO),
                FailureInjector.at(stages.remote(), BEFORE_BATCHER, RoutedRecord.TYPE_INFO));
        DataStream<Block> blocks = FailureInjector.at(EdgeStreamingPipeline.batch(routed, config), AFTER_BATCHER,
                BlockTypeInfoFactory.TYPE_INFO);
        EdgeStreamingPipeline.deliver(blocks, config);
        return env.executeAsync("exactly-once under failure: " + run);
    }

    private static void cancel(JobClient job) throws Exception {
        try {
            job.cancel().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.debug("cancel", e); // already finished or failed: its result says which
        }
    }

    /**
     * Waits until every endpoint holds every expected record, then two more checkpoints (and the
     * deliveries after them), so that a late duplicate shows up before the job is cancelled.
     */
    private void awaitEverythingDelivered(Corpus corpus) throws Exception {
        producer.join(DEADLINE.toMillis());
        List<String> expected = corpus.expected();
        await("every expected record at every endpoint", () -> {
            Outputs out;
            try {
                out = outputs();
            } catch (NoSuchKeyException e) {
                return false; // s3proxy's in-memory store: a listed object being overwritten by a re-delivery
            }
            return new HashSet<>(out.http()).containsAll(expected) && new HashSet<>(out.kafkaRecords()).containsAll(expected)
                    && new HashSet<>(out.kafkaBlocks()).containsAll(expected) && new HashSet<>(out.s3()).containsAll(expected);
        });
        long now = FailureInjector.LAST_COMPLETED_CHECKPOINT.get();
        await("two more checkpoints", () -> FailureInjector.LAST_COMPLETED_CHECKPOINT.get() >= now + 2);
        Thread.sleep(500);
    }

    // ---- assertions ----

    private static void assertFailedOnceAndRestored(Plan plan) {
        assertThat(plan.fired.get()).as("the injected failure happened").isEqualTo(1);
        assertThat(FailureInjector.RESTORED_SUBTASKS.get()).as("subtasks restored from a checkpoint").isPositive();
    }

    private void assertDeliveredExactlyOnce(Corpus corpus, Path dir) throws IOException {
        Outputs out = outputs();
        List<String> expected = corpus.expected();
        ExactlyOnce.Report[] reports = {
            ExactlyOnce.compare("http (distinct Idempotency-Key blocks)", expected, out.http()),
            ExactlyOnce.compare("kafka, one message per record (read_committed)", expected, out.kafkaRecords()),
            ExactlyOnce.compare("kafka, one message per block (read_committed)", expected, out.kafkaBlocks()),
            ExactlyOnce.compare("s3 (all objects)", expected, out.s3()),
            ExactlyOnce.compare("dead-letter events topic", corpus.malformed(), out.deadLetters()),
        };
        for (ExactlyOnce.Report report : reports) {
            LOG.info("{}: {}", run, report.describe());
        }
        LOG.info("{}: {} HTTP blocks, {} repeated requests, {} S3 objects, last checkpoint {}", run,
                receiver.deliveredBlocks().size(), receiver.repeats(), s3.listKeys(bucket()).size(),
                FailureInjector.LAST_COMPLETED_CHECKPOINT.get());
        ExactlyOnce.assertExactlyOnce(reports);

        assertThat(receiver.conflictingRepeats()).as("an Idempotency-Key repeated with a different body").isEmpty();
        // Both batchers were in the failure: the one chained to the router (local lanes, hot keys) and the one
        // behind the network (home lanes).
        Map<Boolean, Long> byBatcher = receiver.deliveredBlocks().stream().collect(java.util.stream.Collectors
                .partitioningBy(b -> isLocalLane(b.idempotencyKey()), java.util.stream.Collectors.counting()));
        LOG.info("{}: HTTP blocks by batcher: {} local, {} behind the network", run, byBatcher.get(true), byBatcher.get(false));
        assertThat(byBatcher.get(true)).as("HTTP blocks of the batcher chained to the router").isPositive();
        assertThat(byBatcher.get(false)).as("HTTP blocks of the batcher behind the network").isPositive();
        for (HttpReceiver.Request block : receiver.deliveredBlocks()) {
            assertThat(block.records()).as("records of %s", block).hasSizeBetween(1, MAX_RECORDS);
            assertThat((long) block.body().length).as("bytes of %s", block).isLessThanOrEqualTo(MAX_SIZE);
        }
        Map<String, Integer> perKafkaBlock = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> message : kafka.readCommitted(topic("out-record"), Duration.ofSeconds(10))) {
            perKafkaBlock.merge(header(message, "block_id"), 1, Integer::sum);
        }
        assertThat(perKafkaBlock.values()).as("messages per block id (record format)").allMatch(n -> n <= MAX_RECORDS);
        for (ConsumerRecord<byte[], byte[]> message : kafka.readCommitted(topic("out-block"), Duration.ofSeconds(10))) {
            assertThat(lines(message.value())).as("records of Kafka block %s", header(message, "block_id"))
                    .hasSizeBetween(1, MAX_RECORDS);
            assertThat((long) message.value().length).isLessThanOrEqualTo(MAX_SIZE);
        }
        for (String key : s3.listKeys(bucket())) {
            byte[] object = s3.get(bucket(), key);
            assertThat((long) object.length).as("bytes of object %s", key).isLessThanOrEqualTo(MAX_SIZE);
            assertThat(lines(gunzip(object))).as("records of object %s", key).hasSizeBetween(1, MAX_RECORDS);
        }
        assertThat(s3.openMultipartUploads(bucket())).as("multipart uploads left open").isEmpty();
        Path deadBlocks = dir.resolve("dead-blocks");
        if (Files.isDirectory(deadBlocks)) {
            try (Stream<Path> files = Files.walk(deadBlocks)) {
                assertThat(files.filter(Files::isRegularFile).toList()).as("dead-lettered blocks").isEmpty();
            }
        }
    }

    // ---- outputs ----

    private record Outputs(List<String> http, List<String> kafkaRecords, List<String> kafkaBlocks, List<String> s3,
            List<String> deadLetters) {}

    private Outputs outputs() {
        List<String> http = receiver.deliveredRecords();
        List<String> kafkaRecords = new ArrayList<>();
        kafka.readCommitted(topic("out-record"), Duration.ofSeconds(5))
                .forEach(m -> kafkaRecords.add(new String(m.value(), StandardCharsets.US_ASCII)));
        List<String> kafkaBlocks = new ArrayList<>();
        kafka.readCommitted(topic("out-block"), Duration.ofSeconds(5)).forEach(m -> kafkaBlocks.addAll(lines(m.value())));
        List<String> objects = new ArrayList<>();
        for (String key : s3.listKeys(bucket())) {
            objects.addAll(lines(gunzip(s3.get(bucket(), key))));
        }
        List<String> dead = new ArrayList<>();
        kafka.readCommitted(topic("dead"), Duration.ofSeconds(5))
                .forEach(m -> dead.add(new String(m.value(), StandardCharsets.US_ASCII)));
        return new Outputs(http, kafkaRecords, kafkaBlocks, objects, dead);
    }

    private static List<String> lines(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.US_ASCII);
        return text.isEmpty() ? List.of() : List.of(text.split("\n", -1));
    }

    private static byte[] gunzip(byte[] bytes) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("an S3 object that is not gzip", e);
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    // ---- the corpus ----

    /** What was written, and what follows from it. Filled by the producer thread, read after it ended. */
    private record Corpus(List<String> expected, List<String> malformed) {}

    /**
     * Writes the fixed corpus in chunks once the job has completed its first checkpoint; the second half
     * waits until {@code secondHalf} holds (the injected failure happened, the job was stopped), so the
     * failure falls in the middle of the corpus however slow the machine is. The corpus: clients c1 (streamed) and c2 (no stream), three hosts,
     * both data sources, a malformed event now and then. The records every stream must deliver are written down here from
     * the streams' rules (client c1, data source http, every domain, template id/h/s).
     */
    private Corpus startProducing(BooleanSupplier secondHalf) {
        Corpus corpus = new Corpus(new ArrayList<>(), new ArrayList<>());
        stopProducing.set(false);
        producer = new Thread(() -> {
            // Only once the job checkpoints: the failures are injected in the middle of the corpus,
            // however long the job takes to start on a loaded machine.
            awaitQuietly(() -> FailureInjector.LAST_COMPLETED_CHECKPOINT.get() >= 1 || stopProducing.get(), DEADLINE);
            for (int start = 0; start < EVENTS && !stopProducing.get(); start += CHUNK) {
                if (start == EVENTS / 2) {
                    awaitQuietly(() -> secondHalf.getAsBoolean() || stopProducing.get(), DEADLINE);
                }
                List<byte[]> http = new ArrayList<>();
                List<byte[]> waf = new ArrayList<>();
                for (int i = start; i < start + CHUNK; i++) {
                    String client = i % 4 == 3 ? "c2" : "c1";
                    String host = HOSTS[i % HOSTS.length];
                    String status = i % 10 == 0 ? "500" : i % 7 == 0 ? "304" : "200";
                    if (i % 97 == 50) {
                        String bad = switch ((i / 97) % 4) {
                            case 0 -> "not json " + i;
                            case 1 -> "[" + i + "]";
                            case 2 -> "{\"client\":\"c1\",\"host\":\"" + host + "\",\"request_id\":\"bad-" + i;
                            default -> "{\"host\":\"" + host + "\",\"request_id\":\"bad-" + i + "\"}";
                        };
                        http.add(bad.getBytes(StandardCharsets.US_ASCII));
                        corpus.malformed().add(bad);
                    } else if (i % 9 == 8) {
                        waf.add(("{\"client\":\"" + client + "\",\"host\":\"" + host + "\",\"waf_attack_family\":\"SQL\""
                                + ",\"waf_uri\":\"/w/" + i + "\"}").getBytes(StandardCharsets.US_ASCII));
                    } else {
                        http.add(("{\"client\":\"" + client + "\",\"host\":\"" + host + "\",\"status\":\"" + status
                                + "\",\"request_id\":\"req-" + i + "\",\"request_uri\":\"/p/" + i + "\"}")
                                .getBytes(StandardCharsets.US_ASCII));
                        if (client.equals("c1")) {
                            corpus.expected().add("{\"id\":\"req-" + i + "\",\"h\":\"" + host + "\",\"s\":\"" + status
                                    + "\"}");
                        }
                    }
                }
                kafka.send(topic("raw-http"), http);
                kafka.send(topic("raw-waf"), waf);
                sleepQuietly(CHUNK_PAUSE_MILLIS);
            }
        }, "corpus-producer-" + run);
        producer.start();
        return corpus;
    }

    // ---- configuration ----

    private JobConfig config(Path dir) throws Exception {
        String stream = """
                  - id: %d
                    name: c1-%s
                    client: c1
                    data_source: http
                    template_model: '{"id":"$request_id","h":"$host","s":"$status"}'
                    all_domains: true
                    max_records: %d
                    max_interval: 1s
                    endpoint:
                %s""";
        String yaml = """
                source:
                  bootstrap_servers: %s
                  topics:
                    http: %s
                    waf: %s
                  group_id: eo-%s
                  starting_position: earliest
                dead_letter:
                  events_topic: %s
                  blocks_path: %s
                delivery:
                  request_timeout: 10s
                  initial_backoff: 100ms
                  max_backoff: 1s
                  max_retry_duration: 10m
                checkpoint_interval: 300ms
                allowed_networks: ["127.0.0.0/8", "::1/128"]
                streams:
                """.formatted(kafka.bootstrapServers(), topic("raw-http"), topic("raw-waf"), run, topic("dead"),
                dir.resolve("dead-blocks").toUri())
                + stream.formatted(1, "http", MAX_RECORDS, """
                              endpoint_type: standard
                              url: %s
                              max_size: %d
                              compression: gzip
                        """.formatted(receiver.url("/s1"), MAX_SIZE))
                + stream.formatted(2, "kafka-records", MAX_RECORDS, kafkaEndpoint(topic("out-record"), "record"))
                + stream.formatted(3, "kafka-blocks", MAX_RECORDS, kafkaEndpoint(topic("out-block"), "block"))
                + stream.formatted(4, "s3", MAX_RECORDS, """
                              endpoint_type: s3
                              host_url: %s
                              bucket_name: %s
                              region: %s
                              access_key: %s
                              secret_key: %s
                              object_key_prefix: c1
                              content_type: application/gzip
                        """.formatted(s3.endpoint(), bucket(), EmbeddedS3.REGION, s3.accessKey(), s3.secretKey()));
        return ConfigLoader.parse(yaml);
    }

    private static String kafkaEndpoint(String topic, String format) {
        return """
                      endpoint_type: kafka
                      bootstrap_servers: %s
                      kafka_topic: %s
                      use_tls: false
                      message_format: %s
                      transaction_timeout: 5m
                """.formatted(kafka.bootstrapServers(), topic, format);
    }

    private String topic(String name) {
        return name + "-" + run;
    }

    private String bucket() {
        return "eo-" + run.substring(0, Math.min(50, run.length()));
    }

    private static Plan plan(String site, Plan plan) {
        FailureInjector.PLANS.put(site, plan);
        return plan;
    }

    // ---- waiting ----

    private static void await(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + DEADLINE + ": " + what);
            }
            Thread.sleep(250);
        }
    }

    private static void awaitQuietly(BooleanSupplier done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            sleepQuietly(10);
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the block of an Idempotency-Key "stream/domain/sequence:digest" was cut in a local lane. */
    private static boolean isLocalLane(String idempotencyKey) {
        String id = idempotencyKey.substring(0, idempotencyKey.indexOf(':'));
        long sequence = Long.parseLong(id.substring(id.lastIndexOf('/') + 1));
        return sequence % BatchingKeys.LANE_SEQUENCE_RANGE >= BatchingKeys.LOCAL_SEQUENCE_OFFSET;
    }
}
