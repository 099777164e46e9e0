package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgestreaming.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EdgeStreamingJobTest {

    @Test
    void anInvalidConfigurationStopsBeforeAnyGraphWithEveryProblem(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("bad.yaml"), """
                source:
                  topics: {http: raw}
                checkpoint_interval: forever
                streams: []
                """);
        assertThatThrownBy(() -> EdgeStreamingJob.main(new String[] {"--config", config.toString()}))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.problems()).hasSizeGreaterThanOrEqualTo(3);
                    assertThat(String.join("\n", e.problems()))
                            .contains("bootstrap_servers").contains("checkpoint_interval").contains("streams");
                });
    }

    @Test
    void theConfigurationFileIsRequired() {
        assertThatThrownBy(() -> EdgeStreamingJob.main(new String[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--config");
        assertThat(EdgeStreamingJob.configPath(new String[] {"--config=/a/b.yaml"})).isEqualTo(Path.of("/a/b.yaml"));
    }
}
