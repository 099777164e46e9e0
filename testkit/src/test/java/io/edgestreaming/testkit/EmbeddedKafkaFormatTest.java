package io.edgestreaming.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.metadata.storage.Formatter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** EmbeddedKafka's bootstrap metadata against what Kafka's own formatter (kafka-storage format) writes. No broker. */
class EmbeddedKafkaFormatTest {

    /** What {@code kafka-storage format --cluster-id X --config server.properties [--feature name=level]} writes. */
    private static BootstrapMetadata kafkaStorageFormat(Path dir, Map<String, Short> features) throws Exception {
        Formatter formatter = new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setNodeId(1)
                .setClusterId(Uuid.randomUuid().toString())
                .addDirectory(dir.toString())
                .setControllerListenerName("CONTROLLER");
        features.forEach(formatter::setFeatureLevel);
        formatter.run();
        return formatter.bootstrapMetadata();
    }

    @Test
    void defaultsAreThoseOfANewCluster(@TempDir Path dir) throws Exception {
        BootstrapMetadata ours = BrokerSettings.freshClusterBootstrap(Map.of());
        assertThat(ours.records()).isEqualTo(kafkaStorageFormat(dir, Map.of()).records());
        assertThat(ours.featureLevel(TestKafka.TRANSACTION_VERSION_FEATURE)).isEqualTo((short) 2);
    }

    @Test
    void transactionVersionZeroIsThatOfAnUpgradedCluster(@TempDir Path dir) throws Exception {
        Map<String, Short> tv0 = Map.of(TestKafka.TRANSACTION_VERSION_FEATURE, (short) 0);
        BootstrapMetadata ours = BrokerSettings.freshClusterBootstrap(tv0);
        assertThat(ours.records()).isEqualTo(kafkaStorageFormat(dir, tv0).records());
        assertThat(ours.featureLevel(TestKafka.TRANSACTION_VERSION_FEATURE)).isEqualTo((short) 0);
    }

    @Test
    void refusesLevelsKafkaWouldRefuse() {
        assertThatThrownBy(() -> EmbeddedKafka.builder().transactionVersion(3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0..2");
        assertThatThrownBy(() -> BrokerSettings.freshClusterBootstrap(Map.of("no.such.version", (short) 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no.such.version");
        assertThatThrownBy(() -> BrokerSettings.freshClusterBootstrap(
                Map.of(TestKafka.TRANSACTION_VERSION_FEATURE, (short) 9)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
