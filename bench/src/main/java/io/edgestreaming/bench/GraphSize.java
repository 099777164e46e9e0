package io.edgestreaming.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.streaming.api.graph.StreamConfig;
import org.apache.flink.util.InstantiationUtil;

/**
 * The serialized size of a job graph, of each vertex's configuration (what a subtask of it is deployed with) and of
 * each operator in there (its factory and user function, serialized): the job's configuration travels in the user
 * functions.
 */
record GraphSize(long bytes, List<Vertex> vertices) {
    record Vertex(String name, long bytes, Map<String, Long> operators) {}

    static GraphSize of(JobGraph graph) throws IOException {
        List<Vertex> vertices = new ArrayList<>();
        ClassLoader loader = GraphSize.class.getClassLoader();
        for (JobVertex v : graph.getVertices()) {
            Map<String, Long> operators = new TreeMap<>();
            for (StreamConfig op : new StreamConfig(v.getConfiguration()).getTransitiveChainedTaskConfigsWithSelf(loader)
                    .values()) {
                // The serialized operator (its factory and user function), without the chained operators' configurations.
                operators.put(op.getOperatorName(),
                        (long) op.getConfiguration().getBytes(StreamConfig.SERIALIZED_UDF, new byte[0]).length);
            }
            vertices.add(new Vertex(v.getName(), InstantiationUtil.serializeObject(v.getConfiguration()).length, operators));
        }
        return new GraphSize(InstantiationUtil.serializeObject(graph).length, vertices);
    }

    /** The vertex of this name, or null. */
    Vertex vertex(String name) {
        return vertices.stream().filter(v -> v.name().equals(name)).findFirst().orElse(null);
    }
}
