package io.edgestreaming.connectors.http;

import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.Limits;
import io.edgestreaming.config.Secret;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Which custom headers an endpoint may set. Names must be RFC 9110 tokens; values must not hold CR,
 * LF or other control characters (header injection); headers that frame the request or that the
 * transport owns cannot be overridden. Errors name the header, never its value (values are secrets).
 */
public final class HttpHeaderRules {
    public static final int MAX_HEADERS = Limits.MAX_HEADERS;
    public static final int MAX_VALUE_LENGTH = Limits.MAX_HEADER_VALUE_CHARS;
    /** Set by the HTTP client or by this transport; an override would break framing or dedupe. */
    static final Set<String> RESERVED = Set.of(
            "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "upgrade",
            "expect", "te", "trailer", "content-encoding", "idempotency-key", "http2-settings");

    private HttpHeaderRules() {}

    /** @throws IllegalArgumentException naming the first bad header */
    public static void validate(HttpEndpoint endpoint) {
        if (endpoint.url() == null || endpoint.url().getScheme() == null
                || !(endpoint.url().getScheme().equalsIgnoreCase("http") || endpoint.url().getScheme().equalsIgnoreCase("https"))
                || endpoint.url().getHost() == null) {
            throw new IllegalArgumentException("endpoint url must be http(s)://host/path");
        }
        if (endpoint.url().getRawUserInfo() != null) {
            // It would show in logs, metrics and manifests: credentials belong in a header (a secret).
            throw new IllegalArgumentException("endpoint url must not carry credentials (user:password@); use a header");
        }
        Map<String, Secret> headers = endpoint.headers() == null ? Map.of() : endpoint.headers();
        if (headers.size() > MAX_HEADERS) {
            throw new IllegalArgumentException("at most " + MAX_HEADERS + " custom headers, got " + headers.size());
        }
        for (Map.Entry<String, Secret> header : headers.entrySet()) {
            String name = header.getKey();
            if (name == null || name.isEmpty() || !isToken(name)) {
                throw new IllegalArgumentException("header name '" + printable(name) + "' is not a valid HTTP header name");
            }
            if (RESERVED.contains(name.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("header " + name + " cannot be set: the transport owns it");
            }
            String value = header.getValue() == null ? null : header.getValue().reveal();
            if (value == null || value.isEmpty() || value.length() > MAX_VALUE_LENGTH) {
                throw new IllegalArgumentException("header " + name + ": value must be 1 to " + MAX_VALUE_LENGTH + " characters");
            }
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if ((c < 0x20 && c != '\t') || c == 0x7f || c > 0xff) {
                    throw new IllegalArgumentException("header " + name + ": value holds a control or non-Latin-1 character");
                }
            }
        }
    }

    private static boolean isToken(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.toString();
    }
}
