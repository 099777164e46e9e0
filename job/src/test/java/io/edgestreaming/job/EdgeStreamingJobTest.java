package io.edgestreaming.job;

import io.edgestreaming.config.JobConfig;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgestreaming.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EdgeStreamingJobTest {

    /**
     * The dead-letter writer's checkpoint work (a new Kafka transaction per checkpoint, started in the
     * synchronous part) must not pause the source: it runs in a task of its own.
     */
    @Test
    void theDeadLetterWriterNeverSharesTheSourcesTask() throws Exception {
        boolean found = false;
        for (JobVertex vertex : JobGraphSizeTest.jobGraph(JobGraphSizeTest.config(2)).getVertices()) {
            if (vertex.getName().contains("dead-letter events")) {
                found = true;
                assertThat(vertex.getName()).doesNotContain("raw events").doesNotContain("parse and route");
            }
        }
        assertThat(found).as("a dead-letter vertex").isTrue();
    }

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

    @Test
    void snapshotsAreCompressedUnlessTheFlinkOptionsSayOtherwise() {
        JobConfig config = new JobConfig(null, null, null, java.time.Duration.ofSeconds(30), java.util.List.of(),
                io.edgestreaming.config.AddressPolicy.PUBLIC_ONLY);
        StreamExecutionEnvironment byDefault = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        EdgeStreamingPipeline.configure(byDefault, config);
        assertThat(byDefault.getConfig().isUseSnapshotCompression()).isTrue();

        Configuration off = new Configuration();
        off.set(ExecutionOptions.SNAPSHOT_COMPRESSION, false);
        StreamExecutionEnvironment explicit = StreamExecutionEnvironment.getExecutionEnvironment(off);
        EdgeStreamingPipeline.configure(explicit, config);
        assertThat(explicit.getConfig().isUseSnapshotCompression()).isFalse();
    }
}
