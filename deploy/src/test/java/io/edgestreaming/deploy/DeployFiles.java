package io.edgestreaming.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.w3c.dom.Document;

/** The repository's deployment files as the tests read them: paths, YAML trees, pom values. */
final class DeployFiles {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private DeployFiles() {
    }

    /** The repository root (the directory with the parent pom and deploy/), from the module's directory. */
    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isRegularFile(dir.resolve("pom.xml")) && Files.isDirectory(dir.resolve("deploy"))
                    && Files.isDirectory(dir.resolve("job"))) {
                return dir;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("cannot find the repository root above " + Path.of("").toAbsolutePath());
    }

    static Path file(String relative) {
        Path p = root().resolve(relative);
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("missing file " + relative);
        }
        return p;
    }

    static String read(String relative) {
        try {
            return Files.readString(file(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode yaml(String relative) {
        try {
            return YAML.readTree(file(relative).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse " + relative, e);
        }
    }

    /** Text of the first node matching an XPath in a pom (namespaces ignored). */
    static String pom(String relative, String xpath) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(false);
            Document doc = f.newDocumentBuilder().parse(file(relative).toFile());
            String value = (String) XPathFactory.newInstance().newXPath().evaluate(xpath, doc, XPathConstants.STRING);
            return value == null ? "" : value.trim();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + xpath + " from " + relative, e);
        }
    }

    /** The pinned Flink version (parent pom property flink.version), e.g. 2.2.1. */
    static String flinkVersion() {
        return pom("pom.xml", "/project/properties/flink.version");
    }

    /** The shade plugin's output file of module job, as configured (may contain ${...}). */
    static String jobJarOutputFile() {
        return pom("job/pom.xml",
                "/project/build/plugins/plugin[artifactId='maven-shade-plugin']/executions/execution/configuration/outputFile");
    }

    /** File name of the shaded job jar, e.g. edge-streaming-job.jar. */
    static String jobJarName() {
        String out = jobJarOutputFile();
        return out.substring(out.lastIndexOf('/') + 1);
    }

    /** Where the build writes the shaded job jar, relative to the repository root. */
    static String jobJarPath() {
        String out = jobJarOutputFile();
        if (!out.startsWith("${project.build.directory}/")) {
            throw new IllegalStateException("job jar outputFile is expected under ${project.build.directory}: " + out);
        }
        return "job/target/" + out.substring("${project.build.directory}/".length());
    }
}
