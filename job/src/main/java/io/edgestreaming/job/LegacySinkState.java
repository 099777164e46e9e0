package io.edgestreaming.job;

import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Passes its input through and holds the uid of an operator that is gone, so that a savepoint with that
 * operator's state still restores (allowNonRestoredState is false), and drops that state: here the committer of
 * the old dead-letter {@code KafkaSink} ({@code Sink Committer: <uid>}). Its committables need no commit: the
 * Kubernetes operator upgrades with stop-with-savepoint, whose completion commits them before the job ends.
 */
final class LegacySinkState<T> extends AbstractStreamOperator<T> implements OneInputStreamOperator<T, T> {
    private static final long serialVersionUID = 1L;
    /** The uid Flink's SinkTransformationTranslator gives a Sink V2's committer. */
    static final String COMMITTER_UID_FORMAT = "Sink Committer: %s";

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        if (context.isRestored()) {
            drop(context, DeadLetterBlocker.LEGACY_COMMITTER_STATE);
        }
    }

    @Override
    public void processElement(StreamRecord<T> element) {
        output.collect(element);
    }

    /** Empties operator list states of byte arrays (how Flink's sink operators keep theirs). */
    static void drop(StateInitializationContext context, String... names) throws Exception {
        for (String name : names) {
            context.getOperatorStateStore()
                    .getListState(new ListStateDescriptor<>(name, BytePrimitiveArraySerializer.INSTANCE)).clear();
        }
    }
}
