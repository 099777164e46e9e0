package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.StagedBlock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The Kafka messages of a block: one per record (key = domain) or one per block (records joined by
 * "\n", key = domain); the job's dead letters are framed otherwise ({@link DeadLetterMessages}). Every message carries the headers {@value #STREAM_ID}, {@value #BLOCK_ID} and
 * {@value #DATA_SOURCE}, so a consumer can group and trace what it reads.
 */
public final class KafkaMessages {
    public static final String STREAM_ID = "stream_id";
    public static final String BLOCK_ID = "block_id";
    public static final String DATA_SOURCE = "data_source";

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long SEPARATORS = ONES * Block.RECORD_SEPARATOR;

    private KafkaMessages() {}

    /** Public for the command-line tool's replay, which writes a block exactly as the job does. */
    public static List<ProducerRecord<byte[], byte[]>> of(StagedBlock block, KafkaEndpoint endpoint) {
        return of(block, block.payload(), endpoint);
    }

    /** With the payload given (read back from the engine's spool if the block has it there). */
    static List<ProducerRecord<byte[], byte[]>> of(StagedBlock block, byte[] payload, KafkaEndpoint endpoint) {
        if (endpoint.messageFormat() == KafkaEndpoint.MessageFormat.DEAD_LETTER) {
            return DeadLetterMessages.decode(payload, endpoint.kafkaTopic()); // exactly the messages of the old sink
        }
        byte[] key = block.domain().getBytes(StandardCharsets.UTF_8);
        // One instance for all messages of the block: ProducerRecord copies its headers anyway, and from a
        // RecordHeaders that is one list copy instead of an iteration.
        RecordHeaders headers = new RecordHeaders(new Header[] {
                new RecordHeader(STREAM_ID, Long.toString(block.streamId()).getBytes(StandardCharsets.US_ASCII)),
                new RecordHeader(BLOCK_ID, block.blockId().getBytes(StandardCharsets.UTF_8)),
                new RecordHeader(DATA_SOURCE, block.dataSource().id().getBytes(StandardCharsets.US_ASCII))
        });
        String topic = endpoint.kafkaTopic();
        if (endpoint.messageFormat() == KafkaEndpoint.MessageFormat.BLOCK) {
            return List.of(new ProducerRecord<>(topic, null, key, payload, headers));
        }
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(block.recordCount());
        // Each value is a copy: the producer's serializer must hand over a byte[] of exactly the record.
        for (int start = 0; start <= payload.length; ) {
            int end = nextSeparator(payload, start);
            if (end > start) {
                records.add(new ProducerRecord<>(topic, null, key, Arrays.copyOfRange(payload, start, end), headers));
            }
            start = end + 1;
        }
        return records;
    }

    /**
     * The index of the first record separator at or after {@code from}, or {@code bytes.length}. Eight bytes
     * per step (the byte-by-byte scan was most of this class's time): {@code (x - ONES) & ~x & HIGHS} marks
     * the zero bytes of {@code x}, exactly for the lowest one, which is all that is used.
     */
    static int nextSeparator(byte[] bytes, int from) {
        int i = from;
        for (int last = bytes.length - Long.BYTES; i <= last; i += Long.BYTES) {
            long x = (long) LONGS.get(bytes, i) ^ SEPARATORS;
            long zeros = (x - ONES) & ~x & HIGHS;
            if (zeros != 0) {
                return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
            }
        }
        for (; i < bytes.length; i++) {
            if (bytes[i] == Block.RECORD_SEPARATOR) {
                return i;
            }
        }
        return bytes.length;
    }
}
