package io.edgestreaming.bench;

import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.testkit.HttpReceiver;
import io.edgestreaming.testkit.TestKafka;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The end-to-end benchmark's check of a Flink run's outputs against the backlog's expectations ({@link Corpus}): each
 * expected record exactly once and nothing else, at every endpoint of the job or in the stock pipeline's topic.
 */
final class ExactlyOnceCheck {
    private ExactlyOnceCheck() {}

    /** What the endpoints hold: lines to print, exactly once or not, and whether waiting longer could help. */
    record Verification(List<String> lines, boolean exactlyOnce, boolean onlyMissing) {}

    static Verification job(Corpus corpus, String run, HttpReceiver receiver, TestKafka kafka, EmbeddedS3 s3,
            String bucket, String deadTopic, Path deadBlocks) {
        List<String> lines = new ArrayList<>();
        boolean ok = true;
        boolean onlyMissing = true;
        for (Streams.Spec s : Streams.ALL) {
            Outputs.Held held = Outputs.read(s, run, receiver, kafka, s3, bucket);
            LongBag.Comparison c = LongBag.compare(s.id() + " " + s.name() + " -> " + s.kind().name().toLowerCase(Locale.ROOT)
                    + " (" + String.format(Locale.ROOT, "%,d", held.units()) + " " + unit(s) + ")",
                    corpus.expected.get(s.id()), held.records());
            lines.add(c.describe());
            ok &= c.exactlyOnce();
            onlyMissing &= c.duplicated() == 0 && c.unexpected() == 0;
        }
        LongBag.Comparison dead = LongBag.compare("dead-letter topic (malformed events)", corpus.expectedDeadLetters,
                Outputs.topic(kafka, deadTopic));
        lines.add(dead.describe());
        ok &= dead.exactlyOnce();
        onlyMissing &= dead.duplicated() == 0 && dead.unexpected() == 0;
        int conflicts = receiver.conflictingRepeats().size();
        List<String> open = s3.openMultipartUploads(bucket);
        long deadFiles = 0;
        if (Files.isDirectory(deadBlocks)) {
            try (Stream<Path> files = Files.walk(deadBlocks)) {
                deadFiles = files.filter(Files::isRegularFile).count();
            } catch (IOException e) {
                deadFiles = -1;
            }
        }
        lines.add(String.format(Locale.ROOT, "HTTP repeats %d (conflicting %d), open multipart uploads %d, dead-lettered"
                + " block files %d", receiver.repeats(), conflicts, open.size(), deadFiles));
        ok &= conflicts == 0 && open.isEmpty() && deadFiles == 0;
        return new Verification(lines, ok, onlyMissing);
    }

    /** The stock pipeline's output topic, read_committed. */
    static Verification stock(Corpus corpus, TestKafka kafka, String out) {
        LongBag held = Outputs.topic(kafka, out);
        LongBag.Comparison c = LongBag.compare("kafka " + out + " (read_committed)", corpus.expectedStock, held);
        return new Verification(List.of(c.describe()), c.exactlyOnce(), !c.exactlyOnce() && c.duplicated() == 0
                && c.unexpected() == 0);
    }

    private static String unit(Streams.Spec s) {
        return switch (s.kind()) {
            case HTTP -> "requests";
            case KAFKA -> "messages";
            case S3 -> "objects";
        };
    }
}
