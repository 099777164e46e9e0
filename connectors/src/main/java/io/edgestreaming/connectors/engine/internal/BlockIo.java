package io.edgestreaming.connectors.engine.internal;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's blocking I/O (spool writes, reads and deletes, dead-letter writes) on a few threads of
 * its own, so the task thread never waits for a file system. Each call's result comes back as a
 * mailbox mail, like a delivery outcome: the engine's state is only touched on the task thread.
 */
final class BlockIo implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BlockIo.class);
    /** Enough for a slow object store's latency; few, since 2 slots x 3 operators share the cores. */
    static final int THREADS = 4;

    interface Call<T> {
        T call() throws Exception;
    }

    interface Done<T> {
        void done(T result, Throwable error) throws Exception;
    }

    private final ScheduledThreadPoolExecutor executor;
    private final MailboxExecutor mailbox;
    /** Calls submitted whose mail has not run yet; task thread only. */
    private int outstanding;

    BlockIo(String name, MailboxExecutor mailbox) {
        this.mailbox = mailbox;
        AtomicInteger n = new AtomicInteger();
        this.executor = new ScheduledThreadPoolExecutor(THREADS, r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
    }

    /** Runs {@code call} on an I/O thread after {@code delayMillis}; {@code done} then runs on the task thread. */
    <T> void submit(String what, long delayMillis, Call<T> call, Done<T> done) {
        Runnable task = () -> {
            T result = null;
            Throwable error = null;
            try {
                result = call.call();
            } catch (Throwable t) {
                error = t;
            }
            T r = result;
            Throwable e = error;
            try {
                mailbox.execute(() -> {
                    outstanding--;
                    done.done(r, e);
                }, what);
            } catch (RejectedExecutionException closing) {
                // The task is closing: state is in the last snapshot; the restored job redoes what is needed.
                LOG.debug("Outcome of {} dropped: task closing", what);
            }
        };
        try {
            if (delayMillis > 0) {
                executor.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
            } else {
                executor.execute(task);
            }
            outstanding++;
        } catch (RejectedExecutionException closed) {
            LOG.debug("{} not started: closed", what);
        }
    }

    int outstanding() {
        return outstanding;
    }

    /** Lets submitted calls finish (at most {@code timeoutMillis}), then stops. */
    void finish(long timeoutMillis) throws InterruptedException {
        executor.shutdown();
        if (!executor.awaitTermination(timeoutMillis, TimeUnit.MILLISECONDS)) {
            executor.shutdownNow();
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
