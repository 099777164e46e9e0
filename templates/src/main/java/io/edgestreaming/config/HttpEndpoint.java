package io.edgestreaming.config;

import java.net.URI;
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
        // Query values may be API keys (?api_key=...): a digest keeps distinct URLs distinct without showing them.
        String query = url.getRawQuery();
        return "standard:" + redactedUrl() + (query == null ? "" : "#" + Integer.toHexString(query.hashCode()));
    }

    @Override
    public String describe() {
        return "POST " + redactedUrl();
    }

    /** The URL with every query parameter value replaced by {@link Secret#REDACTED}. */
    public String redactedUrl() {
        String query = url.getRawQuery();
        if (query == null) {
            return url.toString();
        }
        StringBuilder sb = new StringBuilder();
        for (String param : query.split("&", -1)) {
            if (sb.length() > 0) {
                sb.append('&');
            }
            int eq = param.indexOf('=');
            sb.append(eq < 0 ? param : param.substring(0, eq + 1) + Secret.REDACTED);
        }
        String s = url.toString();
        return s.substring(0, s.indexOf('?') + 1) + sb;
    }

    @Override
    public String toString() {
        return "HttpEndpoint[url=" + redactedUrl() + ", headers=" + headers + ", logLineSeparator="
                + logLineSeparator.replace("\n", "\\n") + ", payloadFormat=" + payloadFormat + ", maxSize=" + maxSize
                + ", compression=" + compression + ", caBundlePath=" + caBundlePath + "]";
    }
}
