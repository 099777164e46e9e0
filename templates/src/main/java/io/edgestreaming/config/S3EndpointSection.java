package io.edgestreaming.config;

import java.net.URI;
import java.util.Map;

/** A stream's endpoint of type {@code s3}: the host, bucket, region, keys and object naming. */
final class S3EndpointSection {
    private S3EndpointSection() {}

    static S3Endpoint read(Section e) {
        References.Text hostText = e.text("host_url", true, 200);
        URI host = hostText == null ? null : EndpointSection.httpUrl(e, "host_url", hostText, false);
        String bucket = e.string("bucket_name", true, 150);
        if (bucket != null) {
            String bad = Names.bucketNameProblem(bucket);
            if (bad != null) {
                e.problem("bucket_name", bad);
            }
        }
        String region = e.string("region", true, 50);
        if (region != null && !region.matches("[A-Za-z0-9_-]+")) {
            e.problem("region", "must be a region name such as us-east-1");
        }
        String accessKey = e.string("access_key", true, 150);
        // secret_key: the length check reports lengths only, never the value.
        String secretKey = e.string("secret_key", true, 150);
        String prefix = e.string("object_key_prefix", false, 150);
        if (prefix != null && EndpointSection.hasControlCharacter(prefix)) {
            e.problem("object_key_prefix", "must not contain control characters");
        }
        String contentType = e.choice("content_type", Section.options(Map.entry("plain/text", "text/plain"),
                Map.entry("text/plain", "text/plain"), Map.entry("application/gzip", "application/gzip")),
                "text/plain", false);
        S3Endpoint.KeyLayout layout = e.choice("key_layout", Section.options(
                        Map.entry("azion", S3Endpoint.KeyLayout.AZION), Map.entry("dated", S3Endpoint.KeyLayout.DATED)),
                S3Endpoint.KeyLayout.AZION, false);
        if (host == null || bucket == null || region == null || accessKey == null || secretKey == null
                || contentType == null || layout == null) {
            return null;
        }
        return new S3Endpoint(host, bucket, region, accessKey, Secret.of(secretKey), prefix == null ? "" : prefix,
                contentType, layout);
    }
}
