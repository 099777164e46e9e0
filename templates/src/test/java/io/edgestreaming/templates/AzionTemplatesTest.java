package io.edgestreaming.templates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Azion's templates 2, 4 and 184: identity, data sets key for key, and golden output on sample events. */
class AzionTemplatesTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    static final String GOLDEN_2 = """
            {"version":"1","time":"2026-11-25T04:12:33Z","client":"4529r","configuration":"1651234567",\
            "host":"www.example.com","request_time":"0.123","request_method":"GET","upstream_cache_status":"MISS",\
            "status":"200","proxy_status":"-","upstream_status":"502 : 200","upstream_bytes_received":"18342",\
            "scheme":"https","request_uri":"/products/list?page=2&q=caf\\u00e9",\
            "sent_http_content_type":"text/html; charset=utf-8","server_protocol":"HTTP/2.0","request_length":"512",\
            "bytes_sent":"18703","upstream_connect_time":"0.004","upstream_header_time":"0.101",\
            "upstream_response_time":"0.118","tcpinfo_rtt":"24567","remote_addr":"203.0.113.7","remote_port":"51234",\
            "waf_attack_family":"-","waf_attack_action":"$PASS","country":"Brazil","state":"S\\u00e3o Paulo",\
            "ssl_protocol":"TLSv1.3","ssl_cipher":"TLS_AES_128_GCM_SHA256",\
            "http_user_agent":"Mozilla/5.0 (X11; Linux x86_64) \\"quoted\\" \\ud83d\\ude00",\
            "http_referrer":"https://www.example.com/","sent_http_x_original_image_size":"-",\
            "requestPath":"/products/list","requestQuery":"page=2&q=caf\\u00e9"}""";

    static final String GOLDEN_4 = """
            {"version":"1","time":"2026-11-25T04:12:34Z","client":"4529r","configuration":"1651234567",\
            "host":"shop.example.com","remote_addr":"198.51.100.23","server_protocol":"HTTP/1.1",\
            "country":"United States","waf_server":"shop.example.com","waf_uri":"/login","waf_learning":"0",\
            "blocked":"1","waf_score":"25","waf_match":"1002:ARGS:user","waf_attack_family":"SQL",\
            "waf_attack_action":"$BLOCK","headers":"-","truncated_body":"-",\
            "waf_args":"{\\"user\\":\\"admin' OR '1'='1\\",\\"pass\\":\\"x\\"}","requestPath":"/login",\
            "requestQuery":"-"}""";

    static final String GOLDEN_184 = """
            {"time":"2026-11-25T04:12:33Z","client":"4529r","session_id":"a1b2c3d4e5f6","stream":"12345",\
            "host":"www.example.com","request_time":"0.123","request_method":"GET","status":"200",\
            "proxy_status":"-","scheme":"https","request_uri":"/products/list?page=2&q=caf\\u00e9",\
            "request_length":"512","bytes_sent":"18703","tcpinfo_rtt":"24567","upstream_cache_status":"MISS",\
            "upstream_status":"502 : 200","upstream_bytes_received":"18342","upstream_connect_time":"0.004",\
            "upstream_header_time":"0.101","upstream_response_time":"0.118",\
            "upstream_addr":"10.0.0.1:80, 10.0.0.2:80","upstream_bytes_sent":"733",\
            "sent_http_content_type":"text/html; charset=utf-8",\
            "http_user_agent":"Mozilla/5.0 (X11; Linux x86_64) \\"quoted\\" \\ud83d\\ude00",\
            "http_referer":"https://www.example.com/","sent_http_x_original_image_size":"-",\
            "server_protocol":"HTTP/2.0","server_port":"443","server_addr":"198.51.100.10",\
            "remote_addr":"203.0.113.7","remote_port":"51234","waf_attack_family":"-","waf_attack_action":"$PASS",\
            "waf_learning":"0","waf_block":"0","waf_total_processed":"12","waf_total_blocked":"0","waf_score":"0",\
            "waf_match":"-","waf_headers":"-","country":"Brazil","state":"S\\u00e3o Paulo","asn":"AS64500",\
            "ssl_protocol":"TLSv1.3","ssl_cipher":"TLS_AES_128_GCM_SHA256","ssl_session_reused":"r",\
            "ssl_server_name":"-","request_id":"9f1c2d3e4b5a69788796a5b4c3d2e1f0","requestPath":"/products/list",\
            "requestQuery":"page=2&q=caf\\u00e9","configuration":"1651234567"}""";

    @Test
    void template2ProjectsTheHttpSampleExactly() throws Exception {
        assertThat(project(2, SampleEvents.HTTP)).isEqualTo(GOLDEN_2);
    }

    @Test
    void template4ProjectsTheWafSampleExactlyWithLiteralHeaders() throws Exception {
        assertThat(project(4, SampleEvents.WAF)).isEqualTo(GOLDEN_4);
    }

    @Test
    void template184ProjectsTheHttpSampleExactly() throws Exception {
        assertThat(project(184, SampleEvents.HTTP)).isEqualTo(GOLDEN_184);
    }

    @Test
    void goldenOutputsAreValidAsciiJsonWithAStringPerKey() throws Exception {
        for (String golden : List.of(GOLDEN_2, GOLDEN_4, GOLDEN_184)) {
            assertThat(golden.chars().allMatch(c -> c >= 0x20 && c < 0x7F)).isTrue();
            JsonNode node = MAPPER.readTree(golden);
            node.fields().forEachRemaining(e -> assertThat(e.getValue().isTextual()).isTrue());
        }
        JsonNode t184 = MAPPER.readTree(GOLDEN_184);
        assertThat(t184.get("http_user_agent").asText()).isEqualTo("Mozilla/5.0 (X11; Linux x86_64) \"quoted\" \uD83D\uDE00");
        assertThat(t184.get("state").asText()).isEqualTo("São Paulo");
    }

    @Test
    void idsNamesAndDataSourcesFollowAzion() throws Exception {
        assertThat(Templates.byId(2).name()).isEqualTo("Edge Applications Event Collector");
        assertThat(Templates.byId(2).dataSource()).isEqualTo(DataSource.HTTP);
        assertThat(Templates.byId(4).name()).isEqualTo("WAF Event Collector");
        assertThat(Templates.byId(4).dataSource()).isEqualTo(DataSource.WAF);
        assertThat(Templates.byId(184).name()).isEqualTo("Edge Applications + WAF Event Collector");
        assertThat(Templates.byId(184).dataSource()).isEqualTo(DataSource.HTTP);
        assertThat(Templates.azionTemplates()).extracting(Template::id).containsExactly(2, 4, 184);
    }

    @Test
    void dataSetsMatchTheReferenceKeyForKeyInOrder() throws Exception {
        // key -> expression as in the reference file.
        assertThat(entries(Templates.byId(2))).hasSize(35).startsWith("version=$version", "time=$time")
                .endsWith("requestPath=$requestPath", "requestQuery=$requestQuery");
        assertThat(entries(Templates.byId(4))).containsExactly("version=$version", "time=$time", "client=$client",
                "configuration=$configuration", "host=$host", "remote_addr=$remote_addr",
                "server_protocol=$server_protocol", "country=$country", "waf_server=$waf_server", "waf_uri=$waf_uri",
                "waf_learning=$waf_learning", "blocked=$blocked", "waf_score=$waf_score", "waf_match=$waf_match",
                "waf_attack_family=$waf_attack_family", "waf_attack_action=$waf_attack_action", "headers=-",
                "truncated_body=$truncated_body", "waf_args=$waf_args", "requestPath=$requestPath",
                "requestQuery=$requestQuery");
        List<String> t184 = entries(Templates.byId(184));
        assertThat(t184).hasSize(51).startsWith("time=$time", "client=$client", "session_id=$session_id")
                .contains("http_referer=$http_referrer").endsWith("configuration=$configuration");
        // Golden output key order equals the data set order (checked on every key).
        assertThat(keys(GOLDEN_184)).containsExactlyElementsOf(t184.stream().map(e -> e.split("=")[0]).toList());
        assertThat(keys(GOLDEN_2)).containsExactlyElementsOf(
                entries(Templates.byId(2)).stream().map(e -> e.split("=")[0]).toList());
    }

    @Test
    void unknownIdNamesTheKnownOnes() {
        assertThatThrownBy(() -> Templates.byId(5)).isInstanceOf(TemplateException.class)
                .hasMessageContaining("unknown template_id 5")
                .hasMessageContaining("2 (Edge Applications Event Collector, data source http)")
                .hasMessageContaining("4 (WAF Event Collector, data source waf)")
                .hasMessageContaining("184 (Edge Applications + WAF Event Collector, data source http)");
    }

    @Test
    void templatesOfOneDataSourceRefuseEventsOfTheOther() throws Exception {
        ParsedEvent waf = new EventParser(DataSource.WAF, 4096).parse(SampleEvents.bytes(SampleEvents.WAF));
        CompiledTemplate t2 = CompiledTemplate.compile(Templates.byId(2));
        assertThatThrownBy(() -> t2.project(waf)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("waf").hasMessageContaining("http");
    }

    private static String project(int id, String event) throws Exception {
        CompiledTemplate compiled = CompiledTemplate.compile(Templates.byId(id));
        return new String(compiled.project(SampleEvents.bytes(event)), StandardCharsets.US_ASCII);
    }

    private static List<String> entries(Template t) {
        return t.entries().stream().map(e -> e.key() + "=" + e.expression()).toList();
    }

    private static List<String> keys(String json) throws Exception {
        List<String> keys = new ArrayList<>();
        MAPPER.readTree(json).fieldNames().forEachRemaining(keys::add);
        return keys;
    }
}
