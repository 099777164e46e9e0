package io.edgestreaming.connectors.engine;

import java.util.Objects;

/**
 * What a transport makes of a block once, when the block arrives: the exact bytes every attempt will
 * send and the identity the destination dedupes repeats by. Both are kept in checkpointed state, so a
 * retry or a re-delivery after a restore sends the very same request.
 *
 * @param payload the exact bytes to deliver (HTTP: the request body, compressed if configured)
 * @param deliveryKey the idempotency identity (HTTP: the {@code Idempotency-Key}; S3: the object
 *     name); must be derived from the block id and the block's content, see {@link Transport#prepare}
 * @param contentEncoding {@code identity} or {@code gzip}: how {@code payload} is encoded (the
 *     dead-letter manifest records it so an operator can read the payload)
 */
public record Prepared(byte[] payload, String deliveryKey, String contentEncoding) {
    public static final String IDENTITY = "identity";
    public static final String GZIP = "gzip";

    public Prepared {
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(deliveryKey, "deliveryKey");
        Objects.requireNonNull(contentEncoding, "contentEncoding");
    }
}
