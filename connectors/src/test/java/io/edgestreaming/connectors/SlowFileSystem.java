package io.edgestreaming.connectors;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.time.Duration;
import org.apache.flink.core.fs.BlockLocation;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FileSystemFactory;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.fs.local.LocalFileSystem;

/**
 * The local file system under the scheme {@code slow-file://}, each create, open and delete waiting
 * {@link #delay} first: a spool or dead-letter store with an object store's latency, on real files.
 * Registered with Flink's FileSystem through {@code META-INF/services} of the test classpath.
 */
public final class SlowFileSystem extends FileSystem {
    public static final String SCHEME = "slow-file";
    private static volatile Duration delay = Duration.ofMillis(50);

    private final LocalFileSystem local = LocalFileSystem.getSharedInstance();

    /** The latency of each create, open and delete from now on. */
    public static void delay(Duration d) {
        delay = d;
    }

    /** {@code slow-file://} URI of a local directory. */
    public static String uri(java.nio.file.Path dir) {
        return SCHEME + "://" + dir.toAbsolutePath();
    }

    /** The factory Flink finds through {@code META-INF/services/org.apache.flink.core.fs.FileSystemFactory}. */
    public static final class Factory implements FileSystemFactory {
        @Override
        public String getScheme() {
            return SCHEME;
        }

        @Override
        public FileSystem create(URI fsUri) {
            return new SlowFileSystem();
        }
    }

    private static Path local(Path p) {
        return new Path("file", null, p.toUri().getPath());
    }

    private static void pause() throws IOException {
        try {
            Thread.sleep(delay.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    @Override
    public Path getWorkingDirectory() {
        return local.getWorkingDirectory();
    }

    @Override
    public Path getHomeDirectory() {
        return local.getHomeDirectory();
    }

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public FileStatus getFileStatus(Path f) throws IOException {
        return local.getFileStatus(local(f));
    }

    @Override
    public BlockLocation[] getFileBlockLocations(FileStatus file, long start, long len) throws IOException {
        return local.getFileBlockLocations(file, start, len);
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        pause();
        return local.open(local(f), bufferSize);
    }

    @Override
    public FSDataInputStream open(Path f) throws IOException {
        pause();
        return local.open(local(f));
    }

    @Override
    public FileStatus[] listStatus(Path f) throws IOException {
        return local.listStatus(local(f));
    }

    @Override
    public boolean exists(Path f) throws IOException {
        return local.exists(local(f));
    }

    @Override
    public boolean delete(Path f, boolean recursive) throws IOException {
        pause();
        return local.delete(local(f), recursive);
    }

    @Override
    public boolean mkdirs(Path f) throws IOException {
        return local.mkdirs(local(f));
    }

    @Override
    public FSDataOutputStream create(Path f, WriteMode overwriteMode) throws IOException {
        pause();
        return local.create(local(f), overwriteMode);
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        return local.rename(local(src), local(dst));
    }

    @Override
    public boolean isDistributedFS() {
        return true;
    }
}
