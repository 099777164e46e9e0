package io.edgestreaming.config;

import static io.edgestreaming.config.ConfigTesting.problems;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A configuration with many mistakes gets every one of them reported at once, each at its path. */
class ConfigErrorsTest {

    @Test
    void everyProblemIsReportedAtOnceWithItsPath() {
        String yaml = """
                source:
                  bootstrap_servers: localhost
                  topics: {http: edge-http-events, wafs: edge-waf-events}
                  starting_position: newest
                  max_event_bytes: 10
                  propertes: {a: b}
                dead_letter:
                  events_topic: edge-http-events
                delivery:
                  request_timeout: 20 seconds
                  initial_backoff: 2s
                  max_backoff: 1s
                checkpoint_interval: 0s
                stream: []
                streams:
                  - id: 1001
                    name: a
                    client: 4529r
                    data_source: http
                    template_id: 184
                    template_model: '{"s":"$stauts"}'
                    domains: [WWW.Example.COM, bad_host.example, "www.*.example"]
                    sampling_percentage: 50
                    max_records: 5000
                    endpoint:
                      endpoint_type: standard
                      url: ftp://siem.example.com/ingest
                      headers: {Host: x, "Bad Header": y}
                      payload_format: "[records]"
                      bucket_name: x
                  - id: 1001
                    name: ""
                    data_source: rtm
                    all_domains: true
                    domains: [a.example]
                    endpoint:
                      endpoint_type: s3
                      host_url: https://user:pw@s3.example
                      bucket_name: Edge_Logs
                      region: us-east-1
                      access_key: AK
                      secret_key: ${env:MISSING_SECRET}
                      content_type: text/html
                      max_size: 1000000
                  - id: 0
                    name: k
                    client: "bad client"
                    data_source: WAF
                    template_model: [1]
                    domains: a.example
                    active: "yes"
                    max_interval: 1h
                    endpoint:
                      endpoint_type: kafka
                      bootstrap_servers: "k1:99999"
                      kafka_topic: "bad topic"
                      sasl: {mechanism: GSSAPI, username: u}
                      ca_file: ca.pem
                      transaction_timeout: 0s
                      max_size: 5
                  - "not a mapping"
                """;
        assertThat(problems(yaml)).containsExactlyInAnyOrder(
                "source.bootstrap_servers: must be a comma-separated list of host:port, 'localhost' has no port",
                "source.topics.wafs: unknown data source (known: http, waf); did you mean waf?",
                "source.starting_position: must be one of committed_or_earliest, committed_or_latest, earliest,"
                        + " latest, was 'newest'",
                "source.max_event_bytes: must be between 1024 and 67108864, was 10",
                "source.propertes: unknown key (did you mean properties?)",
                "dead_letter.events_topic: must differ from source.topics.http",
                "dead_letter.blocks_path: is required",
                "delivery.request_timeout: '20 seconds' is not a duration (write e.g. 500ms, 60s, 5m, 24h, 1d, PT60S,"
                        + " or an integer of seconds)",
                "delivery.max_backoff: must be at least initial_backoff (2s), was 1s",
                "checkpoint_interval: must be between 100ms and 5m, was 0s",
                "stream: unknown key (did you mean streams?)",
                // streams[0]
                "streams[0].template_model: cannot be combined with template_id; set exactly one",
                "streams[0].template_model: key \"s\": unknown variable $stauts in \"$stauts\"; closest http"
                        + " variables: $state, $status, $stream (use ${name} to end a name inside text, $$ for a"
                        + " literal $)",
                "streams[0].domains[1]: 'bad_host.example' is not a valid host name (labels of letters, digits and"
                        + " inner hyphens, 1 to 63 characters, separated by dots)",
                "streams[0].domains[2]: 'www.*.example' has a wildcard that is not a whole first label"
                        + " (write *.example.com)",
                "streams[0].sampling_percentage: is only allowed with all_domains: true (Azion's rule)",
                "streams[0].max_records: must be between 1 and 2000, was 5000",
                "streams[0].endpoint.url: must be http or https, was ftp",
                "streams[0].endpoint.headers.Host: is set by the HTTP transport and cannot be configured",
                "streams[0].endpoint.headers[\"Bad Header\"]: is not a valid header name (letters, digits and"
                        + " !#$%&'*+-.^_`|~)",
                "streams[0].endpoint.payload_format: must contain $dataset (where the records go)",
                "streams[0].endpoint.bucket_name: is a key of endpoint_type s3, not of standard",
                // streams[1]
                "streams[1].id: duplicate id 1001 (also streams[0])",
                "streams[1].name: must not be empty",
                "streams[1].client: is required",
                "streams[1].data_source: must be one of http, waf, was 'rtm'",
                "streams[1].template_id: is required: an Azion template (2, 4, 184) or a custom template_model",
                "streams[1].domains: must be empty or absent when all_domains is true",
                "streams[1].endpoint.host_url: must not carry credentials (user:password@); use access_key and"
                        + " secret_key",
                "streams[1].endpoint.bucket_name: is not a valid bucket name (3 to 63 lower-case letters, digits,"
                        + " dots and hyphens, starting and ending with a letter or digit, not an IP address)",
                "streams[1].endpoint.secret_key: environment variable MISSING_SECRET is not set",
                "streams[1].endpoint.content_type: must be one of plain/text, text/plain, application/gzip,"
                        + " was 'text/html'",
                "streams[1].endpoint.max_size: is not used with endpoint_type s3; set streams[1].max_size",
                // streams[2]
                "streams[2].id: must be between 1 and 9223372036854775807, was 0",
                "streams[2].client: must be a client id of letters, digits, '_', '.', '-' (e.g. 4529r)",
                "streams[2].template_model: must be a JSON object (as a string, as Azion's API takes it) or a"
                        + " mapping, was a list",
                "streams[2].domains: must be a list, was a string",
                "streams[2].active: must be true or false, was a string",
                "streams[2].max_interval: must be between 100ms and 15m, was 1h",
                "streams[2].endpoint.bootstrap_servers: must be a comma-separated list of host:port, '99999' is not"
                        + " a port (1 to 65535)",
                "streams[2].endpoint.kafka_topic: is not a valid Kafka topic name (1 to 249 of letters, digits,"
                        + " '.', '_', '-'; not '.' or '..')",
                "streams[2].endpoint.sasl.mechanism: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512,"
                        + " was 'GSSAPI'",
                "streams[2].endpoint.sasl.password: is required",
                "streams[2].endpoint.ca_file: is only used with use_tls: true",
                "streams[2].endpoint.transaction_timeout: must be between 1s and 1h, was 0s",
                "streams[2].endpoint.max_size: is not used with endpoint_type kafka; set streams[2].max_size",
                "streams[2].data_source: waf has no topic in source.topics",
                // streams[3]
                "streams[3]: must be a mapping, was a string");
    }
}
