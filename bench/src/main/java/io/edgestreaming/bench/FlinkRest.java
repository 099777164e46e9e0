package io.edgestreaming.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoint statistics of a job from the MiniCluster's REST API: {@code /jobs/<id>/checkpoints} for the
 * history, {@code .../details/<checkpoint>/subtasks/<vertex>} for each subtask's synchronous and asynchronous
 * parts.
 */
final class FlinkRest {
    private static final Logger LOG = LoggerFactory.getLogger(FlinkRest.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    /** Its own named daemon threads: the JDK's default executor's "HttpClient-N-Worker" would count as delivery threads. */
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .executor(Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "bench-rest-client");
                t.setDaemon(true);
                return t;
            })).build();
    private boolean loggedOne;

    FlinkRest(URI base) {
        this.base = base;
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(base.resolve(path))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new IOException("GET " + path + ": HTTP " + response.statusCode() + " "
                    + new String(response.body(), java.nio.charset.StandardCharsets.UTF_8));
        }
        return JSON.readTree(response.body());
    }

    /** One completed checkpoint; durations in ms, sizes in bytes. */
    record Checkpoint(long id, long triggerMillis, long stateSize, long checkpointedSize, long duration,
            long maxSync, String maxSyncVertex, long maxAsync, String maxAsyncVertex, long maxAlignment,
            long maxStartDelay, long processedData) {}

    /** {@code failedInHistory}: failed checkpoints listed in the history (Flink also counts triggers that failed). */
    record Checkpoints(int completed, int failed, int failedInHistory, List<Checkpoint> history) {}

    /** "batcher -> (route standard -> deliver standard, ...)" -> "batcher +6 chained". */
    static String shortName(String vertex) {
        int arrow = vertex.indexOf(" -> ");
        if (arrow < 0) {
            return vertex;
        }
        int operators = vertex.split(" -> |, ").length;
        return vertex.substring(0, arrow) + " +" + (operators - 1) + " chained";
    }

    Checkpoints checkpoints(String jobId) throws IOException, InterruptedException {
        Map<String, String> vertexNames = new HashMap<>();
        for (JsonNode v : get("/jobs/" + jobId).path("vertices")) {
            vertexNames.put(v.path("id").asText(), v.path("name").asText());
        }
        JsonNode overview = get("/jobs/" + jobId + "/checkpoints");
        List<Checkpoint> list = new ArrayList<>();
        int failedInHistory = 0;
        for (JsonNode c : overview.path("history")) {
            if ("FAILED".equals(c.path("status").asText())) {
                LOG.info("job {}: failed checkpoint {}", jobId, c);
                failedInHistory++;
            }
            if (!"COMPLETED".equals(c.path("status").asText()) || c.path("is_savepoint").asBoolean()) {
                continue;
            }
            long id = c.path("id").asLong();
            long maxSync = -1;
            long maxAsync = -1;
            long maxAlign = -1;
            long maxDelay = -1;
            String syncVertex = "";
            String asyncVertex = "";
            JsonNode details = get("/jobs/" + jobId + "/checkpoints/details/" + id);
            for (var it = details.path("tasks").fieldNames(); it.hasNext(); ) {
                String vertex = it.next();
                JsonNode sub = get("/jobs/" + jobId + "/checkpoints/details/" + id + "/subtasks/" + vertex);
                if (!loggedOne) {
                    LOG.info("checkpoint {} vertex {} subtasks: {}", id, vertexNames.get(vertex), sub);
                    loggedOne = true;
                }
                for (JsonNode s : sub.path("subtasks")) {
                    long sync = s.path("checkpoint").path("sync").asLong(-1);
                    long async = s.path("checkpoint").path("async").asLong(-1);
                    if (sync > maxSync) {
                        maxSync = sync;
                        syncVertex = shortName(vertexNames.getOrDefault(vertex, vertex)) + " #" + s.path("index").asInt();
                    }
                    if (async > maxAsync) {
                        maxAsync = async;
                        asyncVertex = shortName(vertexNames.getOrDefault(vertex, vertex)) + " #" + s.path("index").asInt();
                    }
                    maxAlign = Math.max(maxAlign, s.path("alignment").path("duration").asLong(-1));
                    maxDelay = Math.max(maxDelay, s.path("start_delay").asLong(-1));
                }
            }
            list.add(new Checkpoint(id, c.path("trigger_timestamp").asLong(), c.path("state_size").asLong(),
                    c.path("checkpointed_size").asLong(), c.path("end_to_end_duration").asLong(), maxSync, syncVertex,
                    maxAsync, asyncVertex, maxAlign, maxDelay, c.path("processed_data").asLong()));
        }
        list.sort((a, b) -> Long.compare(a.id(), b.id()));
        JsonNode counts = overview.path("counts");
        LOG.info("checkpoint counts of job {}: {}", jobId, counts);
        return new Checkpoints(counts.path("completed").asInt(), counts.path("failed").asInt(), failedInHistory, list);
    }
}
