package io.edgestreaming.config;

import java.io.Serializable;
import java.time.Duration;

/**
 * Delivery rules shared by every endpoint type.
 *
 * @param requestTimeout hard timeout of one delivery attempt (Azion: 20 s)
 * @param initialBackoff first retry delay; doubles per attempt, with jitter
 * @param maxBackoff cap of the retry delay
 * @param maxRetryDuration a block still undelivered this long after its first attempt is dead-lettered
 * @param maxPendingBlocksPerDestination past this many pending blocks for one destination, new blocks
 *     are dead-lettered with that reason instead of growing state without bound
 * @param maxPendingBytesPerDestination the same bound in payload bytes
 */
public record DeliveryConfig(
        Duration requestTimeout,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration maxRetryDuration,
        int maxPendingBlocksPerDestination,
        long maxPendingBytesPerDestination)
        implements Serializable {}
