package io.edgestreaming.job.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** gzip in memory: blocks are at most max_size (2 GiB), dead-lettered ones far smaller in practice. */
final class Payloads {
    private Payloads() {}

    static byte[] gzip(byte[] body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(64, body.length / 4));
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes, 8192)) {
            gz.write(body);
        } catch (IOException e) {
            throw new UncheckedIOException("gzip into memory failed", e);
        }
        return bytes.toByteArray();
    }

    static byte[] gunzip(byte[] body) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body), 8192)) {
            return in.readAllBytes();
        }
    }
}
