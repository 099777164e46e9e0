package io.edgestreaming.job;

import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.templates.DataSource;
import java.io.Serializable;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Which active streams an event feeds: same data source, same client, a domain matching the event's
 * host (exact or {@code *.} wildcard for subdomains, case-insensitive; {@code all_domains} matches
 * every host), and inside the stream's sampling share.
 *
 * <p>Streams are indexed by data source and client, so an event costs O(streams of its client).
 * Sampling is a pure function of the event's bytes and the stream id: a replay after a failure keeps
 * exactly the same events.
 */
public final class StreamRouter implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Sampling resolution: a percentage is kept to two decimals (basis points of a percent). */
    static final int SAMPLING_BUCKETS = 10_000;

    /** One active stream prepared for matching. */
    public static final class Route implements Serializable {
        private static final long serialVersionUID = 1L;
        private final StreamConfig stream;
        private final Set<String> exactDomains;
        /** ".example.com" for "*.example.com": a host matches when it ends with it. */
        private final String[] wildcardSuffixes;
        private final boolean allDomains;
        /** Keep an event when its bucket (0..9999) is below this; 10,000 keeps all. */
        private final int samplingThreshold;
        private final int ordinal;

        Route(StreamConfig stream) {
            this(stream, -1);
        }

        Route(StreamConfig stream, int ordinal) {
            this.stream = stream;
            this.ordinal = ordinal;
            this.allDomains = stream.allDomains();
            Set<String> exact = new HashSet<>();
            List<String> suffixes = new ArrayList<>();
            for (String domain : stream.domains() == null ? List.<String>of() : stream.domains()) {
                String d = normalizeHost(domain.trim());
                if (d.startsWith("*.")) {
                    suffixes.add(d.substring(1));
                } else if (!d.isEmpty()) {
                    exact.add(d);
                }
            }
            this.exactDomains = Set.copyOf(exact);
            this.wildcardSuffixes = suffixes.toArray(new String[0]);
            this.samplingThreshold = samplingThreshold(stream.samplingPercentage());
        }

        /**
         * The stream's position among the active streams given to the router, in their order (-1 for a route
         * built alone): operators index their per-stream state by it instead of hashing boxed stream ids.
         */
        public int ordinal() {
            return ordinal;
        }

        public StreamConfig stream() {
            return stream;
        }

        boolean matchesHost(String host) {
            if (allDomains || exactDomains.contains(host)) {
                return true;
            }
            for (String suffix : wildcardSuffixes) {
                // "*.example.com" matches "a.example.com" and "a.b.example.com", not "example.com".
                if (host.length() > suffix.length() && host.endsWith(suffix)) {
                    return true;
                }
            }
            return false;
        }

        /**
         * Whether the stream names this host in its domains list (not only through all_domains or a
         * wildcard): such a host keeps a batching key of its own (see {@link BatchingKeys}).
         */
        public boolean listsExactly(String host) {
            return exactDomains.contains(host);
        }

        boolean samples() {
            return samplingThreshold < SAMPLING_BUCKETS;
        }

        boolean keeps(long eventHash) {
            return samplingThreshold >= SAMPLING_BUCKETS
                    || (samplingThreshold > 0 && samplingBucket(eventHash, stream.id()) < samplingThreshold);
        }
    }

    private final Map<DataSource, Map<String, Route[]>> index = new EnumMap<>(DataSource.class);

    public StreamRouter(List<StreamConfig> streams) {
        Map<DataSource, Map<String, List<Route>>> building = new EnumMap<>(DataSource.class);
        int ordinal = 0;
        for (StreamConfig stream : streams) {
            if (!stream.active()) {
                continue;
            }
            building.computeIfAbsent(stream.dataSource(), k -> new HashMap<>())
                    .computeIfAbsent(stream.client(), k -> new ArrayList<>())
                    .add(new Route(stream, ordinal++));
        }
        building.forEach((source, byClient) -> {
            Map<String, Route[]> routes = new HashMap<>();
            byClient.forEach((client, list) -> routes.put(client, list.toArray(new Route[0])));
            index.put(source, routes);
        });
    }

    /** Whether any active stream reads this client's events of this data source (skips projection work). */
    public boolean hasStreams(DataSource source, String client) {
        Map<String, Route[]> byClient = index.get(source);
        return byClient != null && byClient.containsKey(client);
    }

    /**
     * Adds to {@code out} (cleared first) every route the event feeds.
     *
     * @param host the event's host, already {@link #normalizeHost normalized}
     * @param eventBytes the raw event, hashed only when a matching stream samples
     */
    public List<Route> route(DataSource source, String client, String host, byte[] eventBytes, List<Route> out) {
        return route(source, client, host, eventBytes, out, null);
    }

    /** As above; also adds to {@code sampledOut} (cleared first, if not null) the streams that sampled it out. */
    public List<Route> route(DataSource source, String client, String host, byte[] eventBytes, List<Route> out,
            List<Route> sampledOut) {
        out.clear();
        if (sampledOut != null) {
            sampledOut.clear();
        }
        Map<String, Route[]> byClient = index.get(source);
        Route[] candidates = byClient == null ? null : byClient.get(client);
        if (candidates == null) {
            return out;
        }
        long hash = 0;
        boolean hashed = false;
        for (Route route : candidates) {
            if (!route.matchesHost(host)) {
                continue;
            }
            if (route.samples() && !hashed) {
                hash = eventHash(eventBytes);
                hashed = true;
            }
            if (route.keeps(hash)) {
                out.add(route);
            } else if (sampledOut != null) {
                sampledOut.add(route);
            }
        }
        return out;
    }

    /**
     * Lower-case, without a port or a trailing dot. Returns the same instance when nothing changes, so
     * the common case allocates nothing.
     */
    public static String normalizeHost(String host) {
        int end = host.length();
        boolean needsLowerCase = false;
        for (int i = 0; i < end; i++) {
            char c = host.charAt(i);
            if (c >= 'A' && c <= 'Z' || c > 0x7f) {
                needsLowerCase = true;
            }
        }
        if (host.startsWith("[")) {
            // Bracketed IPv6 literal: only a ":port" after the closing bracket is a port.
            int close = host.indexOf(']');
            if (close > 0 && close + 1 < end && host.charAt(close + 1) == ':') {
                end = close + 1;
            }
        } else {
            int colon = host.indexOf(':');
            if (colon >= 0 && colon == host.lastIndexOf(':')) {
                end = colon;
            }
        }
        if (end > 0 && host.charAt(end - 1) == '.') {
            end--;
        }
        if (end == host.length() && !needsLowerCase) {
            return host;
        }
        String cut = host.substring(0, end);
        return needsLowerCase ? cut.toLowerCase(Locale.ROOT) : cut;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;

    /**
     * 64-bit hash of the event's bytes, stable across JVMs and restarts (unlike Arrays.hashCode): from
     * {@code h = length}, for every 8-byte little-endian word {@code w} (the last one zero-padded; at least
     * one) {@code h = rotl(h + w * P2, 31) * P1} (xxHash64's round and primes). Eight bytes per step: the
     * byte-by-byte FNV-1a used before (until 2026-12) was 2.5% of the job's CPU for one 50%-sampled stream.
     * {@link #samplingBucket} mixes the result, so this needs no finalizer.
     */
    static long eventHash(byte[] bytes) {
        long h = bytes.length;
        int i = 0;
        for (int last = bytes.length - Long.BYTES; i <= last; i += Long.BYTES) {
            h = Long.rotateLeft(h + (long) LONGS.get(bytes, i) * P2, 31) * P1;
        }
        long tail = 0;
        for (int k = bytes.length - 1; k >= i; k--) {
            tail = tail << 8 | (bytes[k] & 0xff);
        }
        return Long.rotateLeft(h + tail * P2, 31) * P1;
    }

    /** The event's sampling bucket (0..9999) for one stream: independent draws per stream. */
    static int samplingBucket(long eventHash, long streamId) {
        long z = eventHash ^ (streamId * 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (int) Long.remainderUnsigned(z, SAMPLING_BUCKETS);
    }

    static int samplingThreshold(double percentage) {
        if (!(percentage > 0)) {
            return 0;
        }
        return (int) Math.min(SAMPLING_BUCKETS, Math.round(percentage * 100));
    }
}
