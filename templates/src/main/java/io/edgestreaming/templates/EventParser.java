package io.edgestreaming.templates;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.io.JsonEOFException;
import io.edgestreaming.templates.MalformedEventException.Reason;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;

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

    private static final int MAX_QUOTE = 120;

    private final DataSource source;
    private final int maxEventBytes;
    private final JsonFactory factory;
    private final VariableIndex index;
    private final ParsedEvent event;
    private final StringBuilder nested = new StringBuilder();
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
    // Top-level keys that are not variables, for duplicate detection without a per-event set.
    private String[] otherKeys = new String[64];
    private int[] otherKeysSeen = new int[64];
    private int otherKeysCount;
    private int generation;

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
        checkEncoding(raw);
        int invalid = firstInvalidUtf8(raw);
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
        nextGeneration();
        JsonParser p = null;
        try {
            p = factory.createParser(raw);
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new MalformedEventException(Reason.NOT_JSON, "event holds no JSON value (empty or blank)", 0);
            }
            if (t != JsonToken.START_OBJECT) {
                throw new MalformedEventException(Reason.NOT_AN_OBJECT,
                        "event must be a JSON object, got " + describe(t), offset(p.currentTokenLocation()));
            }
            readFields(p, raw, predictKeys);
            if (p.currentToken() != JsonToken.END_OBJECT) {
                throw new MalformedEventException(Reason.NOT_JSON, "expected a key or the end of the object, got "
                        + describe(p.currentToken()), offset(p.currentTokenLocation()));
            }
            checkNothingAfter(p);
            return event;
        } catch (MalformedEventException e) {
            throw e;
        } catch (JsonEOFException e) {
            String key = topLevelKey(p);
            throw new MalformedEventException(Reason.TRUNCATED, "event ends before its JSON is complete"
                    + inKey(key) + ": " + cap(e.getOriginalMessage()), offset(e.getLocation()));
        } catch (StreamConstraintsException e) {
            String key = topLevelKey(p);
            String msg = cap(e.getOriginalMessage());
            Reason reason = msg.contains("nesting depth") ? Reason.TOO_DEEP : Reason.TOO_LARGE;
            String what = reason == Reason.TOO_DEEP
                    ? "event nests objects/arrays deeper than " + MAX_NESTING_DEPTH + " levels" : "event exceeds a size bound";
            throw new MalformedEventException(reason, what + inKey(key) + ": " + msg, offset(e.getLocation()));
        } catch (JsonProcessingException e) {
            String key = topLevelKey(p);
            String msg = cap(e.getOriginalMessage());
            if (msg.contains("end-of-input")) {
                throw new MalformedEventException(Reason.TRUNCATED, "event ends before its JSON is complete"
                        + inKey(key) + ": " + msg, offset(e.getLocation()));
            }
            if (msg.contains("Invalid UTF-8") || msg.contains("Invalid UTF-32") || msg.contains("surrogate")) {
                throw new MalformedEventException(Reason.INVALID_ENCODING,
                        "event is not valid UTF-8" + inKey(key) + ": " + msg, offset(e.getLocation()));
            }
            throw new MalformedEventException(Reason.NOT_JSON, "event is not valid JSON" + inKey(key) + ": " + msg,
                    offset(e.getLocation()));
        } catch (IOException | RuntimeException e) {
            // CharConversionException and friends, or a symbol-table overflow on hostile key names.
            String key = topLevelKey(p);
            String msg = cap(e.getMessage());
            Reason reason = e instanceof java.io.CharConversionException ? Reason.INVALID_ENCODING : Reason.NOT_JSON;
            throw new MalformedEventException(reason, "event cannot be read" + inKey(key) + ": " + msg, -1);
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

    /** The top-level key whose value was being read when parsing failed, if any. */
    private static String topLevelKey(JsonParser p) {
        if (p == null) {
            return null;
        }
        JsonStreamContext ctx = p.getParsingContext();
        if (ctx == null || ctx.inRoot()) {
            return null;
        }
        while (ctx.getParent() != null && !ctx.getParent().inRoot()) {
            ctx = ctx.getParent();
        }
        return ctx.getCurrentName();
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
                throw duplicate(key, p);
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
        checkOtherKey(key, p);
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
                nested.setLength(0);
                render(p, t);
                event.put(slot, nested);
            }
            default -> throw new MalformedEventException(Reason.NOT_JSON,
                    "unexpected " + t + " for key " + Names.quote(key), offset(p.currentTokenLocation()));
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
                long mask = specialBytes((long) LONGS.get(raw, i));
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
            i = validEscapeEnd(raw, i);
            if (i < 0) {
                return false; // let Jackson report it
            }
        }
    }

    /** End of the JSON escape starting at {@code raw[at]} (a backslash), or -1 when it is not valid. */
    private static int validEscapeEnd(byte[] raw, int at) {
        if (at + 1 >= raw.length) {
            return -1;
        }
        switch (raw[at + 1]) {
            case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
                return at + 2;
            case 'u':
                if (at + 6 > raw.length) {
                    return -1;
                }
                for (int k = at + 2; k < at + 6; k++) {
                    int c = raw[k];
                    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                        return -1;
                    }
                }
                return at + 6;
            default:
                return -1;
        }
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    /**
     * High bit set in each of the 8 bytes that is non-ASCII, a control byte, {@code "}, backslash or DEL
     * (classic SWAR zero-byte tests: bytes above a flagged one may be flagged falsely, the lowest never is).
     */
    private static long specialBytes(long w) {
        long nonAscii = w & HIGHS;
        long control = (w - 0x20 * ONES) & ~w & HIGHS;
        long quote = hasZeroByte(w ^ ('"' * ONES));
        long backslash = hasZeroByte(w ^ ('\\' * ONES));
        long del = hasZeroByte(w ^ (0x7F * ONES));
        return nonAscii | control | quote | backslash | del;
    }

    private static long hasZeroByte(long v) {
        return (v - ONES) & ~v & HIGHS;
    }

    private static void checkEncoding(byte[] raw) throws MalformedEventException {
        // Jackson would auto-detect UTF-16/32 from a BOM or zero bytes; events must be UTF-8.
        if (raw.length >= 2 && (raw[0] == 0 || raw[1] == 0 || raw[0] == (byte) 0xFE || raw[0] == (byte) 0xFF)) {
            throw new MalformedEventException(Reason.INVALID_ENCODING,
                    "event is not UTF-8 (it starts like UTF-16/32 or with a zero byte)", 0);
        }
    }

    /**
     * Where the first byte that does not start a well-formed UTF-8 sequence is (RFC 3629: no overlong forms,
     * no surrogates, nothing above U+10FFFF), or -1. ASCII is skipped 8 bytes at a time.
     */
    private static int firstInvalidUtf8(byte[] raw) {
        final int n = raw.length;
        int i = 0;
        while (i < n) {
            if (i + 8 <= n && ((long) LONGS.get(raw, i) & HIGHS) == 0) {
                i += 8;
                continue;
            }
            int b = raw[i] & 0xFF;
            if (b < 0x80) {
                i++;
                continue;
            }
            int len = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
            if (len == 0 || i + len > n) {
                return i;
            }
            int b1 = raw[i + 1] & 0xFF;
            // The second byte's range where it is narrower than 0x80..0xBF (RFC 3629, section 4).
            int lo = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;
            int hi = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
            if (b1 < lo || b1 > hi) {
                return i;
            }
            for (int k = 2; k < len; k++) {
                if ((raw[i + k] & 0xC0) != 0x80) {
                    return i;
                }
            }
            i += len;
        }
        return -1;
    }

    private void checkNothingAfter(JsonParser p) throws MalformedEventException {
        try {
            JsonToken after = p.nextToken();
            if (after != null) {
                throw new MalformedEventException(Reason.NOT_JSON, "trailing content after the event object: "
                        + describe(after), offset(p.currentTokenLocation()));
            }
        } catch (IOException e) {
            throw new MalformedEventException(Reason.NOT_JSON, "trailing content after the event object: "
                    + cap(e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()),
                    e instanceof JsonProcessingException j ? offset(j.getLocation()) : -1);
        }
    }

    /** Writes the nested value starting at {@code start} as compact JSON into {@link #nested}. */
    private void render(JsonParser p, JsonToken start) throws IOException, MalformedEventException {
        if (start == JsonToken.START_ARRAY) {
            nested.append('[');
            boolean first = true;
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (!first) {
                    nested.append(',');
                }
                first = false;
                renderValue(p, t);
            }
            nested.append(']');
            return;
        }
        nested.append('{');
        Set<String> names = null; // nested objects are rare: a set here is fine
        boolean first = true;
        String name;
        while ((name = p.nextFieldName()) != null) {
            if (names == null) {
                names = new HashSet<>();
            }
            if (!names.add(name)) {
                throw duplicate(name, p);
            }
            if (!first) {
                nested.append(',');
            }
            first = false;
            char[] chars = name.toCharArray();
            JsonAscii.appendJsonString(nested, chars, 0, chars.length);
            nested.append(':');
            renderValue(p, p.nextToken());
        }
        nested.append('}');
    }

    private void renderValue(JsonParser p, JsonToken t) throws IOException, MalformedEventException {
        if (t == null) {
            throw new JsonEOFException(p, null, "end of input inside a nested value");
        }
        switch (t) {
            case START_OBJECT, START_ARRAY -> render(p, t);
            case VALUE_STRING -> JsonAscii.appendJsonString(nested, p.getTextCharacters(), p.getTextOffset(),
                    p.getTextLength());
            default -> nested.append(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
        }
    }

    private void nextGeneration() {
        generation++;
        otherKeysCount = 0;
        if (otherKeys.length > 4096) { // an event with thousands of extra keys must not pin the table
            otherKeys = new String[64];
            otherKeysSeen = new int[64];
        }
        if (generation == 0) {
            java.util.Arrays.fill(otherKeysSeen, 0);
            generation = 1;
        }
    }

    private void checkOtherKey(String key, JsonParser p) throws MalformedEventException {
        if (otherKeysCount * 2 >= otherKeys.length) {
            growOtherKeys();
        }
        int mask = otherKeys.length - 1;
        int i = VariableIndex.mix(key.hashCode()) & mask;
        while (otherKeysSeen[i] == generation) {
            String k = otherKeys[i];
            if (k == key || k.equals(key)) {
                throw duplicate(key, p);
            }
            i = (i + 1) & mask;
        }
        otherKeys[i] = key;
        otherKeysSeen[i] = generation;
        otherKeysCount++;
    }

    private void growOtherKeys() {
        String[] oldKeys = otherKeys;
        int[] oldSeen = otherKeysSeen;
        otherKeys = new String[oldKeys.length * 2];
        otherKeysSeen = new int[oldKeys.length * 2];
        int mask = otherKeys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldSeen[j] == generation) {
                int i = VariableIndex.mix(oldKeys[j].hashCode()) & mask;
                while (otherKeysSeen[i] == generation) {
                    i = (i + 1) & mask;
                }
                otherKeys[i] = oldKeys[j];
                otherKeysSeen[i] = generation;
            }
        }
    }

    private static MalformedEventException duplicate(String key, JsonParser p) {
        return new MalformedEventException(Reason.DUPLICATE_KEY, "key " + Names.quote(key)
                + " appears more than once in the same object", offset(p.currentTokenLocation()));
    }

    private static String inKey(String key) {
        return key == null ? "" : " (at key " + Names.quote(key) + ")";
    }

    private static long offset(JsonLocation location) {
        return location == null ? -1 : location.getByteOffset();
    }

    private static String describe(JsonToken t) {
        if (t == null) {
            return "the end of input";
        }
        return switch (t) {
            case START_ARRAY -> "an array";
            case START_OBJECT -> "an object";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }

    /** Jackson quotes offending tokens; keep messages short whatever the input holds. */
    private static String cap(String message) {
        if (message == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        int limit = Math.min(message.length(), MAX_QUOTE);
        for (int i = 0; i < limit; i++) {
            char c = message.charAt(i);
            sb.append(c < 0x20 || c == 0x7F ? '?' : c);
        }
        if (message.length() > limit) {
            sb.append("...");
        }
        return sb.toString();
    }
}
