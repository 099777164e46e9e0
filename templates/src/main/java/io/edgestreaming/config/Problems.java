package io.edgestreaming.config;

import java.util.ArrayList;
import java.util.List;

/** Every problem found so far, each as {@code path: message}. */
final class Problems {
    private final List<String> list = new ArrayList<>();

    void add(String path, String message) {
        list.add(path.isEmpty() ? message : path + ": " + message);
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
