package io.edgestreaming.bench;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgestreaming.templates.Template;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * A template projected the way a Flink user would write it with Jackson's tree model: {@code readTree} the raw
 * event, build an {@code ObjectNode} with the template's keys, {@code writeValueAsBytes} (ASCII-escaped, as the
 * job writes). A variable the event lacks (or null) is {@code -}, a nested value its JSON text, any other value
 * its text. Used twice, independently of the job's code: as the stock pipeline's map function and to compute the
 * records every stream of the job must deliver.
 *
 * <p>Expressions follow the README's syntax, implemented here on their own: {@code $name} (a letter or
 * {@code _}, then letters, digits, {@code _}), {@code ${name}}, {@code $$} for a literal {@code $}, any other
 * {@code $} literal. Not thread-safe (one instance per subtask; serializable for Flink).
 */
final class TreeProjection implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String[] keys;
    /** Per key: its parts, each a literal text or a variable name (where {@link #isVariable} says so). */
    private final String[][] parts;
    private final boolean[][] isVariable;
    private transient ObjectMapper mapper;

    private TreeProjection(String[] keys, String[][] parts, boolean[][] isVariable) {
        this.keys = keys;
        this.parts = parts;
        this.isVariable = isVariable;
    }

    static TreeProjection of(Template template) {
        List<Template.Entry> entries = template.entries();
        String[] keys = new String[entries.size()];
        String[][] parts = new String[entries.size()][];
        boolean[][] vars = new boolean[entries.size()][];
        for (int i = 0; i < entries.size(); i++) {
            keys[i] = entries.get(i).key();
            List<String> p = new ArrayList<>();
            List<Boolean> v = new ArrayList<>();
            parse(entries.get(i).expression(), p, v);
            parts[i] = p.toArray(new String[0]);
            vars[i] = new boolean[v.size()];
            for (int j = 0; j < v.size(); j++) {
                vars[i][j] = v.get(j);
            }
        }
        return new TreeProjection(keys, parts, vars);
    }

    private static void parse(String expression, List<String> parts, List<Boolean> isVariable) {
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < expression.length()) {
            char c = expression.charAt(i);
            char next = i + 1 < expression.length() ? expression.charAt(i + 1) : 0;
            if (c != '$') {
                literal.append(c);
                i++;
            } else if (next == '$') {
                literal.append('$');
                i += 2;
            } else if (next == '{') {
                int close = expression.indexOf('}', i);
                flush(literal, parts, isVariable);
                parts.add(expression.substring(i + 2, close));
                isVariable.add(true);
                i = close + 1;
            } else if (Character.isLetter(next) || next == '_') {
                int end = i + 1;
                while (end < expression.length() && (Character.isLetterOrDigit(expression.charAt(end))
                        || expression.charAt(end) == '_')) {
                    end++;
                }
                flush(literal, parts, isVariable);
                parts.add(expression.substring(i + 1, end));
                isVariable.add(true);
                i = end;
            } else {
                literal.append('$');
                i++;
            }
        }
        flush(literal, parts, isVariable);
    }

    private static void flush(StringBuilder literal, List<String> parts, List<Boolean> isVariable) {
        if (literal.length() > 0) {
            parts.add(literal.toString());
            isVariable.add(false);
            literal.setLength(0);
        }
    }

    private ObjectMapper mapper() {
        if (mapper == null) {
            mapper = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
        }
        return mapper;
    }

    /** The raw event as a tree; throws when it is not JSON, and returns null when it is not an object. */
    JsonNode parse(byte[] event) throws IOException {
        JsonNode tree = mapper().readTree(event);
        return tree != null && tree.isObject() ? tree : null;
    }

    /** The record of a raw event; null when the event is not a JSON object. */
    byte[] project(byte[] event) throws IOException {
        JsonNode tree = parse(event);
        return tree == null ? null : project(tree);
    }

    byte[] project(JsonNode event) throws IOException {
        ObjectNode out = mapper().createObjectNode();
        for (int i = 0; i < keys.length; i++) {
            String[] p = parts[i];
            if (p.length == 1 && isVariable[i][0]) {
                out.put(keys[i], text(event.get(p[0])));
                continue;
            }
            StringBuilder value = new StringBuilder();
            for (int j = 0; j < p.length; j++) {
                value.append(isVariable[i][j] ? text(event.get(p[j])) : p[j]);
            }
            out.put(keys[i], value.toString());
        }
        return mapper().writeValueAsBytes(out);
    }

    private static String text(JsonNode v) {
        return v == null || v.isNull() ? "-" : v.isValueNode() ? v.asText() : v.toString();
    }
}
