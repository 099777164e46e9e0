package io.edgestreaming.config;

import java.io.Serializable;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/**
 * Which addresses a stream's endpoint may connect to (against server-side request forgery: a customer
 * chooses endpoint addresses, and must not reach the job's own network, Flink's REST API or a cloud
 * metadata service through them). Every address that is not the public internet
 * ({@link SpecialAddresses}) is refused unless it lies in one of the operator's
 * {@code allowed_networks}. A host is refused when any address it resolves to is: the client may
 * connect to any of them.
 *
 * <p>The same check runs when the configuration is loaded and again before each connection, since DNS
 * answers change; see the transports for how each one applies it.
 */
public final class AddressPolicy implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Nothing allowed beyond public addresses: the default of a configuration without allowed_networks. */
    public static final AddressPolicy PUBLIC_ONLY = new AddressPolicy(List.of());

    /** Looks host names up; the JVM's resolver by default (and its cache). */
    @FunctionalInterface
    public interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    public static final Resolver SYSTEM = InetAddress::getAllByName;

    /**
     * Why a host may not be connected to. Names the host, one refused address and the rule; holds no
     * secret (a host is never one: URLs with credentials are refused at load).
     */
    public record Refusal(String host, String address, String rule) {
        /** {@code host metadata.internal resolves to 169.254.169.254, a link-local / cloud metadata address ...}. */
        public String message() {
            boolean literal = host.equalsIgnoreCase(address);
            return "host " + host + (literal ? " is " : " resolves to " + address + ", ") + rule
                    + "; allow it in allowed_networks to use it";
        }

        @Override
        public String toString() {
            return message();
        }
    }

    /** Thrown by {@link #resolve} for a refused host; an UnknownHostException so resolver hooks may throw it. */
    public static final class RefusedException extends UnknownHostException {
        private static final long serialVersionUID = 1L;
        private final transient Refusal refusal;

        public RefusedException(Refusal refusal) {
            super("address refused: " + refusal.message());
            this.refusal = refusal;
        }

        public Refusal refusal() {
            return refusal;
        }
    }

    private final List<Cidr> allowed;

    private AddressPolicy(List<Cidr> allowed) {
        this.allowed = List.copyOf(allowed);
    }

    public static AddressPolicy allowing(List<Cidr> networks) {
        return networks.isEmpty() ? PUBLIC_ONLY : new AddressPolicy(networks);
    }

    /** For runners and tests: {@code allowing("127.0.0.0/8", "::1/128")}; throws IllegalArgumentException on a bad network. */
    public static AddressPolicy allowing(String... networks) {
        return allowing(Arrays.stream(networks).map(Cidr::parse).toList());
    }

    public List<Cidr> allowedNetworks() {
        return allowed;
    }

    /** The rule {@code address} breaks ({@code "a loopback address"}), or null when it may be connected to. */
    public String ruleBroken(InetAddress address) {
        for (Cidr c : allowed) {
            if (c.contains(address)) {
                return null;
            }
        }
        SpecialAddresses.Embedded e = SpecialAddresses.embedded(address);
        if (e != null) {
            String inner = ruleBroken(e.ipv4());
            return inner == null ? null : SpecialAddresses.article(e.form()) + " address of "
                    + SpecialAddresses.format(e.ipv4()) + ", " + inner;
        }
        return SpecialAddresses.rule(address);
    }

    /** Resolves {@code host} with the JVM's resolver and checks every address; null when allowed. */
    public Refusal check(String host) throws UnknownHostException {
        return check(host, SYSTEM);
    }

    /**
     * Resolves {@code host} (a name or a literal, IPv6 with or without brackets) and checks every address.
     *
     * @return null when every address is allowed, else the first refused one
     * @throws UnknownHostException when it does not resolve
     */
    public Refusal check(String host, Resolver resolver) throws UnknownHostException {
        String h = unbracketed(host);
        InetAddress[] addresses = resolver.resolve(h);
        if (addresses == null || addresses.length == 0) {
            throw new UnknownHostException(h + ": no address");
        }
        for (InetAddress a : addresses) {
            String rule = ruleBroken(a);
            if (rule != null) {
                return new Refusal(h, SpecialAddresses.format(a), rule);
            }
        }
        return null;
    }

    /**
     * For a client's DNS hook: the addresses of {@code host}, every one of them allowed, so what the
     * client then connects to has been checked.
     *
     * @throws RefusedException when one is refused
     */
    public InetAddress[] resolve(String host) throws UnknownHostException {
        String h = unbracketed(host);
        InetAddress[] addresses = SYSTEM.resolve(h);
        for (InetAddress a : addresses) {
            String rule = ruleBroken(a);
            if (rule != null) {
                throw new RefusedException(new Refusal(h, SpecialAddresses.format(a), rule));
            }
        }
        return addresses;
    }

    /** The host of a URI ({@code [::1]} there) as resolvers take it. */
    static String unbracketed(String host) {
        return host.length() > 2 && host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AddressPolicy p && p.allowed.equals(allowed);
    }

    @Override
    public int hashCode() {
        return allowed.hashCode();
    }

    @Override
    public String toString() {
        return "AddressPolicy[allowed_networks=" + allowed + "]";
    }
}
