package io.edgestreaming.config;

import static io.edgestreaming.config.ConfigTesting.standard;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code ${env:NAME}} reads only the names of {@code EDGE_STREAMING_ENV_VARS} when it is set: the job's environment
 * also holds the platform's own credentials, which a customer's text copied into the configuration must not reach.
 */
class EnvReferenceNamesTest {
    private static final String AWS_SECRET = "Wk3-AWS-CANARY-58";
    private static final String NOT_AMONG = ": not among the names ${env:} may read (EDGE_STREAMING_ENV_VARS)";
    private static final String UNSET_WARNING = "EDGE_STREAMING_ENV_VARS is not set: ${env:} may read every"
            + " environment variable of the job; list the names configurations may use";

    /** Every host public, so the only warnings are about references. */
    private static final AddressPolicy.Resolver PUBLIC = host -> new InetAddress[] {InetAddress.getByName("93.184.215.14")};

    private final List<String> warnings = new ArrayList<>();

    private static Map<String, String> environment(String list) {
        Map<String, String> env = new HashMap<>(Map.of(
                "SIEM_TOKEN", "siem-tok",
                "CUSTOMER_7781K_PASSWORD", "cust-pw",
                "AWS_SECRET_ACCESS_KEY", AWS_SECRET,
                "EDGE_STREAMING_FILE_DIRS", "/nonexistent-dirs"));
        if (list != null) {
            env.put("EDGE_STREAMING_ENV_VARS", list);
        }
        return env;
    }

    @Test
    void listedNamesAndPrefixMatchesResolve() throws Exception {
        JobConfig c = parse("{A: \"Bearer ${env:SIEM_TOKEN}\", B: \"${env:CUSTOMER_7781K_PASSWORD}\"}",
                environment(" SIEM_TOKEN , CUSTOMER_*"));
        assertThat(headers(c)).isEqualTo(List.of("Bearer siem-tok", "cust-pw"));
        assertThat(warnings).isEmpty();
    }

    @Test
    void anUnlistedNameIsRefusedWithoutItsValue() {
        ConfigException e = refused("{A: \"${env:AWS_SECRET_ACCESS_KEY}\", B: \"${env:SIEM_TOKEN}\","
                + " C: \"${env:CUSTOMER_UNSET}\", D: \"${env:AWS_UNSET}\"}", environment("SIEM_TOKEN,CUSTOMER_*"));
        // An unlisted name is refused whether it is set or not (no probing); a listed unset one is just unset.
        assertThat(e.problems()).containsExactly(
                "streams[0].endpoint.headers.A: cannot read ${env:AWS_SECRET_ACCESS_KEY}" + NOT_AMONG,
                "streams[0].endpoint.headers.C: environment variable CUSTOMER_UNSET is not set",
                "streams[0].endpoint.headers.D: cannot read ${env:AWS_UNSET}" + NOT_AMONG);
        assertThat(e.getMessage()).doesNotContain(AWS_SECRET);
    }

    @Test
    void theListsThemselvesAreNeverReadable() {
        // Not even under a prefix that covers them, nor listed by name.
        ConfigException e = refused("{A: \"${env:EDGE_STREAMING_ENV_VARS}\", B: \"${env:EDGE_STREAMING_FILE_DIRS}\"}",
                environment("EDGE_*,EDGE_STREAMING_ENV_VARS,EDGE_STREAMING_FILE_DIRS"));
        assertThat(e.problems()).containsExactly(
                "streams[0].endpoint.headers.A: cannot read ${env:EDGE_STREAMING_ENV_VARS}" + NOT_AMONG,
                "streams[0].endpoint.headers.B: cannot read ${env:EDGE_STREAMING_FILE_DIRS}" + NOT_AMONG);
        assertThat(e.getMessage()).doesNotContain("/nonexistent-dirs");
    }

    @Test
    void anEmptyListAllowsNothing() {
        assertThat(refused("{A: \"${env:SIEM_TOKEN}\"}", environment("")).problems())
                .containsExactly("streams[0].endpoint.headers.A: cannot read ${env:SIEM_TOKEN}" + NOT_AMONG);
    }

    @Test
    void withoutTheListEveryNameResolvesAndOneWarningSaysSo() throws Exception {
        JobConfig c = parse("{A: \"${env:SIEM_TOKEN}\", B: \"${env:AWS_SECRET_ACCESS_KEY}\", C: \"x ${env:SIEM_TOKEN}\"}",
                environment(null));
        assertThat(headers(c)).isEqualTo(List.of("siem-tok", AWS_SECRET, "x siem-tok"));
        assertThat(warnings).containsExactly(UNSET_WARNING);
    }

    @Test
    void withoutTheListAndWithoutReferencesNothingIsWarned() throws Exception {
        parse("{A: plain}", environment(null));
        assertThat(warnings).isEmpty();
    }

    private JobConfig parse(String headers, Map<String, String> env) throws ConfigException {
        return ConfigLoader.parse(standard("", "headers: " + headers), env::get, Path.of("/nonexistent-base"),
                PUBLIC, warnings::add);
    }

    private ConfigException refused(String headers, Map<String, String> env) {
        ConfigException[] caught = new ConfigException[1];
        assertThatThrownBy(() -> parse(headers, env)).isInstanceOfSatisfying(ConfigException.class, e -> caught[0] = e);
        return caught[0];
    }

    private static List<String> headers(JobConfig c) {
        return ((HttpEndpoint) c.streams().get(0).endpoint()).headers().values().stream().map(Secret::reveal).toList();
    }
}
