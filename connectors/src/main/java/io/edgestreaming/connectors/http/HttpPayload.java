package io.edgestreaming.connectors.http;

import java.nio.charset.StandardCharsets;

/**
 * Builds the HTTP body of a block: {@code payload_format} with each {@code $dataset} replaced by the
 * block's records joined by {@code log_line_separator}. Records arrive joined by '\n' (compact JSON
 * never holds a raw newline), so the Azion default ("\n" and "$dataset") is the block's own array, not
 * copied; any other shape is built in one exact-size array.
 */
public final class HttpPayload {
    public static final String DATASET = "$dataset";
    public static final String DEFAULT_SEPARATOR = "\n";
    public static final String DEFAULT_FORMAT = DATASET;

    private HttpPayload() {}

    public static byte[] body(byte[] records, String separator, String payloadFormat) {
        String sep = separator == null ? DEFAULT_SEPARATOR : separator;
        String format = payloadFormat == null ? DEFAULT_FORMAT : payloadFormat;
        byte[] dataset = joined(records, sep);
        if (format.equals(DATASET)) {
            return dataset;
        }
        // Split the format around every $dataset occurrence.
        byte[] formatBytes = format.getBytes(StandardCharsets.UTF_8);
        byte[] marker = DATASET.getBytes(StandardCharsets.US_ASCII);
        int occurrences = 0;
        for (int i = indexOf(formatBytes, marker, 0); i >= 0; i = indexOf(formatBytes, marker, i + marker.length)) {
            occurrences++;
        }
        byte[] out = new byte[formatBytes.length + occurrences * (dataset.length - marker.length)];
        int o = 0;
        int from = 0;
        for (int i = indexOf(formatBytes, marker, 0); i >= 0; i = indexOf(formatBytes, marker, from)) {
            System.arraycopy(formatBytes, from, out, o, i - from);
            o += i - from;
            System.arraycopy(dataset, 0, out, o, dataset.length);
            o += dataset.length;
            from = i + marker.length;
        }
        System.arraycopy(formatBytes, from, out, o, formatBytes.length - from);
        return out;
    }

    /** The records joined by {@code separator}; the input itself when the separator is "\n". */
    static byte[] joined(byte[] records, String separator) {
        if (separator.equals(DEFAULT_SEPARATOR)) {
            return records;
        }
        byte[] sep = separator.getBytes(StandardCharsets.UTF_8);
        int newlines = 0;
        for (byte b : records) {
            if (b == '\n') {
                newlines++;
            }
        }
        byte[] out = new byte[records.length + newlines * (sep.length - 1)];
        int o = 0;
        int from = 0;
        for (int i = 0; i < records.length; i++) {
            if (records[i] == '\n') {
                System.arraycopy(records, from, out, o, i - from);
                o += i - from;
                System.arraycopy(sep, 0, out, o, sep.length);
                o += sep.length;
                from = i + 1;
            }
        }
        System.arraycopy(records, from, out, o, records.length - from);
        return out;
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
