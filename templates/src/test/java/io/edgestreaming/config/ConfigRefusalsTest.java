package io.edgestreaming.config;

import static io.edgestreaming.config.ConfigTesting.MINIMAL;
import static io.edgestreaming.config.ConfigTesting.kafka;
import static io.edgestreaming.config.ConfigTesting.parse;
import static io.edgestreaming.config.ConfigTesting.problems;
import static io.edgestreaming.config.ConfigTesting.s3;
import static io.edgestreaming.config.ConfigTesting.standard;
import static io.edgestreaming.config.ConfigTesting.stream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of refusal, with the message a user gets. */
class ConfigRefusalsTest {
    private static final String S3_OK = """
            host_url: https://s3.example.com
            bucket_name: edge-logs
            region: us-east-1
            access_key: ak
            secret_key: sk
            """;

    @Test
    void everyProblemIsOneLineStartingWithAnUnambiguousPath() {
        // Found by fuzzing (ConfigLoaderFuzzTest): a backslash ended a quoted key early, control characters
        // of a key, a value or a YAML error broke the problem's line.
        assertThat(problems(MINIMAL.replace("    name: s1", "    name: s1\n    \"a\\\\\": 1\n    \"b\\nc\": 2")))
                .satisfiesExactly(p -> assertThat(p).startsWith("streams[0][\"a\\\\\"]: unknown key"),
                        p -> assertThat(p).startsWith("streams[0][\"b\\u000ac\"]: unknown key"));
        assertThat(problems(MINIMAL.replace("data_source: http", "data_source: \"h\\u0001\"")))
                .containsExactly("streams[0].data_source: must be one of http, waf, was 'h\\u0001'");
        assertThat(problems(" *")).singleElement().asString().startsWith("invalid YAML: ").doesNotContain("\u0000");
    }

    @Test
    void unknownKeysAreRefusedWithTheClosestKnownKey() {
        assertThat(problems(MINIMAL + "checkpoint_intervl: 5s\n"))
                .containsExactly("checkpoint_intervl: unknown key (did you mean checkpoint_interval?)");
        assertThat(problems(standard("templateId: 2\n", "")))
                .containsExactly("streams[0].templateId: unknown key (did you mean template_id?)");
        assertThat(problems(s3("", S3_OK + "bucket: x\n")))
                .containsExactly("streams[0].endpoint.bucket: unknown key (did you mean bucket_name?)");
        assertThat(problems(MINIMAL.replace("dead_letter:", "dead_letter:\n  zzz: 1")))
                .containsExactly("dead_letter.zzz: unknown key (known keys: events_topic, blocks_path)");
        // A key of another endpoint type says so.
        assertThat(problems(kafka("", "bootstrap_servers: k:9092\nkafka_topic: t\nurl: https://x.example/\n")))
                .containsExactly("streams[0].endpoint.url: is a key of endpoint_type standard, not of kafka");
        assertThat(problems(kafka("", "bootstrap_servers: k:9092\nkafka_topic: t\nsasl: {mechanism: PLAIN,"
                + " username: u, password: p, pasword: q}\n")))
                .containsExactly("streams[0].endpoint.sasl.pasword: unknown key (did you mean password?)");
    }

    @Test
    void wrongTypesAreRefused() {
        assertThat(problems(stream("name2: x\n").replace("name: s", "name: 5")))
                .contains("streams[0].name: must be a string, was an integer (quote it)");
        assertThat(problems(MINIMAL.replace("- id: 1", "- id: one")))
                .containsExactly("streams[0].id: must be an integer, was a string");
        assertThat(problems(MINIMAL.replace("source:\n  bootstrap_servers: localhost:9092\n  topics: {http: edge-http-events}",
                "source: [localhost:9092]")))
                .containsExactly("source: must be a mapping, was a list");
        assertThat(problems(standard("", "max_size: 1.5e6\n")))
                .containsExactly("streams[0].endpoint.max_size: must be an integer, was a decimal number");
        assertThat(problems(standard("", "headers: [a, b]\n")))
                .containsExactly("streams[0].endpoint.headers: must be a mapping, was a list");
        assertThat(problems(standard("", "compression: true\n")))
                .containsExactly("streams[0].endpoint.compression: must be one of none, gzip, was a boolean");
        assertThat(problems(MINIMAL.replace("[www.example.com]", "[1234]")))
                .containsExactly("streams[0].domains[0]: must be a host name, was an integer (numeric Azion domain ids"
                        + " are not known here: list host names)");
        assertThat(problems(MINIMAL.replace("streams:\n  - id: 1", "streams:\n  - id: 1\n    active: yes please")))
                .containsExactly("streams[0].active: must be true or false, was a string");
        assertThat(problems(MINIMAL + "delivery: 5\n")).containsExactly("delivery: must be a mapping, was an integer");
        assertThat(problems(MINIMAL.replace("streams:\n  - id: 1", "streams: {id: 1}\nx:\n  - id: 1")))
                .contains("streams: must be a list, was a mapping");
    }

    @Test
    void outOfRangeValuesAreRefused() {
        assertThat(problems(standard("", "max_size: 999999\n"))).containsExactly(
                "streams[0].endpoint.max_size: must be between 1000000 and 2147483647, was 999999");
        assertThat(problems(standard("", "max_size: 2147483648\n"))).containsExactly(
                "streams[0].endpoint.max_size: must be between 1000000 and 2147483647, was 2147483648");
        assertThat(problems(standard("max_records: 0\n", ""))).containsExactly(
                "streams[0].max_records: must be between 1 and 2000, was 0");
        assertThat(problems(standard("max_interval: 50ms\n", ""))).containsExactly(
                "streams[0].max_interval: must be between 100ms and 15m, was 50ms");
        String allDomains = "data_source: http\ntemplate_id: 184\nall_domains: true\nsampling_percentage: %s\n"
                + "endpoint: {endpoint_type: standard, url: 'https://x.example/'}\n";
        assertThat(problems(stream(allDomains.formatted("0")))).containsExactly(
                "streams[0].sampling_percentage: must be between 0.01 (the sampling resolution) and 100, was 0.0 (to"
                        + " send nothing set active: false)");
        assertThat(problems(stream(allDomains.formatted("0.001")))).containsExactly(
                "streams[0].sampling_percentage: must be between 0.01 (the sampling resolution) and 100, was 0.001");
        assertThat(problems(stream(allDomains.formatted("100.5")))).containsExactly(
                "streams[0].sampling_percentage: must be between 0.01 (the sampling resolution) and 100, was 100.5");
        assertThat(problems(standard("", "log_line_separator: \"" + "x".repeat(101) + "\"\n"))).containsExactly(
                "streams[0].endpoint.log_line_separator: must be at most 100 characters, has 101");
        assertThat(problems(standard("", "payload_format: \"$dataset" + "x".repeat(243) + "\"\n"))).containsExactly(
                "streams[0].endpoint.payload_format: must be at most 250 characters, has 251");
        assertThat(problems(kafka("", "bootstrap_servers: k:9092\nkafka_topic: " + "t".repeat(151) + "\n")))
                .containsExactly("streams[0].endpoint.kafka_topic: must be at most 150 characters, has 151");
        assertThat(problems(kafka("", "bootstrap_servers: k:9092\nkafka_topic: t\ntransaction_timeout: 2h\n")))
                .containsExactly("streams[0].endpoint.transaction_timeout: must be between 1s and 1h, was 2h");
        assertThat(problems(s3("", S3_OK + "object_key_prefix: " + "p".repeat(151) + "\n"))).containsExactly(
                "streams[0].endpoint.object_key_prefix: must be at most 150 characters, has 151");
        assertThat(problems(s3("", S3_OK.replace("region: us-east-1", "region: " + "r".repeat(51))))).containsExactly(
                "streams[0].endpoint.region: must be at most 50 characters, has 51");
        assertThat(problems(s3("max_size: 3000000000\n", S3_OK))).containsExactly(
                "streams[0].max_size: must be between 1000000 and 2147483647, was 3000000000");
        assertThat(problems(MINIMAL + "delivery: {max_pending_bytes_per_destination: 1000}\n")).containsExactly(
                "delivery.max_pending_bytes_per_destination: must be at least the largest block (5000000 bytes,"
                        + " streams[0]), was 1000");
    }

    @Test
    void theMemoryBudgetAndTheSpoolAreCheckedAtLoadEachProblemAtItsPath() {
        assertThat(problems(MINIMAL + "delivery: {memory_budget: 1000, spool_path: spool, max_pending_blocks: 3}\n"))
                .containsExactlyInAnyOrder(
                        "delivery.memory_budget: must be between 1048576 and 9223372036854775807, was 1000",
                        "delivery.spool_path: must be a URI with a scheme (file:///var/lib/edge/dead-letter, s3://bucket/prefix),"
                                + " was 'spool'",
                        "delivery.max_pending_blocks: unknown key (did you mean max_pending_blocks_per_destination?)");
        assertThat(problems(MINIMAL + "delivery: {memory_budget: 2000000}\n")).containsExactly(
                "delivery.memory_budget: must be at least the largest block (5000000 bytes, streams[0]), was 2000000");
        assertThat(problems(MINIMAL + "delivery: {memory_budget: 64MB}\n")).containsExactly(
                "delivery.memory_budget: must be an integer, was a string");
        assertThat(problems(MINIMAL + "delivery: {spool_path: 's3://key:secret@bucket/spool'}\n")).containsExactly(
                "delivery.spool_path: must not carry credentials (user:password@)");
        assertThat(problems(MINIMAL + "delivery: {spool_path: 'file:///tmp/dl/'}\n")).containsExactly(
                "delivery.spool_path: must differ from dead_letter.blocks_path (spooled blocks are not dead letters)");
    }

    @Test
    void missingRequiredKeysAreRefused() {
        assertThat(problems("checkpoint_interval: 5s\n")).containsExactly(
                "source: is required", "dead_letter: is required", "streams: is required (a list of streams)");
        assertThat(problems(MINIMAL.replace("streams:\n", "streams: []\nx:\n"))).contains(
                "streams: must hold at least one stream");
        assertThat(problems(stream("data_source: http\ntemplate_id: 184\ndomains: [a.example]\n"))).containsExactly(
                "streams[0].endpoint: is required");
        assertThat(problems(stream("data_source: http\ntemplate_id: 184\ndomains: [a.example]\nendpoint: {url: x}\n")))
                .containsExactly("streams[0].endpoint.endpoint_type: is required (one of standard, kafka, s3)");
        assertThat(problems(stream("endpoint: {endpoint_type: standard}\n"))).containsExactly(
                "streams[0].template_id: is required: an Azion template (2, 4, 184) or a custom template_model",
                "streams[0].domains: must list at least one domain unless all_domains is true",
                "streams[0].endpoint.url: is required");
        assertThat(problems(s3("", ""))).containsExactly(
                "streams[0].endpoint.host_url: is required",
                "streams[0].endpoint.bucket_name: is required",
                "streams[0].endpoint.region: is required",
                "streams[0].endpoint.access_key: is required",
                "streams[0].endpoint.secret_key: is required");
        assertThat(problems(kafka("", "use_tls: true\n"))).containsExactly(
                "streams[0].endpoint.bootstrap_servers: is required",
                "streams[0].endpoint.kafka_topic: is required");
        assertThat(problems("""
                source: {topics: {}}
                dead_letter: {blocks_path: /tmp/dl}
                streams: [{}]
                """)).containsExactly(
                "source.bootstrap_servers: is required",
                "source.topics: must name the topic of at least one data source (http, waf)",
                "dead_letter.blocks_path: must be a URI with a scheme (file:///var/lib/edge/dead-letter,"
                        + " s3://bucket/prefix), was '/tmp/dl'",
                "streams[0].id: is required",
                "streams[0].name: is required",
                "streams[0].client: is required",
                "streams[0].template_id: is required: an Azion template (2, 4, 184) or a custom template_model",
                "streams[0].domains: must list at least one domain unless all_domains is true",
                "streams[0].endpoint: is required");
    }

    @Test
    void duplicatesAreRefused() {
        String two = MINIMAL + """
                  - id: 1
                    name: s2
                    client: c2
                    data_source: http
                    template_id: 2
                    all_domains: true
                    endpoint: {endpoint_type: standard, url: "https://y.example/"}
                """;
        assertThat(problems(two)).containsExactly("streams[1].id: duplicate id 1 (also streams[0])");
        assertThat(problems(MINIMAL.replace("name: s1", "name: s1\n    name: s2"))).containsExactly(
                "streams[0].name: duplicate key (lines 8 and 9); keep one");
        assertThat(problems(MINIMAL.replace("[www.example.com]", "[www.example.com, WWW.EXAMPLE.COM]")))
                .containsExactly("streams[0].domains[1]: 'www.example.com' is listed twice");
        assertThat(problems(standard("", "headers: {X-Token: a, x-token: b}\n"))).containsExactly(
                "streams[0].endpoint.headers.x-token: repeats header X-Token (header names ignore case)");
        // A refused topic is still declared: its streams get no second problem.
        assertThat(problems(MINIMAL.replace("{http: edge-http-events}", "{http: 'bad topic', waf: w}"))).containsExactly(
                "source.topics.http: is not a valid Kafka topic name (1 to 249 of letters, digits, '.', '_', '-'; not"
                        + " '.' or '..')");
        assertThat(problems(MINIMAL.replace("{http: edge-http-events}", "{http: raw, waf: raw}"))).containsExactly(
                "source.topics.waf: is the same topic as source.topics.http; each data source needs its own");
        assertThat(problems(standard("domain_ids: [b.example]\n", ""))).containsExactly(
                "streams[0].domain_ids: is Azion's name for domains; set only one of them");
    }

    @Test
    void duplicateKeysAreListedWithEveryOtherProblemWithoutTheirValues() {
        List<String> yaml = problems(standard("max_records: 5000\nmax_records: 10\n",
                "headers: {Authorization: 'Bearer first-token', Authorization: 'Bearer second-token'}\n"));
        assertThat(yaml).containsExactlyInAnyOrder(
                "streams[0].max_records: duplicate key (lines 13 and 14); keep one",
                "streams[0].endpoint.headers.Authorization: duplicate key (twice on line 18); keep one");
        assertThat(String.join("\n", yaml)).doesNotContain("token");

        List<String> json = problems("""
                {"source": {"bootstrap_servers": "localhost:9092", "topics": {"http": "t"}},
                 "dead_letter": {"blocks_path": "file:///tmp/dl", "blocks_path": "file:///tmp/dl2"},
                 "streams": [{"id": 1}, {"id": 2, "name": "a", "name": "b", "client": "c", "template_id": 184,
                              "all_domains": true, "endpoint": {"endpoint_type": "standard", "url": "ftp://x"}}]}
                """);
        assertThat(json).contains(
                "dead_letter.blocks_path: duplicate key (twice on line 2); keep one",
                "streams[1].name: duplicate key (twice on line 3); keep one",
                "streams[0].name: is required",
                "streams[1].endpoint.url: must be http or https, was ftp");
    }

    @Test
    void domainRulesAndAzionsSamplingRule() throws Exception {
        assertThat(parse(MINIMAL.replace("[www.example.com]", "[WWW.Example.Com, '*.CDN.example', 10.0.0.1]"))
                .streams().get(0).domains()).containsExactly("www.example.com", "*.cdn.example", "10.0.0.1");
        for (String bad : List.of("-a.example", "a..example", "exa mple.com", "a.example:8080", "*.", "a.*", "*.*.a",
                "x".repeat(64) + ".example")) {
            assertThat(problems(MINIMAL.replace("[www.example.com]", "['" + bad + "']"))).as(bad).singleElement()
                    .asString().startsWith("streams[0].domains[0]: '" + bad + "' ");
        }
        assertThat(problems(MINIMAL.replace("[www.example.com]", "['*']"))).containsExactly(
                "streams[0].domains[0]: '*' is not a domain; set all_domains: true for every domain of the client");
        assertThat(problems(MINIMAL.replace("[www.example.com]", "[bücher.example]"))).containsExactly(
                "streams[0].domains[0]: 'bücher.example' must be ASCII (write internationalized names in punycode,"
                        + " xn--...)");
        assertThat(problems(MINIMAL.replace("domains: [www.example.com]", "domains: []"))).containsExactly(
                "streams[0].domains: must list at least one domain unless all_domains is true");
        assertThat(problems(MINIMAL.replace("domains: [www.example.com]",
                "domains: [www.example.com]\n    all_domains: true"))).containsExactly(
                "streams[0].domains: must be empty or absent when all_domains is true");
        assertThat(problems(MINIMAL.replace("domains: [www.example.com]",
                "domains: [www.example.com]\n    sampling_percentage: 50"))).containsExactly(
                "streams[0].sampling_percentage: is only allowed with all_domains: true (Azion's rule)");
        StreamConfig all = parse(MINIMAL.replace("domains: [www.example.com]", "all_domains: true\n    domains: []"))
                .streams().get(0);
        assertThat(all.allDomains()).isTrue();
        assertThat(all.domains()).isEmpty();
        assertThat(all.samplingPercentage()).isEqualTo(100.0);
    }

    @Test
    void templateProblemsAreReportedAtTheTemplatesPath() {
        assertThat(problems(MINIMAL.replace("template_id: 184", "template_id: 999"))).singleElement().asString()
                .startsWith("streams[0].template_id: unknown template_id 999");
        assertThat(problems(MINIMAL.replace("template_id: 184", "template_id: 4"))).containsExactly(
                "streams[0].template_id: template 4 (WAF Event Collector) is for data source waf, but data_source"
                        + " is http");
        List<String> custom = problems(MINIMAL.replace("template_id: 184",
                "template_model: '{\"a\":\"$stauts\",\"b\":\"$waf_uri\"}'"));
        assertThat(custom).hasSize(2);
        assertThat(custom.get(0)).startsWith("streams[0].template_model: key \"a\": unknown variable $stauts");
        assertThat(custom.get(1)).startsWith("streams[0].template_model: key \"b\": variable $waf_uri is not available"
                + " for data source http");
        assertThat(problems(MINIMAL.replace("template_id: 184", "template_model: '{\"a\":'"))).singleElement()
                .asString().startsWith("streams[0].template_model: template_model is not valid JSON");
        // A data set is checked even when data_source is wrong; data_source's problem stays at its own path.
        List<String> both = problems(MINIMAL.replace("template_id: 184", "template_model: '[1]'")
                .replace("data_source: http", "data_source: edge"));
        assertThat(both).hasSize(2);
        assertThat(both.get(0)).isEqualTo("streams[0].data_source: must be one of http, waf, was 'edge'");
        assertThat(both.get(1)).startsWith("streams[0].template_model: template_model must be a JSON object");
    }

    @Test
    void endpointRules() {
        assertThat(problems(standard("", "").replace("https://x.example/in", "https://u:p@x.example/in")))
                .containsExactly("streams[0].endpoint.url: must not carry credentials (user:password@); send them in"
                        + " headers");
        assertThat(problems(standard("", "").replace("https://x.example/in", "/relative/path"))).containsExactly(
                "streams[0].endpoint.url: must be an absolute http or https URL (https://host/path)");
        assertThat(problems(standard("", "").replace("https://x.example/in", "https://bad_host/in"))).containsExactly(
                "streams[0].endpoint.url: must name a valid host (letters, digits, hyphens and dots)");
        assertThat(problems(standard("", "").replace("https://x.example/in", "'https://x.example/a b'")))
                .containsExactly("streams[0].endpoint.url: is not a valid URL (Illegal character in path at index 19)");
        assertThat(problems(standard("", "").replace("https://x.example/in", "https://x.example:99999/in")))
                .containsExactly("streams[0].endpoint.url: must have a port from 1 to 65535, was 99999");
        assertThat(problems(standard("", "headers: {A: 1, B: 2, C: 3, D: 4, E: 5, F: 6}\n"))).containsExactly(
                "streams[0].endpoint.headers: at most 5 headers, has 6");
        assertThat(problems(standard("", "headers: {Content-Length: '5', transfer-encoding: chunked}\n")))
                .containsExactly(
                        "streams[0].endpoint.headers.Content-Length: is set by the HTTP transport and cannot be configured",
                        "streams[0].endpoint.headers.transfer-encoding: is set by the HTTP transport and cannot be"
                                + " configured");
        assertThat(problems(standard("", "headers: {Idempotency-Key: k1, HTTP2-Settings: x, X-Ok: v}\n")))
                .containsExactly(
                        "streams[0].endpoint.headers.Idempotency-Key: is set by the HTTP transport and cannot be"
                                + " configured (one key per block, for the receiver's deduplication)",
                        "streams[0].endpoint.headers.HTTP2-Settings: is set by the HTTP transport and cannot be"
                                + " configured");
        assertThat(problems(standard("", "headers: {X-Euro: \"5 \u20ac\", X-Latin: \"caf\u00e9\"}\n")))
                .containsExactly("streams[0].endpoint.headers.X-Euro: value must hold only Latin-1 characters");
        assertThat(problems(standard("", "headers: {X-A: \"a\\r\\nInjected: yes\", X-B: '', X-C: "
                + "x".repeat(1025) + "}\n"))).containsExactly(
                "streams[0].endpoint.headers.X-A: value must not contain CR, LF or other control characters",
                "streams[0].endpoint.headers.X-B: value must be 1 to 1024 characters, has 0",
                "streams[0].endpoint.headers.X-C: value must be 1 to 1024 characters, has 1025");
        assertThat(problems(standard("", "payload_format: '[$dataset,$dataset]'\n"))).containsExactly(
                "streams[0].endpoint.payload_format: must contain $dataset exactly once");
        assertThat(problems(standard("", "log_line_separator: ''\n"))).containsExactly(
                "streams[0].endpoint.log_line_separator: must not be empty");
        assertThat(problems(standard("max_size: 2000000\n", ""))).containsExactly(
                "streams[0].max_size: is not used with endpoint_type standard; set endpoint.max_size (Azion's name)");
        assertThat(problems(kafka("", "bootstrap_servers: 'k1:9092, k2'\nkafka_topic: '..'\n"))).containsExactly(
                "streams[0].endpoint.bootstrap_servers: must be a comma-separated list of host:port, 'k2' has no port",
                "streams[0].endpoint.kafka_topic: is not a valid Kafka topic name (1 to 249 of letters, digits, '.',"
                        + " '_', '-'; not '.' or '..')");
        assertThat(problems(kafka("", "bootstrap_servers: k:9092\nkafka_topic: t\ntransaction_timeout: 30s\n")))
                .containsExactly("streams[0].endpoint.transaction_timeout: must be longer than checkpoint_interval"
                        + " (30s): a transaction stays open until the checkpoint after it, was 30s");
        assertThat(problems(kafka("", "bootstrap_servers: k:9092\nkafka_topic: t\ncompression: brotli\n")))
                .containsExactly("streams[0].endpoint.compression: must be one of none, gzip, lz4, zstd, snappy,"
                        + " was 'brotli'");
        assertThat(problems(s3("", S3_OK.replace("https://s3.example.com", "https://s3.example.com/?x=1"))))
                .containsExactly("streams[0].endpoint.host_url: must not have a query (?...)");
        assertThat(problems(s3("", S3_OK.replace("edge-logs", "192.168.1.1")))).singleElement().asString()
                .startsWith("streams[0].endpoint.bucket_name: is not a valid bucket name");
        assertThat(problems(s3("", S3_OK + "key_layout: hourly\n"))).containsExactly(
                "streams[0].endpoint.key_layout: must be one of azion, dated, was 'hourly'");
    }

    @Test
    void checkpointIntervalsTheDeadLetterTransactionsCannotOutlastAreRefused() throws Exception {
        String why = ": the dead-letter topic's Kafka transactions time out after 10m and each stays open until"
                + " the checkpoint after it completes";
        assertThat(problems(MINIMAL + "checkpoint_interval: 6m\n"))
                .containsExactly("checkpoint_interval: must be between 100ms and 5m, was 6m" + why);
        assertThat(problems(MINIMAL + "checkpoint_interval: 1h\n"))
                .containsExactly("checkpoint_interval: must be between 100ms and 5m, was 1h" + why);
        assertThat(problems(MINIMAL + "checkpoint_interval: ${env:LONG}\n", java.util.Map.of("LONG", "301"),
                java.nio.file.Path.of("/nonexistent-base")))
                .containsExactly("checkpoint_interval: must be between 100ms and 5m, was 301s" + why);
        assertThat(parse(MINIMAL + "checkpoint_interval: 5m\n").checkpointInterval())
                .isEqualTo(java.time.Duration.ofMinutes(5));
    }

    @Test
    void crossChecksOfSourceAndDeadLetter() {
        assertThat(problems(MINIMAL.replace("data_source: http", "data_source: waf")
                .replace("template_id: 184", "template_id: 4"))).containsExactly(
                "streams[0].data_source: waf has no topic in source.topics");
        assertThat(problems(MINIMAL.replace("  topics:", "  properties: {group.id: x, enable.auto.commit: 'true',"
                + " ssl.truststore.password: pw}\n  topics:"))).containsExactly(
                "source.properties[\"group.id\"]: set source.group_id instead",
                "source.properties[\"enable.auto.commit\"]: is set by the job: offsets are committed with checkpoints");
        assertThat(problems(MINIMAL.replace("file:///tmp/dl", "s3:///no-bucket"))).containsExactly(
                "dead_letter.blocks_path: must name its bucket or host (s3://bucket/path)");
        assertThat(problems(MINIMAL.replace("file:///tmp/dl", "s3://key:secret@bucket/dl"))).containsExactly(
                "dead_letter.blocks_path: must not carry credentials (user:password@)");
        assertThat(problems(MINIMAL + "delivery: {request_timeout: 1m, max_retry_duration: 30s}\n")).containsExactly(
                "delivery.max_retry_duration: must be at least request_timeout (1m), was 30s");
    }

    @Test
    void unreadableYamlIsRefusedWithLineAndColumn() {
        assertThat(problems("")).containsExactly("the configuration is empty");
        assertThat(problems("# only a comment\n")).containsExactly("the configuration is empty");
        assertThat(problems("- a\n- b\n")).containsExactly("the configuration must be a mapping (source, dead_letter,"
                + " delivery, checkpoint_interval, streams), was a list");
        assertThat(problems(MINIMAL + "---\nsource: {}\n")).containsExactly(
                "holds more than one YAML document (---); put everything in one");
        assertThat(problems("source: &s {bootstrap_servers: 'a:1'}\nother: *s\n")).containsExactly(
                "line 2: YAML aliases (*name) are not supported; write the value out");
        assertThat(problems("source:\n  a: b\n   c: 'not shown'\n")).containsExactly(
                "invalid YAML: line 3, column 5: mapping values are not allowed here");
        assertThat(problems("{\"source\": {\"bootstrap_servers\": \"a:1\"}\n")).singleElement().asString()
                .startsWith("invalid YAML: line 1, column ");
    }

    @Test
    void limitsAreRefusedAtTheirPathNamingTheLimit(@TempDir Path dir) throws Exception {
        // The file's size is checked before it is read: a sparse file takes no disk and is never read.
        Path huge = dir.resolve("huge.yaml");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(Limits.MAX_CONFIG_BYTES + 1);
        }
        assertThatThrownBy(() -> ConfigLoader.load(huge, ConfigTesting.ENV::get))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        huge + ": the configuration has 67108865 bytes; at most 64 MiB (67108864 bytes) are read"));
        // The same for a configuration given as text (multi-byte characters counted in UTF-8).
        String padded = MINIMAL + "# " + "\u00e9".repeat((int) (Limits.MAX_CONFIG_BYTES / 2));
        assertThat(problems(padded)).singleElement().asString()
                .startsWith("the configuration has 671").endsWith("bytes; at most 64 MiB (67108864 bytes) are read");

        String head = MINIMAL.substring(0, MINIMAL.indexOf("streams:"));
        assertThat(problems(head + "streams:\n" + "  - {}\n".repeat(Limits.MAX_STREAMS + 1))).containsExactly(
                "streams: has 20001 streams; at most 20000 in one configuration (split the streams over several jobs)");

        String big = "{\"k\":\"" + "x".repeat(Limits.MAX_TEMPLATE_BYTES) + "\"}";
        assertThat(problems(MINIMAL.replace("template_id: 184", "template_model: '" + big + "'"))).containsExactly(
                "streams[0].template_model: has 65544 bytes of JSON; a custom template may have at most 64 KiB"
                        + " (65536 bytes)");
        // As a mapping, the JSON it is written as is measured.
        assertThat(problems(MINIMAL.replace("template_id: 184", "template_model: {k: " + "y".repeat(70_000) + "}")))
                .containsExactly("streams[0].template_model: has 70008 bytes of JSON; a custom template may have at most"
                        + " 64 KiB (65536 bytes)");
        String many = "{\"k\":\"" + "${status}".repeat(Limits.MAX_TEMPLATE_VARIABLES + 1) + "\"}";
        assertThat(problems(MINIMAL.replace("template_id: 184", "template_model: '" + many + "'"))).containsExactly(
                "streams[0].template_model: has 501 $variables; a custom template may have at most 500");
        String enough = "{\"k\":\"" + "${status}".repeat(Limits.MAX_TEMPLATE_VARIABLES) + "\"}";
        assertThat(parse(MINIMAL.replace("template_id: 184", "template_model: '" + enough + "'")).streams()
                .get(0).template().variableCount()).isEqualTo(Limits.MAX_TEMPLATE_VARIABLES);
        // Headers: Azion's 5, values 1..1024 characters (see endpointRules for the messages).
        assertThat(Limits.MAX_HEADERS).isEqualTo(5);
        assertThat(Limits.MAX_HEADER_VALUE_CHARS).isEqualTo(1024);
        assertThat(problems(standard("", "headers: {A: 1, B: 2, C: 3, D: 4, E: 5, F: 6}\n"))).containsExactly(
                "streams[0].endpoint.headers: at most 5 headers, has 6");
        assertThat(parse(standard("", "headers: {A: 1, B: 2, C: 3, D: 4, E: '" + "v".repeat(1024) + "'}\n"))
                .streams().get(0).endpoint()).isNotNull();
    }
}
