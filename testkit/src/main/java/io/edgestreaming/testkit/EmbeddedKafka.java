package io.edgestreaming.testkit;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kafka.server.BrokerServer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.server.common.Feature;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka 4.2 cluster (KRaft, combined broker+controller) in this JVM, built from Kafka's own
 * test kit. Transactions work with one replica (the transaction log settings are lowered to 1), and
 * transaction.max.timeout.ms is raised to {@link #TRANSACTION_MAX_TIMEOUT}. Topics are NOT auto-created
 * (auto.create.topics.enable=false, so "topic does not exist" can be tested): call {@link #createTopic}.
 * Any default can be overridden with {@link #start(Map)} or {@link Builder#brokerProp}.
 *
 * <p>Formatted as {@code kafka-storage format} formats a new 4.2 cluster: metadata.version and every other
 * feature at the level Kafka picks for the newest production release, so transaction.version 2 (KIP-890),
 * unless {@link Builder#transactionVersion(int)} (or {@link Builder#featureLevel}) says otherwise, e.g. 0 for a
 * cluster upgraded from 3.x, or the system property {@value #DEFAULT_TRANSACTION_VERSION_PROPERTY} changes the
 * default for a whole run. Unstable API and feature versions are off, as on a production broker (Kafka's test
 * kit turns them on). {@link #transactionVersion()} asks the running broker.
 *
 * <p>Always has a PLAINTEXT listener ({@link #bootstrapServers()}), used by the helpers of {@link TestKafka}.
 * Optionally a second listener ({@link #secureBootstrapServers()}) with TLS (the {@link TestTls} certificate),
 * SASL/SCRAM users, or both: see {@link #builder()}.
 *
 * <p>{@link #stopBroker()} / {@link #startBroker()} take the broker down and bring it back on the same
 * PLAINTEXT port with its data, for "destination unreachable, then back" tests.
 */
public final class EmbeddedKafka implements TestKafka {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    /** Name of the optional TLS and/or SASL listener. */
    public static final String SECURE_LISTENER = "SECURE";

    /** Broker-side ceiling for a producer's transaction.timeout.ms (Kafka's default is 15 min). */
    public static final Duration TRANSACTION_MAX_TIMEOUT = Duration.ofHours(1);

    /**
     * System property: the transaction.version of brokers whose builder sets none (default 2, a new cluster), so
     * that a whole test run can be repeated against upgraded clusters, e.g. {@code -Dedgestreaming.kafka.
     * transaction.version=0}. {@link Builder#transactionVersion(int)} (and so {@link KafkaBrokerKind}) wins.
     */
    public static final String DEFAULT_TRANSACTION_VERSION_PROPERTY = "edgestreaming.kafka.transaction.version";

    private final KafkaClusterTestKit cluster;
    private final SecurityProtocol secureProtocol; // null: no secure listener
    private final Admin admin;
    private boolean brokerStopped;
    private boolean closed;

    private EmbeddedKafka(KafkaClusterTestKit cluster, SecurityProtocol secureProtocol) {
        this.cluster = cluster;
        this.secureProtocol = secureProtocol;
        this.admin = Admin.create(plainClientProps());
    }

    /** A broker with the default settings (see {@link Builder}). */
    public static EmbeddedKafka start() {
        return builder().start();
    }

    /** A broker with extra broker properties on top of the defaults (they win over the defaults). */
    public static EmbeddedKafka start(Map<String, String> extraBrokerProps) {
        return builder().brokerProps(extraBrokerProps).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Configures the broker; {@link #start()} formats and starts it. */
    public static final class Builder {
        private final Map<String, String> brokerProps = new LinkedHashMap<>();
        private final Map<String, String> scramUsers = new LinkedHashMap<>();
        private final Map<String, Short> featureLevels = new TreeMap<>();
        private boolean tls;

        private Builder() {
        }

        public Builder brokerProp(String key, String value) {
            brokerProps.put(key, value);
            return this;
        }

        public Builder brokerProps(Map<String, String> props) {
            brokerProps.putAll(props);
            return this;
        }

        /**
         * The transaction.version the cluster is formatted with: 2 (the default, a new 4.x cluster: KIP-890,
         * the producer epoch is bumped at the end of every transaction), 1, or 0 (a cluster upgraded from 3.x
         * whose operator has not raised it: the classic transaction protocol).
         */
        public Builder transactionVersion(int level) {
            short latest = Feature.TRANSACTION_VERSION.latestProduction();
            if (level < 0 || level > latest) {
                throw new IllegalArgumentException("transaction.version " + level + " is not a production level of Kafka "
                        + AppInfoParser.getVersion() + " (0.." + latest + ")");
            }
            return featureLevel(TRANSACTION_VERSION_FEATURE, level);
        }

        /**
         * Formats the cluster with this level of a feature (as {@code kafka-storage format --feature name=level});
         * the others keep their defaults. Checked against Kafka's own rules when the broker starts.
         */
        public Builder featureLevel(String feature, int level) {
            featureLevels.put(feature, (short) level);
            return this;
        }

        /** Adds the {@link #SECURE_LISTENER} with TLS, presenting the {@link TestTls} localhost certificate. */
        public Builder tls() {
            this.tls = true;
            return this;
        }

        /**
         * Adds a SCRAM user (SCRAM-SHA-256 and SCRAM-SHA-512) and SASL on the {@link #SECURE_LISTENER}
         * (SASL_SSL together with {@link #tls()}, SASL_PLAINTEXT without).
         */
        public Builder scramUser(String user, String password) {
            scramUsers.put(user, password);
            return this;
        }

        public EmbeddedKafka start() {
            SecurityProtocol secure = null;
            if (tls && !scramUsers.isEmpty()) {
                secure = SecurityProtocol.SASL_SSL;
            } else if (tls) {
                secure = SecurityProtocol.SSL;
            } else if (!scramUsers.isEmpty()) {
                secure = SecurityProtocol.SASL_PLAINTEXT;
            }
            long startNanos = System.nanoTime();
            KafkaClusterTestKit cluster = null;
            try {
                Map<String, Short> features = new TreeMap<>(featureLevels);
                String defaultTv = System.getProperty(DEFAULT_TRANSACTION_VERSION_PROPERTY, "").trim();
                if (!defaultTv.isEmpty() && !features.containsKey(TRANSACTION_VERSION_FEATURE)) {
                    features.put(TRANSACTION_VERSION_FEATURE, Short.parseShort(defaultTv));
                }
                TestKitNodes nodes = new TestKitNodes.Builder(BrokerSettings.freshClusterBootstrap(features))
                        .setCombined(true)
                        .setNumBrokerNodes(1)
                        .setNumControllerNodes(1)
                        .build();
                KafkaClusterTestKit.Builder kit = new KafkaClusterTestKit.Builder(nodes).setDeleteOnClose(true);
                Map<String, String> props = new LinkedHashMap<>(BrokerSettings.singleNodeDefaults());
                // A production broker neither offers nor accepts unstable versions; Kafka's test kit enables both.
                props.put("unstable.api.versions.enable", "false");
                props.put("unstable.feature.versions.enable", "false");
                if (secure != null) {
                    BrokerSettings.secureListenerProps(nodes, secure, props);
                }
                props.putAll(brokerProps);
                props.forEach(kit::setConfigProp);
                cluster = kit.build();
                cluster.format();
                cluster.startup();
                cluster.waitForReadyBrokers();
                EmbeddedKafka kafka = new EmbeddedKafka(cluster, secure);
                kafka.awaitReachable();
                for (Map.Entry<String, String> user : scramUsers.entrySet()) {
                    kafka.addScramUser(user.getKey(), user.getValue());
                }
                if (LOG.isInfoEnabled()) { // describe() asks the broker
                    LOG.info("{} ready (secure listener: {}) in {} ms", kafka.describe(), secure,
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
                }
                return kafka;
            } catch (Exception e) {
                if (cluster != null) {
                    try {
                        cluster.close();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                throw new IllegalStateException("embedded Kafka broker failed to start: " + e, e);
            }
        }
    }

    /** host:port of the PLAINTEXT listener. */
    @Override
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** The secure listener's protocol (SSL, SASL_SSL or SASL_PLAINTEXT). */
    public SecurityProtocol secureProtocol() {
        requireSecureListener();
        return secureProtocol;
    }

    /** localhost:port of the {@link #SECURE_LISTENER}. The port changes if the broker is restarted. */
    public String secureBootstrapServers() {
        requireSecureListener();
        return "localhost:" + broker().boundPort(new ListenerName(SECURE_LISTENER));
    }

    /**
     * Client properties for the secure listener: bootstrap servers, security protocol, trust of the
     * {@link TestTls} CA (when TLS), and SCRAM login (when SASL; {@code user} and {@code password} may be
     * null for a TLS-only listener).
     */
    public Map<String, Object> secureClientProps(String user, String password, String scramMechanism) {
        requireSecureListener();
        Map<String, Object> props = new HashMap<>();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, secureBootstrapServers());
        props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, secureProtocol.name);
        if (secureProtocol == SecurityProtocol.SSL || secureProtocol == SecurityProtocol.SASL_SSL) {
            props.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
            props.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, TestTls.trustStore().toString());
            props.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, TestTls.PASSWORD);
        }
        if (secureProtocol == SecurityProtocol.SASL_SSL || secureProtocol == SecurityProtocol.SASL_PLAINTEXT) {
            props.put(SaslConfigs.SASL_MECHANISM, scramMechanism);
            props.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.scram.ScramLoginModule "
                    + "required username=\"" + user + "\" password=\"" + password + "\";");
        }
        return props;
    }

    /** Creates (or replaces the password of) a SCRAM-SHA-256 and SCRAM-SHA-512 user; returns once usable. */
    public void addScramUser(String user, String password) {
        try {
            // One alteration per user and request: the two mechanisms go in two requests.
            for (ScramMechanism mechanism : List.of(ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)) {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(user,
                                new ScramCredentialInfo(mechanism, 4096), password)))
                        .all().get(30, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot create SCRAM user " + user + ": " + e, e);
        }
        // The credential reaches the broker's metadata cache asynchronously: log in until it works.
        if (secureProtocol == SecurityProtocol.SASL_SSL || secureProtocol == SecurityProtocol.SASL_PLAINTEXT) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (String mechanism : List.of("SCRAM-SHA-256", "SCRAM-SHA-512")) {
                while (true) {
                    Map<String, Object> props = secureClientProps(user, password, mechanism);
                    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
                    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
                    try (Admin probe = Admin.create(props)) {
                        probe.describeCluster().clusterId().get(10, TimeUnit.SECONDS);
                        break;
                    } catch (Exception e) {
                        if (System.nanoTime() > deadline) {
                            throw new IllegalStateException("SCRAM user " + user + " cannot log in: " + e, e);
                        }
                        sleep(200);
                    }
                }
            }
        }
    }

    /** Client properties (bootstrap servers) of the PLAINTEXT listener. */
    @Override
    public Map<String, Object> plainClientProps() {
        Map<String, Object> props = new HashMap<>();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return props;
    }

    /** The shared admin client on the PLAINTEXT listener (closed with this broker; do not close it). */
    @Override
    public Admin admin() {
        return admin;
    }

    /** The release of Kafka's jars on this class path, which the broker runs on (4.2.0). */
    @Override
    public String kafkaVersion() {
        return AppInfoParser.getVersion();
    }

    @Override
    public String describe() {
        return "Kafka " + kafkaVersion() + " in-process (transaction.version " + transactionVersion() + ") at "
                + bootstrapServers();
    }

    /**
     * Shuts the broker down (the controller keeps running): clients get connection refused until
     * {@link #startBroker()}. Committed data survives.
     */
    @Override
    public synchronized void stopBroker() {
        if (!brokerStopped) {
            broker().shutdown();
            broker().awaitShutdown();
            brokerStopped = true;
            LOG.info("Kafka broker at {} stopped", bootstrapServers());
        }
    }

    /** Brings a stopped broker back on the same PLAINTEXT port and waits until it serves requests. */
    @Override
    public synchronized void startBroker() {
        if (brokerStopped) {
            broker().startup();
            try {
                cluster.waitForReadyBrokers();
            } catch (ExecutionException e) {
                throw new IllegalStateException("broker did not come back: " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while restarting the broker", e);
            }
            awaitReachable();
            brokerStopped = false;
            LOG.info("Kafka broker at {} started again", bootstrapServers());
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        admin.close(Duration.ofSeconds(5));
        try {
            cluster.close();
        } catch (Exception e) {
            LOG.warn("Kafka test cluster did not close cleanly", e);
        }
    }

    private void awaitReachable() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                admin.describeCluster().nodes().get(10, TimeUnit.SECONDS);
                admin.listTopics().names().get(10, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("broker at " + bootstrapServers() + " not reachable: " + e, e);
                }
                sleep(100);
            }
        }
    }

    private BrokerServer broker() {
        return cluster.brokers().values().iterator().next();
    }

    private void requireSecureListener() {
        if (secureProtocol == null) {
            throw new IllegalStateException("this broker has no secure listener: build it with "
                    + "EmbeddedKafka.builder().tls() and/or .scramUser(..)");
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
