package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the heap within the {@link MemoryBudget}: a destination over its share writes its oldest blocks
 * that are not in flight to the {@link Spool}; a block stays in the heap until its write is confirmed,
 * then only its handle remains. A spooled block is read back when its destination can send it. Owns the
 * spool, its {@link SpoolGarbage} and the spool metrics. Task thread only; reads and writes run on
 * {@link BlockIo} and come back through the mailbox.
 */
final class Spooler {
    // The engine's log category, as before the split: log settings and alerts keep matching.
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryEngine.class);

    private final DeliveryEngine engine;
    private final Spool spool;
    private final BlockIo io;
    private final Backoff backoff;
    private final Transport transport;
    private final long maxRetryMillis;
    private final boolean spoolable;
    private final SpoolGarbage garbage;
    private int spoolFailuresInARow;

    private final Counter spoolWrites;
    private final Counter spoolReads;
    private final Counter spoolFailures;
    private final Counter spoolFilesMissing;

    Spooler(DeliveryEngine engine, Spool spool, BlockIo io, Backoff backoff, Transport transport, long maxRetryMillis,
            boolean checkpointingEnabled, MetricGroup metrics) {
        this.engine = engine;
        this.spool = spool;
        this.io = io;
        this.backoff = backoff;
        this.transport = transport;
        this.maxRetryMillis = maxRetryMillis;
        this.spoolable = transport.spoolable();
        this.garbage = new SpoolGarbage(engine, spool, io, backoff, checkpointingEnabled);
        this.spoolWrites = metrics.counter("spoolWrites");
        this.spoolReads = metrics.counter("spoolReads");
        this.spoolFailures = metrics.counter("spoolFailures");
        this.spoolFilesMissing = metrics.counter("spoolFilesMissing");
    }

    Spool spool() {
        return spool;
    }

    SpoolGarbage garbage() {
        return garbage;
    }

    /** Every destination over its share moves its oldest blocks not in flight to the spool. */
    void enforceBudget() {
        if (!spoolable) {
            return;
        }
        for (Destination d : engine.destinations.values()) {
            if (d.excess() > 0) {
                evict(d, 0);
            }
        }
    }

    /** Frees {@code d}'s heap down to its share less {@code room}, oldest blocks first. */
    void evict(Destination d, long room) {
        if (!spoolable) {
            return;
        }
        long excess = d.excess() + room;
        Iterator<Pending> it = d.inHeap.iterator();
        List<Pending> drop = new ArrayList<>();
        while (excess > 0 && it.hasNext()) {
            Pending p = it.next();
            if (p.inFlight || p.writing || p.deadLettering || !transport.releasesPayload(p.block)) {
                continue;
            }
            if (p.spooled != null) {
                drop.add(p); // already on the spool: free
            } else {
                write(d, p);
            }
            excess -= p.bytes();
        }
        for (Pending p : drop) {
            dropPayload(d, p);
        }
    }

    /** The heap lets go of a payload that is safe on the spool; so does the transport. */
    void dropPayload(Destination d, Pending p) {
        d.dropPayload(p, sourceOf(p.spooled));
        transport.payloadSpooled(p.block);
    }

    StagedBlock.PayloadSource sourceOf(SpoolHandle handle) {
        return () -> spool.read(handle);
    }

    private void write(Destination d, Pending p) {
        d.writeStarted(p);
        StagedBlock block = p.block;
        io.submit("spool write", 0, () -> spool.write(block), (handle, error) -> onWritten(d, p, handle, error));
    }

    private void onWritten(Destination d, Pending p, SpoolHandle handle, Throwable error) {
        boolean current = engine.pending.get(p.key()) == p;
        if (error != null) {
            spoolFailures.inc();
            if (spoolFailuresInARow++ == 0) {
                LOG.warn("Delivery ({}): spool {} failing ({}); blocks over the memory budget stay in the heap and the input"
                        + " waits until it works again", engine.endpointType(), spool.root(), DeliveryEngine.describe(error));
            }
            if (current && !engine.closed()) {
                // Kept as a write under way: the input keeps waiting (back-pressure) rather than outgrow the heap.
                StagedBlock block = p.block;
                io.submit("spool write", backoff.delayMillis(spoolFailuresInARow), () -> spool.write(block),
                        (h, e) -> onWritten(d, p, h, e));
                return;
            }
            d.writeEnded(p);
            engine.scheduler.wakeMemoryWaiters();
            return;
        }
        if (spoolFailuresInARow > 0) {
            LOG.info("Delivery ({}): spool {} works again after {} failure(s)", engine.endpointType(), spool.root(),
                    spoolFailuresInARow);
            spoolFailuresInARow = 0;
        }
        spoolWrites.inc();
        d.writeEnded(p);
        if (!current) {
            garbage.discard(handle.path()); // the block left while its file was written
        } else {
            d.spoolConfirmed(p, handle);
            if (!p.inFlight && !p.deadLettering) {
                dropPayload(d, p);
            }
        }
        enforceBudget();
        engine.scheduler.wakeMemoryWaiters();
    }

    /** Reads a spooled block back for a send; it goes back to its destination's queue when read. */
    void load(Destination d, Pending p) {
        d.loadStarted(p);
        SpoolHandle handle = p.spooled;
        io.submit("spool read", 0, () -> spool.read(handle), (bytes, error) -> onLoaded(d, p, bytes, error));
    }

    private void onLoaded(Destination d, Pending p, byte[] payload, Throwable error) {
        if (error == null) {
            spoolReads.inc();
            d.loadEnded(p, payload);
            if (spoolFailuresInARow > 0) {
                LOG.info("Delivery ({}): spool {} works again after {} failure(s)", engine.endpointType(), spool.root(),
                        spoolFailuresInARow);
                spoolFailuresInARow = 0;
            }
        } else {
            d.loadEnded(p, null);
            if (error instanceof Spool.MissingFileException) {
                missing(d, p);
                engine.scheduler.dispatch(d);
                engine.scheduler.wakeMemoryWaiters();
                return;
            }
            spoolFailures.inc();
            if (spoolFailuresInARow++ == 0) {
                LOG.warn("Delivery ({}): spool {} failing ({}); its blocks wait", engine.endpointType(), spool.root(),
                        DeliveryEngine.describe(error));
            }
            p.nextAttemptMillis = engine.now() + backoff.delayMillis(spoolFailuresInARow);
        }
        d.enqueue(p, maxRetryMillis);
        engine.scheduler.dispatch(d);
        engine.scheduler.wakeMemoryWaiters();
    }

    /**
     * A spooled block whose file is gone: only ever deleted after the block was acknowledged (delivered
     * or dead-lettered) and a later checkpoint completed, so this is a restore from an older checkpoint.
     */
    void missing(Destination d, Pending p) {
        spoolFilesMissing.inc();
        LOG.warn("Delivery ({}): spool file of block {} ({}) is gone: it was acknowledged after the checkpoint restored"
                + " (an older one); taken as delivered", engine.endpointType(), p.block.blockId(), p.spooled.path());
        engine.remove(d, p);
    }

    // Visible for tests.
    long spoolFilesMissing() {
        return spoolFilesMissing.getCount();
    }
}
