package io.edgestreaming.job.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/** gzip in memory: blocks are at most max_size (2 GiB), dead-lettered ones far smaller in practice. */
final class Payloads {
    private Payloads() {}

    static byte[] gzip(byte[] body) {
        return io.edgestreaming.connectors.engine.Gzip.compress(body);
    }

    static byte[] gunzip(byte[] body) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body), 8192)) {
            return in.readAllBytes();
        }
    }
}
