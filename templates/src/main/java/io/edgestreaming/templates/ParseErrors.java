package io.edgestreaming.templates;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import io.edgestreaming.templates.MalformedEventException.Reason;
import java.io.IOException;

/**
 * What {@link EventParser} says when an event is refused: Jackson's failures as a {@link MalformedEventException}
 * with a reason, the top-level key being read, the byte offset, and a message of bounded length in which the
 * input's control characters are replaced (it reaches logs and dead-letter headers).
 */
final class ParseErrors {
    private static final int MAX_QUOTE = 120;

    private ParseErrors() {}

    /** The refusal for what Jackson (or the reader) threw while parsing with {@code p}. */
    static MalformedEventException of(Exception e, JsonParser p) {
        String key = topLevelKey(p);
        if (e instanceof JsonEOFException eof) {
            return new MalformedEventException(Reason.TRUNCATED, "event ends before its JSON is complete"
                    + inKey(key) + ": " + cap(eof.getOriginalMessage()), offset(eof.getLocation()));
        }
        if (e instanceof StreamConstraintsException sce) {
            String msg = cap(sce.getOriginalMessage());
            Reason reason = msg.contains("nesting depth") ? Reason.TOO_DEEP : Reason.TOO_LARGE;
            String what = reason == Reason.TOO_DEEP
                    ? "event nests objects/arrays deeper than " + EventParser.MAX_NESTING_DEPTH + " levels"
                    : "event exceeds a size bound";
            return new MalformedEventException(reason, what + inKey(key) + ": " + msg, offset(sce.getLocation()));
        }
        if (e instanceof JsonProcessingException jpe) {
            String msg = cap(jpe.getOriginalMessage());
            if (msg.contains("end-of-input")) {
                return new MalformedEventException(Reason.TRUNCATED, "event ends before its JSON is complete"
                        + inKey(key) + ": " + msg, offset(jpe.getLocation()));
            }
            if (msg.contains("Invalid UTF-8") || msg.contains("Invalid UTF-32") || msg.contains("surrogate")) {
                return new MalformedEventException(Reason.INVALID_ENCODING,
                        "event is not valid UTF-8" + inKey(key) + ": " + msg, offset(jpe.getLocation()));
            }
            return new MalformedEventException(Reason.NOT_JSON, "event is not valid JSON" + inKey(key) + ": " + msg,
                    offset(jpe.getLocation()));
        }
        // CharConversionException and friends, or a symbol-table overflow on hostile key names.
        String msg = cap(e.getMessage());
        Reason reason = e instanceof java.io.CharConversionException ? Reason.INVALID_ENCODING : Reason.NOT_JSON;
        return new MalformedEventException(reason, "event cannot be read" + inKey(key) + ": " + msg, -1);
    }

    /** Content after the event's object ({@code after}, or what failed when reading it). */
    static MalformedEventException trailing(JsonToken after, JsonParser p) {
        return new MalformedEventException(Reason.NOT_JSON, "trailing content after the event object: "
                + describe(after), offset(p.currentTokenLocation()));
    }

    static MalformedEventException trailing(IOException e) {
        return new MalformedEventException(Reason.NOT_JSON, "trailing content after the event object: "
                + cap(e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()),
                e instanceof JsonProcessingException j ? offset(j.getLocation()) : -1);
    }

    static MalformedEventException duplicate(String key, JsonParser p) {
        return new MalformedEventException(Reason.DUPLICATE_KEY, "key " + Names.quote(key)
                + " appears more than once in the same object", offset(p.currentTokenLocation()));
    }

    /** The top-level key whose value was being read when parsing failed, if any. */
    private static String topLevelKey(JsonParser p) {
        if (p == null) {
            return null;
        }
        JsonStreamContext ctx = p.getParsingContext();
        if (ctx == null || ctx.inRoot()) {
            return null;
        }
        while (ctx.getParent() != null && !ctx.getParent().inRoot()) {
            ctx = ctx.getParent();
        }
        return ctx.getCurrentName();
    }

    private static String inKey(String key) {
        return key == null ? "" : " (at key " + Names.quote(key) + ")";
    }

    static long offset(JsonLocation location) {
        return location == null ? -1 : location.getByteOffset();
    }

    static String describe(JsonToken t) {
        if (t == null) {
            return "the end of input";
        }
        return switch (t) {
            case START_ARRAY -> "an array";
            case START_OBJECT -> "an object";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }

    /** Jackson quotes offending tokens; keep messages short whatever the input holds. */
    private static String cap(String message) {
        if (message == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        int limit = Math.min(message.length(), MAX_QUOTE);
        for (int i = 0; i < limit; i++) {
            char c = message.charAt(i);
            sb.append(c < 0x20 || c == 0x7F ? '?' : c);
        }
        if (message.length() > limit) {
            sb.append("...");
        }
        return sb.toString();
    }
}
