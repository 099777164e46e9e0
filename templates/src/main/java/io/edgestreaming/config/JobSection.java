package io.edgestreaming.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.edgestreaming.templates.DataSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The top-level mapping: each section in turn, then what spans sections (a block against delivery's
 * budgets, the spool against the dead-letter store) and the endpoints' addresses.
 */
final class JobSection {
    static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(30);
    /**
     * Half the dead-letter writer's transaction timeout: a transaction stays open until the checkpoint
     * after it completes, and a slow checkpoint must not let the broker abort it (its dead letters would be
     * written again, late).
     */
    static final Duration MAX_CHECKPOINT_INTERVAL = DeadLetterConfig.TRANSACTION_TIMEOUT.dividedBy(2);

    private JobSection() {}

    /** One pass over one configuration tree; null when anything is wrong ({@code problems} says what). */
    static JobConfig read(JsonNode root, Problems problems, References references, Path baseDir,
            AddressPolicy.Resolver resolver, Consumer<String> warnings) {
        if (!root.isObject()) {
            problems.add("", "the configuration must be a mapping (source, dead_letter, delivery,"
                    + " checkpoint_interval, streams), was " + Section.kind(root));
            return null;
        }
        Section top = Section.of(root, "", problems, references);
        Section sourceSection = top.section("source", true);
        Map<DataSource, String> topics = new EnumMap<>(DataSource.class);
        SourceConfig source = sourceSection == null ? null : SourceSection.read(sourceSection, topics);
        Section deadLetterSection = top.section("dead_letter", true);
        DeadLetterConfig deadLetter = deadLetterSection == null ? null : DeadLetterSection.read(deadLetterSection, topics);
        Section deliverySection = orEmpty(top, "delivery");
        DeliveryConfig delivery = deliverySection == null ? null : DeliverySection.read(deliverySection);
        // Flink takes checkpoints down to 10 ms, but each one commits transactions and releases blocks.
        Duration checkpointInterval = top.duration("checkpoint_interval", Duration.ofMillis(100),
                MAX_CHECKPOINT_INTERVAL, DEFAULT_CHECKPOINT_INTERVAL,
                "the dead-letter topic's Kafka transactions time out after "
                        + Durations.format(DeadLetterConfig.TRANSACTION_TIMEOUT)
                        + " and each stays open until the checkpoint after it completes");
        List<StreamConfig> streams = StreamSection.list(top, topics, checkpointInterval, baseDir);
        Long batchingKeys = top.integer("batching_keys_per_stream", 1, Limits.MAX_BATCHING_KEYS_PER_STREAM,
                (long) JobConfig.DEFAULT_BATCHING_KEYS_PER_STREAM);
        AddressPolicy addressPolicy = EndpointAddresses.allowedNetworks(top);
        if (streams != null) {
            EndpointAddresses.check(streams, addressPolicy, resolver, problems, warnings);
        }
        if (delivery != null && streams != null) {
            for (int i = 0; i < streams.size(); i++) {
                StreamConfig s = streams.get(i);
                if (s != null && s.batching().maxSize() > delivery.maxPendingBytesPerDestination()) {
                    problems.add("delivery.max_pending_bytes_per_destination", "must be at least the largest block ("
                            + s.batching().maxSize() + " bytes, streams[" + i + "]), was "
                            + delivery.maxPendingBytesPerDestination());
                    break;
                }
            }
            for (int i = 0; i < streams.size(); i++) {
                StreamConfig s = streams.get(i);
                if (s != null && delivery.memoryBudget() != DeliveryConfig.DERIVED_MEMORY_BUDGET
                        && s.batching().maxSize() > delivery.memoryBudget()) {
                    // Each destination may always hold one block: a smaller budget could not be kept.
                    problems.add("delivery.memory_budget", "must be at least the largest block ("
                            + s.batching().maxSize() + " bytes, streams[" + i + "]), was " + delivery.memoryBudget());
                    break;
                }
            }
        }
        if (delivery != null && delivery.spoolPath() != null && deadLetter != null && deadLetter.blocksPath() != null
                && trimSlashes(delivery.spoolPath()).equals(trimSlashes(deadLetter.blocksPath()))) {
            problems.add("delivery.spool_path", "must differ from dead_letter.blocks_path (spooled blocks are not dead letters)");
        }
        top.finish();
        if (!problems.isEmpty()) {
            return null;
        }
        return new JobConfig(source, deadLetter, delivery, checkpointInterval, List.copyOf(streams),
                batchingKeys.intValue(), addressPolicy);
    }

    private static Section orEmpty(Section parent, String key) {
        JsonNode n = parent.get(key);
        JsonNode node = n == null ? JsonNodeFactory.instance.objectNode() : n;
        return Section.of(node, parent.pathOf(key), parent.problems(), parent.references());
    }

    private static String trimSlashes(String path) {
        String p = path;
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }
}
