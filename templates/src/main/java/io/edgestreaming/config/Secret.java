package io.edgestreaming.config;

import java.io.Serializable;
import java.util.Objects;

/**
 * A resolved secret (S3 secret key, header value, SASL password). Its value is only reachable through
 * {@link #reveal()}; {@link #toString()} is always redacted so it cannot leak into logs or errors.
 */
public final class Secret implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final String REDACTED = "******";

    private final String value;

    private Secret(String value) {
        this.value = Objects.requireNonNull(value, "value");
    }

    public static Secret of(String value) {
        return new Secret(value);
    }

    /** The plain value, for the transport that must send it. Never log it. */
    public String reveal() {
        return value;
    }

    public boolean isEmpty() {
        return value.isEmpty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret other && value.equals(other.value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public String toString() {
        return REDACTED;
    }
}
