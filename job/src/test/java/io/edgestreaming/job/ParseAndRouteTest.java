package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.BatchingConfig;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.templates.DataSource;
import io.edgestreaming.templates.Templates;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Parse, route and project in Flink's operator harness, with the real template engine. */
class ParseAndRouteTest {

    private static StreamConfig custom(long id, String client, DataSource source, List<String> domains, String model,
            long maxSize) throws Exception {
        return new StreamConfig(id, "s" + id, client, source, Templates.custom(source, model), domains,
                domains.isEmpty(), 100, true,
                TestStreams.http(",", "[$dataset]", maxSize), new BatchingConfig(2000, Duration.ofSeconds(60), maxSize));
    }

    private static OneInputStreamOperatorTestHarness<RawEvent, RoutedRecord> harness(List<StreamConfig> streams)
            throws Exception {
        var harness = new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new ParseAndRoute(streams, 2048)));
        harness.setup(RoutedRecord.Serializer.INSTANCE);
        harness.open();
        return harness;
    }

    private static RawEvent event(DataSource source, long offset, String json) {
        return new RawEvent(source, "raw-" + source.id(), 0, offset, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void projectsEachEventIntoEveryStreamItFeedsKeyedByItsLowerCasedHost() throws Exception {
        List<StreamConfig> streams = List.of(
                custom(1, "c1", DataSource.HTTP, List.of("*.shop.com"), "{\"h\":\"$host\",\"s\":\"$status\"}", 1_000_000),
                custom(2, "c1", DataSource.HTTP, List.of(), "{\"u\":\"$request_uri\"}", 1_000_000),
                custom(3, "c1", DataSource.WAF, List.of(), "{\"f\":\"$waf_attack_family\"}", 1_000_000));
        try (var harness = harness(streams)) {
            harness.processElement(event(DataSource.HTTP, 0,
                    "{\"client\":\"c1\",\"host\":\"WWW.Shop.com:443\",\"status\":\"404\",\"request_uri\":\"/x\"}"), 0);
            harness.processElement(event(DataSource.HTTP, 1, "{\"client\":\"c1\",\"host\":\"other.net\"}"), 0);
            harness.processElement(event(DataSource.WAF, 2,
                    "{\"client\":\"c1\",\"host\":\"a.shop.com\",\"waf_attack_family\":\"SQL\"}"), 0);
            harness.processElement(event(DataSource.HTTP, 3, "{\"client\":\"c9\",\"host\":\"a.shop.com\"}"), 0);

            List<String> out = harness.extractOutputValues().stream()
                    .map(r -> r.streamId() + " " + r.domain() + " " + new String(r.record(), StandardCharsets.US_ASCII))
                    .toList();
            assertThat(out).containsExactly(
                    "1 www.shop.com {\"h\":\"WWW.Shop.com:443\",\"s\":\"404\"}",
                    "2 www.shop.com {\"u\":\"/x\"}",
                    "2 other.net {\"u\":\"-\"}",
                    "3 a.shop.com {\"f\":\"SQL\"}");
            assertThat(harness.getSideOutput(ParseAndRoute.DEAD_LETTER)).isNullOrEmpty();
        }
    }

    @Test
    void badEventsGoToDeadLetterWithTheirReasonAndOriginAndNeverFailTheOperator() throws Exception {
        List<StreamConfig> streams = List.of(
                custom(1, "c1", DataSource.HTTP, List.of(), "{\"h\":\"$host\",\"u\":\"$request_uri\"}", 1000));
        String tooLarge = "{\"client\":\"c1\",\"host\":\"a.com\",\"request_uri\":\"/" + "x".repeat(2100) + "\"}";
        String recordTooLarge = "{\"client\":\"c1\",\"host\":\"a.com\",\"request_uri\":\"/" + "y".repeat(1000) + "\"}";
        Map<Long, String> inputs = Map.of(
                10L, "hello world",
                11L, "[1,2]",
                12L, "{\"client\":\"c1\",\"host\":\"a.c",
                13L, "{\"host\":\"a.com\"}",
                14L, "{\"client\":\"c1\",\"host\":\"-\"}",
                15L, tooLarge,
                16L, recordTooLarge,
                17L, "{\"client\":\"c1\",\"host\":\"a.com\",\"request_uri\":\"/ok\"}");
        try (var harness = harness(streams)) {
            for (long offset = 10; offset <= 17; offset++) {
                harness.processElement(event(DataSource.HTTP, offset, inputs.get(offset)), 0);
            }
            assertThat(harness.extractOutputValues()).extracting(r -> new String(r.record(), StandardCharsets.US_ASCII))
                    .containsExactly("{\"h\":\"a.com\",\"u\":\"/ok\"}");
            Map<Long, DeadLetterEvent> dead = harness.getSideOutput(ParseAndRoute.DEAD_LETTER).stream()
                    .map(StreamRecord::getValue)
                    .collect(Collectors.toMap(DeadLetterEvent::offset, e -> e));
            assertThat(dead).hasSize(7);
            assertThat(dead.get(10L).reason()).isEqualTo("NOT_JSON");
            assertThat(dead.get(11L).reason()).isEqualTo("NOT_AN_OBJECT");
            assertThat(dead.get(12L).reason()).isEqualTo("TRUNCATED");
            assertThat(dead.get(13L).reason()).isEqualTo(DeadLetterEvent.MISSING_CLIENT);
            assertThat(dead.get(14L).reason()).isEqualTo(DeadLetterEvent.MISSING_HOST);
            assertThat(dead.get(15L).reason()).isEqualTo("TOO_LARGE");
            assertThat(dead.get(16L).reason()).isEqualTo(DeadLetterEvent.RECORD_TOO_LARGE);
            assertThat(dead.get(16L).detail()).contains("stream 1").contains("max_size 1000");
            for (DeadLetterEvent e : dead.values()) {
                assertThat(e.topic()).isEqualTo("raw-http");
                assertThat(new String(e.value(), StandardCharsets.UTF_8)).isEqualTo(inputs.get(e.offset()));
            }
        }
    }
}
