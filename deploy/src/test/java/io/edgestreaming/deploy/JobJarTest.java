package io.edgestreaming.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The shaded job jar: the build writes it where the docs, the Dockerfile and the manifests say. */
class JobJarTest {

    static final String MAIN_CLASS = "io.edgestreaming.job.EdgeStreamingJob";

    @Test
    void shadeConfigurationNamesAStableJarAndTheJobsMainClass() throws Exception {
        assertThat(DeployFiles.jobJarPath()).isEqualTo("job/target/edge-streaming-job.jar");
        String mainClass = DeployFiles.pom("job/pom.xml",
                "//plugin[artifactId='maven-shade-plugin']//transformer[mainClass]/mainClass");
        assertThat(mainClass).isEqualTo(MAIN_CLASS);
        // The main class exists and is a real entry point.
        Class<?> main = Class.forName(mainClass);
        assertThat(main.getMethod("main", String[].class)).isNotNull();
    }

    /**
     * Checks the built jar itself. In {@code mvn verify} the reactor packages module job before it tests
     * deploy, so the jar is there; a lone {@code mvn test} has not built it and skips this check.
     */
    @Test
    void builtJarBundlesConnectorsButNotFlink() throws Exception {
        Path jar = DeployFiles.root().resolve(DeployFiles.jobJarPath());
        Assumptions.assumeTrue(Files.isRegularFile(jar), "job jar not built yet (run mvn package or verify)");
        try (JarFile jf = new JarFile(jar.toFile())) {
            assertThat(jf.getManifest().getMainAttributes().getValue("Main-Class")).isEqualTo(MAIN_CLASS);
            List<String> names = new ArrayList<>();
            jf.stream().forEach(e -> names.add(e.getName()));
            assertThat(names).contains(
                    MAIN_CLASS.replace('.', '/') + ".class",
                    "org/apache/kafka/clients/producer/KafkaProducer.class",
                    "org/apache/flink/connector/kafka/source/KafkaSource.class",
                    "software/amazon/awssdk/services/s3/S3Client.class",
                    "io/edgestreaming/config/ConfigLoader.class");
            // Jackson (and the YAML parser under it) is relocated: the cluster's copies cannot clash.
            assertThat(names).anyMatch(n -> n.startsWith("io/edgestreaming/shaded/jackson/databind/"));
            assertThat(names).noneMatch(n -> n.startsWith("com/fasterxml/jackson/"));
            assertThat(names).noneMatch(n -> n.startsWith("org/yaml/snakeyaml/"));
            // One sync HTTP client for the AWS SDK: a second one makes its default client lookup fail.
            assertThat(names).anyMatch(n -> n.startsWith("software/amazon/awssdk/http/urlconnection/"));
            assertThat(names).noneMatch(n -> n.startsWith("software/amazon/awssdk/http/apache"));
            // Flink's own classes and logging come from the cluster.
            assertThat(names).noneMatch(n -> n.startsWith("org/apache/flink/streaming/api/"));
            assertThat(names).noneMatch(n -> n.startsWith("org/apache/flink/runtime/"));
            assertThat(names).noneMatch(n -> n.startsWith("org/apache/flink/configuration/"));
            assertThat(names).noneMatch(n -> n.startsWith("org/slf4j/"));
            assertThat(names).noneMatch(n -> n.startsWith("org/apache/logging/log4j/"));
        }
    }
}
