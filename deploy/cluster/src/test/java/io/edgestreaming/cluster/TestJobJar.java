package io.edgestreaming.cluster;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/** Packs a test job (its main class's package from the compiled test classes) into a jar Flink's CLI can run. */
final class TestJobJar {

    private TestJobJar() {}

    static Path build(Path jar, Class<?> mainClass) throws IOException {
        Path classesRoot;
        try {
            classesRoot = Path.of(mainClass.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        String packageDir = mainClass.getPackageName().replace('.', '/');
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, mainClass.getName());
        Files.createDirectories(jar.getParent());
        List<Path> classes;
        try (Stream<Path> files = Files.walk(classesRoot.resolve(packageDir))) {
            classes = files.filter(f -> f.toString().endsWith(".class")).sorted().toList();
        }
        if (classes.isEmpty()) {
            throw new IOException("no classes under " + classesRoot.resolve(packageDir));
        }
        try (OutputStream file = Files.newOutputStream(jar);
                JarOutputStream out = new JarOutputStream(file, manifest)) {
            for (Path c : classes) {
                out.putNextEntry(new JarEntry(classesRoot.relativize(c).toString().replace('\\', '/')));
                Files.copy(c, out);
                out.closeEntry();
            }
        }
        return jar;
    }
}
