package io.edgestreaming.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** A stream's endpoint of type {@code kafka}: the cluster, topic, TLS and SASL, and the transactions. */
final class KafkaEndpointSection {
    private KafkaEndpointSection() {}

    static KafkaEndpoint read(Section e, Duration checkpointInterval, Path baseDir) {
        String bootstrap = SourceSection.checkHostPorts(e, "bootstrap_servers", e.text("bootstrap_servers", true, 150));
        String topic = e.string("kafka_topic", true, 150);
        if (topic != null) {
            String bad = Names.kafkaTopicProblem(topic);
            if (bad != null) {
                e.problem("kafka_topic", bad);
            }
        }
        Boolean useTls = e.bool("use_tls", false);
        KafkaEndpoint.Sasl sasl = null;
        Section s = e.section("sasl", false);
        if (s != null) {
            String mechanism = s.choice("mechanism", Section.options(Map.entry("PLAIN", "PLAIN"),
                    Map.entry("SCRAM-SHA-256", "SCRAM-SHA-256"), Map.entry("SCRAM-SHA-512", "SCRAM-SHA-512")), null, true);
            String username = s.string("username", true, 255);
            String password = s.string("password", true, 1024);
            s.finish();
            if (mechanism != null && username != null && password != null) {
                sasl = new KafkaEndpoint.Sasl(mechanism, username, Secret.of(password));
            }
        }
        String caFile = EndpointSection.path(e, "ca_file", baseDir);
        if (caFile != null && Boolean.FALSE.equals(useTls)) {
            e.problem("ca_file", "is only used with use_tls: true");
        }
        KafkaEndpoint.MessageFormat format = e.choice("message_format", Section.options(
                        Map.entry("record", KafkaEndpoint.MessageFormat.RECORD),
                        Map.entry("block", KafkaEndpoint.MessageFormat.BLOCK)),
                KafkaEndpoint.MessageFormat.RECORD, false);
        String compression = e.choice("compression", Section.options(Map.entry("none", "none"),
                Map.entry("gzip", "gzip"), Map.entry("lz4", "lz4"), Map.entry("zstd", "zstd"),
                Map.entry("snappy", "snappy")), "none", false);
        // The broker refuses timeouts above transaction.max.timeout.ms (15 min by default); up to 1 h
        // is allowed for clusters that raised it.
        Duration txTimeout = e.duration("transaction_timeout", Duration.ofSeconds(1), Duration.ofHours(1),
                Duration.ofMinutes(10));
        if (txTimeout != null && checkpointInterval != null && txTimeout.compareTo(checkpointInterval) <= 0) {
            e.problem("transaction_timeout", "must be longer than checkpoint_interval ("
                    + Durations.format(checkpointInterval) + "): a transaction stays open until the checkpoint"
                    + " after it, was " + Durations.format(txTimeout));
        }
        if (bootstrap == null || topic == null || useTls == null || (s != null && sasl == null)
                || format == null || compression == null || txTimeout == null) {
            return null;
        }
        return new KafkaEndpoint(bootstrap, topic, useTls, sasl, caFile, format, compression, txTimeout);
    }
}
