package io.edgestreaming.config;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.UncheckedIOException;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * One copy of the job configuration per JVM and class loader, shared by every operator and subtask there. At
 * 10,000 streams the configuration is 3 MB serialized: carried by each operator that needs it, it dominated the
 * job graph and every subtask deserialized several copies. Instead the job carries it outside the operators,
 * {@link #encode encoded} (gzip-compressed Java serialization, Base64), and operators hold only its fingerprint
 * and {@link #resolve} it when they open: the first one decodes it, the rest get the same instance.
 *
 * <p>The cache holds its entries weakly: once no operator holds a configuration (its job ended or restarts), it can
 * go, so a job restarted with another configuration (another fingerprint) does not keep the old one.
 */
public final class SharedJobConfig {
    private static final Map<String, WeakReference<Shared>> CACHE = new HashMap<>();
    /** What a configuration's serialized form may contain: its own records and the JDK's. */
    private static final ObjectInputFilter FILTER = ObjectInputFilter.Config.createFilter(
            "io.edgestreaming.**;java.**;maxdepth=64;!*");

    private SharedJobConfig() {}

    /**
     * A configuration as the job carries it.
     *
     * @param fingerprint SHA-256 of {@code payload}, hex
     * @param payload gzip-compressed Java serialization, Base64; holds the secrets: never log it
     */
    public record Encoded(String fingerprint, String payload) {
        public Encoded {
            Objects.requireNonNull(fingerprint, "fingerprint");
            Objects.requireNonNull(payload, "payload");
        }

        @Override
        public String toString() {
            return "Encoded[" + fingerprint + ", " + payload.length() + " characters]";
        }
    }

    /** A decoded configuration and what operators derive from it (computed once, then shared). */
    public static final class Shared {
        private final String fingerprint;
        private final JobConfig config;
        private final ConcurrentHashMap<String, Object> slices = new ConcurrentHashMap<>();

        private Shared(String fingerprint, JobConfig config) {
            this.fingerprint = fingerprint;
            this.config = Objects.requireNonNull(config, "config");
        }

        public JobConfig config() {
            return config;
        }

        /** Null for a configuration an operator carries itself. */
        public String fingerprint() {
            return fingerprint;
        }

        /**
         * What {@code derive} makes of the configuration, computed by the first caller of this name; it must be
         * immutable or thread-safe, since every subtask of this JVM gets the same instance.
         */
        @SuppressWarnings("unchecked")
        public <T> T slice(String name, Function<JobConfig, T> derive) {
            return (T) slices.computeIfAbsent(name, n -> derive.apply(config));
        }

        @Override
        public String toString() {
            return "SharedJobConfig[" + (fingerprint == null ? "own copy" : fingerprint) + ", "
                    + config.streams().size() + " streams]";
        }
    }

    /** The form the job carries. */
    public static Encoded encode(JobConfig config) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(new GZIPOutputStream(bytes))) {
            out.writeObject(config);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialize the configuration", e);
        }
        String payload = Base64.getEncoder().encodeToString(bytes.toByteArray());
        return new Encoded(sha256(payload), payload);
    }

    /** A configuration an operator carries itself (tests, harnesses): not cached, its slices its own. */
    public static Shared own(JobConfig config) {
        return new Shared(null, config);
    }

    /**
     * The configuration of this fingerprint: the cached instance, or decoded from {@code payload} (called only
     * then; null if the job does not carry it).
     *
     * @throws IllegalStateException if the payload is missing or is not the one of this fingerprint
     */
    public static synchronized Shared resolve(String fingerprint, Supplier<String> payload) {
        CACHE.values().removeIf(ref -> ref.get() == null);
        WeakReference<Shared> ref = CACHE.get(fingerprint);
        Shared shared = ref == null ? null : ref.get();
        if (shared != null) {
            return shared;
        }
        String encoded = payload.get();
        if (encoded == null) {
            throw new IllegalStateException("the job does not carry configuration " + fingerprint
                    + ": was its graph built by EdgeStreamingPipeline?");
        }
        if (!sha256(encoded).equals(fingerprint)) {
            throw new IllegalStateException("the job's configuration " + fingerprint + " does not match its fingerprint");
        }
        shared = new Shared(fingerprint, decode(encoded));
        CACHE.put(fingerprint, new WeakReference<>(shared));
        return shared;
    }

    /** Configurations in the cache still held by some operator (tests). */
    static synchronized int cached() {
        CACHE.values().removeIf(ref -> ref.get() == null);
        return CACHE.size();
    }

    static JobConfig decode(String payload) {
        byte[] bytes = Base64.getDecoder().decode(payload);
        try (ObjectInputStream in = new LoaderObjectInputStream(new GZIPInputStream(new ByteArrayInputStream(bytes)))) {
            in.setObjectInputFilter(FILTER);
            return (JobConfig) in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("cannot decode the job's configuration", e);
        }
    }

    static String sha256(String payload) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(payload.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Resolves classes through the loader of the configuration's own classes: the job's, in a Flink task. */
    private static final class LoaderObjectInputStream extends ObjectInputStream {
        LoaderObjectInputStream(InputStream in) throws IOException {
            super(in);
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            try {
                return Class.forName(desc.getName(), false, SharedJobConfig.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                return super.resolveClass(desc);
            }
        }
    }
}
