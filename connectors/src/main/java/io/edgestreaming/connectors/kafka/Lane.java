package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.StagedBlock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.flink.connector.kafka.sink.internal.FlinkKafkaInternalProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TransactionAbortedException;
import org.apache.kafka.common.errors.UnknownProducerIdException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything one subtask does for one Kafka destination (cluster + topic + credentials): its
 * transactions, its backlog and its own single thread for every blocking Kafka call, so a dead or
 * slow cluster never holds the task thread nor another destination.
 *
 * <p>Life of a block: {@link #add} puts it in the backlog when a checkpoint first covers it. At a
 * checkpoint ({@link #beforeSnapshot}) an <em>attempt</em> writes the whole backlog into one new
 * transaction on the lane thread (init, begin, send, flush = prepared); an attempt that finished by the
 * time of a snapshot is <em>claimed</em> by that checkpoint ({@link #afterSnapshot}): its transactional
 * id, producer id and epoch go into the checkpoint, and once that checkpoint completes the
 * transaction is committed ({@link #checkpointCompleted}). {@link #deliver} only reports: committed
 * = delivered; commit pending = the commit's future; still in the backlog = retry with the last
 * failure as the reason (the engine's backoff and max_retry_duration apply). An attempt that was not
 * claimed (failed, or still running at the snapshot) is aborted, or left open under a transactional id
 * the next attempt re-initialises (which aborts it); its blocks stay in the backlog.
 *
 * <p>All fields are guarded by {@code this}; blocking calls run on {@link #executor} without the lock.
 */
final class Lane implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Lane.class);
    /** Lingering-transaction probe gives up after this many used ids (a sign of a bug, not of data). */
    private static final int MAX_PROBE = 10_000;

    final String destinationId;
    private final DeliveryConfig delivery;
    private final ExecutorService executor;
    private final String clientId;
    private final long expiryMarginMillis;
    private KafkaEndpoint endpoint;
    private String prefix;
    private long counter;
    private final List<LaneState.Probe> probes = new ArrayList<>();
    /** Covered by a checkpoint, not in a prepared transaction. */
    private final LinkedHashMap<String, Waiting> backlog = new LinkedHashMap<>();
    private final List<Txn> prepared = new ArrayList<>();
    private final Map<String, Txn> txnOfKey = new HashMap<>();
    private final Map<String, Committed> committed = new HashMap<>();
    private final Map<String, String> permanent = new HashMap<>();
    private final Set<String> expired = new HashSet<>();
    /** Every block the lane still tracks, to re-send those of a transaction the broker aborted. */
    private final Map<String, StagedBlock> blocks = new HashMap<>();
    private final ArrayDeque<FlinkKafkaInternalProducer<byte[], byte[]>> idle = new ArrayDeque<>();
    private Attempt attempt;
    private boolean healthy = true;
    private int failures;
    private long nextAttemptMillis;
    private String lastFailure;
    private long snapshotSeq;

    Lane(String destinationId, KafkaEndpoint endpoint, DeliveryConfig delivery, String prefix, List<String> vacatedPrefixes,
            String clientId) {
        this.destinationId = destinationId;
        this.endpoint = endpoint;
        this.delivery = delivery;
        this.prefix = prefix;
        this.clientId = clientId;
        // Stop re-staging a block a while before the engine gives up on it, so that no block is both
        // committed and dead-lettered (a commit takes at most a checkpoint interval or so).
        long maxRetry = delivery.maxRetryDuration().toMillis();
        this.expiryMarginMillis = Math.min(maxRetry / 10, Duration.ofMinutes(2).toMillis());
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kafka-delivery-" + clientId);
            t.setDaemon(true);
            return t;
        });
        // The own prefix may hold transactions of an earlier attempt of this subtask (same job, no
        // checkpoint completed since): abort them before the first use.
        probes.add(new LaneState.Probe(prefix, 0));
        // Likewise the prefixes of subtask indices beyond the current parallelism that map to this one
        // (an earlier attempt of this generation at a higher parallelism); see KafkaTransport#lane.
        for (String p : vacatedPrefixes) {
            probes.add(new LaneState.Probe(p, 0));
        }
    }

    synchronized void setEndpoint(KafkaEndpoint endpoint) {
        if (this.endpoint == null) {
            this.endpoint = endpoint;
        }
    }

    // ---------------------------------------------------------------- task thread

    synchronized void add(StagedBlock block, long checkpointId) {
        String key = block.deliveryKey();
        if (committed.containsKey(key) || txnOfKey.containsKey(key) || backlog.containsKey(key)) {
            return;
        }
        blocks.put(key, block);
        backlog.put(key, new Waiting(block, checkpointId));
    }

    /** A block restored by the engine: unless its transaction is known, it is written again. */
    synchronized void restoreBlock(StagedBlock block, long now) {
        String key = block.deliveryKey();
        blocks.put(key, block);
        if (!committed.containsKey(key) && !txnOfKey.containsKey(key) && !backlog.containsKey(key)) {
            Waiting w = new Waiting(block, -1);
            w.deliverableSinceMillis = now;
            backlog.put(key, w);
        }
    }

    /**
     * Takes from a restored lane state (of any old subtask: union state) what concerns this subtask:
     * the part of each prepared transaction made of blocks restored here ({@code held}), and which of
     * those blocks are committed. The {@code owner} of the state (exactly one subtask) also takes its
     * probes and every prepared transaction, even with none of its blocks here, so that each one is
     * committed by someone. See {@link KafkaTransport#restore}.
     */
    synchronized void restoreState(LaneState state, boolean owner, Set<String> held, long now) {
        if (owner) {
            // Whatever the failed attempt opened after this checkpoint sits at counter and above.
            // Same generation (no restored checkpoint id known): never probe from 0 over the prepared
            // transactions about to be committed again (own prefix or a vacated one), and continue
            // after the restored ids.
            probes.remove(new LaneState.Probe(state.prefix(), 0));
            probes.add(new LaneState.Probe(state.prefix(), state.counter()));
            if (state.prefix().equals(prefix)) {
                counter = Math.max(counter, state.counter());
            }
            probes.addAll(state.probes());
        }
        for (LaneState.PreparedTxn p : state.prepared()) {
            List<String> mine = new ArrayList<>();
            for (String k : p.keys()) {
                if (held.contains(k)) {
                    mine.add(k);
                }
            }
            if (mine.isEmpty() && !owner) {
                continue;
            }
            Txn t = new Txn(p.checkpointId(), p.transactionalId(), p.producerId(), p.epoch(), List.copyOf(mine), null);
            prepared.add(t);
            for (String k : mine) {
                txnOfKey.put(k, t);
            }
        }
        for (String k : state.committedKeys()) {
            if (held.contains(k)) {
                committed.put(k, new Committed(now));
            }
        }
    }

    /** After a restore: commit again what the restored checkpoint prepared (idempotent). */
    synchronized void recommitRestored() {
        for (Txn t : prepared) {
            if (!t.committing) {
                LOG.info("Kafka {}: committing transaction {} of restored checkpoint {} ({} blocks)", destinationId,
                        t.transactionalId, t.checkpointId, t.keys.size());
                submitCommit(t);
            }
        }
    }

    /** Starts an attempt if one is due; returns it when the snapshot should wait for it. */
    synchronized Future<?> beforeSnapshot(long now) {
        snapshotSeq++;
        pruneCommitted(now);
        harvest();
        return startAttemptIfDue(now) && healthy ? attempt.future : null;
    }

    /** Claims a finished attempt for this checkpoint; returns the lane's state for it. */
    synchronized LaneState afterSnapshot(long checkpointId) {
        if (attempt != null && attempt.future.isDone()) {
            AttemptResult r = attempt.result();
            attempt = null;
            if (r.txn != null) {
                claim(r.txn, checkpointId);
            } else {
                onAttemptFailed(r);
            }
        }
        List<LaneState.PreparedTxn> txns = new ArrayList<>(prepared.size());
        for (Txn t : prepared) {
            txns.add(new LaneState.PreparedTxn(t.checkpointId, t.transactionalId, t.producerId, t.epoch, t.keys));
        }
        return new LaneState(destinationId, prefix, counter, List.copyOf(probes), txns, List.copyOf(committed.keySet()));
    }

    synchronized void checkpointCompleted(long checkpointId, long now) {
        for (Waiting w : backlog.values()) {
            if (w.deliverableSinceMillis == 0 && w.coveredAt <= checkpointId) {
                w.deliverableSinceMillis = now;
            }
        }
        for (Txn t : prepared) {
            if (t.checkpointId <= checkpointId && !t.committing) {
                submitCommit(t);
            }
        }
        harvest();
        if (!healthy) {
            startAttemptIfDue(now); // probe early; claimed by the next snapshot
        }
    }

    CompletableFuture<Outcome> deliver(StagedBlock block) {
        String key = block.deliveryKey();
        synchronized (this) {
            Committed c = committed.get(key);
            if (c != null) {
                c.ackedAt = snapshotSeq;
                return CompletableFuture.completedFuture(Outcome.delivered());
            }
            Txn t = txnOfKey.get(key);
            if (t != null) {
                t.requested.add(key);
                return t.result;
            }
            String reason = permanent.remove(key);
            if (reason != null) {
                blocks.remove(key);
                return CompletableFuture.completedFuture(Outcome.permanent(reason));
            }
            if (backlog.containsKey(key)) {
                return CompletableFuture.completedFuture(Outcome.retry(lastFailure != null
                        ? describe() + ": " + lastFailure
                        : describe() + ": waiting for the next checkpoint to write the block in a transaction"));
            }
            if (expired.contains(key)) {
                return CompletableFuture.completedFuture(Outcome.retry(describe() + ": not written before max_retry_duration"
                        + (lastFailure == null ? "" : "; last failure: " + lastFailure)));
            }
            if (endpoint == null) {
                return CompletableFuture.completedFuture(Outcome.retry(describe() + ": destination not configured"));
            }
        }
        // Never staged: only without checkpointing (or a bounded run's drain). Written and committed at
        // once, so at-least-once: nothing else can be had without a checkpoint.
        return oneShot(block);
    }

    /**
     * The engine's max_retry_duration is over for a block. A block in a transaction (prepared, or in
     * the running attempt) may still be committed: refused, the engine waits for that outcome. Else it
     * leaves the backlog for good (the lane's own expiry clock restarts on a restore; the engine's does not).
     */
    synchronized boolean abandon(StagedBlock block) {
        String key = block.deliveryKey();
        if (committed.containsKey(key) || txnOfKey.containsKey(key)) {
            return false;
        }
        if (attempt != null) {
            for (StagedBlock b : attempt.blocks) {
                if (b.deliveryKey().equals(key)) {
                    return false;
                }
            }
        }
        backlog.remove(key);
        blocks.remove(key);
        permanent.remove(key);
        expired.add(key);
        return true;
    }

    // ---------------------------------------------------------------- internals (lock held)

    private boolean startAttemptIfDue(long now) {
        if (attempt != null || endpoint == null) {
            return false;
        }
        if (!healthy && now < nextAttemptMillis) {
            return false;
        }
        List<StagedBlock> batch = new ArrayList<>();
        for (Iterator<Map.Entry<String, Waiting>> it = backlog.entrySet().iterator(); it.hasNext(); ) {
            Waiting w = it.next().getValue();
            if (w.deliverableSinceMillis > 0
                    && now - w.deliverableSinceMillis >= delivery.maxRetryDuration().toMillis() - expiryMarginMillis) {
                it.remove();
                expired.add(w.block.deliveryKey());
                blocks.remove(w.block.deliveryKey());
                continue;
            }
            batch.add(w.block);
        }
        if (batch.isEmpty() && probes.isEmpty()) {
            return false;
        }
        String txnId = prefix + "-" + counter;
        List<LaneState.Probe> toProbe = List.copyOf(probes);
        KafkaEndpoint ep = endpoint;
        Attempt a = new Attempt(txnId, batch, toProbe);
        a.future = executor.submit(() -> runAttempt(a, ep));
        attempt = a;
        return true;
    }

    private void harvest() {
        if (attempt != null && attempt.future.isDone()) {
            AttemptResult r = attempt.result();
            if (r.txn == null) {
                attempt = null;
                onAttemptFailed(r);
            } else if (r.txn.keys.isEmpty()) {
                attempt = null; // probe only
                onAttemptSucceeded();
            }
            // A prepared transaction waits for the next snapshot to claim it.
        }
    }

    private void claim(Txn txn, long checkpointId) {
        txn.checkpointId = checkpointId;
        counter++;
        onAttemptSucceeded();
        if (txn.keys.isEmpty()) {
            return;
        }
        prepared.add(txn);
        for (String k : txn.keys) {
            backlog.remove(k);
            txnOfKey.put(k, txn);
        }
    }

    private void onAttemptSucceeded() {
        probes.removeAll(attemptProbesDone);
        attemptProbesDone.clear();
        if (!healthy) {
            LOG.info("Kafka destination {} writable again after {} failed attempt(s)", describe(), failures);
        }
        healthy = true;
        failures = 0;
        lastFailure = null;
    }

    private final List<LaneState.Probe> attemptProbesDone = new ArrayList<>();

    private void onAttemptFailed(AttemptResult r) {
        probes.removeAll(attemptProbesDone);
        attemptProbesDone.clear();
        for (Map.Entry<String, String> e : r.permanent.entrySet()) {
            if (backlog.remove(e.getKey()) != null) {
                permanent.put(e.getKey(), e.getValue());
            }
        }
        if (r.reason == null) {
            return; // only permanent rejections: the rest goes in the next attempt
        }
        failures++;
        lastFailure = r.reason;
        if (healthy) {
            LOG.warn("Kafka destination {} not writable ({}); its {} block(s) wait, other destinations unaffected",
                    describe(), r.reason, backlog.size());
        }
        healthy = false;
        long base = delivery.initialBackoff().toMillis() << Math.min(failures - 1, 20);
        long delay = Math.min(base, delivery.maxBackoff().toMillis());
        nextAttemptMillis = System.currentTimeMillis() + delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
    }

    private void submitCommit(Txn t) {
        t.committing = true;
        KafkaEndpoint ep = endpoint;
        if (ep == null) {
            LOG.error("Kafka {}: cannot commit transaction {} ({} blocks): the destination is no longer configured; "
                    + "the broker aborts it after transaction_timeout", destinationId, t.transactionalId, t.keys.size());
            return;
        }
        executor.submit(() -> runCommit(t, ep));
    }

    private void pruneCommitted(long now) {
        long forget = 2 * delivery.maxRetryDuration().toMillis();
        // An acknowledged block has left the engine's state by the snapshot after the acknowledgement.
        committed.values().removeIf(c -> (c.ackedAt >= 0 && snapshotSeq > c.ackedAt + 1) || now - c.sinceMillis > forget);
        blocks.keySet().removeIf(k -> !backlog.containsKey(k) && !txnOfKey.containsKey(k) && !permanent.containsKey(k));
        if (expired.size() > 100_000) {
            expired.clear();
        }
    }

    private String describe() {
        return endpoint == null ? destinationId : endpoint.describe();
    }

    // ---------------------------------------------------------------- lane thread

    private AttemptResult runAttempt(Attempt a, KafkaEndpoint ep) {
        FlinkKafkaInternalProducer<byte[], byte[]> producer = null;
        try {
            producer = takeIdle();
            if (producer == null) {
                producer = new FlinkKafkaInternalProducer<>(props(ep), a.txnId);
            }
            for (LaneState.Probe p : a.probes) {
                abortLingering(producer, p);
                synchronized (this) {
                    attemptProbesDone.add(p);
                }
            }
            producer.setTransactionId(a.txnId); // also resets a probed or reused producer to UNINITIALIZED
            producer.initTransactions();
            if (a.blocks.isEmpty()) {
                returnIdle(producer);
                return AttemptResult.ok(new Txn(-1, a.txnId, -1, (short) -1, List.of(), null));
            }
            producer.beginTransaction();
            Map<String, Exception> errors = new ConcurrentHashMap<>();
            List<String> keys = new ArrayList<>(a.blocks.size());
            for (StagedBlock b : a.blocks) {
                String key = b.deliveryKey();
                keys.add(key);
                for (ProducerRecord<byte[], byte[]> record : KafkaMessages.of(b, ep)) {
                    producer.send(record, (metadata, e) -> {
                        if (e != null) {
                            errors.putIfAbsent(key, e);
                        }
                    });
                }
            }
            producer.flush();
            if (!errors.isEmpty()) {
                Map<String, String> tooLarge = new HashMap<>();
                String reason = null;
                for (StagedBlock b : a.blocks) {
                    Exception e = errors.get(b.deliveryKey());
                    if (e instanceof RecordTooLargeException) {
                        tooLarge.put(b.deliveryKey(), "message of block " + b.blockId() + " (" + b.payload().length
                                + " bytes before compression) is larger than " + ep.describe() + " accepts"
                                + " (broker message.max.bytes / topic max.message.bytes): " + e.getMessage());
                    } else if (e != null && reason == null) {
                        reason = reason(e, ep);
                    }
                }
                abortQuietly(producer);
                producer = null;
                // Sends after a rejected message fail with it (the transaction is doomed): not a
                // destination failure; the other blocks go in the next attempt.
                return new AttemptResult(null, tooLarge.isEmpty() ? reason : null, tooLarge);
            }
            return AttemptResult.ok(new Txn(-1, a.txnId, producer.getProducerId(), producer.getEpoch(), keys, producer));
        } catch (Exception e) {
            if (producer != null) {
                producer.close(Duration.ZERO);
            }
            return new AttemptResult(null, reason(e, ep), Map.of());
        }
    }

    /**
     * Initialises ids {@code prefix-from}, {@code prefix-(from+1)}, ... (which aborts a transaction a
     * failed attempt left open there) until one that was never used (epoch 0): Flink's probing idea.
     */
    private void abortLingering(FlinkKafkaInternalProducer<byte[], byte[]> producer, LaneState.Probe p) {
        for (long i = p.from(); i < p.from() + MAX_PROBE; i++) {
            producer.setTransactionId(p.prefix() + "-" + i);
            producer.initTransactions();
            if (producer.getEpoch() == 0) {
                if (i > p.from()) {
                    LOG.info("Kafka {}: aborted lingering transactions {}-{}..{}", destinationId, p.prefix(), p.from(), i - 1);
                }
                return;
            }
        }
    }

    private void runCommit(Txn t, KafkaEndpoint ep) {
        FlinkKafkaInternalProducer<byte[], byte[]> producer = t.producer;
        try {
            if (producer == null) {
                producer = new FlinkKafkaInternalProducer<>(props(ep), t.transactionalId);
                producer.resumeTransaction(t.producerId, t.epoch);
            }
            producer.commitTransaction();
        } catch (ProducerFencedException | InvalidProducerEpochException | InvalidTxnStateException
                | UnknownProducerIdException | TransactionAbortedException | InvalidPidMappingException e) {
            if (producer != null) {
                producer.close(Duration.ZERO);
            }
            onTxnLost(t, ep, e);
            return;
        } catch (Exception e) {
            if (producer != null) {
                producer.close(Duration.ZERO);
            }
            String reason = "commit of transaction " + t.transactionalId + " failed, retried after the next checkpoint: " + reason(e, ep);
            CompletableFuture<Outcome> result;
            synchronized (this) {
                t.producer = null;
                t.committing = false;
                result = t.result;
                t.result = new CompletableFuture<>();
            }
            LOG.warn("Kafka {}: {}", destinationId, reason);
            result.complete(Outcome.retry(reason));
            return;
        }
        CompletableFuture<Outcome> result;
        synchronized (this) {
            prepared.remove(t);
            for (String k : t.keys) {
                txnOfKey.remove(k);
                Committed c = new Committed(System.currentTimeMillis());
                if (t.requested.contains(k)) {
                    c.ackedAt = snapshotSeq;
                }
                committed.put(k, c);
            }
            if (t.producer != null) {
                idle.add(t.producer);
                t.producer = null;
            } else {
                producer.close(Duration.ZERO);
            }
            result = t.result;
        }
        LOG.debug("Kafka {}: committed transaction {} ({} blocks)", destinationId, t.transactionalId, t.keys.size());
        result.complete(Outcome.delivered());
    }

    /** The broker aborted a prepared transaction (it timed out, most likely while the job was down). */
    private void onTxnLost(Txn t, KafkaEndpoint ep, Exception e) {
        CompletableFuture<Outcome> result;
        int resent = 0;
        synchronized (this) {
            prepared.remove(t);
            for (String k : t.keys) {
                txnOfKey.remove(k);
                StagedBlock b = blocks.get(k);
                if (b != null) {
                    Waiting w = new Waiting(b, t.checkpointId);
                    w.deliverableSinceMillis = System.currentTimeMillis();
                    backlog.put(k, w);
                    resent++;
                }
            }
            result = t.result;
        }
        String reason = "transaction " + t.transactionalId + " of checkpoint " + t.checkpointId + " (" + t.keys.size()
                + " blocks) can no longer be committed on " + ep.describe() + " (" + e.getClass().getSimpleName()
                + "): the broker aborted it, most likely because transaction_timeout ("
                + KafkaClientConfig.transactionTimeout(ep) + ") elapsed before the commit (job down or destination"
                + " unreachable that long); none of its messages is visible; " + resent + " block(s) are written again in a new transaction"
                + (e instanceof InvalidPidMappingException ? " (the broker forgot the transactional id after"
                        + " transactional.id.expiration.ms: if the transaction had been committed before the failure, these"
                        + " blocks now appear twice)" : "");
        LOG.error("Kafka {}: {}", destinationId, reason);
        result.complete(Outcome.retry(reason));
    }

    private CompletableFuture<Outcome> oneShot(StagedBlock block) {
        String txnId;
        KafkaEndpoint ep;
        synchronized (this) {
            txnId = prefix + "-" + counter++;
            ep = endpoint;
        }
        Attempt a = new Attempt(txnId, List.of(block), List.of());
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        executor.submit(() -> {
            AttemptResult r = runAttempt(a, ep);
            if (r.txn == null) {
                String p = r.permanent.get(block.deliveryKey());
                result.complete(p != null ? Outcome.permanent(p) : Outcome.retry(ep.describe() + ": " + r.reason));
                return;
            }
            try {
                r.txn.producer.commitTransaction();
                returnIdle(r.txn.producer);
                result.complete(Outcome.delivered());
            } catch (Exception e) {
                r.txn.producer.close(Duration.ZERO);
                result.complete(Outcome.retry(ep.describe() + ": commit failed: " + reason(e, ep)));
            }
        });
        return result;
    }

    private synchronized FlinkKafkaInternalProducer<byte[], byte[]> takeIdle() {
        return idle.poll();
    }

    private synchronized void returnIdle(FlinkKafkaInternalProducer<byte[], byte[]> producer) {
        idle.add(producer);
    }

    private Properties props(KafkaEndpoint ep) {
        return KafkaClientConfig.producer(ep, delivery, clientId);
    }

    private static void abortQuietly(FlinkKafkaInternalProducer<byte[], byte[]> producer) {
        try {
            producer.abortTransaction();
        } catch (Exception ignored) {
            // The next attempt re-initialises this transactional id, which aborts it anyway.
        } finally {
            producer.close(Duration.ZERO);
        }
    }

    /** A short, secret-free reason for logs, outcomes and dead-letter manifests. */
    static String reason(Throwable error, KafkaEndpoint ep) {
        Throwable e = error;
        while ((e instanceof java.util.concurrent.ExecutionException || e instanceof java.util.concurrent.CompletionException
                || (e instanceof KafkaException && !(e instanceof org.apache.kafka.common.errors.ApiException)))
                && e.getCause() != null && e.getCause() != e) {
            e = e.getCause();
        }
        String message = e.getMessage() == null ? "" : e.getMessage();
        String r;
        if (e instanceof SslAuthenticationException) {
            r = "TLS handshake failed: " + message;
        } else if (e instanceof AuthenticationException) {
            r = "authentication failed" + (ep.sasl() == null ? "" : " (SASL " + ep.sasl().mechanism() + ", user "
                    + ep.sasl().username() + ")") + ": " + message;
        } else if (e instanceof AuthorizationException) {
            r = "not authorised: " + message;
        } else if (e instanceof org.apache.kafka.common.errors.TimeoutException) {
            r = "timed out (cluster unreachable or topic " + ep.kafkaTopic() + " missing?): " + message;
        } else {
            r = e.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
        }
        if (ep.sasl() != null && !ep.sasl().password().isEmpty()) {
            r = r.replace(ep.sasl().password().reveal(), io.edgestreaming.config.Secret.REDACTED);
        }
        return r.length() > 500 ? r.substring(0, 500) + "..." : r;
    }

    @Override
    public void close() {
        boolean committing;
        synchronized (this) {
            committing = prepared.stream().anyMatch(t -> t.committing);
        }
        executor.shutdown();
        if (committing) {
            // Stop-with-savepoint closes the task right after the savepoint's notification: let its
            // commit finish (bounded), or the open transaction hides the partition from read_committed
            // consumers until a restore or transaction_timeout.
            try {
                executor.awaitTermination(delivery.requestTimeout().toMillis() + 1000, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        executor.shutdownNow();
        List<FlinkKafkaInternalProducer<byte[], byte[]>> toClose = new ArrayList<>();
        synchronized (this) {
            toClose.addAll(idle);
            idle.clear();
            for (Txn t : prepared) {
                if (t.producer != null) {
                    toClose.add(t.producer); // prepared transactions stay open: a restore commits them
                }
            }
        }
        for (FlinkKafkaInternalProducer<byte[], byte[]> p : toClose) {
            try {
                p.close(Duration.ZERO);
            } catch (Exception e) {
                LOG.debug("closing a Kafka producer of {} failed", destinationId, e);
            }
        }
    }

    // ---------------------------------------------------------------- value types

    private static final class Waiting {
        final StagedBlock block;
        final long coveredAt;
        long deliverableSinceMillis;

        Waiting(StagedBlock block, long coveredAt) {
            this.block = block;
            this.coveredAt = coveredAt;
        }
    }

    private static final class Committed {
        final long sinceMillis;
        long ackedAt = -1;

        Committed(long sinceMillis) {
            this.sinceMillis = sinceMillis;
        }
    }

    static final class Txn {
        long checkpointId;
        final String transactionalId;
        final long producerId;
        final short epoch;
        final List<String> keys;
        FlinkKafkaInternalProducer<byte[], byte[]> producer;
        boolean committing;
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        final Set<String> requested = new HashSet<>();

        Txn(long checkpointId, String transactionalId, long producerId, short epoch, List<String> keys,
                FlinkKafkaInternalProducer<byte[], byte[]> producer) {
            this.checkpointId = checkpointId;
            this.transactionalId = transactionalId;
            this.producerId = producerId;
            this.epoch = epoch;
            this.keys = keys;
            this.producer = producer;
        }
    }

    private static final class Attempt {
        final String txnId;
        final List<StagedBlock> blocks;
        final List<LaneState.Probe> probes;
        Future<AttemptResult> future;

        Attempt(String txnId, List<StagedBlock> blocks, List<LaneState.Probe> probes) {
            this.txnId = txnId;
            this.blocks = blocks;
            this.probes = probes;
        }

        AttemptResult result() {
            try {
                return future.get();
            } catch (Exception e) {
                return new AttemptResult(null, "attempt failed: " + e, Map.of());
            }
        }
    }

    private record AttemptResult(Txn txn, String reason, Map<String, String> permanent) {
        static AttemptResult ok(Txn txn) {
            return new AttemptResult(txn, null, Map.of());
        }
    }
}
