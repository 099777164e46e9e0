package io.edgestreaming.templates;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Variable name -> slot (its position in {@link DataSource#variables()}), as an open-addressing table.
 * Jackson canonicalizes (interns) field names, so a lookup is usually one identity comparison.
 */
final class VariableIndex {
    private static final Map<DataSource, VariableIndex> INDEXES = new EnumMap<>(DataSource.class);

    static {
        for (DataSource source : DataSource.values()) {
            INDEXES.put(source, new VariableIndex(source.variables()));
        }
    }

    private final String[] names;
    private final String[] table;
    private final int[] slots;
    private final int mask;

    private VariableIndex(List<String> variables) {
        names = variables.toArray(new String[0]);
        int size = Integer.highestOneBit(Math.max(4, variables.size() * 4) - 1) << 1;
        table = new String[size];
        slots = new int[size];
        mask = size - 1;
        for (int slot = 0; slot < names.length; slot++) {
            String name = names[slot].intern();
            int i = mix(name.hashCode()) & mask;
            while (table[i] != null) {
                i = (i + 1) & mask;
            }
            table[i] = name;
            slots[i] = slot;
        }
    }

    static VariableIndex of(DataSource source) {
        return INDEXES.get(source);
    }

    int size() {
        return names.length;
    }

    String name(int slot) {
        return names[slot];
    }

    /** The slot of {@code name}, or -1 when the data source has no such variable. */
    int slot(String name) {
        int i = mix(name.hashCode()) & mask;
        while (true) {
            String candidate = table[i];
            if (candidate == null) {
                return -1;
            }
            if (candidate == name || candidate.equals(name)) {
                return slots[i];
            }
            i = (i + 1) & mask;
        }
    }

    static int mix(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }
}
