package io.edgestreaming.job.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** A {@code file://} store (or a plain directory). */
final class LocalBlockStore implements BlockStore {
    private final Path root;
    private final String description;

    LocalBlockStore(Path root, String description) {
        this.root = root;
        this.description = description;
    }

    @Override
    public List<String> list() throws IOException {
        if (!Files.isDirectory(root)) {
            throw new FileNotFoundException("no dead-letter store at " + description + " (not a directory)");
        }
        List<String> paths = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            files.filter(Files::isRegularFile)
                    .forEach(f -> paths.add(root.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/")));
        }
        paths.sort(null);
        return paths;
    }

    @Override
    public byte[] read(String path) throws IOException {
        try {
            return Files.readAllBytes(resolve(path));
        } catch (NoSuchFileException e) {
            throw new FileNotFoundException(path + " is not in " + description);
        }
    }

    @Override
    public void write(String path, byte[] bytes) throws IOException {
        Path target = resolve(path);
        // Written aside and moved: a marker is either whole or absent.
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private Path resolve(String path) throws IOException {
        Path p = root.resolve(path).normalize();
        if (!p.startsWith(root)) {
            throw new IOException(path + " is outside the store");
        }
        return p;
    }

    @Override
    public String describe() {
        return description;
    }
}
