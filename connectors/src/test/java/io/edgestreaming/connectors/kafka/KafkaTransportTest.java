package io.edgestreaming.connectors.kafka;

import static io.edgestreaming.connectors.Fixtures.block;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.config.Secret;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;

/** Pure parts of the Kafka transport: state encoding, client settings, messages, keys, reasons. */
class KafkaTransportTest {
    private static final DeliveryConfig DELIVERY = new DeliveryConfig(Duration.ofSeconds(20), Duration.ofMillis(100),
            Duration.ofSeconds(60), Duration.ofMinutes(10), 1000, 1L << 26);

    private static KafkaEndpoint endpoint(boolean tls, KafkaEndpoint.Sasl sasl, String ca, KafkaEndpoint.MessageFormat format) {
        return new KafkaEndpoint("b1:9092,b2:9092", "events", tls, sasl, ca, format, "zstd", null);
    }

    @Test
    void laneStateRoundTrips() {
        LaneState state = new LaneState("kafka:b1:9092/events", "edge-streaming-job-abcd-0-g3", 17,
                List.of(new LaneState.Probe("edge-streaming-job-abcd-1-g0", 4)),
                List.of(new LaneState.PreparedTxn(12, "edge-streaming-job-abcd-0-g3-16", 4711, (short) 3, List.of("1/a/0:ff", "1/a/1:ee"))),
                List.of("2/b/9:00"));
        assertThat(LaneState.fromBytes(state.toBytes())).isEqualTo(state);
    }

    @Test
    void eachRestoredLaneStateHasOneOwnerTheSameSubtaskWhenTheParallelismStays() {
        String prefix = "edge-streaming-0a1b2c-abcd0123-5-g42";
        assertThat(KafkaTransport.ownerOf(prefix, 8)).isEqualTo(5);
        assertThat(KafkaTransport.ownerOf(prefix, 3)).isEqualTo(2);
        assertThat(KafkaTransport.ownerOf(prefix, 1)).isZero();
        assertThat(KafkaTransport.ownerOf("not-our-format", 4)).isBetween(0, 3);
    }

    @Test
    void laneStateConcernsOnlyItsPreparedAndCommittedKeys() {
        LaneState state = new LaneState("d", "p-0-g1", 2, List.of(),
                List.of(new LaneState.PreparedTxn(1, "p-0-g1-1", 1, (short) 0, List.of("a"))), List.of("b"));
        assertThat(state.concerns(java.util.Set.of("a", "x"))).isTrue();
        assertThat(state.concerns(java.util.Set.of("b"))).isTrue();
        assertThat(state.concerns(java.util.Set.of("x"))).isFalse();
        assertThat(state.concerns(java.util.Set.of())).isFalse();
    }

    @Test
    void clientSettingsFollowTheEndpointAndBoundEveryWait() {
        Properties plain = KafkaClientConfig.producer(endpoint(false, null, null, KafkaEndpoint.MessageFormat.RECORD), DELIVERY, "c");
        assertThat(plain.getProperty("security.protocol")).isEqualTo("PLAINTEXT");
        assertThat(plain.getProperty("transaction.timeout.ms")).isEqualTo("600000");
        assertThat(plain.getProperty("compression.type")).isEqualTo("zstd");
        assertThat(plain.getProperty("max.block.ms")).isEqualTo("20000");
        assertThat(plain.getProperty("enable.idempotence")).isEqualTo("true");

        Properties tls = KafkaClientConfig.producer(endpoint(true, null, "/etc/ca.pem", KafkaEndpoint.MessageFormat.RECORD), DELIVERY, "c");
        assertThat(tls.getProperty("security.protocol")).isEqualTo("SSL");
        assertThat(tls.getProperty("ssl.truststore.type")).isEqualTo("PEM");
        assertThat(tls.getProperty("ssl.truststore.location")).isEqualTo("/etc/ca.pem");

        KafkaEndpoint.Sasl sasl = new KafkaEndpoint.Sasl("SCRAM-SHA-512", "u\"ser", Secret.of("p\"ass"));
        Properties scram = KafkaClientConfig.producer(endpoint(true, sasl, null, KafkaEndpoint.MessageFormat.RECORD), DELIVERY, "c");
        assertThat(scram.getProperty("security.protocol")).isEqualTo("SASL_SSL");
        assertThat(scram.getProperty("sasl.mechanism")).isEqualTo("SCRAM-SHA-512");
        assertThat(scram.getProperty("sasl.jaas.config")).startsWith("org.apache.kafka.common.security.scram.ScramLoginModule required")
                .contains("username=\"u\\\"ser\"").contains("password=\"p\\\"ass\"");
        KafkaEndpoint.Sasl plainSasl = new KafkaEndpoint.Sasl("PLAIN", "u", Secret.of("p"));
        assertThat(KafkaClientConfig.producer(endpoint(false, plainSasl, null, KafkaEndpoint.MessageFormat.RECORD), DELIVERY, "c")
                .getProperty("sasl.jaas.config")).startsWith("org.apache.kafka.common.security.plain.PlainLoginModule");
    }

    @Test
    void recordFormatIsOneMessagePerRecordAndBlockFormatOnePerBlockAllWithHeaders() {
        Block b = block(7, "a.example.com", 3, 3);
        KafkaTransport transport = new KafkaTransport(DELIVERY);
        KafkaEndpoint records = endpoint(false, null, null, KafkaEndpoint.MessageFormat.RECORD);
        Prepared prepared = transport.prepare(b, records);
        assertThat(prepared.deliveryKey()).startsWith("7/a.example.com/3:");
        StagedBlock staged = new StagedBlock(7, b.dataSource(), b.domain(), 3, 3, records.destinationId(), prepared.payload(),
                prepared.deliveryKey(), prepared.contentEncoding());

        List<ProducerRecord<byte[], byte[]>> perRecord = KafkaMessages.of(staged, records);
        assertThat(perRecord).hasSize(3);
        assertThat(perRecord).allSatisfy(r -> {
            assertThat(r.topic()).isEqualTo("events");
            assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("a.example.com");
            assertThat(new String(r.headers().lastHeader("stream_id").value(), StandardCharsets.UTF_8)).isEqualTo("7");
            assertThat(new String(r.headers().lastHeader("block_id").value(), StandardCharsets.UTF_8)).isEqualTo("7/a.example.com/3");
            assertThat(new String(r.headers().lastHeader("data_source").value(), StandardCharsets.UTF_8)).isEqualTo("http");
        });
        assertThat(new String(perRecord.get(2).value(), StandardCharsets.US_ASCII)).isEqualTo("{\"stream\":\"7\",\"seq\":\"3\",\"i\":\"2\"}");

        List<ProducerRecord<byte[], byte[]>> perBlock = KafkaMessages.of(staged, endpoint(false, null, null, KafkaEndpoint.MessageFormat.BLOCK));
        assertThat(perBlock).hasSize(1);
        assertThat(perBlock.get(0).value()).isEqualTo(b.records());
        transport.close();
    }

    @Test
    void deliveryKeyJoinsBlockIdAndContent() {
        byte[] one = "x".getBytes(StandardCharsets.US_ASCII);
        byte[] two = "y".getBytes(StandardCharsets.US_ASCII);
        assertThat(KafkaTransport.deliveryKey("1/d/0", one)).isEqualTo(KafkaTransport.deliveryKey("1/d/0", one.clone()))
                .isNotEqualTo(KafkaTransport.deliveryKey("1/d/0", two));
    }

    @Test
    void reasonsNameTheProblemAndNeverThePassword() {
        KafkaEndpoint.Sasl sasl = new KafkaEndpoint.Sasl("SCRAM-SHA-256", "edge", Secret.of("s3cret!"));
        KafkaEndpoint ep = endpoint(true, sasl, null, KafkaEndpoint.MessageFormat.BLOCK);
        String reason = Lane.reason(new SaslAuthenticationException("bad credentials s3cret!"), ep);
        assertThat(reason).contains("authentication failed (SASL SCRAM-SHA-256, user edge)").doesNotContain("s3cret!");
        assertThat(ep.toString()).doesNotContain("s3cret!");
    }

    @Test
    void validationRefusesUnknownCompressionAndMechanism() {
        KafkaTransport.Factory factory = new KafkaTransport.Factory();
        assertThatThrownBy(() -> factory.validate(new KafkaEndpoint("b:1", "t", false, null, null,
                KafkaEndpoint.MessageFormat.RECORD, "brotli", null))).hasMessageContaining("compression");
        assertThatThrownBy(() -> factory.validate(new KafkaEndpoint("b:1", "t", false, new KafkaEndpoint.Sasl("GSSAPI", "u", Secret.of("p")),
                null, KafkaEndpoint.MessageFormat.RECORD, "none", null))).hasMessageContaining("sasl.mechanism");
    }
}
