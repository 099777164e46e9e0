package io.edgestreaming.job.cli;

import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.StreamConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "check-endpoints", mixinStandardHelpOptions = true,
        description = {"Connects to each active stream's destination as the job would and proves it takes a delivery:",
                "standard (HTTP): POSTs ONE PROBE RECORD, formatted as the stream's blocks are (payload_format, "
                        + "log_line_separator, compression), with the stream's headers and an Idempotency-Key. The endpoint "
                        + "receives it as a record, {\"edge_streaming_probe\":\"check-endpoints\",\"stream_id\":ID,\"sent_at\":\"...\"}, "
                        + "as with Azion's and Cloudflare's own destination checks, which send a real request too. 2xx passes.",
                "s3: writes a probe object edge-streaming-probe-<uuid> under object_key_prefix as the job writes objects, "
                        + "then removes it.",
                "kafka: the topic exists and may be written (ACLs); a transaction is begun and aborted (transactional id "
                        + "edge-streaming-check-...), which proves TLS, SASL and the id's ACL. Nothing is written.",
                "Every endpoint host must pass allowed_networks, at load and again when it is connected to, as in the job.",
                "Each check waits at most delivery.request_timeout; different endpoints are checked in parallel. Prints "
                        + "stream, destination (secrets redacted), result, time and the exact reason of a failure.",
                "Exit codes: 0 every endpoint passed, 1 a check failed or the configuration is invalid, 2 usage."})
final class CheckEndpointsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", required = true, description = "the job's configuration (YAML or JSON)")
    Path config;

    @Option(names = "--stream", paramLabel = "ID", description = "check only this stream (repeatable; inactive ones too)")
    List<Long> streams = new ArrayList<>();

    @Option(names = "--include-inactive", description = "also check inactive streams (default: active streams only)")
    boolean includeInactive;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "4", description = "endpoints checked at once (default: ${DEFAULT-VALUE})")
    int parallel;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (parallel < 1) {
            throw new ParameterException(spec.commandLine(), "--parallel must be at least 1");
        }
        Optional<JobConfig> loaded = Configs.load(config, EdgeStreamingCli.of(spec).env(), err);
        if (loaded.isEmpty()) {
            return EdgeStreamingCli.PROBLEMS;
        }
        JobConfig job = loaded.get();
        List<StreamConfig> selected = select(job);
        if (selected.isEmpty()) {
            out.println("no " + (includeInactive ? "" : "active ") + "stream to check");
            return EdgeStreamingCli.OK;
        }
        // The checks bound their own waits by request_timeout; this only guards against one that hangs.
        Duration bound = job.delivery().requestTimeout().plusSeconds(5);
        Table table = new Table("STREAM", "TYPE", "DESTINATION", "RESULT", "TIME", "DETAIL");
        int failed = 0;
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallel, selected.size()), r -> {
            Thread t = new Thread(r, "check-endpoint");
            t.setDaemon(true);
            return t;
        });
        try (EndpointChecks checks = new EndpointChecks(job.delivery(), job.addressPolicy())) {
            List<Future<EndpointChecks.Result>> futures = new ArrayList<>();
            for (StreamConfig s : selected) {
                futures.add(pool.submit(() -> checks.check(s)));
            }
            Progress progress = new Progress(err, "checked", selected.size(), "endpoint(s)");
            for (int i = 0; i < selected.size(); i++) {
                StreamConfig s = selected.get(i);
                EndpointChecks.Result r = result(futures.get(i), bound);
                progress.step();
                failed += r.ok() ? 0 : 1;
                table.add(s.id(), s.endpoint().endpointType(), s.endpoint().describe(), r.ok() ? "ok" : "FAILED",
                        format(r.took()), r.detail());
            }
        } finally {
            pool.shutdownNow();
        }
        table.print(out);
        out.println(failed == 0 ? "all " + selected.size() + " endpoint(s) can deliver"
                : failed + " of " + selected.size() + " endpoint(s) FAILED");
        return failed == 0 ? EdgeStreamingCli.OK : EdgeStreamingCli.PROBLEMS;
    }

    private List<StreamConfig> select(JobConfig job) {
        if (streams.isEmpty()) {
            return job.streams().stream().filter(s -> includeInactive || s.active()).toList();
        }
        List<StreamConfig> out = new ArrayList<>();
        for (long id : streams) {
            out.add(Configs.stream(job, id).orElseThrow(() -> new ParameterException(spec.commandLine(),
                    "--stream " + id + ": no such stream in " + config)));
        }
        return out;
    }

    private static EndpointChecks.Result result(Future<EndpointChecks.Result> future, Duration bound)
            throws InterruptedException {
        try {
            return future.get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            return new EndpointChecks.Result(false, "no answer within " + bound.toSeconds() + " s", bound);
        } catch (ExecutionException e) {
            return new EndpointChecks.Result(false, "unexpected failure: " + EdgeStreamingCli.describe(e.getCause()), null);
        }
    }

    static String format(Duration d) {
        if (d == null) {
            return "-";
        }
        long ms = d.toMillis();
        return ms < 10_000 ? ms + " ms" : String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }
}
