package io.edgestreaming.bench;

import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.StreamConfig;
import io.edgestreaming.connectors.DeliveryTopology;
import io.edgestreaming.connectors.engine.TransportFactory;
import io.edgestreaming.job.StreamRouter;
import io.edgestreaming.templates.CompiledTemplate;
import java.lang.ref.Reference;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a configuration of many streams costs before any event: the loader (YAML, every check), the transports' own
 * endpoint checks (as the job does when it builds its graph), the router, and the compiled templates every
 * parse-and-route subtask holds; the time of each step and the heap each step retains (after a full GC).
 */
final class ConfigAtScale {
    /** Times in ms; heap in bytes, what the step added to what the previous ones retain. */
    record Figures(double loadMillis, double endpointChecksMillis, double routerMillis, double templatesMillis,
            long configHeap, long routerHeap, long templatesHeap) {}

    private ConfigAtScale() {}

    /** {@code rounds} runs in this JVM: the first is cold (what a job's start sees), the others warm. */
    static List<Figures> measure(String yaml, int rounds) throws Exception {
        List<Figures> out = new java.util.ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            out.add(once(yaml));
        }
        return out;
    }

    private static Figures once(String yaml) throws Exception {
        long h0 = BenchEnv.heapAfterGc();
        long t0 = System.nanoTime();
        JobConfig config = ConfigLoader.parse(yaml);
        long t1 = System.nanoTime();
        long h1 = BenchEnv.heapAfterGc();
        long t2 = System.nanoTime();
        Map<String, TransportFactory> transports = DeliveryTopology.transports();
        for (StreamConfig s : config.streams()) {
            transports.get(s.endpoint().endpointType()).validate(s.endpoint());
        }
        long t3 = System.nanoTime();
        StreamRouter router = new StreamRouter(config.streams());
        long t4 = System.nanoTime();
        long h2 = BenchEnv.heapAfterGc();
        long t5 = System.nanoTime();
        Map<Long, CompiledTemplate> templates = new HashMap<>();
        for (StreamConfig s : config.streams()) {
            if (s.active()) {
                templates.put(s.id(), CompiledTemplate.compile(s.template()));
            }
        }
        long t6 = System.nanoTime();
        long h3 = BenchEnv.heapAfterGc();
        Reference.reachabilityFence(config);
        Reference.reachabilityFence(router);
        Reference.reachabilityFence(templates);
        return new Figures((t1 - t0) / 1e6, (t3 - t2) / 1e6, (t4 - t3) / 1e6, (t6 - t5) / 1e6, h1 - h0, h2 - h1, h3 - h2);
    }
}
