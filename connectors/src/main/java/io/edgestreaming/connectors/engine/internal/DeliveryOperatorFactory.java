package io.edgestreaming.connectors.engine.internal;

import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.JobConfigRef;
import io.edgestreaming.connectors.engine.DeliveryRoutes;
import io.edgestreaming.connectors.engine.TransportFactory;
import io.edgestreaming.config.JobConfig;
import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/**
 * Creates {@link DeliveryOperator}s. A factory (rather than an operator instance) is how an operator
 * gets the task's mailbox executor in Flink 2.x: {@link StreamOperatorParameters#getMailboxExecutor()}.
 */
public final class DeliveryOperatorFactory extends AbstractStreamOperatorFactory<Void>
        implements OneInputStreamOperatorFactory<Block, Void> {
    private static final long serialVersionUID = 1L;

    /**
     * Engine settings that are not part of the user configuration.
     *
     * @param maxInFlightPerDestination concurrent attempts per destination and subtask while healthy
     * @param drainTimeout how long a bounded run's end may wait for deliveries before dead-lettering
     * @param checkpointingEnabled false: blocks are sent on arrival (no checkpoint will ever cover them)
     */
    public record Options(int maxInFlightPerDestination, Duration drainTimeout, boolean checkpointingEnabled) implements Serializable {
        public static final int DEFAULT_MAX_IN_FLIGHT = 4;

        public Options {
            if (maxInFlightPerDestination < 1) {
                throw new IllegalArgumentException("maxInFlightPerDestination must be at least 1");
            }
            Objects.requireNonNull(drainTimeout, "drainTimeout");
        }

        /** Defaults: 4 in flight; drain at most max_retry_duration, and no more than 5 minutes. */
        public static Options defaults(JobConfig config, boolean checkpointingEnabled) {
            Duration drain = config.delivery().maxRetryDuration();
            if (drain.compareTo(Duration.ofMinutes(5)) > 0) {
                drain = Duration.ofMinutes(5);
            }
            return new Options(DEFAULT_MAX_IN_FLIGHT, drain, checkpointingEnabled);
        }
    }

    /** Only the configuration's fingerprint in the job graph; the operator resolves the shared copy. */
    private final JobConfigRef config;
    private final String endpointType;
    private final TransportFactory transportFactory;
    private final Options options;
    private final DeliveryRoutes routes;

    /** A factory that carries its configuration itself (tests). */
    public DeliveryOperatorFactory(JobConfig config, TransportFactory transportFactory, Options options) {
        this(JobConfigRef.own(config), transportFactory, options);
    }

    public DeliveryOperatorFactory(JobConfigRef config, TransportFactory transportFactory, Options options) {
        this(config, transportFactory, options, DeliveryEndpoints.STREAMS);
    }

    /** @param routes which endpoint each block goes to (the streams' own, or the job's dead-letter topic) */
    public DeliveryOperatorFactory(JobConfigRef config, TransportFactory transportFactory, Options options,
            DeliveryRoutes routes) {
        this.routes = Objects.requireNonNull(routes, "routes");
        this.config = Objects.requireNonNull(config, "config");
        this.transportFactory = Objects.requireNonNull(transportFactory, "transportFactory");
        this.endpointType = transportFactory.endpointType();
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<Void>> T createStreamOperator(StreamOperatorParameters<Void> parameters) {
        return (T) new DeliveryOperator(parameters,
                config.resolve(parameters.getContainingTask().getEnvironment().getJobConfiguration()), endpointType,
                transportFactory, options, routes);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return DeliveryOperator.class;
    }
}
