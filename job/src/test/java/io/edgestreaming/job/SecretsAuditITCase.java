package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.HttpReceiver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
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
 * The secrets audit: the whole job on a MiniCluster with distinctive secret values in every place the
 * configuration takes one (HTTP header values, S3 secret_key, Kafka SASL password, source
 * {@code properties}), two endpoints that refuse their credential until their blocks are dead-lettered
 * (HTTP 401, S3 wrong secret key), and then every channel an operator sees is searched for every secret:
 * all log lines (every logger at INFO and up, with stack traces), every metric identifier, scope variable
 * and value, the dead-letter store (names and contents), and the job's REST answers.
 */
class SecretsAuditITCase {
    private static final Configuration FLINK = new Configuration();

    static {
        FLINK.setString("metrics.reporter.audit.factory.class", AuditMetricReporter.Factory.class.getName());
        FLINK.setString("metrics.reporter.audit.interval", "200 ms");
    }

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setConfiguration(FLINK)
                    .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    // Distinctive values: none can appear by chance. The tokens are searched for, not the whole header value.
    private static final String HTTP_TOKEN = "hdrTokOk7q9Zk2Lm";
    private static final String HTTP_API_KEY = "hdrApiKey3w8Rt6Pz";
    private static final String HTTP_REFUSED_TOKEN = "hdrTokBad4x8Wp3Nv";
    private static final String S3_SECRET = "s3SecOk5r7Yt1QdVb";
    private static final String S3_WRONG_SECRET = "s3SecBad2m6Hs9KfJ";
    private static final String SASL_PASSWORD = "saslPw3n5Jb8RwXc";
    private static final String SOURCE_PASSWORD = "srcPw9p2Gc4TxLm";
    private static final String SOURCE_PROPERTY = "srcProp6h1Vd7NsQ";
    static final List<String> SECRETS = List.of(HTTP_TOKEN, HTTP_API_KEY, HTTP_REFUSED_TOKEN, S3_SECRET,
            S3_WRONG_SECRET, SASL_PASSWORD, SOURCE_PASSWORD, SOURCE_PROPERTY);

    private static final String ACCESS_KEY = "audit-access";
    private static final String BUCKET = "audit-bucket";

    private static EmbeddedKafka kafka;
    private static EmbeddedS3 s3;
    private static HttpReceiver accepting;
    private static HttpReceiver refusing;

    @BeforeAll
    static void startServers() {
        kafka = EmbeddedKafka.builder().scramUser("edge", SASL_PASSWORD).scramUser("reader", SOURCE_PASSWORD).start();
        kafka.createTopic("raw-http", 1);
        kafka.createTopic("dead-letter", 1);
        kafka.createTopic("out", 1);
        s3 = EmbeddedS3.start(ACCESS_KEY, S3_SECRET);
        s3.createBucket(BUCKET);
        accepting = HttpReceiver.start();
        refusing = HttpReceiver.start();
        refusing.respondWith(401);
    }

    @AfterAll
    static void stopServers() {
        for (AutoCloseable c : new AutoCloseable[] {accepting, refusing, s3, kafka}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    @Test
    void noSecretInLogsMetricsDeadLettersOrRestAnswers(@TempDir Path dir, @InjectClusterClient ClusterClient<?> cluster)
            throws Exception {
        Path deadLetters = dir.resolve("dead-letter");
        String yaml = """
                source:
                  bootstrap_servers: %s
                  topics: {http: raw-http}
                  group_id: audit
                  starting_position: earliest
                  properties:
                    security.protocol: SASL_PLAINTEXT
                    sasl.mechanism: SCRAM-SHA-256
                    sasl.jaas.config: ${env:SOURCE_JAAS}
                    audit.custom.secret: %s
                dead_letter:
                  events_topic: dead-letter
                  blocks_path: %s
                delivery:
                  request_timeout: 1s
                  initial_backoff: 100ms
                  max_backoff: 400ms
                  max_retry_duration: 3s
                checkpoint_interval: 300ms
                allowed_networks: ["127.0.0.0/8", "::1/128"]
                streams:
                  - {id: 1, name: accepting, client: c1, template_model: '{"h":"$host","id":"$request_id"}',
                     domains: [www.a.example], max_interval: 200ms,
                     endpoint: {endpoint_type: standard, url: '%s',
                                headers: {Authorization: 'Bearer ${env:HTTP_TOKEN}', X-Api-Key: %s}}}
                  - {id: 2, name: refusing, client: c1, template_model: '{"h":"$host","id":"$request_id"}',
                     domains: [www.a.example], max_interval: 200ms,
                     endpoint: {endpoint_type: standard, url: '%s', headers: {Authorization: 'Bearer %s'}}}
                  - {id: 3, name: s3-ok, client: c1, template_id: 184, domains: [www.a.example], max_interval: 200ms,
                     endpoint: {endpoint_type: s3, host_url: '%s', bucket_name: %s, region: us-east-1,
                                access_key: %s, secret_key: '${env:S3_SECRET}'}}
                  - {id: 4, name: s3-wrong, client: c1, template_id: 184, domains: [www.a.example], max_interval: 200ms,
                     endpoint: {endpoint_type: s3, host_url: '%s', bucket_name: %s, region: us-east-1,
                                access_key: %s, secret_key: %s}}
                  - {id: 5, name: kafka-sasl, client: c1, template_id: 184, domains: [www.a.example], max_interval: 200ms,
                     endpoint: {endpoint_type: kafka, bootstrap_servers: '%s', kafka_topic: out,
                                sasl: {mechanism: SCRAM-SHA-256, username: edge, password: '${env:SASL}'}}}
                """.formatted(kafka.secureBootstrapServers(), SOURCE_PROPERTY, deadLetters.toUri(),
                accepting.url("/in"), HTTP_API_KEY, refusing.url("/in"), HTTP_REFUSED_TOKEN,
                s3.endpoint(), BUCKET, ACCESS_KEY, s3.endpoint(), BUCKET, ACCESS_KEY, S3_WRONG_SECRET,
                kafka.secureBootstrapServers());
        Map<String, String> env = Map.of(
                "SOURCE_JAAS", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"reader\""
                        + " password=\"" + SOURCE_PASSWORD + "\";",
                "HTTP_TOKEN", HTTP_TOKEN, "S3_SECRET", S3_SECRET, "SASL", SASL_PASSWORD);
        JobConfig config = ConfigLoader.parse(yaml, env::get, dir);

        List<byte[]> events = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            events.add(("{\"client\":\"c1\",\"host\":\"www.a.example\",\"status\":\"200\",\"request_id\":\"r" + i + "\"}")
                    .getBytes(StandardCharsets.US_ASCII));
        }
        events.add("not json".getBytes(StandardCharsets.US_ASCII)); // a dead-letter event on the source cluster
        kafka.send("raw-http", events);

        String rest = cluster.getWebInterfaceURL();
        Map<String, String> answers = new LinkedHashMap<>();
        List<String> logs;
        JobID jobId;
        try (Capture capture = Capture.open()) {
            StreamExecutionEnvironment flink = StreamExecutionEnvironment.getExecutionEnvironment();
            flink.setParallelism(1);
            EdgeStreamingPipeline.build(flink, config, EdgeStreamingPipeline.Options.BOUNDED);
            JobClient job = flink.executeAsync("secrets audit");
            jobId = job.getJobID();
            // While it runs: every subtask metric of every vertex, through the REST API.
            String jobJson = awaitRunning(rest, jobId);
            for (String vertex : ids(jobJson)) {
                String base = rest + "/jobs/" + jobId + "/vertices/" + vertex;
                String names = get(base + "/subtasks/metrics");
                answers.put(base + "/subtasks/metrics", names);
                List<String> metricIds = ids(names);
                for (int from = 0; from < metricIds.size(); from += 40) {
                    String get = String.join(",", metricIds.subList(from, Math.min(metricIds.size(), from + 40)));
                    answers.put(base + "/subtasks/metrics?get=" + from,
                            get(base + "/subtasks/metrics?get=" + java.net.URLEncoder.encode(get, StandardCharsets.UTF_8)));
                }
            }
            job.getJobExecutionResult().get(4, TimeUnit.MINUTES);
            logs = capture.lines();
        }

        // The secrets were really used: the accepting endpoints received them, the refusing ones refused them.
        assertThat(accepting.deliveredBlocks()).isNotEmpty()
                .allSatisfy(r -> assertThat(r.header("Authorization")).isEqualTo("Bearer " + HTTP_TOKEN));
        assertThat(refusing.requests()).isNotEmpty();
        assertThat(s3.listKeys(BUCKET)).isNotEmpty();
        List<Path> deadLetterFiles;
        try (Stream<Path> files = Files.walk(deadLetters)) {
            deadLetterFiles = files.filter(Files::isRegularFile).toList();
        }
        assertThat(deadLetterFiles.stream().map(p -> p.getFileName().toString()))
                .as("the refused blocks were dead-lettered with manifests")
                .anyMatch(n -> n.startsWith("stream-2") || deadLetterFiles.toString().contains("stream-2"))
                .anyMatch(n -> n.endsWith(".manifest.json"));
        String manifests = String.join("\n", deadLetterFiles.stream().filter(p -> p.toString().endsWith(".manifest.json"))
                .map(SecretsAuditITCase::read).toList());
        assertThat(manifests).contains("credential refused").contains("SignatureDoesNotMatch");

        for (String path : List.of("/jobs/" + jobId, "/jobs/" + jobId + "/config", "/jobs/" + jobId + "/plan",
                "/jobs/" + jobId + "/exceptions", "/jobs/" + jobId + "/checkpoints", "/jobs/" + jobId + "/checkpoints/config",
                "/jobs/" + jobId + "/accumulators", "/jobmanager/config", "/jobmanager/environment", "/taskmanagers",
                "/jobs/overview", "/config")) {
            answers.put(path, get(rest + path));
        }
        for (String vertex : ids(answers.get("/jobs/" + jobId))) {
            String v = "/jobs/" + jobId + "/vertices/" + vertex;
            for (String sub : List.of("", "/accumulators", "/subtasks/0/attempts/0", "/subtasks/0/attempts/0/accumulators")) {
                answers.put(v + sub, get(rest + v + sub));
            }
        }
        assertThat(answers.get("/jobs/" + jobId + "/plan")).contains("parse and route");

        List<String> leaks = new ArrayList<>();
        for (String secret : SECRETS) {
            logs.stream().filter(l -> l.contains(secret)).limit(3).forEach(l -> leaks.add("log: " + cut(l, secret)));
            AuditMetricReporter.SEEN.forEach((id, seen) -> {
                synchronized (seen) {
                    seen.stream().filter(s -> s.contains(secret)).limit(1)
                            .forEach(s -> leaks.add("metric " + id + ": " + cut(s, secret)));
                }
            });
            for (Path f : deadLetterFiles) {
                if (deadLetters.relativize(f).toString().contains(secret)) {
                    leaks.add("dead-letter file name: " + f);
                }
                if (read(f).contains(secret)) {
                    leaks.add("dead-letter file: " + f + ": " + cut(read(f), secret));
                }
            }
            answers.forEach((path, body) -> {
                if (body.contains(secret)) {
                    leaks.add("REST " + path + ": " + cut(body, secret));
                }
            });
        }
        // The search itself finds a secret where there is one (so an empty result means something).
        assertThat(leaksIn(List.of("x " + SASL_PASSWORD + " y"))).isNotEmpty();
        assertThat(logs).as("log lines captured").hasSizeGreaterThan(50);
        assertThat(AuditMetricReporter.SEEN).as("metrics seen").hasSizeGreaterThan(50);
        assertThat(answers).as("REST answers").hasSizeGreaterThan(15);
        assertThat(leaks).as("secrets found in %d log lines, %d metrics, %d dead-letter files, %d REST answers",
                logs.size(), AuditMetricReporter.SEEN.size(), deadLetterFiles.size(), answers.size()).isEmpty();
    }

    private static List<String> leaksIn(List<String> lines) {
        return lines.stream().filter(l -> SECRETS.stream().anyMatch(l::contains)).toList();
    }

    /** Where the secret is, with a little context (the secret itself masked, so the report shows no secret). */
    private static String cut(String text, String secret) {
        int at = text.indexOf(secret);
        String around = text.substring(Math.max(0, at - 120), Math.min(text.length(), at + secret.length() + 60));
        return around.replace(secret, "<SECRET " + secret.substring(0, 3) + "...>");
    }

    private static String read(Path p) {
        try {
            return new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private static String get(String url) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    private static String awaitRunning(String rest, JobID jobId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (true) {
            String json = get(rest + "/jobs/" + jobId);
            if (json.startsWith("200") && json.contains("\"vertices\"") && !json.contains("\"status\":\"CREATED\"")
                    && !json.contains("\"status\":\"SCHEDULED\"") && !json.contains("\"status\":\"DEPLOYING\"")
                    && !json.contains("\"status\":\"INITIALIZING\"")) {
                Thread.sleep(1000); // let the operators register their metrics
                return get(rest + "/jobs/" + jobId);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("job not running: " + json);
            }
            Thread.sleep(100);
        }
    }

    private static final Pattern ID = Pattern.compile("\"id\":\"([^\"]+)\"");

    private static List<String> ids(String json) {
        List<String> out = new ArrayList<>();
        Matcher m = ID.matcher(json);
        while (m.find()) {
            if (!out.contains(m.group(1))) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    /** Every log event of every logger at INFO and up while open, message and stack trace; the console keeps WARN. */
    static final class Capture extends AbstractAppender implements AutoCloseable {
        private final List<String> lines = new ArrayList<>();
        private Level rootLevel;
        private Appender console;
        private final Map<LoggerConfig, Level> raised = new LinkedHashMap<>();

        private Capture() {
            super("secrets-audit-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY);
        }

        static Capture open() {
            Capture c = new Capture();
            c.start();
            LoggerContext context = (LoggerContext) LogManager.getContext(false);
            for (LoggerConfig logger : context.getConfiguration().getLoggers().values()) {
                if (logger.getLevel() != null && logger.getLevel().isMoreSpecificThan(Level.WARN)) {
                    c.raised.put(logger, logger.getLevel());
                    logger.setLevel(Level.INFO); // e.g. a logger configured at WARN or ERROR
                }
            }
            LoggerConfig root = context.getConfiguration().getRootLogger();
            c.rootLevel = root.getLevel();
            c.console = root.getAppenders().get("console");
            if (c.console != null) {
                root.removeAppender("console");
                root.addAppender(c.console, Level.WARN, null);
            }
            root.setLevel(Level.INFO);
            root.addAppender(c, Level.INFO, null);
            context.getConfiguration().getLoggerConfig("io.edgestreaming").addAppender(c, Level.INFO, null);
            context.updateLoggers();
            return c;
        }

        @Override
        public void append(LogEvent event) {
            StringBuilder line = new StringBuilder(event.getLoggerName()).append(' ')
                    .append(event.getMessage().getFormattedMessage());
            if (event.getThrown() != null) {
                java.io.StringWriter w = new java.io.StringWriter();
                event.getThrown().printStackTrace(new java.io.PrintWriter(w));
                line.append('\n').append(w);
            }
            synchronized (lines) {
                lines.add(line.toString());
            }
        }

        List<String> lines() {
            synchronized (lines) {
                return List.copyOf(lines);
            }
        }

        @Override
        public void close() {
            LoggerContext context = (LoggerContext) LogManager.getContext(false);
            LoggerConfig root = context.getConfiguration().getRootLogger();
            root.removeAppender(getName());
            context.getConfiguration().getLoggerConfig("io.edgestreaming").removeAppender(getName());
            if (console != null) {
                root.removeAppender("console");
                root.addAppender(console, null, null);
            }
            root.setLevel(rootLevel);
            raised.forEach(LoggerConfig::setLevel);
            context.updateLoggers();
            stop();
        }
    }
}
