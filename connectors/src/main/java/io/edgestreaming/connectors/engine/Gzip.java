package io.edgestreaming.connectors.engine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.zip.GZIPOutputStream;

/** Gzip into memory, the one helper the transports share. */
public final class Gzip {
    private Gzip() {}

    public static byte[] compress(byte[] body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(64, body.length / 4));
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes, 8192)) {
            gz.write(body);
        } catch (IOException e) {
            throw new IllegalStateException("gzip into memory failed", e);
        }
        return bytes.toByteArray();
    }
}
