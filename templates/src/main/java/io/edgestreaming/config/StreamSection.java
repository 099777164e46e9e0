package io.edgestreaming.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.templates.Template;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** {@code streams}: the list, and each stream's keys but its template and its endpoint's own. */
final class StreamSection {
    static final int DEFAULT_MAX_RECORDS = 2000;
    static final Duration DEFAULT_MAX_INTERVAL = Duration.ofSeconds(60);
    /** Azion documents the range of max_size (1,000,000 to 2,147,483,647) but no default; ours is 5 MB. */
    static final long DEFAULT_MAX_SIZE = 5_000_000L;
    /** One block per Kafka message must fit the broker's default message.max.bytes (1,048,588). */
    static final long DEFAULT_KAFKA_BLOCK_MAX_SIZE = 1_000_000L;
    static final long MIN_MAX_SIZE = 1_000_000L;
    static final long MAX_MAX_SIZE = Integer.MAX_VALUE;

    private static final Pattern CLIENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");

    private StreamSection() {}

    /** {@code streams}: each stream in order (null for a refused one), or null when the list itself is refused. */
    static List<StreamConfig> list(Section top, Map<DataSource, String> topics, Duration checkpointInterval, Path baseDir) {
        List<JsonNode> nodes = top.list("streams");
        if (nodes == null) {
            if (!top.has("streams")) {
                top.problem("streams", "is required (a list of streams)");
            }
            return null;
        }
        if (nodes.isEmpty()) {
            top.problem("streams", "must hold at least one stream");
            return null;
        }
        if (nodes.size() > Limits.MAX_STREAMS) {
            // Not validated one by one: the count alone refuses the file.
            top.problem("streams", "has " + nodes.size() + " streams; at most " + Limits.MAX_STREAMS
                    + " in one configuration (split the streams over several jobs)");
            return null;
        }
        List<StreamConfig> streams = new ArrayList<>();
        Map<Long, Integer> ids = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            Section s = Section.of(nodes.get(i), "streams[" + i + "]", top.problems(), top.references());
            StreamConfig stream = s == null ? null : read(s, topics, checkpointInterval, baseDir);
            if (s != null) {
                JsonNode id = nodes.get(i).get("id");
                if (id != null && id.isIntegralNumber() && id.canConvertToLong()) {
                    Integer first = ids.putIfAbsent(id.longValue(), i);
                    if (first != null) {
                        s.problem("id", "duplicate id " + id.longValue() + " (also streams[" + first + "])");
                    }
                }
            }
            streams.add(stream);
        }
        return streams;
    }

    static StreamConfig read(Section s, Map<DataSource, String> topics, Duration checkpointInterval, Path baseDir) {
        Long id = s.integer("id", 1, Long.MAX_VALUE, null);
        String name = s.string("name", true, 250);
        if (name != null && name.isBlank()) {
            s.problem("name", "must not be blank");
        }
        String client = s.string("client", true, 64);
        if (client != null && !CLIENT.matcher(client).matches()) {
            s.problem("client", "must be a client id of letters, digits, '_', '.', '-' (e.g. 4529r)");
        }
        // http is Azion's default data source too.
        DataSource dataSource = s.choice("data_source",
                Section.options(Map.entry("http", DataSource.HTTP), Map.entry("waf", DataSource.WAF)), DataSource.HTTP,
                false);
        if (dataSource != null && !topics.isEmpty() && !topics.containsKey(dataSource)) {
            s.problem("data_source", dataSource.id() + " has no topic in source.topics");
        }
        Template template = StreamTemplate.read(s, dataSource);
        boolean[] allDomains = {false};
        List<String> domains = domains(s, allDomains);
        double sampling = sampling(s, allDomains[0]);
        Boolean active = s.bool("active", true);
        Long maxRecords = s.integer("max_records", 1, 2000, (long) DEFAULT_MAX_RECORDS);
        // Below 100 ms blocks degenerate into per-event requests; past 15 min records wait in state
        // (and every checkpoint) for long and customers see their logs late.
        Duration maxInterval = s.duration("max_interval", Duration.ofMillis(100), Duration.ofMinutes(15),
                DEFAULT_MAX_INTERVAL);
        Section e = s.section("endpoint", true);
        Endpoint endpoint = null;
        String type = null;
        if (e != null) {
            type = e.choice("endpoint_type", Section.options(Map.entry("standard", "standard"),
                    Map.entry("kafka", "kafka"), Map.entry("s3", "s3")), null, true);
            if (type != null) {
                endpoint = switch (type) {
                    case "standard" -> HttpEndpointSection.read(e, baseDir);
                    case "kafka" -> KafkaEndpointSection.read(e, checkpointInterval, baseDir);
                    default -> S3EndpointSection.read(e);
                };
                String t = type;
                e.finish(key -> EndpointSection.keyHint(key, t, s.path()));
            }
        }
        long maxSize = DEFAULT_MAX_SIZE;
        if ("standard".equals(type)) {
            if (s.has("max_size")) {
                s.problem("max_size", "is not used with endpoint_type standard; set endpoint.max_size (Azion's name)");
            }
            if (endpoint instanceof HttpEndpoint http) {
                maxSize = http.maxSize();
            }
        } else {
            long dflt = endpoint instanceof KafkaEndpoint k && k.messageFormat() == KafkaEndpoint.MessageFormat.BLOCK
                    ? DEFAULT_KAFKA_BLOCK_MAX_SIZE
                    : DEFAULT_MAX_SIZE;
            Long v = s.integer("max_size", MIN_MAX_SIZE, MAX_MAX_SIZE, dflt);
            maxSize = v == null ? dflt : v;
        }
        s.accept("domain_ids", "all_domains", "sampling_percentage");
        s.finish();
        if (id == null || name == null || client == null || dataSource == null || template == null
                || domains == null || active == null || maxRecords == null || maxInterval == null
                || endpoint == null) {
            return null;
        }
        return new StreamConfig(id, name, client, dataSource, template, domains, allDomains[0], sampling, active,
                endpoint, new BatchingConfig(maxRecords.intValue(), maxInterval, maxSize));
    }

    private static List<String> domains(Section s, boolean[] allDomainsOut) {
        boolean hasDomains = s.has("domains");
        boolean hasIds = s.has("domain_ids");
        if (hasDomains && hasIds) {
            s.problem("domain_ids", "is Azion's name for domains; set only one of them");
            return null;
        }
        String key = hasIds ? "domain_ids" : "domains";
        Boolean all = s.bool("all_domains", false);
        if (all == null) {
            return null;
        }
        allDomainsOut[0] = all;
        List<JsonNode> nodes = s.list(key);
        if (nodes == null && s.has(key)) {
            return null; // not a list, reported
        }
        if (all) {
            if (nodes != null && !nodes.isEmpty()) {
                s.problem(key, "must be empty or absent when all_domains is true");
                return null;
            }
            return List.of();
        }
        if (nodes == null || nodes.isEmpty()) {
            s.problem(key, "must list at least one domain unless all_domains is true");
            return null;
        }
        Set<String> domains = new LinkedHashSet<>();
        boolean ok = true;
        for (int i = 0; i < nodes.size(); i++) {
            String path = s.pathOf(key) + "[" + i + "]";
            JsonNode n = nodes.get(i);
            if (!n.isTextual()) {
                s.problems().add(path, "must be a host name, was " + Section.kind(n)
                        + (n.isIntegralNumber() ? " (numeric Azion domain ids are not known here: list host names)" : ""));
                ok = false;
                continue;
            }
            References.Text t = s.references().resolve(n.textValue(), path, s.problems());
            if (t == null) {
                ok = false;
                continue;
            }
            String domain = t.value().toLowerCase(Locale.ROOT);
            String host = domain.startsWith("*.") ? domain.substring(2) : domain;
            String bad = domain.equals("*")
                    ? "is not a domain; set all_domains: true for every domain of the client"
                    : host.contains("*")
                            ? "has a wildcard that is not a whole first label (write *.example.com)"
                            : Names.hostNameProblem(host);
            if (bad != null) {
                s.problems().add(path, t.shown() + " " + bad);
                ok = false;
            } else if (!domains.add(domain)) {
                s.problems().add(path, (t.origin() == null ? "'" + domain + "'" : t.shown()) + " is listed twice");
                ok = false;
            }
        }
        return ok ? List.copyOf(domains) : null;
    }

    private static double sampling(Section s, boolean allDomains) {
        if (!s.has("sampling_percentage")) {
            return 100.0;
        }
        Double v = s.number("sampling_percentage", 100.0);
        if (v == null) {
            return 100.0;
        }
        // The router draws in steps of 0.01 %: a smaller share would silently keep nothing.
        if (!(v >= 0.01 && v <= 100.0)) {
            s.problem("sampling_percentage", "must be between 0.01 (the sampling resolution) and 100, was " + v
                    + (v == 0.0 ? " (to send nothing set active: false)" : ""));
        } else if (!allDomains) {
            s.problem("sampling_percentage", "is only allowed with all_domains: true (Azion's rule)");
        }
        return v;
    }
}
