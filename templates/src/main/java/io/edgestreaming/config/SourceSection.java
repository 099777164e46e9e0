package io.edgestreaming.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgestreaming.templates.DataSource;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** {@code source}: the Kafka cluster, the topic of each data source and the consumer's settings. */
final class SourceSection {
    static final String DEFAULT_GROUP_ID = "edge-streaming";
    static final int DEFAULT_MAX_EVENT_BYTES = 1 << 20;
    /** Consumer properties the job sets itself; overriding them would break reading or its guarantees. */
    private static final Map<String, String> OWNED_CONSUMER_PROPERTIES = Map.of(
            "bootstrap.servers", "set source.bootstrap_servers instead",
            "group.id", "set source.group_id instead",
            "auto.offset.reset", "set source.starting_position instead",
            "enable.auto.commit", "is set by the job: offsets are committed with checkpoints",
            "isolation.level", "is set by the job (read_committed)",
            "key.deserializer", "is set by the job (raw bytes)",
            "value.deserializer", "is set by the job (raw bytes)");

    private SourceSection() {}

    /** {@code topics} gets the topic of each declared data source, for the sections read after this one. */
    static SourceConfig read(Section s, Map<DataSource, String> topics) {
        References.Text bootstrapText = s.text("bootstrap_servers", true, 1000);
        String bootstrap = checkHostPorts(s, "bootstrap_servers", bootstrapText);
        Section t = s.section("topics", true);
        if (t != null) {
            Map<String, String> byTopic = new HashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = t.entries(); it.hasNext(); ) {
                String key = it.next().getKey();
                DataSource ds = DataSource.fromId(key).orElse(null);
                if (ds == null || !ds.id().equals(key)) {
                    t.accept(key);
                    String closest = Names.closest(key, List.of("http", "waf"));
                    t.problem(key, "unknown data source (known: http, waf)"
                            + (closest != null ? "; did you mean " + closest + "?" : ""));
                    continue;
                }
                String topic = t.string(key, true, 249);
                // Declared even when refused, so streams of this data source get no second problem.
                topics.put(ds, topic == null ? "" : topic);
                if (topic == null) {
                    continue;
                }
                String bad = Names.kafkaTopicProblem(topic);
                if (bad != null) {
                    t.problem(key, bad);
                    continue;
                }
                String other = byTopic.putIfAbsent(topic, key);
                if (other != null) {
                    // Events of one topic cannot be told apart by data source.
                    t.problem(key, "is the same topic as source.topics." + other + "; each data source needs its own");
                }
            }
            if (t.isEmpty()) {
                s.problem("topics", "must name the topic of at least one data source (http, waf)");
            }
        }
        String groupId = s.string("group_id", false, 255);
        if (groupId != null && groupId.isBlank()) {
            s.problem("group_id", "must not be blank");
        }
        SourceConfig.StartingPosition start = s.choice("starting_position", Section.options(
                        Map.entry("committed_or_earliest", SourceConfig.StartingPosition.COMMITTED_OR_EARLIEST),
                        Map.entry("committed_or_latest", SourceConfig.StartingPosition.COMMITTED_OR_LATEST),
                        Map.entry("earliest", SourceConfig.StartingPosition.EARLIEST),
                        Map.entry("latest", SourceConfig.StartingPosition.LATEST)),
                SourceConfig.StartingPosition.COMMITTED_OR_EARLIEST, false);
        Long maxEventBytes = s.integer("max_event_bytes", 1024, 64L << 20, (long) DEFAULT_MAX_EVENT_BYTES);
        Map<String, Secret> properties = new TreeMap<>();
        Section p = s.section("properties", false);
        if (p != null) {
            for (Iterator<Map.Entry<String, JsonNode>> it = p.entries(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                p.accept(e.getKey());
                String owned = OWNED_CONSUMER_PROPERTIES.get(e.getKey());
                if (owned != null) {
                    p.problem(e.getKey(), owned);
                    continue;
                }
                if (e.getValue().isNull()) {
                    p.problem(e.getKey(), "must have a value");
                    continue;
                }
                References.Text v = Section.scalarText(e.getValue(), p.pathOf(e.getKey()), p.problems(), p.references());
                if (v != null) {
                    properties.put(e.getKey(), Secret.of(v.value()));
                }
            }
        }
        s.finish();
        return new SourceConfig(bootstrap, Collections.unmodifiableMap(new EnumMap<>(topics)),
                groupId == null ? DEFAULT_GROUP_ID : groupId, start,
                maxEventBytes == null ? DEFAULT_MAX_EVENT_BYTES : maxEventBytes.intValue(),
                Collections.unmodifiableMap(properties));
    }

    /** The value, after reporting what is wrong with it as a host:port list (null when absent); Kafka endpoints' too. */
    static String checkHostPorts(Section s, String key, References.Text text) {
        if (text != null) {
            // A referenced value is never quoted back, not even the entry that is wrong.
            String bad = Names.hostPortListProblem(text.value(), text.origin() == null ? null : text.shown());
            if (bad != null) {
                s.problem(key, bad);
            }
        }
        return text == null ? null : text.value();
    }
}
