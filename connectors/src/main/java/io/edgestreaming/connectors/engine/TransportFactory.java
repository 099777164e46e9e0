package io.edgestreaming.connectors.engine;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import java.io.Serializable;

/**
 * Creates the {@link Transport} of one endpoint type in each operator subtask. Serializable: it
 * travels with the job graph; the transport it creates (clients, threads) does not.
 */
public interface TransportFactory extends Serializable {

    /** The endpoint type this transport delivers to ({@link Endpoint#endpointType()}). */
    String endpointType();

    /**
     * Checks an endpoint when the job graph is built, so a bad configuration fails at submission with
     * a clear message rather than dead-lettering every block later. Messages must not hold secrets.
     */
    default void validate(Endpoint endpoint) {}

    /**
     * @param addresses allowed_networks: every connection to an endpoint host must pass it (resolved
     *     again then, as DNS changes); a refused address is a destination failure, retried
     */
    Transport create(DeliveryConfig delivery, AddressPolicy addresses) throws Exception;
}
