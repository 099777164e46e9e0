package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgestreaming.config.BatchingConfig;
import io.edgestreaming.config.DeadLetterConfig;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.SourceConfig;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.LogFields;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.templates.Templates;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.HttpReceiver;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job on a MiniCluster with Flink's Prometheus reporter, scraped over HTTP: per-stream and
 * per-destination series carry their ids as labels, no secret shows, every metric the Grafana
 * dashboard queries exists, and block log lines carry stream_id, destination and block_id (MDC).
 */
class MetricsITCase {
    private static final int PROM_PORT = freePort();
    private static final String SECRET = "Zq7SecretTokenValue42";
    private static final String OP = "flink_taskmanager_job_task_operator_";

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .setConfiguration(reporter()).build());

    private static EmbeddedKafka kafka;
    private static HttpReceiver ok;
    private static HttpReceiver refusing;

    private static Configuration reporter() {
        Configuration conf = new Configuration();
        conf.setString("metrics.reporter.prom.factory.class",
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        conf.setString("metrics.reporter.prom.port", Integer.toString(PROM_PORT));
        return conf;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeAll
    static void startServers() {
        kafka = EmbeddedKafka.start();
        kafka.createTopic("raw-http", 1);
        kafka.createTopic("dead-letter-events", 1);
        ok = HttpReceiver.start();
        refusing = HttpReceiver.start();
        refusing.respondWith(400); // permanent: its blocks are dead-lettered
    }

    @AfterAll
    static void stopServers() {
        for (AutoCloseable c : new AutoCloseable[] {ok, refusing, kafka}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // best effort
                }
            }
        }
    }

    private static StreamConfig stream(long id, String client, URI url, double sampling, int maxSize) throws Exception {
        BatchingConfig batching = new BatchingConfig(5, Duration.ofMillis(300), maxSize);
        HttpEndpoint endpoint = new HttpEndpoint(url, Map.of(), "\n", "$dataset", batching.maxSize(),
                HttpEndpoint.Compression.NONE, null);
        return new StreamConfig(id, "stream " + id, client, DataSource.HTTP,
                Templates.custom(DataSource.HTTP, "{\"h\":\"$host\",\"id\":\"$request_id\"}"), List.of(), true, sampling,
                true, endpoint, batching);
    }

    @Test
    void scrapedSeriesCarryLabelsAndCoverTheDashboard(@TempDir Path deadBlocks) throws Exception {
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String client = i % 2 == 0 ? "c1" : "c2";
            values.add(("{\"client\":\"" + client + "\",\"host\":\"www.a.com\",\"request_id\":\"r" + i + "\"}")
                    .getBytes(StandardCharsets.US_ASCII));
        }
        values.add("not json".getBytes(StandardCharsets.US_ASCII));
        // Its record can never fit stream 23's max_size: RECORD_TOO_LARGE.
        values.add(("{\"client\":\"c2\",\"host\":\"www.a.com\",\"request_id\":\"" + "x".repeat(600) + "\"}")
                .getBytes(StandardCharsets.US_ASCII));
        values.add("{\"host\":\"www.a.com\"}".getBytes(StandardCharsets.US_ASCII));
        kafka.send("raw-http", values);

        URI refusingUrl = refusing.url("/dl?token=" + SECRET);
        JobConfig config = new JobConfig(
                new SourceConfig(kafka.bootstrapServers(), Map.of(DataSource.HTTP, "raw-http"), "metrics-itcase",
                        SourceConfig.StartingPosition.EARLIEST, 4096, Map.of()),
                new DeadLetterConfig("dead-letter-events", deadBlocks.toUri().toString()),
                new DeliveryConfig(Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofSeconds(1),
                        Duration.ofMinutes(2), 1000, 100_000_000),
                Duration.ofMillis(300),
                List.of(stream(21, "c1", ok.url("/s21"), 100, 1_000_000), stream(22, "c1", ok.url("/s22"), 50, 1_000_000),
                        stream(23, "c2", refusingUrl, 100, 500)),
                TestStreams.LOOPBACK);

        List<LogEvent> logged = new CopyOnWriteArrayList<>();
        AbstractAppender capture = new AbstractAppender("capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                logged.add(event.toImmutable());
            }
        };
        capture.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        LoggerConfig loggerConfig = context.getConfiguration().getLoggerConfig("io.edgestreaming");
        loggerConfig.addAppender(capture, null, null);
        context.updateLoggers();

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        EdgeStreamingPipeline.build(env, config, EdgeStreamingPipeline.Options.UNBOUNDED);
        JobClient job = env.executeAsync("metrics ITCase");
        String scrape;
        try {
            scrape = awaitScrape(s -> value(s, OP + "destination_deliveredBlocks", "destination", "s21") >= 4
                    && value(s, OP + "destination_deadLetteredBlocks", "destination", "_dl_token") >= 4
                    && value(s, OP + "stream_blocksCut", "stream", "23") >= 4);
        } finally {
            try {
                job.cancel().get(60, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // already ended
            }
            loggerConfig.removeAppender("capture");
            context.updateLoggers();
        }

        // No secret, in a name or a value.
        assertThat(scrape).doesNotContain(SECRET);
        // Per stream, labelled.
        assertThat(value(scrape, OP + "stream_eventsIn", "stream", "21")).isEqualTo(20);
        assertThat(value(scrape, OP + "stream_records", "stream", "21")).isEqualTo(20);
        assertThat(value(scrape, OP + "stream_eventsSampledOut", "stream", "22")).isBetween(1.0, 19.0);
        assertThat(value(scrape, OP + "stream_eventsSampledOut", "stream", "22")
                + value(scrape, OP + "stream_records", "stream", "22")).isEqualTo(20);
        assertThat(value(scrape, OP + "stream_blocksCut", "stream", "21")).isEqualTo(4);
        assertThat(value(scrape, OP + "stream_blockBytesCut", "stream", "21")).isGreaterThan(100);
        // all_domains: www.a.com shares a batching key, with blocks of its own (one per block of 5 records).
        assertThat(value(scrape, OP + "stream_hostsAdmitted", "stream", "21")).isEqualTo(4);
        assertThat(series(scrape, OP + "stream_recordsFolded")).anyMatch(s -> s.contains("stream=\"21\""));
        assertThat(value(scrape, OP + "stream_recordsFolded", "stream", "21")).isZero();
        assertThat(value(scrape, OP + "stream_hostsFolded", "stream", "21")).isZero();
        assertThat(value(scrape, OP + "reason_eventsDeadLettered", "reason", "NOT_JSON")).isEqualTo(1);
        assertThat(value(scrape, OP + "reason_eventsDeadLettered", "reason", "MISSING_CLIENT")).isEqualTo(1);
        assertThat(value(scrape, OP + "stream_reason_recordsDeadLettered", "reason", "RECORD_TOO_LARGE")).isEqualTo(1);
        assertThat(series(scrape, OP + "stream_reason_recordsDeadLettered")).allMatch(s -> s.contains("stream=\"23\""));
        assertThat(value(scrape, OP + "stream_eventsIn", "stream", "23")).isEqualTo(21);
        // Per destination, labelled with its (redacted) id.
        assertThat(value(scrape, OP + "destination_deliveredBlocks", "destination", "s21")).isEqualTo(4);
        assertThat(value(scrape, OP + "destination_deliveredBytes", "destination", "s21")).isGreaterThan(100);
        assertThat(value(scrape, OP + "destination_attempts", "destination", "s21")).isGreaterThanOrEqualTo(4);
        assertThat(value(scrape, OP + "destination_deliveryLatencyMillis_count", "destination", "s21")).isEqualTo(4);
        assertThat(value(scrape, OP + "destination_pendingBlocks", "destination", "s21")).isZero();
        assertThat(value(scrape, OP + "destination_state", "destination", "s21")).isZero();
        assertThat(value(scrape, OP + "destination_deadLetteredBlocks", "destination", "_dl_token")).isEqualTo(4);
        // The reporter turns '/', '.', '?', '=' and '*' of label values into '_'.
        assertThat(series(scrape, OP + "destination_deadLetteredBlocks")).anyMatch(s -> s.contains("_dl_token______"));

        // Every metric the dashboard queries is one the reporter serves.
        Set<String> names = names(scrape);
        Path target = Path.of("target");
        Files.createDirectories(target);
        Files.write(target.resolve("prometheus-metric-names.txt"), names);
        Set<String> queried = dashboardMetricNames(repositoryRoot().resolve("deploy/grafana/edge-streaming.json"));
        assertThat(queried).isNotEmpty();
        assertThat(names).containsAll(queried);

        // Block log lines carry structured fields, without the secret.
        LogEvent deadLettered = logged.stream()
                .filter(e -> e.getMessage().getFormattedMessage().contains("dead-lettered")
                        && e.getContextData().containsKey(LogFields.BLOCK_ID))
                .findFirst().orElseThrow(() -> new AssertionError("no dead-lettered block logged: " + logged));
        Map<String, String> mdc = deadLettered.getContextData().toMap();
        assertThat(mdc.get(LogFields.STREAM_ID)).isEqualTo("23");
        assertThat(mdc.get(LogFields.BLOCK_ID)).startsWith("23/www.a.com/");
        assertThat(mdc.get(LogFields.DESTINATION)).startsWith("standard:http://").contains("/dl").doesNotContain(SECRET);
        assertThat(deadLettered.getMessage().getFormattedMessage()).doesNotContain(SECRET);
        LogEvent badEvent = logged.stream()
                .filter(e -> e.getMessage().getFormattedMessage().contains("NOT_JSON")).findFirst().orElseThrow();
        assertThat(badEvent.getLoggerName()).isEqualTo(ParseAndRoute.class.getName());
    }

    private static String awaitScrape(Predicate<String> done) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                last = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + PROM_PORT + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                if (done.test(last)) {
                    return last;
                }
            } catch (IOException notYet) {
                // the reporter starts with the cluster
            }
            Thread.sleep(300);
        }
        throw new AssertionError("metrics not reached in time; last scrape:\n" + last);
    }

    private static List<String> series(String scrape, String name) {
        return scrape.lines().filter(l -> l.startsWith(name + "{")).toList();
    }

    /** Sum over the series of a metric whose label contains the fragment (NaN-free). */
    private static double value(String scrape, String name, String label, String fragment) {
        Pattern p = Pattern.compile(label + "=\"([^\"]*)\"");
        double sum = 0;
        for (String line : series(scrape, name)) {
            Matcher m = p.matcher(line);
            if (m.find() && m.group(1).contains(fragment)) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private static Set<String> names(String scrape) {
        Set<String> names = new TreeSet<>();
        scrape.lines().filter(l -> !l.startsWith("#") && !l.isBlank())
                .forEach(l -> names.add(l.split("[{ ]", 2)[0]));
        return names;
    }

    /** Metric names in the dashboard's PromQL: identifiers starting with flink_. */
    static Set<String> dashboardMetricNames(Path dashboard) throws IOException {
        Set<String> names = new TreeSet<>();
        Pattern metric = Pattern.compile("\\bflink_[A-Za-z0-9_]+");
        for (JsonNode expr : new ObjectMapper().readTree(dashboard.toFile()).findValues("expr")) {
            Matcher m = metric.matcher(expr.asText());
            while (m.find()) {
                names.add(m.group());
            }
        }
        return names;
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(dir.resolve("deploy")) || !Files.isDirectory(dir.resolve("job"))) {
            dir = dir.getParent();
        }
        return dir;
    }
}
