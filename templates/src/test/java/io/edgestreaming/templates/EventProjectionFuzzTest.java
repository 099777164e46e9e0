package io.edgestreaming.templates;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Coverage-guided fuzzing (Jazzer) of the hot path: raw bytes -> {@link EventParser} -> {@link ParsedEvent} ->
 * {@link CompiledTemplate#project}, and of {@link JsonAscii}. In {@code mvn verify} these run once per file of
 * {@code src/test/resources/io/edgestreaming/templates/EventProjectionFuzzTestInputs/<method>/}; README "Tests"
 * shows how to fuzz them.
 *
 * <p>Properties: the only refusal is {@link MalformedEventException} (short, one-line message); every record is
 * printable ASCII, parses as a JSON object with the template's keys in order and string values; an event that
 * Jackson reads as a well-formed object (no duplicate key, within the depth and size bounds) is accepted, and
 * every variable then holds exactly what Jackson read; an accepted event is UTF-8.
 */
class EventProjectionFuzzTest {
    /** Jackson as the reference reader: duplicates refused, numbers exact, nothing after the object. */
    private static final ObjectMapper STRICT = reference(true);
    /** The same without duplicate detection: we skip the nested values of keys no template reads. */
    private static final ObjectMapper LENIENT = reference(false);
    private static final Pattern WHOLE_VARIABLE = Pattern.compile("\\$[A-Za-z_][A-Za-z0-9_]*");

    private static final int MAX_EVENT_BYTES = 1 << 16;
    /** Every slot of both data sources filled, so a value left over from the previous parse would show. */
    private static final byte[] DIRTY_HTTP = SampleEvents.bytes(catchAllEvent(DataSource.HTTP));
    private static final byte[] DIRTY_WAF = SampleEvents.bytes(catchAllEvent(DataSource.WAF));

    private static final EventParser HTTP = new EventParser(DataSource.HTTP, MAX_EVENT_BYTES);
    private static final EventParser WAF = new EventParser(DataSource.WAF, MAX_EVENT_BYTES);
    private static final List<CompiledTemplate> HTTP_TEMPLATES;
    private static final List<CompiledTemplate> WAF_TEMPLATES;

    static {
        try {
            HTTP_TEMPLATES = List.of(CompiledTemplate.compile(Templates.byId(184)),
                    CompiledTemplate.compile(Templates.byId(2)),
                    CompiledTemplate.compile(Templates.custom(DataSource.HTTP, catchAllModel(DataSource.HTTP))));
            WAF_TEMPLATES = List.of(CompiledTemplate.compile(Templates.byId(4)),
                    CompiledTemplate.compile(Templates.custom(DataSource.WAF, catchAllModel(DataSource.WAF))));
        } catch (TemplateException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest
    void parseAndProject(byte[] raw) throws Exception {
        JsonNode reference = referenceRead(raw);
        check(HTTP, DIRTY_HTTP, HTTP_TEMPLATES, raw, reference);
        check(WAF, DIRTY_WAF, WAF_TEMPLATES, raw, reference);
    }

    /** Escaping any text (lone surrogates, controls, astral characters) round-trips through Jackson and back. */
    @FuzzTest
    void jsonAsciiRoundTrip(FuzzedDataProvider data) throws Exception {
        char[] chars = new char[data.remainingBytes() / 2];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = data.consumeChar();
        }
        String text = new String(chars);
        byte[] escaped = JsonAscii.escape(text);
        assertThat(escaped.length).isLessThanOrEqualTo(chars.length * JsonAscii.MAX_BYTES_PER_CHAR);
        for (byte b : escaped) {
            if (b < 0x20 || b == 0x7F) { // bytes >= 0x80 are negative
                throw new AssertionError("escaped byte 0x" + Integer.toHexString(b & 0xFF) + " of " + escapedForMessage(text));
            }
        }
        byte[] viaChars = new byte[chars.length * JsonAscii.MAX_BYTES_PER_CHAR];
        int end = JsonAscii.escape(chars, 0, chars.length, viaChars, 0);
        assertThat(java.util.Arrays.copyOf(viaChars, end)).isEqualTo(escaped);
        String ascii = new String(escaped, StandardCharsets.US_ASCII);
        assertThat(STRICT.readTree("\"" + ascii + "\"").textValue()).isEqualTo(text);
        assertThat(JsonAscii.unescape(escaped, 0, escaped.length)).isEqualTo(text);

        StringBuilder literal = new StringBuilder();
        JsonAscii.appendJsonString(literal, chars, 0, chars.length);
        assertThat(STRICT.readTree(literal.toString()).textValue()).isEqualTo(text);
    }

    // ---- checks

    private static void check(EventParser parser, byte[] dirty, List<CompiledTemplate> templates, byte[] raw,
            JsonNode reference) throws Exception {
        parser.parse(dirty);
        ParsedEvent event;
        try {
            event = parser.parse(raw);
        } catch (MalformedEventException e) {
            assertThat(e.reason()).isNotNull();
            assertThat(e.getMessage()).isNotBlank().hasSizeLessThan(600);
            assertThat(e.getMessage().chars().allMatch(c -> c >= 0x20 && c != 0x7F))
                    .as("one printable line: %s", e.getMessage()).isTrue();
            assertThat(e.byteOffset()).isBetween(-1L, (long) raw.length);
            if (reference != null) {
                throw new AssertionError(parser.dataSource().id() + " parser refused an event that Jackson reads as"
                        + " a well-formed object: " + e.getMessage(), e);
            }
            return;
        }
        checkUtf8(raw);
        JsonNode lenient = lenientRead(raw);
        if (lenient != null) {
            for (String variable : parser.dataSource().variables()) {
                checkValue(variable, event.value(variable), lenient.get(variable));
            }
        }
        assertThat(event.host()).isEqualTo(event.value("host"));
        assertThat(event.client()).isEqualTo(event.value("client"));
        for (CompiledTemplate template : templates) {
            checkRecord(template.project(event), template.template(), event);
        }
    }

    /** An accepted event is UTF-8 (after an optional byte order mark), as documented. */
    private static void checkUtf8(byte[] raw) {
        if (!isUtf8(raw)) {
            throw new AssertionError("accepted an event that is not UTF-8");
        }
    }

    /** The JDK's strict decoder: Jackson does not check every byte (names, say), so it is no judge of this. */
    private static boolean isUtf8(byte[] raw) {
        int bom = raw.length >= 3 && raw[0] == (byte) 0xEF && raw[1] == (byte) 0xBB && raw[2] == (byte) 0xBF ? 3 : 0;
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw, bom, raw.length - bom));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /** Our value of one variable against Jackson's reading of it. */
    private static void checkValue(String variable, String ours, JsonNode theirs) throws Exception {
        if (theirs == null || theirs.isNull()) {
            assertThat(ours).as(variable).isNull();
            return;
        }
        assertThat(ours).as(variable).isNotNull();
        if (theirs.isTextual()) {
            assertThat(ours).as(variable).isEqualTo(theirs.textValue());
        } else if (theirs.isNumber()) {
            assertThat(new BigDecimal(ours)).as(variable).isEqualByComparingTo(theirs.decimalValue());
        } else if (theirs.isBoolean()) {
            assertThat(ours).as(variable).isEqualTo(theirs.asText());
        } else {
            assertThat(STRICT.readTree(ours)).as(variable + " rendered as " + ours).isEqualTo(theirs);
        }
    }

    /** A record: printable ASCII (no raw newline), a JSON object of the template's keys in order, string values. */
    static JsonNode checkRecord(byte[] record, Template template, ParsedEvent event) throws Exception {
        for (int i = 0; i < record.length; i++) {
            if (record[i] < 0x20 || record[i] == 0x7F) { // bytes >= 0x80 are negative
                throw new AssertionError("record byte " + i + " is 0x" + Integer.toHexString(record[i] & 0xFF));
            }
        }
        JsonNode node = STRICT.readTree(record);
        assertThat(node.isObject()).as("record is an object").isTrue();
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        for (Template.Entry entry : template.entries()) {
            assertThat(fields.hasNext()).as("record ends before key %s", entry.key()).isTrue();
            Map.Entry<String, JsonNode> field = fields.next();
            assertThat(field.getKey()).isEqualTo(entry.key());
            assertThat(field.getValue().isTextual()).as("value of %s is a string", entry.key()).isTrue();
            if (event != null && WHOLE_VARIABLE.matcher(entry.expression()).matches()) {
                String value = event.value(entry.expression().substring(1));
                assertThat(field.getValue().textValue()).as(entry.key()).isEqualTo(value == null ? "-" : value);
            }
        }
        assertThat(fields.hasNext()).as("record has more keys than the template").isFalse();
        return node;
    }

    /**
     * Jackson's reading of {@code raw} when it is a well-formed UTF-8 event within our bounds, else null.
     * Encodings Jackson would auto-detect (UTF-16/32, a leading zero byte) are out: events are UTF-8 by contract.
     */
    private static JsonNode referenceRead(byte[] raw) {
        if (raw.length > MAX_EVENT_BYTES || raw.length < 2 || raw[0] == 0 || raw[1] == 0
                || raw[0] == (byte) 0xFE || raw[0] == (byte) 0xFF || !isUtf8(raw)) {
            return null;
        }
        try {
            JsonNode node = STRICT.readTree(raw);
            return node != null && node.isObject() && depth(node) <= EventParser.MAX_NESTING_DEPTH ? node : null;
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /** Jackson's reading without duplicate detection, or null where it gives up (e.g. an exponent BigDecimal refuses). */
    private static JsonNode lenientRead(byte[] raw) {
        try {
            JsonNode node = LENIENT.readTree(raw);
            return node != null && node.isObject() ? node : null;
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    private static ObjectMapper reference(boolean strictDuplicates) {
        // No shared name table, so one input's reading never depends on the names of those before it.
        JsonMapper mapper = JsonMapper.builder(JsonFactory.builder().disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build())
                .configure(StreamReadFeature.STRICT_DUPLICATE_DETECTION, strictDuplicates)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
                .build();
        // Our byte bound is the only size bound; Jackson's defaults would refuse long numbers we accept.
        mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNumberLength(Integer.MAX_VALUE).maxStringLength(Integer.MAX_VALUE).build());
        return mapper;
    }

    private static int depth(JsonNode node) {
        int max = 0;
        for (JsonNode child : node) {
            max = Math.max(max, depth(child));
        }
        return node.isContainerNode() ? max + 1 : 0;
    }

    private static String escapedForMessage(String text) {
        StringBuilder sb = new StringBuilder();
        text.chars().forEach(c -> sb.append(c >= 0x20 && c < 0x7F ? String.valueOf((char) c) : String.format("\\u%04x", c)));
        return sb.toString();
    }

    private static String catchAllModel(DataSource source) {
        StringBuilder sb = new StringBuilder("{");
        for (String v : source.variables()) {
            sb.append('"').append(v).append("\":\"$").append(v).append("\",");
        }
        return sb.append("\"combo\":\"<$host|${client}> \\\" \\\\ \\u0001 \\u00e9 \\ud83d\\ude00 $$host $\"}").toString();
    }

    private static String catchAllEvent(DataSource source) {
        StringBuilder sb = new StringBuilder("{");
        for (String v : source.variables()) {
            sb.append('"').append(v).append("\":\"stale-").append(v).append("-\\u00e9\",");
        }
        return sb.append("\"zz_extra\":[1,{\"a\":2}]}").toString();
    }
}
