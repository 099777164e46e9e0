package io.edgestreaming.bench;

import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.HttpReceiver;
import io.edgestreaming.testkit.TestKafka;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.Stream;
import org.apache.kafka.common.header.Header;

/**
 * What every destination of the scale benchmark holds after the run, compared with what it must hold: the record
 * fingerprints of each destination as multisets (each expected record exactly once, nothing else), and the record
 * count of each stream (a stream is known by the HTTP Idempotency-Key's block id, the Kafka {@code stream_id}
 * header, the S3 key prefix).
 */
final class ScaleOutputs {
    /** Lines to print, exactly once or not, and whether waiting longer could help (only records missing). */
    record Verification(List<String> lines, boolean exactlyOnce, boolean onlyMissing) {}

    private final Tenants tenants;
    private final LongBag[] held;
    private final AtomicIntegerArray heldByStream;
    private final int[] units = new int[Streams.Kind.values().length];

    private ScaleOutputs(Tenants tenants) {
        this.tenants = tenants;
        this.held = new LongBag[tenants.destinations.size()];
        for (int d = 0; d < held.length; d++) {
            held[d] = new LongBag(64);
        }
        this.heldByStream = new AtomicIntegerArray(tenants.specs.size());
    }

    static Verification verify(Tenants tenants, ScaleCorpus corpus, HttpReceiver receiver, TestKafka kafka, EmbeddedS3 s3,
            String deadTopic, Path deadBlocks) throws Exception {
        ScaleOutputs outputs = new ScaleOutputs(tenants);
        outputs.readHttp(receiver);
        outputs.readKafka(kafka);
        outputs.readS3(s3);
        return outputs.compare(corpus, receiver, kafka, s3, deadTopic, deadBlocks);
    }

    private void readHttp(HttpReceiver receiver) {
        for (HttpReceiver.Request r : receiver.deliveredBlocks()) {
            Tenants.Destination d = tenants.destinations.get(Integer.parseInt(r.path().substring("/d".length())));
            String key = r.idempotencyKey();
            int before = held[d.index()].size();
            if (d.jsonArray()) {
                Outputs.splitJsonArray(r.decodedBody(), held[d.index()]);
            } else {
                Outputs.splitLines(r.decodedBody(), held[d.index()]);
            }
            heldByStream.addAndGet(Tenants.index(Long.parseLong(key.substring(0, key.indexOf('/')))),
                    held[d.index()].size() - before);
            units[Streams.Kind.HTTP.ordinal()]++;
        }
    }

    private void readKafka(TestKafka kafka) {
        List<String> topics = tenants.destinations.stream().filter(d -> d.kind() == Streams.Kind.KAFKA)
                .map(Tenants.Destination::name).toList();
        Outputs.forEachCommitted(kafka, topics, m -> {
            Tenants.Destination d = tenants.destinations.get(Integer.parseInt(m.topic().substring("scale-d".length())));
            Header stream = m.headers().lastHeader("stream_id");
            int before = held[d.index()].size();
            if (d.kafkaBlocks()) {
                Outputs.splitLines(m.value(), held[d.index()]);
            } else {
                held[d.index()].add(LongBag.fingerprint(m.value()));
            }
            heldByStream.addAndGet(Tenants.index(Long.parseLong(new String(stream.value(), StandardCharsets.US_ASCII))),
                    held[d.index()].size() - before);
            units[Streams.Kind.KAFKA.ordinal()]++;
        });
    }

    /** Buckets read four at a time: thousands of objects, one GET each. */
    private void readS3(EmbeddedS3 s3) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> new Thread(r, "bench-s3-reader"));
        try {
            List<Future<Integer>> objects = new ArrayList<>();
            for (Tenants.Destination d : tenants.destinations) {
                if (d.kind() == Streams.Kind.S3) {
                    objects.add(pool.submit(() -> readBucket(s3, d)));
                }
            }
            for (Future<Integer> f : objects) {
                units[Streams.Kind.S3.ordinal()] += f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private int readBucket(EmbeddedS3 s3, Tenants.Destination d) {
        int objects = 0;
        for (String key : s3.listKeysSettled(d.name())) {
            byte[] object = s3.get(d.name(), key);
            LongBag one = new LongBag(64);
            Outputs.splitLines(d.gzipObjects() ? Outputs.gunzip(object) : object, one);
            for (long f : one.sorted()) {
                held[d.index()].add(f);
            }
            // "s<id>_<millis>_<uuid>" (azion) or "s<id>/<date>/<uuid>" (dated)
            int end = 1;
            while (Character.isDigit(key.charAt(end))) {
                end++;
            }
            heldByStream.addAndGet(Tenants.index(Long.parseLong(key.substring(1, end))), one.size());
            objects++;
        }
        return objects;
    }

    private Verification compare(ScaleCorpus corpus, HttpReceiver receiver, TestKafka kafka, EmbeddedS3 s3,
            String deadTopic, Path deadBlocks) throws IOException {
        List<String> lines = new ArrayList<>();
        boolean ok = true;
        boolean onlyMissing = true;
        for (Streams.Kind kind : Streams.Kind.values()) {
            long expected = 0;
            long delivered = 0;
            long lost = 0;
            long duplicated = 0;
            long unexpected = 0;
            int good = 0;
            int n = 0;
            List<String> bad = new ArrayList<>();
            for (Tenants.Destination d : tenants.destinations) {
                if (d.kind() != kind) {
                    continue;
                }
                n++;
                LongBag.Comparison c = LongBag.compare(d.name(), corpus.expectedByDestination[d.index()], held[d.index()]);
                expected += c.expected();
                delivered += c.delivered();
                lost += c.lost();
                duplicated += c.duplicated();
                unexpected += c.unexpected();
                if (c.exactlyOnce()) {
                    good++;
                } else if (bad.size() < 5) {
                    bad.add(c.describe().trim());
                }
            }
            lines.add(String.format(Locale.ROOT, "%-5s %,6d destinations, %,8d %s: %,10d records expected, %,10d delivered;"
                            + " exactly once at %,d of %,d destinations%s", kind, n, units[kind.ordinal()],
                    kind == Streams.Kind.HTTP ? "requests" : kind == Streams.Kind.KAFKA ? "messages" : "objects ",
                    expected, delivered, good, n, good == n ? ""
                            : String.format(Locale.ROOT, " (%,d lost, %,d duplicated, %,d unexpected; e.g. %s)", lost,
                                    duplicated, unexpected, String.join("; ", bad))));
            ok &= good == n;
            onlyMissing &= duplicated == 0 && unexpected == 0;
        }
        int streamsRight = 0;
        int streamsWithRecords = 0;
        for (int i = 0; i < corpus.expectedByStream.length; i++) {
            streamsRight += heldByStream.get(i) == corpus.expectedByStream[i] ? 1 : 0;
            streamsWithRecords += heldByStream.get(i) > 0 ? 1 : 0;
        }
        lines.add(String.format(Locale.ROOT, "streams: %,d of %,d received records; the record count is the expected one"
                + " at %,d of %,d", streamsWithRecords, corpus.expectedByStream.length, streamsRight,
                corpus.expectedByStream.length));
        ok &= streamsRight == corpus.expectedByStream.length;
        LongBag.Comparison dead = LongBag.compare("dead-letter topic (malformed events)", corpus.expectedDeadLetters,
                Outputs.topic(kafka, deadTopic));
        lines.add(dead.describe());
        ok &= dead.exactlyOnce();
        onlyMissing &= dead.duplicated() == 0 && dead.unexpected() == 0;
        int conflicts = receiver.conflictingRepeats().size();
        int open = 0;
        for (Tenants.Destination d : tenants.destinations) {
            if (d.kind() == Streams.Kind.S3) {
                open += s3.openMultipartUploads(d.name()).size();
            }
        }
        long deadFiles = 0;
        if (Files.isDirectory(deadBlocks)) {
            try (Stream<Path> files = Files.walk(deadBlocks)) {
                deadFiles = files.filter(Files::isRegularFile).count();
            }
        }
        lines.add(String.format(Locale.ROOT, "HTTP repeats %d (conflicting %d), open multipart uploads %d, dead-lettered"
                + " block files %d", receiver.repeats(), conflicts, open, deadFiles));
        ok &= conflicts == 0 && open == 0 && deadFiles == 0;
        return new Verification(lines, ok, onlyMissing);
    }
}
