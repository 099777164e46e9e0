package io.edgestreaming.templates;

import java.nio.charset.StandardCharsets;

/** Realistic raw events as edge servers write them (UTF-8 JSON, some numbers, nulls, extra keys). */
final class SampleEvents {
    private SampleEvents() {}

    /** An Edge Applications request: non-ASCII raw and escaped, an emoji, quotes, a null, an unknown nested key. */
    static final String HTTP = """
            {"version":"1","time":"2026-11-25T04:12:33Z","client":"4529r","configuration":"1651234567",\
            "host":"www.example.com","request_time":0.123,"request_method":"GET","upstream_cache_status":"MISS",\
            "status":200,"proxy_status":"-","upstream_status":"502 : 200","upstream_bytes_received":"18342",\
            "scheme":"https","request_uri":"/products/list?page=2&q=café","sent_http_content_type":"text/html; charset=utf-8",\
            "server_protocol":"HTTP/2.0","request_length":"512","bytes_sent":18703,"upstream_connect_time":"0.004",\
            "upstream_header_time":"0.101","upstream_response_time":"0.118","tcpinfo_rtt":"24567",\
            "remote_addr":"203.0.113.7","remote_port":"51234","waf_attack_family":"-","waf_attack_action":"$PASS",\
            "country":"Brazil","state":"São Paulo","ssl_protocol":"TLSv1.3","ssl_cipher":"TLS_AES_128_GCM_SHA256",\
            "http_user_agent":"Mozilla/5.0 (X11; Linux x86_64) \\"quoted\\" 😀","http_referrer":"https://www.example.com/",\
            "sent_http_x_original_image_size":null,"requestPath":"/products/list","requestQuery":"page=2&q=caf\\u00e9",\
            "session_id":"a1b2c3d4e5f6","stream":"12345","upstream_addr":"10.0.0.1:80, 10.0.0.2:80",\
            "upstream_bytes_sent":733,"server_port":"443","server_addr":"198.51.100.10","waf_learning":0,\
            "waf_block":"0","waf_total_processed":"12","waf_total_blocked":"0","waf_score":"0","waf_match":"-",\
            "waf_headers":"-","asn":"AS64500","ssl_session_reused":"r","request_id":"9f1c2d3e4b5a69788796a5b4c3d2e1f0",\
            "traceback":"-","debug":{"trace":[1,2,{"a":null}],"note":"skipped"}}""";

    /** A WAF verdict: waf_args as a nested object, a null, a headers value that template 4 ignores. */
    static final String WAF = """
            {"version":"1","time":"2026-11-25T04:12:34Z","client":"4529r","configuration":"1651234567",\
            "host":"shop.example.com","remote_addr":"198.51.100.23","server_protocol":"HTTP/1.1",\
            "country":"United States","waf_server":"shop.example.com","waf_uri":"/login","waf_learning":"0",\
            "blocked":1,"waf_score":"25","waf_match":"1002:ARGS:user","waf_attack_family":"SQL",\
            "waf_attack_action":"$BLOCK","headers":"dXNlci1hZ2VudDogY3VybA==","truncated_body":"-",\
            "waf_args":{"user":"admin' OR '1'='1","pass":"x"},"requestPath":"/login","requestQuery":null}""";

    static byte[] bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8);
    }
}
