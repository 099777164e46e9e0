package io.edgestreaming.connectors;

import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.SharedJobConfig;
import java.io.Serializable;
import java.lang.ref.WeakReference;
import java.util.Objects;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.StreamingRuntimeContext;

/**
 * What an operator carries of the job configuration: its fingerprint only. The configuration itself travels once,
 * in the job's Flink configuration ({@link #share}), and operators {@link #resolve} it when they open through
 * {@link SharedJobConfig}: decoded once per TaskManager and job class loader, the same instance for every operator
 * and subtask there.
 *
 * <p>The job's Flink configuration is in the job graph twice (the ExecutionConfig and the job configuration are
 * both serialized from the environment's configuration); the compressed configuration is still a fraction of one
 * operator's copy before. It is not the global job parameters, which the REST API shows; the key contains
 * "secret", so Flink hides its value wherever it prints a configuration.
 */
public final class JobConfigRef implements Serializable {
    private static final long serialVersionUID = 1L;
    static final String KEY_PREFIX = "edge-streaming.job-configuration-secret.";

    /** The last configuration shared and its encoding: the pipeline's stages share the same one. */
    private static final Object LAST_LOCK = new Object();
    private static WeakReference<JobConfig> lastConfig = new WeakReference<>(null);
    private static SharedJobConfig.Encoded lastEncoded;

    private final String fingerprint;
    /** Only for an operator that carries its configuration itself (tests): then no fingerprint. */
    private final JobConfig own;

    private JobConfigRef(String fingerprint, JobConfig own) {
        this.fingerprint = fingerprint;
        this.own = own;
    }

    /** Puts {@code config} into the job's Flink configuration (once per fingerprint) and returns its reference. */
    public static JobConfigRef share(StreamExecutionEnvironment env, JobConfig config) {
        SharedJobConfig.Encoded encoded = encoded(config);
        String key = KEY_PREFIX + encoded.fingerprint();
        if (env.getConfiguration().toMap().get(key) == null) {
            Configuration carrier = new Configuration();
            carrier.setString(key, encoded.payload());
            env.configure(carrier);
        }
        return new JobConfigRef(encoded.fingerprint(), null);
    }

    /** A reference that carries the configuration itself, serialized with the operator (tests, harnesses). */
    public static JobConfigRef own(JobConfig config) {
        return new JobConfigRef(null, Objects.requireNonNull(config, "config"));
    }

    /** Null for a reference that carries its configuration. */
    public String fingerprint() {
        return fingerprint;
    }

    /** The configuration, from an operator's open() or initializeState(). */
    public SharedJobConfig.Shared resolve(RuntimeContext context) {
        if (own != null) {
            return SharedJobConfig.own(own);
        }
        if (!(context instanceof StreamingRuntimeContext streaming)) {
            throw new IllegalStateException("the job configuration is reachable from a streaming task only, not from "
                    + context.getClass().getName());
        }
        return resolve(streaming.getJobConfiguration());
    }

    /** The configuration, from the job's Flink configuration. */
    public SharedJobConfig.Shared resolve(Configuration jobConfiguration) {
        if (own != null) {
            return SharedJobConfig.own(own);
        }
        return SharedJobConfig.resolve(fingerprint, () -> jobConfiguration.getString(KEY_PREFIX + fingerprint, null));
    }

    private static SharedJobConfig.Encoded encoded(JobConfig config) {
        synchronized (LAST_LOCK) {
            if (lastConfig.get() != config) {
                lastEncoded = SharedJobConfig.encode(config);
                lastConfig = new WeakReference<>(config);
            }
            return lastEncoded;
        }
    }

    @Override
    public String toString() {
        return "JobConfigRef[" + (own != null ? "own copy" : fingerprint) + "]";
    }
}
