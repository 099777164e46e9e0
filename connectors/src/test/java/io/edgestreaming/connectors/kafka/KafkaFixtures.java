package io.edgestreaming.connectors.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.testkit.TestKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Endpoints, expected messages and readers for the Kafka transport tests. */
final class KafkaFixtures {
    private KafkaFixtures() {}

    static KafkaEndpoint endpoint(TestKafka kafka, String topic, KafkaEndpoint.MessageFormat format, String compression) {
        return new KafkaEndpoint(kafka.bootstrapServers(), topic, false, null, null, format, compression, Duration.ofMinutes(10));
    }

    /** "key|value|stream_id|block_id|data_source" of each message, in topic order. */
    static List<String> read(TestKafka kafka, String topic, int expected) {
        List<String> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted(topic, expected, Duration.ofSeconds(60))) {
            out.add(describe(r));
        }
        return out;
    }

    /** What a read_committed consumer sees right now (an open transaction hides what follows it). */
    static List<String> readNow(TestKafka kafka, String topic) {
        List<String> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted(topic, Duration.ofSeconds(5))) {
            out.add(describe(r));
        }
        return out;
    }

    /** Whether no transaction is open on the topic: every partition's last stable offset is its high watermark. */
    static boolean stable(TestKafka kafka, String topic, int partitions) {
        try {
            java.util.Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new java.util.HashMap<>();
            for (int p = 0; p < partitions; p++) {
                latest.put(new org.apache.kafka.common.TopicPartition(topic, p), org.apache.kafka.clients.admin.OffsetSpec.latest());
            }
            var committed = kafka.admin().listOffsets(latest, new org.apache.kafka.clients.admin.ListOffsetsOptions(
                    org.apache.kafka.common.IsolationLevel.READ_COMMITTED)).all().get(10, java.util.concurrent.TimeUnit.SECONDS);
            var written = kafka.admin().listOffsets(latest, new org.apache.kafka.clients.admin.ListOffsetsOptions(
                    org.apache.kafka.common.IsolationLevel.READ_UNCOMMITTED)).all().get(10, java.util.concurrent.TimeUnit.SECONDS);
            for (var tp : latest.keySet()) {
                if (committed.get(tp).offset() != written.get(tp).offset()) {
                    return false;
                }
            }
            return true;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static String describe(ConsumerRecord<byte[], byte[]> r) {
        return str(r.key()) + "|" + str(r.value()) + "|" + header(r, KafkaMessages.STREAM_ID) + "|"
                + header(r, KafkaMessages.BLOCK_ID) + "|" + header(r, KafkaMessages.DATA_SOURCE);
    }

    /** The messages a block must become in record format. */
    static List<String> recordMessages(Block b) {
        List<String> out = new ArrayList<>();
        for (String record : new String(b.records(), StandardCharsets.US_ASCII).split("\n")) {
            out.add(b.domain() + "|" + record + "|" + b.streamId() + "|" + b.blockId() + "|" + b.dataSource().id());
        }
        return out;
    }

    /** The message a block must become in block format. */
    static String blockMessage(Block b) {
        return b.domain() + "|" + new String(b.records(), StandardCharsets.US_ASCII) + "|" + b.streamId() + "|"
                + b.blockId() + "|" + b.dataSource().id();
    }

    static List<JsonNode> manifests(Path dir) {
        return io.edgestreaming.connectors.Fixtures.manifests(dir);
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? "<none>" : str(h.value());
    }

    private static String str(byte[] b) {
        return b == null ? "<null>" : new String(b, StandardCharsets.UTF_8);
    }
}
