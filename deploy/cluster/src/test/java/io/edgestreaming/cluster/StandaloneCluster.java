package io.edgestreaming.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real standalone Flink session cluster for tests: separate JobManager and TaskManager JVMs started by
 * {@code deploy/cluster/standalone.sh}, the same script users run. Every call goes through the script, so the tests
 * prove it. Ports are free ones picked at start; the run directory (config, logs, pids, checkpoints) is kept for
 * post-mortems.
 *
 * <p>No process outlives the test: {@link #close()} stops everything (idempotent; use try-with-resources or
 * {@code @AfterEach}), a JVM shutdown hook does the same if the test JVM exits early, and the script's watchdog stops
 * the cluster if the test JVM is killed outright.
 */
public final class StandaloneCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StandaloneCluster.class);
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(3);

    private final Path script;
    private final Path runDir;
    private final int restPort;
    private final int rpcPort;
    private final long ownerPid;
    private final Thread shutdownHook;
    private boolean closed;

    private StandaloneCluster(Path script, Path runDir, int restPort, int rpcPort, long ownerPid) {
        this.ownerPid = ownerPid;
        this.script = script;
        this.runDir = runDir;
        this.restPort = restPort;
        this.rpcPort = rpcPort;
        this.shutdownHook = new Thread(this::stopQuietly, "standalone-cluster-stop");
    }

    /**
     * Starts a JobManager and one TaskManager and returns once the TaskManager is registered. Needs the layout
     * {@code deploy/cluster/target/flink} (built by this module before its tests run).
     */
    public static StandaloneCluster start(Path runDir) {
        return start(runDir, ProcessHandle.current().pid());
    }

    /** As {@link #start(Path)}, with the script's watchdog stopping the cluster when {@code ownerPid} exits. */
    static StandaloneCluster start(Path runDir, long ownerPid) {
        int[] ports = freePorts(2);
        StandaloneCluster cluster =
                new StandaloneCluster(script(), runDir.toAbsolutePath(), ports[0], ports[1], ownerPid);
        Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
        try {
            cluster.run("start");
        } catch (RuntimeException | Error e) {
            cluster.close(); // the script stops what it started on failure; this also covers a timeout
            throw e;
        }
        return cluster;
    }

    /** Submits a job jar (detached, Flink's CLI) and returns its job id. */
    public String submit(Path jar, String... args) {
        List<String> command = new ArrayList<>(List.of("submit", jar.toAbsolutePath().toString()));
        command.addAll(Arrays.asList(args));
        String out = run(command.toArray(String[]::new)).trim();
        String jobId = out.substring(out.lastIndexOf('\n') + 1).trim();
        if (!jobId.matches("[0-9a-f]{32}")) {
            throw new IllegalStateException("submit printed no job id:\n" + out);
        }
        return jobId;
    }

    /** The job, its tasks and its checkpoint counts, as the REST API reports them now. */
    public JobStatus status(String jobId) {
        return JobStatus.parse(run("status", jobId));
    }

    /** The job state, e.g. RUNNING or RESTARTING. */
    public String jobStatus(String jobId) {
        return status(jobId).state();
    }

    /** Per vertex: its name and how many subtasks are in which state. */
    public List<VertexTasks> taskStates(String jobId) {
        return status(jobId).vertices();
    }

    /** Waits until the job and each of its tasks is RUNNING (the job alone reports RUNNING too early). */
    public JobStatus waitRunning(String jobId, Duration timeout) {
        run("wait-running", jobId, Long.toString(Math.max(1, timeout.toSeconds())));
        return status(jobId);
    }

    /** {@code kill -9} of every TaskManager this cluster runs; returns their pids (all dead on return). */
    public List<Long> killTaskManager() {
        List<Long> pids = new ArrayList<>();
        processes().forEach((name, pid) -> {
            if (name.startsWith("taskmanager-")) {
                pids.add(pid);
            }
        });
        run("kill-taskmanager");
        return pids;
    }

    /** Starts one more TaskManager and returns once it is registered with the JobManager. */
    public void startTaskManager() {
        run("start-taskmanager");
    }

    /** Live processes of this cluster by name (jobmanager, taskmanager-N, watchdog) with their pids. */
    public Map<String, Long> processes() {
        Map<String, Long> live = new LinkedHashMap<>();
        // status exits 3 when the JobManager is not running; its process lines are still right.
        for (String line : exec(3, "status").split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length == 4 && f[0].equals("process") && f[3].equals("alive")) {
                live.put(f[1], Long.parseLong(f[2]));
            }
        }
        return live;
    }

    public Path runDir() {
        return runDir;
    }

    public String restUrl() {
        return "http://127.0.0.1:" + restPort;
    }

    /** The last lines of every log of this run, for a failure message. */
    public String logTails(int lines) {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> logs = Files.list(runDir.resolve("log"))) {
            for (Path log : logs.sorted().toList()) {
                List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
                sb.append("---- ").append(log).append('\n');
                all.subList(Math.max(0, all.size() - lines), all.size())
                        .forEach(l -> sb.append(l).append('\n'));
            }
        } catch (IOException | UncheckedIOException e) {
            sb.append("(logs unreadable: ").append(e).append(")\n");
        }
        return sb.toString();
    }

    /** Alive and not a zombie. */
    public static boolean isAlive(long pid) {
        return FlinkRestTool.isAlive(pid);
    }

    /** Stops every process of this cluster (idempotent). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook runs or ran
        }
        run("stop");
    }

    private void stopQuietly() {
        try {
            close();
        } catch (RuntimeException e) {
            LOG.error("stopping the standalone cluster in {} failed", runDir, e);
        }
    }

    /** Runs the script with this cluster's environment; returns stdout, throws with stdout+stderr if it fails. */
    String run(String... args) {
        return exec(0, args);
    }

    /** Runs the script expecting it to fail; returns its exit code and stdout+stderr. */
    Failure runFailing(String... args) {
        try {
            exec(0, args);
        } catch (CommandFailed e) {
            return new Failure(e.exitCode, e.getMessage());
        }
        throw new AssertionError("standalone.sh " + String.join(" ", args) + " succeeded, expected it to fail");
    }

    record Failure(int exitCode, String output) {}

    static final class CommandFailed extends IllegalStateException {
        final int exitCode;

        CommandFailed(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }
    }

    /** Like {@link #run} but also accepts the exit code {@code alsoOk}. */
    private String exec(int alsoOk, String... args) {
        List<String> command = new ArrayList<>(List.of("bash", script.toString()));
        command.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> env = pb.environment();
        env.put("CLUSTER_RUN_DIR", runDir.toString());
        env.put("CLUSTER_REST_PORT", Integer.toString(restPort));
        env.put("CLUSTER_RPC_PORT", Integer.toString(rpcPort));
        env.put("CLUSTER_OWNER_PID", Long.toString(ownerPid));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.remove("JAVA");
        Path stdout;
        Path stderr;
        try {
            Files.createDirectories(runDir);
            stdout = Files.createTempFile(runDir, "cmd-", ".out");
            stderr = Files.createTempFile(runDir, "cmd-", ".err");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // Files, not pipes: the daemons the script starts must never hold a pipe this JVM waits on.
        pb.redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            boolean done = p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (!done) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
            String out = Files.readString(stdout, StandardCharsets.UTF_8);
            String err = Files.readString(stderr, StandardCharsets.UTF_8);
            LOG.info("standalone.sh {} -> {}\n{}{}", String.join(" ", args), done ? p.exitValue() : "timeout", out,
                    err);
            if (!done || (p.exitValue() != 0 && p.exitValue() != alsoOk)) {
                throw new CommandFailed("standalone.sh " + String.join(" ", args) + " failed ("
                        + (done ? "exit " + p.exitValue() : "timeout after " + COMMAND_TIMEOUT) + ")\nstdout:\n"
                        + out + "stderr:\n" + err, done ? p.exitValue() : -1);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running standalone.sh " + String.join(" ", args), e);
        } finally {
            try {
                Files.deleteIfExists(stdout);
                Files.deleteIfExists(stderr);
            } catch (IOException e) {
                LOG.warn("could not delete {} / {}", stdout, stderr, e);
            }
        }
    }

    /** deploy/cluster/standalone.sh, found from the working directory up (tests may run in any module). */
    static Path script() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            for (Path candidate : List.of(dir.resolve("standalone.sh"), dir.resolve("deploy/cluster/standalone.sh"),
                    dir.resolve("cluster/standalone.sh"))) {
                if (Files.isRegularFile(candidate) && candidate.getParent().resolve("pom.xml").toFile().exists()
                        && candidate.getParent().getFileName().toString().equals("cluster")) {
                    return candidate;
                }
            }
        }
        throw new IllegalStateException("deploy/cluster/standalone.sh not found above " + Path.of("").toAbsolutePath());
    }

    private static int[] freePorts(int n) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0);
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // a port we only probed
                }
            }
        }
    }

    /** Subtask counts of one job vertex, e.g. {RUNNING=2} or {DEPLOYING=1, RUNNING=1}. */
    public record VertexTasks(String vertexId, String name, int parallelism, Map<String, Integer> counts) {
        public boolean allRunning() {
            return counts.getOrDefault("RUNNING", 0) == parallelism;
        }
    }

    /** Checkpoint counters of a job; they survive restarts of the job within its JobManager. */
    public record Checkpoints(long completed, long failed, long inProgress, long restored, long latestCompletedId) {}

    /** One {@code standalone.sh status <jobId>} answer. */
    public record JobStatus(String jobId, String state, List<VertexTasks> vertices, Checkpoints checkpoints) {

        public boolean allTasksRunning() {
            return state.equals("RUNNING") && !vertices.isEmpty()
                    && vertices.stream().allMatch(VertexTasks::allRunning);
        }

        static JobStatus parse(String output) {
            String jobId = null;
            String state = null;
            List<VertexTasks> vertices = new ArrayList<>();
            Checkpoints checkpoints = null;
            for (String line : output.split("\n")) {
                String[] f = line.trim().split(" ", 5);
                switch (f[0]) {
                    case "job" -> {
                        jobId = f[1];
                        state = f[2];
                    }
                    case "task" -> {
                        Map<String, Integer> counts = new LinkedHashMap<>();
                        for (String kv : f[3].split(",")) {
                            String[] p = kv.split("=");
                            counts.put(p[0], Integer.parseInt(p[1]));
                        }
                        vertices.add(new VertexTasks(f[1], f.length > 4 ? f[4] : "", Integer.parseInt(f[2]), counts));
                    }
                    case "checkpoints" -> {
                        Map<String, Long> v = new LinkedHashMap<>();
                        for (String kv : line.trim().substring("checkpoints ".length()).split(" ")) {
                            String[] p = kv.split("=");
                            v.put(p[0], Long.parseLong(p[1]));
                        }
                        checkpoints = new Checkpoints(v.get("completed"), v.get("failed"), v.get("in_progress"),
                                v.get("restored"), v.get("latest_completed_id"));
                    }
                    default -> {
                        // process lines and anything added later
                    }
                }
            }
            if (jobId == null || checkpoints == null) {
                throw new IllegalStateException("unexpected status output:\n" + output);
            }
            return new JobStatus(jobId, state, List.copyOf(vertices), checkpoints);
        }
    }
}
