package io.edgestreaming.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which addresses endpoints may reach: every class of special address, IPv6 forms that carry IPv4, the allowlist. */
class AddressPolicyTest {
    private static final AddressPolicy STRICT = AddressPolicy.PUBLIC_ONLY;

    private static String rule(AddressPolicy policy, String literal) throws UnknownHostException {
        return policy.ruleBroken(InetAddress.getByName(literal));
    }

    @Test
    void everyClassOfSpecialIpv4AddressIsRefusedWithItsRule() throws Exception {
        Map<String, String> refused = Map.ofEntries(
                Map.entry("127.0.0.1", "a loopback address"),
                Map.entry("127.255.0.9", "a loopback address"),
                Map.entry("10.1.2.3", "a private (RFC 1918) address"),
                Map.entry("172.16.0.1", "a private (RFC 1918) address"),
                Map.entry("172.31.255.254", "a private (RFC 1918) address"),
                Map.entry("192.168.1.1", "a private (RFC 1918) address"),
                Map.entry("169.254.1.1", "a link-local address"),
                Map.entry("169.254.169.254", "a link-local / cloud metadata address (AWS, GCP, Azure, OpenStack, Oracle and others)"),
                Map.entry("169.254.170.2", "a link-local / cloud metadata address (AWS ECS task credentials)"),
                Map.entry("100.64.0.1", "a carrier-grade NAT (100.64.0.0/10) address"),
                Map.entry("100.100.100.200", "a carrier-grade NAT (100.64.0.0/10) / cloud metadata address (Alibaba Cloud)"),
                Map.entry("192.0.0.192", "an IETF special-purpose (192.0.0.0/24) / cloud metadata address (Oracle Cloud)"),
                Map.entry("0.0.0.0", "an unspecified (0.0.0.0/8) address"),
                Map.entry("0.1.2.3", "an unspecified (0.0.0.0/8) address"),
                Map.entry("224.0.0.1", "a multicast address"),
                Map.entry("239.255.255.250", "a multicast address"),
                Map.entry("255.255.255.255", "a broadcast address"),
                Map.entry("240.0.0.1", "a reserved (240.0.0.0/4) address"),
                Map.entry("198.18.0.1", "a benchmarking (198.18.0.0/15) address"));
        for (Map.Entry<String, String> e : refused.entrySet()) {
            assertThat(rule(STRICT, e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
        }
    }

    @Test
    void publicAddressesAndTheEdgesOfEachRangePass() throws Exception {
        for (String ok : List.of("8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.0", "100.63.255.255", "100.128.0.0",
                "169.253.255.255", "192.167.255.255", "192.169.0.0", "11.0.0.0", "126.255.255.255", "128.0.0.0",
                "223.255.255.255", "2606:4700:4700::1111", "2001:4860:4860::8888", "64:ff9b::808:808", "2002:808:808::1")) {
            assertThat(rule(STRICT, ok)).as(ok).isNull();
        }
    }

    @Test
    void everyClassOfSpecialIpv6AddressIsRefused() throws Exception {
        Map<String, String> refused = Map.of(
                "::1", "a loopback address",
                "::", "an unspecified address",
                "fc00::1", "a private (unique local, fc00::/7) address",
                "fdff:ffff::1", "a private (unique local, fc00::/7) address",
                "fd00:ec2::254", "a private (unique local, fc00::/7) / cloud metadata address (AWS IPv6)",
                "fe80::1", "a link-local address",
                "febf::1", "a link-local address",
                "fec0::1", "a site-local (fec0::/10) address",
                "ff02::1", "a multicast address",
                "64:ff9b:1::a00:1", "a local-use NAT64 (64:ff9b:1::/48) address");
        for (Map.Entry<String, String> e : refused.entrySet()) {
            assertThat(rule(STRICT, e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
        }
    }

    @Test
    void ipv6FormsCarryingARefusedIpv4AddressAreRefusedForIt() throws Exception {
        // The JDK turns ::ffff:a.b.c.d into an IPv4 address itself; the same bytes as an Inet6Address are judged alike.
        assertThat(rule(STRICT, "::ffff:127.0.0.1")).isEqualTo("a loopback address");
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = (byte) 169;
        mapped[13] = (byte) 254;
        mapped[14] = (byte) 169;
        mapped[15] = (byte) 254;
        assertThat(STRICT.ruleBroken(java.net.Inet6Address.getByAddress(null, mapped, -1)))
                .startsWith("an IPv4-mapped address of 169.254.169.254, a link-local / cloud metadata address");
        assertThat(rule(STRICT, "::127.0.0.1")).isEqualTo("an IPv4-compatible address of 127.0.0.1, a loopback address");
        assertThat(rule(STRICT, "::2")).isEqualTo("an IPv4-compatible address of 0.0.0.2, an unspecified (0.0.0.0/8) address");
        assertThat(rule(STRICT, "64:ff9b::7f00:1")).isEqualTo("a NAT64 (64:ff9b::/96) address of 127.0.0.1, a loopback address");
        assertThat(rule(STRICT, "64:ff9b::a9fe:a9fe"))
                .startsWith("a NAT64 (64:ff9b::/96) address of 169.254.169.254, a link-local / cloud metadata address");
        assertThat(rule(STRICT, "2002:a00:1::1")).isEqualTo("a 6to4 (2002::/16) address of 10.0.0.1, a private (RFC 1918) address");
        assertThat(rule(STRICT, "2002:7f00:1::")).isEqualTo("a 6to4 (2002::/16) address of 127.0.0.1, a loopback address");
    }

    @Test
    void allowedNetworksLetTheirAddressesThroughAndNothingElse() throws Exception {
        AddressPolicy loopback = AddressPolicy.allowing("127.0.0.0/8", "::1/128");
        assertThat(rule(loopback, "127.0.0.1")).isNull();
        assertThat(rule(loopback, "127.9.9.9")).isNull();
        assertThat(rule(loopback, "::1")).isNull();
        assertThat(rule(loopback, "::127.0.0.1")).as("an IPv6 form of an allowed IPv4 address").isNull();
        assertThat(rule(loopback, "10.0.0.1")).isEqualTo("a private (RFC 1918) address");
        assertThat(rule(loopback, "169.254.169.254")).startsWith("a link-local / cloud metadata address");

        AddressPolicy oneHost = AddressPolicy.allowing("10.1.2.3");
        assertThat(rule(oneHost, "10.1.2.3")).isNull();
        assertThat(rule(oneHost, "10.1.2.4")).isEqualTo("a private (RFC 1918) address");
        assertThat(rule(AddressPolicy.allowing("fd00::/8"), "fd12::1")).isNull();
        assertThat(rule(AddressPolicy.allowing("fd00::/8"), "fe80::1")).isEqualTo("a link-local address");
        assertThat(rule(AddressPolicy.allowing("0.0.0.0/0", "::/0"), "169.254.169.254")).as("the check turned off").isNull();
    }

    @Test
    void hostNamesAreResolvedAndEveryAddressMustPass() throws Exception {
        AddressPolicy.Refusal localhost = STRICT.check("localhost");
        assertThat(localhost.host()).isEqualTo("localhost");
        assertThat(localhost.message()).matches(
                "host localhost resolves to (127\\.0\\.0\\.1|::1), a loopback address; allow it in allowed_networks to use it");
        assertThat(AddressPolicy.allowing("127.0.0.0/8", "::1/128").check("localhost")).isNull();

        assertThat(STRICT.check("127.0.0.1").message())
                .isEqualTo("host 127.0.0.1 is a loopback address; allow it in allowed_networks to use it");
        assertThat(STRICT.check("[::1]").message()).isEqualTo("host ::1 is a loopback address; allow it in allowed_networks to use it");
        // Forms the JDK reads as IPv4 literals are judged by the address they name.
        assertThat(STRICT.check("127.1").message()).startsWith("host 127.1 resolves to 127.0.0.1, a loopback address");
        assertThat(STRICT.check("2130706433").message()).startsWith("host 2130706433 resolves to 127.0.0.1");

        // A name with one public and one internal address (as DNS rebinding serves): refused.
        AddressPolicy.Resolver hosts = name -> name.equals("rebind.example")
                ? new InetAddress[] {InetAddress.getByName("93.184.215.14"), InetAddress.getByName("169.254.169.254")}
                : AddressPolicy.SYSTEM.resolve(name);
        assertThat(STRICT.check("rebind.example", hosts).message()).startsWith(
                "host rebind.example resolves to 169.254.169.254, a link-local / cloud metadata address");
        assertThatThrownBy(() -> STRICT.check("no-such-host.invalid")).isInstanceOf(UnknownHostException.class);
    }

    @Test
    void resolveForClientHooksThrowsTheRefusal() throws Exception {
        assertThatThrownBy(() -> STRICT.resolve("localhost"))
                .isInstanceOfSatisfying(AddressPolicy.RefusedException.class, e -> {
                    assertThat(e.refusal().host()).isEqualTo("localhost");
                    assertThat(e.getMessage()).startsWith("address refused: host localhost resolves to ");
                })
                .isInstanceOf(UnknownHostException.class);
        assertThat(AddressPolicy.allowing("127.0.0.0/8", "::1/128").resolve("localhost")).isNotEmpty();
    }

    @Test
    void networksAreParsedStrictly() {
        assertThat(Cidr.parse("10.0.0.0/8").toString()).isEqualTo("10.0.0.0/8");
        assertThat(Cidr.parse(" 127.0.0.1 ").toString()).isEqualTo("127.0.0.1/32");
        assertThat(Cidr.parse("FD00:0EC2:0:0:0:0:0:0/32").toString()).isEqualTo("fd00:ec2::/32");
        assertThat(Cidr.parse("::1").toString()).isEqualTo("::1/128");
        assertThat(Cidr.parse("0.0.0.0/0").toString()).isEqualTo("0.0.0.0/0");
        Map<String, String> bad = Map.of(
                "10.0.0.1/8", "'10.0.0.1/8' has address bits set past /8 (did you mean 10.0.0.0/8?)",
                "10.0.0.0/33", "'10.0.0.0/33' has a prefix length that is not 0 to 32",
                "fd00::/129", "'fd00::/129' has a prefix length that is not 0 to 128",
                "10.0.0.0/x", "'10.0.0.0/x' has a prefix length that is not 0 to 32",
                "localhost", "'localhost' is not an IPv4 or IPv6 network (write 10.0.0.0/8, fd00::/8 or one address such as 127.0.0.1)",
                "010.0.0.0/8", "'010.0.0.0/8' is not an IPv4 or IPv6 network (write 10.0.0.0/8, fd00::/8 or one address such as 127.0.0.1)",
                "256.0.0.0/8", "'256.0.0.0/8' is not an IPv4 or IPv6 network (write 10.0.0.0/8, fd00::/8 or one address such as 127.0.0.1)",
                "fe80::1%eth0", "'fe80::1%eth0' is not an IPv4 or IPv6 network (write 10.0.0.0/8, fd00::/8 or one address such as 127.0.0.1)",
                "::ffff:10.0.0.0/104", "'::ffff:10.0.0.0/104' is not an IPv4 or IPv6 network (write 10.0.0.0/8, fd00::/8 or one address such as 127.0.0.1)");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            assertThatThrownBy(() -> Cidr.parse(e.getKey())).as(e.getKey())
                    .isInstanceOf(IllegalArgumentException.class).hasMessage(e.getValue());
        }
    }

    @Test
    void thePolicyTravelsWithTheJobGraph() throws Exception {
        AddressPolicy policy = AddressPolicy.allowing("127.0.0.0/8", "fd00::/8");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(policy);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            AddressPolicy copy = (AddressPolicy) in.readObject();
            assertThat(copy).isEqualTo(policy);
            assertThat(rule(copy, "127.0.0.1")).isNull();
            assertThat(copy.toString()).isEqualTo("AddressPolicy[allowed_networks=[127.0.0.0/8, fd00::/8]]");
        }
    }
}
