package io.edgestreaming.connectors.kafka;

import io.edgestreaming.testkit.KafkaBrokerKind;

/** {@link KafkaTransactionsContract} on KAFKA_4_2_TV0. */
class KafkaTransactionsOn42Tv0ITCase extends KafkaTransactionsContract {
    @Override
    KafkaBrokerKind kind() {
        return KafkaBrokerKind.KAFKA_4_2_TV0;
    }
}
