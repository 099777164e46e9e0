package io.edgestreaming.templates;

import java.nio.charset.StandardCharsets;

/**
 * Writes text as the body of a JSON string in pure ASCII: printable ASCII as is, {@code "} and
 * {@code \} backslash-escaped, control characters, DEL and everything above 0x7E as {@code \}uXXXX
 * (UTF-16 code units, so astral characters become surrogate pairs). Unpaired surrogates that the
 * input held (e.g. {@code "\ud800"}) are kept as their escape: still valid JSON text.
 */
final class JsonAscii {
    /** The most bytes one input char can become ({@code \}uXXXX). */
    static final int MAX_BYTES_PER_CHAR = 6;

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private JsonAscii() {}

    /** Escapes {@code src[off, off+len)} into {@code dst} at {@code pos}; dst must hold 6 bytes per char. */
    static int escape(char[] src, int off, int len, byte[] dst, int pos) {
        final int end = off + len;
        for (int i = off; i < end; i++) {
            char c = src[i];
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
                dst[pos++] = (byte) c;
            } else {
                pos = escapeSpecial(c, dst, pos);
            }
        }
        return pos;
    }

    static int escape(CharSequence src, byte[] dst, int pos) {
        final int len = src.length();
        for (int i = 0; i < len; i++) {
            char c = src.charAt(i);
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
                dst[pos++] = (byte) c;
            } else {
                pos = escapeSpecial(c, dst, pos);
            }
        }
        return pos;
    }

    /** The escaped form of {@code text} as bytes (compile-time use). */
    static byte[] escape(String text) {
        byte[] out = new byte[text.length() * MAX_BYTES_PER_CHAR];
        int n = escape(text, out, 0);
        return java.util.Arrays.copyOf(out, n);
    }

    private static int escapeSpecial(char c, byte[] dst, int pos) {
        dst[pos++] = '\\';
        switch (c) {
            case '"': dst[pos++] = '"'; return pos;
            case '\\': dst[pos++] = '\\'; return pos;
            case '\n': dst[pos++] = 'n'; return pos;
            case '\r': dst[pos++] = 'r'; return pos;
            case '\t': dst[pos++] = 't'; return pos;
            case '\b': dst[pos++] = 'b'; return pos;
            case '\f': dst[pos++] = 'f'; return pos;
            default:
                dst[pos++] = 'u';
                dst[pos++] = HEX[(c >> 12) & 0xF];
                dst[pos++] = HEX[(c >> 8) & 0xF];
                dst[pos++] = HEX[(c >> 4) & 0xF];
                dst[pos++] = HEX[c & 0xF];
                return pos;
        }
    }

    /** Decodes what {@link #escape} wrote back into text (slow path for lookups and tests). */
    static String unescape(byte[] src, int off, int len) {
        StringBuilder sb = new StringBuilder(len);
        final int end = off + len;
        int i = off;
        while (i < end) {
            char c = (char) (src[i++] & 0xFF);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = (char) src[i++];
            switch (e) {
                case 'n': sb.append('\n'); break;
                case 'r': sb.append('\r'); break;
                case 't': sb.append('\t'); break;
                case 'b': sb.append('\b'); break;
                case 'f': sb.append('\f'); break;
                case 'u':
                    sb.append((char) Integer.parseInt(new String(src, i, 4, StandardCharsets.US_ASCII), 16));
                    i += 4;
                    break;
                default: sb.append(e); // '"', '\\', '/'
            }
        }
        return sb.toString();
    }

    /** Appends {@code text} as a JSON string literal with minimal escaping (for rendering nested values). */
    static void appendJsonString(StringBuilder sb, char[] src, int off, int len) {
        sb.append('"');
        final int end = off + len;
        for (int i = off; i < end; i++) {
            char c = src[i];
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                switch (c) {
                    case '\n': sb.append("\\n"); break;
                    case '\r': sb.append("\\r"); break;
                    case '\t': sb.append("\\t"); break;
                    case '\b': sb.append("\\b"); break;
                    case '\f': sb.append("\\f"); break;
                    default:
                        sb.append("\\u00").append((char) HEX[(c >> 4) & 0xF]).append((char) HEX[c & 0xF]);
                }
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }
}
