package io.edgestreaming.templates;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Coverage-guided fuzzing (Jazzer) of the template compiler: custom {@code template_model} data sets through
 * {@link Templates#custom} and {@link CompiledTemplate#compile}, then projected. Seeds: {@code
 * src/test/resources/io/edgestreaming/templates/TemplateCompilerFuzzTestInputs/<method>/}.
 *
 * <p>Properties: the only refusal is {@link TemplateException} with one-line problems; an accepted data set
 * compiles; its records hold exactly what an independent reading of the documented expression syntax
 * expects; and no value is expanded twice: every event value carries a marker and {@code $variable} text of
 * its own, and each marker appears exactly as often as the data set references its variable.
 */
class TemplateCompilerFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory FACTORY = new JsonFactory();
    /** The documented syntax, read independently of {@link Expression}: one token per match, in order. */
    private static final Pattern TOKEN = Pattern.compile(
            "\\$\\$|\\$\\{([^}]*)}|\\$\\{|\\$([A-Za-z_][A-Za-z0-9_]*)|\\$|[^$]+");
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** Raw text as the template_model (the first byte picks the data source: http, waf, or none). */
    @FuzzTest
    void anyTemplateModel(byte[] input) throws Exception {
        if (input.length == 0) {
            return;
        }
        DataSource source = (input[0] & 3) == 3 ? null : (input[0] & 1) == 0 ? DataSource.HTTP : DataSource.WAF;
        String model = new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
        Template template = customOrNull(source, model);
        // Without a data source a data set is only checked, never accepted.
        assertThat(template == null || source != null).isTrue();
        if (template != null) {
            Map<String, Integer> counts = new HashMap<>();
            for (Template.Entry entry : template.entries()) {
                assertThat(expected(entry.expression(), source, Map.of(), counts))
                        .as("accepted %s, which the documented syntax refuses", entry.expression()).isNotNull();
            }
            checkProjection(template, allMarkers(source));
        }
    }

    /** Data sets built from pieces of the syntax (valid or not), with every kind of event value. */
    @FuzzTest
    void expandsEachReferenceOnce(FuzzedDataProvider data) throws Exception {
        DataSource source = data.pickValue(DataSource.values());
        List<String> variables = source.variables();
        int entries = data.consumeInt(0, 8);
        StringWriter text = new StringWriter();
        boolean valid = entries > 0;
        Set<String> keys = new HashSet<>();
        try (JsonGenerator g = FACTORY.createGenerator(text)) {
            g.configure(JsonGenerator.Feature.ESCAPE_NON_ASCII, data.consumeBoolean());
            g.writeStartObject();
            for (int e = 0; e < entries; e++) {
                String key = data.consumeBoolean() ? "k" + data.consumeInt(0, 9) : data.consumeString(12);
                valid &= keys.add(key);
                g.writeFieldName(key);
                if (data.consumeInt(0, 15) == 0) {
                    g.writeNumber(e); // not a string expression: refused
                    valid = false;
                    continue;
                }
                String expression = expression(data, variables);
                valid &= expected(expression, source, Map.of(), new HashMap<>()) != null;
                g.writeString(expression);
            }
            g.writeEndObject();
        }
        Template template = customOrNull(source, text.toString());
        assertThat(template != null).as("accepted %s", text).isEqualTo(valid);
        if (template != null) {
            Map<String, Value> values = new HashMap<>();
            for (int i = 0; i < variables.size(); i++) {
                values.put(variables.get(i), Value.pick(data.consumeInt(0, 5), i, variables));
            }
            checkProjection(template, values);
        }
    }

    // ---- generation

    private static String expression(FuzzedDataProvider data, List<String> variables) {
        StringBuilder sb = new StringBuilder();
        for (int parts = data.consumeInt(0, 5); parts > 0; parts--) {
            switch (data.consumeInt(0, 9)) {
                case 0, 1 -> sb.append('$').append(data.pickValue(variables));
                case 2 -> sb.append("${").append(data.pickValue(variables)).append('}');
                case 3 -> sb.append("$$");
                case 4 -> sb.append('$');
                case 5 -> sb.append("${").append(data.consumeString(6)).append(data.consumeBoolean() ? "}" : "");
                case 6 -> sb.append('$').append(data.pickValue(DataSource.values()).variables().get(0))
                        .append(data.consumeString(3)); // another source's variable, or a longer name
                default -> sb.append(data.consumeString(8));
            }
        }
        return sb.toString();
    }

    /** One event value: a marker that names other variables, so expanding it again would show. */
    private record Value(String json, String text, String marker) {
        static Value pick(int kind, int i, List<String> variables) {
            String others = " $" + variables.get((i + 1) % variables.size()) + " ${"
                    + variables.get((i + 2) % variables.size()) + "} $$ $";
            return switch (kind) {
                case 0 -> null; // absent
                case 1 -> new Value("null", null, null);
                case 2 -> new Value(Integer.toString(1000 + i), Integer.toString(1000 + i), null);
                case 3 -> plain("<<M" + i + ">>", others + " \" \\ /");
                default -> plain("\u27e6M" + i + "\u27e7", others + " \u00e9 \ud83d\ude00 \n \u0001");
            };
        }

        private static Value plain(String marker, String rest) {
            String text = marker + rest;
            try {
                return new Value(JSON.writeValueAsString(text), text, marker);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static Map<String, Value> allMarkers(DataSource source) {
        Map<String, Value> values = new HashMap<>();
        for (int i = 0; i < source.variables().size(); i++) {
            values.put(source.variables().get(i), Value.pick(3 + (i & 1), i, source.variables()));
        }
        return values;
    }

    // ---- checks

    private static Template customOrNull(DataSource source, String model) {
        try {
            return Templates.custom(source, model);
        } catch (TemplateException e) {
            assertThat(e.problems()).isNotEmpty();
            assertThat(e.getMessage()).isEqualTo(String.join("; ", e.problems()));
            for (String problem : e.problems()) {
                assertThat(problem).isNotBlank().hasSizeLessThan(1000);
                assertThat(problem.chars().noneMatch(c -> c == '\n' || c == '\r'))
                        .as("one line: %s", problem).isTrue();
            }
            return null;
        }
    }

    private static void checkProjection(Template template, Map<String, Value> values) throws Exception {
        CompiledTemplate compiled = CompiledTemplate.compile(template);
        StringBuilder event = new StringBuilder("{");
        values.forEach((variable, value) -> {
            if (value != null) {
                event.append(event.length() > 1 ? "," : "").append('"').append(variable).append("\":").append(value.json());
            }
        });
        ParsedEvent parsed = new EventParser(template.dataSource(), 1 << 20)
                .parse(event.append('}').toString().getBytes(StandardCharsets.UTF_8));
        byte[] record = compiled.project(parsed);
        JsonNode node = EventProjectionFuzzTest.checkRecord(record, template, parsed);

        Map<String, String> texts = new HashMap<>();
        values.forEach((variable, value) -> texts.put(variable, value == null ? null : value.text()));
        Map<String, Integer> references = new HashMap<>();
        StringBuilder templateText = new StringBuilder();
        StringBuilder output = new StringBuilder();
        for (Template.Entry entry : template.entries()) {
            String expected = expected(entry.expression(), template.dataSource(), texts, references);
            assertThat(node.get(entry.key()).textValue()).as("%s = %s", entry.key(), entry.expression())
                    .isEqualTo(expected);
            templateText.append(entry.key()).append('\n').append(entry.expression()).append('\n');
            output.append(node.get(entry.key()).textValue()).append('\n');
        }
        if (templateText.indexOf("<<M") >= 0 || templateText.indexOf("\u27e6") >= 0) {
            return; // the data set itself writes marker text: counts would mean nothing
        }
        for (Map.Entry<String, Value> v : values.entrySet()) {
            if (v.getValue() != null && v.getValue().marker() != null) {
                assertThat(occurrences(output, v.getValue().marker())).as("marker of $%s", v.getKey())
                        .isEqualTo(references.getOrDefault(v.getKey(), 0));
            }
        }
    }

    /**
     * The expansion the documented syntax gives (an absent or null value is "-"), counting references per
     * variable; null when the syntax refuses the expression or it names a variable {@code source} lacks.
     */
    private static String expected(String expression, DataSource source, Map<String, String> values,
            Map<String, Integer> references) {
        StringBuilder out = new StringBuilder();
        Matcher m = TOKEN.matcher(expression);
        int at = 0;
        while (at < expression.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new AssertionError("tokenizer gap at " + at + " in " + expression);
            }
            String token = m.group();
            String variable = null;
            if (token.equals("$$")) {
                out.append('$');
            } else if (m.group(1) != null) {
                if (!NAME.matcher(m.group(1)).matches()) {
                    return null;
                }
                variable = m.group(1);
            } else if (token.equals("${")) {
                return null;
            } else if (m.group(2) != null) {
                variable = m.group(2);
            } else {
                out.append(token);
            }
            if (variable != null) {
                if (!source.hasVariable(variable)) {
                    return null;
                }
                references.merge(variable, 1, Integer::sum);
                String value = values.get(variable);
                out.append(value == null ? "-" : value);
            }
            at = m.end();
        }
        return out.toString();
    }

    private static int occurrences(CharSequence text, String marker) {
        int n = 0;
        for (int i = text.toString().indexOf(marker); i >= 0; i = text.toString().indexOf(marker, i + 1)) {
            n++;
        }
        return n;
    }
}
