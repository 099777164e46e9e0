package io.edgestreaming.connectors.kafka;

import io.edgestreaming.testkit.KafkaBrokerKind;

/** {@link KafkaTransactionsContract} on KAFKA_3_9. */
class KafkaTransactionsOn39ITCase extends KafkaTransactionsContract {
    @Override
    KafkaBrokerKind kind() {
        return KafkaBrokerKind.KAFKA_3_9;
    }
}
