package io.edgestreaming.connectors;

import org.slf4j.MDC;

/**
 * Structured log fields (SLF4J MDC) around a log line: {@code stream_id}, {@code destination} (a
 * destination id, which holds no secret in clear) and {@code block_id}. Null values are left out.
 */
public final class LogFields implements AutoCloseable {
    public static final String STREAM_ID = "stream_id";
    public static final String DESTINATION = "destination";
    public static final String BLOCK_ID = "block_id";

    private static final LogFields NONE = new LogFields();

    private LogFields() {}

    /** Sets the fields until {@link #close()}. */
    public static LogFields of(Long streamId, String destination, String blockId) {
        put(STREAM_ID, streamId == null ? null : streamId.toString());
        put(DESTINATION, destination);
        put(BLOCK_ID, blockId);
        return NONE;
    }

    private static void put(String key, String value) {
        if (value != null) {
            MDC.put(key, value);
        }
    }

    @Override
    public void close() {
        MDC.remove(STREAM_ID);
        MDC.remove(DESTINATION);
        MDC.remove(BLOCK_ID);
    }
}
