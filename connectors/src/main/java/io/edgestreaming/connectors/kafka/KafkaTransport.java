package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.AddressGuard;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import io.edgestreaming.connectors.engine.TransportContext;
import io.edgestreaming.connectors.engine.TransportFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.SimpleCounter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly-once delivery to Kafka ({@code endpoint_type: kafka}) with Kafka transactions, on the
 * write-ahead engine: a block's messages are streamed into an open transaction as the block arrives
 * ({@link #accepted}), the checkpoint that covers it seals (flushes) that transaction, and it is committed
 * only once a checkpoint that holds the transaction's id,
 * producer id, epoch and the offset of one of its messages completed, so a {@code read_committed}
 * consumer sees every block once and never one of a failed attempt. After a restore a transaction
 * of the checkpoint is committed again, or, if it had already ended, its fate is read back (see
 * {@link TransactionResolver}): right under transaction.version 0 and 2 alike. After rescaling, the
 * subtask that gets a block also gets its transaction or committed mark (union state; {@link #restore}).
 *
 * <p>Per destination a {@link KafkaDestinationWriter} with its own thread does every blocking call: a
 * cluster that is unreachable, refuses the topic or the credentials never fails a checkpoint nor delays
 * another destination; its blocks wait in the writer's backlog (engine backoff and max_retry_duration
 * apply). The task thread never waits for a cluster: a checkpoint's state for a healthy destination
 * completes, off the task thread, once its transaction is flushed or after {@link #STAGE_WAIT}
 * ({@link #snapshotState}); a failing one is not waited for. The final checkpoint of a bounded input
 * waits until every covered block is written (bounded by {@link #FINAL_WAIT}).
 *
 * <p>Transactional ids come from a fixed pool per job, destination and subtask ({@link TransactionalIds}).
 */
public final class KafkaTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaTransport.class);
    public static final String ENDPOINT_TYPE = "kafka";
    static final Duration STAGE_WAIT = Duration.ofSeconds(5);
    static final Duration FINAL_WAIT = Duration.ofMinutes(2);
    private static final Set<String> COMPRESSIONS = Set.of("none", "gzip", "lz4", "zstd", "snappy");

    private final DeliveryConfig delivery;
    private final AddressGuard addresses;
    private final String idBase;
    private final Map<String, KafkaEndpoint> endpoints = new LinkedHashMap<>();
    private final Map<String, KafkaDestinationWriter> writers = new LinkedHashMap<>();
    private TransportContext context;
    private Counter unknownFates = new SimpleCounter();
    private List<WriterState> restoredStates = List.of();
    private boolean finishing;
    /** Until {@link #restore} ran, writers wait: their recovery needs the restored state first. */
    private boolean awaitingRestore;

    /** @param addresses the allowed_networks each bootstrap server must pass when a client is created */
    public KafkaTransport(DeliveryConfig delivery, AddressPolicy addresses) {
        this(delivery, addresses, TransactionalIds.DEFAULT_BASE);
    }

    /** @param idBase what every transactional id starts with ({@code <base>-<job>-<destination hash>-<subtask>-<slot>}) */
    public KafkaTransport(DeliveryConfig delivery, AddressPolicy addresses, String idBase) {
        this.delivery = delivery;
        this.addresses = new AddressGuard(addresses, "Kafka");
        this.idBase = idBase;
    }

    /**
     * The job's own dead-letter topic on the source cluster: the operator's cluster, so no address is refused
     * (as for the source); transactional ids start with {@code idBase}.
     */
    public static TransportFactory deadLetters(String idBase) {
        return new Factory(idBase, true);
    }

    /** Factory for {@code kafka} endpoints. */
    public static final class Factory implements TransportFactory {
        private static final long serialVersionUID = 1L;
        private final String idBase;
        private final boolean anyAddress;

        public Factory() {
            this(TransactionalIds.DEFAULT_BASE, false);
        }

        private Factory(String idBase, boolean anyAddress) {
            this.idBase = idBase;
            this.anyAddress = anyAddress;
        }

        @Override
        public String endpointType() {
            return ENDPOINT_TYPE;
        }

        @Override
        public void validate(Endpoint endpoint) {
            if (!(endpoint instanceof KafkaEndpoint kafka)) {
                throw new IllegalArgumentException("not a Kafka endpoint: " + endpoint.describe());
            }
            if (kafka.compression() != null && !COMPRESSIONS.contains(kafka.compression())) {
                throw new IllegalArgumentException("compression must be one of " + COMPRESSIONS + ", was " + kafka.compression());
            }
            if (kafka.sasl() != null && !Set.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512").contains(kafka.sasl().mechanism())) {
                throw new IllegalArgumentException("sasl.mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512");
            }
        }

        @Override
        public Transport create(DeliveryConfig delivery, AddressPolicy addresses) {
            return new KafkaTransport(delivery, anyAddress ? AddressPolicy.allowing("0.0.0.0/0", "::/0") : addresses, idBase);
        }
    }

    @Override
    public Prepared prepare(Block block, Endpoint endpoint) {
        // Off the task thread: touches no writer (accepted or deliver creates the destination's writer).
        // The payload is the records joined by "\n" as they came: split per record or sent whole at
        // delivery; Kafka compresses (compression.type), so the payload stays identity-encoded.
        return new Prepared(block.records(), deliveryKey(block.blockId(), block.records()), Prepared.IDENTITY);
    }

    static String deliveryKey(String blockId, byte[] payload) {
        return io.edgestreaming.connectors.engine.DeliveryKeys.of(blockId, payload);
    }

    @Override
    public void initializeState(TransportContext context, List<byte[]> restoredState) {
        this.context = context;
        this.unknownFates = context.metrics().counter("kafkaTransactionsOfUnknownFate");
        for (Endpoint e : context.endpoints()) {
            if (e instanceof KafkaEndpoint k) {
                endpoints.putIfAbsent(k.destinationId(), k);
            }
        }
        // Every lane state of every old subtask (union state); sorted out in restore(), once this
        // subtask's blocks are known.
        awaitingRestore = context.restoredCheckpointId() >= 0 || !restoredState.isEmpty();
        restoredStates = new ArrayList<>(restoredState.size());
        for (byte[] bytes : restoredState) {
            restoredStates.add(WriterState.fromBytes(bytes));
        }
    }

    /**
     * Pending blocks and writer states are redistributed independently on rescaling, so a block may
     * land here while the transaction it was prepared in, or the record that it is committed, was kept
     * by another old subtask. Every subtask therefore sees every restored writer state and takes from
     * it: the committed keys and the (part of each) prepared transaction that hold its own blocks, and
     * settles those transactions itself (several subtasks may settle the same transaction: a second
     * commit is answered as ended and read back as committed). Each old state also has one owner, old
     * subtask index modulo the new parallelism: it settles every transaction of that state even if it
     * holds none of its blocks (none stays open to stall read_committed consumers) and aborts what that
     * old subtask's failed attempt left open in its pool.
     */
    @Override
    public void restore(Collection<StagedBlock> pending) {
        long now = System.currentTimeMillis();
        Map<String, Set<String>> held = new HashMap<>();
        for (StagedBlock b : pending) {
            held.computeIfAbsent(b.destinationId(), k -> new HashSet<>()).add(b.deliveryKey());
        }
        for (WriterState state : restoredStates) {
            Set<String> mine = held.getOrDefault(state.destinationId(), Set.of());
            boolean owner = state.subtask() < 0
                    ? Math.floorMod(state.poolPrefix().hashCode(), context.parallelism()) == context.subtaskIndex()
                    : TransactionalIds.ownerOf(state.subtask(), context.parallelism()) == context.subtaskIndex();
            if (owner || state.concerns(mine)) {
                writer(state.destinationId(), endpoints.get(state.destinationId()))
                        .restoreState(state, owner, mine, endpoints.values(), now);
            }
        }
        restoredStates = List.of();
        for (StagedBlock b : pending) {
            writer(b.destinationId(), endpoints.get(b.destinationId())).restoreBlock(b, now);
        }
        awaitingRestore = false;
        for (KafkaDestinationWriter w : writers.values()) {
            w.startRecovery();
        }
    }

    @Override
    public void stage(long checkpointId, Collection<StagedBlock> covered) {
        for (StagedBlock b : covered) {
            writer(b.destinationId(), endpoints.get(b.destinationId())).add(b, checkpointId);
        }
    }

    /**
     * The engine may move a waiting block's payload to its spool (a cluster down for long, the heap over
     * its budget): the writers then keep the block without it and read it back on their own thread when
     * they write it, so Kafka blocks count against the memory budget like any other.
     */
    @Override
    public void payloadSpooled(StagedBlock block) {
        KafkaDestinationWriter w = writers.get(block.destinationId());
        if (w != null) {
            w.payloadSpooled(block);
        }
    }

    /** The engine's deliver only asks for a block's fate; the writers load spooled payloads themselves. */
    @Override
    public boolean deliversFromMemory() {
        return false;
    }

    /** A block waiting for its transaction at a stop savepoint is settled by the restored job from the writer state. */
    @Override
    public boolean resendsInFlightAfterRestore() {
        return false;
    }

    @Override
    public void accepted(StagedBlock block) {
        writer(block.destinationId(), endpoints.get(block.destinationId())).accept(block);
    }

    @Override
    public void finish() {
        finishing = true;
    }

    /**
     * Seals each destination's open transaction and starts writing its backlog, on the writer threads;
     * the task thread does not wait. The state completes once those transactions are flushed, or after
     * {@link #STAGE_WAIT} (or the request timeout, if shorter): what is not flushed by then, or holds a
     * block this checkpoint does not cover, is claimed by a later checkpoint, so a slow cluster delays
     * only its own blocks. The checkpoint's asynchronous part waits for the state (see the engine's
     * {@code DeferredTransportState}); only the final checkpoint of a bounded input waits here.
     */
    @Override
    public CompletableFuture<List<byte[]>> snapshotState(long checkpointId) {
        if (finishing) {
            return CompletableFuture.completedFuture(finalSnapshot(checkpointId));
        }
        long wait = Math.min(STAGE_WAIT.toMillis(), delivery.requestTimeout().toMillis());
        long now = System.currentTimeMillis();
        List<KafkaDestinationWriter> snapshotted = List.copyOf(writers.values());
        List<CompletableFuture<?>> waits = new ArrayList<>();
        for (KafkaDestinationWriter w : snapshotted) {
            CompletableFuture<?> f = w.beforeSnapshot(now);
            if (!w.recovery().isDone()) {
                // Just started or restored: it cleans up its pool first, then writes what this checkpoint covers.
                f = w.recovery().thenCompose(v -> orDone(w.writeCovered(checkpointId, System.currentTimeMillis())));
            }
            if (f != null) {
                waits.add(f);
            }
        }
        return CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new))
                .completeOnTimeout(null, wait, TimeUnit.MILLISECONDS)
                .handle((v, e) -> null) // a failed attempt reports itself through its result
                .thenApply(v -> {
                    List<byte[]> states = new ArrayList<>(snapshotted.size());
                    for (KafkaDestinationWriter w : snapshotted) {
                        states.add(w.afterSnapshot(checkpointId).toBytes());
                    }
                    return states;
                });
    }

    private static CompletableFuture<?> orDone(CompletableFuture<?> f) {
        return f != null ? f : CompletableFuture.completedFuture(null);
    }

    /**
     * The last checkpoint: what it covers must be in one of its transactions, or the drain after it
     * could only dead-letter it. Waiting on the task thread is fine here: the input has ended.
     */
    private List<byte[]> finalSnapshot(long checkpointId) {
        long deadline = System.nanoTime() + FINAL_WAIT.toNanos();
        List<Future<?>> recoveries = new ArrayList<>();
        for (KafkaDestinationWriter w : writers.values()) {
            recoveries.add(w.recovery());
        }
        awaitAll(recoveries, deadline);
        for (KafkaDestinationWriter w : writers.values()) {
            Future<?> first = w.beforeSnapshot(System.currentTimeMillis());
            if (first != null) {
                awaitAll(List.of(first), deadline);
            }
            while (w.hasUnwritten() && System.nanoTime() < deadline) {
                Future<?> f = w.beforeSnapshot(System.currentTimeMillis());
                if (f != null) {
                    awaitAll(List.of(f), deadline);
                } else {
                    sleep(10);
                }
            }
        }
        List<byte[]> states = new ArrayList<>(writers.size());
        for (KafkaDestinationWriter w : writers.values()) {
            states.add(w.afterSnapshot(checkpointId).toBytes());
        }
        return states;
    }

    private static void awaitAll(List<Future<?>> futures, long deadlineNanos) {
        for (Future<?> f : futures) {
            try {
                f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // Not ready in time: a later snapshot claims it (or its failure).
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                // The attempt reports its own failure through its result.
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void checkpointCompleted(long checkpointId) {
        long now = System.currentTimeMillis();
        for (KafkaDestinationWriter w : writers.values()) {
            w.checkpointCompleted(checkpointId, now);
        }
    }

    @Override
    public CompletableFuture<Outcome> deliver(StagedBlock block, Endpoint endpoint) {
        KafkaEndpoint kafka = (KafkaEndpoint) endpoint;
        return writer(block.destinationId(), kafka).deliver(block);
    }

    @Override
    public boolean abandon(StagedBlock block) {
        KafkaDestinationWriter w = writers.get(block.destinationId());
        return w == null || w.abandon(block);
    }

    private KafkaDestinationWriter writer(String destinationId, KafkaEndpoint endpoint) {
        KafkaDestinationWriter w = writers.get(destinationId);
        if (w == null) {
            TransportContext c = context != null ? context : new TransportContext("nojob", 0, 1, 1, -1, List.of(),
                    new org.apache.flink.metrics.groups.UnregisteredMetricsGroup());
            // A destination only a restored state knows writes nothing new: the largest block Kafka takes.
            long largestBlock = c.largestBlocks().getOrDefault(destinationId, (long) KafkaClientConfig.MAX_REQUEST_SIZE);
            w = new KafkaDestinationWriter(destinationId, endpoint, delivery, addresses,
                    TransactionalIds.prefix(idBase, c.jobId(), destinationId, c.subtaskIndex()), c.subtaskIndex(),
                    idBase + "-" + TransactionalIds.hash(destinationId) + "-" + c.subtaskIndex(), unknownFates,
                    largestBlock);
            writers.put(destinationId, w);
            if (endpoint != null) {
                endpoints.putIfAbsent(destinationId, endpoint);
            } else {
                LOG.warn("Kafka destination {} is in the restored state but not in the configuration: its transactions are"
                        + " settled with the connection they were written with", destinationId);
            }
            if (!awaitingRestore) {
                w.startRecovery();
            }
        } else if (endpoint != null) {
            w.setEndpoint(endpoint);
        }
        return w;
    }

    @Override
    public void close() {
        for (KafkaDestinationWriter w : writers.values()) {
            w.close();
        }
        writers.clear();
    }
}
