package io.edgestreaming.config;

import static io.edgestreaming.config.ConfigTesting.MINIMAL;
import static io.edgestreaming.config.ConfigTesting.kafka;
import static io.edgestreaming.config.ConfigTesting.parse;
import static io.edgestreaming.config.ConfigTesting.problems;
import static io.edgestreaming.config.ConfigTesting.standard;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ${env:NAME} / ${file:PATH} references, and that no secret ever shows in toString, describe or errors. */
class SecretsTest {
    /** Distinctive, so any leak is found by a plain substring search. */
    private static final String SECRET = "Zq7-LEAK-CANARY-93";

    @TempDir
    Path dir;

    @Test
    void referencesResolveFromTheEnvironmentAndFiles() throws Exception {
        Files.writeString(dir.resolve("lf.txt"), "from-lf\n");
        Files.writeString(dir.resolve("crlf.txt"), "from-crlf\r\n");
        Files.writeString(dir.resolve("two.txt"), "two\n\n");
        Path absolute = Files.writeString(dir.resolve("abs.txt"), "from-absolute");
        Map<String, String> env = Map.of("TOKEN", "t0k", "URL", "https://env.example/in", "N", "42",
                "TLS", "true", "BOOT", "k9:9092");
        JobConfig c = parse(ConfigTesting.stream("""
                data_source: http
                template_id: 184
                domains: [a.example]
                max_records: ${env:N}
                endpoint:
                  endpoint_type: standard
                  url: ${env:URL}
                  headers:
                    Authorization: "Bearer ${env:TOKEN}"
                    X-Lf: ${file:lf.txt}
                    X-Crlf: ${file:crlf.txt}
                    X-Abs: ${file:%s}
                  payload_format: "${file:two.txt}$dataset"
                """.formatted(absolute)), env, dir);
        StreamConfig s = c.streams().get(0);
        assertThat(s.batching().maxRecords()).isEqualTo(42);
        HttpEndpoint http = (HttpEndpoint) s.endpoint();
        assertThat(http.url()).hasToString("https://env.example/in");
        Map<String, String> revealed = new java.util.LinkedHashMap<>();
        http.headers().forEach((k, v) -> revealed.put(k, v.reveal()));
        assertThat(http.payloadFormat()).isEqualTo("two\n$dataset"); // only one trailing newline is dropped
        assertThat(revealed).containsExactly(Map.entry("Authorization", "Bearer t0k"), Map.entry("X-Lf", "from-lf"),
                Map.entry("X-Crlf", "from-crlf"), Map.entry("X-Abs", "from-absolute"));

        Files.writeString(dir.resolve("pw"), "sasl-pw\n");
        KafkaEndpoint k = (KafkaEndpoint) parse(kafka("", """
                bootstrap_servers: ${env:BOOT}
                kafka_topic: t
                use_tls: ${env:TLS}
                sasl: {mechanism: PLAIN, username: u, password: "${file:pw}"}
                """), env, dir).streams().get(0).endpoint();
        assertThat(k.bootstrapServers()).isEqualTo("k9:9092");
        assertThat(k.useTls()).isTrue();
        assertThat(k.sasl().password().reveal()).isEqualTo("sasl-pw");
    }

    @Test
    void unresolvableReferencesNameTheVariableOrFileOnly() throws Exception {
        Files.createDirectory(dir.resolve("adir"));
        List<String> p = problems(standard("", """
                headers:
                  A: ${env:NOT_SET}
                  B: ${file:nope.txt}
                  C: ${file:adir}
                  D: "${env:UNCLOSED"
                  E: ${env:BAD-NAME}
                  F: ${file:}
                """), Map.of(), dir);
        assertThat(p).containsExactly(
                "streams[0].endpoint.headers.A: environment variable NOT_SET is not set",
                "streams[0].endpoint.headers.B: cannot read ${file:nope.txt}: " + dir.resolve("nope.txt") + " does not exist",
                "streams[0].endpoint.headers.C: cannot read ${file:adir}: " + dir.resolve("adir") + " is a directory",
                "streams[0].endpoint.headers.D: has an unterminated reference (write ${env:NAME} or ${file:PATH})",
                "streams[0].endpoint.headers.E: ${env:BAD-NAME} does not name an environment variable (letters, digits, _)",
                "streams[0].endpoint.headers.F: ${file:} needs a path",
                "streams[0].endpoint.headers: at most 5 headers, has 6");
        // Template variables written ${name} are not references.
        assertThat(parse(MINIMAL.replace("template_id: 184", "template_model: '{\"h\":\"${host}:8080\"}'"))
                .streams().get(0).template().entries().get(0).expression()).isEqualTo("${host}:8080");
    }

    @Test
    void noSecretShowsInAnyToStringOrDescription() throws Exception {
        Files.writeString(dir.resolve("sasl.txt"), SECRET + "\n");
        JobConfig c = parse("""
                source:
                  bootstrap_servers: localhost:9092
                  topics: {http: raw}
                  properties: {ssl.key.password: %1$s, sasl.jaas.config: "${env:JAAS}"}
                dead_letter: {blocks_path: "file:///tmp/dl"}
                streams:
                  - id: 1
                    name: http
                    client: c1
                    data_source: http
                    template_id: 184
                    domains: [a.example]
                    endpoint:
                      endpoint_type: standard
                      url: "https://x.example/in?api_key=%1$s&mode=x"
                      headers: {Authorization: "Bearer %1$s", X-Env: "${env:HEADER}"}
                  - id: 2
                    name: kafka
                    client: c1
                    data_source: http
                    template_id: 184
                    domains: [a.example]
                    endpoint:
                      endpoint_type: kafka
                      bootstrap_servers: "k:9092"
                      kafka_topic: t
                      sasl: {mechanism: SCRAM-SHA-256, username: u, password: "${file:sasl.txt}"}
                  - id: 3
                    name: s3
                    client: c1
                    data_source: http
                    template_id: 184
                    domains: [a.example]
                    endpoint:
                      endpoint_type: s3
                      host_url: https://s3.example
                      bucket_name: edge-logs
                      region: us-east-1
                      access_key: AK
                      secret_key: %1$s
                """.formatted(SECRET), Map.of("JAAS", "x password=\"" + SECRET + "\";", "HEADER", SECRET), dir);

        List<String> shown = new ArrayList<>();
        shown.add(c.toString());
        shown.add(c.source().toString());
        for (StreamConfig s : c.streams()) {
            shown.add(s.toString());
            shown.add(s.endpoint().toString());
            shown.add(s.endpoint().describe());
            shown.add(s.endpoint().destinationId());
        }
        KafkaEndpoint k = (KafkaEndpoint) c.streams().get(1).endpoint();
        shown.add(k.sasl().toString());
        assertThat(shown).allSatisfy(text -> assertThat(text).doesNotContain(SECRET));

        // ... while every slot did receive the secret.
        HttpEndpoint http = (HttpEndpoint) c.streams().get(0).endpoint();
        assertThat(http.headers().get("Authorization").reveal()).isEqualTo("Bearer " + SECRET);
        assertThat(http.headers().get("X-Env").reveal()).isEqualTo(SECRET);
        assertThat(http.url().getQuery()).contains(SECRET);
        assertThat(http.describe()).isEqualTo("POST https://x.example/in?api_key=******&mode=******");
        assertThat(k.sasl().password().reveal()).isEqualTo(SECRET);
        assertThat(((S3Endpoint) c.streams().get(2).endpoint()).secretKey().reveal()).isEqualTo(SECRET);
        assertThat(c.source().properties().get("ssl.key.password").reveal()).isEqualTo(SECRET);
        assertThat(c.source().properties().get("sasl.jaas.config").reveal()).contains(SECRET);
    }

    @Test
    void httpDestinationsDifferByQueryWithoutShowingIt() {
        HttpEndpoint a = new HttpEndpoint(java.net.URI.create("https://x.example/in?api_key=" + SECRET), Map.of(), "\n",
                "$dataset", 1_000_000, HttpEndpoint.Compression.NONE, null);
        HttpEndpoint b = new HttpEndpoint(java.net.URI.create("https://x.example/in?api_key=other"), Map.of(), "\n",
                "$dataset", 1_000_000, HttpEndpoint.Compression.NONE, null);
        HttpEndpoint plain = new HttpEndpoint(java.net.URI.create("https://x.example/in"), Map.of(), "\n",
                "$dataset", 1_000_000, HttpEndpoint.Compression.NONE, null);
        assertThat(a.destinationId()).isNotEqualTo(b.destinationId()).doesNotContain(SECRET)
                .startsWith("standard:https://x.example/in?api_key=******#");
        assertThat(plain.destinationId()).isEqualTo("standard:https://x.example/in");
        assertThat(plain.describe()).isEqualTo("POST https://x.example/in");
    }

    @Test
    void tokensInTheUrlPathAreRedactedToo() {
        // Sumo Logic's HTTP source and Slack-style webhooks carry the secret in the path.
        String token = "ZaVnC4dhaV1" + SECRET + "0FOwXdSk";
        HttpEndpoint sumo = new HttpEndpoint(java.net.URI.create(
                "https://endpoint4.collection.sumologic.com/receiver/v1/http/" + token), Map.of(), "\n", "$dataset",
                1_000_000, HttpEndpoint.Compression.NONE, null);
        HttpEndpoint other = new HttpEndpoint(java.net.URI.create(
                "https://endpoint4.collection.sumologic.com/receiver/v1/http/Other0Token0Of0Same0Host"), Map.of(), "\n",
                "$dataset", 1_000_000, HttpEndpoint.Compression.NONE, null);
        assertThat(sumo.describe())
                .isEqualTo("POST https://endpoint4.collection.sumologic.com/receiver/v1/http/******");
        assertThat(sumo.toString()).doesNotContain(SECRET);
        assertThat(sumo.destinationId()).doesNotContain(SECRET).isNotEqualTo(other.destinationId())
                .startsWith("standard:https://endpoint4.collection.sumologic.com/receiver/v1/http/******#");
        // Ordinary paths (short words, versions, dates, ids of one kind of character) stay readable.
        HttpEndpoint readable = new HttpEndpoint(java.net.URI.create(
                "https://siem.example:8443/api/v2/ingest/edge-logs-4529r/2026-12-01"), Map.of(), "\n", "$dataset",
                1_000_000, HttpEndpoint.Compression.NONE, null);
        assertThat(readable.describe()).isEqualTo("POST https://siem.example:8443/api/v2/ingest/edge-logs-4529r/2026-12-01");
        assertThat(readable.destinationId()).isEqualTo("standard:" + readable.url());
    }

    @Test
    void noSecretShowsInAnyProblem() throws Exception {
        Map<String, String> env = Map.of("LONG", SECRET.repeat(60), "BAD_URL", "ftp://x.example/" + SECRET,
                "DURATION", SECRET, "TOPIC", SECRET + " !", "CRED_URL", "https://u:" + SECRET + "@x.example/");
        String yaml = """
                source:
                  bootstrap_servers: localhost:9092
                  topics: {http: raw}
                  properties: {a: [%1$s], b: {c: %1$s}}
                dead_letter: {blocks_path: "s3://key:%1$s@bucket/dl", events_topic: "${env:TOPIC}"}
                checkpoint_interval: ${env:DURATION}
                streams:
                  - id: 1
                    name: http
                    client: c1
                    data_source: http
                    template_id: 184
                    domains: [a.example]
                    endpoint:
                      endpoint_type: standard
                      url: ${env:BAD_URL}
                      headers: {A: "%1$s\\r\\n", B: "${env:LONG}", C: [%1$s]}
                  - id: 2
                    name: kafka
                    client: c1
                    data_source: http
                    template_id: 184
                    domains: [a.example]
                    endpoint:
                      endpoint_type: kafka
                      bootstrap_servers: "k:9092"
                      kafka_topic: t
                      sasl: {mechanism: PLAIN, username: u, password: [%1$s]}
                  - id: 3
                    name: s3
                    client: c1
                    data_source: http
                    template_id: 184
                    domains: [a.example]
                    endpoint:
                      endpoint_type: s3
                      host_url: ${env:CRED_URL}
                      bucket_name: edge-logs
                      region: us-east-1
                      access_key: AK
                      secret_key: "%2$s"
                """.formatted(SECRET, SECRET.repeat(10));
        ConfigException e = catchConfigException(yaml, env);
        // Every slot was refused (so the test does exercise the messages) ...
        assertThat(e.problems()).hasSize(12);
        assertThat(e.problems()).contains(
                "checkpoint_interval: the value of ${env:DURATION} is not a duration (write e.g. 500ms, 60s, 5m, 24h,"
                        + " 1d, PT60S, or an integer of seconds)",
                "streams[0].endpoint.url: must be http or https, was the scheme of the value of ${env:BAD_URL}",
                "streams[2].endpoint.secret_key: must be at most 150 characters, has 180");
        // ... and none of the messages shows the secret.
        assertThat(e.getMessage()).doesNotContain(SECRET);
        assertThat(e.problems()).allSatisfy(p -> assertThat(p).doesNotContain(SECRET));

        // Nor does a YAML syntax error on the line that holds it.
        ConfigException syntax = catchConfigException("source:\n  a: b\n   secret_key: " + SECRET + "\n", env);
        assertThat(syntax.getMessage()).doesNotContain(SECRET).contains("line 3");
    }

    @Test
    void referencedValuesAreNeverQuotedBack() throws Exception {
        // Found by fuzzing (ConfigLoaderFuzzTest): refusals quoted the part of a resolved value that was wrong.
        Map<String, String> env = Map.of("PW", SECRET + ":pw", "HOST", SECRET + ".example", "URL", SECRET + ":x",
                "DL", SECRET + ":dl");
        List<String> p = problems(ConfigTesting.stream("""
                data_source: http
                template_id: 184
                domains: [a.example, "${env:HOST}", "${env:HOST}"]
                endpoint:
                  endpoint_type: kafka
                  bootstrap_servers: "${env:PW}"
                  kafka_topic: t
                """).replace("localhost:9092", "${env:URL}").replace("file:///tmp/dl", "${env:DL}"), env, dir);
        assertThat(p).containsExactly(
                "source.bootstrap_servers: must be a comma-separated list of host:port, an entry of the value of"
                        + " ${env:URL} has no valid port (1 to 65535)",
                "dead_letter.blocks_path: must name its bucket or host (scheme://bucket/path)",
                "streams[0].domains[2]: the value of ${env:HOST} is listed twice",
                "streams[0].endpoint.bootstrap_servers: must be a comma-separated list of host:port, an entry of the"
                        + " value of ${env:PW} has no valid port (1 to 65535)");
        List<String> url = problems(standard("", "").replace("https://x.example/in", "${env:URL}"), env, dir);
        assertThat(url).containsExactly(
                "streams[0].endpoint.url: must be http or https, was the scheme of the value of ${env:URL}");
    }

    @Test
    void fileReferencesReadOnlyRegularFilesAndValidPaths() throws Exception {
        // /dev/zero has no size and never ends: it used to be read until the heap ran out (found by review).
        List<String> p = problems(standard("", """
                headers: {A: "${file:/dev/zero}", B: "${file:a\\u0000b}"}
                ca_bundle: "x\\u0000y"
                """), Map.of("EDGE_STREAMING_FILE_DIRS", "/dev"), dir);
        assertThat(p).containsExactly(
                "streams[0].endpoint.headers.A: cannot read ${file:/dev/zero}: /dev/zero is not a regular file",
                "streams[0].endpoint.headers.B: cannot read ${file:a\\u0000b}: not a valid path (Nul character not"
                        + " allowed)",
                "streams[0].endpoint.ca_bundle: is not a valid path (Nul character not allowed)");
    }

    private ConfigException catchConfigException(String yaml, Map<String, String> env) {
        ConfigException[] caught = new ConfigException[1];
        assertThatThrownBy(() -> ConfigLoader.parse(yaml, ConfigTesting.readable(env, dir)::get, dir))
                .isInstanceOfSatisfying(ConfigException.class, ex -> caught[0] = ex);
        return caught[0];
    }
}
