package io.edgestreaming.config;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves {@code ${env:NAME}} and {@code ${file:PATH}} references inside string values. Problems name
 * the variable or file, never a value. {@code ${file:}} reads only under the configuration's directory and
 * the directories of {@code EDGE_STREAMING_FILE_DIRS} (as Kafka's FileConfigProvider {@code allowed.paths}):
 * a customer's text copied unescaped into the configuration must not reach the job's own files. For the same
 * reason {@code ${env:}} reads only the names of {@code EDGE_STREAMING_ENV_VARS} when it is set: the job's
 * environment also holds the platform's own credentials (checkpoint bucket, source cluster).
 */
final class References {
    private static final Pattern REF = Pattern.compile("\\$\\{(env|file):([^}]*)}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** A referenced file is a token, key or small data set; anything bigger is a wrong path. */
    private static final long MAX_FILE_BYTES = 1 << 20;
    /** The platform's extra directories for {@code ${file:}}, separated by {@link File#pathSeparator}. */
    static final String FILE_DIRS = "EDGE_STREAMING_FILE_DIRS";
    /** The names {@code ${env:}} may read, separated by commas; {@code PREFIX*} allows every name it starts. */
    static final String ENV_VARS = "EDGE_STREAMING_ENV_VARS";

    /**
     * A resolved string. {@code origin} is the value as written when it held a reference (safe to show:
     * it names variables and files, not their content), null for a plain literal.
     */
    record Text(String value, String origin) {
        /** How an error message may show a non-secret value. */
        String shown() {
            if (origin != null) {
                return "the value of " + origin;
            }
            String v = value.length() > 80 ? value.substring(0, 77) + "..." : value;
            return "'" + v.replace("\n", "\\n").replace("\r", "\\r") + "'";
        }
    }

    private final Function<String, String> env;
    private final Path baseDir;
    /** The configuration file's directory, null for parsed text (which has none). */
    private final Path configDir;
    /** Real paths of the directories {@code ${file:}} may read; looked up at the first file reference. */
    private List<Path> allowed;
    private final Consumer<String> warnings;
    /** The entries of {@code EDGE_STREAMING_ENV_VARS}, null if unset (every name); looked up at the first env reference. */
    private List<String> readable;
    private boolean readableLooked;

    References(Function<String, String> env, Path baseDir, Path configDir, Consumer<String> warnings) {
        this.env = env;
        this.baseDir = baseDir;
        this.configDir = configDir;
        this.warnings = warnings;
    }

    static boolean hasReference(String raw) {
        return raw.contains("${env:") || raw.contains("${file:");
    }

    /** The value with every reference replaced, or null after adding the problems at {@code path}. */
    Text resolve(String raw, String path, Problems problems) {
        if (!hasReference(raw)) {
            return new Text(raw, null);
        }
        Matcher m = REF.matcher(raw);
        StringBuilder out = new StringBuilder();
        int last = 0;
        boolean ok = true;
        while (m.find()) {
            String between = raw.substring(last, m.start());
            if (hasReference(between)) {
                break;
            }
            out.append(between);
            String resolved = m.group(1).equals("env") ? env(m.group(2), path, problems) : file(m.group(2), path, problems);
            if (resolved == null) {
                ok = false;
            } else {
                out.append(resolved);
            }
            last = m.end();
        }
        String rest = raw.substring(last);
        if (hasReference(rest)) {
            problems.add(path, "has an unterminated reference (write ${env:NAME} or ${file:PATH})");
            return null;
        }
        out.append(rest);
        return ok ? new Text(out.toString(), raw) : null;
    }

    private String env(String name, String path, Problems problems) {
        if (!ENV_NAME.matcher(name).matches()) {
            problems.add(path, "${env:" + name + "} does not name an environment variable (letters, digits, _)");
            return null;
        }
        // Checked before the lookup, so a refused name is never read (nor whether it is set).
        if (!mayRead(name)) {
            problems.add(path, "cannot read ${env:" + name + "}: not among the names ${env:} may read (" + ENV_VARS + ")");
            return null;
        }
        String value = env.apply(name);
        if (value == null) {
            problems.add(path, "environment variable " + name + " is not set");
            return null;
        }
        return value;
    }

    private String file(String name, String path, Problems problems) {
        if (name.isBlank()) {
            problems.add(path, "${file:} needs a path");
            return null;
        }
        Path file;
        try {
            file = baseDir.resolve(name);
        } catch (InvalidPathException e) {
            problems.add(path, "cannot read ${file:" + name + "}: not a valid path (" + e.getReason() + ")");
            return null;
        }
        // Checked and read on the real path, so neither `..` nor a symlink leads out after the check.
        Path real;
        IOException unreadable = null;
        try {
            real = file.toRealPath();
        } catch (NoSuchFileException | AccessDeniedException e) {
            // Placed by its deepest resolvable ancestor, so a missing file outside is refused as outside
            // too (no probing for what exists there); it is never opened.
            real = realAncestor(file);
            unreadable = e;
        } catch (IOException e) {
            real = null;
        }
        if (real == null || allowed().stream().noneMatch(real::startsWith)) {
            problems.add(path, "cannot read ${file:" + name + "}: outside the directories ${file:} may read"
                    + " (the configuration's directory and " + FILE_DIRS + ")");
            return null;
        }
        if (unreadable != null) {
            problems.add(path, "cannot read ${file:" + name + "}: " + (unreadable instanceof NoSuchFileException
                    ? file + " does not exist" : "permission denied on " + file));
            return null;
        }
        try {
            if (Files.isDirectory(real)) {
                problems.add(path, "cannot read ${file:" + name + "}: " + file + " is a directory");
                return null;
            }
            // A device or pipe has no size to check first and may never end (${file:/dev/zero}).
            if (Files.exists(real) && !Files.isRegularFile(real)) {
                problems.add(path, "cannot read ${file:" + name + "}: " + file + " is not a regular file");
                return null;
            }
            byte[] bytes;
            try (InputStream in = Files.newInputStream(real)) {
                bytes = in.readNBytes((int) MAX_FILE_BYTES + 1);
            }
            if (bytes.length > MAX_FILE_BYTES) {
                problems.add(path, "cannot read ${file:" + name + "}: " + file + " is larger than 1 MiB");
                return null;
            }
            String content = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
            // Editors end files with a newline that is not part of the secret.
            if (content.endsWith("\r\n")) {
                return content.substring(0, content.length() - 2);
            }
            if (content.endsWith("\n")) {
                return content.substring(0, content.length() - 1);
            }
            return content;
        } catch (NoSuchFileException e) {
            problems.add(path, "cannot read ${file:" + name + "}: " + file + " does not exist");
        } catch (AccessDeniedException e) {
            problems.add(path, "cannot read ${file:" + name + "}: permission denied on " + file);
        } catch (CharacterCodingException e) {
            problems.add(path, "cannot read ${file:" + name + "}: " + file + " is not UTF-8 text");
        } catch (IOException e) {
            problems.add(path, "cannot read ${file:" + name + "}: " + file + ": " + e.getClass().getSimpleName());
        }
        return null;
    }

    private boolean mayRead(String name) {
        if (!readableLooked) {
            readableLooked = true;
            String listed = env.apply(ENV_VARS);
            if (listed == null) {
                // Unset keeps existing deployments working, once per load so the platform team sees it.
                warnings.accept(ENV_VARS + " is not set: ${env:} may read every environment variable of the job;"
                        + " list the names configurations may use");
            } else {
                readable = Arrays.stream(listed.split(",")).map(String::strip).filter(e -> !e.isEmpty()).toList();
            }
        }
        if (readable == null) {
            return true;
        }
        // The lists are the platform's, never a configuration's to read, even under a prefix such as EDGE_*.
        if (name.equals(ENV_VARS) || name.equals(FILE_DIRS)) {
            return false;
        }
        return readable.stream().anyMatch(e -> e.endsWith("*")
                ? name.startsWith(e.substring(0, e.length() - 1)) : name.equals(e));
    }

    private List<Path> allowed() {
        if (allowed == null) {
            List<String> dirs = new ArrayList<>();
            if (configDir != null) {
                dirs.add(configDir.toString());
            }
            String listed = env.apply(FILE_DIRS);
            if (listed != null) {
                dirs.addAll(List.of(listed.split(File.pathSeparator)));
            }
            allowed = new ArrayList<>();
            for (String dir : dirs) {
                try {
                    // An entry that is empty, missing or not a path allows nothing (`::` or a removed mount).
                    if (!dir.isBlank()) {
                        allowed.add(Path.of(dir).toRealPath());
                    }
                } catch (IOException | InvalidPathException e) {
                    // nothing under it can be read
                }
            }
        }
        return allowed;
    }

    /** The real path of {@code file}'s deepest resolvable ancestor with the rest appended, or null. */
    private static Path realAncestor(Path file) {
        Path rest = null;
        for (Path p = file.toAbsolutePath(); p != null; p = p.getParent()) {
            try {
                Path real = p.toRealPath();
                return rest == null ? real : real.resolve(rest).normalize();
            } catch (NoSuchFileException | AccessDeniedException e) {
                if (p.getFileName() == null) {
                    return null;
                }
                rest = rest == null ? p.getFileName() : p.getFileName().resolve(rest);
            } catch (IOException e) {
                return null;
            }
        }
        return null;
    }
}
