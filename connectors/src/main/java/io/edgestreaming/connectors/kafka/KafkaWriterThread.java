package io.edgestreaming.connectors.kafka;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One destination's thread for every blocking Kafka call, so a dead or slow cluster never holds the task
 * thread nor another destination. It ends after {@link #idleThread} without work and the idle producers
 * close with it, so a destination without traffic holds no thread, connection or producer buffer.
 */
final class KafkaWriterThread {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaWriterThread.class);
    /** The writer's thread ends after this long without work and starts again with the next (tests shorten it). */
    static volatile Duration idleThread = Duration.ofMinutes(1);

    private final String destinationId;
    private final ScheduledThreadPoolExecutor executor;

    KafkaWriterThread(String destinationId, String clientId, ProducerPool pool) {
        this.destinationId = destinationId;
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(() -> {
                try {
                    r.run();
                } finally {
                    // The thread ends when the destination has had no work for idleThread: so do its idle
                    // producers (network thread, connections, buffer). A later block takes a new one.
                    pool.closeIdle();
                }
            }, "kafka-delivery-" + clientId);
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        // A thread exits only while nothing is queued (delayed retries included), so idle destinations cost none.
        executor.setKeepAliveTime(idleThread.toMillis(), TimeUnit.MILLISECONDS);
        executor.allowCoreThreadTimeOut(true);
        this.executor = executor;
    }

    /** Runs {@code task} on the thread after {@code delayMillis}; dropped once closed. */
    void submit(Runnable task, long delayMillis) {
        try {
            executor.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("Kafka {}: writer closed, task dropped", destinationId);
        }
    }

    /** Takes no more tasks; with {@code settling}, lets queued ones run for at most {@code graceMillis}; then interrupts. */
    void close(boolean settling, long graceMillis) {
        executor.shutdown();
        if (settling) {
            try {
                executor.awaitTermination(graceMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        executor.shutdownNow();
    }
}
