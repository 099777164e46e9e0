package io.edgestreaming.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * One YAML mapping of the configuration being read: typed getters that report problems at the key's
 * path and return null on a problem, and {@link #finish()} that refuses the keys nobody asked for.
 */
final class Section {
    private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z0-9_-]+");

    private final JsonNode node;
    private final String path;
    private final Problems problems;
    private final References references;
    private final Set<String> used = new LinkedHashSet<>();

    private Section(JsonNode node, String path, Problems problems, References references) {
        this.node = node;
        this.path = path;
        this.problems = problems;
        this.references = references;
    }

    /** The mapping at {@code path}, or null after reporting that it is not one. */
    static Section of(JsonNode node, String path, Problems problems, References references) {
        if (!node.isObject()) {
            problems.add(path, "must be a mapping, was " + kind(node));
            return null;
        }
        return new Section(node, path, problems, references);
    }

    String path() {
        return path;
    }

    Problems problems() {
        return problems;
    }

    References references() {
        return references;
    }

    static String child(String parent, String key) {
        boolean plain = PLAIN_KEY.matcher(key).matches();
        String k = plain ? key : quote(key);
        if (parent.isEmpty()) {
            return k;
        }
        return plain ? parent + "." + k : parent + "[" + k + "]";
    }

    /**
     * A key as a JSON string literal: a backslash or quote in it cannot end the path early, and a control
     * character cannot break the problem's line.
     */
    private static String quote(String key) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7F) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    String pathOf(String key) {
        return child(path, key);
    }

    void problem(String key, String message) {
        problems.add(key == null ? path : pathOf(key), message);
    }

    /** The value, or null when absent or written as null (YAML {@code key:} with nothing). */
    JsonNode get(String key) {
        used.add(key);
        JsonNode n = node.get(key);
        return n == null || n.isNull() ? null : n;
    }

    boolean has(String key) {
        return get(key) != null;
    }

    /** Marks keys as known without reading them (read elsewhere, or refused with a better message). */
    void accept(String... keys) {
        used.addAll(List.of(keys));
    }

    Iterator<Map.Entry<String, JsonNode>> entries() {
        return node.fields();
    }

    boolean isEmpty() {
        return node.isEmpty();
    }

    /** Refuses every key nobody read, suggesting the closest known one. */
    void finish() {
        finish(key -> null);
    }

    /** As {@link #finish()}, {@code hint} giving a better message for some unknown keys (or null). */
    void finish(Function<String, String> hint) {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String key = names.next();
            if (used.contains(key)) {
                continue;
            }
            String special = hint.apply(key);
            if (special != null) {
                problems.add(pathOf(key), special);
                continue;
            }
            String closest = Names.closest(key, used);
            problems.add(pathOf(key), "unknown key"
                    + (closest != null ? " (did you mean " + closest + "?)" : " (known keys: " + String.join(", ", used) + ")"));
        }
    }

    // ---- typed getters ----

    Section section(String key, boolean required) {
        JsonNode n = get(key);
        if (n == null) {
            if (required) {
                problem(key, "is required");
            }
            return null;
        }
        return of(n, pathOf(key), problems, references);
    }

    /** A string (references resolved); required: absent or empty is a problem. */
    References.Text text(String key, boolean required, int maxLength) {
        JsonNode n = get(key);
        if (n == null) {
            if (required) {
                problem(key, "is required");
            }
            return null;
        }
        if (!n.isTextual()) {
            problem(key, "must be a string, was " + kind(n) + (n.isValueNode() ? " (quote it)" : ""));
            return null;
        }
        References.Text t = references.resolve(n.textValue(), pathOf(key), problems);
        if (t == null) {
            return null;
        }
        if (required && t.value().isEmpty()) {
            problem(key, "must not be empty");
            return null;
        }
        if (t.value().length() > maxLength) {
            problem(key, "must be at most " + maxLength + " characters, has " + t.value().length());
            return null;
        }
        return t;
    }

    String string(String key, boolean required, int maxLength) {
        References.Text t = text(key, required, maxLength);
        return t == null ? null : t.value();
    }

    /** The text of a scalar field (string, number or boolean) whose consumer takes strings. */
    static References.Text scalarText(JsonNode n, String path, Problems problems, References references) {
        if (n.isTextual()) {
            return references.resolve(n.textValue(), path, problems);
        }
        if (n.isIntegralNumber() || n.isBoolean()) {
            return new References.Text(n.asText(), null);
        }
        problems.add(path, "must be a string, was " + kind(n));
        return null;
    }

    /** The scalar's text when it is a string holding a reference (so numbers can come from the environment). */
    private String referencedText(JsonNode n, String key) {
        if (n.isTextual() && References.hasReference(n.textValue())) {
            References.Text t = references.resolve(n.textValue(), pathOf(key), problems);
            return t == null ? null : t.value().trim();
        }
        return null;
    }

    Long integer(String key, long min, long max, Long dflt) {
        JsonNode n = get(key);
        if (n == null) {
            if (dflt == null) {
                problem(key, "is required");
            }
            return dflt;
        }
        long value;
        if (n.isIntegralNumber()) {
            BigInteger big = n.bigIntegerValue();
            if (big.bitLength() > 63) {
                problem(key, "must be between " + min + " and " + max + ", was " + big);
                return null;
            }
            value = big.longValue();
        } else if (n.isTextual() && References.hasReference(n.textValue())) {
            String t = referencedText(n, key);
            if (t == null) {
                return null;
            }
            try {
                value = Long.parseLong(t);
            } catch (NumberFormatException e) {
                problem(key, "must be an integer, " + n.textValue() + " is not one");
                return null;
            }
        } else {
            problem(key, "must be an integer, was " + kind(n));
            return null;
        }
        if (value < min || value > max) {
            problem(key, "must be between " + min + " and " + max + ", was " + value);
            return null;
        }
        return value;
    }

    Double number(String key, Double dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (n.isNumber()) {
            return n.doubleValue();
        }
        if (n.isTextual() && References.hasReference(n.textValue())) {
            String t = referencedText(n, key);
            if (t == null) {
                return null;
            }
            try {
                return Double.parseDouble(t);
            } catch (NumberFormatException e) {
                problem(key, "must be a number, " + n.textValue() + " is not one");
                return null;
            }
        }
        problem(key, "must be a number, was " + kind(n));
        return null;
    }

    Boolean bool(String key, Boolean dflt) {
        JsonNode n = get(key);
        if (n == null) {
            if (dflt == null) {
                problem(key, "is required");
            }
            return dflt;
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isTextual() && References.hasReference(n.textValue())) {
            String t = referencedText(n, key);
            if (t == null) {
                return null;
            }
            if (t.equalsIgnoreCase("true") || t.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(t);
            }
            problem(key, "must be true or false, " + n.textValue() + " is neither");
            return null;
        }
        problem(key, "must be true or false, was " + kind(n));
        return null;
    }

    Duration duration(String key, Duration min, Duration max, Duration dflt) {
        return duration(key, min, max, dflt, null);
    }

    /** As above; {@code whyMax}, if not null, is appended to the refusal of a value above {@code max}. */
    Duration duration(String key, Duration min, Duration max, Duration dflt, String whyMax) {
        String aboveMax = whyMax == null ? "" : ": " + whyMax;
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        Duration d;
        if (n.isIntegralNumber()) {
            if (n.bigIntegerValue().bitLength() > 40) {
                problem(key, "must be between " + Durations.format(min) + " and " + Durations.format(max)
                        + ", was " + n.bigIntegerValue() + "s" + (n.bigIntegerValue().signum() > 0 ? aboveMax : ""));
                return null;
            }
            d = Duration.ofSeconds(n.longValue());
        } else if (n.isTextual()) {
            References.Text t = references.resolve(n.textValue(), pathOf(key), problems);
            if (t == null) {
                return null;
            }
            try {
                d = Durations.parse(t.value());
            } catch (IllegalArgumentException e) {
                problem(key, t.shown() + " " + e.getMessage());
                return null;
            }
        } else {
            problem(key, "must be a duration such as 60s, 5m or PT1M, was " + kind(n));
            return null;
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            problem(key, "must be between " + Durations.format(min) + " and " + Durations.format(max)
                    + ", was " + Durations.format(d) + (d.compareTo(max) > 0 ? aboveMax : ""));
            return null;
        }
        return d;
    }

    /** One of {@code options} (keys compared case-insensitively), or dflt when absent; null when required and absent. */
    <E> E choice(String key, Map<String, E> options, E dflt, boolean required) {
        JsonNode n = get(key);
        if (n == null) {
            if (required) {
                problem(key, "is required (one of " + String.join(", ", options.keySet()) + ")");
            }
            return dflt;
        }
        if (!n.isTextual()) {
            problem(key, "must be one of " + String.join(", ", options.keySet()) + ", was " + kind(n));
            return null;
        }
        References.Text t = references.resolve(n.textValue(), pathOf(key), problems);
        if (t == null) {
            return null;
        }
        for (Map.Entry<String, E> option : options.entrySet()) {
            if (option.getKey().equalsIgnoreCase(t.value().trim())) {
                return option.getValue();
            }
        }
        problem(key, "must be one of " + String.join(", ", options.keySet()) + ", was " + t.shown());
        return null;
    }

    /** A list's elements, or null after a problem; absent gives null without a problem. */
    List<JsonNode> list(String key) {
        JsonNode n = get(key);
        if (n == null) {
            return null;
        }
        if (!n.isArray()) {
            problem(key, "must be a list, was " + kind(n));
            return null;
        }
        List<JsonNode> out = new ArrayList<>();
        n.forEach(out::add);
        return out;
    }

    /** Options in the order given, for {@link #choice}. */
    @SafeVarargs
    static <E> Map<String, E> options(Map.Entry<String, E>... entries) {
        Map<String, E> m = new LinkedHashMap<>();
        for (Map.Entry<String, E> e : entries) {
            m.put(e.getKey(), e.getValue());
        }
        return m;
    }

    /** What a node is, for "was ..." messages; never shows the value (it may be a secret). */
    static String kind(JsonNode n) {
        if (n == null || n.isNull()) {
            return "empty";
        }
        if (n.isTextual()) {
            return "a string";
        }
        if (n.isBoolean()) {
            return "a boolean";
        }
        if (n.isIntegralNumber()) {
            return "an integer";
        }
        if (n.isNumber()) {
            return "a decimal number";
        }
        if (n.isArray()) {
            return "a list";
        }
        if (n.isObject()) {
            return "a mapping";
        }
        return n.getNodeType().name().toLowerCase(Locale.ROOT);
    }
}
