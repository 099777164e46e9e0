package io.edgestreaming.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** A stream's endpoint of type {@code standard}: HTTP, its URL, headers, payload format and size. */
final class HttpEndpointSection {
    /**
     * Headers the HTTP transport owns: framing, connection handling, the compression it applies and the
     * per-block Idempotency-Key; the same set as the transport's HttpHeaderRules, so the job graph
     * never refuses what loading accepted.
     */
    private static final Set<String> RESERVED_HEADERS = Set.of(
            "host", "content-length", "transfer-encoding", "connection", "expect", "upgrade", "te",
            "trailer", "keep-alive", "proxy-connection", "content-encoding", "idempotency-key", "http2-settings");

    private HttpEndpointSection() {}

    static HttpEndpoint read(Section e, Path baseDir) {
        References.Text urlText = e.text("url", true, 4096);
        URI url = urlText == null ? null : EndpointSection.httpUrl(e, "url", urlText, true);
        Map<String, Secret> headers = headers(e);
        String separator = e.string("log_line_separator", false, 100);
        if (separator != null && separator.isEmpty()) {
            e.problem("log_line_separator", "must not be empty");
        }
        String format = e.string("payload_format", false, 250);
        if (format != null) {
            int first = format.indexOf("$dataset");
            if (first < 0) {
                e.problem("payload_format", "must contain $dataset (where the records go)");
            } else if (format.indexOf("$dataset", first + 1) >= 0) {
                e.problem("payload_format", "must contain $dataset exactly once");
            }
        }
        Long maxSize = e.integer("max_size", StreamSection.MIN_MAX_SIZE, StreamSection.MAX_MAX_SIZE,
                StreamSection.DEFAULT_MAX_SIZE);
        HttpEndpoint.Compression compression = e.choice("compression", Section.options(
                        Map.entry("none", HttpEndpoint.Compression.NONE), Map.entry("gzip", HttpEndpoint.Compression.GZIP)),
                HttpEndpoint.Compression.NONE, false);
        String caBundle = EndpointSection.path(e, "ca_bundle", baseDir);
        if (url == null || headers == null || maxSize == null || compression == null) {
            return null;
        }
        return new HttpEndpoint(url, headers, separator == null ? "\n" : separator,
                format == null ? "$dataset" : format, maxSize, compression, caBundle);
    }

    private static Map<String, Secret> headers(Section e) {
        Section h = e.section("headers", false);
        Map<String, Secret> headers = new LinkedHashMap<>();
        if (h == null) {
            return e.has("headers") ? null : Collections.unmodifiableMap(headers);
        }
        boolean ok = true;
        Map<String, String> seen = new HashMap<>();
        int count = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = h.entries(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String name = entry.getKey();
            h.accept(name);
            count++;
            String path = h.pathOf(name);
            if (!Names.isHttpToken(name)) {
                h.problems().add(path, "is not a valid header name (letters, digits and !#$%&'*+-.^_`|~)");
                ok = false;
                continue;
            }
            String lower = name.toLowerCase(Locale.ROOT);
            if (RESERVED_HEADERS.contains(lower)) {
                h.problems().add(path, "is set by the HTTP transport and cannot be configured"
                        + (lower.equals("idempotency-key") ? " (one key per block, for the receiver's deduplication)" : ""));
                ok = false;
                continue;
            }
            String first = seen.putIfAbsent(lower, name);
            if (first != null) {
                h.problems().add(path, "repeats header " + first + " (header names ignore case)");
                ok = false;
                continue;
            }
            // Header values usually carry tokens: no message below shows the value.
            if (entry.getValue().isNull()) {
                h.problems().add(path, "must have a value (1 to " + Limits.MAX_HEADER_VALUE_CHARS + " characters)");
                ok = false;
                continue;
            }
            References.Text v = Section.scalarText(entry.getValue(), path, h.problems(), h.references());
            if (v == null) {
                ok = false;
                continue;
            }
            String value = v.value();
            if (value.isEmpty() || value.length() > Limits.MAX_HEADER_VALUE_CHARS) {
                h.problems().add(path, "value must be 1 to " + Limits.MAX_HEADER_VALUE_CHARS + " characters, has "
                        + value.length());
                ok = false;
                continue;
            }
            if (EndpointSection.hasControlCharacter(value)) {
                h.problems().add(path, "value must not contain CR, LF or other control characters");
                ok = false;
                continue;
            }
            if (value.chars().anyMatch(c -> c > 0xff)) {
                // Header values go out as ISO-8859-1 bytes; the transport refuses anything else.
                h.problems().add(path, "value must hold only Latin-1 characters");
                ok = false;
                continue;
            }
            headers.put(name, Secret.of(value));
        }
        if (count > Limits.MAX_HEADERS) {
            e.problem("headers", "at most " + Limits.MAX_HEADERS + " headers, has " + count);
            ok = false;
        }
        return ok ? Collections.unmodifiableMap(headers) : null;
    }
}
