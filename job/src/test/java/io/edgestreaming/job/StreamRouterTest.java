package io.edgestreaming.job;

import static io.edgestreaming.job.TestStreams.allDomains;
import static io.edgestreaming.job.TestStreams.inactive;
import static io.edgestreaming.job.TestStreams.stream;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.templates.DataSource;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamRouterTest {

    private static List<Long> routed(StreamRouter router, DataSource source, String client, String host, String event) {
        List<StreamRouter.Route> out = new ArrayList<>();
        router.route(source, client, StreamRouter.normalizeHost(host), event.getBytes(StandardCharsets.UTF_8), out);
        return out.stream().map(r -> r.stream().id()).toList();
    }

    @Test
    void exactDomainsMatchCaseInsensitivelyWithoutPortOrTrailingDot() {
        StreamRouter router = new StreamRouter(List.of(stream(1, "c1", DataSource.HTTP, List.of("www.Example.com"))));

        assertThat(routed(router, DataSource.HTTP, "c1", "www.example.com", "e")).containsExactly(1L);
        assertThat(routed(router, DataSource.HTTP, "c1", "WWW.EXAMPLE.COM", "e")).containsExactly(1L);
        assertThat(routed(router, DataSource.HTTP, "c1", "www.example.com:8443", "e")).containsExactly(1L);
        assertThat(routed(router, DataSource.HTTP, "c1", "www.example.com.", "e")).containsExactly(1L);
        assertThat(routed(router, DataSource.HTTP, "c1", "api.example.com", "e")).isEmpty();
        assertThat(routed(router, DataSource.HTTP, "c1", "example.com", "e")).isEmpty();
    }

    @Test
    void wildcardMatchesSubdomainsAtAnyDepthButNotTheApexOrLookalikes() {
        StreamRouter router = new StreamRouter(List.of(stream(1, "c1", DataSource.HTTP, List.of("*.example.com"))));

        assertThat(routed(router, DataSource.HTTP, "c1", "a.example.com", "e")).containsExactly(1L);
        assertThat(routed(router, DataSource.HTTP, "c1", "A.B.Example.COM", "e")).containsExactly(1L);
        assertThat(routed(router, DataSource.HTTP, "c1", "example.com", "e")).isEmpty();
        assertThat(routed(router, DataSource.HTTP, "c1", "badexample.com", "e")).isEmpty();
        assertThat(routed(router, DataSource.HTTP, "c1", "a.example.com.evil.net", "e")).isEmpty();
    }

    @Test
    void clientDataSourceAndActiveFlagAllMatter() {
        StreamConfig active = stream(1, "c1", DataSource.HTTP, List.of("a.com"));
        StreamConfig off = inactive(stream(2, "c1", DataSource.HTTP, List.of("a.com")));
        StreamConfig waf = stream(3, "c1", DataSource.WAF, List.of("a.com"));
        StreamRouter router = new StreamRouter(List.of(active, off, waf));

        assertThat(routed(router, DataSource.HTTP, "c1", "a.com", "e")).containsExactly(1L);
        assertThat(routed(router, DataSource.WAF, "c1", "a.com", "e")).containsExactly(3L);
        assertThat(routed(router, DataSource.HTTP, "c2", "a.com", "e")).isEmpty();
        assertThat(routed(router, DataSource.HTTP, "C1", "a.com", "e")).isEmpty();
        assertThat(router.hasStreams(DataSource.HTTP, "c2")).isFalse();
    }

    @Test
    void allDomainsMatchesEveryHostOfItsClientOnly() {
        StreamRouter router = new StreamRouter(List.of(allDomains(7, "c1", DataSource.HTTP, 100)));

        assertThat(routed(router, DataSource.HTTP, "c1", "anything.net", "e")).containsExactly(7L);
        assertThat(routed(router, DataSource.HTTP, "c1", "other.org", "e")).containsExactly(7L);
        assertThat(routed(router, DataSource.HTTP, "c2", "anything.net", "e")).isEmpty();
    }

    @Test
    void oneEventFeedsEveryMatchingStream() {
        StreamRouter router = new StreamRouter(List.of(
                stream(1, "c1", DataSource.HTTP, List.of("a.com")),
                stream(2, "c1", DataSource.HTTP, List.of("*.a.com", "a.com")),
                allDomains(3, "c1", DataSource.HTTP, 100),
                stream(4, "c1", DataSource.HTTP, List.of("b.com"))));

        assertThat(routed(router, DataSource.HTTP, "c1", "a.com", "e")).containsExactlyInAnyOrder(1L, 2L, 3L);
        assertThat(routed(router, DataSource.HTTP, "c1", "x.a.com", "e")).containsExactlyInAnyOrder(2L, 3L);
        assertThat(routed(router, DataSource.HTTP, "c1", "b.com", "e")).containsExactlyInAnyOrder(3L, 4L);
    }

    @Test
    void samplingKeepsAboutTheConfiguredShareAndTheSameEventsEveryTime() {
        StreamRouter router = new StreamRouter(List.of(
                allDomains(1, "c1", DataSource.HTTP, 25),
                allDomains(2, "c1", DataSource.HTTP, 25),
                allDomains(3, "c1", DataSource.HTTP, 0),
                allDomains(4, "c1", DataSource.HTTP, 0.5)));
        StreamRouter replayed = new StreamRouter(List.of(
                allDomains(1, "c1", DataSource.HTTP, 25),
                allDomains(2, "c1", DataSource.HTTP, 25),
                allDomains(3, "c1", DataSource.HTTP, 0),
                allDomains(4, "c1", DataSource.HTTP, 0.5)));

        int events = 20_000;
        int[] kept = new int[5];
        int both = 0;
        for (int i = 0; i < events; i++) {
            String event = "{\"client\":\"c1\",\"host\":\"a.com\",\"request_id\":\"req-" + i + "\"}";
            List<Long> first = routed(router, DataSource.HTTP, "c1", "a.com", event);
            assertThat(routed(replayed, DataSource.HTTP, "c1", "a.com", event)).isEqualTo(first);
            first.forEach(id -> kept[id.intValue()]++);
            if (first.contains(1L) && first.contains(2L)) {
                both++;
            }
        }
        assertThat(kept[1]).isBetween(4_500, 5_500); // 25 % of 20,000
        assertThat(kept[2]).isBetween(4_500, 5_500);
        assertThat(kept[3]).isZero();
        assertThat(kept[4]).isBetween(50, 150); // 0.5 %
        // Independent draws per stream: both keep about 25 % x 25 %, not the same quarter.
        assertThat(both).isBetween(1_000, 1_500);
    }

    @Test
    void normalizeHostReturnsTheSameInstanceWhenAlreadyNormal() {
        String host = "www.example.com";
        assertThat(StreamRouter.normalizeHost(host)).isSameAs(host);
        assertThat(StreamRouter.normalizeHost("[::1]:8080")).isEqualTo("[::1]");
        assertThat(StreamRouter.normalizeHost("Ex.COM:80")).isEqualTo("ex.com");
    }
}
