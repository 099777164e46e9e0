package io.edgestreaming.config;

import java.io.Serializable;
import java.time.Duration;

/**
 * When the batcher cuts a block: at {@code maxRecords} records, when the payload (records, separators
 * and the payload format around them) would pass {@code maxSize} bytes, or {@code maxInterval} after
 * the block's first record, whichever comes first.
 */
public record BatchingConfig(int maxRecords, Duration maxInterval, long maxSize) implements Serializable {}
