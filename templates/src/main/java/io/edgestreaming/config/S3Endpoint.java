package io.edgestreaming.config;

import java.net.URI;

/**
 * {@code endpoint_type: s3}: any S3-compatible object store.
 *
 * @param hostUrl the service URL (path-style addressing for custom hosts)
 * @param bucketName must already exist
 * @param region SigV4 region, e.g. us-east-1
 * @param accessKey access key id
 * @param secretKey secret access key
 * @param objectKeyPrefix optional; empty string when absent
 * @param contentType the stored Content-Type: {@code text/plain} (Azion's {@code plain/text}) or
 *     {@code application/gzip} (gzip-compressed body)
 * @param keyLayout Azion's {@code <prefix>_<epoch millis>_<UUID>} or the dated layout
 */
public record S3Endpoint(
        URI hostUrl,
        String bucketName,
        String region,
        String accessKey,
        Secret secretKey,
        String objectKeyPrefix,
        String contentType,
        KeyLayout keyLayout)
        implements Endpoint {

    public enum KeyLayout {
        /** {@code <prefix>_<epoch millis>_<UUID>} */
        AZION,
        /** {@code <prefix>/YYYY/MM/DD/hh/mm/<UUID>} */
        DATED
    }

    @Override
    public String endpointType() {
        return "s3";
    }

    @Override
    public String destinationId() {
        return "s3:" + hostUrl + "/" + bucketName + "@" + accessKey;
    }

    @Override
    public String describe() {
        return "s3 " + hostUrl + " bucket " + bucketName;
    }
}
