package io.edgestreaming.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.SupportedVersionRange;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.server.common.MetadataVersion;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every broker kind of the matrix, started for real: the transaction.version it reports, the release it runs,
 * and a transactional round trip whose epochs show which transaction protocol the broker really applies.
 */
class KafkaBrokerKindsITCase {

    private static final String TX_ID = "kinds-tx";

    static List<KafkaBrokerKind> kinds() {
        return KafkaBrokerKind.selected();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> values(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void reportsItsTransactionVersionAndReleaseAndKeepsOnlyCommittedRecords(KafkaBrokerKind kind) throws Exception {
        try (TestKafka kafka = kind.start()) {
            // transaction.version, as Admin.describeFeatures() reports it.
            assertThat(kafka.transactionVersion()).as(kafka.describe()).isEqualTo(kind.expectedTransactionVersion());
            FeatureMetadata features = kafka.admin().describeFeatures().featureMetadata().get(30, TimeUnit.SECONDS);
            if (kind.expectedTransactionVersion() == 0) {
                assertThat(features.finalizedFeatures()).doesNotContainKey(TestKafka.TRANSACTION_VERSION_FEATURE);
            } else {
                assertThat(features.finalizedFeatures().get(TestKafka.TRANSACTION_VERSION_FEATURE).maxVersionLevel())
                        .isEqualTo((short) kind.expectedTransactionVersion());
            }

            // The release: from the broker's own answers (the newest metadata.version it supports, which names
            // the release) and from what the kit says it runs.
            SupportedVersionRange metadataVersions = features.supportedFeatures().get(MetadataVersion.FEATURE_NAME);
            String newestMetadataVersion = MetadataVersion.fromFeatureLevel(metadataVersions.maxVersion()).version();
            if (kind == KafkaBrokerKind.KAFKA_3_9) {
                assertThat(kafka).isInstanceOf(ChildProcessKafka.class);
                assertThat(kafka.kafkaVersion()).isEqualTo("3.9.1");
                assertThat(((ChildProcessKafka) kafka).loggedKafkaVersion()).contains("3.9.1");
                assertThat(newestMetadataVersion).isEqualTo("3.9-IV0");
                // Kafka 3.9 does not know the feature at all.
                assertThat(features.supportedFeatures()).doesNotContainKey(TestKafka.TRANSACTION_VERSION_FEATURE);
            } else {
                assertThat(kafka).isInstanceOf(EmbeddedKafka.class);
                assertThat(kafka.kafkaVersion()).isEqualTo("4.2.0");
                assertThat(newestMetadataVersion).isEqualTo("4.2-IV1");
                assertThat(features.finalizedFeatures().get(MetadataVersion.FEATURE_NAME).maxVersionLevel())
                        .isEqualTo(MetadataVersion.latestProduction().featureLevel());
                assertThat(features.supportedFeatures().get(TestKafka.TRANSACTION_VERSION_FEATURE).maxVersion())
                        .isEqualTo((short) 2);
            }

            // One transaction of 3 records committed, one of 2 aborted: read_committed sees exactly the 3.
            kafka.createTopic("tx", 1);
            Map<String, Object> props = new HashMap<>(kafka.plainClientProps());
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, TX_ID);
            int epochBefore;
            try (KafkaProducer<byte[], byte[]> tx =
                    new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
                tx.initTransactions();
                epochBefore = describe(kafka).producerEpoch();
                tx.beginTransaction();
                for (String v : List.of("c1", "c2", "c3")) {
                    tx.send(new ProducerRecord<>("tx", bytes(v)));
                }
                tx.commitTransaction();
                tx.beginTransaction();
                for (String v : List.of("a1", "a2")) {
                    tx.send(new ProducerRecord<>("tx", bytes(v)));
                }
                tx.flush();
                tx.abortTransaction();
            }
            assertThat(values(kafka.readCommitted("tx", 3, Duration.ofSeconds(30))))
                    .containsExactly("c1", "c2", "c3");

            // What transaction.version changes: under 2 the coordinator bumps the producer epoch when a transaction
            // ends (commit and abort: +2); under 0 the epoch stays.
            TransactionDescription after = describe(kafka);
            assertThat(after.state()).isEqualTo(TransactionState.COMPLETE_ABORT);
            if (kind.expectedTransactionVersion() >= 2) {
                assertThat(after.producerEpoch()).as("epoch after a commit and an abort")
                        .isEqualTo(epochBefore + 2);
            } else {
                assertThat(after.producerEpoch()).as("epoch after a commit and an abort").isEqualTo(epochBefore);
            }
        }
    }

    private static TransactionDescription describe(TestKafka kafka) throws Exception {
        return kafka.admin().describeTransactions(List.of(TX_ID)).description(TX_ID).get(30, TimeUnit.SECONDS);
    }
}
