package io.edgestreaming.config;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;

/**
 * The addresses a customer's endpoint must not reach unless the operator allows them: everything that
 * is not the public internet (loopback, private, link-local, CGNAT, multicast, unspecified, broadcast,
 * reserved) and the cloud metadata services. IPv6 forms that carry an IPv4 address (IPv4-mapped and
 * -compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by that IPv4 address.
 */
final class SpecialAddresses {
    private SpecialAddresses() {}

    /** Cloud metadata services; named so a refusal says why the address matters. */
    private static final Map<String, String> METADATA = Map.of(
            "169.254.169.254", "AWS, GCP, Azure, OpenStack, Oracle and others",
            "169.254.170.2", "AWS ECS task credentials",
            "169.254.170.23", "AWS EKS pod identity",
            "100.100.100.200", "Alibaba Cloud",
            "192.0.0.192", "Oracle Cloud",
            "fd00:ec2::254", "AWS IPv6",
            "fd00:ec2::23", "AWS EKS pod identity, IPv6");

    /** An IPv6 address that carries an IPv4 one: how ({@code form}) and which. */
    record Embedded(String form, Inet4Address ipv4) {}

    /** The IPv4 address inside an IPv6 form that carries one, or null. */
    static Embedded embedded(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length != 16) {
            return null;
        }
        if (zero(a, 0, 10) && (a[10] & 0xff) == 0xff && (a[11] & 0xff) == 0xff) {
            return new Embedded("IPv4-mapped", v4(a, 12));
        }
        if (zero(a, 0, 12) && !(zero(a, 12, 15) && (a[15] == 0 || a[15] == 1))) {
            return new Embedded("IPv4-compatible", v4(a, 12)); // :: and ::1 are their own cases
        }
        if (a[0] == 0 && a[1] == 0x64 && (a[2] & 0xff) == 0xff && (a[3] & 0xff) == 0x9b && zero(a, 4, 12)) {
            return new Embedded("NAT64 (64:ff9b::/96)", v4(a, 12));
        }
        if (a[0] == 0x20 && a[1] == 0x02) {
            return new Embedded("6to4 (2002::/16)", v4(a, 2));
        }
        return null;
    }

    /**
     * What kind of special address this is ({@code "a loopback address"}), or null for a public one.
     * Forms carrying IPv4 are not looked into here (see {@link #embedded}).
     */
    static String rule(InetAddress address) {
        byte[] a = address.getAddress();
        String kind = a.length == 4 ? ipv4(a) : ipv6(a);
        if (kind == null) {
            return null;
        }
        String metadata = METADATA.get(format(a));
        return metadata != null ? article(kind) + " / cloud metadata address (" + metadata + ")" : article(kind) + " address";
    }

    private static String ipv4(byte[] a) {
        int v = ((a[0] & 0xff) << 24) | ((a[1] & 0xff) << 16) | ((a[2] & 0xff) << 8) | (a[3] & 0xff);
        if (in(v, 0x00000000, 8)) {
            return "unspecified (0.0.0.0/8)";
        } else if (in(v, 0x7f000000, 8)) {
            return "loopback";
        } else if (in(v, 0x0a000000, 8) || in(v, 0xac100000, 12) || in(v, 0xc0a80000, 16)) {
            return "private (RFC 1918)";
        } else if (in(v, 0x64400000, 10)) {
            return "carrier-grade NAT (100.64.0.0/10)";
        } else if (in(v, 0xa9fe0000, 16)) {
            return "link-local";
        } else if (in(v, 0xc0000000, 24)) {
            return "IETF special-purpose (192.0.0.0/24)";
        } else if (in(v, 0xc6120000, 15)) {
            return "benchmarking (198.18.0.0/15)";
        } else if (in(v, 0xe0000000, 4)) {
            return "multicast";
        } else if (v == 0xffffffff) {
            return "broadcast";
        } else if (in(v, 0xf0000000, 4)) {
            return "reserved (240.0.0.0/4)";
        }
        return null;
    }

    private static String ipv6(byte[] a) {
        int first = a[0] & 0xff;
        int second = a[1] & 0xff;
        if (zero(a, 0, 16)) {
            return "unspecified";
        } else if (zero(a, 0, 15) && a[15] == 1) {
            return "loopback";
        } else if ((first & 0xfe) == 0xfc) {
            return "private (unique local, fc00::/7)";
        } else if (first == 0xfe && (second & 0xc0) == 0x80) {
            return "link-local";
        } else if (first == 0xfe && (second & 0xc0) == 0xc0) {
            return "site-local (fec0::/10)";
        } else if (first == 0xff) {
            return "multicast";
        } else if (first == 0 && second == 0x64 && (a[2] & 0xff) == 0xff && (a[3] & 0xff) == 0x9b && a[4] == 0 && a[5] == 1) {
            return "local-use NAT64 (64:ff9b:1::/48)";
        }
        return null;
    }

    private static boolean in(int v, int network, int bits) {
        int mask = bits == 0 ? 0 : -1 << (32 - bits);
        return (v & mask) == network;
    }

    private static boolean zero(byte[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static Inet4Address v4(byte[] a, int at) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {a[at], a[at + 1], a[at + 2], a[at + 3]});
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are an IPv4 address", e);
        }
    }

    static String article(String kind) {
        return ("aeiouAEIOU".indexOf(kind.charAt(0)) >= 0 ? "an " : "a ") + kind;
    }

    /** {@code 127.0.0.1}, or IPv6 in its short form (RFC 5952: {@code fd00:ec2::254}, {@code ::1}). */
    static String format(byte[] a) {
        if (a.length == 4) {
            return (a[0] & 0xff) + "." + (a[1] & 0xff) + "." + (a[2] & 0xff) + "." + (a[3] & 0xff);
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((a[2 * i] & 0xff) << 8) | (a[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1; // a single zero group is not shortened
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLength - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(groups[i]));
        }
        return sb.toString();
    }

    static String format(InetAddress address) {
        return format(address.getAddress());
    }
}
