package io.edgestreaming.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.time.Duration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

/** The Kafka 3.9 child-process broker: restart with its data, diagnostics when it cannot start, no orphans. */
class ChildProcessKafkaITCase {

    private static List<String> values(TestKafka kafka, String topic, int expected) {
        return kafka.readCommitted(topic, expected, Duration.ofSeconds(30)).stream()
                .map(r -> new String(r.value(), StandardCharsets.UTF_8)).sorted().toList();
    }

    @Test
    void stopAndStartKeepPortAndData() throws Exception {
        Path dir;
        long firstPid;
        try (ChildProcessKafka kafka = ChildProcessKafka.start()) {
            dir = kafka.logFile().getParent();
            firstPid = kafka.pid();
            kafka.createTopic("kept", 1);
            kafka.send("kept", List.of("before".getBytes(StandardCharsets.UTF_8)));

            String bootstrap = kafka.bootstrapServers();
            kafka.stopBroker();
            assertThat(ProcessHandle.of(firstPid).map(ProcessHandle::isAlive)).isNotEqualTo(java.util.Optional.of(true));
            Map<String, Object> quick = new HashMap<>(kafka.plainClientProps());
            quick.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2000);
            quick.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 1000);
            try (Admin probe = Admin.create(quick)) {
                assertThatThrownBy(() -> probe.listTopics().names().get(5, TimeUnit.SECONDS))
                        .hasMessageContaining("Timed out");
            }

            kafka.startBroker();
            assertThat(kafka.bootstrapServers()).isEqualTo(bootstrap);
            assertThat(kafka.pid()).isNotEqualTo(firstPid);
            kafka.send("kept", List.of("after".getBytes(StandardCharsets.UTF_8)));
            assertThat(values(kafka, "kept", 2)).containsExactly("after", "before");

            kafka.close();
            kafka.close(); // idempotent
        }
        assertThat(dir).doesNotExist();
    }

    @Test
    void aBrokerThatCannotStartSaysWhereItsLogIs() throws Exception {
        // Kafka refuses the configuration (formatter and broker alike).
        assertThatThrownBy(() -> ChildProcessKafka.builder().brokerProp("num.network.threads", "0").start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Kafka 3.9.1 broker (child process) failed to start")
                .hasMessageContaining("num.network.threads")
                .satisfies(e -> {
                    Matcher m = Pattern.compile("Its log \\(kept\\): (\\S+);").matcher(e.getMessage());
                    assertThat(m.find()).as(e.getMessage()).isTrue();
                    Path log = Path.of(m.group(1));
                    assertThat(log).exists();
                    deleteRecursively(log.getParent());
                });
    }

    @Test
    void theChildEndsWhenItsParentIsGone() throws Exception {
        // ChildProcessMain running a program that would never end, whose parent's pipe then closes.
        String classPath = System.getProperty("java.class.path");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classPath, ChildProcessMain.class.getName(), Sleeper.class.getName())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            assertThat(child.waitFor(1, TimeUnit.SECONDS)).as("still running while the pipe is open").isFalse();
            child.getOutputStream().close();
            assertThat(child.waitFor(20, TimeUnit.SECONDS)).as("exited once the pipe closed").isTrue();
            assertThat(child.exitValue()).isEqualTo(3);
        } finally {
            child.destroyForcibly();
        }
    }

    /** Sleeps forever (for theChildEndsWhenItsParentIsGone). */
    public static final class Sleeper {
        public static void main(String[] args) throws InterruptedException {
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    private static void deleteRecursively(Path dir) throws Exception {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
