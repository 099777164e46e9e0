package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.templates.DataSource;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * 10,000 streams of 2,000 clients load within a stated time and heap, and route exactly as their rules
 * say. Bounds are generous (a loaded 2-core machine); the figures are logged and quoted in README.
 */
class ManyStreamsTest {
    private static final Logger LOG = LoggerFactory.getLogger(ManyStreamsTest.class);
    private static final int CLIENTS = 2_000;
    private static final int PER_CLIENT = 5;
    private static final long MAX_LOAD_MILLIS = 30_000;
    private static final long MAX_HEAP_BYTES = 512L << 20;

    /** Stream ids are (client + 1) * 10 + kind; the kinds, each with its own rule. */
    private static String streams() {
        return streams(CLIENTS);
    }

    /** The streams of {@code clients} clients, five each (all endpoint types). */
    static String streams(int clients) {
        StringBuilder y = new StringBuilder("streams:\n");
        for (int c = 0; c < clients; c++) {
            String client = "c" + c;
            String d = client + ".example";
            y.append("  - {id: ").append((c + 1) * 10).append(", name: exact-").append(c).append(", client: ").append(client)
                    .append(", template_id: 184, domains: [www.").append(d).append(", api.").append(d)
                    .append("], endpoint: {endpoint_type: standard, url: 'https://siem.example.com/").append(client)
                    .append("', headers: {Authorization: 'Bearer t-").append(c).append("'}}}\n");
            y.append("  - {id: ").append((c + 1) * 10 + 1).append(", name: wildcard-").append(c).append(", client: ").append(client)
                    .append(", template_id: 2, domains: ['*.").append(d)
                    .append("'], endpoint: {endpoint_type: kafka, bootstrap_servers: 'k1:9092', kafka_topic: t").append(c)
                    .append("}}\n");
            y.append("  - {id: ").append((c + 1) * 10 + 2).append(", name: all-").append(c).append(", client: ").append(client)
                    .append(", template_model: '{\"h\":\"$host\",\"s\":\"$status\"}', all_domains: true,")
                    .append(" endpoint: {endpoint_type: s3, host_url: 'https://s3.example.com', bucket_name: b-").append(c)
                    .append(", region: us-east-1, access_key: ak, secret_key: sk}}\n");
            y.append("  - {id: ").append((c + 1) * 10 + 3).append(", name: waf-").append(c).append(", client: ").append(client)
                    .append(", data_source: waf, template_id: 4, domains: [www.").append(d)
                    .append("], endpoint: {endpoint_type: standard, url: 'https://waf.example.com/in'}}\n");
            y.append("  - {id: ").append((c + 1) * 10 + 4).append(", name: off-").append(c).append(", client: ").append(client)
                    .append(", active: false, template_id: 184, domains: [www.").append(d)
                    .append("], endpoint: {endpoint_type: standard, url: 'https://off.example.com/in'}}\n");
        }
        return y.toString();
    }

    /** The streams an event must reach, from the rules above (not from the router). */
    private static TreeSet<Long> expected(DataSource source, int client, String host) {
        TreeSet<Long> out = new TreeSet<>();
        if (client >= CLIENTS) {
            return out; // a client without streams
        }
        String d = "c" + client + ".example";
        long base = (client + 1) * 10L;
        if (source == DataSource.HTTP) {
            if (host.equals("www." + d) || host.equals("api." + d)) {
                out.add(base);
            }
            if (host.endsWith("." + d)) {
                out.add(base + 1);
            }
            out.add(base + 2);
        } else if (host.equals("www." + d)) {
            out.add(base + 3);
        }
        return out;
    }

    @Test
    void tenThousandStreamsLoadAndRouteEachEventToExactlyItsStreams(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("many.yaml");
        Files.writeString(file, """
                source:
                  bootstrap_servers: localhost:9092
                  topics: {http: raw-http, waf: raw-waf}
                dead_letter:
                  blocks_path: file:///tmp/edge-dl
                """ + streams());
        long fileBytes = Files.size(file);

        var memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long heapBefore = memory.getHeapMemoryUsage().getUsed();
        long start = System.nanoTime();
        JobConfig config = ConfigLoader.load(file, Map.<String, String>of()::get);
        long loadMillis = (System.nanoTime() - start) / 1_000_000;
        StreamRouter router = new StreamRouter(config.streams());
        System.gc();
        long heapDelta = memory.getHeapMemoryUsage().getUsed() - heapBefore;

        assertThat(config.streams()).hasSize(CLIENTS * PER_CLIENT);

        String[] hostKinds = {"www.%s", "api.%s", "img.%s", "a.b.%s", "%s", "other.example", "WWW.%s:8443"};
        Random random = new Random(42);
        List<StreamRouter.Route> out = new ArrayList<>();
        int events = 5_000;
        long routed = 0;
        long routeStart = System.nanoTime();
        for (int i = 0; i < events; i++) {
            DataSource source = i % 4 == 3 ? DataSource.WAF : DataSource.HTTP;
            int client = random.nextInt(CLIENTS + 50); // a few clients without streams
            String d = "c" + client + ".example";
            String host = hostKinds[random.nextInt(hostKinds.length)].formatted(d);
            String normalized = StreamRouter.normalizeHost(host);
            byte[] event = ("{\"client\":\"c" + client + "\",\"host\":\"" + host + "\",\"n\":" + i + "}")
                    .getBytes(StandardCharsets.US_ASCII);
            TreeSet<Long> got = new TreeSet<>();
            for (StreamRouter.Route r : router.route(source, "c" + client, normalized, event, out)) {
                assertThat(got.add(r.stream().id())).as("event %d reached stream %d twice", i, r.stream().id()).isTrue();
                StreamConfig s = r.stream();
                assertThat(s.client()).isEqualTo("c" + client);
            }
            assertThat(got).as("streams of %s event %d (client c%d, host %s)", source, i, client, host)
                    .isEqualTo(expected(source, client, normalized));
            routed += got.size();
        }
        long routeMillis = (System.nanoTime() - routeStart) / 1_000_000;

        String figures = String.format("%d streams (%d clients, %,d bytes of YAML) loaded in %d ms, heap +%d MB"
                        + " (config and router); %d events routed to %d stream records in %d ms", config.streams().size(),
                CLIENTS, fileBytes, loadMillis, heapDelta >> 20, events, routed, routeMillis);
        LOG.info(figures);
        assertThat(routed).as("the events reached streams").isGreaterThan(events);
        assertThat(loadMillis).as(figures).isLessThan(MAX_LOAD_MILLIS);
        assertThat(heapDelta).as(figures).isLessThan(MAX_HEAP_BYTES);
        assertThat(config).isNotNull(); // kept reachable until the heap was measured
    }
}
