package io.edgestreaming.job.cli;

import java.io.IOException;
import java.util.List;

/**
 * The dead-letter store as the job writes it with Flink's FileSystem API ({@code file://} or {@code s3://}),
 * read here directly (java.nio or the AWS SDK): the tool runs without Flink and its file system plugins.
 * Paths are relative to the store's root, with '/' separators.
 */
interface BlockStore extends AutoCloseable {

    /** Every file (object) under the root, sorted. */
    List<String> list() throws IOException;

    /** The file's bytes; {@link java.io.FileNotFoundException} if it is not there. */
    byte[] read(String path) throws IOException;

    /** Writes (or replaces) a small file. */
    void write(String path, byte[] bytes) throws IOException;

    /** The root as the user gave it, for messages. */
    String describe();

    @Override
    default void close() {}
}
