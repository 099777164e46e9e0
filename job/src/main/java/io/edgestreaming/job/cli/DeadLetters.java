package io.edgestreaming.job.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Reads the manifests of a dead-letter store. */
final class DeadLetters {
    /** What a scan found; {@code problems} names manifests that could not be read. */
    record Scan(List<DeadLetterEntry> entries, List<String> problems) {}

    static final Comparator<DeadLetterEntry> BY_TIME = Comparator
            .comparing((DeadLetterEntry e) -> e.deadLetteredAt() == null ? Instant.EPOCH : e.deadLetteredAt())
            .thenComparing(DeadLetterEntry::base);

    /** Stream, domain, sequence: the order the blocks were cut in. */
    static final Comparator<DeadLetterEntry> BY_BLOCK = Comparator.comparingLong(DeadLetterEntry::streamId)
            .thenComparing(e -> e.domain() == null ? "" : e.domain())
            .thenComparingLong(DeadLetterEntry::sequence)
            .thenComparing(DeadLetterEntry::base);

    private DeadLetters() {}

    /**
     * Every entry whose manifest passes {@code filter} on its path (cheap: listing only) and then
     * {@code selection}, oldest first, with a progress line on {@code err} while manifests are read.
     */
    static Scan scan(BlockStore store, Selection selection, PrintWriter err) throws IOException {
        List<String> paths = store.list();
        Set<String> markers = new HashSet<>();
        List<String> manifests = new ArrayList<>();
        for (String p : paths) {
            if (p.endsWith(DeadLetterEntry.REPLAYED_SUFFIX)) {
                markers.add(p.substring(0, p.length() - DeadLetterEntry.REPLAYED_SUFFIX.length()));
            } else if (p.endsWith(DeadLetterEntry.MANIFEST_SUFFIX) && selection.mayMatchPath(p)) {
                manifests.add(p);
            }
        }
        List<DeadLetterEntry> entries = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Progress progress = new Progress(err, "read", manifests.size(), "manifest(s)");
        for (String m : manifests) {
            String base = m.substring(0, m.length() - DeadLetterEntry.MANIFEST_SUFFIX.length());
            try {
                DeadLetterEntry e = DeadLetterEntry.parse(base, store.read(m), markers.contains(base));
                if (selection.matches(e)) {
                    entries.add(e);
                }
            } catch (IOException e) {
                problems.add(m + ": " + e.getMessage());
            }
            progress.step();
        }
        entries.sort(BY_TIME);
        return new Scan(entries, problems);
    }

    /**
     * The entry that {@code ref} names: its path as listed (with or without a suffix) or its block id
     * ({@code <stream>/<domain>/<sequence>}, when only one entry has it).
     */
    static List<DeadLetterEntry> find(BlockStore store, String ref, PrintWriter err) throws IOException {
        String base = ref;
        for (String suffix : List.of(DeadLetterEntry.MANIFEST_SUFFIX, DeadLetterEntry.PAYLOAD_SUFFIX, DeadLetterEntry.REPLAYED_SUFFIX)) {
            if (base.endsWith(suffix)) {
                base = base.substring(0, base.length() - suffix.length());
            }
        }
        String wanted = base;
        // An entry as listed is read directly; only a block id needs every manifest.
        try {
            byte[] manifest = store.read(base + DeadLetterEntry.MANIFEST_SUFFIX);
            return List.of(DeadLetterEntry.parse(base, manifest, exists(store, base + DeadLetterEntry.REPLAYED_SUFFIX)));
        } catch (FileNotFoundException notAnEntry) {
            // maybe a block id
        }
        return scan(store, Selection.ALL, err).entries().stream().filter(e -> wanted.equals(e.blockId())).toList();
    }

    private static boolean exists(BlockStore store, String path) throws IOException {
        try {
            store.read(path);
            return true;
        } catch (FileNotFoundException e) {
            return false;
        }
    }
}
