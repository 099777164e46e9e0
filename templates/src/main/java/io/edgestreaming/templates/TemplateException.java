package io.edgestreaming.templates;

import java.util.List;

/** A template that cannot be used; {@link #problems()} holds one message per problem. */
public class TemplateException extends Exception {
    private static final long serialVersionUID = 1L;
    private final List<String> problems;

    public TemplateException(List<String> problems) {
        super(String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public TemplateException(String problem) {
        this(List.of(problem));
    }

    public List<String> problems() {
        return problems;
    }
}
