package io.edgestreaming.templates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.edgestreaming.templates.MalformedEventException.Reason;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The streaming parser: values, accessors, reuse, and every malformed-input reason. */
class EventParserTest {
    private final EventParser http = new EventParser(DataSource.HTTP, 4096);

    private MalformedEventException refused(String event) {
        return refused(event.getBytes(StandardCharsets.UTF_8));
    }

    private MalformedEventException refused(byte[] event) {
        return catchThrowableOfType(MalformedEventException.class, () -> http.parse(event));
    }

    @Test
    void readsValuesOfEveryJsonType() throws Exception {
        ParsedEvent e = http.parse(SampleEvents.bytes("""
                {"host":"www.example.com","client":"4529r","status":200,"request_time":1.50e-3,"waf_block":true,\
                "waf_learning":false,"asn":null,"waf_match":{"b":[1,{"c":"\\"x\\""}],"a":null},"waf_headers":[]}"""));
        assertThat(e.dataSource()).isEqualTo(DataSource.HTTP);
        assertThat(e.host()).isEqualTo("www.example.com");
        assertThat(e.client()).isEqualTo("4529r");
        assertThat(e.value("status")).isEqualTo("200");
        assertThat(e.value("request_time")).isEqualTo("1.50e-3");
        assertThat(e.value("waf_block")).isEqualTo("true");
        assertThat(e.value("waf_learning")).isEqualTo("false");
        assertThat(e.has("asn")).isFalse();
        assertThat(e.value("asn")).isNull();
        assertThat(e.has("country")).isFalse();
        assertThat(e.value("waf_match")).isEqualTo("{\"b\":[1,{\"c\":\"\\\"x\\\"\"}],\"a\":null}");
        assertThat(e.value("waf_headers")).isEqualTo("[]");
        assertThat(e.has("not_a_variable")).isFalse();
        assertThat(e.value("not_a_variable")).isNull();
    }

    @Test
    void escapesInTheInputArePassedThroughAndDecodedByValue() throws Exception {
        CompiledTemplate t = CompiledTemplate.compile(Templates.custom(DataSource.HTTP, "{\"u\":\"$request_uri\"}"));
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        byte[] body = SampleEvents.bytes("{\"request_uri\":\"\\/a\\u00E9\\t\\\"b\\\\\"}");
        byte[] withBom = new byte[bom.length + body.length];
        System.arraycopy(bom, 0, withBom, 0, 3);
        System.arraycopy(body, 0, withBom, 3, body.length);
        for (byte[] raw : new byte[][] {body, withBom}) {
            ParsedEvent e = http.parse(raw);
            assertThat(e.value("request_uri")).isEqualTo("/a\u00e9\t\"b\\");
            assertThat(new String(t.project(e), StandardCharsets.US_ASCII))
                    .isEqualTo("{\"u\":\"\\/a\\u00E9\\t\\\"b\\\\\"}");
        }
    }

    @Test
    void everySpecialCharacterIsFoundAtEveryPositionOfAWord() throws Exception {
        // The ASCII fast path reads 8 bytes at a time: put each troublesome character at every offset.
        CompiledTemplate t = CompiledTemplate.compile(Templates.custom(DataSource.HTTP, "{\"u\":\"$request_uri\"}"));
        com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        String[][] specials = {{"\\\"", "\""}, {"\\\\", "\\"}, {"\u00e9", "\u00e9"}, {"\u007f", "\u007f"},
                {"\\u0001", "\u0001"}, {"\uD83D\uDE00", "\uD83D\uDE00"}, {"\\/", "/"}};
        for (int length = 1; length <= 24; length++) {
            for (int at = 0; at < length; at++) {
                for (String[] special : specials) {
                    String before = "a".repeat(at);
                    String after = "b".repeat(length - at - 1);
                    String json = "{\"request_uri\":\"" + before + special[0] + after + "\",\"host\":\"h\"}";
                    String expected = before + special[1] + after;
                    ParsedEvent e = http.parse(SampleEvents.bytes(json));
                    assertThat(e.value("request_uri")).as(json).isEqualTo(expected);
                    byte[] record = t.project(e);
                    assertThat(mapper.readTree(record).get("u").asText()).as(json).isEqualTo(expected);
                    for (byte b : record) {
                        assertThat(b).as(json).isBetween((byte) 0x20, (byte) 0x7E);
                    }
                }
            }
        }
    }

    @Test
    void controlCharactersAndDelAreEscaped() throws Exception {
        CompiledTemplate t = CompiledTemplate.compile(Templates.custom(DataSource.HTTP, "{\"u\":\"$request_uri\"}"));
        ParsedEvent e = http.parse(SampleEvents.bytes("{\"request_uri\":\"a\u007fb\\u0000c\\u001f\"}"));
        assertThat(new String(t.project(e), StandardCharsets.US_ASCII))
                .isEqualTo("{\"u\":\"a\\u007fb\\u0000c\\u001f\"}");
        assertThat(e.value("request_uri")).isEqualTo("a\u007fb\u0000c\u001f");
    }

    @Test
    void hostAndClientAreNullWhenAbsentOrNull() throws Exception {
        ParsedEvent e = http.parse(SampleEvents.bytes("{\"host\":null}"));
        assertThat(e.host()).isNull();
        assertThat(e.client()).isNull();
    }

    @Test
    void parsedEventIsReusedAndHoldsOnlyTheLatestEvent() throws Exception {
        ParsedEvent first = http.parse(SampleEvents.bytes("{\"host\":\"a\",\"status\":\"200\"}"));
        assertThat(first.host()).isEqualTo("a");
        ParsedEvent second = http.parse(SampleEvents.bytes("{\"host\":\"b\"}"));
        assertThat(second).isSameAs(first);
        assertThat(second.host()).isEqualTo("b");
        assertThat(second.has("status")).isFalse();
    }

    @Test
    void unknownKeysAreSkippedWhateverTheyHold() throws Exception {
        ParsedEvent e = http.parse(SampleEvents.bytes(
                "{\"x\":{\"deep\":[[[{\"y\":\"z\"}]]]},\"host\":\"h\",\"y\":[1,2],\"z\":\"s\"}"));
        assertThat(e.host()).isEqualTo("h");
    }

    @Test
    void tooLarge() {
        MalformedEventException e = refused(new byte[4097]);
        assertThat(e.reason()).isEqualTo(Reason.TOO_LARGE);
        assertThat(e.getMessage()).isEqualTo("TOO_LARGE: event of 4097 bytes exceeds the limit of 4096 bytes");
    }

    @Test
    void notJson() {
        MalformedEventException e = refused("hello world");
        assertThat(e.reason()).isEqualTo(Reason.NOT_JSON);
        assertThat(e.getMessage()).startsWith("NOT_JSON: event is not valid JSON").contains("at byte");
        assertThat(refused("").reason()).isEqualTo(Reason.NOT_JSON);
        assertThat(refused("   ").getMessage()).contains("no JSON value");
        assertThat(refused("{\"host\":\"h\" \"status\":1}").reason()).isEqualTo(Reason.NOT_JSON);
        assertThat(refused("{\"host\":h}").getMessage()).contains("key \"host\"");
        // Broken escapes, in values read (fast ASCII path) and in values skipped.
        for (String bad : new String[] {"{\"host\":\"a\\xb\"}", "{\"host\":\"a\\u12G4\"}", "{\"host\":\"a\\u12\"}",
                "{\"other\":\"a\\qb\"}"}) {
            MalformedEventException e2 = refused(bad);
            assertThat(e2.reason()).as(bad).isEqualTo(Reason.NOT_JSON);
            assertThat(e2.getMessage()).as(bad).contains("escape");
        }
    }

    @Test
    void trailingContentAfterTheObject() {
        MalformedEventException e = refused("{\"host\":\"h\"} {\"host\":\"i\"}");
        assertThat(e.reason()).isEqualTo(Reason.NOT_JSON);
        assertThat(e.getMessage()).contains("trailing content after the event object").contains("at byte 13");
        assertThat(refused("{\"host\":\"h\"}garbage").getMessage()).contains("trailing content");
        assertThat(refused("{\"host\":\"h\"}]").getMessage()).contains("trailing content");
    }

    @Test
    void notAnObject() {
        MalformedEventException e = refused("[{\"host\":\"h\"}]");
        assertThat(e.reason()).isEqualTo(Reason.NOT_AN_OBJECT);
        assertThat(e.getMessage()).isEqualTo("NOT_AN_OBJECT: event must be a JSON object, got an array (at byte 0)");
        assertThat(refused("\"host\"").reason()).isEqualTo(Reason.NOT_AN_OBJECT);
        assertThat(refused("42").reason()).isEqualTo(Reason.NOT_AN_OBJECT);
        assertThat(refused("null").reason()).isEqualTo(Reason.NOT_AN_OBJECT);
    }

    @Test
    void truncated() {
        for (String cut : new String[] {"{", "{\"host\"", "{\"host\":", "{\"host\":\"h", "{\"host\":\"h\"",
                "{\"host\":\"h\",", "{\"waf_match\":{\"a\":[1", "{\"other\":{\"a\":[1", "{\"status\":12"}) {
            MalformedEventException e = refused(cut);
            assertThat(e.reason()).as(cut).isEqualTo(Reason.TRUNCATED);
            assertThat(e.getMessage()).as(cut).startsWith("TRUNCATED: event ends before its JSON is complete");
        }
        assertThat(refused("{\"host\":\"h").getMessage()).contains("key \"host\"");
    }

    @Test
    void duplicateKeys() {
        MalformedEventException e = refused("{\"host\":\"a\",\"status\":1,\"host\":\"b\"}");
        assertThat(e.reason()).isEqualTo(Reason.DUPLICATE_KEY);
        assertThat(e.getMessage()).isEqualTo(
                "DUPLICATE_KEY: key \"host\" appears more than once in the same object (at byte 23)");
        assertThat(refused("{\"host\":null,\"host\":\"b\"}").reason()).isEqualTo(Reason.DUPLICATE_KEY);
        assertThat(refused("{\"other\":1,\"host\":\"b\",\"other\":2}").getMessage()).contains("key \"other\"");
        assertThat(refused("{\"waf_match\":{\"a\":1,\"a\":2}}").reason()).isEqualTo(Reason.DUPLICATE_KEY);
    }

    @Test
    void duplicateKeysDeepInsideRenderedValuesAreRefusedButSkippedValuesAreNotInspected() throws Exception {
        MalformedEventException e = refused("{\"host\":\"h\",\"waf_match\":{\"a\":[1,{\"b\":{\"c\":1,\"c\":2}}]}}");
        assertThat(e.reason()).isEqualTo(Reason.DUPLICATE_KEY);
        assertThat(e.getMessage()).contains("key \"c\" appears more than once");
        assertThat(refused("{\"waf_headers\":[{\"x\":1},{\"y\":1,\"y\":1}]}").reason())
                .isEqualTo(Reason.DUPLICATE_KEY);
        // The same key in sibling objects is no duplicate.
        assertThat(http.parse(SampleEvents.bytes("{\"waf_match\":{\"a\":{\"k\":1},\"b\":{\"k\":2}}}"))
                .value("waf_match")).isEqualTo("{\"a\":{\"k\":1},\"b\":{\"k\":2}}");
        // A key the data source does not have is skipped, duplicates inside it included: none of it is output.
        ParsedEvent skipped = http.parse(SampleEvents.bytes(
                "{\"not_a_variable\":{\"a\":1,\"a\":[{\"b\":1,\"b\":2}]},\"host\":\"h\"}"));
        assertThat(skipped.host()).isEqualTo("h");
        assertThat(skipped.has("not_a_variable")).isFalse();
    }

    @Test
    void manyDistinctUnknownKeysAreNotDuplicates() throws Exception {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < 300; i++) {
            sb.append("\"k").append(i).append("\":").append(i).append(',');
        }
        sb.append("\"host\":\"h\"}");
        assertThat(new EventParser(DataSource.HTTP, 1 << 16).parse(SampleEvents.bytes(sb.toString())).host())
                .isEqualTo("h");
    }

    @Test
    void tooDeep() throws Exception {
        String ok = "{\"waf_match\":" + "[".repeat(EventParser.MAX_NESTING_DEPTH - 1)
                + "]".repeat(EventParser.MAX_NESTING_DEPTH - 1) + "}";
        assertThat(http.parse(SampleEvents.bytes(ok)).value("waf_match")).startsWith("[[[");
        for (String key : new String[] {"waf_match", "unknown"}) {
            String deep = "{\"" + key + "\":" + "[".repeat(EventParser.MAX_NESTING_DEPTH)
                    + "]".repeat(EventParser.MAX_NESTING_DEPTH) + "}";
            MalformedEventException e = refused(deep);
            assertThat(e.reason()).as(key).isEqualTo(Reason.TOO_DEEP);
            assertThat(e.getMessage()).contains("deeper than 32 levels").contains("key \"" + key + "\"");
        }
    }

    /**
     * The parser guesses each next key from the order it saw last; a guess is only a shortcut: events in other
     * orders, with unknown or escaped keys, or a key twice, read exactly as a parser that never guessed reads them.
     */
    @Test
    void keyOrderGuessesNeverChangeWhatAnEventReads() throws Exception {
        String[] events = {
            "{\"host\":\"a.example\",\"status\":\"200\",\"client\":\"c1\",\"request_uri\":\"/x\"}",
            "{\"client\":\"c2\",\"other\":{\"n\":[1,2]},\"host\":\"b.example\",\"status\":301}",
            "{\"host\":\"a.example\",\"status\":\"200\",\"client\":\"c1\",\"request_uri\":\"/x\"}",
            "{\"ho\\u0073t\":\"escaped.example\",\"status\":\"404\",\"client\":\"c3\"}",
            "{\"status\":\"500\",\"request_uri\":\"/y\",\"host\":\"c.example\",\"client\":\"c4\"}",
            "{\"host\":\"a.example\",\"host\":\"b.example\",\"client\":\"c1\"}",
            "{\"host\":\"a.example\",\"host\":\"b.example\",\"client\":\"c1\"}",
            "{\"host\":\"d.example\",\"status\":\"200\"}",
            "{}",
            "{\"host\":\"a.example\",\"status\":\"200\",\"client\":\"c1\",\"request_uri\":\"/x\"}",
        };
        EventParser guessing = new EventParser(DataSource.HTTP, 4096);
        for (int round = 0; round < 3; round++) {
            for (String event : events) {
                EventParser fresh = new EventParser(DataSource.HTTP, 4096);
                String expected = outcome(fresh, event);
                assertThat(outcome(guessing, event)).as(event).isEqualTo(expected);
            }
        }
        assertThat(outcome(guessing, events[5])).startsWith("DUPLICATE_KEY");
    }

    private static String outcome(EventParser parser, String event) {
        try {
            ParsedEvent e = parser.parse(SampleEvents.bytes(event));
            StringBuilder read = new StringBuilder();
            for (String variable : DataSource.HTTP.variables()) {
                if (e.has(variable)) {
                    read.append(variable).append('=').append(e.value(variable)).append(';');
                }
            }
            return read.toString();
        } catch (MalformedEventException e) {
            return e.getMessage();
        }
    }

    @Test
    void invalidEncoding() {
        byte[] bad = {'{', '"', 'h', 'o', 's', 't', '"', ':', '"', 'a', (byte) 0xC3, (byte) 0x28, '"', '}'};
        MalformedEventException e = refused(bad);
        assertThat(e.reason()).isEqualTo(Reason.INVALID_ENCODING);
        assertThat(e.getMessage()).contains("not valid UTF-8").contains("key \"host\"");
        byte[] lone = {'{', '"', 'h', 'o', 's', 't', '"', ':', '"', (byte) 0xFF, '"', '}'};
        assertThat(refused(lone).reason()).isEqualTo(Reason.INVALID_ENCODING);
        byte[] utf16 = "{\"host\":\"h\"}".getBytes(StandardCharsets.UTF_16LE);
        assertThat(refused(utf16).reason()).isEqualTo(Reason.INVALID_ENCODING);
        byte[] badKey = {'{', '"', (byte) 0x80, '"', ':', '1', '}'};
        assertThat(refused(badKey).reason()).isEqualTo(Reason.INVALID_ENCODING);
        // A value the data source does not read is still checked while skipped.
        byte[] skipped = {'{', '"', 'o', '"', ':', '"', (byte) 0xE2, (byte) 0x28, (byte) 0xA1, '"', '}'};
        assertThat(refused(skipped).reason()).isEqualTo(Reason.INVALID_ENCODING);
    }

    @Test
    void keysWithByteFFAreRefusedEvenWhenJacksonsNameTableWouldTakeThemForAKnownName() throws Exception {
        // Found by fuzzing: Jackson pads a name's last quad with 0xFF bytes, so after an event with "asn" and
        // "client" it read "\xFFasn" as asn and "clie\xFF\xFFnt" as client, unchecked.
        http.parse(SampleEvents.bytes("{\"asn\":\"1\",\"client\":\"c\"}"));
        byte[] asn = {'{', '"', (byte) 0xFF, 'a', 's', 'n', '"', ':', '"', 'x', '"', '}'};
        MalformedEventException e = refused(asn);
        assertThat(e.reason()).isEqualTo(Reason.INVALID_ENCODING);
        assertThat(e.byteOffset()).isEqualTo(2);
        byte[] client = {'{', '"', 'c', 'l', 'i', 'e', (byte) 0xFF, (byte) 0xFF, 'n', 't', '"', ':', '"', 'x', '"', '}'};
        assertThat(refused(client).reason()).isEqualTo(Reason.INVALID_ENCODING);
        assertThat(refused(client).byteOffset()).isEqualTo(6);
    }

    @Test
    void invalidFormsJacksonLetsThroughAreRefusedToo() throws Exception {
        // Found by fuzzing: Jackson lets some ill-formed sequences through (overlong forms such as "\xC0\xA9"
        // for ')', code points above U+10FFFF); each form, in a value read and in one skipped, is refused.
        byte[][] bad = {{(byte) 0xC0, (byte) 0xA9}, {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},
                {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
                {(byte) 0xF0, (byte) 0x80, (byte) 0x80, (byte) 0xAF}, {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80}};
        for (byte[] sequence : bad) {
            for (String key : new String[] {"host", "zz_skipped"}) {
                java.io.ByteArrayOutputStream event = new java.io.ByteArrayOutputStream();
                event.writeBytes(("{\"" + key + "\":\"caf").getBytes(StandardCharsets.US_ASCII));
                event.writeBytes(sequence);
                event.writeBytes("\"}".getBytes(StandardCharsets.US_ASCII));
                MalformedEventException e = refused(event.toByteArray());
                assertThat(e.reason()).as(key + " " + java.util.HexFormat.of().formatHex(sequence))
                        .isEqualTo(Reason.INVALID_ENCODING);
                assertThat(e.getMessage()).contains("not valid UTF-8");
                assertThat(e.byteOffset()).isBetween(key.length() + 8L, key.length() + 8L + sequence.length);
            }
        }
        // The longest well-formed sequences of each length still pass.
        assertThat(http.parse("{\"host\":\"\u07ff\uffff\ud83d\ude00\udbff\udfff\"}".getBytes(StandardCharsets.UTF_8))
                .host()).isEqualTo("\u07ff\uffff\ud83d\ude00\udbff\udfff");
    }

    @Test
    void loneSurrogateEscapesAreKeptInValuesButRefusedInKeys() throws Exception {
        ParsedEvent e = http.parse(SampleEvents.bytes("{\"host\":\"a\\ud800b\\udc00\"}"));
        assertThat(e.host()).isEqualTo("a\ud800b\udc00");
        byte[] record = CompiledTemplate.compile(Templates.custom(DataSource.HTTP, "{\"h\":\"$host\"}")).project(e);
        assertThat(new String(record, StandardCharsets.US_ASCII)).isEqualTo("{\"h\":\"a\\ud800b\\udc00\"}");
        MalformedEventException key = refused("{\"x\\udc73\":1}");
        assertThat(key.reason()).isEqualTo(Reason.INVALID_ENCODING);
        assertThat(key.getMessage()).contains("surrogate");
    }

    @Test
    void messagesNeverEchoHugeInput() {
        String huge = "x".repeat(3000);
        assertThat(refused(huge).getMessage().length()).isLessThan(400);
        assertThat(refused("{\"" + huge + "\":1,\"" + huge + "\":2}").getMessage().length()).isLessThan(400);
        assertThat(refused("{\"host\":" + huge + "}").getMessage().length()).isLessThan(400);
    }

    @Test
    void aFailedParseNeverYieldsARecordAndTheParserRecovers() throws Exception {
        CompiledTemplate t = CompiledTemplate.compile(Templates.byId(184));
        assertThat(catchThrowableOfType(MalformedEventException.class,
                () -> t.project(SampleEvents.bytes("{\"host\":\"h\",\"status\":"))).reason()).isEqualTo(Reason.TRUNCATED);
        byte[] record = t.project(SampleEvents.bytes("{\"host\":\"h2\"}"));
        assertThat(new String(record, StandardCharsets.US_ASCII)).startsWith("{\"time\":\"-\",\"client\":\"-\"")
                .contains("\"host\":\"h2\"");
    }

    @Test
    void compiledTemplateSurvivesJavaSerialization() throws Exception {
        CompiledTemplate t = CompiledTemplate.compile(Templates.custom(DataSource.HTTP, "{\"u\":\"$scheme://$host\"}"));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(t);
        }
        CompiledTemplate copy;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (CompiledTemplate) in.readObject();
        }
        assertThat(copy.template().entries()).isEqualTo(t.template().entries());
        assertThat(new String(copy.project(SampleEvents.bytes("{\"scheme\":\"https\",\"host\":\"h\"}")),
                StandardCharsets.US_ASCII)).isEqualTo("{\"u\":\"https://h\"}");
    }
}
