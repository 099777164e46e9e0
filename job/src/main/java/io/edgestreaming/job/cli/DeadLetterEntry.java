package io.edgestreaming.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * One dead-lettered block: its manifest (written by the job's DeadLetterStore) and where it lies.
 * {@code base} is its path in the store without suffix, {@code stream-<id>/<domain>/<sequence>-<key digest>}.
 */
record DeadLetterEntry(
        String base,
        String blockId,
        long streamId,
        String dataSource,
        String domain,
        long sequence,
        int recordCount,
        String endpointType,
        String destination,
        String reason,
        int attempts,
        Instant deadLetteredAt,
        String deliveryKey,
        String payloadFile,
        long payloadBytes,
        String contentEncoding,
        boolean replayed) {

    static final String PAYLOAD_SUFFIX = ".payload";
    static final String MANIFEST_SUFFIX = ".manifest.json";
    /** Written next to the manifest once a replay was accepted, so the block is not replayed twice by accident. */
    static final String REPLAYED_SUFFIX = ".replayed.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    static DeadLetterEntry parse(String base, byte[] manifest, boolean replayed) throws IOException {
        JsonNode m = JSON.readTree(manifest);
        if (m == null || !m.isObject() || !m.hasNonNull("delivery_key") || !m.hasNonNull("stream_id")) {
            throw new IOException("not a dead-letter manifest (no stream_id or delivery_key)");
        }
        String payloadFile = text(m, "payload_file");
        return new DeadLetterEntry(base, text(m, "block_id"), m.path("stream_id").asLong(), text(m, "data_source"),
                text(m, "domain"), m.path("sequence").asLong(), m.path("record_count").asInt(), text(m, "endpoint_type"),
                text(m, "destination"), text(m, "reason"), m.path("attempts").asInt(), time(m, "dead_lettered_at"),
                text(m, "delivery_key"), payloadFile, m.path("payload_bytes").asLong(-1),
                m.hasNonNull("content_encoding") ? text(m, "content_encoding") : "identity", replayed);
    }

    String manifestPath() {
        return base + MANIFEST_SUFFIX;
    }

    /** The payload next to the manifest (the manifest names it; the job always writes {@code <base>.payload}). */
    String payloadPath() {
        if (payloadFile == null || payloadFile.isEmpty() || payloadFile.contains("/")) {
            return base + PAYLOAD_SUFFIX;
        }
        int slash = base.lastIndexOf('/');
        return (slash < 0 ? "" : base.substring(0, slash + 1)) + payloadFile;
    }

    String markerPath() {
        return base + REPLAYED_SUFFIX;
    }

    boolean gzip() {
        return "gzip".equalsIgnoreCase(contentEncoding);
    }

    private static String text(JsonNode m, String field) {
        JsonNode n = m.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }

    private static Instant time(JsonNode m, String field) {
        String t = text(m, field);
        try {
            return t == null ? null : Instant.parse(t);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
