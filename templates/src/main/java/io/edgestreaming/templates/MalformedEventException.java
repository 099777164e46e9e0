package io.edgestreaming.templates;

/**
 * A raw event that cannot be projected. The job routes it to dead-letter with its {@link #reason()}.
 * Messages say what is wrong and where (key, byte offset) and never quote more than a short excerpt.
 */
public final class MalformedEventException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why the event was refused. */
    public enum Reason {
        /** Bigger than the parser's {@code maxEventBytes}. */
        TOO_LARGE,
        /** Not JSON at all, empty, or trailing content after the object. */
        NOT_JSON,
        /** Valid JSON whose root is not an object (array, string, number...). */
        NOT_AN_OBJECT,
        /** The JSON ends before the object is closed. */
        TRUNCATED,
        /** The same key twice in one object. */
        DUPLICATE_KEY,
        /** Nested deeper than {@link EventParser#MAX_NESTING_DEPTH}. */
        TOO_DEEP,
        /** Not valid UTF-8 (or UTF-16/32, which events must not use). */
        INVALID_ENCODING
    }

    private final Reason reason;
    private final long byteOffset;

    public MalformedEventException(Reason reason, String message, long byteOffset) {
        super(reason + ": " + message + (byteOffset >= 0 ? " (at byte " + byteOffset + ")" : ""));
        this.reason = reason;
        this.byteOffset = byteOffset;
    }

    public Reason reason() {
        return reason;
    }

    /** Where in the event the problem was found, or -1 when not tied to a position. */
    public long byteOffset() {
        return byteOffset;
    }
}
