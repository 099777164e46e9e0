package io.edgestreaming.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class NamesTest {

    @Test
    void hostPortLists() {
        for (String ok : List.of("localhost:9092", "k1:9092,k2:9093", "k1:9092, k2:9093", "10.0.0.1:9092",
                "[::1]:9092", "Broker-1.Example.com:1")) {
            assertThat(Names.hostPortListProblem(ok)).as(ok).isNull();
        }
        for (String bad : List.of("localhost", "k1:9092,", ":9092", "k1:0", "k1:65536", "k1:port", "bad_host:9092",
                "k1:9092;k2:9092")) {
            assertThat(Names.hostPortListProblem(bad)).as(bad).isNotNull();
        }
    }

    @Test
    void bucketAndTopicNames() {
        for (String ok : List.of("edge-logs", "abc", "a.b-c.1", "x".repeat(63))) {
            assertThat(Names.bucketNameProblem(ok)).as(ok).isNull();
        }
        for (String bad : List.of("ab", "x".repeat(64), "Edge", "-edge", "edge-", "a..b", "10.0.0.1", "edge_logs")) {
            assertThat(Names.bucketNameProblem(bad)).as(bad).isNotNull();
        }
        for (String ok : List.of("t", "edge.logs_1-x", "T".repeat(249))) {
            assertThat(Names.kafkaTopicProblem(ok)).as(ok).isNull();
        }
        for (String bad : List.of("", ".", "..", "a b", "a/b", "t".repeat(250))) {
            assertThat(Names.kafkaTopicProblem(bad)).as(bad).isNotNull();
        }
    }

    @Test
    void closestKnownKey() {
        List<String> known = List.of("bootstrap_servers", "kafka_topic", "use_tls", "message_format");
        assertThat(Names.closest("kafkaTopic", known)).isEqualTo("kafka_topic");
        assertThat(Names.closest("use_tsl", known)).isEqualTo("use_tls");
        assertThat(Names.closest("topic", known)).isEqualTo("kafka_topic");
        assertThat(Names.closest("bootstrap.servers", known)).isEqualTo("bootstrap_servers");
        assertThat(Names.closest("zzz", known)).isNull();
    }

    @Test
    void durationsFormatInTheirShortestExactForm() {
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("90s");
        assertThat(Durations.format(Duration.ofMinutes(120))).isEqualTo("2h");
        assertThat(Durations.format(Duration.ofHours(48))).isEqualTo("2d");
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
    }
}
