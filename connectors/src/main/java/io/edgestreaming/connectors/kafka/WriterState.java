package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.KafkaEndpoint;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What one destination writer of one subtask keeps in a checkpoint: its transactional-id pool, every
 * transaction prepared for a checkpoint and not yet known to be committed (id, producer id, epoch, the
 * offset of one of its messages to read its fate back, and its blocks), the blocks whose transaction
 * committed but which the engine may still hold, and the destination's connection settings without
 * secrets (to resolve a transaction after its stream left the configuration).
 *
 * <p>Version 1 (before the id pool) is still read: its open transactions are resolved, and the ids
 * its failed attempt may have used are probed from {@code Probe.from} on.
 */
record WriterState(
        String destinationId,
        Connection connection,
        String poolPrefix,
        int subtask,
        List<PreparedTxn> prepared,
        List<String> committedKeys,
        List<Probe> legacyProbes) {
    private static final int VERSION_1 = 1;
    private static final int VERSION = 2;

    /** One message of a transaction: committed or aborted with it, readable back once it ended. */
    record Anchor(String topic, int partition, long offset) {}

    record PreparedTxn(long checkpointId, String transactionalId, long producerId, short epoch, Anchor anchor, List<String> keys) {}

    /** Pre-pool ids {@code prefix-from}, {@code prefix-(from+1)}, ... may hold open transactions. */
    record Probe(String prefix, long from) {}

    /** A Kafka endpoint without its SASL password. */
    record Connection(String bootstrapServers, String topic, boolean useTls, String caFile, String saslMechanism,
            String saslUsername, long transactionTimeoutMillis) {
        static Connection of(KafkaEndpoint e) {
            return new Connection(e.bootstrapServers(), e.kafkaTopic(), e.useTls(), e.caFile() == null ? "" : e.caFile(),
                    e.sasl() == null ? "" : e.sasl().mechanism(), e.sasl() == null ? "" : e.sasl().username(),
                    KafkaClientConfig.transactionTimeout(e).toMillis());
        }

        /**
         * The endpoint to reach the cluster again, the password taken from a configured endpoint of the
         * same cluster and user; null when SASL is needed and no such endpoint exists.
         */
        KafkaEndpoint toEndpoint(Iterable<KafkaEndpoint> configured) {
            KafkaEndpoint.Sasl sasl = null;
            if (!saslMechanism.isEmpty()) {
                for (KafkaEndpoint c : configured) {
                    if (c.sasl() != null && c.bootstrapServers().equals(bootstrapServers) && c.sasl().username().equals(saslUsername)
                            && c.sasl().mechanism().equals(saslMechanism)) {
                        sasl = c.sasl();
                    }
                }
                if (sasl == null) {
                    return null;
                }
            }
            // Extra client properties (the dead-letter topic's: the source's security settings) are secrets and not
            // kept either: those of a configured endpoint of the same cluster.
            java.util.Map<String, io.edgestreaming.config.Secret> properties = java.util.Map.of();
            for (KafkaEndpoint c : configured) {
                if (!c.properties().isEmpty() && c.bootstrapServers().equals(bootstrapServers)) {
                    properties = c.properties();
                }
            }
            return new KafkaEndpoint(bootstrapServers, topic, useTls, sasl, caFile.isEmpty() ? null : caFile,
                    KafkaEndpoint.MessageFormat.RECORD, "none", Duration.ofMillis(transactionTimeoutMillis), properties);
        }
    }

    /** Whether this state knows anything about one of the given delivery keys. */
    boolean concerns(Set<String> keys) {
        if (keys.isEmpty()) {
            return false;
        }
        for (PreparedTxn t : prepared) {
            for (String k : t.keys()) {
                if (keys.contains(k)) {
                    return true;
                }
            }
        }
        for (String k : committedKeys) {
            if (keys.contains(k)) {
                return true;
            }
        }
        return false;
    }

    byte[] toBytes() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(VERSION);
            out.writeUTF(destinationId);
            out.writeBoolean(connection != null);
            if (connection != null) {
                out.writeUTF(connection.bootstrapServers());
                out.writeUTF(connection.topic());
                out.writeBoolean(connection.useTls());
                out.writeUTF(connection.caFile());
                out.writeUTF(connection.saslMechanism());
                out.writeUTF(connection.saslUsername());
                out.writeLong(connection.transactionTimeoutMillis());
            }
            out.writeUTF(poolPrefix);
            out.writeInt(subtask);
            out.writeInt(prepared.size());
            for (PreparedTxn t : prepared) {
                out.writeLong(t.checkpointId());
                out.writeUTF(t.transactionalId());
                out.writeLong(t.producerId());
                out.writeShort(t.epoch());
                out.writeBoolean(t.anchor() != null);
                if (t.anchor() != null) {
                    out.writeUTF(t.anchor().topic());
                    out.writeInt(t.anchor().partition());
                    out.writeLong(t.anchor().offset());
                }
                writeKeys(out, t.keys());
            }
            writeKeys(out, committedKeys);
            out.writeInt(legacyProbes.size());
            for (Probe p : legacyProbes) {
                out.writeUTF(p.prefix());
                out.writeLong(p.from());
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static WriterState fromBytes(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            int version = in.readInt();
            if (version == VERSION_1) {
                return fromVersion1(in);
            }
            if (version != VERSION) {
                throw new IllegalStateException("unknown Kafka writer state version " + version);
            }
            String destinationId = in.readUTF();
            Connection connection = in.readBoolean() ? new Connection(in.readUTF(), in.readUTF(), in.readBoolean(), in.readUTF(),
                    in.readUTF(), in.readUTF(), in.readLong()) : null;
            String prefix = in.readUTF();
            int subtask = in.readInt();
            int n = in.readInt();
            List<PreparedTxn> prepared = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long checkpointId = in.readLong();
                String id = in.readUTF();
                long producerId = in.readLong();
                short epoch = in.readShort();
                Anchor anchor = in.readBoolean() ? new Anchor(in.readUTF(), in.readInt(), in.readLong()) : null;
                prepared.add(new PreparedTxn(checkpointId, id, producerId, epoch, anchor, readKeys(in)));
            }
            List<String> committed = readKeys(in);
            n = in.readInt();
            List<Probe> probes = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                probes.add(new Probe(in.readUTF(), in.readLong()));
            }
            return new WriterState(destinationId, connection, prefix, subtask, prepared, committed, probes);
        } catch (IOException e) {
            throw new IllegalStateException("corrupt Kafka writer state", e);
        }
    }

    /** Pre-pool state: one id per checkpoint ({@code prefix-counter}), no anchors. */
    private static WriterState fromVersion1(DataInputStream in) throws IOException {
        String destinationId = in.readUTF();
        String prefix = in.readUTF();
        long counter = in.readLong();
        int n = in.readInt();
        List<Probe> probes = new ArrayList<>(n + 1);
        probes.add(new Probe(prefix, counter));
        for (int i = 0; i < n; i++) {
            probes.add(new Probe(in.readUTF(), in.readLong()));
        }
        n = in.readInt();
        List<PreparedTxn> prepared = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            prepared.add(new PreparedTxn(in.readLong(), in.readUTF(), in.readLong(), in.readShort(), null, readKeys(in)));
        }
        List<String> committed = readKeys(in);
        return new WriterState(destinationId, null, prefix, TransactionalIds.legacySubtaskOf(prefix), prepared, committed, probes);
    }

    private static void writeKeys(DataOutputStream out, List<String> keys) throws IOException {
        out.writeInt(keys.size());
        for (String k : keys) {
            out.writeUTF(k);
        }
    }

    private static List<String> readKeys(DataInputStream in) throws IOException {
        int n = in.readInt();
        List<String> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            keys.add(in.readUTF());
        }
        return keys;
    }

}
