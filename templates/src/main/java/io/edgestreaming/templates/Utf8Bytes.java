package io.edgestreaming.templates;

import io.edgestreaming.templates.MalformedEventException.Reason;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The byte-level checks of {@link EventParser} on a raw event: its encoding, the first ill-formed UTF-8 byte,
 * and the 8-bytes-at-a-time scan of a string value that can be referenced in place.
 */
final class Utf8Bytes {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    private Utf8Bytes() {}

    /** The 8 bytes of {@code raw} at {@code at}, little-endian. */
    static long word(byte[] raw, int at) {
        return (long) LONGS.get(raw, at);
    }

    /**
     * High bit set in each of the 8 bytes that is non-ASCII, a control byte, {@code "}, backslash or DEL
     * (classic SWAR zero-byte tests: bytes above a flagged one may be flagged falsely, the lowest never is).
     */
    static long specialBytes(long w) {
        long nonAscii = w & HIGHS;
        long control = (w - 0x20 * ONES) & ~w & HIGHS;
        long quote = hasZeroByte(w ^ ('"' * ONES));
        long backslash = hasZeroByte(w ^ ('\\' * ONES));
        long del = hasZeroByte(w ^ (0x7F * ONES));
        return nonAscii | control | quote | backslash | del;
    }

    private static long hasZeroByte(long v) {
        return (v - ONES) & ~v & HIGHS;
    }

    /** End of the JSON escape starting at {@code raw[at]} (a backslash), or -1 when it is not valid. */
    static int validEscapeEnd(byte[] raw, int at) {
        if (at + 1 >= raw.length) {
            return -1;
        }
        switch (raw[at + 1]) {
            case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
                return at + 2;
            case 'u':
                if (at + 6 > raw.length) {
                    return -1;
                }
                for (int k = at + 2; k < at + 6; k++) {
                    int c = raw[k];
                    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                        return -1;
                    }
                }
                return at + 6;
            default:
                return -1;
        }
    }

    static void checkEncoding(byte[] raw) throws MalformedEventException {
        // Jackson would auto-detect UTF-16/32 from a BOM or zero bytes; events must be UTF-8.
        if (raw.length >= 2 && (raw[0] == 0 || raw[1] == 0 || raw[0] == (byte) 0xFE || raw[0] == (byte) 0xFF)) {
            throw new MalformedEventException(Reason.INVALID_ENCODING,
                    "event is not UTF-8 (it starts like UTF-16/32 or with a zero byte)", 0);
        }
    }

    /**
     * Where the first byte that does not start a well-formed UTF-8 sequence is (RFC 3629: no overlong forms,
     * no surrogates, nothing above U+10FFFF), or -1. ASCII is skipped 8 bytes at a time.
     */
    static int firstInvalidUtf8(byte[] raw) {
        final int n = raw.length;
        int i = 0;
        while (i < n) {
            if (i + 8 <= n && ((long) LONGS.get(raw, i) & HIGHS) == 0) {
                i += 8;
                continue;
            }
            int b = raw[i] & 0xFF;
            if (b < 0x80) {
                i++;
                continue;
            }
            int len = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
            if (len == 0 || i + len > n) {
                return i;
            }
            int b1 = raw[i + 1] & 0xFF;
            // The second byte's range where it is narrower than 0x80..0xBF (RFC 3629, section 4).
            int lo = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;
            int hi = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
            if (b1 < lo || b1 > hi) {
                return i;
            }
            for (int k = 2; k < len; k++) {
                if ((raw[i + k] & 0xC0) != 0x80) {
                    return i;
                }
            }
            i += len;
        }
        return -1;
    }
}
