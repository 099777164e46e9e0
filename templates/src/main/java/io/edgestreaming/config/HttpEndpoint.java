package io.edgestreaming.config;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * {@code endpoint_type: standard}: HTTP/HTTPS POST.
 *
 * @param url scheme://domain/path
 * @param headers custom headers (at most 5); values are secrets because they usually carry tokens
 * @param logLineSeparator joins the records of a block (default "\n")
 * @param payloadFormat the body, with {@code $dataset} replaced by the joined records (default
 *     "$dataset")
 * @param maxSize the largest body in bytes; the batcher cuts blocks at it
 * @param compression NONE or GZIP (Content-Encoding: gzip), beyond Azion
 * @param caBundlePath optional PEM file of CAs to trust instead of the JDK's, for private CAs
 */
public record HttpEndpoint(
        URI url,
        Map<String, Secret> headers,
        String logLineSeparator,
        String payloadFormat,
        long maxSize,
        Compression compression,
        String caBundlePath)
        implements Endpoint {

    public enum Compression {
        NONE,
        GZIP
    }

    @Override
    public String endpointType() {
        return "standard";
    }

    @Override
    public String destinationId() {
        // Redacted parts may be API keys: a digest of them keeps distinct URLs distinct without showing them.
        String hidden = (hasTokenSegment(url.getRawPath()) ? url.getRawPath() : "")
                + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
        return "standard:" + redactedUrl() + (hidden.isEmpty() ? "" : "#" + digest(hidden));
    }

    @Override
    public String describe() {
        return "POST " + redactedUrl();
    }

    /**
     * The URL as logs, metrics and manifests show it: every query parameter value, and every path
     * segment that looks like a token (16 or more characters mixing letters and digits, as in Sumo
     * Logic or Slack webhook URLs), replaced by {@link Secret#REDACTED}.
     */
    public String redactedUrl() {
        StringBuilder sb = new StringBuilder();
        sb.append(url.getScheme()).append("://").append(url.getRawAuthority());
        String path = url.getRawPath();
        if (path != null && !path.isEmpty()) {
            String[] segments = path.split("/", -1);
            for (int i = 0; i < segments.length; i++) {
                if (i > 0) {
                    sb.append('/');
                }
                sb.append(looksLikeToken(segments[i]) ? Secret.REDACTED : segments[i]);
            }
        }
        String query = url.getRawQuery();
        if (query != null) {
            sb.append('?');
            String[] params = query.split("&", -1);
            for (int i = 0; i < params.length; i++) {
                if (i > 0) {
                    sb.append('&');
                }
                int eq = params[i].indexOf('=');
                sb.append(eq < 0 ? params[i] : params[i].substring(0, eq + 1) + Secret.REDACTED);
            }
        }
        return sb.toString();
    }

    private static boolean hasTokenSegment(String path) {
        if (path != null) {
            for (String segment : path.split("/")) {
                if (looksLikeToken(segment)) {
                    return true;
                }
            }
        }
        return false;
    }

    static boolean looksLikeToken(String segment) {
        if (segment.length() < 16) {
            return false;
        }
        boolean letter = false;
        boolean digit = false;
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            letter |= Character.isLetter(c);
            digit |= Character.isDigit(c);
        }
        return letter && digit;
    }

    private static String digest(String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    @Override
    public String toString() {
        return "HttpEndpoint[url=" + redactedUrl() + ", headers=" + headers + ", logLineSeparator="
                + logLineSeparator.replace("\n", "\\n") + ", payloadFormat=" + payloadFormat + ", maxSize=" + maxSize
                + ", compression=" + compression + ", caBundlePath=" + caBundlePath + "]";
    }
}
