package io.edgestreaming.templates;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** "Did you mean" suggestions by edit distance. */
final class Names {
    private Names() {}

    /** Up to {@code max} names from {@code known} closest to {@code name} (case-insensitive Levenshtein). */
    static List<String> closest(String name, List<String> known, int max) {
        // Known names are short; comparing a huge typo in full would only cost time.
        String target = (name.length() > 64 ? name.substring(0, 64) : name).toLowerCase(Locale.ROOT);
        record Scored(String name, int distance) {}
        List<Scored> scored = new ArrayList<>();
        for (String candidate : known) {
            scored.add(new Scored(candidate, distance(target, candidate.toLowerCase(Locale.ROOT))));
        }
        scored.sort(Comparator.comparingInt(Scored::distance).thenComparing(Scored::name));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < Math.min(max, scored.size()); i++) {
            out.add(scored.get(i).name());
        }
        return out;
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** Quotes a name for an error message, capping its length and hiding control characters. */
    static String quote(String s) {
        return '"' + cap(s) + '"';
    }

    /**
     * A name for an error message: at most 80 characters as written, control characters as escapes (which
     * count six each, so a name of control characters cannot make the message six times longer).
     */
    static String cap(String s) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            String shown = c < 0x20 || c == 0x7F ? String.format("\\u%04x", (int) c) : String.valueOf(c);
            if (sb.length() + shown.length() > 80) {
                break;
            }
            sb.append(shown);
        }
        if (i < s.length()) {
            sb.append("...(").append(s.length()).append(" chars)");
        }
        return sb.toString();
    }
}
