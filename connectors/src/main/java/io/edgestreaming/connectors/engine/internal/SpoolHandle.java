package io.edgestreaming.connectors.engine.internal;

import java.util.Objects;

/**
 * Where a spooled block's payload is: what operator state keeps instead of the bytes.
 *
 * @param path the spool file (absolute Flink FileSystem path)
 * @param length payload length in bytes
 * @param crc CRC-32C of the payload: a file that differs is never sent under the block's key
 */
record SpoolHandle(String path, int length, int crc) {
    SpoolHandle {
        Objects.requireNonNull(path, "path");
    }
}
