package io.edgestreaming.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The many tenants of the scale benchmark: clients {@code c0, c1, ...} with five streams each, spread over
 * destinations of the three endpoint types: half of them paths of one HTTP receiver, a quarter topics of one Kafka
 * broker, a quarter buckets of one S3 server. Stream {@code i} delivers to destination {@code i mod destinations}, so
 * every destination serves streams of several clients and every endpoint type gets every kind of stream.
 *
 * <p>Each client {@code cN} has four hosts ({@code www.cN.example}, {@code api.}, {@code img.} and the apex) and these
 * streams (ids {@code (N + 1) * 10 + kind}):
 * <ol start="0">
 *   <li>http, template 184, the exact domains www and api;</li>
 *   <li>http, template 2, {@code *.cN.example} (not the apex);</li>
 *   <li>http, a custom data set, all domains;</li>
 *   <li>waf, template 4, www;</li>
 *   <li>http, a slim custom data set, all domains, 50% sampled.</li>
 * </ol>
 * S3 destinations are buckets, not prefixes of one bucket: the engine keys an S3 destination by host, bucket and access
 * key, so prefixes of one bucket would all be one destination. Each stream writes under its own prefix.
 */
final class Tenants {
    static final int STREAMS_PER_CLIENT = 5;
    /** Host names of a client, before ".cN.example"; "" is the apex. */
    static final String[] HOSTS = {"www", "api", "img", ""};

    /** One destination: an HTTP path, a Kafka topic or an S3 bucket; {@code variant} picks its endpoint settings. */
    record Destination(int index, Streams.Kind kind, int variant, String name) {
        /** The endpoint YAML with the placeholders of {@link Streams.Spec#endpoint()}. */
        String endpoint() {
            return switch (kind) {
                case HTTP -> switch (variant % 3) {
                    case 0 -> Streams.HTTP_PLAIN;
                    case 1 -> Streams.HTTP_GZIP;
                    default -> Streams.HTTP_JSON_ARRAY_GZIP;
                };
                case KAFKA -> variant % 2 == 0 ? Streams.kafka("record", "none") : Streams.kafka("block", "lz4");
                case S3 -> variant % 2 == 0 ? Streams.s3("application/gzip", "azion") : Streams.s3("plain/text", "dated");
            };
        }

        boolean jsonArray() {
            return kind == Streams.Kind.HTTP && variant % 3 == 2;
        }

        boolean kafkaBlocks() {
            return kind == Streams.Kind.KAFKA && variant % 2 == 1;
        }

        boolean gzipObjects() {
            return kind == Streams.Kind.S3 && variant % 2 == 0;
        }
    }

    final int clients;
    /** By stream index ({@link #index}). */
    final List<Streams.Spec> specs;
    final List<Destination> destinations;
    final int httpDestinations;
    final int kafkaDestinations;
    final int s3Destinations;

    private Tenants(int clients, List<Streams.Spec> specs, List<Destination> destinations) {
        this.clients = clients;
        this.specs = specs;
        this.destinations = destinations;
        this.httpDestinations = count(Streams.Kind.HTTP);
        this.kafkaDestinations = count(Streams.Kind.KAFKA);
        this.s3Destinations = count(Streams.Kind.S3);
    }

    /**
     * @param streams a multiple of 5
     * @param destinations a multiple of 4, at most {@code streams}
     */
    static Tenants of(int streams, int destinations) {
        if (streams % STREAMS_PER_CLIENT != 0 || destinations % 4 != 0 || destinations < 4 || destinations > streams) {
            throw new IllegalArgumentException("streams must be a multiple of 5 and destinations a multiple of 4, between 4"
                    + " and the number of streams");
        }
        List<Destination> dests = new ArrayList<>(destinations);
        for (int d = 0; d < destinations; d++) {
            Streams.Kind kind = d < destinations / 2 ? Streams.Kind.HTTP
                    : d < destinations * 3 / 4 ? Streams.Kind.KAFKA : Streams.Kind.S3;
            String name = kind == Streams.Kind.HTTP ? "/d" + d : "scale-d" + d;
            dests.add(new Destination(d, kind, d, name));
        }
        int clients = streams / STREAMS_PER_CLIENT;
        List<Streams.Spec> specs = new ArrayList<>(streams);
        for (int c = 0; c < clients; c++) {
            String client = client(c);
            String domain = client + ".example";
            long base = (c + 1) * 10L;
            for (int kind = 0; kind < STREAMS_PER_CLIENT; kind++) {
                Streams.Kind type = dests.get(specs.size() % destinations).kind();
                String endpoint = dests.get(specs.size() % destinations).endpoint();
                specs.add(switch (kind) {
                    case 0 -> new Streams.Spec(base, "exact-" + c, client, "http", "184",
                            List.of("www." + domain, "api." + domain), false, 100, type, endpoint);
                    case 1 -> new Streams.Spec(base + 1, "wildcard-" + c, client, "http", "2", List.of("*." + domain),
                            false, 100, type, endpoint);
                    case 2 -> new Streams.Spec(base + 2, "all-" + c, client, "http", Streams.API, List.of(), true, 100,
                            type, endpoint);
                    case 3 -> new Streams.Spec(base + 3, "waf-" + c, client, "waf", "4", List.of("www." + domain), false,
                            100, type, endpoint);
                    default -> new Streams.Spec(base + 4, "slim-" + c, client, "http", Streams.SLIM, List.of(), true, 50,
                            type, endpoint);
                });
            }
        }
        return new Tenants(clients, List.copyOf(specs), List.copyOf(dests));
    }

    private int count(Streams.Kind kind) {
        return (int) destinations.stream().filter(d -> d.kind() == kind).count();
    }

    static String client(int c) {
        return "c" + c;
    }

    /** Host {@code h} ({@link #HOSTS}) of client {@code c}. */
    static String host(int c, int h) {
        return HOSTS[h].isEmpty() ? client(c) + ".example" : HOSTS[h] + "." + client(c) + ".example";
    }

    /** The index of a stream id in {@link #specs}. */
    static int index(long streamId) {
        return (int) ((streamId / 10 - 1) * STREAMS_PER_CLIENT + streamId % 10);
    }

    Destination destinationOf(int streamIndex) {
        return destinations.get(streamIndex % destinations.size());
    }

    /** The S3 key prefix of a stream (each stream has its own, in its destination's bucket). */
    static String prefix(long streamId) {
        return "s" + streamId;
    }

    /** The job's configuration; {@code topLevel}: more top-level YAML lines (allowed_networks) or "". */
    String yaml(String bootstrap, String httpTopic, String wafTopic, String groupId, String deadLetterTopic,
            String deadBlocksUri, String checkpointInterval, String maxInterval, String topLevel, String httpBase,
            String s3Endpoint, String access, String secret) {
        StringBuilder y = new StringBuilder(specs.size() * 400);
        y.append(Streams.header(bootstrap, httpTopic, wafTopic, groupId, deadLetterTopic, deadBlocksUri, checkpointInterval,
                topLevel));
        for (int i = 0; i < specs.size(); i++) {
            Streams.Spec s = specs.get(i);
            Destination d = destinationOf(i);
            Streams.appendStream(y, s, maxInterval, s.endpoint()
                    .replace("%HTTP%", httpBase + d.name())
                    .replace("%KAFKA%", bootstrap)
                    .replace("%TOPIC%", d.name())
                    .replace("%S3%", s3Endpoint)
                    .replace("%BUCKET%", d.name())
                    .replace("%ACCESS%", access)
                    .replace("%SECRET%", secret)
                    .replace("%PREFIX%", prefix(s.id())));
        }
        return y.toString();
    }

    /** The first {@code n} streams (same destinations), e.g. to see what the rest adds to the job graph. */
    Tenants first(int n) {
        return new Tenants(clients, specs.subList(0, n), destinations);
    }
}
