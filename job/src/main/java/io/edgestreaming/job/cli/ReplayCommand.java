package io.edgestreaming.job.cli;

import io.edgestreaming.config.JobConfig;
import io.edgestreaming.connectors.DeadLetterDelivery;
import io.edgestreaming.config.StreamConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Sends selected dead-lettered blocks again, one at a time in block order, to their stream's CURRENT "
                + "destination in --config (or to --to-stream's), with the block's original delivery key, so that a repeat "
                + "is harmless: HTTP the same Idempotency-Key, S3 the same object name, Kafka the same headers (block_id) "
                + "in a transaction of its own.",
                "Each accepted block gets a .replayed.json marker next to its manifest and is skipped by later replays "
                        + "(unless --again); a refused block stays where it was and is reported, the others continue. "
                        + "An interrupted replay is simply run again.",
                "Exit codes: 0 every selected block replayed, 1 a block failed or the configuration is invalid, 2 usage."})
final class ReplayCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", required = true,
            description = "the job's configuration: the streams' current endpoints (and the store, without --store)")
    Path config;

    @Mixin
    StoreOptions store;

    @Mixin
    Selection selection;

    @Option(names = "--all", description = "replay every pending block (required when no --stream, --reason, --since or --until selects)")
    boolean all;

    @Option(names = "--to-stream", paramLabel = "ID", description = "deliver to this stream's endpoint instead (e.g. for blocks of a removed stream)")
    Long toStream;

    @Option(names = "--dry-run", description = "only show what would be replayed, where, with which key; nothing is sent or marked")
    boolean dryRun;

    @Option(names = "--again", description = "also replay blocks already marked as replayed")
    boolean again;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (selection.isEmpty() && !all) {
            throw new ParameterException(spec.commandLine(),
                    "select blocks with --stream, --reason, --since or --until, or replay every pending block with --all");
        }
        Optional<JobConfig> loaded = Configs.load(config, EdgeStreamingCli.of(spec).env(), err);
        if (loaded.isEmpty()) {
            return EdgeStreamingCli.PROBLEMS;
        }
        JobConfig job = loaded.get();
        StreamConfig forced = null;
        if (toStream != null) {
            forced = Configs.stream(job, toStream).orElseThrow(() -> new ParameterException(spec.commandLine(),
                    "--to-stream " + toStream + ": no such stream in " + config));
        }
        Optional<BlockStore> opened = DeadLettersCommand.openStore(store, config, EdgeStreamingCli.of(spec).env(), err, spec);
        if (opened.isEmpty()) {
            return EdgeStreamingCli.PROBLEMS;
        }
        try (BlockStore s = opened.get(); Replayer replayer = new Replayer(job.delivery(), job.addressPolicy(), s)) {
            DeadLetters.Scan scan = DeadLetters.scan(s, selection, err);
            List<DeadLetterEntry> todo = new ArrayList<>();
            int skipped = 0;
            for (DeadLetterEntry e : scan.entries()) {
                if (e.replayed() && !again) {
                    skipped++;
                } else {
                    todo.add(e);
                }
            }
            todo.sort(DeadLetters.BY_BLOCK);
            Table table = new Table("ENTRY", "STREAM", "DESTINATION", "RESULT", "TIME", "KEY / REASON");
            Progress progress = new Progress(err, dryRun ? "checked" : "replayed", todo.size(), "block(s)");
            int failed = 0;
            for (DeadLetterEntry e : todo) {
                StreamConfig target = forced != null ? forced : Configs.stream(job, e.streamId()).orElse(null);
                long start = System.nanoTime();
                String result;
                String detail = e.deliveryKey();
                try {
                    if (e.streamId() == DeadLetterDelivery.STREAM_ID) {
                        // Its payload is the job's length-prefixed dead-letter frames, no stream's records.
                        throw new Replayer.Refused("stream 0 holds dead-letter events of the source, not a stream's"
                                + " records: not replayed to a stream (the events are at their source offsets)");
                    }
                    if (target == null) {
                        throw new Replayer.Refused("stream " + e.streamId()
                                + " is no longer in the configuration (send its blocks elsewhere with --to-stream ID)");
                    }
                    if (dryRun) {
                        replayer.prepare(e, target);
                        result = "would replay";
                    } else {
                        replayer.replay(e, target);
                        result = "replayed";
                    }
                } catch (Replayer.Refused refused) {
                    result = "FAILED";
                    detail = refused.getMessage();
                    failed++;
                }
                progress.step();
                table.add(e.base(), target == null ? e.streamId() : target.id(),
                        target == null ? "-" : target.endpoint().describe(), result,
                        CheckEndpointsCommand.format(Duration.ofNanos(System.nanoTime() - start)), detail);
            }
            table.print(out);
            int done = todo.size() - failed;
            out.println((dryRun ? "would replay " : "replayed ") + done + ", failed " + failed
                    + (skipped > 0 ? ", skipped " + skipped + " already replayed (--again to include them)" : "")
                    + " of " + (todo.size() + skipped) + " selected block(s) in " + s.describe());
            scan.problems().forEach(p -> err.println("unreadable: " + p));
            return failed == 0 && scan.problems().isEmpty() ? EdgeStreamingCli.OK : EdgeStreamingCli.PROBLEMS;
        }
    }
}
