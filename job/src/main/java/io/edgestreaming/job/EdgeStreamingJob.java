package io.edgestreaming.job;

import io.edgestreaming.config.ConfigException;
import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.JobConfig;
import java.nio.file.Path;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point: {@code flink run <jar> --config <file>}. Flink options (state backend, checkpoint
 * storage, parallelism...) come from the cluster configuration and {@code -D} options as usual; the
 * configuration file describes sources, streams and endpoints. An invalid configuration stops here,
 * with every problem listed, before any graph is built.
 */
public final class EdgeStreamingJob {
    private static final Logger LOG = LoggerFactory.getLogger(EdgeStreamingJob.class);

    private EdgeStreamingJob() {}

    public static void main(String[] args) throws Exception {
        Path configFile = configPath(args);
        JobConfig config;
        try {
            config = ConfigLoader.load(configFile);
        } catch (ConfigException e) {
            LOG.error("Configuration {} has {} problem(s):", configFile, e.problems().size());
            e.problems().forEach(problem -> LOG.error("  {}", problem));
            throw e;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        EdgeStreamingPipeline.build(env, config, EdgeStreamingPipeline.Options.UNBOUNDED);
        env.execute("edge-streaming (" + config.streams().size() + " streams)");
    }

    static Path configPath(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                return Path.of(args[i + 1]);
            }
            if (args[i].startsWith("--config=")) {
                return Path.of(args[i].substring("--config=".length()));
            }
        }
        throw new IllegalArgumentException("usage: flink run <jar> --config <configuration file>");
    }
}
