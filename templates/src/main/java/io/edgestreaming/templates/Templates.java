package io.edgestreaming.templates;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where {@link Template}s come from: Azion's maintained templates by id, or a custom data set.
 *
 * <p>Expression syntax (see {@link Expression}): {@code $name}, {@code ${name}}, {@code $$} for a literal
 * {@code $}; any other {@code $} (not followed by a letter, {@code _}, <code>{</code> or {@code $}) is
 * kept as a literal {@code $}.
 */
public final class Templates {
    private Templates() {}

    private static final JsonFactory JSON = new JsonFactory();

    private static final List<Template> AZION = List.of(
            azion(2, "Edge Applications Event Collector", DataSource.HTTP,
                    "{\"version\":\"$version\",\"time\":\"$time\",\"client\":\"$client\",\"configuration\":\"$configuration\",\"host\":\"$host\",\"request_time\":\"$request_time\",\"request_method\":\"$request_method\",\"upstream_cache_status\":\"$upstream_cache_status\",\"status\":\"$status\",\"proxy_status\":\"$proxy_status\",\"upstream_status\":\"$upstream_status\",\"upstream_bytes_received\":\"$upstream_bytes_received\",\"scheme\":\"$scheme\",\"request_uri\":\"$request_uri\",\"sent_http_content_type\":\"$sent_http_content_type\",\"server_protocol\":\"$server_protocol\",\"request_length\":\"$request_length\",\"bytes_sent\":\"$bytes_sent\",\"upstream_connect_time\":\"$upstream_connect_time\",\"upstream_header_time\":\"$upstream_header_time\",\"upstream_response_time\":\"$upstream_response_time\",\"tcpinfo_rtt\":\"$tcpinfo_rtt\",\"remote_addr\":\"$remote_addr\",\"remote_port\":\"$remote_port\",\"waf_attack_family\":\"$waf_attack_family\",\"waf_attack_action\":\"$waf_attack_action\",\"country\":\"$country\",\"state\":\"$state\",\"ssl_protocol\":\"$ssl_protocol\",\"ssl_cipher\":\"$ssl_cipher\",\"http_user_agent\":\"$http_user_agent\",\"http_referrer\":\"$http_referrer\",\"sent_http_x_original_image_size\":\"$sent_http_x_original_image_size\",\"requestPath\":\"$requestPath\",\"requestQuery\":\"$requestQuery\"}"),
            azion(4, "WAF Event Collector", DataSource.WAF,
                    "{\"version\":\"$version\",\"time\":\"$time\",\"client\":\"$client\",\"configuration\":\"$configuration\",\"host\":\"$host\",\"remote_addr\":\"$remote_addr\",\"server_protocol\":\"$server_protocol\",\"country\":\"$country\",\"waf_server\":\"$waf_server\",\"waf_uri\":\"$waf_uri\",\"waf_learning\":\"$waf_learning\",\"blocked\":\"$blocked\",\"waf_score\":\"$waf_score\",\"waf_match\":\"$waf_match\",\"waf_attack_family\":\"$waf_attack_family\",\"waf_attack_action\":\"$waf_attack_action\",\"headers\":\"-\",\"truncated_body\":\"$truncated_body\",\"waf_args\":\"$waf_args\",\"requestPath\":\"$requestPath\",\"requestQuery\":\"$requestQuery\"}"),
            azion(184, "Edge Applications + WAF Event Collector", DataSource.HTTP,
                    "{\"time\":\"$time\",\"client\":\"$client\",\"session_id\":\"$session_id\",\"stream\":\"$stream\",\"host\":\"$host\",\"request_time\":\"$request_time\",\"request_method\":\"$request_method\",\"status\":\"$status\",\"proxy_status\":\"$proxy_status\",\"scheme\":\"$scheme\",\"request_uri\":\"$request_uri\",\"request_length\":\"$request_length\",\"bytes_sent\":\"$bytes_sent\",\"tcpinfo_rtt\":\"$tcpinfo_rtt\",\"upstream_cache_status\":\"$upstream_cache_status\",\"upstream_status\":\"$upstream_status\",\"upstream_bytes_received\":\"$upstream_bytes_received\",\"upstream_connect_time\":\"$upstream_connect_time\",\"upstream_header_time\":\"$upstream_header_time\",\"upstream_response_time\":\"$upstream_response_time\",\"upstream_addr\":\"$upstream_addr\",\"upstream_bytes_sent\":\"$upstream_bytes_sent\",\"sent_http_content_type\":\"$sent_http_content_type\",\"http_user_agent\":\"$http_user_agent\",\"http_referer\":\"$http_referrer\",\"sent_http_x_original_image_size\":\"$sent_http_x_original_image_size\",\"server_protocol\":\"$server_protocol\",\"server_port\":\"$server_port\",\"server_addr\":\"$server_addr\",\"remote_addr\":\"$remote_addr\",\"remote_port\":\"$remote_port\",\"waf_attack_family\":\"$waf_attack_family\",\"waf_attack_action\":\"$waf_attack_action\",\"waf_learning\":\"$waf_learning\",\"waf_block\":\"$waf_block\",\"waf_total_processed\":\"$waf_total_processed\",\"waf_total_blocked\":\"$waf_total_blocked\",\"waf_score\":\"$waf_score\",\"waf_match\":\"$waf_match\",\"waf_headers\":\"$waf_headers\",\"country\":\"$country\",\"state\":\"$state\",\"asn\":\"$asn\",\"ssl_protocol\":\"$ssl_protocol\",\"ssl_cipher\":\"$ssl_cipher\",\"ssl_session_reused\":\"$ssl_session_reused\",\"ssl_server_name\":\"$ssl_server_name\",\"request_id\":\"$request_id\",\"requestPath\":\"$requestPath\",\"requestQuery\":\"$requestQuery\",\"configuration\":\"$configuration\"}"));

    /**
     * Azion's template {@code id} (2, 4 or 184).
     *
     * @throws TemplateException naming the id and the known ids when unknown
     */
    public static Template byId(int id) throws TemplateException {
        for (Template t : AZION) {
            if (t.id() == id) {
                return t;
            }
        }
        throw new TemplateException("unknown template_id " + id + ": Azion's templates are "
                + AZION.stream().map(t -> t.id() + " (" + t.name() + ", data source " + t.dataSource().id() + ")")
                        .collect(Collectors.joining(", ")));
    }

    /** Azion's maintained templates 2, 4 and 184, in that order. */
    public static List<Template> azionTemplates() {
        return AZION;
    }

    /**
     * A custom data set ({@code template_model}): a JSON object of output key to string expression.
     *
     * @throws TemplateException with every problem (invalid JSON, non-object, non-string value, unknown
     *     variable with the closest known names, variable missing from {@code dataSource}, empty)
     */
    public static Template custom(DataSource dataSource, String templateModelJson) throws TemplateException {
        return parse(null, "Custom Template", dataSource, templateModelJson);
    }

    private static Template azion(int id, String name, DataSource source, String dataSet) {
        try {
            return parse(id, name, source, dataSet);
        } catch (TemplateException e) {
            throw new ExceptionInInitializerError("Azion template " + id + " is broken: " + e.getMessage());
        }
    }

    private static Template parse(Integer id, String name, DataSource source, String json) throws TemplateException {
        List<String> problems = new ArrayList<>();
        if (source == null) {
            problems.add("data_source is required to check the template's variables (http or waf)");
        }
        if (json == null || json.isBlank()) {
            problems.add("template_model is missing: it must be a JSON object of output key to expression,"
                    + " e.g. {\"status\":\"$status\"}");
            throw new TemplateException(problems);
        }
        List<Template.Entry> entries = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        try (JsonParser p = JSON.createParser(json)) {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_OBJECT) {
                problems.add("template_model must be a JSON object of output key to expression, got "
                        + describe(t));
                throw new TemplateException(problems);
            }
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken value = p.nextToken();
                if (!keys.add(key)) {
                    problems.add("key " + Names.quote(key) + " appears more than once");
                }
                if (value != JsonToken.VALUE_STRING) {
                    problems.add("key " + Names.quote(key) + ": value must be a string expression such as"
                            + " \"$status\", got " + describe(value));
                    p.skipChildren();
                    continue;
                }
                String expression = p.getText();
                checkExpression(key, expression, source, problems);
                entries.add(new Template.Entry(key, expression));
            }
            if (p.nextToken() != null) {
                problems.add("template_model is not valid JSON: unexpected content after the object at "
                        + where(p));
            }
        } catch (JsonProcessingException e) {
            problems.add("template_model is not valid JSON: " + cap(e.getOriginalMessage()) + " at "
                    + "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr());
            throw new TemplateException(problems);
        } catch (IOException e) {
            problems.add("template_model could not be read: " + cap(e.getMessage()));
            throw new TemplateException(problems);
        }
        if (keys.isEmpty()) {
            problems.add("template_model is empty: a data set needs at least one key, e.g. {\"status\":\"$status\"}");
        }
        if (!problems.isEmpty()) {
            throw new TemplateException(problems);
        }
        return new Template(id, name, source, entries);
    }

    private static void checkExpression(String key, String expression, DataSource source, List<String> problems) {
        Expression.Parsed parsed = Expression.parse(expression);
        if (parsed.error() != null) {
            problems.add("key " + Names.quote(key) + ": " + parsed.error() + " in " + Names.quote(expression)
                    + " (write $$ for a literal $)");
            return;
        }
        if (source == null) {
            return;
        }
        Set<String> reported = new HashSet<>();
        for (Expression.Part part : parsed.parts()) {
            if (!part.isVariable() || source.hasVariable(part.variable()) || !reported.add(part.variable())) {
                continue;
            }
            String var = part.variable();
            List<String> closest = Names.closest(var, source.variables(), 3).stream().map(v -> "$" + v).toList();
            DataSource owner = null;
            for (DataSource other : DataSource.values()) {
                if (other.hasVariable(var)) {
                    owner = other;
                }
            }
            if (owner != null) {
                problems.add("key " + Names.quote(key) + ": variable $" + var + " is not available for data source "
                        + source.id() + " (data source " + owner.id() + " has it); closest " + source.id()
                        + " variables: " + String.join(", ", closest));
            } else {
                problems.add("key " + Names.quote(key) + ": unknown variable $" + Names.cap(var)
                        + " in " + Names.quote(expression) + "; closest " + source.id() + " variables: "
                        + String.join(", ", closest) + " (use ${name} to end a name inside text, $$ for a literal $)");
            }
        }
    }

    private static String describe(JsonToken t) {
        return t == null ? "nothing" : ParseErrors.describe(t);
    }

    private static String where(JsonParser p) {
        return "line " + p.currentLocation().getLineNr() + ", column " + p.currentLocation().getColumnNr();
    }

    private static String cap(String message) {
        if (message == null) {
            return "";
        }
        return message.length() <= 200 ? message : message.substring(0, 200) + "...";
    }
}
