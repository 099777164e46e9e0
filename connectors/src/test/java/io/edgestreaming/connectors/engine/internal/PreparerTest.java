package io.edgestreaming.connectors.engine.internal;

import static io.edgestreaming.connectors.Fixtures.block;
import static io.edgestreaming.connectors.Fixtures.http;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.Endpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.streaming.runtime.tasks.StreamTaskActionExecutor;
import org.apache.flink.streaming.runtime.tasks.mailbox.MailboxExecutorImpl;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailboxImpl;
import org.junit.jupiter.api.Test;

/** Preparations that finish out of order (two threads here; the operator uses one) are applied in arrival order. */
class PreparerTest {

    @Test
    void aLaterBlockPreparedFirstWaitsForTheEarlierOne() throws Exception {
        TaskMailboxImpl mailbox = new TaskMailboxImpl(Thread.currentThread());
        MailboxExecutorImpl executor = new MailboxExecutorImpl(mailbox, 0, StreamTaskActionExecutor.IMMEDIATE);
        CountDownLatch slow = new CountDownLatch(1);
        Transport transport = new Transport() {
            @Override
            public Prepared prepare(Block block, Endpoint endpoint) throws Exception {
                if (block.sequence() == 0) {
                    assertThat(slow.await(10, TimeUnit.SECONDS)).isTrue();
                }
                return new Prepared(block.records(), block.blockId(), Prepared.IDENTITY);
            }

            @Override
            public CompletableFuture<Outcome> deliver(StagedBlock block, Endpoint endpoint) {
                throw new UnsupportedOperationException();
            }
        };
        List<Long> applied = new ArrayList<>();
        Endpoint endpoint = http(URI.create("http://unused.invalid/"));
        try (Preparer preparer = new Preparer("prepare-test", 2, 3, transport, executor,
                (b, e, prepared, failure) -> applied.add(b.sequence()))) {
            preparer.submit(block(1, "example.com", 0, 1), endpoint);
            preparer.submit(block(1, "example.com", 1, 1), endpoint);
            mailbox.take(0).run(); // block 1's completion: block 0 is still being prepared
            assertThat(applied).isEmpty();
            assertThat(preparer.inFlight()).isEqualTo(2);
            slow.countDown();
            mailbox.take(0).run();
            assertThat(applied).containsExactly(0L, 1L);
            assertThat(preparer.inFlight()).isZero();
        }
    }
}
