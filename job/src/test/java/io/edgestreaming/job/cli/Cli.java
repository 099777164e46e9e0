package io.edgestreaming.job.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Runs the tool in this JVM, as {@code java -jar} would, and keeps what it printed. */
final class Cli {
    record Run(int code, String out, String err) {
        String all() {
            return out + err;
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Cli() {}

    static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = EdgeStreamingCli.execute(args, o, e, env::get);
        }
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Run run(String... args) {
        return run(Map.of(), args);
    }

    /** The head of a configuration: a source nobody connects to in these tests, and the store. */
    static String head(String blocksPath) {
        return """
                source:
                  bootstrap_servers: 127.0.0.1:9
                  topics:
                    http: raw-http
                dead_letter:
                  events_topic: dead-events
                  blocks_path: %s
                delivery:
                  request_timeout: 5s
                %sstreams:
                """.formatted(blocksPath, LOOPBACK);
    }

    /** The test servers listen on loopback, which endpoints may reach only when allowed. */
    static final String LOOPBACK = "allowed_networks: [\"127.0.0.0/8\", \"::1/128\"]\n";

    /** {@link #head} without allowed_networks: endpoints may reach public addresses only. */
    static String publicOnlyHead(String blocksPath) {
        return head(blocksPath).replace(LOOPBACK, "");
    }

    /** A stream of client c1 on every domain, with the given endpoint lines (indented by the caller's text). */
    static String stream(long id, String endpoint) {
        return """
                  - id: %d
                    name: stream-%d
                    client: c1
                    data_source: http
                    template_id: 2
                    all_domains: true
                    endpoint:
                %s""".formatted(id, id, endpoint.indent(6));
    }
}
