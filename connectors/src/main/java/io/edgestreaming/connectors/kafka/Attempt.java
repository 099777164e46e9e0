package io.edgestreaming.connectors.kafka;

import io.edgestreaming.connectors.engine.StagedBlock;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A transaction being written on the writer thread (a batch, or a sealed open one) and its result. */
final class Attempt {
    final int slot;
    final List<StagedBlock> blocks;
    final CompletableFuture<TransactionWriter.Result> result = new CompletableFuture<>();

    Attempt(int slot, List<StagedBlock> blocks) {
        this.slot = slot;
        this.blocks = blocks;
    }
}
