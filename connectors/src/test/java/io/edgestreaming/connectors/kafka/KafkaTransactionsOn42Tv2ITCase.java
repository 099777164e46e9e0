package io.edgestreaming.connectors.kafka;

import io.edgestreaming.testkit.KafkaBrokerKind;

/** {@link KafkaTransactionsContract} on KAFKA_4_2_TV2. */
class KafkaTransactionsOn42Tv2ITCase extends KafkaTransactionsContract {
    @Override
    KafkaBrokerKind kind() {
        return KafkaBrokerKind.KAFKA_4_2_TV2;
    }
}
