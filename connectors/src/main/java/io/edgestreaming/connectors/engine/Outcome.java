package io.edgestreaming.connectors.engine;

import java.time.Duration;
import java.util.Objects;

/**
 * The result of one delivery attempt, as a transport classifies it. Reasons are shown in logs and
 * dead-letter manifests: they must never contain a secret.
 */
public final class Outcome {

    public enum Kind {
        /** The destination accepted the block; it leaves state. */
        DELIVERED,
        /** A transient failure (timeout, refused connection, 408/429/5xx): retried with backoff. */
        RETRY,
        /** The destination rejected the block for good (e.g. HTTP 400): dead-lettered at once. */
        PERMANENT
    }

    private static final Outcome DELIVERED = new Outcome(Kind.DELIVERED, "delivered", null);

    private final Kind kind;
    private final String reason;
    private final Duration retryAfter;

    private Outcome(Kind kind, String reason, Duration retryAfter) {
        this.kind = kind;
        this.reason = Objects.requireNonNull(reason, "reason");
        this.retryAfter = retryAfter;
    }

    public static Outcome delivered() {
        return DELIVERED;
    }

    /** @param retryAfter the destination's own wish (e.g. HTTP Retry-After), or null */
    public static Outcome retry(String reason, Duration retryAfter) {
        return new Outcome(Kind.RETRY, reason, retryAfter);
    }

    public static Outcome retry(String reason) {
        return new Outcome(Kind.RETRY, reason, null);
    }

    public static Outcome permanent(String reason) {
        return new Outcome(Kind.PERMANENT, reason, null);
    }

    public Kind kind() {
        return kind;
    }

    public String reason() {
        return reason;
    }

    /** The minimum delay the destination asked for before the next attempt, or null. */
    public Duration retryAfter() {
        return retryAfter;
    }

    @Override
    public String toString() {
        return kind + (kind == Kind.DELIVERED ? "" : "(" + reason + (retryAfter == null ? "" : ", retry after " + retryAfter) + ")");
    }
}
