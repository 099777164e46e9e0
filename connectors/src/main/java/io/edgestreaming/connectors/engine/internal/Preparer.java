package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.config.Endpoint;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.Transport;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link Transport#prepare} (gzip, SHA-256: 10-30 ms for a block of a few MB) on threads of the
 * operator's own, so the chained batcher and delivery task thread does not stop for it. Results are
 * applied on the task thread only, strictly in the order the blocks arrived (Kafka writes the blocks of
 * one key in order), through a mailbox mail or when the task thread needs them: at most
 * {@code maxInFlight} blocks wait (memory stays bounded) and {@link #applyAll} runs before every
 * snapshot, so a checkpoint holds exactly the blocks it held when prepare ran inside processElement.
 * Blocks not applied when the operator closes are dropped: the last checkpoint does not hold them, so
 * they are replayed, like any block that arrived after it.
 */
final class Preparer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Preparer.class);
    /** One block prepared while the next waits: the task thread rarely waits, and little is held. */
    static final int MAX_IN_FLIGHT = 2;

    /** What processElement did after prepare; {@code failure} (then {@code prepared} is null) if prepare threw. */
    interface Apply {
        void apply(Block block, Endpoint endpoint, Prepared prepared, Exception failure) throws Exception;
    }

    private final Transport transport;
    private final MailboxExecutor mailbox;
    private final Apply apply;
    private final int maxInFlight;
    /** Not static: a JVM-wide pool would keep a finished job's class loader alive. */
    private final ExecutorService executor;
    /** Handed over, not yet applied, in arrival order; task thread only. */
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    /** At most one completion mail queued: a mail applies every completed head. */
    private final AtomicBoolean mailQueued = new AtomicBoolean();

    Preparer(String threadName, int threads, int maxInFlight, Transport transport, MailboxExecutor mailbox, Apply apply) {
        this.transport = transport;
        this.mailbox = mailbox;
        this.apply = apply;
        this.maxInFlight = maxInFlight;
        AtomicInteger n = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, threads == 1 ? threadName : threadName + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Hands a block over (task thread); first waits for the oldest while {@code maxInFlight} are in flight. */
    void submit(Block block, Endpoint endpoint) throws Exception {
        applyCompleted();
        while (queue.size() >= maxInFlight) {
            applyHead();
        }
        Job job = new Job(block, endpoint);
        queue.add(job);
        executor.execute(job);
    }

    /** Applies every block handed over, waiting for their preparation (task thread). */
    void applyAll() throws Exception {
        while (!queue.isEmpty()) {
            applyHead();
        }
    }

    /** Blocks handed over and not yet applied. */
    int inFlight() {
        return queue.size();
    }

    /** Whether a completion mail is queued (tests count the mails of the engine). */
    boolean mailQueued() {
        return mailQueued.get();
    }

    private void applyCompleted() throws Exception {
        while (!queue.isEmpty() && queue.peek().isDone()) {
            applyHead();
        }
    }

    /**
     * Polled before it is applied: a mail that runs while apply yields (the memory budget's back-pressure)
     * applies only later blocks, after this one's state changes: the order holds.
     */
    private void applyHead() throws Exception {
        Job job = queue.poll();
        Prepared prepared;
        try {
            prepared = job.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception failure) {
                apply.apply(job.block, job.endpoint, null, failure);
                return;
            }
            throw e; // an Error, as when prepare ran on the task thread
        }
        apply.apply(job.block, job.endpoint, prepared, null);
    }

    @Override
    public void close() {
        executor.shutdownNow();
        queue.clear();
    }

    private final class Job extends FutureTask<Prepared> {
        final Block block;
        final Endpoint endpoint;

        Job(Block block, Endpoint endpoint) {
            super(() -> transport.prepare(block, endpoint));
            this.block = block;
            this.endpoint = endpoint;
        }

        @Override
        protected void done() {
            if (isCancelled() || !mailQueued.compareAndSet(false, true)) {
                return;
            }
            try {
                mailbox.execute(() -> {
                    mailQueued.set(false);
                    applyCompleted();
                }, "prepared blocks");
            } catch (RejectedExecutionException closing) {
                LOG.debug("Prepared block {} dropped: task closing", block.blockId());
            }
        }
    }
}
