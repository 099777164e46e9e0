package io.edgestreaming.config;

/**
 * The sizes a configuration may have, in one place. Each guards the job against a hostile or broken
 * file (a tenant's stream definition is customer input): past a limit the file is refused at load with
 * a problem at its path that names the limit, before anything is built. README ("Limits") and
 * deploy/config/reference.yaml list the same figures.
 */
public final class Limits {
    private Limits() {}

    /** The configuration file, in bytes (UTF-8). 10,000 streams take about 3 MB. */
    public static final long MAX_CONFIG_BYTES = 64L << 20;
    /** Streams in one configuration (one job). */
    public static final int MAX_STREAMS = 20_000;
    /** A custom template_model, in bytes of its JSON (UTF-8). */
    public static final int MAX_TEMPLATE_BYTES = 64 << 10;
    /** $variable references in one custom template_model (Azion's template 184 has 51). */
    public static final int MAX_TEMPLATE_VARIABLES = 500;
    /** Custom headers of a standard (HTTP) endpoint (Azion's limit). */
    public static final int MAX_HEADERS = 5;
    /** A header value, in characters (Azion's limit); at least one. */
    public static final int MAX_HEADER_VALUE_CHARS = 1024;

    /** batching_keys_per_stream: each shared key holds up to 5 open blocks and timers per stream. */
    public static final int MAX_BATCHING_KEYS_PER_STREAM = 4096;

    /** {@code 67108864} as {@code 64 MiB}, for messages. */
    static String bytes(long n) {
        if (n >= (1L << 20) && n % (1L << 20) == 0) {
            return (n >> 20) + " MiB";
        }
        if (n >= 1024 && n % 1024 == 0) {
            return (n >> 10) + " KiB";
        }
        return n + " bytes";
    }
}
