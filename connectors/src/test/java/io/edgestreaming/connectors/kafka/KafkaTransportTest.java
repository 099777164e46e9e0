package io.edgestreaming.connectors.kafka;

import static io.edgestreaming.connectors.Fixtures.block;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.config.Secret;
import io.edgestreaming.connectors.AddressGuard;
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
    private static final AddressGuard PUBLIC_HOSTS = new AddressGuard(AddressPolicy.PUBLIC_ONLY, "Kafka");

    private static KafkaEndpoint endpoint(boolean tls, KafkaEndpoint.Sasl sasl, String ca, KafkaEndpoint.MessageFormat format) {
        return new KafkaEndpoint("b1:9092,b2:9092", "events", tls, sasl, ca, format, "zstd", null);
    }

    @Test
    void writerStateRoundTrips() {
        WriterState state = new WriterState("kafka:b1:9092/events",
                new WriterState.Connection("b1:9092", "events", true, "/ca.pem", "PLAIN", "edge", 600_000),
                "edge-streaming-job-abcd-0", 0,
                List.of(new WriterState.PreparedTxn(12, "edge-streaming-job-abcd-0-3", 4711, (short) 3,
                        new WriterState.Anchor("events", 2, 991), List.of("1/a/0:ff", "1/a/1:ee"))),
                List.of("2/b/9:00"), List.of());
        assertThat(WriterState.fromBytes(state.toBytes())).isEqualTo(state);
        WriterState bare = new WriterState("d", null, "p-1", 1,
                List.of(new WriterState.PreparedTxn(1, "p-1-0", 1, (short) 0, null, List.of("a"))), List.of(), List.of());
        assertThat(WriterState.fromBytes(bare.toBytes())).isEqualTo(bare);
    }

    @Test
    void stateOfThePrePoolVersionIsStillRead() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.writeInt(1);
        out.writeUTF("kafka:b1:9092/events");
        out.writeUTF("edge-streaming-job-abcd-5-g3");
        out.writeLong(17);
        out.writeInt(1);
        out.writeUTF("edge-streaming-job-abcd-6-g0");
        out.writeLong(4);
        out.writeInt(1);
        out.writeLong(12);
        out.writeUTF("edge-streaming-job-abcd-5-g3-16");
        out.writeLong(4711);
        out.writeShort(3);
        out.writeInt(1);
        out.writeUTF("1/a/0:ff");
        out.writeInt(1);
        out.writeUTF("2/b/9:00");
        WriterState state = WriterState.fromBytes(bytes.toByteArray());
        assertThat(state.subtask()).isEqualTo(5);
        assertThat(state.connection()).isNull();
        assertThat(state.prepared()).containsExactly(new WriterState.PreparedTxn(12, "edge-streaming-job-abcd-5-g3-16", 4711, (short) 3,
                null, List.of("1/a/0:ff")));
        assertThat(state.committedKeys()).containsExactly("2/b/9:00");
        assertThat(state.legacyProbes()).containsExactly(new WriterState.Probe("edge-streaming-job-abcd-5-g3", 17),
                new WriterState.Probe("edge-streaming-job-abcd-6-g0", 4));
    }

    @Test
    void transactionalIdsComeFromASmallPoolWithOneOwnerPerOldSubtask() {
        String prefix = TransactionalIds.prefix("0a1b2c", "kafka:b1:9092/events", 5);
        assertThat(prefix).startsWith("edge-streaming-0a1b2c-").endsWith("-5");
        assertThat(TransactionalIds.slotOf(prefix, TransactionalIds.id(prefix, 3))).isEqualTo(3);
        assertThat(TransactionalIds.slotOf(prefix, TransactionalIds.id(prefix, TransactionalIds.POOL_SIZE))).isEqualTo(-1);
        assertThat(TransactionalIds.slotOf(prefix, "edge-streaming-other-1")).isEqualTo(-1);
        assertThat(TransactionalIds.ownerOf(5, 8)).isEqualTo(5);
        assertThat(TransactionalIds.ownerOf(5, 3)).isEqualTo(2);
        assertThat(TransactionalIds.ownerOf(5, 1)).isZero();
        assertThat(TransactionalIds.legacySubtaskOf("edge-streaming-0a1b2c-abcd0123-5-g42")).isEqualTo(5);
        assertThat(TransactionalIds.legacySubtaskOf("not-our-format")).isEqualTo(-1);
    }

    @Test
    void writerStateConcernsOnlyItsPreparedAndCommittedKeys() {
        WriterState state = new WriterState("d", null, "p-0", 0,
                List.of(new WriterState.PreparedTxn(1, "p-0-1", 1, (short) 0, null, List.of("a"))), List.of("b"), List.of());
        assertThat(state.concerns(java.util.Set.of("a", "x"))).isTrue();
        assertThat(state.concerns(java.util.Set.of("b"))).isTrue();
        assertThat(state.concerns(java.util.Set.of("x"))).isFalse();
        assertThat(state.concerns(java.util.Set.of())).isFalse();
    }

    @Test
    void aRemovedDestinationIsReachedAgainWithTheCredentialsOfAConfiguredEndpointOfTheSameUser() {
        KafkaEndpoint.Sasl sasl = new KafkaEndpoint.Sasl("SCRAM-SHA-256", "edge", Secret.of("pw"));
        WriterState.Connection gone = WriterState.Connection.of(new KafkaEndpoint("b1:9092", "old", true, sasl, null,
                KafkaEndpoint.MessageFormat.RECORD, "none", null));
        assertThat(gone.toString()).doesNotContain("pw");
        KafkaEndpoint sameUser = new KafkaEndpoint("b1:9092", "new", true, sasl, null, KafkaEndpoint.MessageFormat.BLOCK, "none", null);
        KafkaEndpoint otherUser = new KafkaEndpoint("b1:9092", "new", true, new KafkaEndpoint.Sasl("SCRAM-SHA-256", "x", Secret.of("q")),
                null, KafkaEndpoint.MessageFormat.BLOCK, "none", null);
        assertThat(gone.toEndpoint(List.of(otherUser))).isNull();
        KafkaEndpoint again = gone.toEndpoint(List.of(otherUser, sameUser));
        assertThat(again.sasl()).isEqualTo(sasl);
        assertThat(again.kafkaTopic()).isEqualTo("old");
        assertThat(WriterState.Connection.of(endpoint(false, null, null, KafkaEndpoint.MessageFormat.RECORD)).toEndpoint(List.of()))
                .isNotNull();
    }

    /**
     * The producer's buffer is the largest message the destination can write, not Kafka's 32 MiB default; and
     * never below max.request.size, or the producer would refuse a message the request size allows. Batches are
     * a quarter of it (up to 256 KiB): records of one block go in few requests, and four batches fit the buffer.
     */
    @Test
    void theProducersBufferIsBoundedByTheLargestBlockAndNeverRefusesOne() {
        KafkaEndpoint ep = endpoint(false, null, null, KafkaEndpoint.MessageFormat.BLOCK);
        Properties small = KafkaClientConfig.producer(ep, DELIVERY, "c", PUBLIC_HOSTS, 1_000_000);
        assertThat(small.getProperty("buffer.memory")).isEqualTo(Integer.toString(1_000_000 + KafkaClientConfig.MESSAGE_OVERHEAD));
        assertThat(small.getProperty("max.request.size")).isEqualTo(small.getProperty("buffer.memory"));
        assertThat(small.getProperty("batch.size")).as("a quarter of the buffer, at most 256 KiB")
                .isEqualTo(Integer.toString(256 << 10));
        Properties tiny = KafkaClientConfig.producer(ep, DELIVERY, "c", PUBLIC_HOSTS, 10_000);
        assertThat(tiny.getProperty("batch.size")).as("a quarter of a small buffer, never below Kafka's 16 KiB")
                .isEqualTo(Integer.toString((10_000 + KafkaClientConfig.MESSAGE_OVERHEAD) / 4));

        Properties huge = KafkaClientConfig.producer(ep, DELIVERY, "c", PUBLIC_HOSTS, Integer.MAX_VALUE);
        assertThat(huge.getProperty("buffer.memory")).isEqualTo(Integer.toString(KafkaClientConfig.MAX_REQUEST_SIZE));
        assertThat(huge.getProperty("max.request.size")).isEqualTo(huge.getProperty("buffer.memory"));

        Properties replay = KafkaClientConfig.producer(ep, DELIVERY, "c", PUBLIC_HOSTS);
        assertThat(replay.getProperty("buffer.memory")).isEqualTo(Integer.toString(KafkaClientConfig.MAX_REQUEST_SIZE));
        assertThat(replay.getProperty("max.request.size")).isEqualTo(replay.getProperty("buffer.memory"));
    }

    @Test
    void clientSettingsFollowTheEndpointAndBoundEveryWait() {
        Properties plain = KafkaClientConfig.producer(endpoint(false, null, null, KafkaEndpoint.MessageFormat.RECORD), DELIVERY, "c", PUBLIC_HOSTS);
        assertThat(plain.getProperty("security.protocol")).isEqualTo("PLAINTEXT");
        assertThat(plain.getProperty("transaction.timeout.ms")).isEqualTo("600000");
        assertThat(plain.getProperty("compression.type")).isEqualTo("zstd");
        assertThat(plain.getProperty("max.block.ms")).isEqualTo("20000");
        assertThat(plain.getProperty("enable.idempotence")).isEqualTo("true");

        Properties tls = KafkaClientConfig.producer(endpoint(true, null, "/etc/ca.pem", KafkaEndpoint.MessageFormat.RECORD), DELIVERY, "c", PUBLIC_HOSTS);
        assertThat(tls.getProperty("security.protocol")).isEqualTo("SSL");
        assertThat(tls.getProperty("ssl.truststore.type")).isEqualTo("PEM");
        assertThat(tls.getProperty("ssl.truststore.location")).isEqualTo("/etc/ca.pem");

        KafkaEndpoint.Sasl sasl = new KafkaEndpoint.Sasl("SCRAM-SHA-512", "u\"ser", Secret.of("p\"ass"));
        Properties scram = KafkaClientConfig.producer(endpoint(true, sasl, null, KafkaEndpoint.MessageFormat.RECORD), DELIVERY, "c", PUBLIC_HOSTS);
        assertThat(scram.getProperty("security.protocol")).isEqualTo("SASL_SSL");
        assertThat(scram.getProperty("sasl.mechanism")).isEqualTo("SCRAM-SHA-512");
        assertThat(scram.getProperty("sasl.jaas.config")).startsWith("org.apache.kafka.common.security.scram.ScramLoginModule required")
                .contains("username=\"u\\\"ser\"").contains("password=\"p\\\"ass\"");
        KafkaEndpoint.Sasl plainSasl = new KafkaEndpoint.Sasl("PLAIN", "u", Secret.of("p"));
        assertThat(KafkaClientConfig.producer(endpoint(false, plainSasl, null, KafkaEndpoint.MessageFormat.RECORD), DELIVERY, "c", PUBLIC_HOSTS)
                .getProperty("sasl.jaas.config")).startsWith("org.apache.kafka.common.security.plain.PlainLoginModule");
    }

    @Test
    void noClientIsConfiguredForABootstrapServerAtARefusedAddress() {
        KafkaEndpoint.Sasl sasl = new KafkaEndpoint.Sasl("PLAIN", "edge", Secret.of("sasl-password-never-shown"));
        KafkaEndpoint internal = new KafkaEndpoint("b1:9092,127.0.0.1:9093", "events", false, sasl, null,
                KafkaEndpoint.MessageFormat.RECORD, "none", null);
        for (java.util.function.Supplier<Properties> client : List.<java.util.function.Supplier<Properties>>of(
                () -> KafkaClientConfig.producer(internal, DELIVERY, "c", PUBLIC_HOSTS),
                () -> KafkaClientConfig.consumer(internal, DELIVERY, "c", PUBLIC_HOSTS),
                () -> KafkaClientConfig.admin(internal, DELIVERY, "c", PUBLIC_HOSTS))) {
            assertThatThrownBy(client::get).isInstanceOfSatisfying(BrokerAddressRefusedException.class, e -> {
                assertThat(e).hasMessage("bootstrap server 127.0.0.1:9093: address refused: host 127.0.0.1 is a loopback"
                        + " address; allow it in allowed_networks to use it");
                assertThat(KafkaErrors.reason(e, internal)).isEqualTo(e.getMessage());
            });
        }
        AddressGuard loopback = new AddressGuard(AddressPolicy.allowing("127.0.0.0/8"), "Kafka");
        assertThat(KafkaClientConfig.producer(internal, DELIVERY, "c", loopback).getProperty("bootstrap.servers"))
                .isEqualTo("b1:9092,127.0.0.1:9093");
    }

    @Test
    void recordFormatIsOneMessagePerRecordAndBlockFormatOnePerBlockAllWithHeaders() {
        Block b = block(7, "a.example.com", 3, 3);
        KafkaTransport transport = new KafkaTransport(DELIVERY, AddressPolicy.PUBLIC_ONLY);
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
    void separatorScanFindsEveryNewlineAtAnyOffsetAndNextToNonAscii() {
        java.util.Random random = new java.util.Random(11);
        byte[] alphabet = {'\n', 'a', '{', (byte) 0x8a, (byte) 0xc3, (byte) 0xff, 0x0b, 0x09, 0};
        for (int round = 0; round < 2000; round++) {
            byte[] bytes = new byte[random.nextInt(40)];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = alphabet[random.nextInt(random.nextBoolean() ? 2 : alphabet.length)];
            }
            int from = random.nextInt(bytes.length + 1);
            int expected = from;
            while (expected < bytes.length && bytes[expected] != '\n') {
                expected++;
            }
            assertThat(KafkaMessages.nextSeparator(bytes, from)).as("round %d", round).isEqualTo(expected);
        }
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
        String reason = KafkaErrors.reason(new SaslAuthenticationException("bad credentials s3cret!"), ep);
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
