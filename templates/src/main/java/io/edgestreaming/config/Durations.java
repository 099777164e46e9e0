package io.edgestreaming.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as the configuration writes them: {@code 500ms}, {@code 60s}, {@code 5m}, {@code 24h}, {@code 1d}, ISO-8601 {@code PT60S}, or a bare integer of seconds. */
final class Durations {
    private static final Pattern WITH_UNIT = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h|d)");

    private Durations() {}

    /** @throws IllegalArgumentException with a message fit for the user */
    static Duration parse(String text) {
        String t = text.trim();
        if (t.matches("\\d{1,12}")) {
            return Duration.ofSeconds(Long.parseLong(t));
        }
        Matcher m = WITH_UNIT.matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        if (t.startsWith("P") || t.startsWith("p")) {
            try {
                Duration d = Duration.parse(t.toUpperCase(Locale.ROOT));
                if (d.isNegative()) {
                    throw new IllegalArgumentException("must not be negative");
                }
                return d;
            } catch (DateTimeParseException e) {
                // fall through to the common message
            }
        }
        throw new IllegalArgumentException(
                "is not a duration (write e.g. 500ms, 60s, 5m, 24h, 1d, PT60S, or an integer of seconds)");
    }

    /** The shortest exact form in the configuration's own syntax, e.g. {@code 90s}, {@code 5m}, {@code 250ms}. */
    static String format(Duration d) {
        if (d.abs().getSeconds() > 1_000_000_000_000L) {
            return d.getSeconds() + "s"; // toMillis() would overflow
        }
        long ms = d.toMillis();
        if (ms != 0 && ms % 86_400_000L == 0) {
            return ms / 86_400_000L + "d";
        }
        if (ms != 0 && ms % 3_600_000L == 0) {
            return ms / 3_600_000L + "h";
        }
        if (ms != 0 && ms % 60_000L == 0) {
            return ms / 60_000L + "m";
        }
        if (ms % 1000L == 0) {
            return ms / 1000L + "s";
        }
        return ms + "ms";
    }
}
