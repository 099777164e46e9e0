package io.edgestreaming.testkit;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/**
 * The kinds of Kafka cluster customers run, for tests parameterised over them
 * ({@code @EnumSource(KafkaBrokerKind.class)}, or {@link #selected()}).
 *
 * <p>They differ in how transactions end: under transaction.version 2 (KIP-890) the broker bumps the producer
 * epoch at every commit or abort, so a producer resumed with the (producer id, epoch) of before the end is fenced;
 * under 0 (every 3.x cluster, and 4.x clusters upgraded from 3.x until an operator raises it) it is not.
 */
public enum KafkaBrokerKind {

    /** A new Kafka 4.2 cluster, as {@code kafka-storage format} sets it up: transaction.version 2. */
    KAFKA_4_2_TV2("Kafka 4.2, transaction.version 2 (new cluster)", 2) {
        @Override
        public TestKafka start() {
            return EmbeddedKafka.builder().transactionVersion(2).start();
        }
    },

    /** A Kafka 4.2 cluster upgraded from 3.x whose transaction.version was never raised: 0. */
    KAFKA_4_2_TV0("Kafka 4.2, transaction.version 0 (upgraded from 3.x)", 0) {
        @Override
        public TestKafka start() {
            return EmbeddedKafka.builder().transactionVersion(0).start();
        }
    },

    /** A Kafka 3.9 cluster (before KIP-890; the feature does not exist): a child JVM. */
    KAFKA_3_9("Kafka 3.9 (before KIP-890), child process", 0) {
        @Override
        public TestKafka start() {
            return ChildProcessKafka.start();
        }
    };

    /** System property: a comma-separated list of kinds for {@link #selected()} (default: all). */
    public static final String SELECTED_PROPERTY = "edgestreaming.kafka.kinds";

    private final String description;
    private final int expectedTransactionVersion;

    KafkaBrokerKind(String description, int expectedTransactionVersion) {
        this.description = description;
        this.expectedTransactionVersion = expectedTransactionVersion;
    }

    /** Starts a new broker of this kind; the caller closes it. */
    public abstract TestKafka start();

    /** The finalized transaction.version a broker of this kind reports (0 when it has none). */
    public int expectedTransactionVersion() {
        return expectedTransactionVersion;
    }

    public String description() {
        return description;
    }

    /**
     * The kinds named by the system property {@value #SELECTED_PROPERTY} (e.g.
     * {@code -Dedgestreaming.kafka.kinds=KAFKA_4_2_TV2,KAFKA_3_9}), all of them when it is not set: for a
     * {@code @MethodSource} that lets a run narrow the matrix.
     */
    public static List<KafkaBrokerKind> selected() {
        String property = System.getProperty(SELECTED_PROPERTY, "").trim();
        if (property.isEmpty()) {
            return List.of(values());
        }
        EnumSet<KafkaBrokerKind> kinds = EnumSet.noneOf(KafkaBrokerKind.class);
        for (String name : property.split(",")) {
            if (!name.isBlank()) {
                try {
                    kinds.add(valueOf(name.trim().toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(SELECTED_PROPERTY + ": unknown broker kind " + name.trim()
                            + "; kinds are " + List.of(values()), e);
                }
            }
        }
        return new ArrayList<>(kinds);
    }

    @Override
    public String toString() {
        return name() + " (" + description + ")";
    }
}
