package io.edgestreaming.connectors.engine.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * One subtask's transport state for one checkpoint, possibly not known yet when the synchronous part
 * of the checkpoint ends (a Kafka transaction still flushing its tail). Flink copies operator list
 * state in the synchronous part and serializes it in the asynchronous part; this element is immutable
 * for the copy and its {@link Serializer} waits for the value only when it writes it, so the task thread
 * never waits for a destination and the checkpoint cannot complete before the value is in it.
 */
final class DeferredTransportState {
    /** A transport bounds its own wait; this only keeps a broken one from holding a checkpoint forever. */
    static final long MAX_WAIT_MILLIS = TimeUnit.MINUTES.toMillis(5);

    private final CompletableFuture<List<byte[]>> value;

    DeferredTransportState(CompletableFuture<List<byte[]>> value) {
        this.value = value;
    }

    static DeferredTransportState of(List<byte[]> value) {
        return new DeferredTransportState(CompletableFuture.completedFuture(value));
    }

    /** The value; blocks until the transport produced it (only ever in the asynchronous part, or restored). */
    List<byte[]> get() throws IOException {
        try {
            return value.get(MAX_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the transport's checkpoint state", e);
        } catch (ExecutionException e) {
            throw new IOException("the transport's checkpoint state failed", e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("the transport's checkpoint state was not ready within " + MAX_WAIT_MILLIS + " ms", e);
        }
    }

    /** A count, then each element as length-prefixed bytes. */
    static final class Serializer extends TypeSerializerSingleton<DeferredTransportState> {
        private static final long serialVersionUID = 1L;
        static final Serializer INSTANCE = new Serializer();

        @Override
        public boolean isImmutableType() {
            return true; // copied by reference in the synchronous part: that is the point
        }

        @Override
        public DeferredTransportState createInstance() {
            return of(List.of());
        }

        @Override
        public DeferredTransportState copy(DeferredTransportState from) {
            return from;
        }

        @Override
        public DeferredTransportState copy(DeferredTransportState from, DeferredTransportState reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(DeferredTransportState state, DataOutputView out) throws IOException {
            List<byte[]> elements = state.get();
            out.writeInt(elements.size());
            for (byte[] e : elements) {
                out.writeInt(e.length);
                out.write(e);
            }
        }

        @Override
        public DeferredTransportState deserialize(DataInputView in) throws IOException {
            int n = in.readInt();
            List<byte[]> elements = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                byte[] e = new byte[in.readInt()];
                in.readFully(e);
                elements.add(e);
            }
            return of(elements);
        }

        @Override
        public DeferredTransportState deserialize(DeferredTransportState reuse, DataInputView in) throws IOException {
            return deserialize(in);
        }

        @Override
        public void copy(DataInputView in, DataOutputView out) throws IOException {
            int n = in.readInt();
            out.writeInt(n);
            for (int i = 0; i < n; i++) {
                int length = in.readInt();
                out.writeInt(length);
                out.write(in, length);
            }
        }

        @Override
        public TypeSerializerSnapshot<DeferredTransportState> snapshotConfiguration() {
            return new Snapshot();
        }

        public static final class Snapshot extends SimpleTypeSerializerSnapshot<DeferredTransportState> {
            public Snapshot() {
                super(() -> INSTANCE);
            }
        }
    }
}
