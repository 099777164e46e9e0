package io.edgestreaming.job.cli;

import io.edgestreaming.job.EdgeStreamingJob;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The command-line tool of the job jar ({@code java -jar edge-streaming-job.jar <command>}, or
 * {@code bin/edge-streaming}). Exit codes: 0 ok, 1 problems found, 2 usage.
 *
 * <p>{@code --config FILE} without a command runs the job itself (as {@code flink run <jar> --config FILE}
 * does through the manifest's {@code program-class}), so the jar's Main-Class may be this tool.
 */
@Command(name = "edge-streaming", mixinStandardHelpOptions = true, versionProvider = EdgeStreamingCli.Version.class,
        description = {"Operate edge-streaming: check a configuration and its endpoints, inspect and replay dead letters.",
                "Exit codes: 0 ok, 1 problems found, 2 usage.",
                "Run the job itself with: flink run <jar> --config FILE"},
        subcommands = {ValidateCommand.class, CheckEndpointsCommand.class, DeadLettersCommand.class,
                CommandLine.HelpCommand.class})
public final class EdgeStreamingCli implements Runnable {
    public static final int OK = 0;
    public static final int PROBLEMS = 1;
    public static final int USAGE = 2;

    private final Function<String, String> env;

    @Spec
    CommandSpec spec;

    EdgeStreamingCli(Function<String, String> env) {
        this.env = env;
    }

    /** The environment that {@code ${env:NAME}} references and the store's AWS settings read. */
    Function<String, String> env() {
        return env;
    }

    /** The tool's root object, reachable from any subcommand's spec. */
    static EdgeStreamingCli of(CommandSpec spec) {
        return (EdgeStreamingCli) spec.root().userObject();
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command");
    }

    public static void main(String[] args) throws Exception {
        if (runsTheJob(args)) {
            runJob(args);
            return;
        }
        // No Flink here: logging goes to stderr through the binding shipped in the jar, errors only
        // (clients' INFO lines would drown the report).
        System.setProperty("slf4j.provider", "org.slf4j.simple.SimpleServiceProvider");
        System.setProperty("slf4j.internal.verbosity", "WARN");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("edgestreaming.cli.log", "error"));
        System.exit(execute(args, System.out, System.err, System::getenv));
    }

    /** Runs one command line in this JVM; returns the exit code. */
    public static int execute(String[] args, PrintStream out, PrintStream err, Function<String, String> env) {
        PrintWriter o = new PrintWriter(out, true, StandardCharsets.UTF_8);
        PrintWriter e = new PrintWriter(err, true, StandardCharsets.UTF_8);
        CommandLine cli = new CommandLine(new EdgeStreamingCli(env))
                .setOut(o)
                .setErr(e)
                .setUsageHelpAutoWidth(true)
                .setUsageHelpWidth(100)
                .setExecutionExceptionHandler((ex, line, parsed) -> {
                    // Messages of this tool and of the clients it uses hold no secret; a stack trace adds nothing.
                    line.getErr().println(line.getCommandName() + ": " + describe(ex));
                    return PROBLEMS;
                });
        // picocli's own exit code for invalid input is 2 (ExitCode.USAGE), as ours.
        int code = cli.execute(args);
        o.flush();
        e.flush();
        return code;
    }

    static String describe(Throwable ex) {
        String message = ex.getMessage();
        return ex.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    /** {@code --config FILE} (or {@code --config=FILE}) first, no command: the job's own arguments. */
    static boolean runsTheJob(String[] args) {
        return args.length > 0 && (args[0].equals("--config") || args[0].startsWith("--config="));
    }

    private static void runJob(String[] args) throws Exception {
        try {
            Class.forName("org.apache.flink.streaming.api.environment.StreamExecutionEnvironment");
        } catch (ClassNotFoundException e) {
            System.err.println("edge-streaming: the job runs on Flink: flink run <jar> " + String.join(" ", args)
                    + "\n(to check this configuration here: edge-streaming validate " + String.join(" ", args) + ")");
            System.exit(USAGE);
        }
        EdgeStreamingJob.main(args);
    }

    /** The jar's Implementation-Version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = EdgeStreamingCli.class.getPackage().getImplementationVersion();
            return new String[] {"edge-streaming " + (v == null ? "(development build)" : v)};
        }
    }
}
