package io.edgestreaming.config;

import java.util.List;

/** A configuration that cannot be used; {@link #problems()} lists every problem, each with its path. */
public class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;
    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(problems.size() + " configuration problem(s):\n  " + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    /** Each entry reads {@code path: message}, e.g. {@code streams[2].endpoint.url: ...}. */
    public List<String> problems() {
        return problems;
    }
}
