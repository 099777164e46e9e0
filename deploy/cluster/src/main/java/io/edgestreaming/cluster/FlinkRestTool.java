package io.edgestreaming.cluster;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The REST side of standalone.sh: job and task states, waiting for tasks and TaskManagers. A Java tool rather than
 * curl + grep because Flink's JSON nests vertex names and plans that a line-based parse gets wrong; it runs on the
 * cluster's own lib/ (JDK HTTP client, Flink's shaded Jackson), so a user needs nothing beyond Java.
 *
 * <p>Output of {@code status} (one fact per line, stable for scripts and {@code StandaloneCluster}):
 *
 * <pre>
 * job &lt;jobId&gt; &lt;JOB_STATE&gt; &lt;job name&gt;
 * task &lt;vertexId&gt; &lt;parallelism&gt; &lt;STATE=count,...&gt; &lt;vertex name&gt;
 * checkpoints completed=&lt;n&gt; failed=&lt;n&gt; in_progress=&lt;n&gt; restored=&lt;n&gt; latest_completed_id=&lt;id or -1&gt;
 * </pre>
 */
public final class FlinkRestTool {

    static final String USAGE =
            "usage: FlinkRestTool <restUrl> status [jobId]\n"
                    + "       FlinkRestTool <restUrl> wait-running <jobId> <timeoutSeconds>\n"
                    + "       FlinkRestTool <restUrl> wait-taskmanager <resourceId> <timeoutSeconds> [watchedPid...]";

    private static final Duration POLL = Duration.ofMillis(250);
    private static final List<String> TERMINAL_JOB_STATES = List.of("FAILED", "CANCELED", "FINISHED", "SUSPENDED");

    private final String restUrl;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();
    private final PrintStream out;

    FlinkRestTool(String restUrl, PrintStream out) {
        this.restUrl = restUrl.endsWith("/") ? restUrl.substring(0, restUrl.length() - 1) : restUrl;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        this.out = out;
    }

    public static void main(String[] args) {
        // The one place System.out is the product: this is a command line tool.
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 2) {
            err.println(USAGE);
            return 2;
        }
        FlinkRestTool tool = new FlinkRestTool(args[0], out);
        try {
            switch (args[1]) {
                case "status":
                    if (args.length == 2) {
                        return tool.printJobs();
                    }
                    tool.printJob(args[2]);
                    return 0;
                case "wait-running":
                    if (args.length != 4) {
                        break;
                    }
                    return tool.waitRunning(args[2], Duration.ofSeconds(Long.parseLong(args[3])), err);
                case "wait-taskmanager":
                    if (args.length < 4) {
                        break;
                    }
                    List<Long> watched = new ArrayList<>();
                    for (int i = 4; i < args.length; i++) {
                        watched.add(Long.parseLong(args[i]));
                    }
                    return tool.waitTaskManager(
                            args[2], Duration.ofSeconds(Long.parseLong(args[3])), watched, err);
                default:
                    break;
            }
            err.println(USAGE);
            return 2;
        } catch (RestException e) {
            err.println("error: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("error: interrupted");
            return 1;
        }
    }

    private int printJobs() throws RestException, InterruptedException {
        JsonNode jobs = get("/jobs/overview").path("jobs");
        for (JsonNode job : jobs) {
            out.println("job " + job.path("jid").asText() + " " + job.path("state").asText() + " "
                    + job.path("name").asText());
        }
        return 0;
    }

    private void printJob(String jobId) throws RestException, InterruptedException {
        JsonNode job = get("/jobs/" + jobId);
        printLines(job);
        JsonNode checkpoints = get("/jobs/" + jobId + "/checkpoints");
        JsonNode counts = checkpoints.path("counts");
        out.println("checkpoints completed=" + counts.path("completed").asLong()
                + " failed=" + counts.path("failed").asLong()
                + " in_progress=" + counts.path("in_progress").asLong()
                + " restored=" + counts.path("restored").asLong()
                + " latest_completed_id=" + checkpoints.path("latest").path("completed").path("id").asLong(-1));
    }

    private void printLines(JsonNode job) {
        out.println("job " + job.path("jid").asText() + " " + job.path("state").asText() + " "
                + job.path("name").asText());
        for (JsonNode vertex : job.path("vertices")) {
            out.println("task " + vertex.path("id").asText() + " " + vertex.path("parallelism").asInt() + " "
                    + counts(vertex.path("tasks")) + " " + vertex.path("name").asText());
        }
    }

    /** Non-zero task counts, e.g. {@code DEPLOYING=1,RUNNING=1}. */
    private static String counts(JsonNode tasks) {
        List<String> parts = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = tasks.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().asInt() > 0) {
                parts.add(e.getKey() + "=" + e.getValue().asInt());
            }
        }
        return parts.isEmpty() ? "NONE=0" : String.join(",", parts);
    }

    /**
     * Waits until the job is RUNNING and each of its tasks is RUNNING (a bounded source's finished task counts):
     * after a restart the job reports RUNNING while its tasks are still being scheduled and deployed.
     */
    private int waitRunning(String jobId, Duration timeout, PrintStream err) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer from " + restUrl;
        while (true) {
            try {
                JsonNode job = get("/jobs/" + jobId);
                String state = job.path("state").asText();
                if (TERMINAL_JOB_STATES.contains(state)) {
                    printLines(job);
                    err.println("error: job " + jobId + " is " + state + ", it will not run again");
                    return 1;
                }
                if ("RUNNING".equals(state) && allTasksRunning(job)) {
                    printLines(job);
                    return 0;
                }
                last = "job " + state + ", tasks " + taskSummary(job);
            } catch (RestException e) {
                last = e.getMessage();
            }
            if (System.nanoTime() > deadline) {
                err.println("error: job " + jobId + " not running with all tasks after " + timeout.toSeconds()
                        + " s; last seen: " + last);
                return 1;
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    static boolean allTasksRunning(JsonNode job) {
        JsonNode vertices = job.path("vertices");
        if (!vertices.isArray() || vertices.isEmpty()) {
            return false;
        }
        boolean anyRunning = false;
        for (JsonNode vertex : vertices) {
            int running = vertex.path("tasks").path("RUNNING").asInt();
            int finished = vertex.path("tasks").path("FINISHED").asInt();
            if (running + finished != vertex.path("parallelism").asInt()) {
                return false;
            }
            anyRunning |= running > 0;
        }
        return anyRunning;
    }

    private static String taskSummary(JsonNode job) {
        List<String> parts = new ArrayList<>();
        for (JsonNode vertex : job.path("vertices")) {
            parts.add(vertex.path("name").asText() + "[" + counts(vertex.path("tasks")) + "]");
        }
        return String.join(" ", parts);
    }

    /**
     * Waits until the TaskManager with this resource id is registered. Gives up at once when a watched process
     * (the JobManager, the TaskManager) has exited: a port in use or a bad config should not cost the timeout.
     */
    private int waitTaskManager(String resourceId, Duration timeout, List<Long> watchedPids, PrintStream err)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer from " + restUrl;
        while (true) {
            for (long pid : watchedPids) {
                if (!isAlive(pid)) {
                    err.println("error: process " + pid + " exited while waiting for TaskManager " + resourceId);
                    return 1;
                }
            }
            try {
                for (JsonNode tm : get("/taskmanagers").path("taskmanagers")) {
                    if (resourceId.equals(tm.path("id").asText())) {
                        out.println("taskmanager " + resourceId + " registered, slots="
                                + tm.path("slotsNumber").asInt());
                        return 0;
                    }
                }
                last = "not registered yet";
            } catch (RestException e) {
                last = e.getMessage();
            }
            if (System.nanoTime() > deadline) {
                err.println("error: TaskManager " + resourceId + " not registered with the JobManager after "
                        + timeout.toSeconds() + " s; last seen: " + last);
                return 1;
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /** Alive and not a zombie: a killed daemon whose parent has gone may linger unreaped. */
    static boolean isAlive(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (Files.isDirectory(stat.getParent())) {
            try {
                String content = Files.readString(stat, StandardCharsets.UTF_8);
                // Format: pid (comm) state ...; comm may contain spaces and parentheses.
                int end = content.lastIndexOf(')');
                return end > 0 && end + 2 < content.length() && content.charAt(end + 2) != 'Z'
                        && content.charAt(end + 2) != 'X';
            } catch (IOException e) {
                return false; // gone between the two calls
            }
        }
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private JsonNode get(String path) throws RestException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(restUrl + path))
                .timeout(Duration.ofSeconds(10))
                .GET()
                .build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new RestException("GET " + restUrl + path + " failed: " + e);
        }
        if (response.statusCode() != 200) {
            throw new RestException("GET " + restUrl + path + " answered " + response.statusCode() + ": "
                    + abbreviate(response.body()));
        }
        try {
            return json.readTree(response.body());
        } catch (IOException e) {
            throw new RestException("GET " + restUrl + path + " answered invalid JSON: " + abbreviate(response.body()));
        }
    }

    private static String abbreviate(String body) {
        return body.length() <= 300 ? body : body.substring(0, 300) + "...";
    }

    static final class RestException extends Exception {
        RestException(String message) {
            super(message);
        }
    }
}
