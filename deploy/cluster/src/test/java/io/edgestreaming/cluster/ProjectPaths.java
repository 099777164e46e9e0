package io.edgestreaming.cluster;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files of the build that the cluster tests use, found from the repository root. */
final class ProjectPaths {

    private ProjectPaths() {}

    /** The repository root: the directory holding deploy/cluster/standalone.sh. */
    static Path root() {
        return StandaloneCluster.script().getParent().getParent().getParent();
    }

    /**
     * The shaded job jar that users submit. The reactor packages the job module before this one (see this module's
     * pom), so {@code mvn verify} has it; a test-only run of this module needs it built first.
     */
    static Path jobJar() {
        Path jar = root().resolve("job/target/edge-streaming-job.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " does not exist: build it first (mvn -B -o -pl deploy/cluster -am "
                    + "verify packages the job module before this one)");
        }
        return jar;
    }
}
