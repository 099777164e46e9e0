package io.edgestreaming.templates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.edgestreaming.templates.MalformedEventException.Reason;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Property test: thousands of generated hostile events (random unicode incl. astral and lone surrogates,
 * quotes, backslashes, control characters, nested values, huge strings; plus invalid UTF-8, truncations,
 * byte flips and garbage). Every produced record must parse back with Jackson as an object of strings,
 * be pure ASCII, have the template's keys in order, and hold exactly what the event held. Every refusal
 * must be a {@link MalformedEventException}. Set {@code -Dfuzz.seed=N} to replay a failure: the seed is
 * in every assertion message and published to the test report.
 */
class ProjectionFuzzTest {
    private static final System.Logger LOG = System.getLogger(ProjectionFuzzTest.class.getName());
    private static final int EVENTS = 3000;
    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private long seed;
    private Random random;

    @BeforeEach
    void seed(TestInfo test) {
        seed = Long.getLong("fuzz.seed", System.nanoTime());
        random = new Random(seed);
        LOG.log(System.Logger.Level.INFO, "{0}: fuzz seed {1,number,#} (replay with -Dfuzz.seed={1,number,#})",
                test.getDisplayName(), seed);
    }

    /** A value as the generator wrote it: raw JSON text, and what the projection must render. */
    private record Value(String json, String expected) {}

    @Test
    void everyRecordIsValidAsciiJsonHoldingExactlyTheEventsValues() throws Exception {
        Template http = Templates.custom(DataSource.HTTP, catchAllModel(DataSource.HTTP));
        Template waf = Templates.custom(DataSource.WAF, catchAllModel(DataSource.WAF));
        CompiledTemplate[] compiled = {CompiledTemplate.compile(http), CompiledTemplate.compile(waf),
                CompiledTemplate.compile(Templates.byId(184)), CompiledTemplate.compile(Templates.byId(4))};
        EventParser httpParser = new EventParser(DataSource.HTTP, 4 << 20);
        EventParser wafParser = new EventParser(DataSource.WAF, 4 << 20);
        for (int n = 0; n < EVENTS; n++) {
            CompiledTemplate template = compiled[random.nextInt(compiled.length)];
            DataSource source = template.template().dataSource();
            Map<String, Value> values = new HashMap<>();
            byte[] raw = event(source, values, n % 500 == 7);
            String context = "seed " + seed + ", event " + n + " (replay with -Dfuzz.seed=" + seed + ")";
            ParsedEvent parsed;
            try {
                parsed = (source == DataSource.HTTP ? httpParser : wafParser).parse(raw);
            } catch (MalformedEventException e) {
                throw new AssertionError(context + ": a well-formed event was refused: " + e.getMessage(), e);
            }
            byte[] record = template.project(parsed);
            checkRecord(record, template.template(), values, context);
            if (!java.util.Objects.equals(parsed.host(), expectedText(values.get("host")))
                    || !java.util.Objects.equals(parsed.client(), expectedText(values.get("client")))) {
                fail(context + ": host()/client() differ from the event");
            }
        }
    }

    @Test
    void brokenEventsAreRefusedNeverHalfProjected() throws Exception {
        CompiledTemplate template = CompiledTemplate.compile(Templates.byId(184));
        EventParser parser = new EventParser(DataSource.HTTP, 1 << 20);
        int refused = 0;
        for (int n = 0; n < EVENTS; n++) {
            String context = "seed " + seed + ", event " + n + " (replay with -Dfuzz.seed=" + seed + ")";
            Map<String, Value> values = new HashMap<>();
            byte[] raw = event(DataSource.HTTP, values, false);
            int kind = n % 4;
            Reason required = null;
            if (kind == 0) {
                raw = injectInvalidUtf8(raw);
                required = Reason.INVALID_ENCODING;
            } else if (kind == 1) {
                int close = new String(raw, StandardCharsets.ISO_8859_1).lastIndexOf('}');
                raw = java.util.Arrays.copyOf(raw, random.nextInt(close)); // never the whole object
            } else if (kind == 2) {
                for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                    raw[random.nextInt(raw.length)] = (byte) random.nextInt(256);
                }
            } else {
                raw = new byte[random.nextInt(200)];
                random.nextBytes(raw);
            }
            try {
                byte[] record = template.project(parser.parse(raw));
                assertThat(required).as(context + ": should have been refused").isNull();
                assertThat(kind).as(context + ": a truncated event produced a record").isNotEqualTo(1);
                checkShape(record, template.template(), context); // a flip can still leave valid JSON
            } catch (MalformedEventException e) {
                refused++;
                if (required != null) {
                    assertThat(e.reason()).as(context + ": " + e.getMessage()).isEqualTo(required);
                }
                assertThat(e.getMessage()).as(context).isNotBlank().hasSizeLessThan(600);
            }
        }
        assertThat(refused).as("seed " + seed).isGreaterThan(EVENTS / 2);
    }

    // ---- generation

    private static String catchAllModel(DataSource source) {
        StringBuilder sb = new StringBuilder("{");
        for (String v : source.variables()) {
            sb.append('"').append(v).append("\":\"$").append(v).append("\",");
        }
        // Embedded variables and hostile literal text around them.
        sb.append("\"combo\":\"<$host|${client}> \\\" \\\\ \\u0001 \\u00e9 \\ud83d\\ude00 $$host\"}");
        return sb.toString();
    }

    private byte[] event(DataSource source, Map<String, Value> values, boolean huge) {
        List<String> keys = new ArrayList<>();
        for (String v : source.variables()) {
            if (random.nextInt(10) < 8) {
                keys.add(v);
            }
        }
        Set<String> unknown = new LinkedHashSet<>();
        for (int i = random.nextInt(6); i > 0; i--) {
            String name = randomString(12, false); // Jackson refuses lone surrogates in names
            if (!source.hasVariable(name)) {
                unknown.add(name);
            }
        }
        keys.addAll(unknown);
        Collections.shuffle(keys, random);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        write(out, random.nextBoolean() ? "{" : " {\n");
        boolean first = true;
        for (String key : keys) {
            if (!first) {
                write(out, random.nextInt(8) == 0 ? " ,\t" : ",");
            }
            first = false;
            write(out, jsonString(key));
            write(out, random.nextInt(8) == 0 ? " : " : ":");
            Value value = huge && key.equals("http_user_agent") ? hugeString()
                    // Routing keys stay scalars so the embedded "combo" expectation is plain text.
                    : key.equals("host") || key.equals("client") ? randomValue(4) : randomValue(0);
            write(out, value.json());
            if (source.hasVariable(key)) {
                values.put(key, value);
            }
        }
        write(out, random.nextBoolean() ? "}" : "}\r\n ");
        return out.toByteArray();
    }

    private Value hugeString() {
        String s = randomString(60_000 + random.nextInt(40_000));
        return new Value(jsonString(s), s);
    }

    private Value randomValue(int depth) {
        int kind = random.nextInt(depth >= 4 ? 6 : 9);
        switch (kind) {
            case 0, 1, 2 -> {
                String s = randomString(random.nextInt(4) == 0 ? 300 : 20);
                return new Value(jsonString(s), s);
            }
            case 3 -> {
                String n = randomNumber();
                return new Value(n, n);
            }
            case 4 -> {
                boolean b = random.nextBoolean();
                return new Value(Boolean.toString(b), Boolean.toString(b));
            }
            case 5 -> {
                return new Value("null", null);
            }
            case 6, 7 -> {
                StringBuilder sb = new StringBuilder("[");
                for (int i = random.nextInt(4); i > 0; i--) {
                    sb.append(randomValue(depth + 1).json()).append(i > 1 ? "," : "");
                }
                String json = sb.append(']').toString();
                return new Value(json, json); // compared as JSON trees
            }
            default -> {
                StringBuilder sb = new StringBuilder("{");
                Set<String> names = new LinkedHashSet<>();
                for (int i = random.nextInt(4); i > 0; i--) {
                    names.add(randomString(6, false));
                }
                Iterator<String> it = names.iterator();
                while (it.hasNext()) {
                    sb.append(jsonString(it.next())).append(':').append(randomValue(depth + 1).json());
                    sb.append(it.hasNext() ? "," : "");
                }
                String json = sb.append('}').toString();
                return new Value(json, json);
            }
        }
    }

    private String randomNumber() {
        StringBuilder sb = new StringBuilder();
        if (random.nextBoolean()) {
            sb.append('-');
        }
        sb.append(random.nextInt(3) == 0 ? "0" : Integer.toString(1 + random.nextInt(Integer.MAX_VALUE)));
        if (random.nextBoolean()) {
            sb.append('.').append(random.nextInt(100000));
        }
        if (random.nextInt(4) == 0) {
            sb.append(random.nextBoolean() ? 'e' : 'E').append(random.nextBoolean() ? "-" : "+").append(random.nextInt(300));
        }
        return sb.toString();
    }

    /** Code points from every troublesome class, including lone surrogates (only writable as escapes). */
    private String randomString(int maxLength) {
        return randomString(maxLength, true);
    }

    private String randomString(int maxLength, boolean loneSurrogates) {
        int length = random.nextInt(maxLength + 1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            switch (random.nextInt(10)) {
                case 0 -> sb.append('"');
                case 1 -> sb.append('\\');
                case 2 -> sb.append((char) random.nextInt(0x20));
                case 3 -> sb.append((char) (0x7F + random.nextInt(0x81))); // DEL, C1 controls, Latin-1
                case 4 -> sb.append((char) (0x100 + random.nextInt(0xD800 - 0x100))); // BMP
                case 5 -> sb.appendCodePoint(0x10000 + random.nextInt(0x10FFFF - 0x10000 + 1)); // astral
                case 6 -> sb.append(loneSurrogates ? (char) (0xD800 + random.nextInt(0x800)) : '\\'); // lone surrogate
                case 7 -> sb.append((char) (0xE000 + random.nextInt(0x2000))); // private use, BOM-ish
                default -> sb.append((char) (0x20 + random.nextInt(0x5F))); // printable ASCII
            }
        }
        return sb.toString();
    }

    /** JSON string literal, writing each char raw (UTF-8) or escaped at random; lone surrogates always escaped. */
    private String jsonString(String s) {
        // A third of the strings are written as pure ASCII (every other char escaped): the parser's
        // in-place fast path; the rest mix raw UTF-8 and escapes: its decoding path.
        boolean asciiOnly = random.nextInt(3) == 0;
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
            boolean lone = Character.isSurrogate(c) && !pair;
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || lone || (asciiOnly && c > 0x7E) || random.nextInt(6) == 0) {
                String hex = Integer.toHexString(0x10000 | c).substring(1);
                sb.append("\\u").append(random.nextBoolean() ? hex : hex.toUpperCase(java.util.Locale.ROOT));
            } else if (pair) {
                sb.append(c).append(s.charAt(++i));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    /** A first key whose string value holds bytes that are not UTF-8: the first problem the parser meets. */
    private byte[] injectInvalidUtf8(byte[] raw) {
        byte[][] bad = {{(byte) (0x80 + random.nextInt(0x40))}, {(byte) 0xFF}, {(byte) 0xFE},
                {(byte) 0xE2, '('}, {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}};
        byte[] insert = bad[random.nextInt(bad.length)];
        int at = new String(raw, StandardCharsets.ISO_8859_1).indexOf('{') + 1;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(raw, 0, at);
        write(out, random.nextBoolean() ? "\"host\":\"a" : "\"zz_not_a_variable\":\"a");
        out.write(insert, 0, insert.length);
        write(out, "b\",");
        out.write(raw, at, raw.length - at);
        return out.toByteArray();
    }

    private static void write(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    // ---- checks

    private static JsonNode checkShape(byte[] record, Template template, String context) throws Exception {
        for (int i = 0; i < record.length; i++) {
            int b = record[i];
            if (b < 0x20 || b > 0x7E) {
                fail(context + ": byte " + i + " of the record is 0x" + Integer.toHexString(b & 0xFF));
            }
        }
        JsonNode node = STRICT.readTree(record);
        if (!node.isObject()) {
            fail(context + ": record is not an object");
        }
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        for (Template.Entry entry : template.entries()) {
            if (!fields.hasNext()) {
                fail(context + ": record ends before key " + entry.key());
            }
            Map.Entry<String, JsonNode> field = fields.next();
            if (!field.getKey().equals(entry.key()) || !field.getValue().isTextual()) {
                fail(context + ": expected key " + entry.key() + " with a string, got " + field.getKey() + "="
                        + field.getValue().getNodeType());
            }
        }
        if (fields.hasNext()) {
            fail(context + ": record has more keys than the template");
        }
        return node;
    }

    private static void checkRecord(byte[] record, Template template, Map<String, Value> values, String context)
            throws Exception {
        JsonNode node = checkShape(record, template, context);
        for (Template.Entry entry : template.entries()) {
            String actual = node.get(entry.key()).asText();
            String expression = entry.expression();
            Object expected;
            Object got = actual;
            if (entry.key().equals("combo")) {
                expected = "<" + dash(values.get("host")) + "|" + dash(values.get("client"))
                        + "> \" \\ \u0001 \u00e9 \uD83D\uDE00 $host";
            } else if (expression.startsWith("$")) {
                Value v = values.get(expression.substring(1));
                if (v != null && v.expected() != null && (v.json().startsWith("{") || v.json().startsWith("["))) {
                    expected = STRICT.readTree(v.expected()); // nested values: compare as JSON
                    got = STRICT.readTree(actual);
                } else {
                    expected = dash(v);
                }
            } else {
                expected = expression;
            }
            if (!expected.equals(got)) {
                fail(context + ", key " + entry.key() + ": expected <" + expected + "> but was <" + got + ">");
            }
        }
    }

    private static String dash(Value v) {
        return v == null || v.expected() == null ? "-" : v.expected();
    }

    private static String expectedText(Value v) {
        return v == null ? null : v.expected();
    }
}
