package io.edgestreaming.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.SharedJobConfig;
import io.edgestreaming.connectors.DeliveryTopology;
import io.edgestreaming.connectors.JobConfigRef;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.streaming.api.graph.StreamConfig;
import org.apache.flink.streaming.api.operators.SimpleUdfStreamOperatorFactory;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configuration's share of the job graph: it travels once, not once per operator that needs it (at 10,000
 * streams four copies were 13 MB of a 14 MB graph, and every subtask deserialized four of them), and every
 * operator of a JVM resolves the same decoded copy.
 */
class JobGraphSizeTest {
    private static final Logger LOG = LoggerFactory.getLogger(JobGraphSizeTest.class);

    static JobConfig config(int clients) throws Exception {
        return ConfigLoader.parse("""
                source:
                  bootstrap_servers: localhost:9092
                  topics: {http: raw-http, waf: raw-waf}
                dead_letter:
                  blocks_path: file:///tmp/edge-dl
                """ + ManyStreamsTest.streams(clients));
    }

    /** The real pipeline's job graph, at parallelism 2. */
    static JobGraph jobGraph(JobConfig config) {
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(new Configuration());
        env.setParallelism(2);
        EdgeStreamingPipeline.build(env, config, EdgeStreamingPipeline.Options.UNBOUNDED);
        return env.getStreamGraph().getJobGraph();
    }

    static long gzipped(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(bytes);
        }
        return out.size();
    }

    @Test
    void theConfigurationTravelsOnceInTheJobGraph() throws Exception {
        JobConfig many = config(400);
        JobConfig few = config(1);
        long manyBytes = InstantiationUtil.serializeObject(jobGraph(many)).length;
        long fewBytes = InstantiationUtil.serializeObject(jobGraph(few)).length;
        byte[] serialized = InstantiationUtil.serializeObject(many);
        long oneCopy = gzipped(serialized);
        long encoded = SharedJobConfig.encode(many).payload().length();
        String figures = String.format("job graph with %,d streams %,d bytes, with %,d streams %,d bytes: the"
                        + " configuration's part %,d bytes; one copy of it %,d bytes serialized, %,d gzipped, %,d"
                        + " encoded", many.streams().size(), manyBytes, few.streams().size(), fewBytes,
                manyBytes - fewBytes, serialized.length, oneCopy, encoded);
        LOG.info(figures);
        // Before: about 4.5 serialized copies (1.98 MB here), one per operator that needed it.
        assertThat(manyBytes - fewBytes).as(figures).isLessThan(serialized.length / 2);
        // The encoded copy in the job's Flink configuration, which Flink keeps twice (ExecutionConfig, job
        // configuration); no operator carries any part of the streams.
        assertThat(manyBytes - fewBytes).as(figures).isLessThan(encoded * 2 + encoded / 5);
    }

    @Test
    void everyOperatorOfOneJvmResolvesTheSameDecodedConfiguration() throws Exception {
        JobConfig config = config(20);
        JobGraph graph = jobGraph(config);
        List<JobConfigRef> refs = new ArrayList<>();
        ClassLoader loader = getClass().getClassLoader();
        for (JobVertex vertex : graph.getVertices()) {
            for (StreamConfig op : new StreamConfig(vertex.getConfiguration())
                    .getTransitiveChainedTaskConfigsWithSelf(loader).values()) {
                Object factory = op.getStreamOperatorFactory(loader);
                collectRefs(factory, refs);
                if (factory instanceof SimpleUdfStreamOperatorFactory<?> udf) {
                    collectRefs(udf.getUserFunction(), refs);
                }
            }
        }
        // parse and route, the two batchers, per endpoint type its filter and delivery operator, the dead letters' delivery
        assertThat(refs).hasSize(3 + 2 * DeliveryTopology.transports().size() + 1);
        assertThat(refs).extracting(JobConfigRef::fingerprint).doesNotContainNull().containsOnly(refs.get(0).fingerprint());

        // Each subtask deserializes its own copy of the job configuration; the decoded one is the same.
        SharedJobConfig.Shared first = refs.get(0).resolve(graph.getJobConfiguration().clone());
        for (JobConfigRef ref : refs) {
            assertThat(ref.resolve(graph.getJobConfiguration().clone())).isSameAs(first);
        }
        // (Compiled templates have no equals: the records' text stands for them.)
        assertThat(first.config().toString()).isEqualTo(config.toString());
        assertThat(first.slice("test", JobConfig::streams)).isSameAs(first.slice("test", c -> List.of()));

        // A job restarted with a changed configuration: another fingerprint, its own copy.
        JobConfig changed = config(21);
        JobGraph changedGraph = jobGraph(changed);
        JobConfigRef changedRef = JobConfigRef.share(new StreamExecutionEnvironment(new Configuration()), changed);
        assertThat(changedRef.fingerprint()).isNotEqualTo(first.fingerprint());
        SharedJobConfig.Shared other = changedRef.resolve(changedGraph.getJobConfiguration());
        assertThat(other).isNotSameAs(first);
        assertThat(other.config().streams()).hasSize(changed.streams().size());

        // A graph that does not carry the configuration, or carries another one under its key, fails clearly.
        JobConfigRef unknown = JobConfigRef.share(new StreamExecutionEnvironment(new Configuration()), config(22));
        assertThatThrownBy(() -> unknown.resolve(new Configuration()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("does not carry");
    }

    private static void collectRefs(Object holder, List<JobConfigRef> refs) throws IllegalAccessException {
        for (Class<?> c = holder.getClass(); c != null; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                if (field.getType() == JobConfigRef.class && !Modifier.isStatic(field.getModifiers())) {
                    field.setAccessible(true);
                    refs.add((JobConfigRef) field.get(holder));
                }
            }
        }
    }
}
