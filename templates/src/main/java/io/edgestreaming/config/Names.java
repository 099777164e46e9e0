package io.edgestreaming.config;

import java.util.Collection;
import java.util.Locale;
import java.util.regex.Pattern;

/** Syntax checks of names the configuration carries, and the closest-key suggestion for typos. */
final class Names {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern KAFKA_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final String TCHARS = "!#$%&'*+-.^_`|~";

    private Names() {}

    /** A DNS host name in lower case (labels of letters, digits and inner hyphens), or null when valid. */
    static String hostNameProblem(String host) {
        if (host.isEmpty()) {
            return "is empty";
        }
        if (host.length() > 253) {
            return "is longer than 253 characters";
        }
        for (int i = 0; i < host.length(); i++) {
            if (host.charAt(i) > 0x7e) {
                return "must be ASCII (write internationalized names in punycode, xn--...)";
            }
        }
        for (String label : host.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                return "is not a valid host name (labels of letters, digits and inner hyphens, 1 to 63 characters,"
                        + " separated by dots)";
            }
        }
        return null;
    }

    /** "host1:port1,host2:port2": null when valid, else what is wrong. */
    static String hostPortListProblem(String list) {
        return hostPortListProblem(list, null);
    }

    /** As above; {@code hiddenAs}, if not null, stands for the value (one that came from a reference) in messages. */
    static String hostPortListProblem(String list, String hiddenAs) {
        String[] parts = list.split(",", -1);
        for (String raw : parts) {
            String part = raw.trim();
            int colon = part.lastIndexOf(':');
            String prefix = "must be a comma-separated list of host:port, "
                    + (hiddenAs == null ? "" : "an entry of " + hiddenAs + " ");
            if (colon <= 0 || colon == part.length() - 1) {
                return prefix + (hiddenAs == null ? "'" + part + "' " : "") + "has no port";
            }
            String host = part.substring(0, colon);
            String port = part.substring(colon + 1);
            boolean bracketed = host.startsWith("[") && host.endsWith("]");
            if (!bracketed && hostNameProblem(host.toLowerCase(Locale.ROOT)) != null) {
                return prefix + (hiddenAs == null ? "'" + host + "' is not a host name" : "has no valid host name");
            }
            int p;
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                p = -1;
            }
            if (p < 1 || p > 65535) {
                return prefix + (hiddenAs == null ? "'" + port + "' is not a port" : "has no valid port") + " (1 to 65535)";
            }
        }
        return null;
    }

    static String kafkaTopicProblem(String topic) {
        if (!KAFKA_TOPIC.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
            return "is not a valid Kafka topic name (1 to 249 of letters, digits, '.', '_', '-'; not '.' or '..')";
        }
        return null;
    }

    /** S3's bucket naming rules (3 to 63 characters), which every S3-compatible store accepts. */
    static String bucketNameProblem(String bucket) {
        if (bucket.length() < 3 || bucket.length() > 63
                || !bucket.matches("[a-z0-9][a-z0-9.-]*[a-z0-9]")
                || bucket.contains("..")
                || IPV4.matcher(bucket).matches()) {
            return "is not a valid bucket name (3 to 63 lower-case letters, digits, dots and hyphens, starting and"
                    + " ending with a letter or digit, not an IP address)";
        }
        return null;
    }

    /** An HTTP header field name: an RFC 9110 token. */
    static boolean isHttpToken(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || TCHARS.indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * The known key a mistyped one most likely meant (same letters ignoring case and underscores, or a
     * small edit distance), or null.
     */
    static String closest(String unknown, Collection<String> known) {
        String norm = normalize(unknown);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            String c = normalize(candidate);
            if (c.equals(norm)) {
                return candidate;
            }
            int d = distance(norm, c);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        int allowed = Math.max(2, norm.length() / 3);
        if (best != null && bestDistance <= allowed) {
            return best;
        }
        // "bucket" for "bucket_name", "timeout" for "request_timeout": one contains the other
        for (String candidate : known) {
            String c = normalize(candidate);
            if (norm.length() >= 3 && (c.contains(norm) || norm.contains(c))) {
                return candidate;
            }
        }
        return null;
    }

    private static String normalize(String key) {
        return key.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
