package io.edgestreaming.templates;

import java.util.Arrays;

/**
 * One raw event after {@link EventParser#parse}: for each variable of its data source, whether the event
 * held a (non-null) value and that value already escaped as the ASCII body of a JSON string, ready to be
 * copied into output records.
 *
 * <p>Owned by its parser and REUSED: the next {@code parse} call of the same parser (successful or not)
 * overwrites it. Project it, read what you need, then let go; never keep it across parse calls. It may
 * point into the raw event's byte array, so do not modify that array while using the result.
 */
public final class ParsedEvent {
    private static final int SHRINK_ABOVE = 1 << 20;

    private final DataSource dataSource;
    private final VariableIndex index;
    /** Escaped values of this event, back to back. */
    private byte[] buffer = new byte[4096];
    private int used;
    /** The raw event: plain-ASCII values are referenced in place. */
    private byte[] input;
    /**
     * Per slot: whether the value lies in {@link #input} rather than {@link #buffer}. A boolean, not a
     * byte[] reference per slot, because reference stores pay a GC write barrier on every field.
     */
    private final boolean[] inInput;
    private final int[] offsets;
    /** Escaped length per slot, or -1 when absent or null. Valid only where seen[slot] == generation. */
    private final int[] lengths;
    private final int[] seen;
    private int generation;
    private String client;
    private String host;
    private boolean routingDecoded;

    ParsedEvent(DataSource dataSource) {
        this.dataSource = dataSource;
        this.index = VariableIndex.of(dataSource);
        this.inInput = new boolean[index.size()];
        this.offsets = new int[index.size()];
        this.lengths = new int[index.size()];
        this.seen = new int[index.size()];
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** The customer id ({@code $client}), or null when absent or JSON null. */
    public String client() {
        decodeRouting();
        return client;
    }

    /** The request's Host ({@code $host}), or null when absent or JSON null. */
    public String host() {
        decodeRouting();
        return host;
    }

    /** Whether the event holds a non-null value for {@code variable} (name without {@code $}). */
    public boolean has(String variable) {
        int slot = index.slot(variable);
        return slot >= 0 && lengthOf(slot) >= 0;
    }

    /**
     * The value of {@code variable} as text (strings unescaped, numbers as written, true/false, objects and
     * arrays as compact JSON), or null when absent, JSON null, or not a variable of this data source.
     * Decodes on every call: for routing and tests, not for the projection.
     */
    public String value(String variable) {
        int slot = index.slot(variable);
        if (slot < 0) {
            return null;
        }
        int len = lengthOf(slot);
        return len < 0 ? null : JsonAscii.unescape(sourceOf(slot), offsets[slot], len);
    }

    // ---- used by EventParser and CompiledTemplate

    void reset(byte[] raw) {
        input = raw;
        generation++;
        if (generation == 0) { // wrapped after 2^32 events: start over so no stale stamp matches
            Arrays.fill(seen, 0);
            generation = 1;
        }
        used = 0;
        if (buffer.length > SHRINK_ABOVE) { // one huge event must not pin megabytes for good
            buffer = new byte[4096];
        }
        routingDecoded = false;
        client = null;
        host = null;
    }

    boolean seen(int slot) {
        return seen[slot] == generation;
    }

    void putNull(int slot) {
        seen[slot] = generation;
        lengths[slot] = -1;
    }

    void put(int slot, char[] text, int offset, int length) {
        ensure(length * JsonAscii.MAX_BYTES_PER_CHAR);
        int end = JsonAscii.escape(text, offset, length, buffer, used);
        record(slot, end);
    }

    void put(int slot, CharSequence text) {
        ensure(text.length() * JsonAscii.MAX_BYTES_PER_CHAR);
        int end = JsonAscii.escape(text, buffer, used);
        record(slot, end);
    }

    /**
     * {@code input[off, off+len)} is already printable-ASCII JSON string content: reference it in place
     * (the raw event must stay unchanged while this event is used, which holds for the byte[] a Kafka
     * deserializer hands over).
     */
    void putInPlace(int slot, int off, int len) {
        seen[slot] = generation;
        inInput[slot] = true;
        offsets[slot] = off;
        lengths[slot] = len;
    }

    private void record(int slot, int end) {
        seen[slot] = generation;
        inInput[slot] = false; // offsets stay valid when the buffer grows: copyOf keeps earlier bytes
        offsets[slot] = used;
        lengths[slot] = end - used;
        used = end;
    }

    private void ensure(int extra) {
        if (buffer.length - used < extra) {
            buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, used + extra));
        }
    }

    /** Escaped length of the slot's value, -1 when absent. */
    int lengthOf(int slot) {
        return seen[slot] == generation ? lengths[slot] : -1;
    }

    int offsetOf(int slot) {
        return offsets[slot];
    }

    byte[] sourceOf(int slot) {
        return inInput[slot] ? input : buffer;
    }

    private void decodeRouting() {
        if (!routingDecoded) {
            client = value("client");
            host = value("host");
            routingDecoded = true;
        }
    }

    @Override
    public String toString() {
        int present = 0;
        for (int slot = 0; slot < seen.length; slot++) {
            if (lengthOf(slot) >= 0) {
                present++;
            }
        }
        return "ParsedEvent{" + dataSource.id() + ", " + present + " variables present}";
    }
}
