package io.edgestreaming.templates;

import java.io.Serializable;
import java.util.List;

/**
 * A data set: ordered output keys, each with its value expression as written ({@code "$status"},
 * {@code "-"}, {@code "$scheme://$host$request_uri"}, {@code "${host}:8080"}). Either one of Azion's
 * templates (by id) or a customer's custom {@code template_model}. Validated when created, so every
 * variable it names exists in its data source.
 *
 * <p>Owned by the template engine; see {@code Templates} for how instances are made.
 */
public final class Template implements Serializable {
    private static final long serialVersionUID = 1L;

    /** One output key and its value expression. */
    public record Entry(String key, String expression) implements Serializable {}

    private final Integer id;
    private final String name;
    private final DataSource dataSource;
    private final List<Entry> entries;

    Template(Integer id, String name, DataSource dataSource, List<Entry> entries) {
        this.id = id;
        this.name = name;
        this.dataSource = dataSource;
        this.entries = List.copyOf(entries);
    }

    /** Azion's template id (2, 4, 184), or null for a custom template. */
    public Integer id() {
        return id;
    }

    public String name() {
        return name;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** The data set in output order. */
    public List<Entry> entries() {
        return entries;
    }

    /** How many {@code $variable} references the expressions hold, repeats counted. */
    public int variableCount() {
        int n = 0;
        for (Entry e : entries) {
            Expression.Parsed parsed = Expression.parse(e.expression());
            for (Expression.Part part : parsed.parts()) {
                if (part.isVariable()) {
                    n++;
                }
            }
        }
        return n;
    }

    @Override
    public String toString() {
        return "Template{" + (id == null ? "custom" : "id=" + id) + ", " + dataSource.id() + ", "
                + entries.size() + " keys}";
    }
}
