package io.edgestreaming.job;

import io.edgestreaming.config.BatchingConfig;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.BlockTypeInfoFactory;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.templates.Templates;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Throughput of the job's own operators on a MiniCluster, for capacity planning (not part of the test
 * run: the name matches none of Surefire's includes). Run:
 *
 * <pre>mvn -B -ntp -pl job -am verify -Dtest=PipelineThroughputBench -Dsurefire.failIfNoSpecifiedTests=false</pre>
 *
 * <p>Parallelism 1: a source of realistic ~1.5 KB Edge Applications events (12 clients, 5 hosts each),
 * then parse + route + project into 11 streams (templates 184, 2 and a sampled custom one), alone or
 * followed by the job's batching stage (at parallelism 1 every key is batched by the batcher chained to the
 * router; the blocks cross a network channel to a sink).
 * Delivery is left out: it is bound by the customers' endpoints, not by CPU. The two variants
 * alternate for several rounds, so their ratio is measured under the same load; medians are printed.
 */
class PipelineThroughputBench {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineThroughputBench.class);
    private static final long EVENTS = Long.getLong("bench.events", 1_000_000L);
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 5);

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2)
                    .build());

    private enum Variant { ROUTE, ROUTE_AND_BATCH }

    @Test
    void printThroughput() throws Exception {
        List<StreamConfig> streams = streams();
        byte[][] pool = events(1000);
        LOG.info(String.format(Locale.ROOT, "%,d events per run, parallelism 1, %d bytes per event on average", EVENTS,
                averageLength(pool)));
        List<double[]> rounds = new ArrayList<>();
        for (int round = 1; round <= ROUNDS; round++) {
            double[] rates = new double[Variant.values().length];
            for (Variant variant : Variant.values()) {
                rates[variant.ordinal()] = run(variant, streams, pool);
            }
            rounds.add(rates);
            LOG.info(String.format(Locale.ROOT, "round %d: parse+route+project %,.0f events/s | + batchers %,.0f"
                    + " events/s (%.2fx)", round, rates[0], rates[1], rates[1] / rates[0]));
        }
        double[] route = rounds.stream().mapToDouble(r -> r[0]).sorted().toArray();
        double[] batch = rounds.stream().mapToDouble(r -> r[1]).sorted().toArray();
        double[] ratio = rounds.stream().mapToDouble(r -> r[1] / r[0]).sorted().toArray();
        LOG.info(String.format(Locale.ROOT, "median of %d rounds: parse+route+project %,.0f events/s | + batchers"
                + " %,.0f events/s | ratio %.2fx", ROUNDS, route[ROUNDS / 2], batch[ROUNDS / 2], ratio[ROUNDS / 2]));
    }

    /**
     * A hot domain: 80% of the events on one host of one stream, parse + route + the job's batching stage at
     * parallelism 1 and 2, and at 2 without placement (every record keyed through the network, keys hashed as
     * before lanes existed: the hot key pins one batcher subtask). The three alternate per round; medians and ratios are printed. Run alone
     * with {@code -Dtest=PipelineThroughputBench#printHotDomainScaling}.
     */
    @Test
    void printHotDomainScaling() throws Exception {
        List<StreamConfig> streams = streams();
        byte[][] pool = hotEvents(1000, 0.8);
        String[] names = {"parallelism 1", "parallelism 2", "parallelism 2 without placement"};
        List<double[]> rounds = new ArrayList<>();
        for (int round = 1; round <= ROUNDS; round++) {
            double[] rates = {runHot(1, true, streams, pool), runHot(2, true, streams, pool), runHot(2, false, streams, pool)};
            rounds.add(rates);
            LOG.info(String.format(Locale.ROOT, "hot domain round %d: %s %,.0f | %s %,.0f (%.2fx) | %s %,.0f (%.2fx) events/s",
                    round, names[0], rates[0], names[1], rates[1], rates[1] / rates[0], names[2], rates[2], rates[2] / rates[0]));
        }
        double[] p2 = rounds.stream().mapToDouble(r -> r[1] / r[0]).sorted().toArray();
        double[] unplaced = rounds.stream().mapToDouble(r -> r[2] / r[0]).sorted().toArray();
        double[] p1 = rounds.stream().mapToDouble(r -> r[0]).sorted().toArray();
        LOG.info(String.format(Locale.ROOT, "hot domain, median of %d rounds: parallelism 1 %,.0f events/s; parallelism 2 / 1 ="
                + " %.2fx with placement, %.2fx without", ROUNDS, p1[ROUNDS / 2], p2[ROUNDS / 2], unplaced[ROUNDS / 2]));
    }

    private static double runHot(int parallelism, boolean placement, List<StreamConfig> streams, byte[][] pool)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        SingleOutputStreamOperator<RoutedRecord> routed = env.fromSequence(0, EVENTS - 1)
                .map(new FromPool(pool), RawEvent.TYPE_INFO)
                .name("events").process(new ParseAndRoute(streams, 1 << 20), RoutedRecord.TYPE_INFO);
        if (placement) {
            // The job's own batching stage: local keys chained to the router, the rest through the network.
            EdgeStreamingPipeline.batch(EdgeStreamingPipeline.Routed.of(routed), () -> BlockBatcher.forStreams(streams))
                    .sinkTo(new DiscardingSink<>());
        } else {
            routed.union(routed.getSideOutput(ParseAndRoute.REMOTE)).keyBy(new KeyWithoutLane(), BlockBatcher.KEY_TYPE)
                    .process(BlockBatcher.forStreams(streams), BlockTypeInfoFactory.TYPE_INFO)
                    .sinkTo(new DiscardingSink<>());
        }
        long millis = env.execute("hot domain p" + parallelism).getNetRuntime(TimeUnit.MILLISECONDS);
        return EVENTS * 1000.0 / Math.max(1, millis);
    }

    /** As {@link #events}, with {@code share} of them moved to client c1's host www.c1.example (stream 101 takes all of c1's hosts). */
    private static byte[][] hotEvents(int n, double share) {
        byte[][] events = events(n);
        java.util.Random random = new java.util.Random(42);
        for (int i = 0; i < n; i++) {
            if (random.nextDouble() < share) {
                String e = new String(events[i], StandardCharsets.US_ASCII)
                        .replaceFirst("\"client\":\"c[0-9]+\"", "\"client\":\"c1\"")
                        .replaceFirst("\"host\":\"[^\"]*\"", "\"host\":\"www.c1.example\"");
                events[i] = e.getBytes(StandardCharsets.US_ASCII);
            }
        }
        return events;
    }

    private static double run(Variant variant, List<StreamConfig> streams, byte[][] pool) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        DataStream<RawEvent> raw = env.fromSequence(0, EVENTS - 1)
                .map(new FromPool(pool), RawEvent.TYPE_INFO).name("events");
        switch (variant) {
            case ROUTE -> raw.process(new ParseAndRoute(streams, 1 << 20), RoutedRecord.TYPE_INFO)
                    .sinkTo(new DiscardingSink<>());
            case ROUTE_AND_BATCH -> EdgeStreamingPipeline.batch(EdgeStreamingPipeline.Routed.of(
                            raw.process(new ParseAndRoute(streams, 1 << 20), RoutedRecord.TYPE_INFO)),
                            () -> BlockBatcher.forStreams(streams))
                    .sinkTo(new DiscardingSink<>());
        }
        long millis = env.execute("throughput " + variant).getNetRuntime(TimeUnit.MILLISECONDS);
        return EVENTS * 1000.0 / Math.max(1, millis);
    }

    /** Event i of the run is pool[i % pool size]. */
    private static final class FromPool implements MapFunction<Long, RawEvent> {
        private static final long serialVersionUID = 1L;
        private final byte[][] pool;

        FromPool(byte[][] pool) {
            this.pool = pool;
        }

        @Override
        public RawEvent map(Long i) {
            return new RawEvent(DataSource.HTTP, "edge-http-events", 0, i, pool[(int) (i % pool.length)]);
        }
    }

    private static List<StreamConfig> streams() throws Exception {
        KafkaEndpoint endpoint = new KafkaEndpoint("localhost:9092", "out", false, null, null,
                KafkaEndpoint.MessageFormat.RECORD, "none", Duration.ofMinutes(10));
        BatchingConfig batching = new BatchingConfig(2000, Duration.ofSeconds(60), 5_000_000);
        List<StreamConfig> streams = new ArrayList<>();
        for (int c = 0; c < 10; c++) {
            boolean all = c < 5;
            streams.add(new StreamConfig(100 + c, "s" + c, "c" + c, DataSource.HTTP,
                    Templates.byId(all ? 184 : 2),
                    all ? List.of() : List.of("www.c" + c + ".example", "*.cdn.c" + c + ".example"), all, 100, true,
                    endpoint, batching));
        }
        streams.add(new StreamConfig(200, "sampled", "c0", DataSource.HTTP,
                Templates.custom(DataSource.HTTP, "{\"t\":\"$time\",\"u\":\"$scheme://$host$request_uri\",\"s\":\"$status\"}"),
                List.of(), true, 10, true, endpoint, batching));
        return streams;
    }

    /** Realistic events of 12 clients (two without a stream), 5 hosts each. */
    private static byte[][] events(int n) {
        String[] hosts = {"www", "img.cdn", "api", "static.cdn", "shop"};
        String[] statuses = {"200", "200", "200", "304", "404", "500"};
        String[] caches = {"HIT", "MISS", "HIT", "EXPIRED", "BYPASS"};
        byte[][] events = new byte[n][];
        for (int i = 0; i < n; i++) {
            String client = "c" + (i % 12);
            String host = hosts[(i / 12) % hosts.length] + "." + client + ".example";
            events[i] = ("{\"version\":\"1\",\"time\":\"2026-11-25T04:12:" + (10 + i % 50) + "Z\",\"client\":\"" + client
                    + "\",\"configuration\":\"1651234567\",\"host\":\"" + host + "\",\"request_time\":0." + (i % 900 + 100)
                    + ",\"request_method\":\"GET\",\"upstream_cache_status\":\"" + caches[i % caches.length]
                    + "\",\"status\":" + statuses[i % statuses.length] + ",\"proxy_status\":\"-\","
                    + "\"upstream_status\":\"200\",\"upstream_bytes_received\":\"18342\",\"scheme\":\"https\","
                    + "\"request_uri\":\"/products/list?page=" + i + "&sort=price\","
                    + "\"sent_http_content_type\":\"text/html; charset=utf-8\",\"server_protocol\":\"HTTP/2.0\","
                    + "\"request_length\":\"512\",\"bytes_sent\":18703,\"upstream_connect_time\":\"0.004\","
                    + "\"upstream_header_time\":\"0.101\",\"upstream_response_time\":\"0.118\",\"tcpinfo_rtt\":\"24567\","
                    + "\"remote_addr\":\"203.0.113." + (i % 250) + "\",\"remote_port\":\"51234\","
                    + "\"waf_attack_family\":\"-\",\"waf_attack_action\":\"$PASS\",\"country\":\"Brazil\","
                    + "\"state\":\"Sao Paulo\",\"ssl_protocol\":\"TLSv1.3\",\"ssl_cipher\":\"TLS_AES_128_GCM_SHA256\","
                    + "\"http_user_agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like"
                    + " Gecko) Chrome/120.0.0.0 Safari/537.36\",\"http_referrer\":\"https://" + host + "/\","
                    + "\"sent_http_x_original_image_size\":\"-\",\"requestPath\":\"/products/list\","
                    + "\"requestQuery\":\"page=" + i + "&sort=price\",\"session_id\":\"a1b2c3d4e5f6\",\"stream\":\"12345\","
                    + "\"upstream_addr\":\"10.0.0.1:80\",\"upstream_bytes_sent\":733,\"server_port\":\"443\","
                    + "\"server_addr\":\"198.51.100.10\",\"waf_learning\":\"0\",\"waf_block\":\"0\","
                    + "\"waf_total_processed\":\"12\",\"waf_total_blocked\":\"0\",\"waf_score\":\"0\",\"waf_match\":\"-\","
                    + "\"waf_headers\":\"-\",\"asn\":\"AS64500\",\"ssl_session_reused\":\"r\",\"ssl_server_name\":\"" + host
                    + "\",\"request_id\":\"" + String.format(Locale.ROOT, "%032x", i) + "\",\"traceback\":\"-\"}")
                    .getBytes(StandardCharsets.US_ASCII);
        }
        return events;
    }

    private static int averageLength(byte[][] pool) {
        long total = 0;
        for (byte[] e : pool) {
            total += e.length;
        }
        return (int) (total / pool.length);
    }
}
