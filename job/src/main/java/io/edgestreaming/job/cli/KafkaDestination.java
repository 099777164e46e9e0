package io.edgestreaming.job.cli;

import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.AddressGuard;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.kafka.BrokerAddressRefusedException;
import io.edgestreaming.connectors.kafka.KafkaClientConfig;
import io.edgestreaming.connectors.kafka.KafkaErrors;
import io.edgestreaming.connectors.kafka.KafkaMessages;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * One Kafka destination as the job reaches it (KafkaClientConfig: TLS, SASL, timeouts): its topic
 * checked with an admin client, blocks written with a transactional producer. Transactional ids keep
 * the job's prefix {@code edge-streaming-} (so the job's ACLs cover them) and are stable per destination,
 * so repeated runs do not pile up ids in the brokers' coordinator.
 */
final class KafkaDestination implements AutoCloseable {
    private static final String CLIENT_ID = "edge-streaming-cli";
    private final KafkaEndpoint endpoint;
    private final DeliveryConfig delivery;
    private final AddressGuard addresses;
    private final String transactionalId;
    private final long waitMillis;
    private long producerWaitMillis;
    private KafkaProducer<byte[], byte[]> producer;
    private int partitions;

    /**
     * @param role {@code check} or {@code replay}: part of the transactional id
     * @param scope what else makes the id unique (two checks of one destination run at the same time)
     */
    KafkaDestination(KafkaEndpoint endpoint, DeliveryConfig delivery, AddressGuard addresses, String role, String scope) {
        this.endpoint = endpoint;
        this.delivery = delivery;
        this.addresses = addresses;
        this.transactionalId = "edge-streaming-" + role + "-" + digest(endpoint.destinationId() + "|" + scope);
        this.waitMillis = Math.max(1000, Math.min(delivery.requestTimeout().toMillis(), 30_000));
        this.producerWaitMillis = waitMillis;
    }

    /** Caps how long the producer blocks (initTransactions and the like): what is left of a check's time. */
    void limitProducerWaits(long millis) {
        producerWaitMillis = Math.max(1000, Math.min(waitMillis, millis));
    }

    String transactionalId() {
        return transactionalId;
    }

    int partitions() {
        return partitions;
    }

    /** Null when the topic exists and this user may write to it; otherwise why not. */
    String topicProblem() throws InterruptedException {
        String topic = endpoint.kafkaTopic();
        Properties props;
        try {
            props = KafkaClientConfig.admin(endpoint, delivery, CLIENT_ID, addresses);
        } catch (BrokerAddressRefusedException e) {
            return e.getMessage();
        }
        Admin admin = Admin.create(props);
        try {
            DescribeTopicsOptions options = new DescribeTopicsOptions().includeAuthorizedOperations(true)
                    .timeoutMs((int) waitMillis);
            TopicDescription d = admin.describeTopics(List.of(topic), options).allTopicNames()
                    .get(waitMillis + 2000, TimeUnit.MILLISECONDS).get(topic);
            Set<AclOperation> allowed = d.authorizedOperations();
            // Without an authorizer the broker reports every operation; null: not reported at all.
            if (allowed != null && !allowed.isEmpty() && !allowed.contains(AclOperation.WRITE) && !allowed.contains(AclOperation.ALL)) {
                return "not authorised to Write topic " + topic + user() + " (ACL); allowed: " + allowed;
            }
            partitions = d.partitions().size();
            return null;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return "topic " + topic + " does not exist on " + endpoint.bootstrapServers() + " (the job never creates it)";
            }
            return KafkaErrors.reason(e.getCause(), endpoint);
        } catch (TimeoutException e) {
            return "timed out after " + waitMillis + " ms describing topic " + topic + " (cluster unreachable?)";
        } finally {
            admin.close(Duration.ofSeconds(2));
        }
    }

    /** Starts and aborts an empty transaction: the transactional id is accepted (ACL, TLS, SASL). */
    void beginAndAbort() {
        KafkaProducer<byte[], byte[]> p = producer();
        try {
            p.beginTransaction();
            p.abortTransaction();
        } catch (RuntimeException e) {
            discard();
            throw e;
        }
    }

    /** Writes the block's messages (as the job does: KafkaMessages) in one transaction of their own. */
    void write(StagedBlock block) throws Exception {
        KafkaProducer<byte[], byte[]> p = producer();
        try {
            p.beginTransaction();
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (ProducerRecord<byte[], byte[]> record : KafkaMessages.of(block, endpoint)) {
                acks.add(p.send(record));
            }
            p.commitTransaction();
            for (Future<RecordMetadata> ack : acks) {
                ack.get(waitMillis, TimeUnit.MILLISECONDS);
            }
        } catch (Exception e) {
            discard();
            throw e;
        }
    }

    private KafkaProducer<byte[], byte[]> producer() {
        if (producer == null) {
            Properties props = KafkaClientConfig.producer(endpoint, delivery, CLIENT_ID, addresses);
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
            props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(producerWaitMillis));
            KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props);
            try {
                p.initTransactions();
            } catch (RuntimeException e) {
                p.close(Duration.ZERO);
                throw e;
            }
            producer = p;
        }
        return producer;
    }

    /** After a failure: abort what is open (if the producer still can) and start afresh next time. */
    private void discard() {
        if (producer == null) {
            return;
        }
        try {
            producer.abortTransaction();
        } catch (RuntimeException ignored) {
            // Fenced, timed out or nothing open: closing is all that is left.
        }
        producer.close(Duration.ofSeconds(1));
        producer = null;
    }

    private String user() {
        return endpoint.sasl() == null ? "" : " as user " + endpoint.sasl().username();
    }

    @Override
    public void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(2));
            producer = null;
        }
    }

    private static String digest(String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
