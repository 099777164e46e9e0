package io.edgestreaming.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The README's deployment instructions name the files and values the build and manifests really use. */
class ReadmeDeployTest {

    @Test
    void deploySectionNamesTheRealJarImageAndJarUri() {
        String readme = DeployFiles.read("README.md");
        assertThat(readme).contains("## Deploy", "## Operations");
        String deploy = readme.substring(readme.indexOf("## Deploy"));
        assertThat(deploy).contains(
                DeployFiles.jobJarPath(),
                "flink:" + DeployFiles.flinkVersion() + "-java17",
                "local://" + DockerfileTest.USRLIB_JAR,
                "deploy/docker/Dockerfile",
                "kubectl apply -k deploy/k8s");
        String operations = readme.substring(readme.indexOf("## Operations"));
        assertThat(operations).contains("restartNonce", "upgradeMode: savepoint", "transaction_timeout",
                "dead_letter.blocks_path", "pipeline.max-parallelism");
    }
}
