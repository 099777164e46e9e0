package io.edgestreaming.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgestreaming.templates.DataSource;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** deploy/config/example.yaml, as the local runner loads it. */
class ExampleConfigTest {
    static final Path EXAMPLE = Path.of("../deploy/config/example.yaml");
    static final Map<String, String> RUNNER_ENV = Map.of(
            "EDGE_KAFKA_BOOTSTRAP", "127.0.0.1:39092",
            "EDGE_HTTP_URL", "http://127.0.0.1:38080/ingest",
            "EDGE_S3_URL", "http://127.0.0.1:39000",
            "EDGE_S3_ACCESS_KEY", "local-access",
            "EDGE_S3_SECRET_KEY", "local-secret");

    @Test
    void exampleLoadsWithOneStreamPerEndpointTypeAWafStreamAndACustomTemplate() throws Exception {
        JobConfig c = ConfigLoader.load(EXAMPLE, RUNNER_ENV::get);

        assertThat(c.source().bootstrapServers()).isEqualTo("127.0.0.1:39092");
        assertThat(c.source().topics()).isEqualTo(Map.of(DataSource.HTTP, "edge-http-events",
                DataSource.WAF, "edge-waf-events"));
        assertThat(c.source().startingPosition()).isEqualTo(SourceConfig.StartingPosition.EARLIEST);
        assertThat(c.deadLetter()).isEqualTo(new DeadLetterConfig("edge-streaming-dead-letter",
                "file:///tmp/edge-streaming/dead-letter"));
        assertThat(c.checkpointInterval()).isEqualTo(Duration.ofSeconds(5));
        // The runner's servers listen on loopback: allowed explicitly.
        assertThat(c.addressPolicy()).isEqualTo(AddressPolicy.allowing("127.0.0.0/8", "::1/128"));
        assertThat(c.streams()).extracting(StreamConfig::id).containsExactly(1001L, 1002L, 1003L, 1004L, 1005L);
        assertThat(c.streams()).extracting(s -> s.endpoint().endpointType())
                .containsExactly("standard", "kafka", "s3", "kafka", "standard");
        assertThat(c.streams()).extracting(StreamConfig::client).containsExactly("4529r", "7781k", "4529r", "4529r", "7781k");
        assertThat(c.streams()).allSatisfy(s -> {
            assertThat(s.active()).isTrue();
            assertThat(s.batching().maxInterval()).isEqualTo(Duration.ofSeconds(10));
        });

        StreamConfig siem = c.streams().get(0);
        assertThat(siem.template().id()).isEqualTo(184);
        assertThat(siem.domains()).containsExactly("www.shop-4529r.example", "*.cdn-4529r.example");
        HttpEndpoint http = (HttpEndpoint) siem.endpoint();
        assertThat(http.url()).isEqualTo(URI.create("http://127.0.0.1:38080/ingest/siem"));
        assertThat(http.headers()).containsOnlyKeys("X-Edge-Stream");

        StreamConfig toKafka = c.streams().get(1);
        assertThat(toKafka.template().id()).isEqualTo(2);
        assertThat(toKafka.domains()).containsExactly("api.7781k.example");
        assertThat(toKafka.endpoint()).isEqualTo(new KafkaEndpoint("127.0.0.1:39092", "edge-logs-7781k", false, null,
                null, KafkaEndpoint.MessageFormat.RECORD, "none", Duration.ofMinutes(10)));

        StreamConfig archive = c.streams().get(2);
        assertThat(archive.allDomains()).isTrue();
        assertThat(archive.samplingPercentage()).isEqualTo(50.0);
        assertThat(archive.endpoint()).isEqualTo(new S3Endpoint(URI.create("http://127.0.0.1:39000"), "edge-logs",
                "us-east-1", "local-access", Secret.of("local-secret"), "4529r_http", "text/plain",
                S3Endpoint.KeyLayout.AZION));

        StreamConfig waf = c.streams().get(3);
        assertThat(waf.dataSource()).isEqualTo(DataSource.WAF);
        assertThat(waf.template().id()).isEqualTo(4);
        assertThat(((KafkaEndpoint) waf.endpoint()).messageFormat()).isEqualTo(KafkaEndpoint.MessageFormat.BLOCK);
        assertThat(waf.batching().maxSize()).isEqualTo(1_000_000);

        StreamConfig custom = c.streams().get(4);
        assertThat(custom.template().id()).isNull();
        assertThat(custom.template().entries()).extracting(e -> e.key())
                .containsExactly("time", "host", "url", "status", "bytes", "cache");
        assertThat(custom.batching()).isEqualTo(new BatchingConfig(500, Duration.ofSeconds(10), 5_000_000));
        HttpEndpoint array = (HttpEndpoint) custom.endpoint();
        assertThat(array.logLineSeparator()).isEqualTo(",");
        assertThat(array.payloadFormat()).isEqualTo("[$dataset]");
        assertThat(array.compression()).isEqualTo(HttpEndpoint.Compression.GZIP);
        // Two destinations, not one: the local runner's per-destination figures stay apart.
        assertThat(array.destinationId()).isNotEqualTo(http.destinationId());
    }

    /** deploy/config/reference.yaml documents every key; loading it keeps the documentation valid. */
    @Test
    void referenceConfigurationLoads(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // Copied beside its ${file:s3-secret-key}, which ${file:} reads only there (or under EDGE_STREAMING_FILE_DIRS).
        Path reference = java.nio.file.Files.copy(Path.of("../deploy/config/reference.yaml"),
                dir.resolve("reference.yaml"));
        java.nio.file.Files.writeString(dir.resolve("s3-secret-key"), "from-file\n");
        JobConfig c = ConfigLoader.load(reference, Map.of("SIEM_TOKEN", "t", "KAFKA_PASSWORD", "p")::get);
        assertThat(c.streams()).extracting(s -> s.endpoint().endpointType()).containsExactly("standard", "kafka", "s3");
        // The values written there are the defaults, as the comments say.
        assertThat(c.delivery()).isEqualTo(new DeliveryConfig(Duration.ofSeconds(20), Duration.ofSeconds(1),
                Duration.ofMinutes(5), Duration.ofHours(24), 10_000, 1L << 30, DeliveryConfig.DERIVED_MEMORY_BUDGET,
                "file:///tmp/edge-streaming/spool"));
        assertThat(c.delivery().spoolPath()).isEqualTo(DeliveryConfig.spoolPathBeside(c.deadLetter().blocksPath()));
        assertThat(c.streams().get(0).batching()).isEqualTo(new BatchingConfig(2000, Duration.ofSeconds(60), 5_000_000));
        assertThat(((S3Endpoint) c.streams().get(2).endpoint()).secretKey().reveal()).isEqualTo("from-file");
        assertThat(c.addressPolicy()).as("allowed_networks: [] is the default").isEqualTo(AddressPolicy.PUBLIC_ONLY);
    }

    /** Operators carry the configuration in their closures: it must survive Java serialization whole. */
    @Test
    void loadedConfigurationSurvivesJavaSerialization() throws Exception {
        JobConfig c = ConfigLoader.load(EXAMPLE, RUNNER_ENV::get);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        JobConfig copy;
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
                new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (JobConfig) in.readObject();
        }
        assertThat(copy.source()).isEqualTo(c.source());
        assertThat(copy.deadLetter()).isEqualTo(c.deadLetter());
        assertThat(copy.delivery()).isEqualTo(c.delivery());
        assertThat(copy.addressPolicy()).isEqualTo(c.addressPolicy());
        assertThat(copy.toString()).isEqualTo(c.toString());
        for (int i = 0; i < c.streams().size(); i++) {
            StreamConfig a = c.streams().get(i);
            StreamConfig b = copy.streams().get(i);
            assertThat(b.endpoint()).isEqualTo(a.endpoint());
            assertThat(b.batching()).isEqualTo(a.batching());
            assertThat(b.domains()).isEqualTo(a.domains());
            assertThat(b.template().entries()).isEqualTo(a.template().entries());
        }
    }

    @Test
    void exampleNamesEveryRunnerVariableItNeeds() {
        Map<String, String> partial = new HashMap<>(RUNNER_ENV);
        partial.remove("EDGE_S3_SECRET_KEY");
        assertThatThrownBy(() -> ConfigLoader.load(EXAMPLE, partial::get))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "streams[2].endpoint.secret_key: environment variable EDGE_S3_SECRET_KEY is not set"));
    }
}
