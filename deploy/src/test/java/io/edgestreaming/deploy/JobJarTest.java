package io.edgestreaming.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The shaded job jar: the build writes it where the docs, the Dockerfile and the manifests say. Flink runs the
 * job from it ({@code program-class}, which Flink reads before Main-Class); {@code java -jar} runs the
 * command-line tool (Main-Class).
 */
class JobJarTest {

    static final String JOB_CLASS = "io.edgestreaming.job.EdgeStreamingJob";
    static final String CLI_CLASS = "io.edgestreaming.job.cli.EdgeStreamingCli";

    @Test
    void shadeConfigurationNamesAStableJarTheJobAndTheTool() throws Exception {
        assertThat(DeployFiles.jobJarPath()).isEqualTo("job/target/edge-streaming-job.jar");
        String transformer = "//plugin[artifactId='maven-shade-plugin']//transformer[mainClass]";
        assertThat(DeployFiles.pom("job/pom.xml", transformer + "/mainClass")).isEqualTo(CLI_CLASS);
        assertThat(DeployFiles.pom("job/pom.xml", transformer + "/manifestEntries/program-class")).isEqualTo(JOB_CLASS);
        // Both exist and are real entry points.
        for (String name : new String[] {JOB_CLASS, CLI_CLASS}) {
            assertThat(Class.forName(name).getMethod("main", String[].class)).isNotNull();
        }
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
            assertThat(jf.getManifest().getMainAttributes().getValue("Main-Class")).isEqualTo(CLI_CLASS);
            assertThat(jf.getManifest().getMainAttributes().getValue("program-class")).isEqualTo(JOB_CLASS);
            List<String> names = new ArrayList<>();
            jf.stream().forEach(e -> names.add(e.getName()));
            assertThat(names).contains(
                    JOB_CLASS.replace('.', '/') + ".class",
                    CLI_CLASS.replace('.', '/') + ".class",
                    "picocli/CommandLine.class",
                    // Web identity credentials (IRSA) for the tool's s3:// dead-letter store.
                    "software/amazon/awssdk/services/sts/StsClient.class",
                    "org/apache/kafka/clients/producer/KafkaProducer.class",
                    "org/apache/flink/connector/kafka/source/KafkaSource.class",
                    "software/amazon/awssdk/services/s3/S3Client.class",
                    "io/edgestreaming/config/ConfigLoader.class");
            // Jackson (and the YAML parser under it) is relocated: the cluster's copies cannot clash.
            assertThat(names).anyMatch(n -> n.startsWith("io/edgestreaming/shaded/jackson/databind/"));
            assertThat(names).noneMatch(n -> n.startsWith("com/fasterxml/jackson/"));
            assertThat(names).noneMatch(n -> n.startsWith("org/yaml/snakeyaml/"));
            // One sync HTTP client for the AWS SDK: a second one makes its default client lookup fail. Apache
            // HttpClient 5, for the DNS hook that checks every S3 address against allowed_networks.
            assertThat(names).anyMatch(n -> n.startsWith("software/amazon/awssdk/http/apache5/"));
            assertThat(names).contains("org/apache/hc/client5/http/DnsResolver.class");
            assertThat(names).noneMatch(n -> n.startsWith("software/amazon/awssdk/http/urlconnection/"));
            assertThat(names).noneMatch(n -> n.startsWith("software/amazon/awssdk/http/apache/"));
            // Flink's own classes and logging come from the cluster. The tool's slf4j API and stderr binding are
            // in (Flink loads org.slf4j parent-first, so they never run there) without a service file to find.
            assertThat(names).noneMatch(n -> n.startsWith("org/apache/flink/streaming/api/"));
            assertThat(names).noneMatch(n -> n.startsWith("org/apache/flink/runtime/"));
            assertThat(names).noneMatch(n -> n.startsWith("org/apache/flink/configuration/"));
            assertThat(names).noneMatch(n -> n.startsWith("org/apache/logging/log4j/"));
            assertThat(names).contains("org/slf4j/LoggerFactory.class", "org/slf4j/simple/SimpleServiceProvider.class");
            assertThat(names).doesNotContain("META-INF/services/org.slf4j.spi.SLF4JServiceProvider");
        }
    }
}
