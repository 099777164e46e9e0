package io.edgestreaming.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.fasterxml.jackson.dataformat.yaml.snakeyaml.error.MarkedYAMLException;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.templates.Template;
import io.edgestreaming.templates.TemplateException;
import io.edgestreaming.templates.Templates;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Loads the job configuration (YAML, or JSON which YAML reads too), resolves {@code ${env:NAME}} and
 * {@code ${file:PATH}} references and validates everything, reporting every problem at once with its
 * path. Key names follow Azion's Data Streaming API v3 where Azion has them, so Azion-shaped stream
 * definitions are accepted unchanged.
 *
 * <p>The tree model is fine here: this runs once per job start, not per event.
 */
public final class ConfigLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
    // Not strict about duplicate keys: that aborts at the first one; checkTokens lists them all instead.
    private static final YAMLFactory YAML = YAMLFactory.builder().loaderOptions(codePointLimit()).build();
    private static final ObjectMapper YAML_MAPPER = new ObjectMapper(YAML);
    private static final ObjectMapper JSON = new ObjectMapper();

    static final String DEFAULT_GROUP_ID = "edge-streaming";
    static final String DEFAULT_DEAD_LETTER_TOPIC = "edge-streaming-dead-letter";
    /** The smallest delivery.memory_budget: below it the spool would be busier than the endpoints. */
    static final long MIN_MEMORY_BUDGET = 1L << 20;
    static final int DEFAULT_MAX_EVENT_BYTES = 1 << 20;
    static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(30);
    /**
     * Half the dead-letter sink's transaction timeout: a transaction stays open until the checkpoint
     * after it completes, and a slow checkpoint must not let the broker abort it (losing dead letters).
     */
    static final Duration MAX_CHECKPOINT_INTERVAL = DeadLetterConfig.TRANSACTION_TIMEOUT.dividedBy(2);
    static final int DEFAULT_MAX_RECORDS = 2000;
    static final Duration DEFAULT_MAX_INTERVAL = Duration.ofSeconds(60);
    /** Azion documents the range of max_size (1,000,000 to 2,147,483,647) but no default; ours is 5 MB. */
    static final long DEFAULT_MAX_SIZE = 5_000_000L;
    /** One block per Kafka message must fit the broker's default message.max.bytes (1,048,588). */
    static final long DEFAULT_KAFKA_BLOCK_MAX_SIZE = 1_000_000L;
    static final long MIN_MAX_SIZE = 1_000_000L;
    static final long MAX_MAX_SIZE = Integer.MAX_VALUE;

    private static final Pattern CLIENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
    /**
     * Headers the HTTP transport owns: framing, connection handling, the compression it applies and the
     * per-block Idempotency-Key; the same set as the transport's HttpHeaderRules, so the job graph
     * never refuses what loading accepted.
     */
    private static final Set<String> RESERVED_HEADERS = Set.of(
            "host", "content-length", "transfer-encoding", "connection", "expect", "upgrade", "te",
            "trailer", "keep-alive", "proxy-connection", "content-encoding", "idempotency-key", "http2-settings");
    /** Consumer properties the job sets itself; overriding them would break reading or its guarantees. */
    private static final Map<String, String> OWNED_CONSUMER_PROPERTIES = Map.of(
            "bootstrap.servers", "set source.bootstrap_servers instead",
            "group.id", "set source.group_id instead",
            "auto.offset.reset", "set source.starting_position instead",
            "enable.auto.commit", "is set by the job: offsets are committed with checkpoints",
            "isolation.level", "is set by the job (read_committed)",
            "key.deserializer", "is set by the job (raw bytes)",
            "value.deserializer", "is set by the job (raw bytes)");
    private static final Map<String, String> ENDPOINT_KEY_OWNER = endpointKeyOwners();

    private static final Consumer<String> LOGGED = w -> LOG.warn("Configuration: {}", w);

    private ConfigLoader() {}

    /** Loads {@code file}; {@code ${file:PATH}} references are relative to its directory. */
    public static JobConfig load(Path file) throws ConfigException {
        return load(file, System::getenv);
    }

    /**
     * As {@link #load(Path)} with {@code ${env:NAME}} looked up in {@code env} (null for unset), for
     * in-process runners that cannot set the process environment.
     */
    public static JobConfig load(Path file, Function<String, String> env) throws ConfigException {
        return load(file, env, LOGGED);
    }

    /**
     * As {@link #load(Path, Function)}; {@code warnings} gets what is accepted but worth a look (a host
     * that does not resolve now), which the other methods log.
     */
    public static JobConfig load(Path file, Function<String, String> env, Consumer<String> warnings) throws ConfigException {
        String content;
        try {
            long size = Files.size(file);
            if (size > Limits.MAX_CONFIG_BYTES) {
                throw new ConfigException(List.of(file + ": " + tooLarge(size)));
            }
            content = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(List.of(file + ": cannot read the configuration: the file does not exist"));
        } catch (MalformedInputException e) {
            throw new ConfigException(List.of(file + ": cannot read the configuration: it is not UTF-8 text"));
        } catch (IOException e) {
            throw new ConfigException(List.of(file + ": cannot read the configuration: "
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage())));
        }
        Path dir = file.toAbsolutePath().getParent();
        return parse(content, env, dir == null ? Path.of("").toAbsolutePath() : dir, AddressPolicy.SYSTEM, warnings);
    }

    /** Parses a configuration; references read the process environment and files relative to the working directory. */
    public static JobConfig parse(String content) throws ConfigException {
        return parse(content, System::getenv, Path.of("").toAbsolutePath());
    }

    /**
     * Parses a configuration with an injectable environment ({@code env} returns null for an unset
     * variable) and the directory {@code ${file:PATH}} is relative to.
     */
    public static JobConfig parse(String content, Function<String, String> env, Path baseDir) throws ConfigException {
        return parse(content, env, baseDir, AddressPolicy.SYSTEM, LOGGED);
    }

    /** As above, endpoint hosts looked up with {@code resolver} and warnings given to {@code warnings}. */
    static JobConfig parse(String content, Function<String, String> env, Path baseDir, AddressPolicy.Resolver resolver,
            Consumer<String> warnings) throws ConfigException {
        Problems problems = new Problems();
        JsonNode root = readTree(content, problems);
        JobConfig config = null;
        if (root != null) {
            config = new Reader(problems, new References(env, baseDir), baseDir, resolver, warnings).job(root);
        }
        if (!problems.isEmpty() || config == null) {
            throw new ConfigException(problems.list());
        }
        return config;
    }

    /** SnakeYAML stops at 3 M code points by default, below the file's own limit (bytes, checked before parsing). */
    private static LoaderOptions codePointLimit() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit((int) Limits.MAX_CONFIG_BYTES);
        return options;
    }

    private static String tooLarge(long bytes) {
        return "the configuration has " + bytes + " bytes; at most " + Limits.bytes(Limits.MAX_CONFIG_BYTES)
                + " (" + Limits.MAX_CONFIG_BYTES + " bytes) are read";
    }

    /** UTF-8 length of {@code s}, counted without copying it. */
    private static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    private static JsonNode readTree(String content, Problems problems) {
        if (content.length() > Limits.MAX_CONFIG_BYTES / 3) {
            long bytes = utf8Length(content);
            if (bytes > Limits.MAX_CONFIG_BYTES) {
                problems.add("", tooLarge(bytes));
                return null;
            }
        }
        if (content.isBlank()) {
            problems.add("", "the configuration is empty");
            return null;
        }
        try {
            try (JsonParser p = YAML.createParser(content)) {
                if (!checkTokens(p, problems)) {
                    return null;
                }
            }
            try (JsonParser p = YAML.createParser(content)) {
                JsonNode root = YAML_MAPPER.readTree(p);
                if (p.nextToken() != null) {
                    problems.add("", "holds more than one YAML document (---); put everything in one");
                    return null;
                }
                if (root == null || root.isNull() || root.isMissingNode()) {
                    problems.add("", "the configuration is empty");
                    return null;
                }
                return root;
            }
        } catch (JsonProcessingException e) {
            problems.add("", syntaxError(e));
            return null;
        } catch (IOException e) {
            problems.add("", "cannot parse: " + e.getClass().getSimpleName());
            return null;
        }
    }

    /**
     * Reports every duplicate key at its path (the tree keeps the last value, so validation goes on) and
     * refuses aliases; false when the tree must not be read. Messages name keys, never values.
     */
    private static boolean checkTokens(JsonParser p, Problems problems) throws IOException {
        record Level(String path, Map<String, Integer> keyLines, int[] index) {}
        List<Level> levels = new ArrayList<>();
        String key = null;
        JsonToken t;
        while ((t = p.nextToken()) != null) {
            // Jackson reads a YAML alias (*name) as the anchor's name, silently: refuse them instead.
            if (p instanceof YAMLParser y && y.isCurrentAlias()) {
                problems.add("", "line " + p.currentLocation().getLineNr()
                        + ": YAML aliases (*name) are not supported; write the value out");
                return false;
            }
            Level up = levels.isEmpty() ? null : levels.get(levels.size() - 1);
            if (t == JsonToken.FIELD_NAME) {
                key = p.currentName();
                int line = p.currentTokenLocation().getLineNr();
                Integer first = up.keyLines().putIfAbsent(key, line);
                if (first != null) {
                    problems.add(Section.child(up.path(), key),
                            "duplicate key (" + (first == line ? "twice on line " + line
                                    : "lines " + first + " and " + line) + "); keep one");
                }
                continue;
            }
            if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                levels.remove(levels.size() - 1);
                continue;
            }
            String path = up == null ? "" : up.keyLines() != null ? Section.child(up.path(), key)
                    : up.path() + "[" + up.index()[0]++ + "]";
            if (t == JsonToken.START_OBJECT) {
                levels.add(new Level(path, new HashMap<>(), null));
            } else if (t == JsonToken.START_ARRAY) {
                levels.add(new Level(path, null, new int[1]));
            }
        }
        return true;
    }

    /** Line, column and the parser's problem, without the snippet of the offending line (it may hold a secret). */
    private static String syntaxError(JsonProcessingException e) {
        String what;
        if (e instanceof MarkedYAMLException m && m.getProblem() != null) {
            what = m.getProblem();
        } else {
            what = e.getOriginalMessage();
        }
        if (what != null) {
            int newline = what.indexOf('\n');
            what = newline < 0 ? what : what.substring(0, newline);
        }
        JsonLocation loc = e.getLocation();
        String where = loc == null ? "" : "line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ": ";
        return "invalid YAML: " + where + (what == null ? e.getClass().getSimpleName() : what);
    }

    private static Map<String, String> endpointKeyOwners() {
        Map<String, String> m = new HashMap<>();
        for (String k : List.of("url", "headers", "log_line_separator", "payload_format", "ca_bundle")) {
            m.put(k, "standard");
        }
        for (String k : List.of("bootstrap_servers", "kafka_topic", "use_tls", "sasl", "ca_file", "message_format",
                "transaction_timeout")) {
            m.put(k, "kafka");
        }
        for (String k : List.of("host_url", "bucket_name", "region", "access_key", "secret_key", "object_key_prefix",
                "content_type", "key_layout")) {
            m.put(k, "s3");
        }
        return m;
    }

    private static String trimSlashes(String path) {
        String p = path;
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    /** One pass over one configuration tree. */
    private static final class Reader {
        private final Problems problems;
        private final References references;
        private final Path baseDir;
        private final AddressPolicy.Resolver resolver;
        private final Consumer<String> warnings;

        Reader(Problems problems, References references, Path baseDir, AddressPolicy.Resolver resolver,
                Consumer<String> warnings) {
            this.problems = problems;
            this.references = references;
            this.baseDir = baseDir;
            this.resolver = resolver;
            this.warnings = warnings;
        }

        private Section orEmpty(Section parent, String key) {
            JsonNode n = parent.get(key);
            JsonNode node = n == null ? JsonNodeFactory.instance.objectNode() : n;
            return Section.of(node, parent.pathOf(key), problems, references);
        }

        JobConfig job(JsonNode root) {
            if (!root.isObject()) {
                problems.add("", "the configuration must be a mapping (source, dead_letter, delivery,"
                        + " checkpoint_interval, streams), was " + Section.kind(root));
                return null;
            }
            Section top = Section.of(root, "", problems, references);
            Section sourceSection = top.section("source", true);
            Map<DataSource, String> topics = new EnumMap<>(DataSource.class);
            SourceConfig source = sourceSection == null ? null : source(sourceSection, topics);
            Section deadLetterSection = top.section("dead_letter", true);
            DeadLetterConfig deadLetter = deadLetterSection == null ? null : deadLetter(deadLetterSection, topics);
            Section deliverySection = orEmpty(top, "delivery");
            DeliveryConfig delivery = deliverySection == null ? null : delivery(deliverySection);
            // Flink takes checkpoints down to 10 ms, but each one commits transactions and releases blocks.
            Duration checkpointInterval = top.duration("checkpoint_interval", Duration.ofMillis(100),
                    MAX_CHECKPOINT_INTERVAL, DEFAULT_CHECKPOINT_INTERVAL,
                    "the dead-letter topic's Kafka transactions time out after "
                            + Durations.format(DeadLetterConfig.TRANSACTION_TIMEOUT)
                            + " and each stays open until the checkpoint after it completes");
            List<StreamConfig> streams = streams(top, topics, checkpointInterval);
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

        // ---- source ----

        SourceConfig source(Section s, Map<DataSource, String> topics) {
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
                    References.Text v = Section.scalarText(e.getValue(), p.pathOf(e.getKey()), problems, references);
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

        /** The value, after reporting what is wrong with it as a host:port list (null when absent). */
        private String checkHostPorts(Section s, String key, References.Text text) {
            if (text != null) {
                // A referenced value is never quoted back, not even the entry that is wrong.
                String bad = Names.hostPortListProblem(text.value(), text.origin() == null ? null : text.shown());
                if (bad != null) {
                    s.problem(key, bad);
                }
            }
            return text == null ? null : text.value();
        }

        // ---- dead letter ----

        DeadLetterConfig deadLetter(Section s, Map<DataSource, String> topics) {
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
        private static String storePathProblem(References.Text path) {
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

        // ---- delivery ----

        DeliveryConfig delivery(Section s) {
            Duration requestTimeout = s.duration("request_timeout", Duration.ofMillis(100), Duration.ofMinutes(10),
                    Duration.ofSeconds(20));
            Duration initialBackoff = s.duration("initial_backoff", Duration.ofMillis(1), Duration.ofHours(1),
                    Duration.ofSeconds(1));
            Duration maxBackoff = s.duration("max_backoff", Duration.ofMillis(1), Duration.ofHours(24),
                    Duration.ofMinutes(5));
            Duration maxRetry = s.duration("max_retry_duration", Duration.ofSeconds(1), Duration.ofDays(30),
                    Duration.ofHours(24));
            Long maxBlocks = s.integer("max_pending_blocks_per_destination", 1, 100_000_000, 10_000L);
            Long maxBytes = s.integer("max_pending_bytes_per_destination", 1, Long.MAX_VALUE, 1L << 30);
            Long memoryBudget = s.integer("memory_budget", MIN_MEMORY_BUDGET, Long.MAX_VALUE, DeliveryConfig.DERIVED_MEMORY_BUDGET);
            String spoolPath = null;
            References.Text spool = s.text("spool_path", false, 4096);
            if (spool != null) {
                String bad = storePathProblem(spool);
                if (bad != null) {
                    s.problem("spool_path", bad);
                } else {
                    spoolPath = spool.value();
                }
            }
            if (initialBackoff != null && maxBackoff != null && maxBackoff.compareTo(initialBackoff) < 0) {
                s.problem("max_backoff", "must be at least initial_backoff (" + Durations.format(initialBackoff)
                        + "), was " + Durations.format(maxBackoff));
            }
            if (requestTimeout != null && maxRetry != null && maxRetry.compareTo(requestTimeout) < 0) {
                s.problem("max_retry_duration", "must be at least request_timeout (" + Durations.format(requestTimeout)
                        + "), was " + Durations.format(maxRetry));
            }
            s.finish();
            if (requestTimeout == null || initialBackoff == null || maxBackoff == null || maxRetry == null
                    || maxBlocks == null || maxBytes == null) {
                return null;
            }
            return new DeliveryConfig(requestTimeout, initialBackoff, maxBackoff, maxRetry, maxBlocks.intValue(), maxBytes,
                    memoryBudget == null ? DeliveryConfig.DERIVED_MEMORY_BUDGET : memoryBudget, spoolPath);
        }

        // ---- streams ----

        List<StreamConfig> streams(Section top, Map<DataSource, String> topics, Duration checkpointInterval) {
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
                Section s = Section.of(nodes.get(i), "streams[" + i + "]", problems, references);
                StreamConfig stream = s == null ? null : stream(s, topics, checkpointInterval);
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

        StreamConfig stream(Section s, Map<DataSource, String> topics, Duration checkpointInterval) {
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
            Template template = template(s, dataSource);
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
                        case "standard" -> http(e);
                        case "kafka" -> kafka(e, checkpointInterval);
                        default -> s3(e);
                    };
                    String t = type;
                    e.finish(key -> endpointKeyHint(key, t, s.path()));
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

        private String endpointKeyHint(String key, String type, String streamPath) {
            if (key.equals("max_size")) {
                return "is not used with endpoint_type " + type + "; set " + streamPath + ".max_size";
            }
            String owner = ENDPOINT_KEY_OWNER.get(key);
            if (owner != null && !owner.equals(type)) {
                return "is a key of endpoint_type " + owner + ", not of " + type;
            }
            return null;
        }

        private Template template(Section s, DataSource dataSource) {
            boolean hasId = s.has("template_id");
            boolean hasModel = s.has("template_model");
            if (hasId && hasModel) {
                s.problem("template_model", "cannot be combined with template_id; set exactly one");
                customTemplate(s, dataSource); // so the model's own problems are listed too
                return null;
            }
            if (!hasId && !hasModel) {
                s.problem("template_id", "is required: an Azion template (2, 4, 184) or a custom template_model");
                return null;
            }
            if (hasId) {
                Long id = s.integer("template_id", 1, Integer.MAX_VALUE, null);
                if (id == null) {
                    return null;
                }
                try {
                    Template t = Templates.byId(id.intValue());
                    if (dataSource != null && t.dataSource() != dataSource) {
                        s.problem("template_id", "template " + id + " (" + t.name() + ") is for data source "
                                + t.dataSource().id() + ", but data_source is " + dataSource.id());
                        return null;
                    }
                    return t;
                } catch (TemplateException ex) {
                    ex.problems().forEach(p -> s.problem("template_id", p));
                    return null;
                }
            }
            return customTemplate(s, dataSource);
        }

        private Template customTemplate(Section s, DataSource dataSource) {
            JsonNode model = s.get("template_model");
            String json;
            if (model.isTextual()) {
                // Measured below in bytes, the same for both forms.
                References.Text t = s.text("template_model", true, Integer.MAX_VALUE);
                if (t == null) {
                    return null;
                }
                json = t.value();
            } else if (model.isObject()) {
                try {
                    json = JSON.writeValueAsString(model);
                } catch (JsonProcessingException ex) {
                    s.problem("template_model", "cannot be written as JSON: " + ex.getOriginalMessage());
                    return null;
                }
            } else {
                s.problem("template_model", "must be a JSON object (as a string, as Azion's API takes it) or a mapping,"
                        + " was " + Section.kind(model));
                return null;
            }
            long bytes = utf8Length(json);
            if (bytes > Limits.MAX_TEMPLATE_BYTES) {
                s.problem("template_model", "has " + bytes + " bytes of JSON; a custom template may have at most "
                        + Limits.bytes(Limits.MAX_TEMPLATE_BYTES) + " (" + Limits.MAX_TEMPLATE_BYTES + " bytes)");
                return null;
            }
            try {
                // Without a (valid) data source the data set's syntax is still checked.
                Template template = Templates.custom(dataSource, json);
                int variables = template.variableCount();
                if (variables > Limits.MAX_TEMPLATE_VARIABLES) {
                    s.problem("template_model", "has " + variables + " $variables; a custom template may have at most "
                            + Limits.MAX_TEMPLATE_VARIABLES);
                    return null;
                }
                return template;
            } catch (TemplateException ex) {
                for (String p : ex.problems()) {
                    if (dataSource != null || !p.startsWith("data_source is required")) {
                        s.problem("template_model", p); // data_source's own problem is reported at its path
                    }
                }
                return null;
            }
        }

        private List<String> domains(Section s, boolean[] allDomainsOut) {
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
                    problems.add(path, "must be a host name, was " + Section.kind(n)
                            + (n.isIntegralNumber() ? " (numeric Azion domain ids are not known here: list host names)" : ""));
                    ok = false;
                    continue;
                }
                References.Text t = references.resolve(n.textValue(), path, problems);
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
                    problems.add(path, t.shown() + " " + bad);
                    ok = false;
                } else if (!domains.add(domain)) {
                    problems.add(path, (t.origin() == null ? "'" + domain + "'" : t.shown()) + " is listed twice");
                    ok = false;
                }
            }
            return ok ? List.copyOf(domains) : null;
        }

        private double sampling(Section s, boolean allDomains) {
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

        // ---- endpoints ----

        private HttpEndpoint http(Section e) {
            References.Text urlText = e.text("url", true, 4096);
            URI url = urlText == null ? null : httpUrl(e, "url", urlText, true);
            Map<String, Secret> headers = headers(e);
            String separator = e.string("log_line_separator", false, 100);
            if (separator != null && separator.isEmpty()) {
                e.problem("log_line_separator", "must not be empty");
            }
            String format = e.string("payload_format", false, 250);
            if (format != null) {
                int first = format.indexOf("$dataset");
                if (first < 0) {
                    e.problem("payload_format", "must contain $dataset (where the records go)");
                } else if (format.indexOf("$dataset", first + 1) >= 0) {
                    e.problem("payload_format", "must contain $dataset exactly once");
                }
            }
            Long maxSize = e.integer("max_size", MIN_MAX_SIZE, MAX_MAX_SIZE, DEFAULT_MAX_SIZE);
            HttpEndpoint.Compression compression = e.choice("compression", Section.options(
                            Map.entry("none", HttpEndpoint.Compression.NONE), Map.entry("gzip", HttpEndpoint.Compression.GZIP)),
                    HttpEndpoint.Compression.NONE, false);
            String caBundle = path(e, "ca_bundle");
            if (url == null || headers == null || maxSize == null || compression == null) {
                return null;
            }
            return new HttpEndpoint(url, headers, separator == null ? "\n" : separator,
                    format == null ? "$dataset" : format, maxSize, compression, caBundle);
        }

        /** An optional local file path, relative ones resolved against the configuration's directory. */
        private String path(Section e, String key) {
            String p = e.string(key, false, 4096);
            if (p == null) {
                return null;
            }
            if (p.isBlank()) {
                e.problem(key, "must not be blank");
                return null;
            }
            try {
                return baseDir.resolve(p).normalize().toString();
            } catch (InvalidPathException ex) {
                e.problem(key, "is not a valid path (" + ex.getReason() + ")");
                return null;
            }
        }

        private URI httpUrl(Section e, String key, References.Text text, boolean pathAllowed) {
            URI u;
            try {
                u = new URI(text.value());
            } catch (URISyntaxException ex) {
                e.problem(key, "is not a valid URL (" + ex.getReason() + " at index " + ex.getIndex() + ")");
                return null;
            }
            if (u.getScheme() == null) {
                e.problem(key, "must be an absolute http or https URL (https://host/path)");
                return null;
            }
            String scheme = u.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                e.problem(key, "must be http or https, was "
                        + (text.origin() == null ? u.getScheme() : "the scheme of " + text.shown()));
                return null;
            }
            if (u.getRawUserInfo() != null) {
                e.problem(key, "must not carry credentials (user:password@)"
                        + (pathAllowed ? "; send them in headers" : "; use access_key and secret_key"));
                return null;
            }
            if (u.getHost() == null) {
                e.problem(key, "must name a valid host (letters, digits, hyphens and dots)");
                return null;
            }
            if (u.getPort() > 65535) {
                e.problem(key, "must have a port from 1 to 65535, was " + u.getPort());
                return null;
            }
            if (u.getRawFragment() != null) {
                e.problem(key, "must not have a fragment (#...)");
                return null;
            }
            if (!pathAllowed && u.getRawQuery() != null) {
                e.problem(key, "must not have a query (?...)");
                return null;
            }
            return u;
        }

        private Map<String, Secret> headers(Section e) {
            Section h = e.section("headers", false);
            Map<String, Secret> headers = new LinkedHashMap<>();
            if (h == null) {
                return e.has("headers") ? null : Collections.unmodifiableMap(headers);
            }
            boolean ok = true;
            Map<String, String> seen = new HashMap<>();
            int count = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = h.entries(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                String name = entry.getKey();
                h.accept(name);
                count++;
                String path = h.pathOf(name);
                if (!Names.isHttpToken(name)) {
                    problems.add(path, "is not a valid header name (letters, digits and !#$%&'*+-.^_`|~)");
                    ok = false;
                    continue;
                }
                String lower = name.toLowerCase(Locale.ROOT);
                if (RESERVED_HEADERS.contains(lower)) {
                    problems.add(path, "is set by the HTTP transport and cannot be configured"
                            + (lower.equals("idempotency-key") ? " (one key per block, for the receiver's deduplication)" : ""));
                    ok = false;
                    continue;
                }
                String first = seen.putIfAbsent(lower, name);
                if (first != null) {
                    problems.add(path, "repeats header " + first + " (header names ignore case)");
                    ok = false;
                    continue;
                }
                // Header values usually carry tokens: no message below shows the value.
                if (entry.getValue().isNull()) {
                    problems.add(path, "must have a value (1 to " + Limits.MAX_HEADER_VALUE_CHARS + " characters)");
                    ok = false;
                    continue;
                }
                References.Text v = Section.scalarText(entry.getValue(), path, problems, references);
                if (v == null) {
                    ok = false;
                    continue;
                }
                String value = v.value();
                if (value.isEmpty() || value.length() > Limits.MAX_HEADER_VALUE_CHARS) {
                    problems.add(path, "value must be 1 to " + Limits.MAX_HEADER_VALUE_CHARS + " characters, has "
                            + value.length());
                    ok = false;
                    continue;
                }
                if (hasControlCharacter(value)) {
                    problems.add(path, "value must not contain CR, LF or other control characters");
                    ok = false;
                    continue;
                }
                if (value.chars().anyMatch(c -> c > 0xff)) {
                    // Header values go out as ISO-8859-1 bytes; the transport refuses anything else.
                    problems.add(path, "value must hold only Latin-1 characters");
                    ok = false;
                    continue;
                }
                headers.put(name, Secret.of(value));
            }
            if (count > Limits.MAX_HEADERS) {
                e.problem("headers", "at most " + Limits.MAX_HEADERS + " headers, has " + count);
                ok = false;
            }
            return ok ? Collections.unmodifiableMap(headers) : null;
        }

        private static boolean hasControlCharacter(String value) {
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    return true;
                }
            }
            return false;
        }

        private KafkaEndpoint kafka(Section e, Duration checkpointInterval) {
            String bootstrap = checkHostPorts(e, "bootstrap_servers", e.text("bootstrap_servers", true, 150));
            String topic = e.string("kafka_topic", true, 150);
            if (topic != null) {
                String bad = Names.kafkaTopicProblem(topic);
                if (bad != null) {
                    e.problem("kafka_topic", bad);
                }
            }
            Boolean useTls = e.bool("use_tls", false);
            KafkaEndpoint.Sasl sasl = null;
            Section s = e.section("sasl", false);
            if (s != null) {
                String mechanism = s.choice("mechanism", Section.options(Map.entry("PLAIN", "PLAIN"),
                        Map.entry("SCRAM-SHA-256", "SCRAM-SHA-256"), Map.entry("SCRAM-SHA-512", "SCRAM-SHA-512")), null, true);
                String username = s.string("username", true, 255);
                String password = s.string("password", true, 1024);
                s.finish();
                if (mechanism != null && username != null && password != null) {
                    sasl = new KafkaEndpoint.Sasl(mechanism, username, Secret.of(password));
                }
            }
            String caFile = path(e, "ca_file");
            if (caFile != null && Boolean.FALSE.equals(useTls)) {
                e.problem("ca_file", "is only used with use_tls: true");
            }
            KafkaEndpoint.MessageFormat format = e.choice("message_format", Section.options(
                            Map.entry("record", KafkaEndpoint.MessageFormat.RECORD),
                            Map.entry("block", KafkaEndpoint.MessageFormat.BLOCK)),
                    KafkaEndpoint.MessageFormat.RECORD, false);
            String compression = e.choice("compression", Section.options(Map.entry("none", "none"),
                    Map.entry("gzip", "gzip"), Map.entry("lz4", "lz4"), Map.entry("zstd", "zstd"),
                    Map.entry("snappy", "snappy")), "none", false);
            // The broker refuses timeouts above transaction.max.timeout.ms (15 min by default); up to 1 h
            // is allowed for clusters that raised it.
            Duration txTimeout = e.duration("transaction_timeout", Duration.ofSeconds(1), Duration.ofHours(1),
                    Duration.ofMinutes(10));
            if (txTimeout != null && checkpointInterval != null && txTimeout.compareTo(checkpointInterval) <= 0) {
                e.problem("transaction_timeout", "must be longer than checkpoint_interval ("
                        + Durations.format(checkpointInterval) + "): a transaction stays open until the checkpoint"
                        + " after it, was " + Durations.format(txTimeout));
            }
            if (bootstrap == null || topic == null || useTls == null || (s != null && sasl == null)
                    || format == null || compression == null || txTimeout == null) {
                return null;
            }
            return new KafkaEndpoint(bootstrap, topic, useTls, sasl, caFile, format, compression, txTimeout);
        }

        private S3Endpoint s3(Section e) {
            References.Text hostText = e.text("host_url", true, 200);
            URI host = hostText == null ? null : httpUrl(e, "host_url", hostText, false);
            String bucket = e.string("bucket_name", true, 150);
            if (bucket != null) {
                String bad = Names.bucketNameProblem(bucket);
                if (bad != null) {
                    e.problem("bucket_name", bad);
                }
            }
            String region = e.string("region", true, 50);
            if (region != null && !region.matches("[A-Za-z0-9_-]+")) {
                e.problem("region", "must be a region name such as us-east-1");
            }
            String accessKey = e.string("access_key", true, 150);
            // secret_key: the length check reports lengths only, never the value.
            String secretKey = e.string("secret_key", true, 150);
            String prefix = e.string("object_key_prefix", false, 150);
            if (prefix != null && hasControlCharacter(prefix)) {
                e.problem("object_key_prefix", "must not contain control characters");
            }
            String contentType = e.choice("content_type", Section.options(Map.entry("plain/text", "text/plain"),
                    Map.entry("text/plain", "text/plain"), Map.entry("application/gzip", "application/gzip")),
                    "text/plain", false);
            S3Endpoint.KeyLayout layout = e.choice("key_layout", Section.options(
                            Map.entry("azion", S3Endpoint.KeyLayout.AZION), Map.entry("dated", S3Endpoint.KeyLayout.DATED)),
                    S3Endpoint.KeyLayout.AZION, false);
            if (host == null || bucket == null || region == null || accessKey == null || secretKey == null
                    || contentType == null || layout == null) {
                return null;
            }
            return new S3Endpoint(host, bucket, region, accessKey, Secret.of(secretKey), prefix == null ? "" : prefix,
                    contentType, layout);
        }
    }
}
