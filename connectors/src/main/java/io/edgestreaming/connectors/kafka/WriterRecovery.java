package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.engine.internal.Backoff;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One destination's recovery, also on a fresh start: the restored transactions are committed or found
 * ended first, then every id of the pools this subtask owns is initialised (aborting what a failed attempt
 * left open, so the last stable offset moves on), then the ended ones are read back: the one place a
 * restored transaction is resolved. No attempt starts before that. Retried with backoff while the cluster
 * is unreachable. Fields are guarded by the {@link KafkaDestinationWriter}'s lock.
 */
final class WriterRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(WriterRecovery.class);

    private final KafkaDestinationWriter writer;
    private final TransactionCommitter committer;
    private final ProducerPool producers;
    private final KafkaWriterThread thread;
    private final Backoff backoff;
    private final String poolPrefix;
    private final List<String> toAbort = new ArrayList<>();
    private final List<WriterState.Probe> legacyProbes = new ArrayList<>();
    private boolean running = true;
    /** Completes when the recovery is done; a snapshot waits for it briefly like for an attempt. */
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private int failures;

    WriterRecovery(KafkaDestinationWriter writer, TransactionCommitter committer, ProducerPool producers,
            KafkaWriterThread thread, Backoff backoff, String poolPrefix) {
        this.writer = writer;
        this.committer = committer;
        this.producers = producers;
        this.thread = thread;
        this.backoff = backoff;
        this.poolPrefix = poolPrefix;
        // The own pool may hold transactions of an earlier attempt of this job: aborted before first use.
        for (int slot = 0; slot < TransactionalIds.POOL_SIZE; slot++) {
            toAbort.add(TransactionalIds.id(poolPrefix, slot));
        }
    }

    /** Lock held. Whether the recovery still runs: no attempt starts meanwhile. */
    boolean running() {
        return running;
    }

    /** Lock held. What a checkpoint keeps to abort after another restore while this recovery has not ended. */
    List<WriterState.Probe> pendingProbes() {
        return running ? List.copyOf(legacyProbes) : List.of();
    }

    CompletableFuture<Void> done() {
        return done;
    }

    /** Lock held. The state's owner also aborts what the old subtask's failed attempt left open in its pool. */
    void restoreOwned(WriterState state) {
        if (!state.legacyProbes().isEmpty()) {
            legacyProbes.addAll(state.legacyProbes());
        } else if (!state.poolPrefix().equals(poolPrefix)) {
            for (int slot = 0; slot < TransactionalIds.POOL_SIZE; slot++) {
                toAbort.add(TransactionalIds.id(state.poolPrefix(), slot));
            }
        }
    }

    void start() {
        thread.submit(this::recover, 0);
    }

    /** The recovery is over although its transactions stay unresolved (no endpoint to resolve them with). */
    void end() {
        synchronized (writer) {
            running = false;
        }
        done.complete(null);
    }

    /** On the writer thread: commit or learn ended, abort the owned pools' leftovers, then resolve the ended. */
    private void recover() {
        KafkaEndpoint ep = writer.target();
        List<Txn> restored = writer.preparedTxns();
        if (ep == null) {
            if (!restored.isEmpty() || !writer.configured()) {
                committer.unreachable(restored);
            }
            return;
        }
        try {
            for (Txn t : restored) {
                if (!t.ended) {
                    if (TransactionResolver.commitByResume(producers, t.transactionalId, t.producerId, t.epoch)) {
                        LOG.info("Kafka {}: committed transaction {} of restored checkpoint {} ({} blocks)", writer.destinationId,
                                t.transactionalId, t.checkpointId, t.keys.size());
                        committer.onCommitted(t);
                    } else {
                        t.ended = true;
                    }
                }
            }
            List<String> ids;
            List<WriterState.Probe> probes;
            synchronized (writer) {
                ids = List.copyOf(toAbort);
                probes = List.copyOf(legacyProbes);
            }
            TransactionResolver.abortOpen(producers, ids);
            for (WriterState.Probe p : probes) {
                TransactionResolver.abortOpenFrom(producers, p);
            }
        } catch (RuntimeException e) {
            int n;
            synchronized (writer) {
                n = ++failures;
                writer.failed("cannot clean up its transactions: " + KafkaErrors.reason(e, ep));
            }
            thread.submit(this::recover, backoff.delayMillis(n));
            return;
        }
        synchronized (writer) {
            toAbort.clear();
            legacyProbes.clear();
            running = false;
            if (failures > 0) {
                writer.retryNow(); // reachable again: an attempt may start at once
            }
        }
        done.complete(null);
        for (Txn t : restored) {
            if (t.ended) {
                committer.settle(t);
            }
        }
    }
}
