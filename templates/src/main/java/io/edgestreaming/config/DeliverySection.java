package io.edgestreaming.config;

import java.time.Duration;

/** {@code delivery}: timeouts, retries, the pending limits and memory budget, and the spool. */
final class DeliverySection {
    /** The smallest delivery.memory_budget: below it the spool would be busier than the endpoints. */
    static final long MIN_MEMORY_BUDGET = 1L << 20;

    private DeliverySection() {}

    static DeliveryConfig read(Section s) {
        Duration requestTimeout = s.duration("request_timeout", Duration.ofMillis(100), Duration.ofMinutes(10),
                Duration.ofSeconds(20));
        Duration initialBackoff = s.duration("initial_backoff", Duration.ofMillis(1), Duration.ofHours(1),
                Duration.ofSeconds(1));
        Duration maxBackoff = s.duration("max_backoff", Duration.ofMillis(1), Duration.ofHours(24),
                Duration.ofMinutes(5));
        Duration maxRetry = s.duration("max_retry_duration", Duration.ofSeconds(1), Duration.ofDays(30),
                Duration.ofHours(24));
        Long maxBlocks = s.integer("max_pending_blocks_per_destination", 1, 100_000_000, 10_000L);
        Long maxBytes = s.integer("max_pending_bytes_per_destination", 1, Long.MAX_VALUE, 1L << 30);
        Long memoryBudget = s.integer("memory_budget", MIN_MEMORY_BUDGET, Long.MAX_VALUE, DeliveryConfig.DERIVED_MEMORY_BUDGET);
        String spoolPath = null;
        References.Text spool = s.text("spool_path", false, 4096);
        if (spool != null) {
            String bad = DeadLetterSection.storePathProblem(spool);
            if (bad != null) {
                s.problem("spool_path", bad);
            } else {
                spoolPath = spool.value();
            }
        }
        if (initialBackoff != null && maxBackoff != null && maxBackoff.compareTo(initialBackoff) < 0) {
            s.problem("max_backoff", "must be at least initial_backoff (" + Durations.format(initialBackoff)
                    + "), was " + Durations.format(maxBackoff));
        }
        if (requestTimeout != null && maxRetry != null && maxRetry.compareTo(requestTimeout) < 0) {
            s.problem("max_retry_duration", "must be at least request_timeout (" + Durations.format(requestTimeout)
                    + "), was " + Durations.format(maxRetry));
        }
        s.finish();
        if (requestTimeout == null || initialBackoff == null || maxBackoff == null || maxRetry == null
                || maxBlocks == null || maxBytes == null) {
            return null;
        }
        return new DeliveryConfig(requestTimeout, initialBackoff, maxBackoff, maxRetry, maxBlocks.intValue(), maxBytes,
                memoryBudget == null ? DeliveryConfig.DERIVED_MEMORY_BUDGET : memoryBudget, spoolPath);
    }
}
