package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import io.edgestreaming.connectors.engine.TransportContext;
import io.edgestreaming.connectors.engine.TransportFactory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly-once delivery to Kafka ({@code endpoint_type: kafka}) with Kafka transactions, on the
 * write-ahead engine: a block's messages are written in a transaction prepared at (or after) the
 * checkpoint that covers it and committed only once a checkpoint that holds the transaction's producer
 * id and epoch completed, so a {@code read_committed} consumer sees every block once and never one of a
 * failed attempt. After a restore, the transactions the checkpoint prepared are committed again with
 * flink-connector-kafka's {@code FlinkKafkaInternalProducer.resumeTransaction} (a commit of a committed
 * transaction succeeds; one the broker aborted meanwhile is reported and its blocks written again).
 * After rescaling, the subtask that gets a block also gets its transaction or committed mark (the
 * transport state is union state; see {@link #restore}).
 *
 * <p>Per destination a {@link Lane} with its own thread does every blocking call: a cluster that is
 * unreachable, refuses the topic or the credentials never fails a checkpoint nor delays another
 * destination; its blocks stay in the lane's backlog (engine backoff and max_retry_duration apply) and
 * go in a later checkpoint's transaction. A checkpoint waits for a healthy destination's transaction at
 * most {@link #STAGE_WAIT} (or the request timeout, if shorter); a failing one is not waited for.
 *
 * <p>Transactional ids: {@code edge-streaming-<job id>-<destination hash>-<subtask>-g<generation>-<n>}
 * with the generation = restored checkpoint id + 1 and {@code n} a counter kept in state: unique per
 * job, destination and subtask, never reused within a lineage of restores, so recommitting after a
 * restore is unambiguous. Ids a failed attempt may have left open are probed and aborted
 * (initialised until a never-used one) before a lane writes again; after a scale-down also those of
 * the subtask indices that vanished, below the restored checkpoint's parallelism (each by the subtask
 * that index maps to modulo the parallelism; see {@link #lane}).
 */
public final class KafkaTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaTransport.class);
    public static final String ENDPOINT_TYPE = "kafka";
    static final Duration STAGE_WAIT = Duration.ofSeconds(5);
    private static final Set<String> COMPRESSIONS = Set.of("none", "gzip", "lz4", "zstd", "snappy");

    private final DeliveryConfig delivery;
    private final Map<String, KafkaEndpoint> endpoints = new LinkedHashMap<>();
    private final Map<String, Lane> lanes = new LinkedHashMap<>();
    private TransportContext context = new TransportContext("nojob", 0, 1, 1, -1, List.of());
    private List<LaneState> restoredStates = List.of();

    public KafkaTransport(DeliveryConfig delivery) {
        this.delivery = delivery;
    }

    /** Factory for {@code kafka} endpoints. */
    public static final class Factory implements TransportFactory {
        private static final long serialVersionUID = 1L;

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
        public Transport create(DeliveryConfig delivery) {
            return new KafkaTransport(delivery);
        }
    }

    @Override
    public Prepared prepare(Block block, Endpoint endpoint) {
        KafkaEndpoint kafka = (KafkaEndpoint) endpoint;
        lane(kafka.destinationId(), kafka);
        // The payload is the records joined by "\n" as they came: split per record or sent whole at
        // delivery; Kafka compresses (compression.type), so the payload stays identity-encoded.
        return new Prepared(block.records(), deliveryKey(block.blockId(), block.records()), Prepared.IDENTITY);
    }

    static String deliveryKey(String blockId, byte[] payload) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(payload);
            return blockId + ":" + HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void initializeState(TransportContext context, List<byte[]> restoredState) {
        this.context = context;
        for (Endpoint e : context.endpoints()) {
            if (e instanceof KafkaEndpoint k) {
                endpoints.putIfAbsent(k.destinationId(), k);
            }
        }
        // Every lane state of every old subtask (union state); sorted out in restore(), once this
        // subtask's blocks are known.
        restoredStates = new ArrayList<>(restoredState.size());
        for (byte[] bytes : restoredState) {
            restoredStates.add(LaneState.fromBytes(bytes));
        }
    }

    /**
     * Pending blocks and lane states are redistributed independently on rescaling, so a block may
     * land here while the transaction it was prepared in, or the record that it is committed, was
     * kept by another old subtask. Every subtask therefore sees every restored lane state and takes
     * from it: the committed keys and the (part of each) prepared transaction that hold its own
     * blocks, and commits those transactions again itself (a commit by producer id and epoch is
     * idempotent: several subtasks may commit the same transaction, and none writes a block that is
     * in one again). A transaction the broker aborted meanwhile is re-written by each subtask for the
     * blocks it holds, so still once. Besides, each old lane state has one owner, old subtask index
     * modulo the new parallelism (the same subtask when the parallelism did not change): it commits
     * every transaction of that state even if it holds none of its blocks (none stays open to stall
     * read_committed consumers) and aborts what that old subtask's failed attempt left open, above
     * the state's counter, so never a transaction still to be committed; no two subtasks probe the
     * same ids and new transactional ids (new generation) never collide with restored ones.
     */
    @Override
    public void restore(Collection<StagedBlock> pending) {
        long now = System.currentTimeMillis();
        Map<String, Set<String>> held = new HashMap<>();
        for (StagedBlock b : pending) {
            held.computeIfAbsent(b.destinationId(), k -> new HashSet<>()).add(b.deliveryKey());
        }
        for (LaneState state : restoredStates) {
            Set<String> mine = held.getOrDefault(state.destinationId(), Set.of());
            boolean owner = ownerOf(state.prefix(), context.parallelism()) == context.subtaskIndex();
            if (owner || state.concerns(mine)) {
                lane(state.destinationId(), endpoints.get(state.destinationId())).restoreState(state, owner, mine, now);
            }
        }
        restoredStates = List.of();
        for (StagedBlock b : pending) {
            lane(b.destinationId(), endpoints.get(b.destinationId())).restoreBlock(b, now);
        }
        for (Lane lane : lanes.values()) {
            lane.recommitRestored();
        }
    }

    /**
     * The new subtask responsible for a restored lane state: the old subtask index (from the
     * transactional-id prefix) modulo the new parallelism.
     */
    static int ownerOf(String prefix, int parallelism) {
        int subtask = subtaskOf(prefix);
        // Not our format: any fixed choice.
        return subtask >= 0 ? subtask % parallelism : Math.floorMod(prefix.hashCode(), parallelism);
    }

    /** The subtask index in a transactional-id prefix {@code ...-<subtask>-g<generation>}, or -1. */
    static int subtaskOf(String prefix) {
        int g = prefix.lastIndexOf("-g");
        int s = g > 0 ? prefix.lastIndexOf('-', g - 1) : -1;
        try {
            return Integer.parseInt(prefix.substring(s + 1, g));
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** How many subtasks wrote to this destination in the restored checkpoint (0 on a fresh start). */
    private int restoredParallelism(String destinationId) {
        int max = -1;
        for (LaneState state : restoredStates) {
            if (state.destinationId().equals(destinationId)) {
                max = Math.max(max, subtaskOf(state.prefix()));
            }
        }
        return max + 1;
    }

    @Override
    public void stage(long checkpointId, Collection<StagedBlock> covered) {
        for (StagedBlock b : covered) {
            lane(b.destinationId(), endpoints.get(b.destinationId())).add(b, checkpointId);
        }
    }

    @Override
    public List<byte[]> snapshotState(long checkpointId) {
        long now = System.currentTimeMillis();
        List<Future<?>> waits = new ArrayList<>();
        for (Lane lane : lanes.values()) {
            Future<?> f = lane.beforeSnapshot(now);
            if (f != null) {
                waits.add(f);
            }
        }
        long wait = Math.min(STAGE_WAIT.toMillis(), delivery.requestTimeout().toMillis());
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait);
        for (Future<?> f : waits) {
            try {
                f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // Not ready in time: the lane's next snapshot claims it (or its failure).
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Exception e) {
                // The attempt reports its own failure through its result.
            }
        }
        List<byte[]> states = new ArrayList<>(lanes.size());
        for (Lane lane : lanes.values()) {
            states.add(lane.afterSnapshot(checkpointId).toBytes());
        }
        return states;
    }

    @Override
    public void checkpointCompleted(long checkpointId) {
        long now = System.currentTimeMillis();
        for (Lane lane : lanes.values()) {
            lane.checkpointCompleted(checkpointId, now);
        }
    }

    @Override
    public CompletableFuture<Outcome> deliver(StagedBlock block, Endpoint endpoint) {
        KafkaEndpoint kafka = (KafkaEndpoint) endpoint;
        return lane(block.destinationId(), kafka).deliver(block);
    }

    @Override
    public boolean abandon(StagedBlock block) {
        Lane lane = lanes.get(block.destinationId());
        return lane == null || lane.abandon(block);
    }

    private Lane lane(String destinationId, KafkaEndpoint endpoint) {
        Lane lane = lanes.get(destinationId);
        if (lane == null) {
            String hash = hash(destinationId);
            String base = "edge-streaming-" + context.jobId() + "-" + hash + "-";
            String generation = "-g" + (context.restoredCheckpointId() + 1);
            String prefix = base + context.subtaskIndex() + generation;
            // An earlier attempt that restored the same checkpoint (same generation) and failed before
            // completing one may have run at a higher parallelism and left transactions open under
            // subtask indices that no longer exist. Taken as the restored checkpoint's parallelism for
            // this destination: this subtask probes its share of the vacated indices (i + k * parallelism
            // below it) as it does its own. Only when scaling down, so a plain restart costs nothing more.
            List<String> vacated = new ArrayList<>();
            int before = Math.min(restoredParallelism(destinationId), context.maxParallelism());
            for (long j = (long) context.subtaskIndex() + context.parallelism(); j < before; j += context.parallelism()) {
                vacated.add(base + j + generation);
            }
            lane = new Lane(destinationId, endpoint, delivery, prefix, vacated,
                    "edge-streaming-" + hash + "-" + context.subtaskIndex());
            lanes.put(destinationId, lane);
            if (endpoint != null) {
                endpoints.putIfAbsent(destinationId, endpoint);
            } else {
                LOG.warn("Kafka destination {} is in the restored state but not in the configuration", destinationId);
            }
        } else if (endpoint != null) {
            lane.setEndpoint(endpoint);
        }
        return lane;
    }

    static String hash(String destinationId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(destinationId.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        for (Lane lane : lanes.values()) {
            lane.close();
        }
        lanes.clear();
    }
}
