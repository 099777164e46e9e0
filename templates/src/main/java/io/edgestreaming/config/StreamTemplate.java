package io.edgestreaming.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.templates.Template;
import io.edgestreaming.templates.TemplateException;
import io.edgestreaming.templates.Templates;

/** A stream's template: an Azion one by {@code template_id}, or a custom {@code template_model} within the limits. */
final class StreamTemplate {
    private static final ObjectMapper JSON = new ObjectMapper();

    private StreamTemplate() {}

    static Template read(Section s, DataSource dataSource) {
        boolean hasId = s.has("template_id");
        boolean hasModel = s.has("template_model");
        if (hasId && hasModel) {
            s.problem("template_model", "cannot be combined with template_id; set exactly one");
            customTemplate(s, dataSource); // so the model's own problems are listed too
            return null;
        }
        if (!hasId && !hasModel) {
            s.problem("template_id", "is required: an Azion template (2, 4, 184) or a custom template_model");
            return null;
        }
        if (hasId) {
            Long id = s.integer("template_id", 1, Integer.MAX_VALUE, null);
            if (id == null) {
                return null;
            }
            try {
                Template t = Templates.byId(id.intValue());
                if (dataSource != null && t.dataSource() != dataSource) {
                    s.problem("template_id", "template " + id + " (" + t.name() + ") is for data source "
                            + t.dataSource().id() + ", but data_source is " + dataSource.id());
                    return null;
                }
                return t;
            } catch (TemplateException ex) {
                ex.problems().forEach(p -> s.problem("template_id", p));
                return null;
            }
        }
        return customTemplate(s, dataSource);
    }

    private static Template customTemplate(Section s, DataSource dataSource) {
        JsonNode model = s.get("template_model");
        String json;
        if (model.isTextual()) {
            // Measured below in bytes, the same for both forms.
            References.Text t = s.text("template_model", true, Integer.MAX_VALUE);
            if (t == null) {
                return null;
            }
            json = t.value();
        } else if (model.isObject()) {
            try {
                json = JSON.writeValueAsString(model);
            } catch (JsonProcessingException ex) {
                s.problem("template_model", "cannot be written as JSON: " + ex.getOriginalMessage());
                return null;
            }
        } else {
            s.problem("template_model", "must be a JSON object (as a string, as Azion's API takes it) or a mapping,"
                    + " was " + Section.kind(model));
            return null;
        }
        long bytes = ConfigDocument.utf8Length(json);
        if (bytes > Limits.MAX_TEMPLATE_BYTES) {
            s.problem("template_model", "has " + bytes + " bytes of JSON; a custom template may have at most "
                    + Limits.bytes(Limits.MAX_TEMPLATE_BYTES) + " (" + Limits.MAX_TEMPLATE_BYTES + " bytes)");
            return null;
        }
        try {
            // Without a (valid) data source the data set's syntax is still checked.
            Template template = Templates.custom(dataSource, json);
            int variables = template.variableCount();
            if (variables > Limits.MAX_TEMPLATE_VARIABLES) {
                s.problem("template_model", "has " + variables + " $variables; a custom template may have at most "
                        + Limits.MAX_TEMPLATE_VARIABLES);
                return null;
            }
            return template;
        } catch (TemplateException ex) {
            for (String p : ex.problems()) {
                if (dataSource != null || !p.startsWith("data_source is required")) {
                    s.problem("template_model", p); // data_source's own problem is reported at its path
                }
            }
            return null;
        }
    }
}
