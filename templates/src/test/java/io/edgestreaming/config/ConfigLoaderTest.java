package io.edgestreaming.config;

import static io.edgestreaming.config.ConfigTesting.MINIMAL;
import static io.edgestreaming.config.ConfigTesting.parse;
import static io.edgestreaming.config.ConfigTesting.problems;
import static io.edgestreaming.config.ConfigTesting.withStream;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.templates.DataSource;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

    @Test
    void aConfigurationOfSeveralMegabytesLoads() throws Exception {
        // Past SnakeYAML's default of 3 M code points (10,000 streams written out in block style take 4 MB);
        // the file's own limit (64 MiB) is the one that holds.
        String domains = IntStream.range(0, 200_000).mapToObj(i -> "d" + i + ".example.com").collect(Collectors.joining(", "));
        String big = MINIMAL.replace("domains: [www.example.com]", "domains: [" + domains + "]");
        assertThat(big.length()).isGreaterThan(3_500_000);
        assertThat(parse(big).streams().get(0).domains()).hasSize(200_000);
    }

    @Test
    void minimalConfigurationGetsEveryDefault() throws Exception {
        JobConfig c = parse(MINIMAL);

        SourceConfig src = c.source();
        assertThat(src.bootstrapServers()).isEqualTo("localhost:9092");
        assertThat(src.topics()).containsExactly(Map.entry(DataSource.HTTP, "edge-http-events"));
        assertThat(src.groupId()).isEqualTo("edge-streaming");
        assertThat(src.startingPosition()).isEqualTo(SourceConfig.StartingPosition.COMMITTED_OR_EARLIEST);
        assertThat(src.maxEventBytes()).isEqualTo(1 << 20);
        assertThat(src.properties()).isEmpty();

        assertThat(c.deadLetter()).isEqualTo(new DeadLetterConfig("edge-streaming-dead-letter", "file:///tmp/dl"));
        assertThat(c.delivery()).isEqualTo(new DeliveryConfig(Duration.ofSeconds(20), Duration.ofSeconds(1),
                Duration.ofMinutes(5), Duration.ofHours(24), 10_000, 1L << 30));
        assertThat(c.checkpointInterval()).isEqualTo(Duration.ofSeconds(30));

        StreamConfig s = c.streams().get(0);
        assertThat(s.id()).isEqualTo(1);
        assertThat(s.name()).isEqualTo("s1");
        assertThat(s.client()).isEqualTo("4529r");
        assertThat(s.dataSource()).isEqualTo(DataSource.HTTP);
        assertThat(s.template().id()).isEqualTo(184);
        assertThat(s.domains()).containsExactly("www.example.com");
        assertThat(s.allDomains()).isFalse();
        assertThat(s.samplingPercentage()).isEqualTo(100.0);
        assertThat(s.active()).isTrue();
        assertThat(s.batching()).isEqualTo(new BatchingConfig(2000, Duration.ofSeconds(60), 5_000_000));
        assertThat(s.endpoint()).isEqualTo(new HttpEndpoint(URI.create("https://siem.example.com/ingest"), Map.of(),
                "\n", "$dataset", 5_000_000, HttpEndpoint.Compression.NONE, null));
    }

    @Test
    void everyExplicitValueIsKept() throws Exception {
        JobConfig c = parse("""
                source:
                  bootstrap_servers: ${env:KAFKA}
                  topics: {http: raw-http, waf: raw-waf}
                  group_id: my-group
                  starting_position: LATEST
                  max_event_bytes: 2048
                  properties: {security.protocol: SSL, max.poll.records: 500}
                dead_letter:
                  events_topic: my-dlq
                  blocks_path: s3://dl-bucket/blocks
                delivery:
                  request_timeout: 5s
                  initial_backoff: 250ms
                  max_backoff: 2m
                  max_retry_duration: 2h
                  max_pending_blocks_per_destination: 77
                  max_pending_bytes_per_destination: 999999999
                checkpoint_interval: PT10S
                streams:
                  - id: 7
                    name: waf-stream
                    client: 7781k
                    data_source: waf
                    template_id: 4
                    domains: [API.7781K.Example, "*.CDN.example"]
                    active: false
                    max_records: 10
                    max_interval: 1500ms
                    max_size: 2000000
                    endpoint:
                      endpoint_type: kafka
                      bootstrap_servers: k1:9093
                      kafka_topic: out.topic_1
                      use_tls: true
                      sasl: {mechanism: scram-sha-512, username: u1, password: pw}
                      ca_file: certs/ca.pem
                      message_format: block
                      compression: zstd
                      transaction_timeout: 1h
                  - id: 8
                    name: s3-stream
                    client: 7781k
                    data_source: http
                    template_id: 2
                    all_domains: true
                    sampling_percentage: 12.5
                    endpoint:
                      endpoint_type: s3
                      host_url: https://s3.example.com:9000
                      bucket_name: edge-logs
                      region: us-east-1
                      access_key: AKIA1
                      secret_key: ${env:S3_SECRET}
                      object_key_prefix: pre/fix
                      content_type: application/gzip
                      key_layout: dated
                  - id: 9
                    name: http-stream
                    client: 7781k
                    data_source: http
                    template_id: 184
                    domains: [a.example]
                    endpoint:
                      endpoint_type: standard
                      url: http://receiver.example:8080/in?x=1
                      headers: {Authorization: "${env:SIEM_TOKEN}", X-Count: 5}
                      log_line_separator: ","
                      payload_format: "[$dataset]"
                      max_size: 1000000
                      compression: gzip
                      ca_bundle: /etc/ssl/private-ca.pem
                """);

        assertThat(c.source()).isEqualTo(new SourceConfig("broker-1:9092,broker-2:9092",
                Map.of(DataSource.HTTP, "raw-http", DataSource.WAF, "raw-waf"), "my-group",
                SourceConfig.StartingPosition.LATEST, 2048,
                Map.of("security.protocol", Secret.of("SSL"), "max.poll.records", Secret.of("500"))));
        assertThat(c.deadLetter()).isEqualTo(new DeadLetterConfig("my-dlq", "s3://dl-bucket/blocks"));
        assertThat(c.delivery()).isEqualTo(new DeliveryConfig(Duration.ofSeconds(5), Duration.ofMillis(250),
                Duration.ofMinutes(2), Duration.ofHours(2), 77, 999_999_999L));
        assertThat(c.checkpointInterval()).isEqualTo(Duration.ofSeconds(10));

        StreamConfig waf = c.streams().get(0);
        assertThat(waf.dataSource()).isEqualTo(DataSource.WAF);
        assertThat(waf.template().id()).isEqualTo(4);
        assertThat(waf.domains()).containsExactly("api.7781k.example", "*.cdn.example");
        assertThat(waf.active()).isFalse();
        assertThat(waf.batching()).isEqualTo(new BatchingConfig(10, Duration.ofMillis(1500), 2_000_000));
        assertThat(waf.endpoint()).isEqualTo(new KafkaEndpoint("k1:9093", "out.topic_1", true,
                new KafkaEndpoint.Sasl("SCRAM-SHA-512", "u1", Secret.of("pw")),
                "/nonexistent-base/certs/ca.pem", KafkaEndpoint.MessageFormat.BLOCK, "zstd", Duration.ofHours(1)));

        StreamConfig s3 = c.streams().get(1);
        assertThat(s3.allDomains()).isTrue();
        assertThat(s3.domains()).isEmpty();
        assertThat(s3.samplingPercentage()).isEqualTo(12.5);
        assertThat(s3.batching().maxSize()).isEqualTo(5_000_000);
        assertThat(s3.endpoint()).isEqualTo(new S3Endpoint(URI.create("https://s3.example.com:9000"), "edge-logs",
                "us-east-1", "AKIA1", Secret.of("s3-secret-value"), "pre/fix", "application/gzip",
                S3Endpoint.KeyLayout.DATED));

        StreamConfig http = c.streams().get(2);
        assertThat(http.batching().maxSize()).isEqualTo(1_000_000);
        HttpEndpoint he = (HttpEndpoint) http.endpoint();
        assertThat(he.headers()).containsExactly(Map.entry("Authorization", Secret.of("Bearer tok-123")),
                Map.entry("X-Count", Secret.of("5")));
        assertThat(he).isEqualTo(new HttpEndpoint(URI.create("http://receiver.example:8080/in?x=1"), he.headers(),
                ",", "[$dataset]", 1_000_000, HttpEndpoint.Compression.GZIP, "/etc/ssl/private-ca.pem"));
    }

    @Test
    void kafkaBlockModeDefaultsToKafkasMessageSize() throws Exception {
        String stream = """
                - id: 1
                  name: k
                  client: c1
                  data_source: http
                  template_id: 2
                  domains: [a.example]
                  endpoint: {endpoint_type: kafka, bootstrap_servers: "k:9092", kafka_topic: t, message_format: %s}
                """;
        assertThat(parse(withStream(stream.formatted("block"))).streams().get(0).batching().maxSize())
                .isEqualTo(1_000_000);
        JobConfig record = parse(withStream(stream.formatted("record")));
        assertThat(record.streams().get(0).batching().maxSize()).isEqualTo(5_000_000);
        KafkaEndpoint k = (KafkaEndpoint) record.streams().get(0).endpoint();
        assertThat(k.useTls()).isFalse();
        assertThat(k.sasl()).isNull();
        assertThat(k.compression()).isEqualTo("none");
        assertThat(k.transactionTimeout()).isEqualTo(Duration.ofMinutes(10));
        S3Endpoint s3 = (S3Endpoint) parse(withStream("""
                - id: 1
                  name: s
                  client: c1
                  data_source: http
                  template_id: 2
                  domains: [a.example]
                  endpoint: {endpoint_type: s3, host_url: "http://s3:9000", bucket_name: b-1, region: r,
                             access_key: a, secret_key: s}
                """)).streams().get(0).endpoint();
        assertThat(s3.objectKeyPrefix()).isEmpty();
        assertThat(s3.contentType()).isEqualTo("text/plain");
        assertThat(s3.keyLayout()).isEqualTo(S3Endpoint.KeyLayout.AZION);
    }

    /** Stream definitions as Azion's v3 API returns them (JSON, Azion's names) are accepted unchanged. */
    @Test
    void azionShapedStreamDefinitionsAreAccepted() throws Exception {
        JobConfig c = parse("""
                {
                  "source": {"bootstrap_servers": "localhost:9092", "topics": {"http": "edge-http-events"}},
                  "dead_letter": {"blocks_path": "file:///tmp/dl"},
                  "streams": [
                    {"id": 1001, "client": "4529r",
                     "name": "Edge logs to SIEM", "template_id": 184, "data_source": "http", "active": true,
                     "domain_ids": ["www.shop-4529r.example", "*.cdn-4529r.example"], "all_domains": false,
                     "endpoint": {"endpoint_type": "standard", "url": "https://siem.example.com/ingest",
                                  "log_line_separator": "\\n", "payload_format": "$dataset", "max_size": 1000000,
                                  "headers": {"Authorization": "Basic dXNlcjpwdw=="}}},
                    {"id": 1002, "client": "4529r",
                     "name": "Sampled archive", "template_id": 2, "active": null,
                     "all_domains": true, "sampling_percentage": 20,
                     "endpoint": {"endpoint_type": "s3", "host_url": "https://s3.us-east-1.amazonaws.com",
                                  "bucket_name": "edge-logs", "region": "us-east-1", "access_key": "AKIA",
                                  "secret_key": "sk", "object_key_prefix": "waf_logs", "content_type": "plain/text"}},
                    {"id": 1003, "client": "4529r",
                     "name": "Custom", "template_model": "{\\"status\\":\\"$status\\",\\"host\\":\\"$host\\"}",
                     "data_source": "http", "domain_ids": ["api.example.com"],
                     "endpoint": {"endpoint_type": "kafka", "bootstrap_servers": "k1:9092,k2:9092",
                                  "kafka_topic": "edge-logs", "use_tls": true}}
                  ]
                }
                """);
        StreamConfig siem = c.streams().get(0);
        assertThat(siem.domains()).containsExactly("www.shop-4529r.example", "*.cdn-4529r.example");
        assertThat(siem.allDomains()).isFalse();
        assertThat(siem.batching().maxSize()).isEqualTo(1_000_000);
        assertThat(((HttpEndpoint) siem.endpoint()).logLineSeparator()).isEqualTo("\n");
        StreamConfig archive = c.streams().get(1);
        assertThat(archive.dataSource()).isEqualTo(DataSource.HTTP); // Azion's default data source
        assertThat(archive.active()).isTrue(); // null is absent, as in Azion's API
        assertThat(archive.allDomains()).isTrue();
        assertThat(archive.samplingPercentage()).isEqualTo(20.0);
        assertThat(((S3Endpoint) archive.endpoint()).contentType()).isEqualTo("text/plain");
        StreamConfig custom = c.streams().get(2);
        assertThat(custom.template().id()).isNull();
        assertThat(custom.template().entries()).extracting(e -> e.key()).containsExactly("status", "host");
        assertThat(((KafkaEndpoint) custom.endpoint()).useTls()).isTrue();
    }

    @Test
    void templateModelMayBeAYamlMapping() throws Exception {
        JobConfig c = parse(withStream("""
                - id: 1
                  name: custom
                  client: c1
                  data_source: waf
                  template_model:
                    when: $time
                    blocked: $blocked
                    where: "${host}:8080"
                  domains: [a.example]
                  endpoint: {endpoint_type: standard, url: "https://x.example/"}
                """));
        assertThat(c.streams().get(0).template().entries()).extracting(e -> e.key() + "=" + e.expression())
                .containsExactly("when=$time", "blocked=$blocked", "where=${host}:8080");
    }

    @Test
    void durationsInEveryWrittenForm() throws Exception {
        for (Map.Entry<String, Duration> e : Map.of(
                "500ms", Duration.ofMillis(500), "60s", Duration.ofSeconds(60), "5m", Duration.ofMinutes(5),
                "PT45S", Duration.ofSeconds(45), "pt2m", Duration.ofMinutes(2),
                "90", Duration.ofSeconds(90), "\"120\"", Duration.ofSeconds(120)).entrySet()) {
            JobConfig c = parse(MINIMAL + "checkpoint_interval: " + e.getKey() + "\n");
            assertThat(c.checkpointInterval()).as(e.getKey()).isEqualTo(e.getValue());
        }
        assertThat(parse(MINIMAL + "delivery: {max_retry_duration: 2d}\n").delivery().maxRetryDuration())
                .isEqualTo(Duration.ofDays(2));
        assertThat(problems(MINIMAL + "checkpoint_interval: PT-1S\n"))
                .containsExactly("checkpoint_interval: 'PT-1S' must not be negative");
        for (String bad : List.of("5 minutes", "-5s", "1.5s", "soon", "5M", "P1Y")) {
            assertThat(problems(MINIMAL + "checkpoint_interval: \"" + bad + "\"\n")).as(bad).containsExactly(
                    "checkpoint_interval: '" + bad + "' is not a duration (write e.g. 500ms, 60s, 5m, 24h, 1d,"
                            + " PT60S, or an integer of seconds)");
        }
        assertThat(problems(MINIMAL + "checkpoint_interval: 999999999999d\n"))
                .containsExactly("checkpoint_interval: must be between 100ms and 5m, was 86399999999913600s: the"
                        + " dead-letter topic's Kafka transactions time out after 10m and each stays open until the"
                        + " checkpoint after it completes");
        assertThat(problems(MINIMAL + "checkpoint_interval: -5\n"))
                .containsExactly("checkpoint_interval: must be between 100ms and 5m, was -5s");
        assertThat(problems(MINIMAL + "checkpoint_interval: [1]\n"))
                .containsExactly("checkpoint_interval: must be a duration such as 60s, 5m or PT1M, was a list");
    }

    @Test
    void batchingKeysPerStreamDefaultsTo64AndIsRefusedOutside1To4096() throws Exception {
        assertThat(parse(MINIMAL).batchingKeysPerStream()).isEqualTo(64);
        assertThat(parse(MINIMAL + "batching_keys_per_stream: 1\n").batchingKeysPerStream()).isEqualTo(1);
        assertThat(parse(MINIMAL + "batching_keys_per_stream: 4096\n").batchingKeysPerStream()).isEqualTo(4096);
        assertThat(problems(MINIMAL + "batching_keys_per_stream: 0\n"))
                .containsExactly("batching_keys_per_stream: must be between 1 and 4096, was 0");
        assertThat(problems(MINIMAL + "batching_keys_per_stream: 4097\n"))
                .containsExactly("batching_keys_per_stream: must be between 1 and 4096, was 4097");
        assertThat(problems(MINIMAL + "batching_keys_per_stream: many\n"))
                .containsExactly("batching_keys_per_stream: must be an integer, was a string");
    }

    @Test
    void loadReadsAFileAndResolvesFileReferencesNextToIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Files.writeString(dir.resolve("token.txt"), "file-token\n");
        java.nio.file.Path file = dir.resolve("job.yaml");
        java.nio.file.Files.writeString(file, MINIMAL.replace("url: https://siem.example.com/ingest",
                "url: https://siem.example.com/ingest\n      headers: {Authorization: \"${file:token.txt}\"}"));
        JobConfig c = ConfigLoader.load(file);
        assertThat(((HttpEndpoint) c.streams().get(0).endpoint()).headers().get("Authorization").reveal())
                .isEqualTo("file-token");

        java.nio.file.Path missing = dir.resolve("missing.yaml");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConfigLoader.load(missing))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        missing + ": cannot read the configuration: the file does not exist"));
    }

    @Test
    void theMemoryBudgetAndTheSpoolPathAreOptional() throws Exception {
        DeliveryConfig derived = parse(MINIMAL).delivery();
        assertThat(derived.memoryBudget()).isEqualTo(DeliveryConfig.DERIVED_MEMORY_BUDGET);
        assertThat(derived.spoolPath()).isNull();
        assertThat(derived.spoolPathOr("file:///tmp/dl")).isEqualTo("file:///tmp/spool");

        DeliveryConfig set = parse(MINIMAL + "delivery: {memory_budget: 268435456, spool_path: 's3://spool-bucket/edge'}\n")
                .delivery();
        assertThat(set.memoryBudget()).isEqualTo(256L << 20);
        assertThat(set.spoolPathOr("file:///tmp/dl")).isEqualTo("s3://spool-bucket/edge");
    }

    @Test
    void theDefaultSpoolIsTheDeadLetterStoresSibling() {
        assertThat(DeliveryConfig.spoolPathBeside("s3://edge-streaming-flink/dead-letter/blocks"))
                .isEqualTo("s3://edge-streaming-flink/dead-letter/spool");
        assertThat(DeliveryConfig.spoolPathBeside("s3://edge-streaming-flink/dead-letter/blocks/"))
                .isEqualTo("s3://edge-streaming-flink/dead-letter/spool");
        assertThat(DeliveryConfig.spoolPathBeside("file:///var/lib/edge/dead-letter")).isEqualTo("file:///var/lib/edge/spool");
        assertThat(DeliveryConfig.spoolPathBeside("s3://bucket")).isEqualTo("s3://bucket/spool");
        assertThat(DeliveryConfig.spoolPathBeside("s3://bucket/")).isEqualTo("s3://bucket/spool");
        assertThat(DeliveryConfig.spoolPathBeside("s3://bucket/x/spool")).isEqualTo("s3://bucket/x/spool-spool");
        assertThat(DeliveryConfig.spoolPathBeside("file:/tmp/dl")).isEqualTo("file:/tmp/spool");
    }
}
