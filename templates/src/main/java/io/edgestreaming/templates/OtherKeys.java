package io.edgestreaming.templates;

import com.fasterxml.jackson.core.JsonParser;

/**
 * The top-level keys of one event that are not variables, for {@link EventParser}'s duplicate-key check
 * without a per-event set: an open-addressing table whose entries count as present only when stamped with
 * the current event's generation, so starting the next event clears nothing.
 */
final class OtherKeys {
    private String[] keys = new String[64];
    private int[] seen = new int[64];
    private int count;
    private int generation;

    /** Forgets every key: the next event starts. */
    void nextEvent() {
        generation++;
        count = 0;
        if (keys.length > 4096) { // an event with thousands of extra keys must not pin the table
            keys = new String[64];
            seen = new int[64];
        }
        if (generation == 0) {
            java.util.Arrays.fill(seen, 0);
            generation = 1;
        }
    }

    /** Adds {@code key}; refused as a duplicate if this event already had it. */
    void add(String key, JsonParser p) throws MalformedEventException {
        if (count * 2 >= keys.length) {
            grow();
        }
        int mask = keys.length - 1;
        int i = VariableIndex.mix(key.hashCode()) & mask;
        while (seen[i] == generation) {
            String k = keys[i];
            if (k == key || k.equals(key)) {
                throw ParseErrors.duplicate(key, p);
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        seen[i] = generation;
        count++;
    }

    private void grow() {
        String[] oldKeys = keys;
        int[] oldSeen = seen;
        keys = new String[oldKeys.length * 2];
        seen = new int[oldKeys.length * 2];
        int mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldSeen[j] == generation) {
                int i = VariableIndex.mix(oldKeys[j].hashCode()) & mask;
                while (seen[i] == generation) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                seen[i] = generation;
            }
        }
    }
}
