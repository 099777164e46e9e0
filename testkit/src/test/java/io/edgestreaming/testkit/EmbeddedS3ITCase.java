package io.edgestreaming.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

class EmbeddedS3ITCase {

    @Test
    void twoServersWithTheirOwnCredentials() {
        try (EmbeddedS3 first = EmbeddedS3.start("AKIAFIRST", "first-secret");
                EmbeddedS3 second = EmbeddedS3.start("AKIASECOND", "second-secret")) {
            assertThat(first.endpoint()).isNotEqualTo(second.endpoint());
            first.createBucket("logs-a");
            second.createBucket("logs-b");

            first.client().putObject(b -> b.bucket("logs-a").key("waf_1_x").contentType("application/gzip"),
                    RequestBody.fromString("one"));
            first.client().putObject(b -> b.bucket("logs-a").key("waf_0_y").contentType("plain/text"),
                    RequestBody.fromString("zero"));
            assertThat(first.listKeys("logs-a")).containsExactly("waf_0_y", "waf_1_x");
            assertThat(new String(first.get("logs-a", "waf_1_x"), StandardCharsets.UTF_8)).isEqualTo("one");
            assertThat(first.contentType("logs-a", "waf_1_x")).isEqualTo("application/gzip");
            assertThat(second.listKeys("logs-b")).isEmpty();

            // The second server refuses the first server's key pair.
            try (S3Client wrong = second.newClient("AKIAFIRST", "first-secret")) {
                assertThatThrownBy(() -> wrong.listObjectsV2(b -> b.bucket("logs-b")))
                        .isInstanceOf(S3Exception.class)
                        .satisfies(e -> assertThat(((S3Exception) e).statusCode()).isEqualTo(403));
            }
        }
    }

    @Test
    void multipartUploadsAreVisibleUntilCompleted() {
        try (EmbeddedS3 s3 = EmbeddedS3.start("AKIAMULTI", "multi-secret")) {
            s3.createBucket("multi");
            S3Client c = s3.client();
            String uploadId = c.createMultipartUpload(b -> b.bucket("multi").key("block-1")).uploadId();
            String etag = c.uploadPart(b -> b.bucket("multi").key("block-1").uploadId(uploadId).partNumber(1),
                    RequestBody.fromString("records")).eTag();
            assertThat(s3.openMultipartUploads("multi")).containsExactly("block-1");
            assertThat(s3.listKeys("multi")).isEmpty();

            c.completeMultipartUpload(b -> b.bucket("multi").key("block-1").uploadId(uploadId)
                    .multipartUpload(m -> m.parts(p -> p.partNumber(1).eTag(etag))));
            assertThat(s3.openMultipartUploads("multi")).isEmpty();
            assertThat(s3.listKeys("multi")).containsExactly("block-1");
            assertThat(new String(s3.get("multi", "block-1"), StandardCharsets.UTF_8)).isEqualTo("records");
            s3.close();
            s3.close(); // idempotent
        }
    }
}
