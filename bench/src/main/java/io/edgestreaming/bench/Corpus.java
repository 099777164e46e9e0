package io.edgestreaming.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgestreaming.deploy.EventGenerator;
import io.edgestreaming.templates.Templates;
import io.edgestreaming.testkit.TestKafka;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The backlog: realistic raw events from the deploy module's {@link EventGenerator}, written once to the raw
 * topics before anything is measured. While writing, what each reader must produce is computed from the events
 * with code of its own ({@link Streams} for routing and sampling, {@link TreeProjection} for templates), so the
 * events never need to be kept: per stream the fingerprints of its records, the malformed events for the
 * dead-letter topic, and template 184 of every JSON object for the stock pipeline.
 */
final class Corpus {
    final int events;
    int httpEvents;
    int wafEvents;
    int malformed;
    long bytes;
    long httpBytes;
    long wafBytes;
    long writeNanos;
    /** Per stream id: the fingerprints of the records it must deliver. */
    final Map<Long, LongBag> expected = new HashMap<>();
    final LongBag expectedDeadLetters = new LongBag();
    /** Template 184 of every event that is a JSON object: what the stock pipeline must write. */
    final LongBag expectedStock = new LongBag();
    long expectedRecords;

    private Corpus(int events) {
        this.events = events;
    }

    static Corpus write(TestKafka kafka, String httpTopic, String wafTopic, int events, int malformedPerTenThousand,
            long seed) throws Exception {
        Corpus corpus = new Corpus(events);
        EventGenerator generator = EventGenerator.corpus(seed, malformedPerTenThousand);
        List<Streams.Spec> specs = Streams.ALL;
        Map<Long, TreeProjection> projections = new HashMap<>();
        for (Streams.Spec s : specs) {
            projections.put(s.id(), TreeProjection.of(s.resolveTemplate()));
            corpus.expected.put(s.id(), new LongBag());
        }
        TreeProjection stock = TreeProjection.of(Templates.byId(184));

        long start = System.nanoTime();
        try (BacklogProducer producer = new BacklogProducer(kafka)) {
            for (int i = 0; i < events; i++) {
                EventGenerator.Event e = generator.next();
                byte[] value = e.value();
                producer.send(e.waf() ? wafTopic : httpTopic, value);
                corpus.bytes += value.length;
                if (e.waf()) {
                    corpus.wafEvents++;
                    corpus.wafBytes += value.length;
                } else {
                    corpus.httpEvents++;
                    corpus.httpBytes += value.length;
                }
                corpus.account(e, value, projections, stock);
            }
        }
        corpus.writeNanos = System.nanoTime() - start;
        for (LongBag bag : corpus.expected.values()) {
            corpus.expectedRecords += bag.size();
        }
        return corpus;
    }

    private void account(EventGenerator.Event e, byte[] value, Map<Long, TreeProjection> projections,
            TreeProjection stock) throws IOException {
        JsonNode tree;
        try {
            tree = stock.parse(value);
        } catch (IOException notJson) {
            tree = null;
        }
        if (tree != null) {
            expectedStock.add(LongBag.fingerprint(stock.project(tree)));
        }
        if (e.malformed()) {
            malformed++;
            expectedDeadLetters.add(LongBag.fingerprint(value));
            return;
        }
        if (tree == null) {
            throw new IllegalStateException("a well-formed generated event is not a JSON object");
        }
        String client = tree.path("client").asText("");
        String host = tree.path("host").asText("").toLowerCase(Locale.ROOT);
        for (Streams.Spec s : Streams.ALL) {
            if (s.matches(e.waf(), client, host) && s.keeps(value)) {
                expected.get(s.id()).add(LongBag.fingerprint(projections.get(s.id()).project(tree)));
            }
        }
    }

    String describe() {
        return String.format(Locale.ROOT, "%,d events (%,d http averaging %,d B, %,d waf averaging %,d B; %,d malformed),"
                        + " %.1f MB, written in %.1f s; %,d records expected over %d streams",
                events, httpEvents, httpEvents == 0 ? 0 : httpBytes / httpEvents, wafEvents,
                wafEvents == 0 ? 0 : wafBytes / wafEvents, malformed, bytes / 1e6, writeNanos / 1e9, expectedRecords,
                expected.size());
    }
}
