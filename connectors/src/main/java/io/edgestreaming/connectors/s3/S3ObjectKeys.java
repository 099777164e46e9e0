package io.edgestreaming.connectors.s3;

import io.edgestreaming.config.S3Endpoint;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.UUID;

/**
 * Object names of the S3 transport.
 *
 * <ul>
 *   <li>{@link S3Endpoint.KeyLayout#AZION}: {@code <prefix>_<epoch millis>_<UUID>}, or
 *       {@code <epoch millis>_<UUID>} without a prefix, exactly as Azion names them (the prefix is
 *       used verbatim, so a prefix {@code logs/} gives {@code logs/_<millis>_<UUID>} as at Azion);
 *   <li>{@link S3Endpoint.KeyLayout#DATED}: {@code <prefix>/YYYY/MM/DD/hh/mm/<UUID>} in UTC (no
 *       second slash when the prefix already ends with one; no prefix: {@code YYYY/MM/DD/hh/mm/<UUID>}).
 * </ul>
 *
 * <p>The UUID is name-based (RFC 9562 version 8, the RFC's recipe for SHA-256 names): the first 128
 * bits of SHA-256 over the block id, a zero byte and the block's uncompressed records, with the
 * version and variant bits set. The same block id with the same records always gives the same UUID;
 * other records under the same id (a re-cut after a restore) never do. Hashing the records rather than
 * the compressed body keeps the UUID independent of the deflater.
 */
public final class S3ObjectKeys {
    /** S3's limit on a key's UTF-8 length. */
    public static final int MAX_KEY_BYTES = 1024;
    /** Longest part a key adds to the prefix: {@code _<13+ digit millis>_<36 char UUID>} or the dated path. */
    static final int MAX_SUFFIX_BYTES = 1 + 19 + 1 + 36;

    private S3ObjectKeys() {}

    /** The object key of a block staged at {@code epochMillis} with the given content UUID. */
    public static String key(String prefix, S3Endpoint.KeyLayout layout, long epochMillis, UUID uuid) {
        String p = prefix == null ? "" : prefix;
        if (layout == S3Endpoint.KeyLayout.DATED) {
            ZonedDateTime t = Instant.ofEpochMilli(epochMillis).atZone(ZoneOffset.UTC);
            StringBuilder sb = new StringBuilder(p.length() + 54);
            if (!p.isEmpty()) {
                sb.append(p);
                if (!p.endsWith("/")) {
                    sb.append('/');
                }
            }
            sb.append(t.getYear()).append('/');
            two(sb, t.getMonthValue()).append('/');
            two(sb, t.getDayOfMonth()).append('/');
            two(sb, t.getHour()).append('/');
            two(sb, t.getMinute()).append('/');
            return sb.append(uuid).toString();
        }
        return p.isEmpty() ? epochMillis + "_" + uuid : p + "_" + epochMillis + "_" + uuid;
    }

    /** The name-based UUID of a block: same id and same records give the same UUID, nothing else does. */
    public static UUID contentUuid(String blockId, byte[] records) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        sha256.update(blockId.getBytes(StandardCharsets.UTF_8));
        sha256.update((byte) 0);
        sha256.update(records);
        ByteBuffer digest = ByteBuffer.wrap(sha256.digest());
        long msb = digest.getLong();
        long lsb = digest.getLong();
        msb = (msb & ~0xF000L) | 0x8000L; // version 8
        lsb = (lsb & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L; // variant 10
        return new UUID(msb, lsb);
    }

    /** Null if keys with this prefix fit S3's key limit, else the problem. */
    static String prefixProblem(String prefix) {
        int bytes = prefix == null ? 0 : prefix.getBytes(StandardCharsets.UTF_8).length;
        if (bytes + MAX_SUFFIX_BYTES > MAX_KEY_BYTES) {
            return "object_key_prefix is " + bytes + " bytes: object keys would pass S3's limit of "
                    + MAX_KEY_BYTES + " bytes";
        }
        return null;
    }

    private static StringBuilder two(StringBuilder sb, int value) {
        if (value < 10) {
            sb.append('0');
        }
        return sb.append(value);
    }
}
