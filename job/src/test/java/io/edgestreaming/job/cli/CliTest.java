package io.edgestreaming.job.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tool's command line: help, usage errors, exit codes, validate (nothing is connected). */
class CliTest {
    @TempDir
    Path dir;

    @Test
    void everyCommandHasHelpAndExitsZero() {
        for (List<String> command : List.of(List.<String>of(), List.of("validate"), List.of("check-endpoints"),
                List.of("dead-letters"), List.of("dead-letters", "list"), List.of("dead-letters", "show"),
                List.of("dead-letters", "replay"))) {
            String[] args = java.util.stream.Stream.concat(command.stream(), java.util.stream.Stream.of("--help"))
                    .toArray(String[]::new);
            Cli.Run run = Cli.run(args);
            assertThat(run.code()).as("%s: %s", command, run).isZero();
            assertThat(run.out()).as("%s", command).contains("Usage: edge-streaming").contains("Exit codes");
        }
        assertThat(Cli.run("check-endpoints", "--help").out()).contains("PROBE").contains("Cloudflare");
        assertThat(Cli.run("validate", "--help").out()).contains("${env:NAME}");
        assertThat(Cli.run("dead-letters", "replay", "--help").out()).contains("--dry-run").contains("Idempotency-Key");
    }

    @Test
    void usageErrorsExitTwo() {
        assertThat(Cli.run().code()).isEqualTo(2);
        assertThat(Cli.run("frobnicate").code()).isEqualTo(2);
        assertThat(Cli.run("validate").code()).as("--config is required").isEqualTo(2);
        assertThat(Cli.run("validate", "--config", "x.yaml", "--bogus").code()).isEqualTo(2);
        assertThat(Cli.run("dead-letters").code()).isEqualTo(2);
        assertThat(Cli.run("dead-letters", "list").code()).as("no store named").isEqualTo(2);
        assertThat(Cli.run("dead-letters", "list", "--store", "ftp://x/y").code()).isEqualTo(2);
        assertThat(Cli.run("dead-letters", "list", "--store", dir.toUri().toString(), "--since", "yesterday").code())
                .isEqualTo(2);
        Cli.Run replay = Cli.run("dead-letters", "replay", "--config", "x.yaml");
        assertThat(replay.code()).isEqualTo(2);
        assertThat(replay.err()).contains("--all");
    }

    @Test
    void validateAcceptsAGoodConfiguration() throws Exception {
        Path config = write(Cli.head("file:///tmp/dl") + Cli.stream(1, """
                endpoint_type: standard
                url: https://logs.example.com/ingest
                headers:
                  Authorization: "Bearer ${env:TOKEN}"
                """));
        Cli.Run run = Cli.run(Map.of("TOKEN", "tok-4f9a2b7c1d"), "validate", "--config", config.toString());
        assertThat(run.code()).as("%s", run).isZero();
        assertThat(run.out()).contains("valid, 1 stream(s), 1 active, endpoints standard=1");
        assertThat(run.all()).doesNotContain("tok-4f9a2b7c1d");
    }

    @Test
    void validateListsEveryProblemAtItsPathAndExitsOne() throws Exception {
        Path config = write(Cli.head("file:///tmp/dl") + Cli.stream(1, """
                endpoint_type: standard
                url: ftp://logs.example.com/ingest
                headers:
                  Authorization: "Bearer ${env:MISSING_TOKEN}"
                """) + Cli.stream(1, """
                endpoint_type: s3
                host_url: http://127.0.0.1:1
                bucket_name: b
                region: us-east-1
                access_key: a
                secret_key: s
                kafka_topic: nope
                """));
        Cli.Run run = Cli.run("validate", "--config", config.toString());
        assertThat(run.code()).as("%s", run).isEqualTo(1);
        assertThat(run.out()).contains("configuration problem(s)")
                .contains("streams[1].id: duplicate id 1")
                .contains("streams[0].endpoint.url: must be http or https")
                .contains("MISSING_TOKEN")
                .contains("streams[1].endpoint.kafka_topic");
    }

    @Test
    void validateRefusesAnInternalAddressAndWarnsOfAHostThatDoesNotResolve() throws Exception {
        Path refused = write(Cli.publicOnlyHead("file:///tmp/dl")
                + Cli.stream(1, "endpoint_type: standard\nurl: http://169.254.169.254/latest/meta-data/\n")
                + Cli.stream(2, "endpoint_type: standard\nurl: https://collector.invalid/in\n"));
        Cli.Run run = Cli.run("validate", "--config", refused.toString());
        assertThat(run.code()).as("%s", run).isEqualTo(1);
        assertThat(run.out()).contains("1 configuration problem(s)").contains("streams[0].endpoint.url: stream 1: host"
                + " 169.254.169.254 is a link-local / cloud metadata address");

        Path unresolved = write(Cli.publicOnlyHead("file:///tmp/dl")
                + Cli.stream(2, "endpoint_type: standard\nurl: https://collector.invalid/in\n"));
        run = Cli.run("validate", "--config", unresolved.toString());
        assertThat(run.code()).as("%s", run).isZero();
        assertThat(run.out()).contains("allowed_networks: none (public addresses only)")
                .contains("warning: streams[0].endpoint.url: stream 2: host collector.invalid does not resolve now");
    }

    @Test
    void validateOfAMissingFileIsAProblem() {
        Cli.Run run = Cli.run("validate", "--config", dir.resolve("nope.yaml").toString());
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.out()).contains("does not exist");
    }

    @Test
    void theJobsOwnArgumentsAreNotACommand() {
        assertThat(EdgeStreamingCli.runsTheJob(new String[] {"--config", "f.yaml"})).isTrue();
        assertThat(EdgeStreamingCli.runsTheJob(new String[] {"--config=f.yaml"})).isTrue();
        assertThat(EdgeStreamingCli.runsTheJob(new String[] {"validate", "--config", "f.yaml"})).isFalse();
        assertThat(EdgeStreamingCli.runsTheJob(new String[] {})).isFalse();
    }

    private Path write(String yaml) throws Exception {
        Path f = dir.resolve("streams.yaml");
        Files.writeString(f, yaml);
        return f;
    }
}
