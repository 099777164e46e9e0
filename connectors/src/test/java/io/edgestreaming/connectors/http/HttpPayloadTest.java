package io.edgestreaming.connectors.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.Secret;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HttpPayloadTest {
    private static final byte[] RECORDS = "{\"a\":\"1\"}\n{\"a\":\"2\"}\n{\"a\":\"3\"}".getBytes(StandardCharsets.US_ASCII);

    private static String body(String separator, String format) {
        return new String(HttpPayload.body(RECORDS, separator, format), StandardCharsets.UTF_8);
    }

    @Test
    void azionDefaultIsTheBlockItselfNotACopy() {
        assertThat(HttpPayload.body(RECORDS, "\n", "$dataset")).isSameAs(RECORDS);
    }

    @Test
    void commaSeparatorWithBracketFormatMakesAJsonArray() {
        assertThat(body(",", "[$dataset]")).isEqualTo("[{\"a\":\"1\"},{\"a\":\"2\"},{\"a\":\"3\"}]");
    }

    @Test
    void separatorsOfAnyLengthAndFormatsAroundTheDataset() {
        assertThat(body(" || ", "$dataset")).isEqualTo("{\"a\":\"1\"} || {\"a\":\"2\"} || {\"a\":\"3\"}");
        assertThat(body("\n", "{\"logs\":[$dataset]}\n")).isEqualTo("{\"logs\":[{\"a\":\"1\"}\n{\"a\":\"2\"}\n{\"a\":\"3\"}]}\n");
        assertThat(body("", "$dataset")).isEqualTo("{\"a\":\"1\"}{\"a\":\"2\"}{\"a\":\"3\"}");
        assertThat(new String(HttpPayload.body("{\"a\":\"1\"}".getBytes(StandardCharsets.US_ASCII), ",", "[$dataset]"),
                StandardCharsets.US_ASCII)).isEqualTo("[{\"a\":\"1\"}]");
    }

    @Test
    void contentTypeIsNdjsonOnlyForTheNewlineDataset() {
        assertThat(HttpTransport.defaultContentType(endpoint("\n", "$dataset", Map.of()))).isEqualTo("application/x-ndjson");
        assertThat(HttpTransport.defaultContentType(endpoint(",", "[$dataset]", Map.of()))).isEqualTo("text/plain; charset=us-ascii");
        assertThat(HttpTransport.defaultContentType(endpoint("\n", "[$dataset]", Map.of()))).isEqualTo("text/plain; charset=us-ascii");
    }

    @Test
    void headerInjectionAndFramingOverridesAreRefusedWithoutEchoingTheValue() {
        assertThatThrownBy(() -> HttpHeaderRules.validate(endpoint("\n", "$dataset", Map.of("X-Token", Secret.of("abc\r\nX-Evil: 1")))))
                .hasMessageContaining("X-Token").hasMessageNotContaining("abc").hasMessageNotContaining("Evil");
        assertThatThrownBy(() -> HttpHeaderRules.validate(endpoint("\n", "$dataset", Map.of("Host", Secret.of("other")))))
                .hasMessageContaining("Host");
        assertThatThrownBy(() -> HttpHeaderRules.validate(endpoint("\n", "$dataset", Map.of("content-length", Secret.of("1")))))
                .hasMessageContaining("content-length");
        assertThatThrownBy(() -> HttpHeaderRules.validate(endpoint("\n", "$dataset", Map.of("Bad Name", Secret.of("1")))))
                .hasMessageContaining("Bad Name");
        Map<String, Secret> six = new LinkedHashMap<>();
        for (int i = 0; i < 6; i++) {
            six.put("X-H" + i, Secret.of("v"));
        }
        assertThatThrownBy(() -> HttpHeaderRules.validate(endpoint("\n", "$dataset", six))).hasMessageContaining("at most 5");
        assertThatThrownBy(() -> HttpHeaderRules.validate(new HttpEndpoint(URI.create("https://user:pw@logs.example.net/in"),
                Map.of(), "\n", "$dataset", 1_000_000, HttpEndpoint.Compression.NONE, null)))
                .hasMessageContaining("credentials").hasMessageNotContaining("pw");
        HttpHeaderRules.validate(endpoint("\n", "$dataset", Map.of("Authorization", Secret.of("Bearer t0k3n"), "Content-Type", Secret.of("application/json"))));
    }

    @Test
    void retryAfterInSecondsOrAsAnHttpDate() {
        assertThat(HttpTransport.retryAfter("7")).isEqualTo(Duration.ofSeconds(7));
        assertThat(HttpTransport.retryAfter(null)).isNull();
        assertThat(HttpTransport.retryAfter("soon")).isNull();
        String inAMinute = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(60));
        assertThat(HttpTransport.retryAfter(inAMinute)).isBetween(Duration.ofSeconds(55), Duration.ofSeconds(61));
    }

    @Test
    void idempotencyKeyJoinsBlockIdAndContentDigest() {
        String a = HttpTransport.idempotencyKey("1/example.com/7", RECORDS);
        assertThat(a).startsWith("1/example.com/7:").isEqualTo(HttpTransport.idempotencyKey("1/example.com/7", RECORDS.clone()));
        assertThat(HttpTransport.idempotencyKey("1/example.com/7", "other".getBytes(StandardCharsets.US_ASCII))).isNotEqualTo(a);
    }

    private static HttpEndpoint endpoint(String separator, String format, Map<String, Secret> headers) {
        return new HttpEndpoint(URI.create("https://logs.example.net/in"), headers, separator, format, 1_000_000,
                HttpEndpoint.Compression.NONE, null);
    }
}
