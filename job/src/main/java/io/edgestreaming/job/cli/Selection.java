package io.edgestreaming.job.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** Which dead-lettered blocks a command works on: by stream, reason and time of dead-lettering. */
final class Selection {
    static final Selection ALL = new Selection();
    static final String TIME_FORMATS = "2026-03-01T12:00:00Z, 2026-03-01T12:00 (UTC), 2026-03-01 (UTC midnight) or an age such as 90m, 6h, 2d";

    @Option(names = "--stream", paramLabel = "ID", description = "only blocks of this stream (repeatable)")
    List<Long> streams = new ArrayList<>();

    @Option(names = "--reason", paramLabel = "TEXT", description = "only blocks whose reason contains TEXT (case-insensitive)")
    String reason;

    @Option(names = "--since", paramLabel = "TIME", converter = TimeConverter.class,
            description = "only blocks dead-lettered at or after TIME: " + TIME_FORMATS)
    Instant since;

    @Option(names = "--until", paramLabel = "TIME", converter = TimeConverter.class,
            description = "only blocks dead-lettered before TIME (same formats)")
    Instant until;

    boolean isEmpty() {
        return streams.isEmpty() && reason == null && since == null && until == null;
    }

    /** From the listing alone: entries live under {@code stream-<id>/}. */
    boolean mayMatchPath(String path) {
        return streams.isEmpty() || streams.stream().anyMatch(id -> path.startsWith("stream-" + id + "/"));
    }

    boolean matches(DeadLetterEntry e) {
        if (!streams.isEmpty() && !streams.contains(e.streamId())) {
            return false;
        }
        if (reason != null && (e.reason() == null
                || !e.reason().toLowerCase(Locale.ROOT).contains(reason.toLowerCase(Locale.ROOT)))) {
            return false;
        }
        Instant at = e.deadLetteredAt();
        if (since != null && (at == null || at.isBefore(since))) {
            return false;
        }
        return until == null || (at != null && at.isBefore(until));
    }

    /** An instant, a UTC date (time), or an age before now. */
    static final class TimeConverter implements ITypeConverter<Instant> {
        private static final Pattern AGE = Pattern.compile("(\\d{1,9})(s|m|h|d)");

        @Override
        public Instant convert(String value) {
            String v = value.trim();
            Matcher age = AGE.matcher(v);
            if (age.matches()) {
                long n = Long.parseLong(age.group(1));
                Duration d = switch (age.group(2)) {
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
                return Instant.now().minus(d);
            }
            try {
                return Instant.parse(v);
            } catch (DateTimeParseException notInstant) {
                try {
                    return LocalDateTime.parse(v).toInstant(ZoneOffset.UTC);
                } catch (DateTimeParseException notDateTime) {
                    try {
                        return LocalDate.parse(v).atStartOfDay().toInstant(ZoneOffset.UTC);
                    } catch (DateTimeParseException notDate) {
                        throw new TypeConversionException("'" + value + "' is not a time; use " + TIME_FORMATS);
                    }
                }
            }
        }
    }
}
