package io.edgestreaming.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgestreaming.deploy.EventGenerator;
import io.edgestreaming.testkit.TestKafka;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The scale benchmark's backlog: deploy's {@link EventGenerator} events, each moved to one of the many tenants (its
 * {@code client} and host rewritten), written to the raw topics before anything is measured. Edge events go round
 * the clients and their four hosts in turn, WAF events round the clients' www host, so every stream gets records.
 * While writing, what every destination must hold is computed with the benchmark's own routing, sampling and
 * projection ({@link Streams.Spec}, {@link TreeProjection}): the fingerprints per destination and the record count
 * per stream.
 */
final class ScaleCorpus {
    final int events;
    int httpEvents;
    int wafEvents;
    int malformed;
    long bytes;
    long writeNanos;
    final LongBag[] expectedByDestination;
    final int[] expectedByStream;
    final LongBag expectedDeadLetters = new LongBag();
    long expectedRecords;

    private ScaleCorpus(int events, Tenants tenants) {
        this.events = events;
        this.expectedByDestination = new LongBag[tenants.destinations.size()];
        int perDestination = (int) (3L * events / tenants.destinations.size());
        for (int d = 0; d < expectedByDestination.length; d++) {
            expectedByDestination[d] = new LongBag(perDestination);
        }
        this.expectedByStream = new int[tenants.specs.size()];
    }

    static ScaleCorpus write(TestKafka kafka, String httpTopic, String wafTopic, Tenants tenants, int events,
            int malformedPerTenThousand, long seed) throws Exception {
        ScaleCorpus corpus = new ScaleCorpus(events, tenants);
        EventGenerator generator = EventGenerator.corpus(seed, malformedPerTenThousand);
        Map<String, TreeProjection> projections = new HashMap<>();
        for (Streams.Spec s : tenants.specs) {
            projections.computeIfAbsent(s.template(), t -> TreeProjection.of(s.resolveTemplate()));
        }
        TreeProjection parser = projections.values().iterator().next();
        long http = 0;
        long waf = 0;
        long start = System.nanoTime();
        try (BacklogProducer producer = new BacklogProducer(kafka)) {
            for (int i = 0; i < events; i++) {
                EventGenerator.Event e = generator.next();
                byte[] value = e.value();
                if (e.malformed()) {
                    // Dead-lettered whatever its client: left as generated.
                    corpus.malformed++;
                    corpus.expectedDeadLetters.add(LongBag.fingerprint(value));
                } else {
                    long turn = e.waf() ? waf++ : http++;
                    int client = (int) (turn % tenants.clients);
                    int host = e.waf() ? 0 : (int) (turn / tenants.clients % Tenants.HOSTS.length);
                    value = moveTo(value, Tenants.client(client), Tenants.host(client, host));
                    corpus.account(tenants, client, e.waf(), Tenants.host(client, host), value, parser, projections);
                }
                producer.send(e.waf() ? wafTopic : httpTopic, value);
                corpus.bytes += value.length;
                if (e.waf()) {
                    corpus.wafEvents++;
                } else {
                    corpus.httpEvents++;
                }
            }
        }
        corpus.writeNanos = System.nanoTime() - start;
        for (int n : corpus.expectedByStream) {
            corpus.expectedRecords += n;
        }
        return corpus;
    }

    /** The event with its client and every mention of its host replaced (the referrer, the TLS server name...). */
    static byte[] moveTo(byte[] event, String client, String host) {
        String json = new String(event, StandardCharsets.UTF_8);
        String oldClient = field(json, "client");
        String oldHost = field(json, "host");
        json = json.replace("\"client\":\"" + oldClient + "\"", "\"client\":\"" + client + "\"").replace(oldHost, host);
        return json.getBytes(StandardCharsets.UTF_8);
    }

    private static String field(String json, String name) {
        String key = "\"" + name + "\":\"";
        int at = json.indexOf(key);
        if (at < 0) {
            throw new IllegalStateException("a well-formed generated event without " + name);
        }
        int from = at + key.length();
        return json.substring(from, json.indexOf('"', from));
    }

    private void account(Tenants tenants, int client, boolean waf, String host, byte[] value, TreeProjection parser,
            Map<String, TreeProjection> projections) throws Exception {
        JsonNode tree = parser.parse(value);
        String clientId = Tenants.client(client);
        for (int k = 0; k < Tenants.STREAMS_PER_CLIENT; k++) {
            int index = client * Tenants.STREAMS_PER_CLIENT + k;
            Streams.Spec s = tenants.specs.get(index);
            if (s.matches(waf, clientId, host.toLowerCase(Locale.ROOT)) && s.keeps(value)) {
                long fingerprint = LongBag.fingerprint(projections.get(s.template()).project(tree));
                expectedByDestination[tenants.destinationOf(index).index()].add(fingerprint);
                expectedByStream[index]++;
            }
        }
    }

    int streamsWithRecords() {
        int n = 0;
        for (int c : expectedByStream) {
            n += c > 0 ? 1 : 0;
        }
        return n;
    }

    String describe() {
        return String.format(Locale.ROOT, "%,d events (%,d http, %,d waf, %,d malformed), %.1f MB, written in %.1f s;"
                        + " %,d records expected over %,d streams (%,d of them with records)", events, httpEvents,
                wafEvents, malformed, bytes / 1e6, writeNanos / 1e9, expectedRecords, expectedByStream.length,
                streamsWithRecords());
    }
}
