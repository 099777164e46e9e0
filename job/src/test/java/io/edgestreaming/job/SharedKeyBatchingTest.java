package io.edgestreaming.job;

import static io.edgestreaming.job.SharedKeyFixtures.ALL;
import static io.edgestreaming.job.SharedKeyFixtures.HOST;
import static io.edgestreaming.job.SharedKeyFixtures.OWN;
import static io.edgestreaming.job.SharedKeyFixtures.WILD;
import static io.edgestreaming.job.SharedKeyFixtures.assertWellFormed;
import static io.edgestreaming.job.SharedKeyFixtures.bucketOf;
import static io.edgestreaming.job.SharedKeyFixtures.eventIds;
import static io.edgestreaming.job.SharedKeyFixtures.lines;
import static io.edgestreaming.job.SharedKeyFixtures.shared;
import static io.edgestreaming.job.SharedKeyFixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.job.SharedKeyFixtures.Pipeline;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.clusterframework.types.ResourceID;
import org.apache.flink.runtime.executiongraph.ExecutionAttemptID;
import org.apache.flink.runtime.metrics.groups.TaskManagerMetricGroup;
import org.apache.flink.runtime.metrics.util.TestingMetricRegistry;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.junit.jupiter.api.Test;

/**
 * Hosts a stream does not list exactly share a bounded set of batching keys: raw events go through the
 * real ParseAndRoute and BlockBatcher in Flink's operator harnesses.
 */
class SharedKeyBatchingTest {
    @Test
    void tenThousandHostsOfAnAllDomainsStreamStayWithinKKeysAndKTimesFiveOpenBlocks() throws Exception {
        int k = 64;
        int maxRecords = 5;
        long maxSize = 400;
        List<StreamConfig> streams = List.of(stream(ALL, List.of(), maxRecords, Duration.ofHours(1), maxSize));
        Random random = new Random(7);
        List<String> hosts = new ArrayList<>();
        Set<String> distinct = new HashSet<>();
        while (distinct.size() < 10_000) {
            String host = "h" + Long.toString(random.nextLong() & Long.MAX_VALUE, 36) + ".example.net";
            if (distinct.add(host)) {
                hosts.add(host);
            }
        }
        int bound = k * (OWN + 1);
        List<Block> blocks = new ArrayList<>();
        try (Pipeline p = new Pipeline(streams, k)) {
            int events = 30_000;
            for (int i = 0; i < events; i++) {
                // Every host once, then a skewed mix: a few hot hosts and the long tail.
                String host = i < hosts.size() ? hosts.get(i)
                        : hosts.get(random.nextInt(4) == 0 ? random.nextInt(20) : random.nextInt(hosts.size()));
                p.batcher.setProcessingTime(i); // distinct deadlines: one timer per open block
                p.send(host, "?p=" + "x".repeat(random.nextInt(150)));
                if (i % 500 == 0) {
                    assertThat(p.batcher.numProcessingTimeTimers()).as("deadline timers").isLessThanOrEqualTo(bound);
                    assertThat(p.batcher.numEventTimeTimers()).as("end-of-input timers").isLessThanOrEqualTo(k);
                }
            }
            blocks.addAll(p.blocks());
            p.batcher.processWatermark(Long.MAX_VALUE);
            List<Block> open = p.blocks();
            assertThat(open).as("blocks open at the end").hasSizeLessThanOrEqualTo(bound).hasSizeGreaterThan(k);
            blocks.addAll(open);
            assertThat(p.keys).as("batching keys").hasSizeLessThanOrEqualTo(k).allMatch(key -> key.f1.startsWith("#"));
            assertWellFormed(blocks, 0, events, maxRecords, maxSize);
            for (Block block : blocks) {
                if (shared(block)) {
                    int bucket = Integer.parseInt(block.domain().substring(1));
                    assertThat(bucket).isBetween(0, k - 1);
                    assertThat(eventIds(block)).as("records of %s", block.blockId())
                            .allMatch(id -> bucketOf(p.hosts.get(id), ALL, k) == bucket);
                } else {
                    assertThat(eventIds(block)).as("records of %s", block.blockId())
                            .allMatch(id -> p.hosts.get(id).equals(block.domain()));
                    for (String line : lines(block)) {
                        Matcher m = HOST.matcher(line);
                        assertThat(m.find() && m.group(1).equals(block.domain())).as(line).isTrue();
                    }
                }
            }
            assertThat(blocks).filteredOn(SharedKeyFixtures::shared).hasSizeGreaterThan(k);
            assertThat(blocks).filteredOn(b -> !shared(b)).hasSizeGreaterThan(k * OWN);
        }
    }

    @Test
    void hostsAStreamListsExactlyKeepTheirOwnKeyBlocksAndSequences() throws Exception {
        List<StreamConfig> streams = List.of(stream(WILD, List.of("www.shop.com", "*.shop.com"), 3,
                Duration.ofHours(1), 1_000_000));
        try (Pipeline p = new Pipeline(streams, 1)) {
            List<Integer> www = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                for (String host : List.of("a", "b", "c", "d", "e")) {
                    p.send(host + ".shop.com");
                    www.add(p.send("www.shop.com"));
                }
            }
            p.batcher.processWatermark(Long.MAX_VALUE);
            List<Block> blocks = p.blocks();

            assertThat(p.keys).containsExactlyInAnyOrder(Tuple2.of(WILD, "www.shop.com"), Tuple2.of(WILD, "#0"));
            List<Block> listed = blocks.stream().filter(b -> b.domain().equals("www.shop.com")).toList();
            assertThat(listed).extracting(b -> b.sequence() - SharedKeyFixtures.LANE_BASE).containsExactly(0L, 1L, 2L, 3L);
            assertThat(listed).flatExtracting(SharedKeyFixtures::eventIds).containsExactlyElementsOf(www);
            // The other hosts share key #0: a, b, c, d got blocks of their own, e went to the shared block.
            assertThat(blocks).extracting(Block::domain).containsOnly("www.shop.com", "a.shop.com", "b.shop.com",
                    "c.shop.com", "d.shop.com", "*0");
            assertThat(blocks).filteredOn(b -> !b.domain().equals("www.shop.com")).extracting(Block::sequence)
                    .allMatch(s -> s >= SharedKeyBatcher.firstSequence(1));
            assertThat(blocks).filteredOn(SharedKeyFixtures::shared).flatExtracting(SharedKeyFixtures::eventIds)
                    .allMatch(id -> p.hosts.get(id).equals("e.shop.com"));
            assertWellFormed(blocks, 0, p.nextEvent, 3, 1_000_000);
        }
    }

    @Test
    void aWildcardStreamStillReceivesNothingOfHostsItDoesNotMatch() throws Exception {
        List<StreamConfig> streams = List.of(stream(WILD, List.of("*.shop.com"), 100, Duration.ofHours(1), 1_000_000));
        try (Pipeline p = new Pipeline(streams, 1)) {
            Set<Integer> matching = new HashSet<>();
            for (int i = 0; i < 20; i++) {
                for (String host : List.of("shop.com", "other.net", "evilshop.com", "a.shop.com.evil.net", "bad_host", "*0")) {
                    p.send(host);
                }
                matching.add(p.send("m" + i + ".shop.com"));
            }
            p.batcher.processWatermark(Long.MAX_VALUE);
            List<Block> blocks = p.blocks();
            assertThat(blocks).flatExtracting(SharedKeyFixtures::eventIds).containsExactlyInAnyOrderElementsOf(matching);
            assertThat(p.keys).containsExactly(Tuple2.of(WILD, "#0"));
        }
    }

    @Test
    void hostsThatAreNotHostNamesAlwaysGoToTheSharedBlock() throws Exception {
        List<StreamConfig> streams = List.of(stream(ALL, List.of(), 100, Duration.ofHours(1), 1_000_000));
        List<String> invalid = List.of("bad_host.com", "a b.com", "x*y.com", "*0", "ünïcode.com", "%41.com", "a/b",
                "h" + "x".repeat(253));
        try (Pipeline p = new Pipeline(streams, 1)) {
            // Every own-block slot is free, and still none of them gets one.
            for (String host : invalid) {
                p.send(host);
            }
            int valid = p.send("ok.com");
            int ipv6 = p.send("[2001:db8::1]:8443");
            p.batcher.processWatermark(Long.MAX_VALUE);
            List<Block> blocks = p.blocks();
            assertThat(blocks).extracting(Block::domain).containsExactlyInAnyOrder("*0", "ok.com", "[2001:db8::1]");
            Block sharedBlock = blocks.stream().filter(SharedKeyFixtures::shared).findFirst().orElseThrow();
            assertThat(eventIds(sharedBlock)).hasSize(invalid.size());
            assertThat(blocks).filteredOn(b -> b.domain().equals("ok.com")).flatExtracting(SharedKeyFixtures::eventIds)
                    .containsExactly(valid);
            assertThat(blocks).filteredOn(b -> b.domain().startsWith("[")).flatExtracting(SharedKeyFixtures::eventIds)
                    .containsExactly(ipv6);
        }
    }


    @Test
    void metricsCountAdmittedHostsFoldedRecordsAndFoldedHosts() throws Exception {
        Map<String, Counter> counters = new HashMap<>();
        MockEnvironmentBuilder environment = countingStreamCounters(counters);
        List<StreamConfig> streams = List.of(stream(ALL, List.of("*.com"), 3, Duration.ofHours(1), 1_000_000),
                stream(WILD, List.of("www.shop.net", "*.shop.net"), 1000, Duration.ofHours(1), 1_000_000));
        try (Pipeline p = new Pipeline(streams, 1, null, environment)) {
            for (String host : List.of("h1.com", "h2.com", "h3.com", "h4.com")) {
                p.send(host); // four own blocks
            }
            for (String host : List.of("h5.com", "h5.com", "h6.com", "bad_host.com", "h5.com")) {
                p.send(host); // shared block [h5, h5, h6] cut at 3, then [bad_host.com, h5]
            }
            p.send("h1.com");
            p.send("h1.com"); // h1's block cut at 3 ...
            p.send("h1.com"); // ... and h1 gets a new one
            // Stream 2: its listed host is never counted; 70 distinct hosts in one shared block.
            p.send("www.shop.net");
            for (int i = 0; i < OWN; i++) {
                p.send("own" + i + ".shop.net");
            }
            for (int i = 0; i < 70; i++) {
                p.send("f" + i + ".shop.net");
                p.send("f" + i + ".shop.net");
            }

            assertThat(counters.get("1/hostsAdmitted").getCount()).isEqualTo(5);
            assertThat(counters.get("1/recordsFolded").getCount()).isEqualTo(5);
            assertThat(counters.get("1/hostsFolded").getCount()).isEqualTo(4); // h5, h6 | bad_host.com, h5
            assertThat(counters.get("1/blocksCut").getCount()).isEqualTo(2);
            assertThat(counters.get("2/hostsAdmitted").getCount()).isEqualTo(OWN);
            assertThat(counters.get("2/recordsFolded").getCount()).isEqualTo(140);
            assertThat(counters.get("2/hostsFolded").getCount()).as("a lower bound past 64")
                    .isEqualTo(SharedKeyBatcher.MAX_TRACKED_FOLDED_HOSTS);
        }
    }

    /** Many tenants: a stream's series exist only on the subtasks that batch it (placement keeps those few). */
    @Test
    void aStreamHasMetricsOnlyWhereItIsBatched() throws Exception {
        Map<String, Counter> counters = new HashMap<>();
        MockEnvironmentBuilder environment = countingStreamCounters(counters);
        List<StreamConfig> streams = List.of(stream(ALL, List.of("*.com"), 3, Duration.ofHours(1), 1_000_000),
                stream(WILD, List.of("www.shop.net", "*.shop.net"), 1000, Duration.ofHours(1), 1_000_000));
        try (Pipeline p = new Pipeline(streams, 1, null, environment)) {
            p.send("h1.com");
            List<String> batcherSeries = counters.keySet().stream()
                    .filter(k -> k.matches(".*/(blocksCut|blockBytesCut|hostsAdmitted|recordsFolded|hostsFolded)")).toList();
            assertThat(batcherSeries).as("batcher series").isNotEmpty()
                    .allMatch(k -> k.startsWith(ALL + "/"), "only the stream batched here");
        }
    }

    @Test
    void aStreamHasRouterMetricsOnlyWhereItsEventsArrive() throws Exception {
        Map<String, Counter> counters = new HashMap<>();
        List<StreamConfig> streams = List.of(stream(ALL, List.of("*.com"), 3, Duration.ofHours(1), 1_000_000),
                stream(WILD, List.of("www.shop.net", "*.shop.net"), 1000, Duration.ofHours(1), 1_000_000));
        try (Pipeline p = new Pipeline(streams, 1, null, countingStreamCounters(counters))) {
            List<String> routerSeries = List.of("records", "eventsIn", "eventsSampledOut");
            assertThat(counters.keySet()).as("before any event").noneMatch(k -> routerSeries.contains(k.split("/")[1]));
            p.send("h1.com");
            p.send("h2.com");
            assertThat(counters.keySet().stream().filter(k -> routerSeries.contains(k.split("/")[1])))
                    .as("router series").containsExactlyInAnyOrder(ALL + "/records", ALL + "/eventsIn", ALL + "/eventsSampledOut");
            assertThat(counters.get(ALL + "/records").getCount()).isEqualTo(2);
        }
    }

    /** An operator environment whose metric registry puts every per-stream counter into {@code counters} ("stream/name"). */
    private static MockEnvironmentBuilder countingStreamCounters(Map<String, Counter> counters) {
        TestingMetricRegistry registry = TestingMetricRegistry.builder()
                .setRegisterConsumer((metric, name, group) -> {
                    String stream = group.getAllVariables().get("<stream>");
                    if (stream != null && metric instanceof Counter c) {
                        counters.put(stream + "/" + name, c);
                    }
                })
                .build();
        TaskManagerMetricGroup taskManager =
                TaskManagerMetricGroup.createTaskManagerMetricGroup(registry, "localhost", ResourceID.generate());
        return new MockEnvironmentBuilder().setMetricGroup(
                taskManager.addJob(new JobID(), "job").addTask(ExecutionAttemptID.randomId(), "batcher"));
    }
}
