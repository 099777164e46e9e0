package io.edgestreaming.templates;

import java.util.ArrayList;
import java.util.List;

/**
 * A data-set value expression split into literal text and variable references.
 *
 * <p>Syntax: {@code $name} (name = letter or {@code _}, then letters, digits, {@code _}; the longest such
 * run is the name, so {@code "$host$request_uri"} is two variables and {@code "$hostname"} is the
 * unknown variable {@code hostname}); {@code ${name}} to delimit a name inside text
 * ({@code "${host}:8080"}); {@code $$} writes one literal {@code $}. A {@code $} followed by anything
 * else (a digit, a space, the end) is kept as a literal {@code $}, so {@code "US$ 5"} and {@code "$"}
 * mean themselves.
 */
final class Expression {

    /** One piece: {@code variable} non-null for a reference, else {@code literal}. */
    record Part(String literal, String variable) {
        static Part literal(String text) {
            return new Part(text, null);
        }

        static Part variable(String name) {
            return new Part(null, name);
        }

        boolean isVariable() {
            return variable != null;
        }
    }

    /** Parsed parts, or {@code error} when the syntax is broken. */
    record Parsed(List<Part> parts, String error) {}

    private Expression() {}

    static Parsed parse(String expression) {
        List<Part> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        int n = expression.length();
        while (i < n) {
            char c = expression.charAt(i);
            if (c != '$' || i + 1 >= n) {
                literal.append(c);
                i++;
                continue;
            }
            char next = expression.charAt(i + 1);
            if (next == '$') {
                literal.append('$');
                i += 2;
            } else if (next == '{') {
                int close = expression.indexOf('}', i + 2);
                if (close < 0) {
                    return new Parsed(List.of(), "unclosed \"${\" at position " + i);
                }
                String name = expression.substring(i + 2, close);
                if (!isName(name)) {
                    // Capped and escaped: the name is customer text, the problem one line of a report.
                    return new Parsed(List.of(), "\"${" + Names.cap(name) + "}\" at position " + i
                            + " is not a variable name (letters, digits and _, not starting with a digit)");
                }
                flush(literal, parts);
                parts.add(Part.variable(name));
                i = close + 1;
            } else if (isNameStart(next)) {
                int end = i + 2;
                while (end < n && isNamePart(expression.charAt(end))) {
                    end++;
                }
                flush(literal, parts);
                parts.add(Part.variable(expression.substring(i + 1, end)));
                i = end;
            } else {
                literal.append('$');
                i++;
            }
        }
        flush(literal, parts);
        return new Parsed(List.copyOf(parts), null);
    }

    private static void flush(StringBuilder literal, List<Part> parts) {
        if (literal.length() > 0) {
            parts.add(Part.literal(literal.toString()));
            literal.setLength(0);
        }
    }

    static boolean isName(String s) {
        if (s.isEmpty() || !isNameStart(s.charAt(0))) {
            return false;
        }
        for (int i = 1; i < s.length(); i++) {
            if (!isNamePart(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isNameStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    }

    private static boolean isNamePart(char c) {
        return isNameStart(c) || (c >= '0' && c <= '9');
    }
}
