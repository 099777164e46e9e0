package io.edgestreaming.connectors;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.config.DeadLetterConfig;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.Secret;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.templates.DataSource;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Configuration records and blocks for delivery tests (built directly; no loader needed). */
public final class Fixtures {
    private Fixtures() {}

    public static DeliveryConfig delivery(Duration maxRetry) {
        return new DeliveryConfig(Duration.ofSeconds(5), Duration.ofMillis(50), Duration.ofMillis(400), maxRetry, 1000, 64L << 20);
    }

    public static DeliveryConfig delivery() {
        return delivery(Duration.ofMinutes(10));
    }

    public static HttpEndpoint http(URI url) {
        return new HttpEndpoint(url, Map.of(), "\n", "$dataset", 1_000_000, HttpEndpoint.Compression.NONE, null);
    }

    public static StreamConfig stream(long id, Endpoint endpoint) {
        return new StreamConfig(id, "stream-" + id, "4529r", DataSource.HTTP, null, List.of("example.com"), false, 100,
                true, endpoint, null);
    }

    /**
     * A job whose dead-letter store is {@code deadLetterDir}; without a spool path of its own, the spool is
     * {@code deadLetterDir/spool} (inside the test's own directory, not beside it in the shared /tmp).
     */
    public static JobConfig job(Path deadLetterDir, DeliveryConfig delivery, StreamConfig... streams) {
        DeliveryConfig d = delivery.spoolPath() != null ? delivery : new DeliveryConfig(delivery.requestTimeout(),
                delivery.initialBackoff(), delivery.maxBackoff(), delivery.maxRetryDuration(),
                delivery.maxPendingBlocksPerDestination(), delivery.maxPendingBytesPerDestination(), delivery.memoryBudget(),
                deadLetterDir.resolve("spool").toUri().toString());
        return new JobConfig(null, new DeadLetterConfig("dead-events", deadLetterDir.toUri().toString()), d,
                Duration.ofMillis(200), List.of(streams), LOOPBACK);
    }

    /** The test servers listen on loopback, which endpoints may reach only when allowed. */
    public static final AddressPolicy LOOPBACK = AddressPolicy.allowing("127.0.0.0/8", "::1/128");

    /** {@link #job} with another address policy (e.g. the default, which refuses the loopback test servers). */
    public static JobConfig job(Path deadLetterDir, DeliveryConfig delivery, AddressPolicy addresses, StreamConfig... streams) {
        JobConfig c = job(deadLetterDir, delivery, streams);
        return new JobConfig(c.source(), c.deadLetter(), c.delivery(), c.checkpointInterval(), c.streams(), addresses);
    }

    /** A block of {@code records} small JSON records {"stream":..,"seq":..,"i":..}. */
    public static Block block(long streamId, String domain, long sequence, int records) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            lines.add("{\"stream\":\"" + streamId + "\",\"seq\":\"" + sequence + "\",\"i\":\"" + i + "\"}");
        }
        return new Block(streamId, DataSource.HTTP, domain, sequence, records,
                String.join("\n", lines).getBytes(StandardCharsets.US_ASCII));
    }

    /** The dead-letter manifests under {@code dir} (none if it does not exist). */
    public static List<com.fasterxml.jackson.databind.JsonNode> manifests(Path dir) {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        if (!java.nio.file.Files.exists(dir)) {
            return List.of();
        }
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(dir)) {
            return files.filter(p -> p.toString().endsWith(".manifest.json")).map(p -> {
                try {
                    return json.readTree(p.toFile());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }).toList();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    public static Secret secret(String value) {
        return Secret.of(value);
    }
}
