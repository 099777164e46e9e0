package io.edgestreaming.connectors.engine;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The one way a delivery key is built: {@code <block id>:<first 128 bits of SHA-256(content), hex>}. The
 * block id alone is not enough: a restore from an older checkpoint can re-cut a block id with other
 * records, and only the content digest lets a destination drop identical repeats without ever dropping
 * different content (see {@link Transport#prepare}).
 */
public final class DeliveryKeys {
    private DeliveryKeys() {}

    public static String of(String blockId, byte[] content) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(content);
            return blockId + ":" + HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
