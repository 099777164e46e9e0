package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.StagedBlock;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The Kafka messages of a block: one per record (key = domain) or one per block (records joined by
 * "\n", key = domain). Every message carries the headers {@value #STREAM_ID}, {@value #BLOCK_ID} and
 * {@value #DATA_SOURCE}, so a consumer can group and trace what it reads.
 */
public final class KafkaMessages {
    public static final String STREAM_ID = "stream_id";
    public static final String BLOCK_ID = "block_id";
    public static final String DATA_SOURCE = "data_source";

    private KafkaMessages() {}

    /** Public for the command-line tool's replay, which writes a block exactly as the job does. */
    public static List<ProducerRecord<byte[], byte[]>> of(StagedBlock block, KafkaEndpoint endpoint) {
        return of(block, block.payload(), endpoint);
    }

    /** With the payload given (read back from the engine's spool if the block has it there). */
    static List<ProducerRecord<byte[], byte[]>> of(StagedBlock block, byte[] payload, KafkaEndpoint endpoint) {
        byte[] key = block.domain().getBytes(StandardCharsets.UTF_8);
        Header[] headers = {
                new RecordHeader(STREAM_ID, Long.toString(block.streamId()).getBytes(StandardCharsets.US_ASCII)),
                new RecordHeader(BLOCK_ID, block.blockId().getBytes(StandardCharsets.UTF_8)),
                new RecordHeader(DATA_SOURCE, block.dataSource().id().getBytes(StandardCharsets.US_ASCII))
        };
        String topic = endpoint.kafkaTopic();
        if (endpoint.messageFormat() == KafkaEndpoint.MessageFormat.BLOCK) {
            return List.of(new ProducerRecord<>(topic, null, key, payload, Arrays.asList(headers)));
        }
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(block.recordCount());
        int start = 0;
        for (int i = 0; i <= payload.length; i++) {
            if (i == payload.length || payload[i] == Block.RECORD_SEPARATOR) {
                if (i > start) {
                    records.add(new ProducerRecord<>(topic, null, key, Arrays.copyOfRange(payload, start, i), Arrays.asList(headers)));
                }
                start = i + 1;
            }
        }
        return records;
    }
}
