package io.edgestreaming.testkit;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.KRaftVersion;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * How the kit's brokers are configured: the settings every single-node test broker gets (in-process or child
 * process), the bootstrap metadata a fresh cluster of this Kafka release is formatted with, and the properties of
 * {@link EmbeddedKafka}'s secure listener.
 */
final class BrokerSettings {
    private BrokerSettings() {}

    /**
     * What every test broker of the kit sets, in-process or child process: one node (internal topics with one
     * replica and partition), transactions up to {@link EmbeddedKafka#TRANSACTION_MAX_TIMEOUT}, no auto-created topics.
     */
    static Map<String, String> singleNodeDefaults() {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "1");
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "1");
        props.put("transaction.max.timeout.ms", Long.toString(EmbeddedKafka.TRANSACTION_MAX_TIMEOUT.toMillis()));
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("auto.create.topics.enable", "false");
        props.put("num.partitions", "1");
        return props;
    }

    /**
     * The bootstrap metadata {@code kafka-storage format} writes for a new cluster of this Kafka release
     * (Formatter.calculateEffectiveFeatureLevels): metadata.version at the newest production level, every
     * other production feature at its default level for that metadata.version, {@code overrides} winning;
     * each level checked with Kafka's own rules (known feature, production level, dependencies between
     * features). kraft.version is left out: it is no metadata record but a property of the quorum (0 with the
     * static voters that the test kit configures, as with a {@code controller.quorum.voters} cluster).
     *
     * <p>Kafka's {@code TestKitNodes.Builder.setBootstrapMetadataVersion} is not used: in 4.2 it keeps only the
     * metadata.version record and drops every other feature, which leaves transaction.version at 0.
     */
    static BootstrapMetadata freshClusterBootstrap(Map<String, Short> overrides) {
        MetadataVersion release = MetadataVersion.latestProduction();
        Map<String, Short> levels = new TreeMap<>();
        for (Map.Entry<String, Short> o : overrides.entrySet()) {
            if (o.getKey().equals(MetadataVersion.FEATURE_NAME) || o.getKey().equals(KRaftVersion.FEATURE_NAME)
                    || !Feature.PRODUCTION_FEATURE_NAMES.contains(o.getKey())) {
                throw new IllegalArgumentException("cannot format with feature " + o.getKey() + ": features are "
                        + Feature.PRODUCTION_FEATURE_NAMES.stream()
                                .filter(n -> !n.equals(KRaftVersion.FEATURE_NAME)).toList());
            }
            levels.put(o.getKey(), o.getValue());
        }
        levels.put(MetadataVersion.FEATURE_NAME, release.featureLevel());
        for (Feature feature : Feature.PRODUCTION_FEATURES) {
            if (!feature.featureName().equals(KRaftVersion.FEATURE_NAME)) {
                levels.putIfAbsent(feature.featureName(), feature.defaultLevel(release));
            }
        }
        for (Map.Entry<String, Short> level : levels.entrySet()) {
            if (!level.getKey().equals(MetadataVersion.FEATURE_NAME)) {
                // Throws IllegalArgumentException for a level that is unknown, not production-ready, or that
                // needs a higher level of another feature.
                Feature.validateVersion(Feature.featureFromName(level.getKey())
                        .fromFeatureLevel(level.getValue(), false), levels);
            }
        }
        return BootstrapMetadata.fromVersions(release, levels, "edge-streaming testkit (as kafka-storage format)");
    }

    static void secureListenerProps(TestKitNodes nodes, SecurityProtocol secure,
            Map<String, String> props) {
        String broker = nodes.brokerListenerName().value();
        String controller = nodes.controllerListenerName().value();
        props.put("listeners", broker + "://localhost:0," + controller + "://localhost:0,"
                + EmbeddedKafka.SECURE_LISTENER + "://localhost:0");
        props.put("listener.security.protocol.map", broker + ":" + nodes.brokerListenerProtocol().name + ","
                + controller + ":" + nodes.controllerListenerProtocol().name + ","
                + EmbeddedKafka.SECURE_LISTENER + ":" + secure.name);
        String prefix = "listener.name." + EmbeddedKafka.SECURE_LISTENER.toLowerCase(Locale.ROOT) + ".";
        if (secure == SecurityProtocol.SSL || secure == SecurityProtocol.SASL_SSL) {
            props.put(prefix + "ssl.keystore.type", "PKCS12");
            props.put(prefix + "ssl.keystore.location", TestTls.keyStore().toString());
            props.put(prefix + "ssl.keystore.password", TestTls.PASSWORD);
            props.put(prefix + "ssl.key.password", TestTls.PASSWORD);
        }
        if (secure == SecurityProtocol.SASL_SSL || secure == SecurityProtocol.SASL_PLAINTEXT) {
            props.put(prefix + "sasl.enabled.mechanisms", "SCRAM-SHA-256,SCRAM-SHA-512");
            String jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;";
            props.put(prefix + "scram-sha-256.sasl.jaas.config", jaas);
            props.put(prefix + "scram-sha-512.sasl.jaas.config", jaas);
        }
    }
}
