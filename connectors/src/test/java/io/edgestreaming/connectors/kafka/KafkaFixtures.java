package io.edgestreaming.connectors.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.testkit.EmbeddedKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Endpoints, expected messages and readers for the Kafka transport tests. */
final class KafkaFixtures {
    private KafkaFixtures() {}

    static KafkaEndpoint endpoint(EmbeddedKafka kafka, String topic, KafkaEndpoint.MessageFormat format, String compression) {
        return new KafkaEndpoint(kafka.bootstrapServers(), topic, false, null, null, format, compression, Duration.ofMinutes(10));
    }

    /** "key|value|stream_id|block_id|data_source" of each message, in topic order. */
    static List<String> read(EmbeddedKafka kafka, String topic, int expected) {
        List<String> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted(topic, expected, Duration.ofSeconds(60))) {
            out.add(describe(r));
        }
        return out;
    }

    /** What a read_committed consumer sees right now (an open transaction hides what follows it). */
    static List<String> readNow(EmbeddedKafka kafka, String topic) {
        List<String> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted(topic, Duration.ofSeconds(5))) {
            out.add(describe(r));
        }
        return out;
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

    static List<JsonNode> manifests(Path dir) throws Exception {
        ObjectMapper json = new ObjectMapper();
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.toString().endsWith(".manifest.json")).map(p -> {
                try {
                    return json.readTree(p.toFile());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }).toList();
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? "<none>" : str(h.value());
    }

    private static String str(byte[] b) {
        return b == null ? "<null>" : new String(b, StandardCharsets.UTF_8);
    }
}
