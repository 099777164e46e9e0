package io.edgestreaming.connectors.engine.internal;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with "equal jitter": half the delay is fixed (so retries never bunch at zero),
 * half random (so many subtasks retrying one destination do not hit it in lockstep).
 */
public final class Backoff {
    private final long initialMillis;
    private final long maxMillis;

    public Backoff(Duration initial, Duration max) {
        this.initialMillis = Math.max(1, initial.toMillis());
        this.maxMillis = Math.max(this.initialMillis, max.toMillis());
    }

    /** Delay before retry number {@code failures} (1 = after the first failure). */
    public long delayMillis(int failures) {
        int shift = Math.min(Math.max(failures - 1, 0), 30);
        long base = Math.min(maxMillis, initialMillis << shift);
        long half = base / 2;
        return half + ThreadLocalRandom.current().nextLong(base - half + 1);
    }

    long maxMillis() {
        return maxMillis;
    }
}
