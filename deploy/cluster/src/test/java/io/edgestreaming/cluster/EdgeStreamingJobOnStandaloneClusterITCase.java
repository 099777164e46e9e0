package io.edgestreaming.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.edgestreaming.cluster.StandaloneCluster.Checkpoints;
import io.edgestreaming.cluster.StandaloneCluster.JobStatus;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.HttpReceiver;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shaded job jar on a real standalone cluster, its TaskManager killed with SIGKILL while events stream in and
 * blocks are being delivered: every expected record arrives exactly once at the HTTP endpoint (counted over distinct
 * Idempotency-Keys), a repeated key only ever repeats an identical body, and no block exceeds max_records.
 * The expected records are computed here from the generated events. Raw events come from an in-process KRaft broker
 * and the endpoint is an HTTP receiver in this JVM; the job runs in the cluster's JVMs.
 */
class EdgeStreamingJobOnStandaloneClusterITCase {

    private static final Logger LOG = LoggerFactory.getLogger(EdgeStreamingJobOnStandaloneClusterITCase.class);
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(120);
    private static final String HTTP_TOPIC = "raw-http";
    private static final String WAF_TOPIC = "raw-waf";
    private static final int MAX_RECORDS = 50;
    private static final String[] HOSTS = {"www.shop.example", "img.shop.example", "api.shop.example"};

    @Test
    void deliversEveryRecordExactlyOnceAcrossTaskManagerKill() throws Exception {
        Path jobJar = ProjectPaths.jobJar();
        Path base = Path.of("target", "cluster-it", "job-" + System.currentTimeMillis()).toAbsolutePath();
        Files.createDirectories(base);

        try (EmbeddedKafka kafka = EmbeddedKafka.start(); HttpReceiver receiver = HttpReceiver.start()) {
            kafka.createTopic(HTTP_TOPIC, 2);
            kafka.createTopic(WAF_TOPIC, 1);
            kafka.createTopic("dead-letter-events", 1);
            Path config = base.resolve("streams.yaml");
            Files.writeString(config, config(kafka.bootstrapServers(), receiver.url("/s1").toString(),
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
                awaitDistinctRecords(receiver, expectedRecords.size());
                // Two more checkpoints: a late duplicate would show up now.
                Checkpoints done = cluster.status(jobId).checkpoints();
                awaitCheckpoints(cluster, jobId, c -> c.completed() >= done.completed() + 2);
                LOG.info("killed TaskManager {} after {} delivered blocks (checkpoints {}); recovered in {} ms; "
                        + "{} events, {} expected records, {} blocks, {} repeated requests",
                        killed, deliveredAtKill, before, recoveryMs, nextEvent.get(), expectedRecords.size(),
                        receiver.deliveredBlocks().size(), receiver.repeats());

                assertExactlyOnce(receiver, expectedRecords);
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

    private static void assertExactlyOnce(HttpReceiver receiver, List<String> expectedRecords) {
        assertThat(receiver.conflictingRepeats()).as("an Idempotency-Key repeated with a different body").isEmpty();
        Map<String, Integer> counts = new HashMap<>();
        for (HttpReceiver.Request block : receiver.deliveredBlocks()) {
            assertThat(block.records().size()).as("records in %s", block).isBetween(1, MAX_RECORDS);
            block.records().forEach(r -> counts.merge(r, 1, Integer::sum));
        }
        Set<String> expected = new TreeSet<>(expectedRecords);
        assertThat(expected).as("generated records are distinct").hasSize(expectedRecords.size());
        Set<String> lost = new TreeSet<>(expected);
        lost.removeAll(counts.keySet());
        Set<String> unexpected = new TreeSet<>(counts.keySet());
        unexpected.removeAll(expected);
        Map<String, Integer> duplicated = new LinkedHashMap<>();
        counts.forEach((record, n) -> {
            if (n > 1) {
                duplicated.put(record, n);
            }
        });
        assertThat(lost).as("%d records lost, e.g. %s", lost.size(), first(lost)).isEmpty();
        assertThat(duplicated).as("%d records delivered more than once (in distinct blocks)", duplicated.size())
                .isEmpty();
        assertThat(unexpected).as("%d records nobody expected", unexpected.size()).isEmpty();
    }

    private static List<String> first(Set<String> records) {
        return records.stream().limit(5).toList();
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

    private static String config(String bootstrap, String url, String deadBlocks) {
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
                """.formatted(bootstrap, HTTP_TOPIC, WAF_TOPIC, deadBlocks, MAX_RECORDS, url);
    }

    private static void awaitDistinctRecords(HttpReceiver receiver, int n) throws InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        int have;
        do {
            have = new java.util.HashSet<>(receiver.deliveredRecords()).size();
            if (have >= n) {
                return;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        LOG.warn("only {} of {} distinct records delivered within {}", have, n, STEP_TIMEOUT);
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
