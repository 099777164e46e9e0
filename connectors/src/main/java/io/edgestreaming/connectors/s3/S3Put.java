package io.edgestreaming.connectors.s3;

import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.StagedBlock;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * One staged block as one PutObject: its key and exact bytes from state, {@code Content-MD5} so the store
 * verifies the body. When the PUT breaks off mid-request (a store that refuses may answer before reading
 * the body, and the client may then report only a failed write; or a stale pooled connection), one
 * body-less request to the bucket tells which: the store's error code becomes the outcome, or, if the
 * store answers fine, the PUT is made once more at once.
 */
final class S3Put {
    private S3Put() {}

    /** Runs on a delivery thread; failures are thrown for {@link S3Errors#classify}. */
    static Outcome put(S3Client c, StagedBlock block, S3Endpoint s3) {
        byte[] payload = block.payload();
        String contentType = S3Transport.contentType(s3);
        PutObjectRequest request = PutObjectRequest.builder()
                .bucket(s3.bucketName())
                .key(block.deliveryKey())
                .contentType(contentType)
                .contentLength((long) payload.length)
                .contentMD5(md5(payload))
                .build();
        RequestBody body = RequestBody.fromContentProvider(
                ContentStreamProvider.fromByteArrayUnsafe(payload), payload.length, contentType);
        try {
            c.putObject(request, body);
        } catch (SdkClientException e) {
            if (!S3Errors.closedMidRequest(e)) {
                throw e;
            }
            probe(c, s3, e);
            // The store answers: the PUT met a stale pooled connection or a blip. Once more now; same
            // key, same bytes, so a repeat is harmless.
            c.putObject(request, body);
        }
        return Outcome.delivered();
    }

    /**
     * A store that refuses a PUT (missing bucket, bad signature) may answer and close the connection
     * before reading the body; the client may then report only a failed write and the store's error
     * code is lost. A body-less request to the bucket recovers it (thrown, so the
     * reason names the real problem); if that request succeeds, the store is fine.
     */
    private static void probe(S3Client c, S3Endpoint s3, SdkClientException putFailure) {
        try {
            c.listObjectsV2(b -> b.bucket(s3.bucketName()).maxKeys(1));
        } catch (AwsServiceException refused) {
            refused.addSuppressed(putFailure);
            throw refused;
        } catch (RuntimeException probeFailed) {
            putFailure.addSuppressed(probeFailed);
            throw putFailure;
        }
    }

    private static String md5(byte[] payload) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(payload));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
