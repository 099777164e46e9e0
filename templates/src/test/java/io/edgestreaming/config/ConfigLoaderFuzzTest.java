package io.edgestreaming.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Coverage-guided fuzzing (Jazzer) of {@link ConfigLoader}. Seeds: {@code
 * src/test/resources/io/edgestreaming/config/ConfigLoaderFuzzTestInputs/<method>/}.
 *
 * <p>Properties: the only refusal is {@link ConfigException}; it lists at least one problem, each one line
 * starting with its path ({@code streams[0].endpoint.url: ...}) or, for the document as a whole, one of the
 * few document-level problems; no value that came from a {@code ${env:...}} or {@code ${file:...}} reference
 * (but a template_model's, whose problems quote the data set) and no secret (S3 secret key, SASL password,
 * header value, consumer property) ever shows in a problem, and a loaded configuration shows none in its
 * toString, describe or destination id.
 */
class ConfigLoaderFuzzTest {
    /** In every secret and every referenced value; never in fuzz-made text (it is rewritten). */
    static final String CANARY = "Qx7CANARY";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Environment: the secret-looking values hold the canary (shapes that other fields would echo). */
    static final Map<String, String> ENV = Map.of(
            "KAFKA", "broker-1:9092,broker-2:9092",
            "S3_SECRET", "s3" + CANARY + "/key+val",
            "SASL_PASSWORD", "sasl" + CANARY + ":pw",
            "TOKEN", "Bearer tok" + CANARY,
            "JAAS", "x password=\"jaas" + CANARY + "\";",
            "URL_SECRET", "https://hook.example/u" + CANARY + "123",
            "LONG_SECRET", (CANARY + "-").repeat(120),
            "CRLF_SECRET", "a" + CANARY + "\r\nInjected: yes",
            "EMPTY", "");
    private static final Path BASE_DIR = baseDir();

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Pattern QUOTED = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    /** A key path; it starts with an index where the document is a list (then refused as not a mapping). */
    private static final Pattern PATH = Pattern.compile(
            "(?:" + PLAIN + "|" + QUOTED + "|\\[\\d+])(?:\\." + PLAIN + "|\\[(?:\\d+|" + QUOTED + ")])*: .+");
    private static final Pattern DATA_SET = Pattern.compile("streams\\[\\d+]\\.template_model: ");
    /** The problems that concern the document as a whole, so have no key path. */
    private static final Pattern DOCUMENT = Pattern.compile("(?:the configuration (?:is empty|has \\d+ bytes|must be a mapping)"
            + "|invalid YAML: |holds more than one YAML document|line \\d+: YAML aliases|cannot parse: ).*");

    /** Any text, as YAML or JSON. */
    @FuzzTest
    void anyConfiguration(byte[] input) {
        String content = new String(input, StandardCharsets.UTF_8);
        boolean canaryWritten = content.contains(CANARY); // then it is plain text of the file, not a secret
        try {
            JobConfig config = ConfigLoader.parse(content, ConfigLoaderFuzzTest::env, BASE_DIR);
            assertThat(config.streams()).isNotEmpty();
            shown(config).forEach(String::length); // none throws
        } catch (ConfigException e) {
            checkRefusal(e, canaryWritten);
        }
    }

    /** Configurations built from their schema, with the canary in every secret slot, written in every way. */
    @FuzzTest
    void secretsNeverShown(FuzzedDataProvider data) {
        Map<String, Object> root = new Generator(data).root();
        String content = data.consumeBoolean() ? Yaml.block(root) : Yaml.json(root);
        try {
            JobConfig config = ConfigLoader.parse(content, ConfigLoaderFuzzTest::env, BASE_DIR);
            for (String text : shown(config)) {
                assertThat(text).as("shown by a loaded configuration").doesNotContain(CANARY);
            }
        } catch (ConfigException e) {
            checkRefusal(e, false);
        }
    }

    // ---- checks

    private static void checkRefusal(ConfigException e, boolean canaryWritten) {
        List<String> problems = e.problems();
        assertThat(problems).as("a refusal lists its problems").isNotEmpty();
        assertThat(e.getMessage()).isEqualTo(problems.size() + " configuration problem(s):\n  " + String.join("\n  ", problems));
        for (String problem : problems) {
            assertThat(problem.chars().allMatch(c -> c >= 0x20 || c == '\t')).as("one line: %s", problem).isTrue();
            assertThat(PATH.matcher(problem).matches() || DOCUMENT.matcher(problem).matches())
                    .as("starts with its path: %s", problem).isTrue();
            // A data set's problems quote its keys and expressions, wherever its text came from.
            if (!canaryWritten && !DATA_SET.matcher(problem).lookingAt()) {
                assertThat(problem).as("shows a secret or a referenced value").doesNotContain(CANARY);
            }
        }
    }

    /** Everything a loaded configuration shows in logs and metrics. */
    private static List<String> shown(JobConfig config) {
        List<String> shown = new ArrayList<>(List.of(config.toString(), config.source().toString()));
        for (StreamConfig s : config.streams()) {
            shown.add(s.toString());
            shown.add(s.endpoint().toString());
            shown.add(s.endpoint().describe());
            shown.add(s.endpoint().destinationId());
        }
        return shown;
    }

    /**
     * {@link #ENV}, and {@code ${file:}} may read the seeds' secret.txt beside {@link #BASE_DIR} and /dev (so the
     * device seed still reaches the regular-file check); anything else is refused as outside. {@code ${env:}} may
     * read ENV's names only, as a deployment lists them; any other name is refused.
     */
    private static String env(String name) {
        return switch (name) {
            case "EDGE_STREAMING_FILE_DIRS" -> BASE_DIR + File.pathSeparator + "/dev";
            case "EDGE_STREAMING_ENV_VARS" -> String.join(",", ENV.keySet());
            default -> ENV.get(name);
        };
    }

    private static Path baseDir() {
        try {
            Path dir = Files.createTempDirectory("config-fuzz");
            Path secret = Files.writeString(dir.resolve("secret.txt"), "file" + CANARY + "\n");
            dir.toFile().deleteOnExit();
            secret.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- generation

    /** A scalar written without quotes: the YAML scanner sees its text (JSON output quotes it anyway). */
    record Plain(String text) {}

    /** Builds a configuration tree from fuzz data: mostly valid shapes, any field possibly broken. */
    static final class Generator {
        private final FuzzedDataProvider data;

        Generator(FuzzedDataProvider data) {
            this.data = data;
        }

        Map<String, Object> root() {
            Map<String, Object> root = new LinkedHashMap<>();
            Map<String, Object> source = new LinkedHashMap<>();
            put(source, "bootstrap_servers", "localhost:9092", "${env:KAFKA}");
            source.put("topics", Map.of("http", "edge-http", "waf", "edge-waf"));
            if (data.consumeBoolean()) {
                Map<String, Object> properties = new LinkedHashMap<>();
                properties.put("sasl.jaas.config", secret());
                properties.put("ssl.key.password", secret());
                source.put("properties", properties);
            }
            root.put("source", source);
            Map<String, Object> deadLetter = new LinkedHashMap<>();
            put(deadLetter, "blocks_path", "file:///tmp/dl", "s3://bucket/dl");
            root.put("dead_letter", deadLetter);
            if (data.consumeBoolean()) {
                put(root, "checkpoint_interval", "30s", "5m");
            }
            List<Object> streams = new ArrayList<>();
            for (int i = data.consumeInt(1, 3); i > 0; i--) {
                streams.add(stream(streams.size() + 1));
            }
            root.put("streams", streams);
            if (data.consumeInt(0, 15) == 0) {
                root.put(text(8), text(8)); // an unknown key
            }
            return root;
        }

        private Map<String, Object> stream(int id) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("id", data.consumeInt(0, 7) == 0 ? text(4) : (Object) (long) id);
            put(s, "name", "stream-" + id, "s");
            put(s, "client", "4529r", "c1");
            put(s, "data_source", "http", "waf");
            switch (data.consumeInt(0, 3)) {
                case 0 -> s.put("template_model", "{\"h\":\"$host\",\"c\":\"${client}:$$\"}");
                case 1 -> s.put("template_model", Map.of("h", "$host"));
                default -> s.put("template_id", data.consumeBoolean() ? 184L : (Object) 4L);
            }
            if (data.consumeBoolean()) {
                s.put("all_domains", true);
            } else {
                s.put("domains", List.of(data.consumeBoolean() ? "www.example.com" : text(20)));
            }
            Map<String, Object> e = new LinkedHashMap<>();
            switch (data.consumeInt(0, 2)) {
                case 0 -> {
                    e.put("endpoint_type", "standard");
                    // A URL is no secret slot, but its query values are redacted wherever it is shown.
                    put(e, "url", "https://siem.example/in", "https://siem.example/in?api_key=s" + CANARY + "&m=x");
                    Map<String, Object> headers = new LinkedHashMap<>();
                    for (int h = data.consumeInt(0, 6); h > 0; h--) {
                        String name = data.consumeBoolean() ? "X-H" + h : data.pickValue(new String[] {
                            "Authorization", "authorization", "Host", "Idempotency-Key", "bad name", text(10)});
                        headers.put(name, secret());
                    }
                    e.put("headers", headers);
                }
                case 1 -> {
                    e.put("endpoint_type", "kafka");
                    put(e, "bootstrap_servers", "k:9092", "${env:KAFKA}");
                    put(e, "kafka_topic", "edge-logs", "t");
                    if (data.consumeInt(0, 3) > 0) {
                        Map<String, Object> sasl = new LinkedHashMap<>();
                        put(sasl, "mechanism", "PLAIN", "SCRAM-SHA-512");
                        put(sasl, "username", "user", "u");
                        sasl.put("password", secret());
                        e.put("sasl", sasl);
                    }
                }
                default -> {
                    e.put("endpoint_type", "s3");
                    put(e, "host_url", "https://s3.example", "http://localhost:9000");
                    put(e, "bucket_name", "edge-logs", "bucket");
                    put(e, "region", "us-east-1", "eu-west-1");
                    put(e, "access_key", "AKIAEXAMPLE", "ak");
                    e.put("secret_key", secret());
                }
            }
            s.put("endpoint", e);
            return s;
        }

        /** A field: one of two good values, absent, fuzz text, or a value of the wrong kind. */
        private void put(Map<String, Object> map, String key, String good, String other) {
            switch (data.consumeInt(0, 11)) {
                case 0 -> { } // absent
                case 1 -> map.put(key, text(30));
                case 2 -> map.put(key, new Plain(text(30)));
                case 3 -> map.put(key, data.consumeLong());
                case 4 -> map.put(key, List.of(good));
                case 5 -> map.put(key, other);
                default -> map.put(key, good);
            }
        }

        /** The canary in a secret slot, in every form a secret can be written. */
        private Object secret() {
            String canary = "s" + CANARY + data.consumeInt(0, 99);
            return switch (data.consumeInt(0, 15)) {
                case 0 -> new Plain(canary);
                case 1 -> canary + text(12); // controls, non-Latin-1, quotes ...
                case 2 -> new Plain(data.pickValue(new String[] {"!", "&", "*", "%", "@", "`", "|", ">", "-", "?", ":",
                    "#", "{", "[", "\"", "'", "!x!", "!!", ""}) + canary + text(6));
                case 3 -> "${env:" + data.pickValue(new String[] {"S3_SECRET", "SASL_PASSWORD", "TOKEN", "JAAS",
                    "URL_SECRET", "LONG_SECRET", "CRLF_SECRET", "EMPTY", "NOT_SET"}) + "}";
                case 4 -> data.consumeBoolean() ? "${file:secret.txt}" : "Bearer ${file:secret.txt}";
                case 5 -> List.of(canary);
                case 6 -> Map.of("value", canary);
                case 7 -> canary.repeat(data.consumeInt(2, 200));
                case 8 -> "${env:NOT_SET}" + canary;
                case 9 -> "${env:" + canary;
                case 10 -> canary + "${file:" + text(6) + "}";
                default -> canary;
            };
        }

        /** Fuzz text that can never hold the canary or a reference of its own. */
        private String text(int max) {
            return data.consumeString(max).replace(CANARY.substring(0, 3), "Qx6").replace("${", "$ {");
        }
    }

    /** Writes a tree as block YAML (scalars quoted, or plain where asked) or as JSON. */
    static final class Yaml {
        private Yaml() {}

        static String json(Object tree) {
            try {
                return JSON.writeValueAsString(unplain(tree));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static String block(Map<String, Object> root) {
            StringBuilder sb = new StringBuilder();
            mapping(sb, root, "");
            return sb.toString();
        }

        private static void mapping(StringBuilder sb, Map<?, ?> map, String indent) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String key = e.getKey().toString();
                sb.append(indent).append(key.matches("[A-Za-z0-9_.-]+") ? key : json(key)).append(':');
                value(sb, e.getValue(), indent);
            }
        }

        private static void value(StringBuilder sb, Object v, String indent) {
            if (v instanceof Map<?, ?> m) {
                if (m.isEmpty()) {
                    sb.append(" {}\n");
                } else {
                    sb.append('\n');
                    mapping(sb, m, indent + "  ");
                }
            } else if (v instanceof List<?> list) {
                if (list.isEmpty()) {
                    sb.append(" []\n");
                    return;
                }
                sb.append('\n');
                for (Object item : list) {
                    sb.append(indent).append("  -");
                    value(sb, item, indent + "    ");
                }
            } else if (v instanceof Plain p) {
                sb.append(' ').append(p.text()).append('\n');
            } else {
                sb.append(' ').append(json(v)).append('\n');
            }
        }

        private static Object unplain(Object v) {
            if (v instanceof Plain p) {
                return p.text();
            }
            if (v instanceof Map<?, ?> m) {
                Map<Object, Object> out = new LinkedHashMap<>();
                m.forEach((k, x) -> out.put(k, unplain(x)));
                return out;
            }
            if (v instanceof List<?> l) {
                return l.stream().map(Yaml::unplain).toList();
            }
            return v;
        }
    }
}
