package io.edgestreaming.job;

import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.DeadLetterDelivery;
import io.edgestreaming.connectors.kafka.DeadLetterMessages;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Cuts dead-lettered events into blocks for the write-ahead delivery engine ({@link DeadLetterDelivery}): at
 * every checkpoint barrier ({@link #prepareSnapshotPreBarrier}, so a snapshot never holds an open block and each
 * checkpoint's dead letters are committed right after it, as with the old sink) and at
 * {@link DeadLetterDelivery#MAX_BLOCK_BYTES}. Events are framed by length ({@link DeadLetterMessages}): raw
 * events may hold '\n'.
 *
 * <p>Block ids {@code 0/dead-letters-<lane>/<sequence>}: the lane is this subtask's index, the sequence continues
 * after the highest any subtask had reached in the restored checkpoint (union state, one number per subtask), so
 * ids stay unique across rescaling; one is reused only after a restore, for a block the failed attempt could not
 * have committed (its checkpoint did not complete), and the engine keys blocks by a digest of their bytes too.
 *
 * <p>It keeps the uid of the old {@code KafkaSink}'s writer: a savepoint of a job that wrote dead letters with
 * that sink restores (allowNonRestoredState is false); the writer's state is dropped here (its transactions were
 * committed by the stop-with-savepoint that took it).
 */
final class DeadLetterBlocker extends AbstractStreamOperator<Block> implements OneInputStreamOperator<DeadLetterEvent, Block> {
    private static final long serialVersionUID = 1L;
    /** State of Flink's SinkWriterOperator (the old dead-letter sink) under this operator's uid. */
    static final String LEGACY_WRITER_STATE = "writer_raw_states";
    /** Its Sink V1 committables, registered by a writer that had itself restored (cleared by it, FLINK-33437). */
    static final String LEGACY_COMMITTER_STATE = "streaming_committer_raw_states";

    private transient ListState<Long> sequences;
    private transient long nextSequence;
    private transient int lane;
    private transient ByteArrayOutputStream buffer;
    private transient DataOutputStream out;
    private transient int events;
    /** As the batcher's: every block cut is delivered, dead-lettered or pending (the benchmarks settle on it). */
    private transient Counter blocksCut;

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        sequences = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("dead-letter-block-sequences", LongSerializer.INSTANCE));
        long next = 0;
        for (Long s : sequences.get()) {
            next = Math.max(next, s);
        }
        nextSequence = next;
        lane = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        blocksCut = getMetricGroup().counter("blocksCut");
        if (context.isRestored()) {
            LegacySinkState.drop(context, LEGACY_WRITER_STATE, LEGACY_COMMITTER_STATE);
        }
    }

    @Override
    public void processElement(StreamRecord<DeadLetterEvent> element) throws Exception {
        DeadLetterEvent e = element.getValue();
        DeadLetterMessages.Event event = new DeadLetterMessages.Event(e.reason(), e.detail(), e.topic(), e.partition(),
                e.offset(), e.value());
        if (buffer != null && buffer.size() + DeadLetterMessages.frameBytes(event) > DeadLetterDelivery.MAX_BLOCK_BYTES) {
            cut();
        }
        if (buffer == null) {
            buffer = new ByteArrayOutputStream();
            out = new DataOutputStream(buffer);
            DeadLetterMessages.writeHeader(out);
        }
        DeadLetterMessages.writeFrame(out, event);
        events++;
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        cut();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        sequences.update(java.util.List.of(nextSequence));
    }

    @Override
    public void finish() throws Exception {
        cut();
        super.finish();
    }

    private void cut() {
        if (buffer == null) {
            return;
        }
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        output.collect(new StreamRecord<>(new Block(DeadLetterDelivery.STREAM_ID, DeadLetterDelivery.DATA_SOURCE,
                DeadLetterDelivery.domain(lane), nextSequence++, events, buffer.toByteArray())));
        blocksCut.inc();
        buffer = null;
        out = null;
        events = 0;
    }
}
