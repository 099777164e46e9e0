package io.edgestreaming.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.fasterxml.jackson.dataformat.yaml.snakeyaml.error.MarkedYAMLException;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * The configuration as a document, before any key is read: its size limits (the file's bytes before
 * reading, the text's before parsing), YAML with SnakeYAML's settings, and the problems of the document
 * as a whole (empty, too large, syntax, duplicate keys, aliases, several documents).
 */
final class ConfigDocument {
    // Not strict about duplicate keys: that aborts at the first one; checkTokens lists them all instead.
    private static final YAMLFactory YAML = YAMLFactory.builder().loaderOptions(codePointLimit()).build();
    private static final ObjectMapper YAML_MAPPER = new ObjectMapper(YAML);

    private ConfigDocument() {}

    /** The text of {@code file}, refused whole (too large, absent, not UTF-8, unreadable). */
    static String read(Path file) throws ConfigException {
        String content;
        try {
            long size = Files.size(file);
            if (size > Limits.MAX_CONFIG_BYTES) {
                throw new ConfigException(List.of(file + ": " + tooLarge(size)));
            }
            content = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(List.of(file + ": cannot read the configuration: the file does not exist"));
        } catch (MalformedInputException e) {
            throw new ConfigException(List.of(file + ": cannot read the configuration: it is not UTF-8 text"));
        } catch (IOException e) {
            throw new ConfigException(List.of(file + ": cannot read the configuration: "
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage())));
        }
        return content;
    }

    /** SnakeYAML stops at 3 M code points by default, below the file's own limit (bytes, checked before parsing). */
    private static LoaderOptions codePointLimit() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit((int) Limits.MAX_CONFIG_BYTES);
        return options;
    }

    private static String tooLarge(long bytes) {
        return "the configuration has " + bytes + " bytes; at most " + Limits.bytes(Limits.MAX_CONFIG_BYTES)
                + " (" + Limits.MAX_CONFIG_BYTES + " bytes) are read";
    }

    /** UTF-8 length of {@code s}, counted without copying it. */
    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /** The document's tree, or null after reporting why it cannot be read. */
    static JsonNode readTree(String content, Problems problems) {
        if (content.length() > Limits.MAX_CONFIG_BYTES / 3) {
            long bytes = utf8Length(content);
            if (bytes > Limits.MAX_CONFIG_BYTES) {
                problems.add("", tooLarge(bytes));
                return null;
            }
        }
        if (content.isBlank()) {
            problems.add("", "the configuration is empty");
            return null;
        }
        try {
            try (JsonParser p = YAML.createParser(content)) {
                if (!checkTokens(p, problems)) {
                    return null;
                }
            }
            try (JsonParser p = YAML.createParser(content)) {
                JsonNode root = YAML_MAPPER.readTree(p);
                if (p.nextToken() != null) {
                    problems.add("", "holds more than one YAML document (---); put everything in one");
                    return null;
                }
                if (root == null || root.isNull() || root.isMissingNode()) {
                    problems.add("", "the configuration is empty");
                    return null;
                }
                return root;
            }
        } catch (JsonProcessingException e) {
            problems.add("", syntaxError(e));
            return null;
        } catch (IOException e) {
            problems.add("", "cannot parse: " + e.getClass().getSimpleName());
            return null;
        }
    }

    /**
     * Reports every duplicate key at its path (the tree keeps the last value, so validation goes on) and
     * refuses aliases; false when the tree must not be read. Messages name keys, never values.
     */
    private static boolean checkTokens(JsonParser p, Problems problems) throws IOException {
        record Level(String path, Map<String, Integer> keyLines, int[] index) {}
        List<Level> levels = new ArrayList<>();
        String key = null;
        JsonToken t;
        while ((t = p.nextToken()) != null) {
            // Jackson reads a YAML alias (*name) as the anchor's name, silently: refuse them instead.
            if (p instanceof YAMLParser y && y.isCurrentAlias()) {
                problems.add("", "line " + p.currentLocation().getLineNr()
                        + ": YAML aliases (*name) are not supported; write the value out");
                return false;
            }
            Level up = levels.isEmpty() ? null : levels.get(levels.size() - 1);
            if (t == JsonToken.FIELD_NAME) {
                key = p.currentName();
                int line = p.currentTokenLocation().getLineNr();
                Integer first = up.keyLines().putIfAbsent(key, line);
                if (first != null) {
                    problems.add(Section.child(up.path(), key),
                            "duplicate key (" + (first == line ? "twice on line " + line
                                    : "lines " + first + " and " + line) + "); keep one");
                }
                continue;
            }
            if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                levels.remove(levels.size() - 1);
                continue;
            }
            String path = up == null ? "" : up.keyLines() != null ? Section.child(up.path(), key)
                    : up.path() + "[" + up.index()[0]++ + "]";
            if (t == JsonToken.START_OBJECT) {
                levels.add(new Level(path, new HashMap<>(), null));
            } else if (t == JsonToken.START_ARRAY) {
                levels.add(new Level(path, null, new int[1]));
            }
        }
        return true;
    }

    /** Line, column and the parser's problem, without the snippet of the offending line (it may hold a secret). */
    private static String syntaxError(JsonProcessingException e) {
        String what;
        if (e instanceof MarkedYAMLException m && m.getProblem() != null) {
            what = m.getProblem();
        } else {
            what = e.getOriginalMessage();
        }
        if (what != null) {
            int newline = what.indexOf('\n');
            what = newline < 0 ? what : what.substring(0, newline);
        }
        JsonLocation loc = e.getLocation();
        String where = loc == null ? "" : "line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ": ";
        return "invalid YAML: " + where + (what == null ? e.getClass().getSimpleName() : what);
    }
}
