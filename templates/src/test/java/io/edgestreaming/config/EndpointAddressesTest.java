package io.edgestreaming.config;

import static io.edgestreaming.config.ConfigTesting.ENV;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** allowed_networks and the endpoint hosts the loader refuses (server-side request forgery). */
class EndpointAddressesTest {
    /** Like /etc/hosts: a few names with fixed answers, every other one looked up for real. */
    private static final AddressPolicy.Resolver HOSTS = name -> switch (name) {
        case "metadata.internal" -> new InetAddress[] {InetAddress.getByName("169.254.169.254")};
        case "intranet.example" -> new InetAddress[] {InetAddress.getByName("10.20.30.40")};
        case "public.example" -> new InetAddress[] {InetAddress.getByName("93.184.215.14")};
        default -> AddressPolicy.SYSTEM.resolve(name);
    };

    private final List<String> warnings = new ArrayList<>();

    private JobConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, ENV::get, Path.of("/nonexistent-base"), HOSTS, warnings::add);
    }

    private List<String> problems(String yaml) {
        ConfigException[] caught = new ConfigException[1];
        assertThatThrownBy(() -> parse(yaml)).isInstanceOfSatisfying(ConfigException.class, e -> caught[0] = e);
        return caught[0].problems();
    }

    /** Streams 1001.. each with one endpoint (YAML flow mappings), after {@code top} (top-level keys). */
    private static String config(String top, String... endpoints) {
        StringBuilder sb = new StringBuilder("""
                source:
                  bootstrap_servers: localhost:9092
                  topics: {http: edge-http-events}
                dead_letter:
                  blocks_path: file:///tmp/dl
                """).append(top).append("streams:\n");
        for (int i = 0; i < endpoints.length; i++) {
            sb.append("  - {id: ").append(1001 + i).append(", name: s").append(i)
                    .append(", client: c1, template_id: 184, domains: [a.example], endpoint: ").append(endpoints[i]).append("}\n");
        }
        return sb.toString();
    }

    private static String http(String url) {
        return "{endpoint_type: standard, url: '" + url + "'}";
    }

    @Test
    void everyKindOfInternalAddressIsRefusedAtTheEndpointsPathNamingStreamHostAddressAndRule() {
        List<String> problems = problems(config("",
                http("http://169.254.169.254/latest/meta-data/"),
                http("http://127.0.0.1:8081/jobs"),
                http("http://10.0.0.1/in"),
                http("http://172.16.5.4/in"),
                http("http://192.168.0.10/in"),
                http("http://100.64.1.1/in"),
                http("http://100.100.100.200/latest/meta-data"),
                http("http://0.0.0.0:8081/"),
                http("http://224.0.0.251/"),
                http("http://255.255.255.255/"),
                http("http://[::1]:8081/"),
                http("http://[::]/"),
                http("http://[fd00:ec2::254]/latest/meta-data/"),
                http("http://[fc00::5]/"),
                http("http://[fe80::1]/"),
                http("http://[::ffff:127.0.0.1]:8081/"),
                http("http://[64:ff9b::a9fe:a9fe]/"),
                http("http://[2002:a00:1::1]/"),
                http("http://localhost:8081/"),
                http("http://metadata.internal/computeMetadata/v1/")));
        assertThat(problems).hasSize(20);
        assertThat(problems.get(0)).isEqualTo("streams[0].endpoint.url: stream 1001: host 169.254.169.254 is a link-local / cloud"
                + " metadata address (AWS, GCP, Azure, OpenStack, Oracle and others); allow it in allowed_networks to use it");
        assertThat(problems.get(1)).isEqualTo(
                "streams[1].endpoint.url: stream 1002: host 127.0.0.1 is a loopback address; allow it in allowed_networks to use it");
        assertThat(problems.get(2)).contains("host 10.0.0.1 is a private (RFC 1918) address");
        assertThat(problems.get(3)).contains("host 172.16.5.4 is a private (RFC 1918) address");
        assertThat(problems.get(4)).contains("host 192.168.0.10 is a private (RFC 1918) address");
        assertThat(problems.get(5)).contains("host 100.64.1.1 is a carrier-grade NAT (100.64.0.0/10) address");
        assertThat(problems.get(6)).contains("host 100.100.100.200 is a carrier-grade NAT (100.64.0.0/10) / cloud metadata address (Alibaba Cloud)");
        assertThat(problems.get(7)).contains("host 0.0.0.0 is an unspecified (0.0.0.0/8) address");
        assertThat(problems.get(8)).contains("host 224.0.0.251 is a multicast address");
        assertThat(problems.get(9)).contains("host 255.255.255.255 is a broadcast address");
        assertThat(problems.get(10)).isEqualTo(
                "streams[10].endpoint.url: stream 1011: host ::1 is a loopback address; allow it in allowed_networks to use it");
        assertThat(problems.get(11)).contains("host :: is an unspecified address");
        assertThat(problems.get(12)).contains("host fd00:ec2::254 is a private (unique local, fc00::/7) / cloud metadata address (AWS IPv6)");
        assertThat(problems.get(13)).contains("host fc00::5 is a private (unique local, fc00::/7) address");
        assertThat(problems.get(14)).contains("host fe80::1 is a link-local address");
        assertThat(problems.get(15)).contains("stream 1016: host ::ffff:127.0.0.1 resolves to 127.0.0.1, a loopback address");
        assertThat(problems.get(16)).contains("host 64:ff9b::a9fe:a9fe is a NAT64 (64:ff9b::/96) address of 169.254.169.254, a link-local / cloud metadata address");
        assertThat(problems.get(17)).contains("host 2002:a00:1::1 is a 6to4 (2002::/16) address of 10.0.0.1, a private (RFC 1918) address");
        assertThat(problems.get(18)).matches("streams\\[18]\\.endpoint\\.url: stream 1019: host localhost resolves to (127\\.0\\.0\\.1|::1),"
                + " a loopback address; allow it in allowed_networks to use it");
        assertThat(problems.get(19)).isEqualTo("streams[19].endpoint.url: stream 1020: host metadata.internal resolves to"
                + " 169.254.169.254, a link-local / cloud metadata address (AWS, GCP, Azure, OpenStack, Oracle and others);"
                + " allow it in allowed_networks to use it");
    }

    @Test
    void s3HostsAndEveryKafkaBootstrapServerAreCheckedToo() {
        String s3 = "{endpoint_type: s3, host_url: 'http://intranet.example:9000', bucket_name: edge-logs, region: us-east-1,"
                + " access_key: AKIA-SEE-ME, secret_key: s3-secret-never-shown}";
        String kafka = "{endpoint_type: kafka, bootstrap_servers: 'public.example:9092,[::1]:9093,localhost:9094', kafka_topic: t,"
                + " sasl: {mechanism: PLAIN, username: edge, password: sasl-secret-never-shown}}";
        String headers = "{endpoint_type: standard, url: 'https://metadata.internal/in', headers: {Authorization: 'Bearer header-secret-never-shown'}}";
        List<String> problems = problems(config("", s3, kafka, headers));
        assertThat(problems).hasSize(4);
        assertThat(problems.get(0)).isEqualTo("streams[0].endpoint.host_url: stream 1001: host intranet.example resolves to 10.20.30.40,"
                + " a private (RFC 1918) address; allow it in allowed_networks to use it");
        assertThat(problems.get(1)).isEqualTo("streams[1].endpoint.bootstrap_servers: stream 1002: broker [::1]:9093: host ::1 is a"
                + " loopback address; allow it in allowed_networks to use it");
        assertThat(problems.get(2)).startsWith("streams[1].endpoint.bootstrap_servers: stream 1002: broker localhost:9094: host localhost resolves to ");
        assertThat(problems.get(3)).startsWith("streams[2].endpoint.url: stream 1003: host metadata.internal resolves to 169.254.169.254");
        assertThat(String.join("\n", problems)).doesNotContain("never-shown");
    }

    @Test
    void allowedNetworksLetTheOperatorsOwnAddressesThrough() throws Exception {
        JobConfig c = parse(config("allowed_networks: [\"127.0.0.0/8\", \"::1/128\", 10.20.0.0/16]\n",
                http("http://127.0.0.1:8081/in"), http("http://localhost:8081/in"), http("http://[::1]/in"),
                "{endpoint_type: s3, host_url: 'http://intranet.example:9000', bucket_name: edge-logs, region: us-east-1,"
                        + " access_key: a, secret_key: s}",
                "{endpoint_type: kafka, bootstrap_servers: 'localhost:9092,127.0.0.1:9093', kafka_topic: t}"));
        assertThat(c.addressPolicy()).isEqualTo(AddressPolicy.allowing("127.0.0.0/8", "::1/128", "10.20.0.0/16"));
        assertThat(c.streams()).hasSize(5);
        assertThat(warnings).isEmpty();

        // Only what is listed: the metadata address stays refused.
        assertThat(problems(config("allowed_networks: [\"127.0.0.0/8\"]\n", http("http://metadata.internal/"))))
                .singleElement().asString().startsWith("streams[0].endpoint.url: stream 1001: host metadata.internal resolves to 169.254.169.254");
    }

    @Test
    void withoutAllowedNetworksNothingSpecialIsAllowedAndPublicHostsPass() throws Exception {
        JobConfig c = parse(config("", http("https://public.example/in"), http("https://93.184.215.14/in")));
        assertThat(c.addressPolicy()).isEqualTo(AddressPolicy.PUBLIC_ONLY);
        assertThat(c.addressPolicy().allowedNetworks()).isEmpty();
    }

    @Test
    void allowedNetworksAreValidatedEachAtItsPath() {
        assertThat(problems(config("allowed_networks: [\"10.0.0.1/8\", \"localhost\", 127.0.0.0/8, \"127.0.0.0/8\", 7, \"::1/129\"]\n",
                http("https://public.example/in")))).containsExactly(
                "allowed_networks[0]: '10.0.0.1/8' has address bits set past /8 (did you mean 10.0.0.0/8?)",
                "allowed_networks[1]: 'localhost' is not an IPv4 or IPv6 network (write 10.0.0.0/8, fd00::/8 or one address such as 127.0.0.1)",
                "allowed_networks[3]: '127.0.0.0/8' is listed twice",
                "allowed_networks[4]: must be a network such as 127.0.0.0/8 or ::1/128 (quoted), was an integer",
                "allowed_networks[5]: '::1/129' has a prefix length that is not 0 to 128");
        assertThat(problems(config("allowed_networks: 127.0.0.0/8\n", http("https://public.example/in"))))
                .containsExactly("allowed_networks: must be a list, was a string");
        assertThat(problems(config("allowed_network: []\n", http("https://public.example/in"))))
                .containsExactly("allowed_network: unknown key (did you mean allowed_networks?)");
    }

    @Test
    void aHostThatDoesNotResolveIsAWarningNotARefusal() throws Exception {
        JobConfig c = parse(config("", http("https://no-such-host.invalid/a"), http("https://no-such-host.invalid/b"),
                http("https://public.example/in")));
        assertThat(c.streams()).hasSize(3);
        assertThat(warnings).singleElement().asString()
                .startsWith("streams[0].endpoint.url: stream 1001: host no-such-host.invalid does not resolve now (")
                .contains("(nor for 1 more endpoint(s))")
                .endsWith("accepted, since DNS may be down for a while: nothing is sent until it resolves, and each connection"
                        + " checks its addresses again");
    }

    @Test
    void theSourceClusterIsTheOperatorsAndNotChecked() throws Exception {
        // source.bootstrap_servers (localhost above) and the dead-letter store are the operator's, not a customer's.
        assertThat(parse(config("", http("https://public.example/in"))).source().bootstrapServers()).isEqualTo("localhost:9092");
    }

    @Test
    void inactiveStreamsAreCheckedToo() {
        String yaml = config("", http("http://127.0.0.1/in")).replace("client: c1,", "client: c1, active: false,");
        assertThat(problems(yaml)).singleElement().asString().startsWith("streams[0].endpoint.url: stream 1001: host 127.0.0.1 is");
    }

    @Test
    void otherProblemsAreListedWithTheRefusals() {
        List<String> problems = problems(config("checkpoint_interval: 1h\n", http("http://127.0.0.1/in")));
        assertThat(problems).hasSize(2);
        assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("checkpoint_interval: must be between"));
        assertThat(problems).anySatisfy(p -> assertThat(p).startsWith("streams[0].endpoint.url: stream 1001: host 127.0.0.1"));
    }

    @Test
    void manyStreamsOnFewHostsResolveEachHostOnce() throws Exception {
        int[] lookups = new int[1];
        AddressPolicy.Resolver counting = name -> {
            synchronized (lookups) {
                lookups[0]++;
            }
            return HOSTS.resolve(name);
        };
        String[] endpoints = new String[200];
        for (int i = 0; i < endpoints.length; i++) {
            endpoints[i] = http("https://" + (i % 2 == 0 ? "public.example" : "PUBLIC.example") + "/c" + i);
        }
        ConfigLoader.parse(config("", endpoints), Map.<String, String>of()::get, Path.of("/"), counting, warnings::add);
        assertThat(lookups[0]).isEqualTo(1);
    }
}
