package io.edgestreaming.config;

import java.util.ArrayList;
import java.util.List;

/** Every problem found so far, each as {@code path: message}. */
final class Problems {
    private final List<String> list = new ArrayList<>();

    void add(String path, String message) {
        list.add(oneLine(path.isEmpty() ? message : path + ": " + message));
    }

    /**
     * Control characters (but tab) as escapes: messages quote file text (a YAML error's character, a
     * refused value), and a problem is one line of a report or log.
     */
    private static String oneLine(String problem) {
        StringBuilder sb = null;
        for (int i = 0; i < problem.length(); i++) {
            char c = problem.charAt(i);
            boolean control = (c < 0x20 && c != '\t') || c == 0x7F;
            if (control && sb == null) {
                sb = new StringBuilder(problem.length() + 16).append(problem, 0, i);
            }
            if (sb != null) {
                sb.append(control ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return sb == null ? problem : sb.toString();
    }

    int size() {
        return list.size();
    }

    boolean isEmpty() {
        return list.isEmpty();
    }

    List<String> list() {
        return list;
    }
}
