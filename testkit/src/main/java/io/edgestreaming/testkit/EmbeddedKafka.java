package io.edgestreaming.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kafka.server.BrokerServer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka 4.2 cluster (KRaft, combined broker+controller) in this JVM, built from Kafka's own
 * test kit. Transactions work with one replica (the transaction log settings are lowered to 1), and
 * transaction.max.timeout.ms is raised to {@link #TRANSACTION_MAX_TIMEOUT}. Topics are NOT auto-created
 * (auto.create.topics.enable=false, so "topic does not exist" can be tested): call {@link #createTopic}.
 * Any default can be overridden with {@link #start(Map)} or {@link Builder#brokerProp}.
 *
 * <p>Always has a PLAINTEXT listener ({@link #bootstrapServers()}), used by the helpers of this class.
 * Optionally a second listener ({@link #secureBootstrapServers()}) with TLS (the {@link TestTls} certificate),
 * SASL/SCRAM users, or both: see {@link #builder()}.
 *
 * <p>{@link #stopBroker()} / {@link #startBroker()} take the broker down and bring it back on the same
 * PLAINTEXT port with its data, for "destination unreachable, then back" tests.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    /** Name of the optional TLS and/or SASL listener. */
    public static final String SECURE_LISTENER = "SECURE";

    /** Broker-side ceiling for a producer's transaction.timeout.ms (Kafka's default is 15 min). */
    public static final Duration TRANSACTION_MAX_TIMEOUT = Duration.ofHours(1);

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
                TestKitNodes nodes = new TestKitNodes.Builder()
                        .setCombined(true)
                        .setNumBrokerNodes(1)
                        .setNumControllerNodes(1)
                        .setBootstrapMetadataVersion(MetadataVersion.latestProduction())
                        .build();
                KafkaClusterTestKit.Builder kit = new KafkaClusterTestKit.Builder(nodes).setDeleteOnClose(true);
                Map<String, String> props = new LinkedHashMap<>();
                props.put("transaction.state.log.replication.factor", "1");
                props.put("transaction.state.log.min.isr", "1");
                props.put("offsets.topic.replication.factor", "1");
                props.put("offsets.topic.num.partitions", "1");
                props.put("transaction.state.log.num.partitions", "1");
                props.put("transaction.max.timeout.ms", Long.toString(TRANSACTION_MAX_TIMEOUT.toMillis()));
                props.put("group.initial.rebalance.delay.ms", "0");
                props.put("auto.create.topics.enable", "false");
                props.put("num.partitions", "1");
                if (secure != null) {
                    secureListenerProps(nodes, secure, props);
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
                LOG.info("Kafka broker ready at {} (secure listener: {}) in {} ms", kafka.bootstrapServers(),
                        secure, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
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

        private static void secureListenerProps(TestKitNodes nodes, SecurityProtocol secure,
                Map<String, String> props) {
            String broker = nodes.brokerListenerName().value();
            String controller = nodes.controllerListenerName().value();
            props.put("listeners", broker + "://localhost:0," + controller + "://localhost:0,"
                    + SECURE_LISTENER + "://localhost:0");
            props.put("listener.security.protocol.map", broker + ":" + nodes.brokerListenerProtocol().name + ","
                    + controller + ":" + nodes.controllerListenerProtocol().name + ","
                    + SECURE_LISTENER + ":" + secure.name);
            String prefix = "listener.name." + SECURE_LISTENER.toLowerCase(Locale.ROOT) + ".";
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

    /** host:port of the PLAINTEXT listener. */
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

    /** Creates a topic with one replica; returns once its leaders are known. */
    public void createTopic(String topic, int partitions) {
        createTopic(topic, partitions, Map.of());
    }

    /** Creates a topic with one replica and topic configs (e.g. max.message.bytes). */
    public void createTopic(String topic, int partitions, Map<String, String> topicConfigs) {
        try {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1).configs(topicConfigs)))
                    .all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topic " + topic + ": " + e, e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (KafkaConsumer<byte[], byte[]> consumer = newConsumer()) {
            while (true) {
                List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(5));
                if (infos != null && infos.size() == partitions && infos.stream().allMatch(p -> p.leader() != null)) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("topic " + topic + " has no leaders after 30 s");
                }
                sleep(100);
            }
        }
    }

    /** A new producer on the PLAINTEXT listener (acks=all, idempotent); the caller closes it. */
    public KafkaProducer<byte[], byte[]> producer() {
        Map<String, Object> props = new HashMap<>(plainClientProps());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Writes the values (no key) and waits until all are acknowledged. */
    public void send(String topic, Collection<byte[]> values) {
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            var futures = new ArrayList<java.util.concurrent.Future<?>>(values.size());
            for (byte[] value : values) {
                futures.add(producer.send(new ProducerRecord<>(topic, value)));
            }
            producer.flush();
            for (var f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot write to " + topic + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing to " + topic, e);
        }
    }

    /** Writes one record and waits until it is acknowledged. */
    public void send(String topic, byte[] key, byte[] value) {
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot write to " + topic + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing to " + topic, e);
        }
    }

    /**
     * Every committed record of the topic, from the beginning up to the last stable offset at the time of
     * the call (a read_committed consumer: aborted and open transactions are not returned).
     */
    public List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic, Duration timeout) {
        return readCommitted(topic, 0, timeout);
    }

    /**
     * Reads committed records from the beginning until at least {@code expected} arrived (or the timeout),
     * then drains up to the current last stable offset so that duplicates beyond {@code expected} show up.
     * Returns what was read; the caller asserts on the count.
     */
    public List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic, int expected, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = newConsumer()) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
            if (infos == null || infos.isEmpty()) {
                throw new IllegalArgumentException("topic " + topic + " does not exist");
            }
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : infos) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            // With read_committed, endOffsets is the last stable offset.
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(10));
            while (!reached(consumer, end) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    private static boolean reached(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey(), Duration.ofSeconds(10)) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** Client properties (bootstrap servers) of the PLAINTEXT listener. */
    public Map<String, Object> plainClientProps() {
        Map<String, Object> props = new HashMap<>();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return props;
    }

    /** The shared admin client on the PLAINTEXT listener (closed with this broker; do not close it). */
    public Admin admin() {
        return admin;
    }

    /**
     * Shuts the broker down (the controller keeps running): clients get connection refused until
     * {@link #startBroker()}. Committed data survives.
     */
    public synchronized void stopBroker() {
        if (!brokerStopped) {
            broker().shutdown();
            broker().awaitShutdown();
            brokerStopped = true;
            LOG.info("Kafka broker at {} stopped", bootstrapServers());
        }
    }

    /** Brings a stopped broker back on the same PLAINTEXT port and waits until it serves requests. */
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

    private KafkaConsumer<byte[], byte[]> newConsumer() {
        Properties props = new Properties();
        props.putAll(plainClientProps());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
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
