package io.edgestreaming.config;

import io.edgestreaming.templates.DataSource;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;

/** {@code dead_letter}: the topic dead letters go to and the store of their blocks. */
final class DeadLetterSection {
    static final String DEFAULT_DEAD_LETTER_TOPIC = "edge-streaming-dead-letter";

    private DeadLetterSection() {}

    static DeadLetterConfig read(Section s, Map<DataSource, String> topics) {
        String topic = s.string("events_topic", false, 249);
        if (topic == null && !s.has("events_topic")) {
            topic = DEFAULT_DEAD_LETTER_TOPIC;
        }
        if (topic != null) {
            String bad = Names.kafkaTopicProblem(topic);
            if (bad != null) {
                s.problem("events_topic", bad);
            } else {
                for (Map.Entry<DataSource, String> e : topics.entrySet()) {
                    if (e.getValue().equals(topic)) {
                        // The job would read its own dead letters back as events.
                        s.problem("events_topic", "must differ from source.topics." + e.getKey().id());
                    }
                }
            }
        }
        References.Text path = s.text("blocks_path", true, 4096);
        if (path != null) {
            String bad = storePathProblem(path);
            if (bad != null) {
                s.problem("blocks_path", bad);
            }
        }
        s.finish();
        return new DeadLetterConfig(topic, path == null ? null : path.value());
    }

    /** What is wrong with a Flink FileSystem location (dead-letter store, spool), or null. */
    static String storePathProblem(References.Text path) {
        try {
            URI uri = new URI(path.value());
            if (uri.getScheme() == null || uri.getScheme().length() < 2) {
                return "must be a URI with a scheme (file:///var/lib/edge/dead-letter, s3://bucket/prefix), was "
                        + path.shown();
            } else if (uri.getRawUserInfo() != null) {
                return "must not carry credentials (user:password@)";
            } else if (!uri.getScheme().equalsIgnoreCase("file") && uri.getAuthority() == null) {
                return "must name its bucket or host (" + (path.origin() == null ? uri.getScheme() : "scheme")
                        + "://bucket/path)";
            }
            return null;
        } catch (URISyntaxException e) {
            return "is not a valid URI (" + e.getReason() + " at index " + e.getIndex() + ")";
        }
    }
}
