package io.edgestreaming.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ./run-local.sh} as a user runs it: LocalRunner in a child JVM (it calls System.exit) with the
 * test classpath, the example configuration and a short {@code --duration}; what it prints is checked.
 */
class LocalRunnerTest {
    private static final Logger LOG = LoggerFactory.getLogger(LocalRunnerTest.class);

    /** One run of the runner: exit code and everything it printed. */
    private record Run(int exit, String out) {}

    private static Run runner(Path workDir, Duration timeout, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Flink's --add-opens/--add-exports, as surefire got them from the parent pom (flink.java.opens).
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-opens") || arg.startsWith("--add-exports")) {
                command.add(arg);
            }
        }
        command.add("-Xmx1g");
        command.add("-Dlog4j2.configurationFile=log4j2-local-runner.xml");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(LocalRunner.class.getName());
        command.addAll(List.of(args));
        Path out = workDir.resolve("runner-stdout.txt");
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        try {
            if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("the local runner did not exit within " + timeout + "; it printed:\n"
                        + Files.readString(out));
            }
        } finally {
            process.destroyForcibly();
        }
        String printed = Files.readString(out, StandardCharsets.UTF_8);
        LOG.info("{} printed:\n{}", String.join(" ", args), printed); // kept in the surefire report
        return new Run(process.exitValue(), printed);
    }

    private static long number(String text) {
        return Long.parseLong(text.replaceAll("[^0-9]", ""));
    }

    @Test
    void runsTheExampleAndDeliversToEveryEndpointTypeThenStopsCleanly(@TempDir Path dir) throws Exception {
        Path output = dir.resolve("out");
        // The example with shorter batching and checkpoint intervals, so a short run delivers with margin.
        String example = Files.readString(DeployFiles.file("deploy/config/example.yaml"));
        assertThat(example).contains("max_interval: 10s", "checkpoint_interval: 5s");
        Path config = Files.writeString(dir.resolve("example.yaml"), example
                .replace("max_interval: 10s", "max_interval: 2s").replace("checkpoint_interval: 5s", "checkpoint_interval: 1s"));
        Run run = runner(dir, Duration.ofSeconds(120), "--duration", "15s", "--rest-port", "0",
                "--config", config.toString(), "--output", output.toString());

        assertThat(run.exit()).as(run.out()).isZero();
        assertThat(run.out()).contains("edge-streaming is running locally");
        assertThat(run.out()).as("the console is for progress; Kafka's own chatter goes elsewhere")
                .doesNotContain("Formatting metadata directory", "Bootstrap metadata");
        // The log file follows --output, where the "logs" line says it is.
        Path log = output.resolve("local-runner.log");
        assertThat(run.out()).contains("  logs             " + log);
        assertThat(log).isNotEmptyFile();

        // Figures of the last progress report (each report is cumulative).
        Matcher progress = Pattern.compile("\\| read ([\\d,.]+) \\| records routed ([\\d,.]+)").matcher(run.out());
        long read = 0;
        long routed = 0;
        while (progress.find()) {
            read = number(progress.group(1));
            routed = number(progress.group(2));
        }
        assertThat(read).as(run.out()).isPositive();
        assertThat(routed).as(run.out()).isPositive();
        // Each malformed event is dead-lettered once; the figure and its reasons count each once.
        Matcher deadLettered = Pattern.compile("\\(malformed ([\\d,.]+)\\).*\\| dead-lettered ([\\d,.]+)(?: \\{([^}]*)})?")
                .matcher(run.out());
        long lastDeadLettered = 0;
        String lastReasons = null;
        while (deadLettered.find()) {
            long malformed = number(deadLettered.group(1));
            lastDeadLettered = number(deadLettered.group(2));
            lastReasons = deadLettered.group(3);
            assertThat(lastDeadLettered).as(deadLettered.group()).isLessThanOrEqualTo(malformed);
        }
        assertThat(lastDeadLettered).as(run.out()).isPositive();
        assertThat(lastReasons).as(run.out()).isNotNull();
        long byReason = 0;
        for (String reason : lastReasons.split(", ")) {
            byReason += number(reason.substring(reason.indexOf('=') + 1));
        }
        assertThat(byReason).as(run.out()).isEqualTo(lastDeadLettered);
        Map<String, Long> delivered = new LinkedHashMap<>();
        Matcher destination = Pattern.compile("(?m)^\\s+destination (\\S+)\\s+delivered\\s+([\\d,.]+) blocks")
                .matcher(run.out());
        while (destination.find()) {
            delivered.put(destination.group(1), number(destination.group(2)));
        }
        // Both standard streams post to their own path: two HTTP destinations, each with its figures.
        assertThat(delivered.keySet()).as(run.out())
                .anyMatch(d -> d.startsWith("standard:") && d.endsWith("/siem"))
                .anyMatch(d -> d.startsWith("standard:") && d.endsWith("/api-7781k"));
        for (String type : List.of("standard:", "kafka:", "s3:")) {
            assertThat(delivered.entrySet()).as("%s in\n%s", type, run.out())
                    .anyMatch(e -> e.getKey().startsWith(type) && e.getValue() > 0);
        }
        assertThat(run.out()).contains("Stopped. Outputs stay in " + output);
        try (var bodies = Files.list(output.resolve("http-receiver"))) {
            assertThat(bodies.count()).isPositive();
        }
    }

    @Test
    void badOptionsPrintTheUsageAndExitNonZero(@TempDir Path dir) throws Exception {
        for (String[] args : List.of(new String[] {"--duration", ""}, new String[] {"--duration", "soon"},
                new String[] {"--rate", "-3"}, new String[] {"--bogus"}, new String[] {"--output"})) {
            Run run = runner(dir, Duration.ofSeconds(60), args);
            assertThat(run.exit()).as(String.join(" ", args) + ":\n" + run.out()).isEqualTo(2);
            assertThat(run.out()).as(String.join(" ", args)).contains("usage: ./run-local.sh")
                    .doesNotContain("Exception");
        }
        Run help = runner(dir, Duration.ofSeconds(60), "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).startsWith("usage: ./run-local.sh");
    }

    @Test
    void durationsAreParsedOrRefusedWithAMessage() {
        assertThat(LocalRunner.Options.parseDuration("20s")).isEqualTo(Duration.ofSeconds(20));
        assertThat(LocalRunner.Options.parseDuration("90")).isEqualTo(Duration.ofSeconds(90));
        assertThat(LocalRunner.Options.parseDuration("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(LocalRunner.Options.parseDuration("1H")).isEqualTo(Duration.ofHours(1));
        assertThat(LocalRunner.Options.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
        for (String bad : List.of("", " ", "s", "0s", "-5s", "1.5m", "5 minutes", "99999999999s")) {
            assertThatThrownBy(() -> LocalRunner.Options.parseDuration(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("--duration: '" + bad + "' is not a duration (write e.g. 120s, 5m, 1h)");
        }
    }
}
