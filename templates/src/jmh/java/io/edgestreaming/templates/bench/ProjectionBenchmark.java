package io.edgestreaming.templates.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgestreaming.templates.CompiledTemplate;
import io.edgestreaming.templates.EventParser;
import io.edgestreaming.templates.Template;
import io.edgestreaming.templates.Templates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One realistic edge event (~1 KB) through template 184, three ways: the compiled projection, the naive
 * tree-model way, and a bare tokenize pass (the floor of any Jackson-based projection). Scores are
 * events per second.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ProjectionBenchmark {

    /** An Edge Applications event as an edge server writes it: mostly strings, a few numbers, one extra key. */
    static final String EVENT = "{\"version\":\"1\",\"time\":\"2026-11-25T04:12:33Z\",\"client\":\"4529r\","
            + "\"configuration\":\"1651234567\",\"host\":\"www.example.com\",\"request_time\":0.123,"
            + "\"request_method\":\"GET\",\"upstream_cache_status\":\"MISS\",\"status\":200,\"proxy_status\":\"-\","
            + "\"upstream_status\":\"200\",\"upstream_bytes_received\":\"18342\",\"scheme\":\"https\","
            + "\"request_uri\":\"/products/list?page=2&sort=price\",\"sent_http_content_type\":\"text/html; charset=utf-8\","
            + "\"server_protocol\":\"HTTP/2.0\",\"request_length\":\"512\",\"bytes_sent\":18703,"
            + "\"upstream_connect_time\":\"0.004\",\"upstream_header_time\":\"0.101\",\"upstream_response_time\":\"0.118\","
            + "\"tcpinfo_rtt\":\"24567\",\"remote_addr\":\"203.0.113.7\",\"remote_port\":\"51234\","
            + "\"waf_attack_family\":\"-\",\"waf_attack_action\":\"$PASS\",\"country\":\"Brazil\",\"state\":\"Sao Paulo\","
            + "\"ssl_protocol\":\"TLSv1.3\",\"ssl_cipher\":\"TLS_AES_128_GCM_SHA256\","
            + "\"http_user_agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
            + " Chrome/120.0.0.0 Safari/537.36\",\"http_referrer\":\"https://www.example.com/\","
            + "\"sent_http_x_original_image_size\":\"-\",\"requestPath\":\"/products/list\","
            + "\"requestQuery\":\"page=2&sort=price\",\"session_id\":\"a1b2c3d4e5f6\",\"stream\":\"12345\","
            + "\"upstream_addr\":\"10.0.0.1:80\",\"upstream_bytes_sent\":733,\"server_port\":\"443\","
            + "\"server_addr\":\"198.51.100.10\",\"waf_learning\":\"0\",\"waf_block\":\"0\",\"waf_total_processed\":\"12\","
            + "\"waf_total_blocked\":\"0\",\"waf_score\":\"0\",\"waf_match\":\"-\",\"waf_headers\":\"-\",\"asn\":\"AS64500\","
            + "\"ssl_session_reused\":\"r\",\"ssl_server_name\":\"www.example.com\","
            + "\"request_id\":\"9f1c2d3e4b5a69788796a5b4c3d2e1f0\",\"traceback\":\"-\"}";

    private byte[] event;
    private Template template;
    private CompiledTemplate compiled;
    private EventParser parser;
    private JsonFactory factory;
    private ObjectMapper mapper;
    private String[] keys;
    private String[] variables;

    @Setup
    public void setup() throws Exception {
        event = EVENT.getBytes(StandardCharsets.UTF_8);
        template = Templates.byId(184);
        compiled = CompiledTemplate.compile(template);
        parser = new EventParser(template.dataSource(), EventParser.DEFAULT_MAX_EVENT_BYTES);
        factory = new JsonFactory();
        // ASCII output like the compiled projection's.
        mapper = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
        keys = template.entries().stream().map(Template.Entry::key).toArray(String[]::new);
        // Template 184 uses whole variables and no literals: "$name" -> "name".
        variables = template.entries().stream().map(e -> e.expression().substring(1)).toArray(String[]::new);
    }

    @Benchmark
    public byte[] compiledProjection() throws Exception {
        return compiled.project(parser.parse(event));
    }

    @Benchmark
    public byte[] naiveTreeModel() throws IOException {
        JsonNode in = mapper.readTree(event);
        ObjectNode out = mapper.createObjectNode();
        for (int i = 0; i < keys.length; i++) {
            JsonNode v = in.get(variables[i]);
            out.put(keys[i], v == null || v.isNull() ? "-" : v.isValueNode() ? v.asText() : v.toString());
        }
        return mapper.writeValueAsBytes(out);
    }

    @Benchmark
    public int bareTokenize() throws IOException {
        int tokens = 0;
        try (JsonParser p = factory.createParser(event)) {
            while (p.nextToken() != null) {
                tokens++;
            }
        }
        return tokens;
    }
}
