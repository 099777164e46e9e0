package io.edgestreaming.connectors.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** The shared gzip helper: standard gzip for any body, also with the per-thread deflater reused. */
class GzipTest {

    @Test
    void roundTripsEmptyTextAndIncompressibleBodies() throws IOException {
        byte[] text = "{\"host\":\"www.example.com\",\"status\":\"200\"}\n".repeat(20_000).getBytes(StandardCharsets.UTF_8);
        byte[] random = new byte[300_000]; // larger compressed than a quarter of the input: the buffer must grow
        new Random(7).nextBytes(random);
        for (int round = 0; round < 2; round++) {
            for (byte[] body : new byte[][] {new byte[0], "x".getBytes(StandardCharsets.US_ASCII), text, random}) {
                byte[] gz = Gzip.compress(body);
                assertThat(gunzip(gz)).isEqualTo(body);
            }
        }
        assertThat(Gzip.compress(text).length).isLessThan(text.length / 20);
    }

    private static byte[] gunzip(byte[] bytes) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            return in.readAllBytes();
        }
    }
}
