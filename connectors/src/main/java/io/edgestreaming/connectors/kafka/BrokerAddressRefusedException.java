package io.edgestreaming.connectors.kafka;

import org.apache.kafka.common.KafkaException;

/**
 * A bootstrap server of a Kafka endpoint resolves to an address allowed_networks does not allow: no
 * client is created. A destination failure (retried with backoff), never a refusal of the blocks. The
 * message names the server, the address and the rule, never a credential.
 */
public final class BrokerAddressRefusedException extends KafkaException {
    private static final long serialVersionUID = 1L;

    public BrokerAddressRefusedException(String message) {
        super(message);
    }
}
