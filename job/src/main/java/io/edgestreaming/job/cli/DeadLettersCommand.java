package io.edgestreaming.job.cli;

import io.edgestreaming.config.JobConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "dead-letters", mixinStandardHelpOptions = true,
        description = {"Blocks that could not be delivered, in the dead-letter store (dead_letter.blocks_path): "
                + "stream-<id>/<domain>/<sequence>-<key digest>.payload and .manifest.json; a replayed block gets a "
                + ".replayed.json marker next to its manifest.",
                "Exit codes: 0 ok, 1 problems found (unreadable entries, failed replays), 2 usage."},
        subcommands = {DeadLettersCommand.ListCommand.class, DeadLettersCommand.ShowCommand.class, ReplayCommand.class})
final class DeadLettersCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command: list, show or replay");
    }

    /** The store of {@code --store}, else of the configuration's blocks_path; empty after printing why not. */
    static Optional<BlockStore> openStore(StoreOptions store, Path config, Function<String, String> env, PrintWriter err,
            CommandSpec spec) {
        String blocksPath = null;
        if (store.store == null) {
            if (config == null) {
                throw new ParameterException(spec.commandLine(), "name the store: --store URI or --config FILE");
            }
            Optional<JobConfig> loaded = Configs.load(config, env, err);
            if (loaded.isEmpty()) {
                return Optional.empty();
            }
            blocksPath = loaded.get().deadLetter().blocksPath();
        }
        try {
            return Optional.of(store.open(blocksPath, env));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"Lists dead-lettered blocks, oldest first: entry, stream, destination, reason, time, records, "
                    + "bytes, and whether it was replayed.",
                    "Exit codes: 0 ok, 1 unreadable entries or store, 2 usage."})
    static final class ListCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--config", paramLabel = "FILE", description = "the job's configuration (for dead_letter.blocks_path)")
        Path config;

        @Mixin
        StoreOptions store;

        @Mixin
        Selection selection;

        @Option(names = "--pending", description = "only blocks not replayed yet")
        boolean pending;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Optional<BlockStore> opened = openStore(store, config, EdgeStreamingCli.of(spec).env(), err, spec);
            if (opened.isEmpty()) {
                return EdgeStreamingCli.PROBLEMS;
            }
            try (BlockStore s = opened.get()) {
                DeadLetters.Scan scan = DeadLetters.scan(s, selection, err);
                Table table = new Table("ENTRY", "STREAM", "DEAD-LETTERED", "RECORDS", "BYTES", "STATE", "DESTINATION", "REASON");
                for (DeadLetterEntry e : scan.entries()) {
                    if (pending && e.replayed()) {
                        continue;
                    }
                    table.add(e.base(), e.streamId(), e.deadLetteredAt(), e.recordCount(), e.payloadBytes(),
                            e.replayed() ? "replayed" : "pending", e.destination(), e.reason());
                }
                table.print(out);
                out.println(table.size() + " block(s) in " + s.describe());
                scan.problems().forEach(p -> err.println("unreadable: " + p));
                return scan.problems().isEmpty() ? EdgeStreamingCli.OK : EdgeStreamingCli.PROBLEMS;
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = {"Shows one dead-lettered block: its manifest and its first records (decompressed if gzip).",
                    "Exit codes: 0 ok, 1 not found or unreadable, 2 usage."})
    static final class ShowCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ENTRY", description = "the entry as listed (stream-<id>/<domain>/<sequence>-<digest>), or a block id <stream>/<domain>/<sequence>")
        String entry;

        @Option(names = "--config", paramLabel = "FILE", description = "the job's configuration (for dead_letter.blocks_path)")
        Path config;

        @Mixin
        StoreOptions store;

        @Option(names = "--records", paramLabel = "N", defaultValue = "10", description = "records to show (default: ${DEFAULT-VALUE})")
        int records;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Optional<BlockStore> opened = openStore(store, config, EdgeStreamingCli.of(spec).env(), err, spec);
            if (opened.isEmpty()) {
                return EdgeStreamingCli.PROBLEMS;
            }
            try (BlockStore s = opened.get()) {
                List<DeadLetterEntry> found = DeadLetters.find(s, entry, err);
                if (found.size() != 1) {
                    err.println(found.isEmpty() ? "no dead-lettered block " + entry + " in " + s.describe()
                            : entry + " names " + found.size() + " entries, give one of: "
                                    + String.join(", ", found.stream().map(DeadLetterEntry::base).toList()));
                    return EdgeStreamingCli.PROBLEMS;
                }
                DeadLetterEntry e = found.get(0);
                out.println("entry: " + e.base());
                out.println("state: " + (e.replayed()
                        ? "replayed: " + new String(s.read(e.markerPath()), StandardCharsets.UTF_8).replaceAll("\\s+", " ").trim()
                        : "pending"));
                out.println("manifest (" + e.manifestPath() + "):");
                out.println(new String(s.read(e.manifestPath()), StandardCharsets.UTF_8).stripTrailing());
                byte[] payload = s.read(e.payloadPath());
                byte[] text = e.gzip() ? Payloads.gunzip(payload) : payload;
                List<String> lines = lines(text);
                out.println("payload (" + e.payloadPath() + "): " + payload.length + " bytes" + (e.gzip() ? ", gzip, "
                        + text.length + " bytes decompressed" : "") + "; first " + Math.min(records, lines.size())
                        + " of " + lines.size() + " record(s):");
                lines.stream().limit(Math.max(0, records)).forEach(l -> out.println("  " + l));
                return EdgeStreamingCli.OK;
            }
        }

        private static List<String> lines(byte[] text) {
            List<String> lines = new ArrayList<>();
            String s = new String(text, StandardCharsets.UTF_8);
            if (!s.isEmpty()) {
                lines.addAll(List.of(s.split("\n", -1)));
                if (lines.get(lines.size() - 1).isEmpty()) {
                    lines.remove(lines.size() - 1);
                }
            }
            return lines;
        }
    }
}
