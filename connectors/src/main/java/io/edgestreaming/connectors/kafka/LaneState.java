package io.edgestreaming.connectors.kafka;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What one destination lane of one subtask keeps in a checkpoint: the transactional-id prefix and
 * counter in use (so a restore can abort what the failed attempt left open), the prefixes still to be
 * probed for lingering transactions, every transaction prepared for a checkpoint and not yet known to
 * be committed (with producer id and epoch, to commit it after a restore), and the blocks whose
 * transaction committed but which the engine may still hold.
 */
record LaneState(
        String destinationId,
        String prefix,
        long counter,
        List<Probe> probes,
        List<PreparedTxn> prepared,
        List<String> committedKeys) {
    private static final int VERSION = 1;

    /** Transactional ids {@code prefix-from}, {@code prefix-(from+1)}, ... may hold open transactions. */
    record Probe(String prefix, long from) {}

    record PreparedTxn(long checkpointId, String transactionalId, long producerId, short epoch, List<String> keys) {}

    /** Whether this state knows anything about one of the given delivery keys. */
    boolean concerns(java.util.Set<String> keys) {
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
            out.writeUTF(prefix);
            out.writeLong(counter);
            out.writeInt(probes.size());
            for (Probe p : probes) {
                out.writeUTF(p.prefix());
                out.writeLong(p.from());
            }
            out.writeInt(prepared.size());
            for (PreparedTxn t : prepared) {
                out.writeLong(t.checkpointId());
                out.writeUTF(t.transactionalId());
                out.writeLong(t.producerId());
                out.writeShort(t.epoch());
                writeKeys(out, t.keys());
            }
            writeKeys(out, committedKeys);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static LaneState fromBytes(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            int version = in.readInt();
            if (version != VERSION) {
                throw new IllegalStateException("unknown Kafka lane state version " + version);
            }
            String destinationId = in.readUTF();
            String prefix = in.readUTF();
            long counter = in.readLong();
            int n = in.readInt();
            List<Probe> probes = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                probes.add(new Probe(in.readUTF(), in.readLong()));
            }
            n = in.readInt();
            List<PreparedTxn> prepared = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                prepared.add(new PreparedTxn(in.readLong(), in.readUTF(), in.readLong(), in.readShort(), readKeys(in)));
            }
            return new LaneState(destinationId, prefix, counter, probes, prepared, readKeys(in));
        } catch (IOException e) {
            throw new IllegalStateException("corrupt Kafka lane state", e);
        }
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
