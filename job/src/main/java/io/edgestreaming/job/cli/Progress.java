package io.edgestreaming.job.cli;

import java.io.PrintWriter;

/**
 * A counter line on stderr for long work ("checked 3/10 endpoints"): rewritten in place on a terminal,
 * otherwise a line at most once a second, and always the final count.
 */
final class Progress {
    private final PrintWriter err;
    private final String verb;
    private final String noun;
    private final int total;
    private final boolean terminal = System.console() != null;
    private int done;
    private long lastPrinted;
    private boolean printed;

    Progress(PrintWriter err, String verb, int total, String noun) {
        this.err = err;
        this.verb = verb;
        this.total = total;
        this.noun = noun;
    }

    synchronized void step() {
        done++;
        long now = System.nanoTime();
        boolean last = done >= total;
        if (!last && !terminal && printed && now - lastPrinted < 1_000_000_000L) {
            return;
        }
        lastPrinted = now;
        printed = true;
        String line = verb + " " + done + "/" + total + " " + noun;
        if (terminal) {
            err.print("\r" + line + (last ? "\n" : ""));
        } else {
            err.println(line);
        }
        err.flush();
    }
}
