package io.edgestreaming.config;

import static io.edgestreaming.config.ConfigTesting.standard;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ${file:PATH}} reads only under the configuration's directory and {@code EDGE_STREAMING_FILE_DIRS}: a
 * customer's text copied into the configuration must not have the job's own files sent to their endpoint.
 */
class FileReferenceDirectoriesTest {
    private static final String SECRET = "Zq7-OUTSIDE-CANARY-41";
    private static final String OUTSIDE =
            ": outside the directories ${file:} may read (the configuration's directory and EDGE_STREAMING_FILE_DIRS)";

    @TempDir
    Path tmp;
    Path conf;
    Path other;

    @BeforeEach
    void files() throws Exception {
        conf = Files.createDirectory(tmp.resolve("conf"));
        other = Files.createDirectory(tmp.resolve("other"));
        Files.writeString(conf.resolve("token.txt"), "beside\n");
        Files.writeString(other.resolve("secret.txt"), SECRET + "\n");
    }

    @Test
    void aFileOutsideTheAllowedDirectoriesIsRefusedWithoutItsContent() throws Exception {
        Path secret = other.resolve("secret.txt");
        Path config = write("{A: \"${file:%s}\", B: \"Bearer ${file:/etc/passwd}\", C: \"${file:%s}\"}"
                .formatted(secret, other.resolve("missing.txt")));
        ConfigException e = refused(() -> ConfigLoader.load(config, Map.<String, String>of()::get));
        // A missing file outside is refused the same way: no probing for what exists.
        assertThat(e.problems()).containsExactly(
                "streams[0].endpoint.headers.A: cannot read ${file:" + secret + "}" + OUTSIDE,
                "streams[0].endpoint.headers.B: cannot read ${file:/etc/passwd}" + OUTSIDE,
                "streams[0].endpoint.headers.C: cannot read ${file:" + other.resolve("missing.txt") + "}" + OUTSIDE);
        assertThat(e.getMessage()).doesNotContain(SECRET).doesNotContain("root:");
    }

    @Test
    void dotDotOutOfTheConfigurationsDirectoryIsRefused() throws Exception {
        Path config = write("{A: \"${file:../other/secret.txt}\", B: \"${file:sub/../../other/secret.txt}\"}");
        Files.createDirectory(conf.resolve("sub"));
        assertThat(refused(() -> ConfigLoader.load(config, Map.<String, String>of()::get)).problems()).containsExactly(
                "streams[0].endpoint.headers.A: cannot read ${file:../other/secret.txt}" + OUTSIDE,
                "streams[0].endpoint.headers.B: cannot read ${file:sub/../../other/secret.txt}" + OUTSIDE);
    }

    @Test
    void aSymlinkLeadingOutIsRefused() throws Exception {
        Files.createSymbolicLink(conf.resolve("link.txt"), other.resolve("secret.txt"));
        Files.createSymbolicLink(conf.resolve("linkdir"), other);
        Path config = write("{A: \"${file:link.txt}\", B: \"${file:linkdir/secret.txt}\"}");
        ConfigException e = refused(() -> ConfigLoader.load(config, Map.<String, String>of()::get));
        assertThat(e.problems()).containsExactly(
                "streams[0].endpoint.headers.A: cannot read ${file:link.txt}" + OUTSIDE,
                "streams[0].endpoint.headers.B: cannot read ${file:linkdir/secret.txt}" + OUTSIDE);
        assertThat(e.getMessage()).doesNotContain(SECRET);
    }

    @Test
    void filesBesideTheConfigurationAndUnderEdgeStreamingFileDirsAreRead() throws Exception {
        Files.createSymbolicLink(conf.resolve("inside-link.txt"), conf.resolve("token.txt"));
        Path config = write("{A: \"${file:token.txt}\", B: \"${file:%s}\", C: \"${file:inside-link.txt}\"}"
                .formatted(other.resolve("secret.txt")));
        Map<String, String> env = Map.of("EDGE_STREAMING_FILE_DIRS",
                tmp.resolve("absent") + File.pathSeparator + File.pathSeparator + other);
        assertThat(headers(ConfigLoader.load(config, env::get))).isEqualTo(List.of("beside", SECRET, "beside"));
        // Through a symlinked entry too: both sides are compared as real paths.
        Path linked = Files.createSymbolicLink(tmp.resolve("linked-other"), other);
        assertThat(headers(ConfigLoader.load(config, Map.of("EDGE_STREAMING_FILE_DIRS", linked.toString())::get)))
                .isEqualTo(List.of("beside", SECRET, "beside"));
    }

    @Test
    void parsedTextReadsOnlyUnderEdgeStreamingFileDirs() throws Exception {
        // No configuration file, so no directory of its own; relative paths still resolve against baseDir.
        String yaml = standard("", "headers: {A: \"${file:token.txt}\"}");
        assertThat(refused(() -> ConfigLoader.parse(yaml, Map.<String, String>of()::get, conf)).problems())
                .containsExactly("streams[0].endpoint.headers.A: cannot read ${file:token.txt}" + OUTSIDE);
        JobConfig c = ConfigLoader.parse(yaml, Map.of("EDGE_STREAMING_FILE_DIRS", conf.toString())::get, conf);
        assertThat(headers(c)).isEqualTo(List.of("beside"));
    }

    private Path write(String headers) throws Exception {
        return Files.writeString(conf.resolve("streams.yaml"), standard("", "headers: " + headers));
    }

    private static List<String> headers(JobConfig c) {
        return ((HttpEndpoint) c.streams().get(0).endpoint()).headers().values().stream().map(Secret::reveal).toList();
    }

    private static ConfigException refused(org.assertj.core.api.ThrowableAssert.ThrowingCallable load) {
        ConfigException[] caught = new ConfigException[1];
        assertThatThrownBy(load).isInstanceOfSatisfying(ConfigException.class, e -> caught[0] = e);
        return caught[0];
    }
}
