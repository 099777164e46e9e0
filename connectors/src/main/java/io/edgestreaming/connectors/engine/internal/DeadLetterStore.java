package io.edgestreaming.connectors.engine.internal;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.edgestreaming.connectors.engine.StagedBlock;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Writes undeliverable blocks under {@code DeadLetterConfig.blocksPath} with Flink's FileSystem API
 * ({@code file://} locally, {@code s3://} in production). One entry per block:
 * {@code stream-<id>/<domain>/<sequence>-<key digest>.payload} (the exact bytes that would have been
 * sent) and, written after it, {@code ...manifest.json} (why, where, how often). Names are derived
 * from the block id and its delivery key, so writing the same block again (after a restore) overwrites
 * the same entry with the same bytes: the store is idempotent. A re-cut block with other content has
 * another key, hence another entry: nothing overwritten that differs.
 */
public final class DeadLetterStore {
    public static final String PAYLOAD_SUFFIX = ".payload";
    public static final String MANIFEST_SUFFIX = ".manifest.json";
    private static final JsonFactory JSON = new JsonFactory();

    private final Path root;

    public DeadLetterStore(String blocksPath) {
        this.root = new Path(blocksPath);
    }

    /** What the manifest says besides the block itself. {@code destination} must be redacted. */
    public record Entry(
            String endpointType,
            String destination,
            String reason,
            int attempts,
            long firstAttemptMillis,
            long lastAttemptMillis,
            long deadLetteredMillis) {}

    /** Where the payload comes from when it is not in memory. */
    interface PayloadSource {
        void copyTo(OutputStream out) throws IOException;
    }

    /** Writes payload then manifest; returns the manifest path. Blocking: not on the task thread. */
    public Path write(StagedBlock block, Entry entry) throws IOException {
        byte[] payload = block.payload();
        return write(block, entry, out -> out.write(payload));
    }

    /** The same, the payload streamed from {@code source} (a spooled block: never whole in the heap). */
    Path write(StagedBlock block, Entry entry, PayloadSource source) throws IOException {
        String base = baseName(block);
        Path payloadPath = new Path(root, base + PAYLOAD_SUFFIX);
        Path manifestPath = new Path(root, base + MANIFEST_SUFFIX);
        FileSystem fs = root.getFileSystem();
        try (OutputStream out = fs.create(payloadPath, FileSystem.WriteMode.OVERWRITE)) {
            source.copyTo(out);
        }
        try (OutputStream out = fs.create(manifestPath, FileSystem.WriteMode.OVERWRITE);
                JsonGenerator json = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            json.useDefaultPrettyPrinter();
            json.writeStartObject();
            json.writeStringField("block_id", block.blockId());
            json.writeNumberField("stream_id", block.streamId());
            json.writeStringField("data_source", block.dataSource().id());
            json.writeStringField("domain", block.domain());
            json.writeNumberField("sequence", block.sequence());
            json.writeNumberField("record_count", block.recordCount());
            json.writeStringField("endpoint_type", entry.endpointType());
            json.writeStringField("destination", entry.destination());
            json.writeStringField("reason", entry.reason());
            json.writeNumberField("attempts", entry.attempts());
            json.writeStringField("first_attempt", time(entry.firstAttemptMillis()));
            json.writeStringField("last_attempt", time(entry.lastAttemptMillis()));
            json.writeStringField("dead_lettered_at", time(entry.deadLetteredMillis()));
            json.writeStringField("delivery_key", block.deliveryKey());
            json.writeStringField("payload_file", payloadPath.getName());
            json.writeNumberField("payload_bytes", block.payloadLength());
            json.writeStringField("content_encoding", block.contentEncoding());
            json.writeEndObject();
        }
        return manifestPath;
    }

    /** The entry's path without suffix, relative to the store root. */
    static String baseName(StagedBlock block) {
        return "stream-" + block.streamId() + "/" + safe(block.domain()) + "/" + block.sequence() + "-"
                + digest(block.deliveryKey());
    }

    private static String time(long millis) {
        return millis <= 0 ? null : Instant.ofEpochMilli(millis).toString();
    }

    private static String safe(String domain) {
        StringBuilder sb = new StringBuilder(domain.length());
        for (int i = 0; i < domain.length(); i++) {
            char c = domain.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
            sb.append(ok ? c : '_');
        }
        return sb.length() == 0 || sb.charAt(0) == '.' ? "_" + sb : sb.toString();
    }

    private static String digest(String key) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
