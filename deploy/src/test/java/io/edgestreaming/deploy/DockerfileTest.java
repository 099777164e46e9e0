package io.edgestreaming.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class DockerfileTest {

    static final String DOCKERFILE = "deploy/docker/Dockerfile";
    static final String USRLIB_JAR = "/opt/flink/usrlib/edge-streaming-job.jar";

    private static List<String> instructions() {
        // Join continuation lines, drop comments and blanks.
        String text = DeployFiles.read(DOCKERFILE).replaceAll("\\\\\\r?\\n", " ");
        return text.lines().map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    @Test
    void baseImageIsTheOfficialFlinkImageOfThePinnedVersion() {
        List<String> from = instructions().stream().filter(l -> l.startsWith("FROM ")).toList();
        assertThat(from).containsExactly("FROM flink:" + DeployFiles.flinkVersion() + "-java17");
    }

    @Test
    void s3PluginOfTheSameFlinkVersionIsEnabled() {
        String plugin = "flink-s3-fs-hadoop-" + DeployFiles.flinkVersion() + ".jar";
        assertThat(instructions()).anyMatch(l -> l.startsWith("RUN ")
                && l.contains("/opt/flink/opt/" + plugin) && l.contains("/opt/flink/plugins/s3-fs-hadoop/"));
    }

    @Test
    void copiesTheJarTheBuildProducesToWhereTheManifestsRunIt() {
        Pattern copy = Pattern.compile("COPY (?:--\\S+ )*(\\S+) (\\S+)");
        List<String[]> copies = instructions().stream().map(copy::matcher).filter(Matcher::matches)
                .map(m -> new String[] {m.group(1), m.group(2)}).toList();
        assertThat(copies).anySatisfy(c -> {
            assertThat(c[0]).isEqualTo(DeployFiles.jobJarPath());
            assertThat(c[1]).isEqualTo(USRLIB_JAR);
        });
    }

    @Test
    void theBuildContextHoldsOnlyWhatTheDockerfileCopies() {
        // .dockerignore at the context root (the repository root): everything out, each COPY source back in.
        List<String> ignore = DeployFiles.read(".dockerignore").lines().map(String::trim)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        Pattern copy = Pattern.compile("COPY (?:--\\S+ )*(\\S+) (\\S+)");
        List<String> sources = instructions().stream().map(copy::matcher).filter(Matcher::matches)
                .map(m -> m.group(1)).toList();
        assertThat(ignore).first().isEqualTo("*");
        assertThat(ignore.subList(1, ignore.size())).containsExactlyInAnyOrderElementsOf(
                sources.stream().map(s -> "!" + s).toList());
    }
}
