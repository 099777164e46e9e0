package io.edgestreaming.job;

import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;

/** The batching key as jobs before lanes had it: (stream, host or shared key), every record keyed by hash alone. */
final class KeyWithoutLane implements KeySelector<RoutedRecord, Tuple2<Long, String>> {
    private static final long serialVersionUID = 1L;

    @Override
    public Tuple2<Long, String> getKey(RoutedRecord r) {
        return BatchingKeys.key(r.streamId(), r.domain(), r.bucket());
    }
}
