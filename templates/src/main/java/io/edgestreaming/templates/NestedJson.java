package io.edgestreaming.templates;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonEOFException;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;

/**
 * A variable's object or array value as compact JSON text, as {@link EventParser} renders it: a key twice in
 * one nested object is refused. One reusable buffer; not thread-safe.
 */
final class NestedJson {
    private final StringBuilder text = new StringBuilder();

    /** Renders the value starting at {@code start} (an object or array start token); valid until the next call. */
    CharSequence render(JsonParser p, JsonToken start) throws IOException, MalformedEventException {
        text.setLength(0);
        append(p, start);
        return text;
    }

    private void append(JsonParser p, JsonToken start) throws IOException, MalformedEventException {
        if (start == JsonToken.START_ARRAY) {
            text.append('[');
            boolean first = true;
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (!first) {
                    text.append(',');
                }
                first = false;
                appendValue(p, t);
            }
            text.append(']');
            return;
        }
        text.append('{');
        Set<String> names = null; // nested objects are rare: a set here is fine
        boolean first = true;
        String name;
        while ((name = p.nextFieldName()) != null) {
            if (names == null) {
                names = new HashSet<>();
            }
            if (!names.add(name)) {
                throw ParseErrors.duplicate(name, p);
            }
            if (!first) {
                text.append(',');
            }
            first = false;
            char[] chars = name.toCharArray();
            JsonAscii.appendJsonString(text, chars, 0, chars.length);
            text.append(':');
            appendValue(p, p.nextToken());
        }
        text.append('}');
    }

    private void appendValue(JsonParser p, JsonToken t) throws IOException, MalformedEventException {
        if (t == null) {
            throw new JsonEOFException(p, null, "end of input inside a nested value");
        }
        switch (t) {
            case START_OBJECT, START_ARRAY -> append(p, t);
            case VALUE_STRING -> JsonAscii.appendJsonString(text, p.getTextCharacters(), p.getTextOffset(),
                    p.getTextLength());
            default -> text.append(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
        }
    }
}
