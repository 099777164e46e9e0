package io.edgestreaming.config;

import java.io.Serializable;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One network of {@code allowed_networks}: an IPv4 or IPv6 address and a prefix length
 * ({@code 10.0.0.0/8}, {@code fd00::/8}; a bare address is the one host). Parsed strictly: literals
 * only (never a DNS lookup), dotted-quad IPv4 without leading zeros, no bits set past the prefix.
 */
public final class Cidr implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");

    private final byte[] network;
    private final int bits;

    private Cidr(byte[] network, int bits) {
        this.network = network;
        this.bits = bits;
    }

    /**
     * Parses {@code address/bits} or a bare address.
     *
     * @throws IllegalArgumentException saying what is wrong, for a configuration problem
     */
    public static Cidr parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        String addressText = slash < 0 ? t : t.substring(0, slash);
        byte[] address = literal(addressText);
        if (address == null) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 or IPv6 network (write 10.0.0.0/8, fd00::/8"
                    + " or one address such as 127.0.0.1)");
        }
        int max = address.length * 8;
        int bits = max;
        if (slash >= 0) {
            String b = t.substring(slash + 1);
            bits = b.matches("\\d{1,3}") ? Integer.parseInt(b) : -1;
            if (bits < 0 || bits > max) {
                throw new IllegalArgumentException("'" + text + "' has a prefix length that is not 0 to " + max);
            }
        }
        byte[] masked = mask(address, bits);
        if (!Arrays.equals(masked, address)) {
            throw new IllegalArgumentException("'" + text + "' has address bits set past /" + bits + " (did you mean "
                    + SpecialAddresses.format(masked) + "/" + bits + "?)");
        }
        return new Cidr(masked, bits);
    }

    /** The bytes of an IPv4 or IPv6 literal, or null; IPv4-mapped IPv6 forms are refused (write them as IPv4). */
    private static byte[] literal(String s) {
        Matcher m = IPV4.matcher(s);
        if (m.matches()) {
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                String part = m.group(i + 1);
                int v = Integer.parseInt(part);
                if (v > 255 || (part.length() > 1 && part.charAt(0) == '0')) {
                    return null; // leading zeros read as octal elsewhere: ambiguous
                }
                b[i] = (byte) v;
            }
            return b;
        }
        if (s.indexOf(':') < 0 || !IPV6_CHARS.matcher(s).matches()) {
            return null;
        }
        try {
            // Starts with a hex digit or ':' and contains ':': the JDK parses it as a literal, never looks it up.
            InetAddress a = InetAddress.getByName(s);
            return a instanceof Inet6Address ? a.getAddress() : null;
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static byte[] mask(byte[] address, int bits) {
        byte[] out = address.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            out[i] &= (byte) (0xff << (8 - keep));
        }
        return out;
    }

    /** Whether {@code address} is in this network (same family only). */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        return a.length == network.length && Arrays.equals(mask(a, bits), network);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.bits == bits && Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(network) + bits;
    }

    /** Canonical text, e.g. {@code 127.0.0.0/8}, {@code ::1/128}. */
    @Override
    public String toString() {
        return SpecialAddresses.format(network) + "/" + bits;
    }
}
