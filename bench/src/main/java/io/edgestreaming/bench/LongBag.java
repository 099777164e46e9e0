package io.edgestreaming.bench;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * A multiset of record fingerprints (the first 8 bytes of a record's SHA-256): what an endpoint must hold and
 * what it holds, compared without keeping hundreds of megabytes of records. Equal multisets mean every expected
 * record arrived exactly once and nothing else did (a chance collision among a million records has odds of
 * about 1 in 10^7).
 */
final class LongBag {
    private long[] values;
    private int size;

    LongBag() {
        this(1024);
    }

    LongBag(int capacity) {
        values = new long[Math.max(16, capacity)];
    }

    synchronized void add(long value) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = value;
    }

    synchronized int size() {
        return size;
    }

    synchronized long[] sorted() {
        long[] copy = Arrays.copyOf(values, size);
        Arrays.sort(copy);
        return copy;
    }

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    static long fingerprint(byte[] bytes, int offset, int length) {
        MessageDigest sha = SHA256.get();
        sha.update(bytes, offset, length);
        byte[] d = sha.digest();
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (d[i] & 0xff);
        }
        return v;
    }

    static long fingerprint(byte[] bytes) {
        return fingerprint(bytes, 0, bytes.length);
    }

    /** The outcome at one endpoint. */
    record Comparison(String endpoint, long expected, long delivered, long lost, long duplicated, long unexpected) {
        boolean exactlyOnce() {
            return lost == 0 && duplicated == 0 && unexpected == 0;
        }

        String describe() {
            return String.format(java.util.Locale.ROOT, "%-44s %,9d expected, %,9d delivered: %s", endpoint, expected,
                    delivered, exactlyOnce() ? "each exactly once"
                            : lost + " lost, " + duplicated + " duplicated, " + unexpected + " unexpected");
        }
    }

    /** Compares what must be there with what is there, counting multiplicities. */
    static Comparison compare(String endpoint, LongBag expected, LongBag delivered) {
        long[] e = expected.sorted();
        long[] d = delivered.sorted();
        long lost = 0;
        long duplicated = 0;
        long unexpected = 0;
        int i = 0;
        int j = 0;
        while (i < e.length || j < d.length) {
            long v = j >= d.length || (i < e.length && e[i] <= d[j]) ? e[i] : d[j];
            int ne = 0;
            while (i < e.length && e[i] == v) {
                ne++;
                i++;
            }
            int nd = 0;
            while (j < d.length && d[j] == v) {
                nd++;
                j++;
            }
            if (nd < ne) {
                lost += ne - nd;
            } else if (nd > ne) {
                if (ne == 0) {
                    unexpected += nd;
                } else {
                    duplicated += nd - ne;
                }
            }
        }
        return new Comparison(endpoint, e.length, d.length, lost, duplicated, unexpected);
    }
}
