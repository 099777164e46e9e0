package io.edgestreaming.bench;

import io.edgestreaming.templates.DataSource;
import io.edgestreaming.templates.Template;
import io.edgestreaming.templates.TemplateException;
import io.edgestreaming.templates.Templates;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The customer streams of the benchmark's job: ten streams of the event generator's three clients over both data
 * sources, Azion templates 184, 2 and 4 and custom data sets, one sampled, delivering to three HTTP paths (plain,
 * gzip, a JSON array), four Kafka topics (record and block format, lz4) and three S3 prefixes (gzip, plain, dated). Written to the job's YAML
 * here, and matched and projected here again, without the job's code, to compute what every endpoint must hold.
 */
final class Streams {
    enum Kind { HTTP, KAFKA, S3 }

    /**
     * One stream. {@code template} is an Azion id ("184") or a custom data set (JSON); {@code endpoint} is the YAML of
     * its endpoint with placeholders {@code %HTTP%} (the receiver's base URL), {@code %KAFKA%} (bootstrap servers),
     * {@code %TOPIC%}, {@code %S3%} (endpoint URL), {@code %BUCKET%}, {@code %ACCESS%}, {@code %SECRET%}.
     */
    record Spec(long id, String name, String client, String dataSource, String template, List<String> domains,
            boolean allDomains, double sampling, Kind kind, String endpoint) {

        DataSource source() {
            return dataSource.equals("waf") ? DataSource.WAF : DataSource.HTTP;
        }

        Template resolveTemplate() {
            try {
                return template.startsWith("{") ? Templates.custom(source(), template)
                        : Templates.byId(Integer.parseInt(template));
            } catch (TemplateException e) {
                throw new IllegalStateException("stream " + id + ": " + e.getMessage(), e);
            }
        }

        /** Whether an event of this data source, client and host (lower-case, no port) feeds this stream. */
        boolean matches(boolean waf, String eventClient, String host) {
            if (waf != dataSource.equals("waf") || !client.equals(eventClient)) {
                return false;
            }
            if (allDomains) {
                return true;
            }
            for (String d : domains) {
                if (d.startsWith("*.") ? host.length() > d.length() - 1 && host.endsWith(d.substring(1))
                        : host.equals(d)) {
                    return true;
                }
            }
            return false;
        }

        /**
         * The README's sampling rule, written down again: mix(H(event), stream id) mod 10000 < % x 100, H from h = length
         * over the 8-byte little-endian words (the last zero-padded, at least one): h = rotl(h + w * P2, 31) * P1.
         */
        boolean keeps(byte[] event) {
            if (sampling >= 100) {
                return true;
            }
            long p1 = 0x9E3779B185EBCA87L;
            long p2 = 0xC2B2AE3D27D4EB4FL;
            java.nio.ByteBuffer words = java.nio.ByteBuffer.wrap(event).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            long h = event.length;
            int i = 0;
            for (; i + 8 <= event.length; i += 8) {
                h = Long.rotateLeft(h + words.getLong(i) * p2, 31) * p1;
            }
            long w = 0;
            for (int k = 0; i + k < event.length; k++) {
                w |= (event[i + k] & 0xffL) << (8 * k);
            }
            h = Long.rotateLeft(h + w * p2, 31) * p1;
            long z = h ^ (id * 0x9E3779B97F4A7C15L);
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z = z ^ (z >>> 31);
            return Long.remainderUnsigned(z, 10_000) < Math.round(sampling * 100);
        }

        String topic(String run) {
            return "out-" + id + "-" + run;
        }

        String httpPath(String run) {
            return "/" + run + "/s" + id;
        }

        String prefix(String run) {
            return run + "-s" + id;
        }
    }

    static final String HTTP_PLAIN = """
            endpoint_type: standard
            url: %HTTP%
            """;
    static final String HTTP_JSON_ARRAY_GZIP = """
            endpoint_type: standard
            url: %HTTP%
            log_line_separator: ","
            payload_format: "[$dataset]"
            compression: gzip
            """;
    static final String HTTP_GZIP = """
            endpoint_type: standard
            url: %HTTP%
            compression: gzip
            """;

    static String kafka(String format, String compression) {
        return """
                endpoint_type: kafka
                bootstrap_servers: %KAFKA%
                kafka_topic: %TOPIC%
                message_format: FORMAT
                compression: COMPRESSION
                transaction_timeout: 10m
                """.replace("FORMAT", format).replace("COMPRESSION", compression);
    }

    static String s3(String contentType, String layout) {
        return """
                endpoint_type: s3
                host_url: %S3%
                bucket_name: %BUCKET%
                region: us-east-1
                access_key: %ACCESS%
                secret_key: %SECRET%
                object_key_prefix: %PREFIX%
                content_type: CONTENT
                key_layout: LAYOUT
                """.replace("CONTENT", contentType).replace("LAYOUT", layout);
    }

    static final String SLIM = "{\"t\":\"$time\",\"h\":\"$host\",\"u\":\"$scheme://$host$request_uri\",\"s\":\"$status\","
            + "\"b\":\"$bytes_sent\",\"c\":\"$upstream_cache_status\",\"id\":\"$request_id\"}";
    static final String API = "{\"time\":\"$time\",\"host\":\"$host\",\"url\":\"$scheme://${host}$request_uri\","
            + "\"status\":\"$status\",\"bytes\":\"$bytes_sent\",\"cache\":\"$upstream_cache_status\",\"price\":\"$$1\"}";

    /*
     * The big data sets go where the data leaves this JVM (Kafka: the broker's disk; S3: gzip objects), so that the
     * receivers' copies of a million events' output fit the heap next to the job.
     */
    static final List<Spec> ALL = List.of(
            new Spec(1001, "shop-siem", "4529r", "http", "184",
                    List.of("www.shop-4529r.example", "*.cdn-4529r.example"), false, 100, Kind.KAFKA,
                    kafka("record", "none")),
            new Spec(1002, "api-kafka", "7781k", "http", "2", List.of("api.7781k.example"), false, 100, Kind.KAFKA,
                    kafka("record", "none")),
            new Spec(1003, "shop-archive", "4529r", "http", "2", List.of(), true, 50, Kind.S3,
                    s3("application/gzip", "azion")),
            new Spec(1004, "shop-waf", "4529r", "waf", "4", List.of("www.shop-4529r.example"), false, 100, Kind.KAFKA,
                    kafka("block", "none")),
            new Spec(1005, "api-custom", "7781k", "http", API, List.of("api.7781k.example", "www.7781k.example"), false,
                    100, Kind.HTTP, HTTP_JSON_ARRAY_GZIP),
            new Spec(1006, "other-all", "1230z", "http", "184", List.of(), true, 100, Kind.S3,
                    s3("application/gzip", "dated")),
            new Spec(1007, "api-waf", "7781k", "waf", "4", List.of(), true, 100, Kind.HTTP, HTTP_GZIP),
            new Spec(1008, "shop-slim", "4529r", "http", SLIM, List.of(), true, 100, Kind.KAFKA,
                    kafka("record", "lz4")),
            new Spec(1009, "other-waf", "1230z", "waf", "4", List.of(), true, 100, Kind.S3, s3("plain/text", "azion")),
            new Spec(1010, "checkout-siem", "4529r", "http", "184", List.of("checkout.shop-4529r.example"), false, 100,
                    Kind.HTTP, HTTP_PLAIN));

    private Streams() {}

    /** Where the endpoints of one run are. */
    record Targets(String run, String httpBase, String kafka, String s3, String bucket, String access, String secret) {}

    /** The job's configuration file for one run. */
    static String yaml(Targets t, String bootstrap, String httpTopic, String wafTopic, String deadLetterTopic,
            String deadBlocksUri, String checkpointInterval, String maxInterval) {
        StringBuilder y = new StringBuilder(header(bootstrap, httpTopic, wafTopic, "bench-job-" + t.run(), deadLetterTopic,
                deadBlocksUri, checkpointInterval,
                "allowed_networks: [\"127.0.0.0/8\", \"::1/128\"]   # the bench's servers listen on loopback\n"));
        for (Spec s : ALL) {
            appendStream(y, s, maxInterval, s.endpoint()
                    .replace("%HTTP%", t.httpBase() + s.httpPath(t.run()))
                    .replace("%KAFKA%", t.kafka())
                    .replace("%TOPIC%", s.topic(t.run()))
                    .replace("%S3%", t.s3())
                    .replace("%BUCKET%", t.bucket())
                    .replace("%ACCESS%", t.access())
                    .replace("%SECRET%", t.secret())
                    .replace("%PREFIX%", s.prefix(t.run())));
        }
        return y.toString();
    }

    /** Everything before the streams' entries; {@code topLevel}: more top-level keys (YAML lines) or "". */
    static String header(String bootstrap, String httpTopic, String wafTopic, String groupId, String deadLetterTopic,
            String deadBlocksUri, String checkpointInterval, String topLevel) {
        return """
                source:
                  bootstrap_servers: %s
                  topics:
                    http: %s
                    waf: %s
                  group_id: %s
                  starting_position: earliest
                dead_letter:
                  events_topic: %s
                  blocks_path: %s
                checkpoint_interval: %s
                %sstreams:
                """.formatted(bootstrap, httpTopic, wafTopic, groupId, deadLetterTopic, deadBlocksUri,
                checkpointInterval, topLevel);
    }

    /** One entry of {@code streams:}; {@code endpoint}: the endpoint's YAML, its placeholders replaced. */
    static void appendStream(StringBuilder y, Spec s, String maxInterval, String endpoint) {
        y.append("  - id: ").append(s.id()).append('\n');
        y.append("    name: ").append(s.name()).append('\n');
        y.append("    client: \"").append(s.client()).append("\"\n");
        y.append("    data_source: ").append(s.dataSource()).append('\n');
        if (s.template().startsWith("{")) {
            y.append("    template_model: '").append(s.template()).append("'\n");
        } else {
            y.append("    template_id: ").append(s.template()).append('\n');
        }
        if (s.allDomains()) {
            y.append("    all_domains: true\n");
        } else {
            List<String> quoted = new ArrayList<>();
            s.domains().forEach(d -> quoted.add("\"" + d + "\""));
            y.append("    domains: ").append(quoted).append('\n');
        }
        if (s.sampling() < 100) {
            y.append("    sampling_percentage: ").append(String.format(Locale.ROOT, "%s", s.sampling())).append('\n');
        }
        y.append("    max_interval: ").append(maxInterval).append('\n');
        y.append("    endpoint:\n");
        for (String line : endpoint.split("\n")) {
            y.append("      ").append(line).append('\n');
        }
    }
}
