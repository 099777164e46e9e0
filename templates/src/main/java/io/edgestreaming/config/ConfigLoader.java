package io.edgestreaming.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the job configuration (YAML, or JSON which YAML reads too), resolves {@code ${env:NAME}} and
 * {@code ${file:PATH}} references and validates everything, reporting every problem at once with its
 * path. Key names follow Azion's Data Streaming API v3 where Azion has them, so Azion-shaped stream
 * definitions are accepted unchanged.
 *
 * <p>The tree model is fine here: this runs once per job start, not per event.
 */
public final class ConfigLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
    private static final Consumer<String> LOGGED = w -> LOG.warn("Configuration: {}", w);

    private ConfigLoader() {}

    /**
     * Loads {@code file}; {@code ${file:PATH}} references are relative to its directory and may read only
     * under it and the directories of {@code EDGE_STREAMING_FILE_DIRS}; {@code ${env:NAME}} only the names of
     * {@code EDGE_STREAMING_ENV_VARS} when it is set.
     */
    public static JobConfig load(Path file) throws ConfigException {
        return load(file, System::getenv);
    }

    /**
     * As {@link #load(Path)} with {@code ${env:NAME}} looked up in {@code env} (null for unset), for
     * in-process runners that cannot set the process environment.
     */
    public static JobConfig load(Path file, Function<String, String> env) throws ConfigException {
        return load(file, env, LOGGED);
    }

    /**
     * As {@link #load(Path, Function)}; {@code warnings} gets what is accepted but worth a look (a host
     * that does not resolve now), which the other methods log.
     */
    public static JobConfig load(Path file, Function<String, String> env, Consumer<String> warnings) throws ConfigException {
        String content = ConfigDocument.read(file);
        Path dir = file.toAbsolutePath().getParent();
        dir = dir == null ? Path.of("").toAbsolutePath() : dir;
        return parse(content, env, dir, dir, AddressPolicy.SYSTEM, warnings);
    }

    /**
     * Parses a configuration; references read the process environment and files relative to the working
     * directory, only under the directories of {@code EDGE_STREAMING_FILE_DIRS} (text has no directory of its own).
     */
    public static JobConfig parse(String content) throws ConfigException {
        return parse(content, System::getenv, Path.of("").toAbsolutePath());
    }

    /**
     * Parses a configuration with an injectable environment ({@code env} returns null for an unset
     * variable) and the directory {@code ${file:PATH}} is relative to; files are read only under the
     * directories of {@code EDGE_STREAMING_FILE_DIRS} (looked up in {@code env}), not under {@code baseDir}.
     */
    public static JobConfig parse(String content, Function<String, String> env, Path baseDir) throws ConfigException {
        return parse(content, env, baseDir, AddressPolicy.SYSTEM, LOGGED);
    }

    /** As above, endpoint hosts looked up with {@code resolver} and warnings given to {@code warnings}. */
    static JobConfig parse(String content, Function<String, String> env, Path baseDir, AddressPolicy.Resolver resolver,
            Consumer<String> warnings) throws ConfigException {
        return parse(content, env, baseDir, null, resolver, warnings);
    }

    /** As above; {@code configDir} is the configuration file's directory ({@code ${file:}} may read it), or null. */
    private static JobConfig parse(String content, Function<String, String> env, Path baseDir, Path configDir,
            AddressPolicy.Resolver resolver, Consumer<String> warnings) throws ConfigException {
        Problems problems = new Problems();
        JsonNode root = ConfigDocument.readTree(content, problems);
        JobConfig config = null;
        if (root != null) {
            References references = new References(env, baseDir, configDir, warnings);
            config = JobSection.read(root, problems, references, baseDir, resolver, warnings);
        }
        if (!problems.isEmpty() || config == null) {
            throw new ConfigException(problems.list());
        }
        return config;
    }
}
