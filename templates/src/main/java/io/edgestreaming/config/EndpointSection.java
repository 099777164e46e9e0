package io.edgestreaming.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What the endpoint types share: the hint for another type's keys, local paths, URLs and control characters. */
final class EndpointSection {
    /** Each type's own keys, so a key of another type is named as such rather than as unknown. */
    private static final Map<String, String> ENDPOINT_KEY_OWNER = endpointKeyOwners();

    private EndpointSection() {}

    private static Map<String, String> endpointKeyOwners() {
        Map<String, String> m = new HashMap<>();
        for (String k : List.of("url", "headers", "log_line_separator", "payload_format", "ca_bundle")) {
            m.put(k, "standard");
        }
        for (String k : List.of("bootstrap_servers", "kafka_topic", "use_tls", "sasl", "ca_file", "message_format",
                "transaction_timeout")) {
            m.put(k, "kafka");
        }
        for (String k : List.of("host_url", "bucket_name", "region", "access_key", "secret_key", "object_key_prefix",
                "content_type", "key_layout")) {
            m.put(k, "s3");
        }
        return m;
    }

    /** For {@code Section.finish}: why a key of another endpoint type (or the stream's max_size) is refused, or null. */
    static String keyHint(String key, String type, String streamPath) {
        if (key.equals("max_size")) {
            return "is not used with endpoint_type " + type + "; set " + streamPath + ".max_size";
        }
        String owner = ENDPOINT_KEY_OWNER.get(key);
        if (owner != null && !owner.equals(type)) {
            return "is a key of endpoint_type " + owner + ", not of " + type;
        }
        return null;
    }

    /** An optional local file path, relative ones resolved against the configuration's directory. */
    static String path(Section e, String key, Path baseDir) {
        String p = e.string(key, false, 4096);
        if (p == null) {
            return null;
        }
        if (p.isBlank()) {
            e.problem(key, "must not be blank");
            return null;
        }
        try {
            return baseDir.resolve(p).normalize().toString();
        } catch (InvalidPathException ex) {
            e.problem(key, "is not a valid path (" + ex.getReason() + ")");
            return null;
        }
    }

    static URI httpUrl(Section e, String key, References.Text text, boolean pathAllowed) {
        URI u;
        try {
            u = new URI(text.value());
        } catch (URISyntaxException ex) {
            e.problem(key, "is not a valid URL (" + ex.getReason() + " at index " + ex.getIndex() + ")");
            return null;
        }
        if (u.getScheme() == null) {
            e.problem(key, "must be an absolute http or https URL (https://host/path)");
            return null;
        }
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            e.problem(key, "must be http or https, was "
                    + (text.origin() == null ? u.getScheme() : "the scheme of " + text.shown()));
            return null;
        }
        if (u.getRawUserInfo() != null) {
            e.problem(key, "must not carry credentials (user:password@)"
                    + (pathAllowed ? "; send them in headers" : "; use access_key and secret_key"));
            return null;
        }
        if (u.getHost() == null) {
            e.problem(key, "must name a valid host (letters, digits, hyphens and dots)");
            return null;
        }
        if (u.getPort() > 65535) {
            e.problem(key, "must have a port from 1 to 65535, was " + u.getPort());
            return null;
        }
        if (u.getRawFragment() != null) {
            e.problem(key, "must not have a fragment (#...)");
            return null;
        }
        if (!pathAllowed && u.getRawQuery() != null) {
            e.problem(key, "must not have a query (?...)");
            return null;
        }
        return u;
    }

    static boolean hasControlCharacter(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return true;
            }
        }
        return false;
    }
}
