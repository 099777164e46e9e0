package io.edgestreaming.templates;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The raw-event data sources a stream can read, with their variables as Azion documents them. */
public enum DataSource {
    /** Edge Applications: one event per HTTP request served at the edge. */
    HTTP("http", "Edge Applications", List.of(
            "asn", "bytes_sent", "client", "configuration", "country", "host", "http_referrer",
            "http_user_agent", "proxy_status", "remote_addr", "remote_port", "request_id",
            "request_length", "request_method", "request_time", "request_uri", "requestPath",
            "requestQuery", "scheme", "sent_http_content_type", "sent_http_x_original_image_size",
            "server_addr", "server_port", "server_protocol", "session_id", "ssl_cipher", "ssl_protocol",
            "ssl_server_name", "ssl_session_reused", "state", "status", "stream", "tcpinfo_rtt", "time",
            "traceback", "upstream_addr", "upstream_bytes_received", "upstream_bytes_sent",
            "upstream_cache_status", "upstream_connect_time", "upstream_header_time",
            "upstream_response_time", "upstream_status", "version", "waf_attack_action",
            "waf_attack_family", "waf_block", "waf_headers", "waf_learning", "waf_match", "waf_score",
            "waf_total_blocked", "waf_total_processed")),
    /** WAF Events: requests analysed by the Web Application Firewall. */
    WAF("waf", "WAF Events", List.of(
            "blocked", "client", "configuration", "country", "headers", "host", "remote_addr",
            "requestPath", "requestQuery", "server_protocol", "time", "truncated_body", "version",
            "waf_args", "waf_attack_action", "waf_attack_family", "waf_learning", "waf_match",
            "waf_score", "waf_server", "waf_uri"));

    private final String id;
    private final String displayName;
    private final List<String> variables;

    DataSource(String id, String displayName, List<String> variables) {
        this.id = id;
        this.displayName = displayName;
        this.variables = variables;
    }

    /** The API name: {@code http} or {@code waf}. */
    public String id() {
        return id;
    }

    public String displayName() {
        return displayName;
    }

    /** Variable names without the leading {@code $}, in Azion's documented order. */
    public List<String> variables() {
        return variables;
    }

    public boolean hasVariable(String name) {
        return variables.contains(name);
    }

    public static Optional<DataSource> fromId(String id) {
        if (id == null) {
            return Optional.empty();
        }
        String lower = id.toLowerCase(Locale.ROOT);
        for (DataSource source : values()) {
            if (source.id.equals(lower)) {
                return Optional.of(source);
            }
        }
        return Optional.empty();
    }
}
