package io.edgestreaming.bench;

import io.edgestreaming.testkit.TestKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The raw reader of one round: Kafka's own consumer (read_committed, from the earliest offsets, settings of Kafka's
 * ConsumerPerformance) reading the whole backlog of the raw topics, measured between its 10% and 90% marks.
 */
final class RawReader {
    private RawReader() {}

    record Result(long events, long bytes, double seconds, double rate, double mbPerSecond, double cpuPerM,
            double brokerCpuPerM) {}

    static Result read(TestKafka kafka, Probe probe, long n, String run) {
        Properties props = new Properties();
        props.putAll(kafka.plainClientProps());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-raw-" + run);
        // Kafka's ConsumerPerformance defaults: 2 MB socket buffer, 1 MB per partition and fetch, no CRC checks.
        props.put(ConsumerConfig.RECEIVE_BUFFER_CONFIG, 2 * 1024 * 1024);
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024 * 1024);
        props.put(ConsumerConfig.CHECK_CRCS_CONFIG, false);
        long count = 0;
        long bytes = 0;
        long bytes10 = 0;
        long bytes90 = 0;
        Probe.Snapshot s10 = null;
        Probe.Snapshot s90 = null;
        long start = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : List.of(EndToEndBench.HTTP_TOPIC, EndToEndBench.WAF_TOPIC)) {
                for (PartitionInfo p : consumer.partitionsFor(topic)) {
                    partitions.add(new TopicPartition(topic, p.partition()));
                }
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            while (count < n) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    count++;
                    bytes += r.value().length + (r.key() == null ? 0 : r.key().length);
                }
                if (s10 == null && count >= n / 10) {
                    s10 = probe.snapshot(count);
                    bytes10 = bytes;
                }
                if (s90 == null && count >= n * 9 / 10) {
                    s90 = probe.snapshot(count);
                    bytes90 = bytes;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the raw consumer read " + count + " of " + n + " in 10 minutes");
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double window = (s90.nanos() - s10.nanos()) / 1e9;
        long windowEvents = s90.events() - s10.events();
        return new Result(count, bytes, seconds, windowEvents / window, (bytes90 - bytes10) / 1e6 / window,
                Figures.cpuPerMillion(s90.processCpu() - s10.processCpu(), windowEvents),
                s10.brokerCpu() < 0 ? Double.NaN : Figures.cpuPerMillion(s90.brokerCpu() - s10.brokerCpu(), windowEvents));
    }
}
