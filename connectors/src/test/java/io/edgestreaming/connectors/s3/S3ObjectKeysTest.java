package io.edgestreaming.connectors.s3;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.S3Endpoint;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class S3ObjectKeysTest {
    private static final UUID U = UUID.fromString("37d66e78-c308-8006-9d4d-1c013ed89276");
    // 2021-06-01T19:31:00.091Z, Azion's documented example time
    private static final long T = 1622575860091L;

    @Test
    void azionLayoutIsPrefixMillisUuidOrMillisUuidWithoutPrefix() {
        assertThat(S3ObjectKeys.key("waf_logs", S3Endpoint.KeyLayout.AZION, T, U))
                .isEqualTo("waf_logs_1622575860091_37d66e78-c308-8006-9d4d-1c013ed89276");
        assertThat(S3ObjectKeys.key("", S3Endpoint.KeyLayout.AZION, T, U))
                .isEqualTo("1622575860091_37d66e78-c308-8006-9d4d-1c013ed89276");
    }

    @Test
    void datedLayoutIsPrefixAndUtcMinutePath() {
        assertThat(S3ObjectKeys.key("logs", S3Endpoint.KeyLayout.DATED, T, U))
                .isEqualTo("logs/2021/06/01/19/31/37d66e78-c308-8006-9d4d-1c013ed89276");
        assertThat(S3ObjectKeys.key("logs/", S3Endpoint.KeyLayout.DATED, T, U))
                .isEqualTo("logs/2021/06/01/19/31/37d66e78-c308-8006-9d4d-1c013ed89276");
        assertThat(S3ObjectKeys.key("", S3Endpoint.KeyLayout.DATED, T, U))
                .isEqualTo("2021/06/01/19/31/37d66e78-c308-8006-9d4d-1c013ed89276");
    }

    @Test
    void uuidDependsOnBlockIdAndContentOnly() {
        byte[] records = "{\"a\":\"1\"}\n{\"a\":\"2\"}".getBytes(StandardCharsets.US_ASCII);
        UUID first = S3ObjectKeys.contentUuid("1/example.com/7", records);
        assertThat(S3ObjectKeys.contentUuid("1/example.com/7", records.clone())).isEqualTo(first);
        assertThat(S3ObjectKeys.contentUuid("1/example.com/8", records)).isNotEqualTo(first);
        byte[] other = records.clone();
        other[other.length - 2] = '3';
        assertThat(S3ObjectKeys.contentUuid("1/example.com/7", other)).isNotEqualTo(first);
        assertThat(first.version()).isEqualTo(8);
        assertThat(first.variant()).isEqualTo(2);
    }

    @Test
    void prefixTooLongForS3KeysIsRefused() {
        assertThat(S3ObjectKeys.prefixProblem("logs")).isNull();
        assertThat(S3ObjectKeys.prefixProblem("x".repeat(1000))).contains("1024");
    }
}
