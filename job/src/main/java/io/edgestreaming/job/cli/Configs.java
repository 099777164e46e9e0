package io.edgestreaming.job.cli;

import io.edgestreaming.config.ConfigException;
import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.engine.TransportFactory;
import io.edgestreaming.connectors.http.HttpTransport;
import io.edgestreaming.connectors.kafka.KafkaTransport;
import io.edgestreaming.connectors.s3.S3Transport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** Loading a configuration as the job does at start: the loader's problems, then each endpoint's. */
final class Configs {
    /**
     * The transports' own checks, which the job runs when it builds its graph (DeliveryTopology). Their
     * factories are used directly: DeliveryTopology needs Flink, which the tool runs without. So does
     * KafkaTransport (its factory's check initialises it); what that check refuses (compression, SASL
     * mechanism) the loader already refuses, so Kafka endpoints have nothing more to check here.
     */
    private static final Map<String, TransportFactory> FACTORIES = Map.of(
            HttpTransport.ENDPOINT_TYPE, new HttpTransport.Factory(),
            S3Transport.ENDPOINT_TYPE, new S3Transport.Factory());

    private Configs() {}

    /** The configuration, or empty after printing every problem to {@code err} (warnings go there too). */
    static Optional<JobConfig> load(Path file, Function<String, String> env, PrintWriter err) {
        try {
            JobConfig config = ConfigLoader.load(file, env, w -> err.println(file + ": warning: " + w));
            List<String> problems = endpointProblems(config);
            if (problems.isEmpty()) {
                return Optional.of(config);
            }
            print(file, problems, err);
        } catch (ConfigException e) {
            print(file, e.problems(), err);
        }
        return Optional.empty();
    }

    static void print(Path file, List<String> problems, PrintWriter to) {
        to.println(file + ": " + problems.size() + " configuration problem(s):");
        problems.forEach(p -> to.println("  " + p));
    }

    /** As DeliveryTopology reports them when the graph is built. */
    static List<String> endpointProblems(JobConfig config) {
        List<String> problems = new ArrayList<>();
        for (StreamConfig stream : config.streams()) {
            Endpoint endpoint = stream.endpoint();
            TransportFactory factory = FACTORIES.get(endpoint.endpointType());
            if (KafkaTransport.ENDPOINT_TYPE.equals(endpoint.endpointType())) {
                continue;
            }
            if (factory == null) {
                problems.add("streams[id=" + stream.id() + "].endpoint: unknown endpoint type " + endpoint.endpointType());
                continue;
            }
            try {
                factory.validate(endpoint);
            } catch (IllegalArgumentException e) {
                problems.add("streams[id=" + stream.id() + "].endpoint: " + e.getMessage());
            }
        }
        return problems;
    }

    static Optional<StreamConfig> stream(JobConfig config, long id) {
        return config.streams().stream().filter(s -> s.id() == id).findFirst();
    }
}
