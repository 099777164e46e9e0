package io.edgestreaming.connectors.kafka;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static io.edgestreaming.connectors.kafka.KafkaDeliveryITCase.awaitDelivered;
import static io.edgestreaming.connectors.kafka.KafkaDeliveryITCase.process;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.read;
import static io.edgestreaming.connectors.kafka.KafkaFixtures.recordMessages;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.config.Secret;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.internal.DeliveryHarness;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.TestTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * use_tls against a broker whose certificate is signed by a private CA (trusted through ca_file), with
 * SASL/SCRAM on top: a wrong password is a clear, redacted failure that never fails the job (its block
 * is dead-lettered after max_retry_duration, the password in no log line or manifest); the right
 * password delivers.
 */
class KafkaSecurityITCase {
    private static final String USER = "edge-user";
    private static final String PASSWORD = "right-Pa55word";
    private static final String WRONG = "wrong-Pa55word";

    @TempDir
    Path deadLetters;

    @Test
    void tlsWithScramWrongThenRightPassword() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().tls().scramUser(USER, PASSWORD).start()) {
            kafka.createTopic("secure", 1);
            Block refused = block(1, "example.com", 0, 2);
            try (DeliveryHarness h = DeliveryHarness.open(job(deadLetters, delivery(Duration.ofSeconds(3)),
                    stream(1, endpoint(kafka, "SCRAM-SHA-256", WRONG))), new KafkaTransport.Factory(), null)) {
                process(h, refused);
                h.snapshot(1);
                h.complete(1);
                // Retried with backoff, then dead-lettered after max_retry_duration (3 s): never an exception.
                assertThat(awaitDelivered(h)).isTrue();
            }
            List<JsonNode> manifests = KafkaFixtures.manifests(deadLetters);
            assertThat(manifests).hasSize(1);
            String reason = manifests.get(0).get("reason").asText();
            assertThat(reason).contains("authentication failed").contains("SCRAM-SHA-256").contains(USER).doesNotContain(WRONG);
            assertThat(allText(deadLetters)).doesNotContain(WRONG);

            Block accepted = block(1, "example.com", 1, 3);
            try (DeliveryHarness h = DeliveryHarness.open(job(deadLetters.resolve("second"), delivery(),
                    stream(1, endpoint(kafka, "SCRAM-SHA-512", PASSWORD))), new KafkaTransport.Factory(), null)) {
                process(h, accepted);
                h.snapshot(1);
                h.complete(1);
                assertThat(awaitDelivered(h)).isTrue();
            }
            assertThat(read(kafka, "secure", 3)).containsExactlyElementsOf(recordMessages(accepted));
            assertThat(KafkaFixtures.manifests(deadLetters.resolve("second"))).isEmpty();
        }
    }

    @Test
    void tlsOnlyWithTheCaFile() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().tls().start()) {
            kafka.createTopic("tls", 1);
            KafkaEndpoint tls = new KafkaEndpoint(kafka.secureBootstrapServers(), "tls", true, null, TestTls.caPem().toString(),
                    KafkaEndpoint.MessageFormat.RECORD, "zstd", Duration.ofMinutes(10));
            Block b = block(1, "example.com", 0, 2);
            try (DeliveryHarness h = DeliveryHarness.open(job(deadLetters, delivery(), stream(1, tls)), new KafkaTransport.Factory(), null)) {
                process(h, b);
                h.snapshot(1);
                h.complete(1);
                assertThat(awaitDelivered(h)).isTrue();
            }
            assertThat(read(kafka, "tls", 2)).containsExactlyElementsOf(recordMessages(b));
        }
    }

    private static KafkaEndpoint endpoint(EmbeddedKafka kafka, String mechanism, String password) {
        return new KafkaEndpoint(kafka.secureBootstrapServers(), "secure", true,
                new KafkaEndpoint.Sasl(mechanism, USER, Secret.of(password)), TestTls.caPem().toString(),
                KafkaEndpoint.MessageFormat.RECORD, "none", Duration.ofMinutes(10));
    }

    private static String allText(Path dir) throws Exception {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                sb.append(Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1));
            }
        }
        return sb.toString();
    }
}
