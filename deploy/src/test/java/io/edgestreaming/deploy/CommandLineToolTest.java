package io.edgestreaming.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.Secret;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.internal.DeadLetterStore;
import io.edgestreaming.connectors.http.HttpTransport;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.testkit.EmbeddedKafka;
import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.HttpReceiver;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.client.program.PackagedProgram;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built jar as operators run it: {@code bin/edge-streaming} in a plain JVM without Flink (so every class the
 * tool needs must be in the jar), and Flink's own choice of entry class for {@code flink run}.
 */
class CommandLineToolTest {
    private static final String SECRET = "s3-secret-1f4e7a";

    @TempDir
    Path dir;
    private Path jar;

    @BeforeEach
    void jarIsBuilt() {
        jar = DeployFiles.root().resolve(DeployFiles.jobJarPath());
        Assumptions.assumeTrue(Files.isRegularFile(jar), "job jar not built yet (run mvn package or verify)");
    }

    record Run(int code, String out, String err) {}

    private Run tool(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("sh", DeployFiles.root().resolve("bin/edge-streaming").toString()));
        command.addAll(List.of(args));
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        ProcessBuilder pb = new ProcessBuilder(command).directory(DeployFiles.root().toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("edge-streaming " + String.join(" ", args) + " did not end within 120 s");
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void flinkRunsTheJobAndJavaDashJarRunsTheTool() throws Exception {
        // PackagedProgram is what `flink run` and application mode use to pick the entry class.
        PackagedProgram program = PackagedProgram.newBuilder().setJarFile(jar.toFile())
                .setArguments("--config", "streams.yaml").build();
        try {
            assertThat(program.getMainClassName()).isEqualTo(JobJarTest.JOB_CLASS);
        } finally {
            program.close();
        }

        Run help = tool(Map.of(), "--help");
        assertThat(help.code()).as("%s", help).isZero();
        assertThat(help.out()).contains("Usage: edge-streaming").contains("check-endpoints").contains("dead-letters");
        assertThat(tool(Map.of(), "no-such-command").code()).isEqualTo(2);
        // The job's own arguments without Flink: a pointer to flink run, not a stack trace.
        Run job = tool(Map.of(), "--config", "deploy/config/example.yaml");
        assertThat(job.code()).isEqualTo(2);
        assertThat(job.err()).contains("flink run").doesNotContain("Exception");
    }

    @Test
    void checksRealEndpointsAndReplaysFromTheJarAlone() throws Exception {
        try (HttpReceiver receiver = HttpReceiver.start();
                EmbeddedS3 s3 = EmbeddedS3.start("edge", SECRET);
                EmbeddedKafka kafka = EmbeddedKafka.start()) {
            s3.createBucket("edge-logs");
            kafka.createTopic("edge-logs-7781k", 1);
            kafka.createTopic("edge-waf-4529r", 1);
            Map<String, String> env = new HashMap<>();
            env.put("EDGE_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
            env.put("EDGE_HTTP_URL", receiver.url("").toString().replaceAll("/$", ""));
            env.put("EDGE_S3_URL", s3.endpoint().toString());
            env.put("EDGE_S3_ACCESS_KEY", "edge");
            env.put("EDGE_S3_SECRET_KEY", SECRET);
            String config = "deploy/config/example.yaml";

            Run valid = tool(env, "validate", "--config", config);
            assertThat(valid.code()).as("%s", valid).isZero();

            Run check = tool(env, "check-endpoints", "--config", config);
            assertThat(check.code()).as("%s", check).isZero();
            assertThat(check.out()).contains("all 5 endpoint(s) can deliver");
            assertThat(check.err()).doesNotContain("Exception").doesNotContain("SLF4J");
            assertThat(check.out() + check.err()).doesNotContain(SECRET);

            // A dead-lettered block of stream 1001, replayed with its key.
            String store = dir.resolve("dead-letter").toUri().toString();
            HttpEndpoint endpoint = new HttpEndpoint(receiver.url("/siem"), Map.of("X-Edge-Stream", Secret.of("x")), "\n",
                    "$dataset", 5_000_000, HttpEndpoint.Compression.NONE, null);
            Block block = new Block(1001, DataSource.HTTP, "www.shop-4529r.example", 7, 2,
                    "{\"a\":1}\n{\"a\":2}".getBytes(StandardCharsets.US_ASCII));
            DeliveryConfig delivery = new DeliveryConfig(Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(5),
                    Duration.ofHours(1), 100, 1 << 20);
            Prepared prepared;
            try (HttpTransport http = new HttpTransport(delivery, io.edgestreaming.config.AddressPolicy.PUBLIC_ONLY)) {
                prepared = http.prepare(block, endpoint);
            }
            new DeadLetterStore(store).write(new StagedBlock(1001, DataSource.HTTP, block.domain(), 7, 2, endpoint.destinationId(),
                    prepared.payload(), prepared.deliveryKey(), prepared.contentEncoding()),
                    new DeadLetterStore.Entry("standard", endpoint.describe(), "HTTP 503", 3, 1, 2, 3));
            Run list = tool(env, "dead-letters", "list", "--store", store);
            assertThat(list.code()).as("%s", list).isZero();
            assertThat(list.out()).contains("1 block(s)");
            Run replay = tool(env, "dead-letters", "replay", "--config", config, "--store", store, "--stream", "1001");
            assertThat(replay.code()).as("%s", replay).isZero();
            assertThat(receiver.deliveredBlocks()).filteredOn(r -> r.path().equals("/siem"))
                    .extracting(HttpReceiver.Request::idempotencyKey).contains(prepared.deliveryKey());
            assertThat(new File(dir.toFile(), "dead-letter")).isDirectory();
        }
    }
}
