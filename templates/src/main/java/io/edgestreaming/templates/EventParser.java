package io.edgestreaming.templates;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.io.SerializedString;
import io.edgestreaming.templates.MalformedEventException.Reason;
import java.io.IOException;

/**
 * Reads one raw event (a JSON object whose keys are variable names without {@code $}) in a single
 * streaming pass into a reusable {@link ParsedEvent}: no tree model, no per-event maps. A string value
 * that is printable ASCII is already in output form and is referenced in place in the raw bytes; other
 * values are escaped into one reusable byte buffer. Keys the data source does not have are skipped
 * (Jackson still checks their syntax and encoding).
 *
 * <p>Value rules: strings as their text, numbers as written, {@code true}/{@code false}, objects and
 * arrays as compact JSON text; {@code null} counts as absent.
 *
 * <p>Refused (as {@link MalformedEventException}): over {@code maxEventBytes}, not JSON, a root that is not
 * an object, content after the object, truncation, a key twice in one object (checked at the top level and
 * inside the nested values it renders; nested values of keys it skips are not inspected), nesting deeper
 * than {@link #MAX_NESTING_DEPTH}, and invalid UTF-8 (events must be UTF-8: every byte is checked against
 * RFC 3629, a UTF-16/32 document is refused up front). Invalid bytes are an error rather than
 * a silent replacement so that the dead-letter keeps the event exactly as it came.
 *
 * <p>Reusable but NOT thread-safe: one per operator instance. Each {@link #parse} reuses the same
 * {@link ParsedEvent}.
 */
public final class EventParser {
    /** Default bound on one raw event. */
    public static final int DEFAULT_MAX_EVENT_BYTES = 1 << 20;
    /** Objects/arrays nested deeper than this are refused (the event object itself is depth 1). */
    public static final int MAX_NESTING_DEPTH = 32;

    private final DataSource source;
    private final int maxEventBytes;
    private final JsonFactory factory;
    private final VariableIndex index;
    private final ParsedEvent event;
    private final NestedJson nested = new NestedJson();
    /** Each variable's name as Jackson matches it against the input's bytes; the same interned String as the index's. */
    private final SerializedString[] slotNames;
    /**
     * The key expected next: [0] the first, [slot + 1] the one after that slot's, learnt from the last event that
     * differed. Edge servers write their keys in one fixed order, so the next name is almost always compared as
     * bytes in place ({@link JsonParser#nextFieldName(com.fasterxml.jackson.core.SerializableString)}) instead
     * of being decoded, hashed and looked up twice (Jackson's name table, then {@link VariableIndex}): the parser's
     * largest cost in the job's profile. A wrong guess costs one comparison, then the usual path.
     */
    private final int[] expectedNext;
    /** Top-level keys that are not variables, for duplicate detection. */
    private final OtherKeys otherKeys = new OtherKeys();

    public EventParser(DataSource source, int maxEventBytes) {
        if (source == null) {
            throw new IllegalArgumentException("data source is required");
        }
        if (maxEventBytes <= 0) {
            throw new IllegalArgumentException("maxEventBytes must be positive, got " + maxEventBytes);
        }
        this.source = source;
        this.maxEventBytes = maxEventBytes;
        this.index = VariableIndex.of(source);
        this.event = new ParsedEvent(source);
        this.slotNames = new SerializedString[index.size()];
        this.expectedNext = new int[index.size() + 1];
        for (int slot = 0; slot < index.size(); slot++) {
            slotNames[slot] = new SerializedString(index.name(slot).intern());
            expectedNext[slot] = slot; // until learnt: the data source's own order
        }
        expectedNext[index.size()] = -1;
        this.factory = new EventJsonParser.Factory((com.fasterxml.jackson.core.JsonFactoryBuilder) JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_NESTING_DEPTH)
                        // The byte limit is the bound; let every token up to it through.
                        .maxStringLength(maxEventBytes)
                        .maxNumberLength(maxEventBytes)
                        .maxNameLength(maxEventBytes)
                        .build()));
    }

    public DataSource dataSource() {
        return source;
    }

    public int maxEventBytes() {
        return maxEventBytes;
    }

    /**
     * Parses {@code raw}. The result is reused by the next call.
     *
     * @throws MalformedEventException when the event cannot be projected; nothing of it is kept
     */
    public ParsedEvent parse(byte[] raw) throws MalformedEventException {
        if (raw == null) {
            throw new MalformedEventException(Reason.NOT_JSON, "event is null", -1);
        }
        if (raw.length > maxEventBytes) {
            throw new MalformedEventException(Reason.TOO_LARGE, "event of " + raw.length
                    + " bytes exceeds the limit of " + maxEventBytes + " bytes", -1);
        }
        Utf8Bytes.checkEncoding(raw);
        int invalid = Utf8Bytes.firstInvalidUtf8(raw);
        if (invalid < 0) {
            return read(raw, true);
        }
        // Jackson lets some ill-formed bytes through (overlong forms, code points above U+10FFFF, 0xFF in a
        // name it already knows: its name table pads with 0xFF, so "\xFFasn" reads as asn); found by fuzzing.
        // Its message names the key, so it goes first when it points into that byte's sequence (a UTF-8 sequence
        // is at most 4 bytes); what it lets through, or notices only later (a name it never decoded before), is
        // refused here at the byte itself.
        try {
            read(raw, false);
        } catch (MalformedEventException e) {
            if (e.reason() == Reason.INVALID_ENCODING && e.byteOffset() <= invalid + 3) {
                throw e;
            }
        }
        throw new MalformedEventException(Reason.INVALID_ENCODING, String.format(
                "event is not valid UTF-8: byte 0x%02x does not start a valid sequence", raw[invalid] & 0xFF), invalid);
    }

    private ParsedEvent read(byte[] raw, boolean predictKeys) throws MalformedEventException {
        event.reset(raw);
        otherKeys.nextEvent();
        JsonParser p = null;
        try {
            p = factory.createParser(raw);
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new MalformedEventException(Reason.NOT_JSON, "event holds no JSON value (empty or blank)", 0);
            }
            if (t != JsonToken.START_OBJECT) {
                throw new MalformedEventException(Reason.NOT_AN_OBJECT, "event must be a JSON object, got "
                        + ParseErrors.describe(t), ParseErrors.offset(p.currentTokenLocation()));
            }
            readFields(p, raw, predictKeys);
            if (p.currentToken() != JsonToken.END_OBJECT) {
                throw new MalformedEventException(Reason.NOT_JSON, "expected a key or the end of the object, got "
                        + ParseErrors.describe(p.currentToken()), ParseErrors.offset(p.currentTokenLocation()));
            }
            checkNothingAfter(p);
            return event;
        } catch (MalformedEventException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw ParseErrors.of(e, p);
        } finally {
            if (p != null) {
                try {
                    p.close();
                } catch (IOException ignored) {
                    // byte[] input: nothing to release that could fail
                }
            }
        }
    }

    /** The hot loop, kept small so it compiles well; rare cases live in their own methods. */
    private void readFields(JsonParser p, byte[] raw, boolean predictKeys) throws IOException, MalformedEventException {
        final VariableIndex index = this.index;
        final ParsedEvent event = this.event;
        final int[] next = this.expectedNext;
        int previous = 0;
        while (true) {
            int expected = predictKeys ? next[previous] : -1;
            String key;
            int slot;
            if (expected >= 0 && p.nextFieldName(slotNames[expected])) {
                slot = expected;
                key = slotNames[expected].getValue();
            } else {
                if (expected < 0) {
                    key = p.nextFieldName();
                } else {
                    key = p.currentToken() == JsonToken.FIELD_NAME ? p.currentName() : null;
                }
                if (key == null) {
                    break;
                }
                slot = index.slot(key);
                if (slot < 0) {
                    skipOther(key, p);
                    continue;
                }
                next[previous] = slot;
            }
            previous = slot + 1;
            if (event.seen(slot)) {
                throw ParseErrors.duplicate(key, p);
            }
            JsonToken t = p.nextToken();
            if (t == JsonToken.VALUE_STRING) {
                if (!copyPlainString(p, raw, slot)) {
                    event.put(slot, p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
                }
            } else {
                readOther(key, slot, t, p);
            }
        }
    }

    private void skipOther(String key, JsonParser p) throws IOException, MalformedEventException {
        otherKeys.add(key, p);
        JsonToken t = p.nextToken();
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
            // Not checked for duplicate keys: a skipped value never reaches a customer, and checking costs time.
            p.skipChildren();
        }
    }

    private void readOther(String key, int slot, JsonToken t, JsonParser p) throws IOException, MalformedEventException {
        switch (t) {
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE ->
                    event.put(slot, p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
            case VALUE_NULL -> event.putNull(slot);
            case START_OBJECT, START_ARRAY -> {
                event.put(slot, nested.render(p, t));
            }
            default -> throw new MalformedEventException(Reason.NOT_JSON,
                    "unexpected " + t + " for key " + Names.quote(key), ParseErrors.offset(p.currentTokenLocation()));
        }
    }

    /**
     * Fast path for the common string value: when its bytes in the event are printable ASCII with valid
     * escapes, they already are the escaped form we write, so reference them in place without decoding
     * and tell the parser where the string ends (it would otherwise scan it again). Anything else
     * (non-ASCII, control bytes, DEL, a broken escape, no closing quote) takes Jackson's decoding path,
     * which validates and reports.
     */
    private boolean copyPlainString(JsonParser p, byte[] raw, int slot) {
        if (!(p instanceof EventJsonParser parser)) {
            return false;
        }
        final int start = parser.pendingStringStart(); // first byte after the opening quote
        if (start <= 0 || start >= raw.length || raw[start - 1] != '"') {
            return false;
        }
        final int end = raw.length;
        int i = start;
        while (true) {
            if (i + 8 <= end) {
                // 8 bytes at a time; the lowest flagged byte is exactly the first one needing a look.
                long mask = Utf8Bytes.specialBytes(Utf8Bytes.word(raw, i));
                if (mask == 0) {
                    i += 8;
                    continue;
                }
                i += Long.numberOfTrailingZeros(mask) >>> 3;
            } else {
                if (i >= end) {
                    return false;
                }
                byte b = raw[i];
                if (b != '"' && b != '\\' && b >= 0x20 && b != 0x7F) {
                    i++;
                    continue;
                }
            }
            byte b = raw[i];
            if (b == '"') {
                event.putInPlace(slot, start, i - start);
                parser.finishStringAt(i);
                return true;
            }
            if (b != '\\') {
                return false; // non-ASCII, control byte or DEL: the decoding path escapes it
            }
            i = Utf8Bytes.validEscapeEnd(raw, i);
            if (i < 0) {
                return false; // let Jackson report it
            }
        }
    }

    private void checkNothingAfter(JsonParser p) throws MalformedEventException {
        JsonToken after;
        try {
            after = p.nextToken();
        } catch (IOException e) {
            throw ParseErrors.trailing(e);
        }
        if (after != null) {
            throw ParseErrors.trailing(after, p);
        }
    }
}
