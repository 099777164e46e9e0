package io.edgestreaming.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import io.edgestreaming.cluster.StandaloneCluster.Checkpoints;
import io.edgestreaming.cluster.StandaloneCluster.JobStatus;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.ExactlyOnce;
import io.edgestreaming.testkit.HttpReceiver;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shaded job jar on a real standalone cluster, its TaskManager killed with SIGKILL while events stream in and
 * blocks are being delivered to all three endpoint types at once. Each endpoint then holds every expected record
 * exactly once: HTTP counted over distinct Idempotency-Keys (a repeated key only ever repeats an identical body),
 * Kafka read with read_committed, S3 as the union of all objects; no block exceeds max_records. The expected records
 * are computed here from the generated events. Raw events come from an in-process KRaft broker (which also hosts the
 * Kafka destination), the S3 server and the HTTP receiver run in this JVM; the job runs in the cluster's JVMs.
 */
class EdgeStreamingJobOnStandaloneClusterITCase {

    private static final Logger LOG = LoggerFactory.getLogger(EdgeStreamingJobOnStandaloneClusterITCase.class);
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(120);
    private static final String HTTP_TOPIC = "raw-http";
    private static final String WAF_TOPIC = "raw-waf";
    private static final int MAX_RECORDS = 50;
    private static final String OUT_TOPIC = "c1-logs";
    private static final String BUCKET = "edge-logs";
    private static final String[] HOSTS = {"www.shop.example", "img.shop.example", "api.shop.example"};

    @Test
    void deliversEveryRecordExactlyOnceAcrossTaskManagerKill() throws Exception {
        Path jobJar = ProjectPaths.jobJar();
        Path base = Path.of("target", "cluster-it", "job-" + System.currentTimeMillis()).toAbsolutePath();
        Files.createDirectories(base);

        try (EmbeddedKafka kafka = EmbeddedKafka.builder().transactionVersion(2).start(); HttpReceiver receiver = HttpReceiver.start();
                EmbeddedS3 s3 = EmbeddedS3.start("cluster-itcase", "cluster-itcase-secret")) {
            // As a fresh Kafka 4.x cluster: transaction.version 2 (a re-commit after kill -9 is fenced).
            assertThat(kafka.transactionVersion()).as("transaction.version of the test broker").isEqualTo(2);
            kafka.createTopic(HTTP_TOPIC, 2);
            kafka.createTopic(WAF_TOPIC, 1);
            kafka.createTopic("dead-letter-events", 1);
            kafka.createTopic(OUT_TOPIC, 2);
            s3.createBucket(BUCKET);
            Path config = base.resolve("streams.yaml");
            Files.writeString(config, config(kafka.bootstrapServers(), receiver.url("/s1").toString(), s3,
                    base.resolve("dead-blocks").toUri().toString()), StandardCharsets.UTF_8);

            AtomicInteger nextEvent = new AtomicInteger();
            List<String> expected = new ArrayList<>();
            send(kafka, nextEvent, 600, expected);

            Map<String, Long> seenProcesses = new LinkedHashMap<>();
            StandaloneCluster cluster = StandaloneCluster.start(base.resolve("run"));
            AtomicBoolean producing = new AtomicBoolean(true);
            Thread producer = new Thread(() -> {
                // Events keep coming while the TaskManager dies and the job recovers: ~300 events/s.
                while (producing.get()) {
                    send(kafka, nextEvent, 30, expected);
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "event-producer");
            try {
                seenProcesses.putAll(cluster.processes());
                String jobId = cluster.submit(jobJar, "--config", config.toString());
                cluster.waitRunning(jobId, STEP_TIMEOUT);
                producer.start();
                receiver.awaitBlocks(10, STEP_TIMEOUT);
                Checkpoints before = cluster.status(jobId).checkpoints();

                List<Long> killed = cluster.killTaskManager();
                int deliveredAtKill = receiver.deliveredBlocks().size();
                long killedAt = System.nanoTime();
                cluster.startTaskManager();
                seenProcesses.putAll(cluster.processes());
                awaitCheckpoints(cluster, jobId, c -> c.restored() >= 1);
                JobStatus recovered = cluster.waitRunning(jobId, STEP_TIMEOUT);
                long recoveryMs = Duration.ofNanos(System.nanoTime() - killedAt).toMillis();
                assertThat(recovered.allTasksRunning()).isTrue();
                Checkpoints restored = cluster.status(jobId).checkpoints();
                awaitCheckpoints(cluster, jobId, c -> c.completed() >= restored.completed() + 2);

                producing.set(false);
                producer.join();
                send(kafka, nextEvent, 300, expected);
                List<String> expectedRecords;
                synchronized (expected) {
                    expectedRecords = List.copyOf(expected);
                }
                awaitDistinctRecords("http", () -> httpRecords(receiver), expectedRecords.size());
                awaitDistinctRecords("kafka", () -> kafkaRecords(kafka), expectedRecords.size());
                awaitDistinctRecords("s3", () -> s3Records(s3), expectedRecords.size());
                // Two more checkpoints: a late duplicate would show up now.
                Checkpoints done = cluster.status(jobId).checkpoints();
                awaitCheckpoints(cluster, jobId, c -> c.completed() >= done.completed() + 2);
                LOG.info("killed TaskManager {} after {} delivered blocks (checkpoints {}); recovered in {} ms; "
                        + "{} events, {} expected records per endpoint, {} HTTP blocks, {} repeated requests, "
                        + "{} S3 objects",
                        killed, deliveredAtKill, before, recoveryMs, nextEvent.get(), expectedRecords.size(),
                        receiver.deliveredBlocks().size(), receiver.repeats(), s3.listKeys(BUCKET).size());

                assertThat(receiver.conflictingRepeats()).as("an Idempotency-Key repeated with another body")
                        .isEmpty();
                for (HttpReceiver.Request block : receiver.deliveredBlocks()) {
                    assertThat(block.records().size()).as("records in %s", block).isBetween(1, MAX_RECORDS);
                }
                for (String key : s3.listKeys(BUCKET)) {
                    assertThat(s3Object(s3, key).size()).as("records in object %s", key).isBetween(1, MAX_RECORDS);
                }
                Map<String, Integer> perKafkaBlock = new HashMap<>();
                for (var message : kafka.readCommitted(OUT_TOPIC, Duration.ofSeconds(10))) {
                    perKafkaBlock.merge(new String(message.headers().lastHeader("block_id").value(),
                            StandardCharsets.UTF_8), 1, Integer::sum);
                }
                assertThat(perKafkaBlock.values()).as("Kafka messages per block id").allMatch(n -> n <= MAX_RECORDS);
                ExactlyOnce.Report[] reports = {
                    ExactlyOnce.compare("http (distinct Idempotency-Key blocks)", expectedRecords, httpRecords(receiver)),
                    ExactlyOnce.compare("kafka (read_committed)", expectedRecords, kafkaRecords(kafka)),
                    ExactlyOnce.compare("s3 (all objects)", expectedRecords, s3Records(s3)),
                };
                for (ExactlyOnce.Report report : reports) {
                    LOG.info("{}", report.describe());
                }
                ExactlyOnce.assertExactlyOnce(reports);
                // Every event was valid and every endpoint up: nothing may have gone to the dead-letter stores.
                assertThat(kafka.readCommitted("dead-letter-events", Duration.ofSeconds(10)))
                        .as("dead-lettered events").isEmpty();
                assertThat(filesUnder(base.resolve("dead-blocks"))).as("dead-lettered blocks").isEmpty();
            } catch (Throwable t) {
                LOG.error("standalone cluster logs of the failed test:\n{}", cluster.logTails(80));
                throw t;
            } finally {
                producing.set(false);
                producer.interrupt();
                cluster.close();
            }
            assertThat(seenProcesses.values()).as("processes left after stop: %s", seenProcesses)
                    .noneMatch(StandaloneCluster::isAlive);
        }
    }

    /** Records of the distinct blocks (first 2xx request per Idempotency-Key). */
    private static List<String> httpRecords(HttpReceiver receiver) {
        return receiver.deliveredRecords();
    }

    /** Committed messages of the destination topic (record format: one record per message). */
    private static List<String> kafkaRecords(EmbeddedKafka kafka) {
        return kafka.readCommitted(OUT_TOPIC, Duration.ofSeconds(10)).stream()
                .map(r -> new String(r.value(), StandardCharsets.UTF_8))
                .toList();
    }

    /** The records of every object in the bucket. */
    private static List<String> s3Records(EmbeddedS3 s3) {
        List<String> records = new ArrayList<>();
        for (String key : s3.listKeys(BUCKET)) {
            records.addAll(s3Object(s3, key));
        }
        return records;
    }

    private static List<String> s3Object(EmbeddedS3 s3, String key) {
        String body = new String(s3.get(BUCKET, key), StandardCharsets.UTF_8);
        return body.isEmpty() ? List.of() : List.of(body.split("\n", -1));
    }

    private static List<Path> filesUnder(Path dir) throws java.io.IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    /**
     * Sends {@code n} events: clients c1 (streamed) and c2 (no stream), three hosts, both data sources. Adds the
     * records stream 1 must deliver for them, written here from the stream's rules.
     */
    private static void send(EmbeddedKafka kafka, AtomicInteger next, int n, List<String> expected) {
        List<byte[]> http = new ArrayList<>();
        List<byte[]> waf = new ArrayList<>();
        synchronized (expected) {
            for (int k = 0; k < n; k++) {
                int i = next.getAndIncrement();
                String client = i % 4 == 3 ? "c2" : "c1";
                String host = HOSTS[i % HOSTS.length];
                String status = i % 10 == 0 ? "500" : "200";
                if (i % 9 == 8) {
                    // WAF events of c1: stream 1 takes http only.
                    waf.add(("{\"client\":\"" + client + "\",\"host\":\"" + host + "\",\"request_id\":\"waf-" + i
                            + "\",\"waf_attack_family\":\"SQL\"}").getBytes(StandardCharsets.US_ASCII));
                    continue;
                }
                http.add(("{\"client\":\"" + client + "\",\"host\":\"" + host + "\",\"status\":\"" + status
                        + "\",\"request_id\":\"req-" + i + "\",\"request_uri\":\"/p/" + i + "\"}")
                        .getBytes(StandardCharsets.US_ASCII));
                if (client.equals("c1")) {
                    expected.add("{\"id\":\"req-" + i + "\",\"h\":\"" + host + "\",\"s\":\"" + status + "\"}");
                }
            }
            // Under the lock: what is expected is what was sent, also for the producer thread.
            kafka.send(HTTP_TOPIC, http);
            kafka.send(WAF_TOPIC, waf);
        }
    }

    private static String config(String bootstrap, String url, EmbeddedS3 s3, String deadBlocks) {
        return """
                source:
                  bootstrap_servers: %s
                  topics:
                    http: %s
                    waf: %s
                  group_id: edge-streaming-cluster-itcase
                  starting_position: earliest
                dead_letter:
                  events_topic: dead-letter-events
                  blocks_path: %s
                delivery:
                  request_timeout: 10s
                  initial_backoff: 100ms
                  max_backoff: 1s
                  max_retry_duration: 10m
                checkpoint_interval: 1s
                allowed_networks: ["127.0.0.0/8", "::1/128"]
                streams:
                  - id: 1
                    name: c1-http
                    client: c1
                    data_source: http
                    template_model: '{"id":"$request_id","h":"$host","s":"$status"}'
                    all_domains: true
                    max_records: %d
                    max_interval: 1s
                    endpoint:
                      endpoint_type: standard
                      url: %s
                      log_line_separator: "\\n"
                      payload_format: "$dataset"
                  - id: 2
                    name: c1-kafka
                    client: c1
                    data_source: http
                    template_model: '{"id":"$request_id","h":"$host","s":"$status"}'
                    all_domains: true
                    max_records: %d
                    max_interval: 1s
                    endpoint:
                      endpoint_type: kafka
                      bootstrap_servers: %s
                      kafka_topic: %s
                      use_tls: false
                      message_format: record
                      transaction_timeout: 5m
                  - id: 3
                    name: c1-s3
                    client: c1
                    data_source: http
                    template_model: '{"id":"$request_id","h":"$host","s":"$status"}'
                    all_domains: true
                    max_records: %d
                    max_interval: 1s
                    endpoint:
                      endpoint_type: s3
                      host_url: %s
                      bucket_name: %s
                      region: %s
                      access_key: %s
                      secret_key: %s
                      object_key_prefix: c1_http
                      content_type: plain/text
                      key_layout: azion
                """.formatted(bootstrap, HTTP_TOPIC, WAF_TOPIC, deadBlocks, MAX_RECORDS, url,
                MAX_RECORDS, bootstrap, OUT_TOPIC,
                MAX_RECORDS, s3.endpoint(), BUCKET, EmbeddedS3.REGION, s3.accessKey(), s3.secretKey());
    }

    /** Waits until an endpoint holds n distinct records; the exactly-once assertions name what is missing. */
    private static void awaitDistinctRecords(String endpoint, Supplier<List<String>> records, int n)
            throws InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        int have;
        do {
            have = new HashSet<>(records.get()).size();
            if (have >= n) {
                return;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        LOG.warn("{}: only {} of {} distinct records delivered within {}", endpoint, have, n, STEP_TIMEOUT);
    }

    private static Checkpoints awaitCheckpoints(StandaloneCluster cluster, String jobId,
            java.util.function.Predicate<Checkpoints> done) throws InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        Checkpoints last;
        do {
            last = cluster.status(jobId).checkpoints();
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("checkpoints not as expected within " + STEP_TIMEOUT + ", last: " + last);
    }
}
