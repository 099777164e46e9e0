package io.edgestreaming.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard parses and queries only metrics the job serves: the names MetricsITCase (module
 * job) scraped from Flink's Prometheus reporter, when it ran before in this build.
 */
class GrafanaDashboardTest {

    @Test
    void everyQueriedMetricIsOneTheReporterServes() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(DeployFiles.read("deploy/grafana/edge-streaming.json"));
        Set<String> queried = new TreeSet<>();
        Pattern metric = Pattern.compile("\\bflink_[A-Za-z0-9_]+");
        List<JsonNode> exprs = dashboard.findValues("expr");
        assertThat(exprs).isNotEmpty();
        for (JsonNode expr : exprs) {
            Matcher m = metric.matcher(expr.asText());
            assertThat(m.find()).as("a metric in %s", expr).isTrue();
            do {
                queried.add(m.group());
            } while (m.find());
        }
        assertThat(queried).contains("flink_taskmanager_job_task_operator_destination_state",
                "flink_taskmanager_job_task_operator_reason_eventsDeadLettered",
                "flink_taskmanager_job_task_operator_destination_spooledBlocks");
        Path scraped = DeployFiles.root().resolve("job/target/prometheus-metric-names.txt");
        if (Files.isRegularFile(scraped)) {
            assertThat(Set.copyOf(Files.readAllLines(scraped))).containsAll(queried);
        }
    }
}
