package io.edgestreaming.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgestreaming.config.ConfigException;
import io.edgestreaming.config.ConfigLoader;
import io.edgestreaming.config.JobConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.junit.jupiter.api.Test;

/** deploy/k8s: the manifests parse, agree with each other, with the image and with Flink 2.2. */
class KubernetesManifestsTest {

    static final String K8S = "deploy/k8s/";

    /**
     * Options of flink-kubernetes (KubernetesConfigOptions), which is not on Maven Central for 2.2.1 and so
     * cannot be scanned like the others: each with the values Flink accepts.
     */
    private static final Map<String, Set<String>> KUBERNETES_KEYS = Map.of(
            "kubernetes.rest-service.exposed.type", Set.of("ClusterIP", "NodePort", "LoadBalancer", "Headless_ClusterIP"));

    private static JsonNode deployment() {
        return DeployFiles.yaml(K8S + "flink-deployment.yaml");
    }

    private static JsonNode configMap() {
        return DeployFiles.yaml(K8S + "configmap.yaml");
    }

    private static JsonNode secret() {
        return DeployFiles.yaml(K8S + "secret.yaml");
    }

    private static Map<String, String> flinkConfiguration() {
        Map<String, String> conf = new LinkedHashMap<>();
        deployment().path("spec").path("flinkConfiguration").fields()
                .forEachRemaining(e -> conf.put(e.getKey(), e.getValue().asText()));
        assertThat(conf).as("spec.flinkConfiguration").isNotEmpty();
        return conf;
    }

    private static JsonNode mainContainer() {
        for (JsonNode c : deployment().path("spec").path("podTemplate").path("spec").path("containers")) {
            if (c.path("name").asText().equals("flink-main-container")) {
                return c;
            }
        }
        return fail("podTemplate has no container flink-main-container (the name the operator merges)");
    }

    /** The Secret's keys and values, as the pods see them in their environment. */
    private static Map<String, String> secretEnvironment() {
        Map<String, String> env = new HashMap<>();
        secret().path("stringData").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
        return env;
    }

    /** The pods' environment: the Secret's keys and the main container's own env. */
    private static Map<String, String> podEnvironment() {
        Map<String, String> env = secretEnvironment();
        mainContainer().path("env").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
        return env;
    }

    @Test
    void everyManifestParsesAndKustomizationListsThemAll() throws IOException {
        Path dir = DeployFiles.root().resolve(K8S);
        Set<String> manifests = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml") || n.endsWith(".yml"))
                    .forEach(manifests::add);
        }
        manifests.remove("kustomization.yaml");
        assertThat(manifests).containsExactlyInAnyOrder("configmap.yaml", "flink-deployment.yaml", "network-policy.yaml", "secret.yaml");
        for (String m : manifests) {
            JsonNode doc = DeployFiles.yaml(K8S + m);
            assertThat(doc.path("apiVersion").asText()).as(m + " apiVersion").isNotBlank();
            assertThat(doc.path("kind").asText()).as(m + " kind").isNotBlank();
            assertThat(doc.path("metadata").path("name").asText()).as(m + " metadata.name").isNotBlank();
            assertThat(doc.path("metadata").path("namespace").asText()).as(m + " namespace").isEqualTo("edge-streaming");
        }
        JsonNode kustomization = DeployFiles.yaml(K8S + "kustomization.yaml");
        List<String> resources = new ArrayList<>();
        kustomization.path("resources").forEach(r -> resources.add(r.asText()));
        assertThat(resources).containsExactlyInAnyOrderElementsOf(manifests);
        assertThat(secret().path("kind").asText()).isEqualTo("Secret");
        assertThat(configMap().path("kind").asText()).isEqualTo("ConfigMap");
    }

    @Test
    void theUnauthenticatedRestApiIsReachableOnlyByTheJobsPodsTheOperatorAndPrometheus() {
        assertThat(flinkConfiguration()).containsEntry("kubernetes.rest-service.exposed.type", "ClusterIP");
        JsonNode policy = DeployFiles.yaml(K8S + "network-policy.yaml");
        assertThat(policy.path("kind").asText()).isEqualTo("NetworkPolicy");
        String app = deployment().path("metadata").path("name").asText();
        assertThat(policy.path("spec").path("podSelector").path("matchLabels").path("app").asText())
                .as("selects the pods the operator labels app: <deployment name>").isEqualTo(app);
        assertThat(policy.path("spec").path("policyTypes").toString()).contains("Ingress");
        int restRules = 0;
        for (JsonNode rule : policy.path("spec").path("ingress")) {
            boolean fromOwnPods = false;
            boolean fromNamespace = false;
            for (JsonNode from : rule.path("from")) {
                fromOwnPods |= app.equals(from.path("podSelector").path("matchLabels").path("app").asText());
                fromNamespace |= from.has("namespaceSelector");
                assertThat(from.path("ipBlock").isMissingNode()).as("no ipBlock: nothing from outside the cluster").isTrue();
            }
            assertThat(fromOwnPods || fromNamespace).as("every rule names who may connect: " + rule).isTrue();
            if (!fromOwnPods) {
                assertThat(rule.path("ports").size()).as("outside the job's pods, only named ports: " + rule).isPositive();
                for (JsonNode port : rule.path("ports")) {
                    if (port.path("port").asInt() == 8081) {
                        restRules++;
                    }
                }
            }
        }
        assertThat(restRules).as("the REST port is open to exactly one namespace (the operator's)").isEqualTo(1);
    }

    @Test
    void flinkDeploymentRunsTheImagesJarInApplicationModeWithSavepointUpgrades() {
        JsonNode d = deployment();
        assertThat(d.path("apiVersion").asText()).isEqualTo("flink.apache.org/v1beta1");
        assertThat(d.path("kind").asText()).isEqualTo("FlinkDeployment");
        JsonNode spec = d.path("spec");
        String[] v = DeployFiles.flinkVersion().split("\\.");
        assertThat(spec.path("flinkVersion").asText()).isEqualTo("v" + v[0] + "_" + v[1]);
        assertThat(spec.path("restartNonce").isIntegralNumber()).as("spec.restartNonce (rolls out config changes)")
                .isTrue();

        JsonNode job = spec.path("job");
        // Application mode: a job section with a jar inside the image (local://).
        assertThat(job.path("jarURI").asText()).isEqualTo("local://" + DockerfileTest.USRLIB_JAR);
        assertThat(DockerfileTest.USRLIB_JAR).endsWith("/" + DeployFiles.jobJarName());
        assertThat(job.path("entryClass").asText()).isEqualTo(JobJarTest.JOB_CLASS);
        assertThat(job.path("upgradeMode").asText()).isEqualTo("savepoint");
        assertThat(job.path("state").asText()).isEqualTo("running");

        // --config points into the mounted ConfigMap, at its key.
        List<String> args = new ArrayList<>();
        job.path("args").forEach(a -> args.add(a.asText()));
        assertThat(args).hasSize(2).first().isEqualTo("--config");
        Path configPath = Path.of(args.get(1));
        JsonNode mount = null;
        for (JsonNode m : mainContainer().path("volumeMounts")) {
            if (configPath.startsWith(m.path("mountPath").asText())) {
                mount = m;
            }
        }
        assertThat(mount).as("a volumeMount holding " + configPath).isNotNull();
        String volumeName = mount.path("name").asText();
        JsonNode volume = null;
        for (JsonNode vol : spec.path("podTemplate").path("spec").path("volumes")) {
            if (vol.path("name").asText().equals(volumeName)) {
                volume = vol;
            }
        }
        assertThat(volume).as("volume " + volumeName).isNotNull();
        assertThat(volume.path("configMap").path("name").asText())
                .isEqualTo(configMap().path("metadata").path("name").asText());
        assertThat(configMap().path("data").has(configPath.getFileName().toString()))
                .as("ConfigMap key " + configPath.getFileName()).isTrue();

        // Secrets reach the pods as environment variables.
        List<String> secretRefs = new ArrayList<>();
        mainContainer().path("envFrom").forEach(e -> secretRefs.add(e.path("secretRef").path("name").asText()));
        assertThat(secretRefs).contains(secret().path("metadata").path("name").asText());

        // Sensible resources: both pods sized, parallelism fits the slots of a handful of TaskManagers.
        for (String role : List.of("jobManager", "taskManager")) {
            assertThat(spec.path(role).path("resource").path("memory").asText()).as(role + " memory").isNotBlank();
            assertThat(spec.path(role).path("resource").path("cpu").asDouble()).as(role + " cpu").isPositive();
        }
    }

    @Test
    void flinkConfigurationIsExactlyOnceOnS3WithKubernetesHaAndPrometheus() {
        Map<String, String> conf = flinkConfiguration();
        assertThat(conf).containsEntry("high-availability.type", "kubernetes");
        assertThat(conf).containsEntry("execution.checkpointing.mode", "EXACTLY_ONCE");
        assertThat(conf.get("high-availability.storageDir")).startsWith("s3://");
        assertThat(conf.get("execution.checkpointing.dir")).startsWith("s3://");
        assertThat(conf.get("execution.checkpointing.savepoint-dir")).startsWith("s3://");
        assertThat(conf).containsEntry("metrics.reporter.prom.factory.class",
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        // The scrape port is the one the pods expose.
        List<Integer> ports = new ArrayList<>();
        mainContainer().path("ports").forEach(p -> ports.add(p.path("containerPort").asInt()));
        assertThat(ports).contains(Integer.parseInt(conf.get("metrics.reporter.prom.port")));

        Configuration flink = Configuration.fromMap(conf);
        int parallelism = deployment().path("spec").path("job").path("parallelism").asInt();
        assertThat(parallelism).isPositive();
        assertThat(parallelism).isLessThanOrEqualTo(flink.get(PipelineOptions.MAX_PARALLELISM));
        assertThat(flink.get(CoreOptions.DEFAULT_PARALLELISM)).isEqualTo(parallelism);
        assertThat(flink.get(CheckpointingOptions.CHECKPOINTING_INTERVAL)).isNotNull();
    }

    /** A misspelt or removed key is silently ignored by Flink: catch it here instead. */
    @Test
    void everyFlinkConfigurationKeyIsOneFlinkKnowsAndItsValueParses() {
        Map<String, FlinkConfigKeys.Known> known = FlinkConfigKeys.all();
        assertThat(known).containsKeys("parallelism.default", "execution.checkpointing.interval");
        Set<String> reporterKeys = FlinkConfigKeys.reporterKeys();
        assertThat(reporterKeys).contains("factory.class");
        Pattern reporter = Pattern.compile("metrics\\.reporter\\.([A-Za-z0-9_-]+)\\.(.+)");

        Map<String, String> conf = flinkConfiguration();
        Configuration flink = Configuration.fromMap(conf);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, String> e : conf.entrySet()) {
            String key = e.getKey();
            Matcher m = reporter.matcher(key);
            if (m.matches()) {
                String name = m.group(1);
                String option = m.group(2);
                if (!reporterKeys.contains(option) && !FlinkConfigKeys.PROMETHEUS_REPORTER_KEYS.contains(option)) {
                    problems.add(key + ": not an option of a metric reporter");
                }
                if (!conf.containsKey("metrics.reporter." + name + ".factory.class")) {
                    problems.add(key + ": reporter " + name + " has no factory.class");
                }
                continue;
            }
            if (KUBERNETES_KEYS.containsKey(key)) {
                if (!KUBERNETES_KEYS.get(key).contains(e.getValue())) {
                    problems.add(key + ": value '" + e.getValue() + "' is not one of " + KUBERNETES_KEYS.get(key));
                }
                continue;
            }
            FlinkConfigKeys.Known k = known.get(key);
            if (k == null) {
                problems.add(key + ": unknown to Flink " + DeployFiles.flinkVersion());
                continue;
            }
            if (k.deprecated()) {
                problems.add(key + ": deprecated, use " + k.option().key());
            }
            try {
                flink.get(k.option());
            } catch (RuntimeException ex) {
                problems.add(key + ": value '" + e.getValue() + "' does not parse: " + ex.getMessage());
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void streamConfigurationInTheConfigMapPassesTheJobsValidation() throws ConfigException {
        String streams = configMap().path("data").path("streams.yaml").asText();
        assertThat(streams).isNotBlank();
        Map<String, String> env = podEnvironment();

        // Every ${env:NAME} is a key of the Secret the pods get (the loader would refuse an unset one too).
        Matcher refs = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}").matcher(streams);
        Set<String> referenced = new TreeSet<>();
        while (refs.find()) {
            referenced.add(refs.group(1));
        }
        assertThat(referenced).isNotEmpty();
        assertThat(env.keySet()).containsAll(referenced);

        // ${env:} may read exactly those names, so not Flink's own bucket credentials in the same environment.
        Set<String> readable = new TreeSet<>(List.of(env.getOrDefault("EDGE_STREAMING_ENV_VARS", "").split(",")));
        assertThat(readable).as("EDGE_STREAMING_ENV_VARS").isEqualTo(referenced);
        assertThat(env).containsKeys("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY");
        String leaking = streams.replace("${env:SIEM_TOKEN}", "${env:AWS_SECRET_ACCESS_KEY}");
        ConfigException refused = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(leaking, env::get, DeployFiles.root().resolve(K8S)));
        assertThat(refused.problems()).isNotEmpty().allSatisfy(p -> assertThat(p)
                .endsWith(": cannot read ${env:AWS_SECRET_ACCESS_KEY}: not among the names ${env:} may read (EDGE_STREAMING_ENV_VARS)"));
        assertThat(refused.getMessage()).doesNotContain(env.get("AWS_SECRET_ACCESS_KEY"));

        JobConfig config = ConfigLoader.parse(streams, env::get, DeployFiles.root().resolve(K8S));
        assertThat(config.streams()).isNotEmpty();
        assertThat(config.deadLetter().blocksPath()).startsWith("s3://");

        // Flink's checkpoint interval wins over the job's (EdgeStreamingPipeline): they must agree, since the
        // loader checks Kafka transaction timeouts against the job's value.
        Duration flinkInterval = Configuration.fromMap(flinkConfiguration())
                .get(CheckpointingOptions.CHECKPOINTING_INTERVAL);
        assertThat(flinkInterval).isEqualTo(config.checkpointInterval());
    }

    @Test
    void secretHoldsOnlyPlaceholders() {
        JsonNode s = secret();
        assertThat(s.path("type").asText()).isEqualTo("Opaque");
        Iterator<Map.Entry<String, JsonNode>> it = s.path("stringData").fields();
        assertThat(it.hasNext()).isTrue();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            assertThat(e.getValue().asText()).as(e.getKey())
                    .satisfiesAnyOf(val -> assertThat(val).contains("change-me"), val -> assertThat(val).contains("EXAMPLE"));
        }
    }
}
