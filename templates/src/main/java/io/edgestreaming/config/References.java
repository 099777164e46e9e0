package io.edgestreaming.config;

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
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves {@code ${env:NAME}} and {@code ${file:PATH}} references inside string values. Problems name
 * the variable or file, never a value.
 */
final class References {
    private static final Pattern REF = Pattern.compile("\\$\\{(env|file):([^}]*)}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** A referenced file is a token, key or small data set; anything bigger is a wrong path. */
    private static final long MAX_FILE_BYTES = 1 << 20;

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

    References(Function<String, String> env, Path baseDir) {
        this.env = env;
        this.baseDir = baseDir;
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
        try {
            if (Files.isDirectory(file)) {
                problems.add(path, "cannot read ${file:" + name + "}: " + file + " is a directory");
                return null;
            }
            // A device or pipe has no size to check first and may never end (${file:/dev/zero}).
            if (Files.exists(file) && !Files.isRegularFile(file)) {
                problems.add(path, "cannot read ${file:" + name + "}: " + file + " is not a regular file");
                return null;
            }
            byte[] bytes;
            try (InputStream in = Files.newInputStream(file)) {
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
}
