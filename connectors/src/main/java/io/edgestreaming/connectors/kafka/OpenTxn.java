package io.edgestreaming.connectors.kafka;

import io.edgestreaming.connectors.engine.StagedBlock;
import java.util.ArrayList;
import java.util.List;

/** The open transaction, as the task thread knows it (the writer thread appends to {@code writer}). */
final class OpenTxn {
    final TransactionWriter writer;
    final List<StagedBlock> blocks = new ArrayList<>();

    OpenTxn(TransactionWriter writer) {
        this.writer = writer;
    }
}
