package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.engine.StagedBlock;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32C;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Where payloads of undelivered blocks go when the subtask's memory budget is used up, with Flink's
 * FileSystem API ({@code file://}, {@code s3://}) like the {@link DeadLetterStore}. One file per block,
 * {@code stream-<id>/<domain>/<sequence>-<key digest>.block}: named by the delivery key, so writing a
 * block again (after a restore) rewrites the same file with the same bytes. Blocking: called on the
 * engine's I/O threads only ({@link BlockIo}).
 */
final class Spool {
    static final String SUFFIX = ".block";

    /** The spool file of a handle is gone (never a failure of the store: that is another IOException). */
    static final class MissingFileException extends java.nio.file.NoSuchFileException {
        private static final long serialVersionUID = 1L;

        MissingFileException(String path) {
            super(path, null, "spool file is gone");
        }
    }

    private final Path root;

    Spool(String path) {
        this.root = new Path(path);
    }

    String root() {
        return root.toString();
    }

    /** Writes the block's payload (durably: synced before close); returns its handle. */
    SpoolHandle write(StagedBlock block) throws IOException {
        byte[] payload = block.payload();
        Path path = new Path(root, DeadLetterStore.baseName(block) + SUFFIX);
        FileSystem fs = path.getFileSystem();
        try (FSDataOutputStream out = fs.create(path, FileSystem.WriteMode.OVERWRITE)) {
            out.write(payload);
            out.flush();
            out.sync();
        }
        return new SpoolHandle(path.toString(), payload.length, crc(payload, 0, payload.length));
    }

    /**
     * The payload of a handle, exactly as written.
     *
     * @throws MissingFileException if the file is gone (deleted after its block was acknowledged)
     * @throws IOException if it cannot be read or differs from what was written
     */
    byte[] read(SpoolHandle handle) throws IOException {
        Path path = new Path(handle.path());
        FileSystem fs = path.getFileSystem();
        byte[] payload = new byte[handle.length()];
        try (InputStream in = fs.open(path)) {
            int n = in.readNBytes(payload, 0, payload.length);
            if (n != payload.length || in.read() != -1) {
                throw new IOException("spool file " + handle.path() + " does not hold the " + handle.length() + " bytes written");
            }
        } catch (FileNotFoundException e) {
            throw new MissingFileException(handle.path());
        } catch (IOException e) {
            if (!fs.exists(path)) {
                throw new MissingFileException(handle.path());
            }
            throw e;
        }
        if (crc(payload, 0, payload.length) != handle.crc()) {
            throw new IOException("spool file " + handle.path() + " differs from what was written (CRC-32C)");
        }
        return payload;
    }

    /** Streams a handle's payload to {@code out}; throws (after writing) if it differs from what was written. */
    void copyTo(SpoolHandle handle, java.io.OutputStream out) throws IOException {
        Path path = new Path(handle.path());
        FileSystem fs = path.getFileSystem();
        CRC32C crc = new CRC32C();
        long total = 0;
        byte[] buffer = new byte[64 * 1024];
        InputStream opened;
        try {
            opened = fs.open(path);
        } catch (FileNotFoundException e) {
            throw new MissingFileException(handle.path());
        }
        try (InputStream in = opened) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                out.write(buffer, 0, n);
                crc.update(buffer, 0, n);
                total += n;
            }
        }
        if (total != handle.length() || (int) crc.getValue() != handle.crc()) {
            throw new IOException("spool file " + handle.path() + " differs from what was written");
        }
    }

    void delete(String path) throws IOException {
        Path p = new Path(path);
        p.getFileSystem().delete(p, false);
    }

    static int crc(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }
}
