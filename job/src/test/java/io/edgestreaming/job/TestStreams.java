package io.edgestreaming.job;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.config.BatchingConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.templates.DataSource;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Stream configurations for tests, built directly from the config records. */
final class TestStreams {
    private TestStreams() {}

    /** The test servers listen on loopback, which endpoints may reach only when allowed. */
    static final AddressPolicy LOOPBACK = AddressPolicy.allowing("127.0.0.0/8", "::1/128");

    static final BatchingConfig DEFAULT_BATCHING = new BatchingConfig(2000, Duration.ofSeconds(60), 1_000_000);

    static KafkaEndpoint kafka() {
        return new KafkaEndpoint("localhost:9092", "out", false, null, null, KafkaEndpoint.MessageFormat.BLOCK,
                "none", Duration.ofMinutes(10));
    }

    static HttpEndpoint http(String separator, String format, long maxSize) {
        return new HttpEndpoint(URI.create("http://127.0.0.1:1/ingest"), Map.of(), separator, format, maxSize,
                HttpEndpoint.Compression.NONE, null);
    }

    static StreamConfig stream(long id, String client, DataSource source, List<String> domains) {
        return new StreamConfig(id, "stream-" + id, client, source, null, domains, false, 100, true, kafka(),
                DEFAULT_BATCHING);
    }

    static StreamConfig allDomains(long id, String client, DataSource source, double sampling) {
        return new StreamConfig(id, "stream-" + id, client, source, null, List.of(), true, sampling, true, kafka(),
                DEFAULT_BATCHING);
    }

    static StreamConfig inactive(StreamConfig s) {
        return new StreamConfig(s.id(), s.name(), s.client(), s.dataSource(), s.template(), s.domains(),
                s.allDomains(), s.samplingPercentage(), false, s.endpoint(), s.batching());
    }

    static StreamConfig withBatching(StreamConfig s, Endpoint endpoint, BatchingConfig batching) {
        return new StreamConfig(s.id(), s.name(), s.client(), s.dataSource(), s.template(), s.domains(),
                s.allDomains(), s.samplingPercentage(), s.active(), endpoint, batching);
    }
}
