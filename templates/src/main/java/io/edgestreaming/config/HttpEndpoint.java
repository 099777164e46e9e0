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
        return "standard:" + url;
    }

    @Override
    public String describe() {
        return "POST " + url;
    }
}
