package io.edgestreaming.job.cli;

import io.edgestreaming.config.ConfigException;
import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.StreamConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Checks a configuration as the job does at start and lists every problem at once, each at its path. "
                + "Nothing is connected (see check-endpoints for that); $${env:NAME} and $${file:PATH} references are resolved, "
                + "and every endpoint host is looked up: an address that allowed_networks does not allow is a problem, a "
                + "host that does not resolve a warning.",
                "Exit codes: 0 valid, 1 problems found, 2 usage."})
final class ValidateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", required = true, description = "the job's configuration (YAML or JSON)")
    Path config;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        JobConfig job;
        List<String> problems;
        List<String> warnings = new java.util.ArrayList<>();
        try {
            job = ConfigLoader.load(config, EdgeStreamingCli.of(spec).env(), warnings::add);
            problems = Configs.endpointProblems(job);
        } catch (ConfigException e) {
            job = null;
            problems = e.problems();
        }
        if (!problems.isEmpty()) {
            Configs.print(config, problems, out);
            return EdgeStreamingCli.PROBLEMS;
        }
        Map<String, Integer> byType = new TreeMap<>();
        long active = 0;
        for (StreamConfig s : job.streams()) {
            byType.merge(s.endpoint().endpointType(), 1, Integer::sum);
            active += s.active() ? 1 : 0;
        }
        out.println(config + ": valid, " + job.streams().size() + " stream(s), " + active + " active, endpoints "
                + (byType.isEmpty() ? "none" : byType.toString().replaceAll("[{}]", "")));
        out.println("  dead letters: events to topic " + job.deadLetter().eventsTopic() + ", blocks to "
                + job.deadLetter().blocksPath());
        out.println("  allowed_networks: " + (job.addressPolicy().allowedNetworks().isEmpty() ? "none (public addresses only)"
                : job.addressPolicy().allowedNetworks().toString().replaceAll("[\\[\\]]", "")));
        warnings.forEach(w -> out.println("  warning: " + w));
        return EdgeStreamingCli.OK;
    }
}
