package io.edgestreaming.config;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Shared helpers of the configuration tests. */
final class ConfigTesting {
    private ConfigTesting() {}

    static final Map<String, String> ENV = Map.of(
            "KAFKA", "broker-1:9092,broker-2:9092",
            "SIEM_TOKEN", "Bearer tok-123",
            "S3_SECRET", "s3-secret-value");

    /** A valid configuration with one standard stream; {@code %s} is replaced by extra stream keys. */
    static final String MINIMAL = """
            source:
              bootstrap_servers: localhost:9092
              topics: {http: edge-http-events}
            dead_letter:
              blocks_path: file:///tmp/dl
            streams:
              - id: 1
                name: s1
                client: 4529r
                data_source: http
                template_id: 184
                domains: [www.example.com]
                endpoint:
                  endpoint_type: standard
                  url: https://siem.example.com/ingest
            """;

    static JobConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, ENV::get, Path.of("/nonexistent-base"));
    }

    static JobConfig parse(String yaml, Map<String, String> env, Path baseDir) throws ConfigException {
        return ConfigLoader.parse(yaml, readable(env, baseDir)::get, baseDir);
    }

    /**
     * {@code env} with {@code baseDir} as EDGE_STREAMING_FILE_DIRS unless it sets one: parsed text has no
     * directory of its own, so {@code ${file:}} could read nothing else.
     */
    static Map<String, String> readable(Map<String, String> env, Path baseDir) {
        Map<String, String> with = new java.util.HashMap<>(env);
        with.putIfAbsent("EDGE_STREAMING_FILE_DIRS", baseDir.toString());
        return with;
    }

    /** The problems of a configuration that must be refused. */
    static List<String> problems(String yaml) {
        return problems(yaml, ENV, Path.of("/nonexistent-base"));
    }

    static List<String> problems(String yaml, Map<String, String> env, Path baseDir) {
        ConfigException[] caught = new ConfigException[1];
        assertThatThrownBy(() -> ConfigLoader.parse(yaml, readable(env, baseDir)::get, baseDir))
                .isInstanceOfSatisfying(ConfigException.class, e -> caught[0] = e);
        return caught[0].problems();
    }

    /** A stream of {@link #MINIMAL}-like shape with {@code endpoint} (indented YAML lines) and {@code extra} stream keys. */
    static String withStream(String streamYaml) {
        return """
                source:
                  bootstrap_servers: localhost:9092
                  topics: {http: edge-http-events, waf: edge-waf-events}
                dead_letter:
                  blocks_path: file:///tmp/dl
                streams:
                """ + streamYaml.indent(2);
    }

    /** One stream with id 1, name, client c1, data_source http and the given further keys (YAML lines). */
    static String stream(String keys) {
        return withStream("- id: 1\n  name: s\n  client: c1\n" + keys.indent(2));
    }

    /** A standard-endpoint stream (template 184, domain a.example); extra stream and endpoint keys. */
    static String standard(String streamKeys, String endpointKeys) {
        return stream("data_source: http\ntemplate_id: 184\ndomains: [a.example]\n" + streamKeys
                + "endpoint:\n  endpoint_type: standard\n  url: https://x.example/in\n" + endpointKeys.indent(2));
    }

    static String kafka(String streamKeys, String endpointKeys) {
        return stream("data_source: http\ntemplate_id: 184\ndomains: [a.example]\n" + streamKeys
                + "endpoint:\n  endpoint_type: kafka\n" + endpointKeys.indent(2));
    }

    static String s3(String streamKeys, String endpointKeys) {
        return stream("data_source: http\ntemplate_id: 184\ndomains: [a.example]\n" + streamKeys
                + "endpoint:\n  endpoint_type: s3\n" + endpointKeys.indent(2));
    }
}
