package io.edgestreaming.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaITCase {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> values(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).sorted().toList();
    }

    @Test
    void transactionsReadCommittedAndBrokerRestart() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(Map.of("log.retention.hours", "1"))) {
            kafka.createTopic("raw", 2);
            kafka.send("raw", List.of(bytes("plain-1"), bytes("plain-2")));

            Map<String, Object> props = new HashMap<>(kafka.plainClientProps());
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "testkit-tx");
            // Above Kafka's default 15 min ceiling: only accepted because the broker raised it.
            props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) TimeUnit.MINUTES.toMillis(30));
            try (KafkaProducer<byte[], byte[]> tx =
                    new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
                tx.initTransactions();
                tx.beginTransaction();
                tx.send(new ProducerRecord<>("raw", bytes("committed")));
                tx.commitTransaction();
                tx.beginTransaction();
                tx.send(new ProducerRecord<>("raw", bytes("aborted")));
                tx.flush();
                tx.abortTransaction();
                tx.beginTransaction();
                tx.send(new ProducerRecord<>("raw", bytes("open")));
                tx.flush();
                // Left open: a read_committed reader must not see it (nor anything after it).
                assertThat(values(kafka.readCommitted("raw", 3, Duration.ofSeconds(20))))
                        .containsExactly("committed", "plain-1", "plain-2");
                tx.commitTransaction();
            }
            assertThat(values(kafka.readCommitted("raw", 4, Duration.ofSeconds(20))))
                    .containsExactly("committed", "open", "plain-1", "plain-2");

            String bootstrap = kafka.bootstrapServers();
            kafka.stopBroker();
            Map<String, Object> quick = new HashMap<>(kafka.plainClientProps());
            quick.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2000);
            quick.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 1000);
            try (Admin probe = Admin.create(quick)) {
                assertThatThrownBy(() -> probe.listTopics().names().get(5, TimeUnit.SECONDS))
                        .hasMessageContaining("Timed out");
            }
            kafka.startBroker();
            assertThat(kafka.bootstrapServers()).isEqualTo(bootstrap);
            kafka.send("raw", List.of(bytes("after-restart")));
            assertThat(values(kafka.readCommitted("raw", 5, Duration.ofSeconds(30))))
                    .containsExactly("after-restart", "committed", "open", "plain-1", "plain-2");

            kafka.close();
            kafka.close(); // idempotent
        }
    }

    @Test
    void tlsAndScramListener() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().tls().scramUser("alice", "alice-secret").start()) {
            kafka.createTopic("secure", 1);
            assertThat(kafka.secureBootstrapServers()).startsWith("localhost:");

            Map<String, Object> right = kafka.secureClientProps("alice", "alice-secret", "SCRAM-SHA-512");
            try (KafkaProducer<byte[], byte[]> p =
                    new KafkaProducer<>(right, new ByteArraySerializer(), new ByteArraySerializer())) {
                p.send(new ProducerRecord<>("secure", bytes("over-tls"))).get(30, TimeUnit.SECONDS);
            }
            assertThat(values(kafka.readCommitted("secure", 1, Duration.ofSeconds(20)))).containsExactly("over-tls");

            Map<String, Object> wrong = new HashMap<>(kafka.secureClientProps("alice", "nope", "SCRAM-SHA-256"));
            wrong.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
            wrong.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
            try (Admin admin = Admin.create(wrong)) {
                assertThatThrownBy(() -> admin.describeCluster().clusterId().get(15, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(SaslAuthenticationException.class);
            }

            // A client that does not trust the testkit CA fails the TLS handshake.
            Map<String, Object> untrusting = new HashMap<>(right);
            untrusting.remove("ssl.truststore.location");
            untrusting.remove("ssl.truststore.password");
            untrusting.remove("ssl.truststore.type");
            untrusting.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
            untrusting.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
            try (Admin admin = Admin.create(untrusting)) {
                assertThatThrownBy(() -> admin.describeCluster().clusterId().get(15, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(SslAuthenticationException.class);
            }
        }
    }

    @Test
    void plainBrokerHasNoSecureListener() {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            assertThatThrownBy(kafka::secureBootstrapServers)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no secure listener");
        }
    }
}
