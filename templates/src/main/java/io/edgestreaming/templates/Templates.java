package io.edgestreaming.templates;

/**
 * Where {@link Template}s come from: Azion's maintained templates by id, or a custom data set.
 * (Signatures fixed; bodies written with the template engine.)
 */
public final class Templates {
    private Templates() {}

    /**
     * Azion's template {@code id} (2, 4 or 184).
     *
     * @throws TemplateException naming the id and the known ids when unknown
     */
    public static Template byId(int id) throws TemplateException {
        throw new UnsupportedOperationException("template engine not written yet");
    }

    /**
     * A custom data set ({@code template_model}): a JSON object of output key to string expression.
     *
     * @throws TemplateException with every problem (invalid JSON, non-object, non-string value, unknown
     *     variable with the closest known names, variable missing from {@code dataSource}, empty)
     */
    public static Template custom(DataSource dataSource, String templateModelJson) throws TemplateException {
        throw new UnsupportedOperationException("template engine not written yet");
    }
}
