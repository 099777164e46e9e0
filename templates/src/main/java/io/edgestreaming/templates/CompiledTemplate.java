package io.edgestreaming.templates;

import java.io.ObjectStreamException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Template} turned into byte pieces: the output record is
 * {@code constant[0] value(slot[0]) constant[1] ... value(slot[n-1]) constant[n]}, where the constants hold
 * the keys, quotes, separators and literal text (already escaped) and each value is copied from the
 * {@link ParsedEvent}'s escaped buffer, or {@code -} when the event lacks it. Output is compact JSON, pure
 * ASCII, keys in template order, every value a JSON string.
 *
 * <p>{@link #project(ParsedEvent)} is thread-safe. {@link #project(byte[])} uses an internal
 * {@link EventParser} and is NOT: use one instance per thread for it. Serializes as its template and
 * recompiles when read.
 */
public final class CompiledTemplate implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final byte MISSING = '-';

    private final Template template;
    private final transient byte[][] constants;
    private final transient int[] constantLengths;
    private final transient int[] slots;
    private final transient int constantBytes;
    private transient EventParser parser;

    private CompiledTemplate(Template template, byte[][] constants, int[] slots) {
        this.template = template;
        this.slots = slots;
        // Padded by 8 bytes so the word-wise copy may read past a constant's end.
        this.constants = new byte[constants.length][];
        this.constantLengths = new int[constants.length];
        int total = 0;
        for (int i = 0; i < constants.length; i++) {
            this.constants[i] = java.util.Arrays.copyOf(constants[i], constants[i].length + 8);
            this.constantLengths[i] = constants[i].length;
            total += constants[i].length;
        }
        this.constantBytes = total;
    }

    public static CompiledTemplate compile(Template template) {
        VariableIndex index = VariableIndex.of(template.dataSource());
        List<byte[]> constants = new ArrayList<>();
        List<Integer> slots = new ArrayList<>();
        StringBuilder constant = new StringBuilder("{"); // raw JSON text, already escaped where needed
        boolean first = true;
        for (Template.Entry entry : template.entries()) {
            if (!first) {
                constant.append(',');
            }
            first = false;
            constant.append('"').append(ascii(entry.key())).append("\":\"");
            Expression.Parsed parsed = Expression.parse(entry.expression());
            if (parsed.error() != null) {
                throw new IllegalArgumentException("key " + entry.key() + ": " + parsed.error());
            }
            for (Expression.Part part : parsed.parts()) {
                if (!part.isVariable()) {
                    constant.append(ascii(part.literal()));
                    continue;
                }
                int slot = index.slot(part.variable());
                if (slot < 0) {
                    throw new IllegalArgumentException("key " + entry.key() + ": $" + part.variable()
                            + " is not a variable of data source " + template.dataSource().id());
                }
                constants.add(constant.toString().getBytes(StandardCharsets.US_ASCII));
                constant.setLength(0);
                slots.add(slot);
            }
            constant.append('"');
        }
        constant.append('}');
        constants.add(constant.toString().getBytes(StandardCharsets.US_ASCII));
        return new CompiledTemplate(template, constants.toArray(new byte[0][]),
                slots.stream().mapToInt(Integer::intValue).toArray());
    }

    private static String ascii(String text) {
        return new String(JsonAscii.escape(text), StandardCharsets.US_ASCII);
    }

    public Template template() {
        return template;
    }

    /** One output record for {@code event}, which must come from a parser of this template's data source. */
    public byte[] project(ParsedEvent event) {
        if (event.dataSource() != template.dataSource()) {
            throw new IllegalArgumentException("event of data source " + event.dataSource().id()
                    + " cannot be projected through a " + template.dataSource().id() + " template");
        }
        final int[] slots = this.slots;
        final byte[][] constants = this.constants;
        final int[] constantLengths = this.constantLengths;
        int size = constantBytes;
        for (int slot : slots) {
            int len = event.lengthOf(slot);
            size += len < 0 ? 1 : len;
        }
        byte[] out = new byte[size];
        int pos = 0;
        for (int i = 0; i < slots.length; i++) {
            pos = copy(constants[i], 0, constantLengths[i], out, pos);
            int slot = slots[i];
            int len = event.lengthOf(slot);
            if (len < 0) {
                out[pos++] = MISSING;
            } else {
                pos = copy(event.sourceOf(slot), event.offsetOf(slot), len, out, pos);
            }
        }
        System.arraycopy(constants[slots.length], 0, out, pos, constantLengths[slots.length]);
        return out;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /**
     * Copies a piece 8 bytes at a time (most pieces are a few dozen bytes, where System.arraycopy's
     * call costs more than the copy). It may write up to 7 bytes past the piece: the record is filled
     * front to back, so the next pieces overwrite them; the last piece is copied exactly.
     */
    private static int copy(byte[] src, int off, int len, byte[] dst, int pos) {
        int rounded = (len + 7) & ~7;
        if (off + rounded <= src.length && pos + rounded <= dst.length) {
            for (int i = 0; i < len; i += 8) {
                LONGS.set(dst, pos + i, (long) LONGS.get(src, off + i));
            }
        } else {
            System.arraycopy(src, off, dst, pos, len);
        }
        return pos + len;
    }

    /**
     * Parses and projects {@code rawEvent} with an internal parser
     * ({@link EventParser#DEFAULT_MAX_EVENT_BYTES}). Not thread-safe.
     */
    public byte[] project(byte[] rawEvent) throws MalformedEventException {
        if (parser == null) {
            parser = new EventParser(template.dataSource(), EventParser.DEFAULT_MAX_EVENT_BYTES);
        }
        return project(parser.parse(rawEvent));
    }

    private Object readResolve() throws ObjectStreamException {
        return compile(template);
    }

    @Override
    public String toString() {
        return "CompiledTemplate{" + template + "}";
    }
}
