package io.edgestreaming.bench;

import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.HttpReceiver;
import io.edgestreaming.testkit.TestKafka;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Reads what the endpoints hold after a run and fingerprints every record: HTTP (the distinct Idempotency-Key
 * blocks the receiver accepted, split by the stream's separator), Kafka (read_committed, one record per message or
 * a block per message), S3 (every object under the stream's prefix, gunzipped when gzip).
 */
final class Outputs {
    private Outputs() {}

    /** What one stream's endpoint held. */
    record Held(LongBag records, int units, long bytes) {}

    static Held read(Streams.Spec s, String run, HttpReceiver receiver, TestKafka kafka, EmbeddedS3 s3, String bucket) {
        LongBag bag = new LongBag();
        int[] units = {0};
        long[] bytes = {0};
        switch (s.kind()) {
            case HTTP -> {
                boolean array = s.endpoint().contains("[$dataset]");
                for (HttpReceiver.Request r : receiver.deliveredBlocks()) {
                    if (!r.path().equals(s.httpPath(run))) {
                        continue;
                    }
                    units[0]++;
                    bytes[0] += r.body().length;
                    if (array) {
                        splitJsonArray(r.decodedBody(), bag);
                    } else {
                        splitLines(r.decodedBody(), bag);
                    }
                }
            }
            case KAFKA -> {
                boolean block = s.endpoint().contains("message_format: block");
                forEachCommitted(kafka, s.topic(run), m -> {
                    units[0]++;
                    bytes[0] += m.value().length;
                    if (block) {
                        splitLines(m.value(), bag);
                    } else {
                        bag.add(LongBag.fingerprint(m.value()));
                    }
                });
            }
            case S3 -> {
                String prefix = s.prefix(run);
                for (String key : s3.listKeysSettled(bucket)) {
                    if (!key.startsWith(prefix + "_") && !key.startsWith(prefix + "/")) {
                        continue;
                    }
                    byte[] object = s3.get(bucket, key);
                    units[0]++;
                    bytes[0] += object.length;
                    splitLines(s.endpoint().contains("application/gzip") ? gunzip(object) : object, bag);
                }
            }
        }
        return new Held(bag, units[0], bytes[0]);
    }

    /** Bytes of delivered output the receivers hold in this JVM's heap (bodies as received and decoded, objects). */
    static long heldInJvm(HttpReceiver receiver, EmbeddedS3 s3, Collection<String> buckets) {
        long total = 0;
        for (HttpReceiver.Request r : receiver.requests()) {
            total += r.body().length + (r.decodedBody() == r.body() ? 0 : r.decodedBody().length);
        }
        for (String bucket : buckets) {
            String token = null;
            do {
                String continuation = token;
                ListObjectsV2Response page = s3.client().listObjectsV2(b -> b.bucket(bucket).continuationToken(continuation));
                for (S3Object o : page.contents()) {
                    total += o.size();
                }
                token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
            } while (token != null);
        }
        return total;
    }

    /** Fingerprints of every committed message value of a topic. */
    static LongBag topic(TestKafka kafka, String topic) {
        LongBag bag = new LongBag();
        forEachCommitted(kafka, topic, m -> bag.add(LongBag.fingerprint(m.value())));
        return bag;
    }

    /** Records separated by newlines (a trailing newline adds no record; an empty line is an empty record). */
    static void splitLines(byte[] body, LongBag bag) {
        int length = body.length;
        if (length > 0 && body[length - 1] == '\n') {
            length--;
        }
        if (length == 0) {
            return;
        }
        int start = 0;
        for (int i = 0; i <= length; i++) {
            if (i == length || body[i] == '\n') {
                bag.add(LongBag.fingerprint(body, start, i - start));
                start = i + 1;
            }
        }
    }

    /** "[r1,r2,...]": the records are the top-level elements (commas inside strings or objects do not split). */
    static void splitJsonArray(byte[] body, LongBag bag) {
        int end = body.length - 1;
        while (end > 0 && body[end] != ']') {
            end--;
        }
        int start = 1;
        int depth = 0;
        boolean inString = false;
        for (int i = 1; i < end; i++) {
            byte b = body[i];
            if (inString) {
                if (b == '\\') {
                    i++;
                } else if (b == '"') {
                    inString = false;
                }
            } else if (b == '"') {
                inString = true;
            } else if (b == '{' || b == '[') {
                depth++;
            } else if (b == '}' || b == ']') {
                depth--;
            } else if (b == ',' && depth == 0) {
                bag.add(LongBag.fingerprint(body, start, i - start));
                start = i + 1;
            }
        }
        if (end > start) {
            bag.add(LongBag.fingerprint(body, start, end - start));
        }
    }

    static byte[] gunzip(byte[] bytes) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("an object that is not gzip", e);
        }
    }

    /** Every committed message of the topic, from the beginning to the last stable offset at the time of the call. */
    static void forEachCommitted(TestKafka kafka, String topic, Consumer<ConsumerRecord<byte[], byte[]>> each) {
        forEachCommitted(kafka, List.of(topic), each);
    }

    /** As above, of several topics read by one consumer (hundreds of topics, one metadata round trip). */
    static void forEachCommitted(TestKafka kafka, Collection<String> topics, Consumer<ConsumerRecord<byte[], byte[]>> each) {
        Properties props = new Properties();
        props.putAll(kafka.plainClientProps());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<PartitionInfo> infos = new ArrayList<>();
            for (String topic : topics) {
                infos.addAll(consumer.partitionsFor(topic, Duration.ofSeconds(10)));
            }
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : infos) {
                partitions.add(new TopicPartition(info.topic(), info.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions, Duration.ofSeconds(10)));
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (!end.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading " + topics + " did not reach " + end + " within 5 minutes");
                }
                consumer.poll(Duration.ofMillis(200)).forEach(each);
                end.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
            }
        }
    }
}
