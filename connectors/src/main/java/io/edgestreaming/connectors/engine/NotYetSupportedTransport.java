package io.edgestreaming.connectors.engine;

import io.edgestreaming.connectors.Block;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;

/**
 * TEMPORARY stand-in for endpoint types whose transport is not written yet (kafka, s3): the engine
 * stages blocks as usual and, once their checkpoint completes, this transport answers every attempt
 * with a permanent failure, so each block lands in the dead-letter store with the reason
 * {@value #REASON}. Nothing is silently lost. Replace by the real transport in
 * {@link io.edgestreaming.connectors.DeliveryTopology} when it exists.
 */
public final class NotYetSupportedTransport implements Transport {
    public static final String REASON = "endpoint type not supported yet";

    @Override
    public Prepared prepare(Block block, Endpoint endpoint) throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(block.records());
        String key = block.blockId() + ":" + HexFormat.of().formatHex(digest, 0, 16);
        return new Prepared(block.records(), key, Prepared.IDENTITY);
    }

    @Override
    public CompletableFuture<Outcome> deliver(StagedBlock block, Endpoint endpoint) {
        return CompletableFuture.completedFuture(Outcome.permanent(REASON + ": " + endpoint.endpointType()));
    }

    /** Factory for one endpoint type. */
    public static final class Factory implements TransportFactory {
        private static final long serialVersionUID = 1L;
        private final String endpointType;

        public Factory(String endpointType) {
            this.endpointType = endpointType;
        }

        @Override
        public String endpointType() {
            return endpointType;
        }

        @Override
        public Transport create(DeliveryConfig delivery) {
            return new NotYetSupportedTransport();
        }
    }

}
