package io.edgestreaming.connectors.engine.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spool files of blocks that left (delivered, dead-lettered or gone), deleted once a checkpoint taken
 * after they left completed, so the latest checkpoint never misses one. Task thread only; the deletes
 * run on {@link BlockIo}.
 */
final class SpoolGarbage {
    // The engine's log category, as before the split: log settings and alerts keep matching.
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryEngine.class);
    /** A spool file that cannot be deleted is tried this often, then left (it is harmless). */
    private static final int DELETE_ATTEMPTS = 3;

    private final DeliveryEngine engine;
    private final Spool spool;
    private final BlockIo io;
    private final Backoff backoff;
    private final boolean checkpointingEnabled;

    /** Spool files of blocks that left since the last snapshot: deleted after the next checkpoint. */
    private List<String> spoolGarbage = new ArrayList<>();
    private final TreeMap<Long, List<String>> spoolGarbageByCheckpoint = new TreeMap<>();

    SpoolGarbage(DeliveryEngine engine, Spool spool, BlockIo io, Backoff backoff, boolean checkpointingEnabled) {
        this.engine = engine;
        this.spool = spool;
        this.io = io;
        this.backoff = backoff;
        this.checkpointingEnabled = checkpointingEnabled;
    }

    /** A spool file no longer needed: deleted once a checkpoint taken from now on completed. */
    void discard(String path) {
        if (checkpointingEnabled && !engine.draining()) {
            spoolGarbage.add(path);
        } else {
            delete(List.of(path), 1);
        }
    }

    /** Snapshot {@code checkpointId} is taken: files discarded before it go when it completes. */
    void checkpointTaken(long checkpointId) {
        if (!spoolGarbage.isEmpty()) {
            spoolGarbageByCheckpoint.put(checkpointId, spoolGarbage);
            spoolGarbage = new ArrayList<>();
        }
    }

    /** Checkpoint {@code checkpointId} completed: no restore of the latest checkpoint needs these files. */
    void checkpointCompleted(long checkpointId) {
        NavigableMap<Long, List<String>> done = spoolGarbageByCheckpoint.headMap(checkpointId, true);
        for (List<String> paths : done.values()) {
            delete(paths, 1);
        }
        done.clear();
    }

    /** Input ended: nothing will be restored after the final checkpoint, so every file can go now. */
    void deleteAll() {
        for (List<String> paths : spoolGarbageByCheckpoint.values()) {
            delete(paths, 1);
        }
        spoolGarbageByCheckpoint.clear();
        if (!spoolGarbage.isEmpty()) {
            delete(spoolGarbage, 1);
            spoolGarbage = new ArrayList<>();
        }
    }

    private void delete(List<String> paths, int attempt) {
        io.submit("spool delete", attempt == 1 ? 0 : backoff.delayMillis(attempt), () -> {
            List<String> failed = new ArrayList<>();
            Exception last = null;
            for (String path : paths) {
                try {
                    spool.delete(path);
                } catch (Exception e) {
                    failed.add(path);
                    last = e;
                }
            }
            if (last != null) {
                throw new SpoolDeleteException(failed, last);
            }
            return null;
        }, (ignored, error) -> {
            if (error instanceof SpoolDeleteException failed) {
                if (attempt < DELETE_ATTEMPTS && !engine.closed()) {
                    delete(failed.paths, attempt + 1);
                } else {
                    LOG.warn("Delivery ({}): {} spool file(s) not deleted ({}); they are no longer needed",
                            engine.endpointType(), failed.paths.size(), DeliveryEngine.describe(failed.getCause()));
                }
            }
        });
    }

    private static final class SpoolDeleteException extends Exception {
        private static final long serialVersionUID = 1L;
        final transient List<String> paths;

        SpoolDeleteException(List<String> paths, Exception cause) {
            super(cause);
            this.paths = paths;
        }
    }
}
