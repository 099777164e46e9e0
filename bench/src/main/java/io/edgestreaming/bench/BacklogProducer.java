package io.edgestreaming.bench;

import io.edgestreaming.testkit.TestKafka;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Writes a backlog to the raw topics before anything is measured: idempotent, acks=all, large batches. */
final class BacklogProducer implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final List<Future<?>> inFlight = new ArrayList<>();

    BacklogProducer(TestKafka kafka) {
        Map<String, Object> props = new HashMap<>(kafka.plainClientProps());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    void send(String topic, byte[] value) throws Exception {
        inFlight.add(producer.send(new ProducerRecord<>(topic, value)));
        if (inFlight.size() >= 10_000) {
            awaitInFlight();
        }
    }

    private void awaitInFlight() throws Exception {
        for (Future<?> f : inFlight) {
            f.get(60, TimeUnit.SECONDS);
        }
        inFlight.clear();
    }

    /** Waits until every event is written, then closes the producer. */
    @Override
    public void close() throws Exception {
        try {
            producer.flush();
            awaitInFlight();
        } finally {
            producer.close();
        }
    }
}
