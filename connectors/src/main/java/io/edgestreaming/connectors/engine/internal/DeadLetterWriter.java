package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.LogFields;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.config.Endpoint;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dead-letter path: writes a block to the {@link DeadLetterStore} on an I/O thread. A write that
 * fails keeps the block pending (in every snapshot, with its reason) and is retried with backoff up to
 * max_backoff, for as long as it takes: a block is never lost and the job goes on (a restore writes it
 * again). Task thread only; the writes run on {@link BlockIo} and come back through the mailbox.
 */
final class DeadLetterWriter {
    // The engine's log category, as before the split: log settings and alerts keep matching.
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryEngine.class);

    private final DeliveryEngine engine;
    private final DeadLetterStore deadLetters;
    private final String deadLetterPath;
    private final Spool spool;
    private final BlockIo io;
    private final Backoff backoff;
    private int deadLetterFailuresInARow;
    private final Counter deadLetterFailures;

    DeadLetterWriter(DeliveryEngine engine, DeadLetterStore deadLetters, String deadLetterPath, Spool spool, BlockIo io,
            Backoff backoff, MetricGroup metrics) {
        this.engine = engine;
        this.deadLetters = deadLetters;
        this.deadLetterPath = deadLetterPath;
        this.spool = spool;
        this.io = io;
        this.backoff = backoff;
        this.deadLetterFailures = metrics.counter("deadLetterFailures");
    }

    String path() {
        return deadLetterPath;
    }

    /** Dead-letters a pending block of {@code d} for {@code reason}. */
    void deadLetter(Destination d, Pending p, Endpoint endpoint, String reason) {
        p.deadLetterReason = reason;
        p.deadLettering = true;
        DeadLetterStore.Entry entry = new DeadLetterStore.Entry(
                endpoint == null ? engine.endpointType() : endpoint.endpointType(),
                endpoint == null ? d.id : endpoint.describe(),
                reason,
                p.attempts,
                p.firstAttemptMillis,
                p.lastAttemptMillis,
                System.currentTimeMillis());
        write(d, p, entry, 0);
    }

    /** A block that never became pending (no endpoint, or no payload): pending only until it is written. */
    void deadLetterAtOnce(Destination d, Pending p, String destination, String reason) {
        DeadLetterStore.Entry entry = new DeadLetterStore.Entry(engine.endpointType(), destination,
                DeliveryEngine.truncate(reason), 0, 0, 0, System.currentTimeMillis());
        p.deadLetterReason = entry.reason();
        p.deadLettering = true;
        write(d, p, entry, 0);
    }

    private void write(Destination d, Pending p, DeadLetterStore.Entry entry, long delayMillis) {
        StagedBlock block = p.block;
        SpoolHandle handle = p.spooled;
        io.submit("dead-letter write", delayMillis, () -> block.hasPayload()
                ? deadLetters.write(block, entry)
                : deadLetters.write(block, entry, out -> spool.copyTo(handle, out)),
                (path, error) -> onWritten(d, p, entry, error));
    }

    private void onWritten(Destination d, Pending p, DeadLetterStore.Entry entry, Throwable error) {
        if (engine.pending.get(p.key()) != p) {
            return;
        }
        if (error instanceof Spool.MissingFileException) {
            p.deadLettering = false;
            engine.spooler.missing(d, p);
            engine.scheduler.wakeMemoryWaiters();
            return;
        }
        if (error != null) {
            deadLetterFailures.inc();
            p.deadLetterFailures++;
            if (deadLetterFailuresInARow++ == 0) {
                LOG.warn("Delivery ({}): cannot write block {} to the dead-letter store {} ({}); it stays pending and is"
                        + " retried with backoff", engine.endpointType(), p.block.blockId(), deadLetterPath,
                        DeliveryEngine.describe(error));
            }
            if (!engine.closed()) {
                write(d, p, entry, backoff.delayMillis(p.deadLetterFailures));
            }
            return;
        }
        if (deadLetterFailuresInARow > 0) {
            LOG.info("Delivery ({}): the dead-letter store {} works again after {} failure(s)", engine.endpointType(),
                    deadLetterPath, deadLetterFailuresInARow);
            deadLetterFailuresInARow = 0;
        }
        p.deadLettering = false;
        engine.remove(d, p);
        d.deadLettered.inc();
        try (LogFields f = DeliveryEngine.fields(d, p)) {
            LOG.warn("Block {} ({} records) to {} dead-lettered: {}", p.block.blockId(), p.block.recordCount(),
                    entry.destination(), entry.reason());
        }
        engine.scheduler.dispatch(d);
        engine.scheduler.wakeMemoryWaiters();
    }

    // Visible for tests.
    long deadLetterFailures() {
        return deadLetterFailures.getCount();
    }
}
