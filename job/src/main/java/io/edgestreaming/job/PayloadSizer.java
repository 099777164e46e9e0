package io.edgestreaming.job;

import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.StreamConfig;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;

/**
 * The size in bytes of the payload a block turns into at its endpoint, so the batcher can cut blocks
 * before they pass {@code max_size}.
 *
 * <p>standard (HTTP): {@code payload_format} with each {@code $dataset} replaced by the records
 * joined with {@code log_line_separator}. kafka and s3: the records each followed by '\n' (counting
 * a trailing newline keeps the bound safe whichever way the transport writes the last line).
 */
public final class PayloadSizer implements Serializable {
    private static final long serialVersionUID = 1L;
    static final String DATASET = "$dataset";

    private final long fixedOverhead;
    private final int datasetCopies;
    private final int separatorBytes;
    private final long maxSize;

    PayloadSizer(long fixedOverhead, int datasetCopies, int separatorBytes, long maxSize) {
        this.fixedOverhead = fixedOverhead;
        this.datasetCopies = datasetCopies;
        this.separatorBytes = separatorBytes;
        this.maxSize = maxSize;
    }

    public static PayloadSizer of(StreamConfig stream) {
        long maxSize = stream.batching().maxSize();
        if (stream.endpoint() instanceof HttpEndpoint http) {
            String separator = http.logLineSeparator() == null ? "\n" : http.logLineSeparator();
            String format = http.payloadFormat() == null ? DATASET : http.payloadFormat();
            int copies = countOccurrences(format, DATASET);
            long overhead = format.getBytes(StandardCharsets.UTF_8).length - (long) copies * DATASET.length();
            if (http.maxSize() > 0) {
                maxSize = Math.min(maxSize, http.maxSize());
            }
            return new PayloadSizer(overhead, copies, separator.getBytes(StandardCharsets.UTF_8).length, maxSize);
        }
        // Records plus one '\n' each: (n - 1) separators plus a trailing newline.
        return new PayloadSizer(1, 1, 1, maxSize);
    }

    private static int countOccurrences(String text, String part) {
        int count = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) {
            count++;
        }
        return count;
    }

    /** The payload size of a block of {@code records} records whose bytes add up to {@code recordBytes}. */
    public long payloadSize(int records, long recordBytes) {
        if (records == 0) {
            return fixedOverhead;
        }
        return fixedOverhead + datasetCopies * (recordBytes + (long) (records - 1) * separatorBytes);
    }

    /** The stream's max_size: no block's payload may pass it. */
    public long maxSize() {
        return maxSize;
    }

    /** Whether one record of this size fits a block on its own; if not it can never be delivered. */
    public boolean fitsAlone(int recordBytes) {
        return payloadSize(1, recordBytes) <= maxSize;
    }
}
