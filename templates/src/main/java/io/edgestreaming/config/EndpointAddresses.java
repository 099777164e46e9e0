package io.edgestreaming.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * The load-time half of the {@link AddressPolicy}: reads {@code allowed_networks} and checks the host of
 * every endpoint (HTTP {@code url}, S3 {@code host_url}, each Kafka {@code bootstrap_servers} entry) of
 * every stream, inactive ones too (their restored blocks are still delivered). A refused address is a
 * problem at the endpoint's path. A host that does not resolve is only a warning: a customer's DNS may
 * be down for a while, and one customer must not stop the job of all of them from starting; it can
 * connect nowhere until it resolves, and every connection checks it again.
 */
final class EndpointAddresses {
    /** Distinct hosts are looked up in parallel: 20,000 streams may name as many hosts. */
    private static final int LOOKUP_THREADS = 16;

    private EndpointAddresses() {}

    /** {@code allowed_networks}: a list of CIDR networks; the policy of the valid ones. */
    static AddressPolicy allowedNetworks(Section top) {
        List<JsonNode> nodes = top.list("allowed_networks");
        if (nodes == null) {
            return AddressPolicy.PUBLIC_ONLY;
        }
        Set<Cidr> networks = new LinkedHashSet<>();
        for (int i = 0; i < nodes.size(); i++) {
            String path = top.pathOf("allowed_networks") + "[" + i + "]";
            JsonNode n = nodes.get(i);
            if (!n.isTextual()) {
                top.problems().add(path, "must be a network such as 127.0.0.0/8 or ::1/128 (quoted), was " + Section.kind(n));
                continue;
            }
            References.Text t = top.references().resolve(n.textValue(), path, top.problems());
            if (t == null) {
                continue;
            }
            try {
                if (!networks.add(Cidr.parse(t.value()))) {
                    top.problems().add(path, t.shown() + " is listed twice");
                }
            } catch (IllegalArgumentException e) {
                top.problems().add(path, e.getMessage());
            }
        }
        return AddressPolicy.allowing(List.copyOf(networks));
    }

    /** One host an endpoint connects to, at its path. */
    private record Target(String path, long streamId, String broker, String host) {}

    /** What a lookup found: a refusal, or that the host did not resolve (why), or neither (allowed). */
    private record Lookup(AddressPolicy.Refusal refusal, String unresolved) {}

    static void check(List<StreamConfig> streams, AddressPolicy policy, AddressPolicy.Resolver resolver, Problems problems,
            Consumer<String> warnings) {
        List<Target> targets = targets(streams);
        Map<String, Lookup> lookups = lookUp(targets, policy, resolver);
        Map<String, List<Target>> unresolved = new LinkedHashMap<>();
        for (Target t : targets) {
            Lookup l = lookups.get(key(t.host()));
            if (l.refusal() != null) {
                problems.add(t.path(), "stream " + t.streamId() + ": " + (t.broker() == null ? "" : "broker " + t.broker() + ": ")
                        + l.refusal().message());
            } else if (l.unresolved() != null) {
                unresolved.computeIfAbsent(key(t.host()), k -> new ArrayList<>()).add(t);
            }
        }
        for (List<Target> same : unresolved.values()) {
            Target first = same.get(0);
            warnings.accept(first.path() + ": stream " + first.streamId() + ": host " + first.host() + " does not resolve now ("
                    + lookups.get(key(first.host())).unresolved() + ")" + (same.size() > 1 ? " (nor for " + (same.size() - 1)
                    + " more endpoint(s))" : "") + "; accepted, since DNS may be down for a while: nothing is sent until it"
                    + " resolves, and each connection checks its addresses again");
        }
    }

    private static List<Target> targets(List<StreamConfig> streams) {
        List<Target> targets = new ArrayList<>();
        for (int i = 0; i < streams.size(); i++) {
            StreamConfig s = streams.get(i);
            if (s == null) {
                continue;
            }
            String at = "streams[" + i + "].endpoint.";
            if (s.endpoint() instanceof HttpEndpoint h) {
                add(targets, at + "url", s.id(), null, h.url());
            } else if (s.endpoint() instanceof S3Endpoint s3) {
                add(targets, at + "host_url", s.id(), null, s3.hostUrl());
            } else if (s.endpoint() instanceof KafkaEndpoint k) {
                for (String entry : k.bootstrapServers().split(",")) {
                    String server = entry.trim();
                    int colon = server.lastIndexOf(':');
                    if (colon > 0) {
                        targets.add(new Target(at + "bootstrap_servers", s.id(), server, server.substring(0, colon)));
                    }
                }
            }
        }
        return targets;
    }

    private static void add(List<Target> targets, String path, long streamId, String broker, URI uri) {
        if (uri != null && uri.getHost() != null) {
            targets.add(new Target(path, streamId, broker, uri.getHost()));
        }
    }

    private static String key(String host) {
        return AddressPolicy.unbracketed(host).toLowerCase(Locale.ROOT);
    }

    private static Map<String, Lookup> lookUp(List<Target> targets, AddressPolicy policy, AddressPolicy.Resolver resolver) {
        Map<String, String> hosts = new LinkedHashMap<>();
        for (Target t : targets) {
            hosts.putIfAbsent(key(t.host()), t.host());
        }
        Map<String, Lookup> out = new LinkedHashMap<>();
        if (hosts.size() <= 1) {
            hosts.forEach((k, h) -> out.put(k, lookUp(h, policy, resolver)));
            return out;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(LOOKUP_THREADS, hosts.size()), r -> {
            Thread t = new Thread(r, "config-address-lookup");
            t.setDaemon(true);
            return t;
        });
        try {
            Map<String, Future<Lookup>> futures = new LinkedHashMap<>();
            hosts.forEach((k, h) -> futures.put(k, pool.submit(() -> lookUp(h, policy, resolver))));
            for (Map.Entry<String, Future<Lookup>> f : futures.entrySet()) {
                out.put(f.getKey(), f.getValue().get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while resolving endpoint hosts", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("resolving endpoint hosts failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    private static Lookup lookUp(String host, AddressPolicy policy, AddressPolicy.Resolver resolver) {
        try {
            return new Lookup(policy.check(host, resolver), null);
        } catch (UnknownHostException e) {
            return new Lookup(null, e.getMessage() == null ? "unknown host" : e.getMessage());
        } catch (RuntimeException e) {
            return new Lookup(null, e.getClass().getSimpleName());
        }
    }
}
