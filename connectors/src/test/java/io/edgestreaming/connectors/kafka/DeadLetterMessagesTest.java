package io.edgestreaming.connectors.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.config.Secret;
import io.edgestreaming.connectors.AddressGuard;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

/** A block of dead letters becomes exactly the messages the job wrote one by one, newlines and cut values included. */
class DeadLetterMessagesTest {

    @Test
    void aBlockOfFramesIsOneMessagePerEventAsWrittenAlone() throws Exception {
        byte[] huge = new byte[DeadLetterMessages.MAX_VALUE_BYTES + 10];
        Arrays.fill(huge, (byte) '\n');
        List<DeadLetterMessages.Event> events = List.of(
                new DeadLetterMessages.Event("NOT_JSON", "not JSON at 0", "raw-http", 1, 42,
                        "a\nb\n".getBytes(StandardCharsets.UTF_8)),
                new DeadLetterMessages.Event("TOO_LARGE", "d\u00e9tail", "raw-waf", 0, 7, huge),
                new DeadLetterMessages.Event("MISSING_HOST", "", "raw-http", 0, 8, new byte[0]));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        DeadLetterMessages.writeHeader(out);
        for (DeadLetterMessages.Event e : events) {
            DeadLetterMessages.writeFrame(out, e);
        }
        List<ProducerRecord<byte[], byte[]>> decoded = DeadLetterMessages.decode(bytes.toByteArray(), "dead");

        assertThat(decoded).hasSize(3);
        for (int i = 0; i < 3; i++) {
            ProducerRecord<byte[], byte[]> alone = DeadLetterMessages.record("dead", events.get(i));
            assertThat(decoded.get(i).topic()).isEqualTo("dead");
            assertThat(decoded.get(i).key()).isNull();
            assertThat(decoded.get(i).value()).isEqualTo(alone.value());
            assertThat(headers(decoded.get(i))).isEqualTo(headers(alone));
        }
        assertThat(decoded.get(1).value()).hasSize(DeadLetterMessages.MAX_VALUE_BYTES);
        assertThat(new String(decoded.get(1).headers().lastHeader("value-bytes").value(), StandardCharsets.US_ASCII))
                .isEqualTo(Integer.toString(huge.length));
        assertThat(decoded.get(0).headers().lastHeader("value-truncated")).isNull();
    }

    @Test
    void theDeadLetterTopicIsReachedWithTheSourcesPropertiesAndHasItsOwnDestination() {
        KafkaEndpoint endpoint = new KafkaEndpoint("broker:9093", "dead", false, null, null,
                KafkaEndpoint.MessageFormat.DEAD_LETTER, "none", Duration.ofMinutes(10),
                Map.of("security.protocol", Secret.of("SASL_SSL"), "sasl.jaas.config", Secret.of("secret-jaas")));
        Properties p = KafkaClientConfig.producer(endpoint, new DeliveryConfig(Duration.ofSeconds(5), Duration.ofMillis(100),
                Duration.ofSeconds(1), Duration.ofMinutes(10), 100, 1_000_000), "client",
                new AddressGuard(AddressPolicy.allowing("0.0.0.0/0", "::/0"), "Kafka"));
        assertThat(p).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.jaas.config", "secret-jaas")
                .containsEntry("enable.idempotence", "true").containsEntry("bootstrap.servers", "broker:9093");
        assertThat(endpoint.toString()).doesNotContain("secret-jaas");
        KafkaEndpoint customer = new KafkaEndpoint("broker:9093", "dead", false, null, null,
                KafkaEndpoint.MessageFormat.RECORD, "none", Duration.ofMinutes(10));
        assertThat(endpoint.destinationId()).isNotEqualTo(customer.destinationId());
    }

    private static List<String> headers(ProducerRecord<byte[], byte[]> r) {
        return Arrays.stream(r.headers().toArray())
                .map((Header h) -> h.key() + "=" + new String(h.value(), StandardCharsets.UTF_8)).toList();
    }
}
