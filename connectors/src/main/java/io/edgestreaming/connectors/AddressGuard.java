package io.edgestreaming.connectors;

import io.edgestreaming.config.AddressPolicy;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection-time half of the {@link AddressPolicy}, shared by the transports: every connection to
 * an endpoint host resolves it again (DNS answers change after the configuration was loaded) and is
 * refused if any address is not allowed. A refusal is a destination failure like an unreachable host
 * (its blocks wait and are retried with backoff, then dead-lettered after max_retry_duration), never a
 * refusal of the block. Logged once when a host becomes refused and once when it is allowed again.
 */
public final class AddressGuard {
    private static final Logger LOG = LoggerFactory.getLogger(AddressGuard.class);

    private final AddressPolicy policy;
    private final String transport;
    /** Hosts refused at their last check; bounded by the configuration's hosts. */
    private final Map<String, Boolean> refused = new ConcurrentHashMap<>();

    /** @param transport names the transport in logs ({@code HTTP}, {@code S3}, {@code Kafka}) */
    public AddressGuard(AddressPolicy policy, String transport) {
        this.policy = policy == null ? AddressPolicy.PUBLIC_ONLY : policy;
        this.transport = transport;
    }

    public AddressPolicy policy() {
        return policy;
    }

    /**
     * Resolves {@code host} and checks every address: null when all are allowed, else the reason for an
     * outcome ({@code address refused: host ... resolves to ..., a loopback address; ...}). Blocks for
     * the lookup.
     *
     * @throws UnknownHostException when the host does not resolve
     */
    public String refusal(String host) throws UnknownHostException {
        AddressPolicy.Refusal r = policy.check(host);
        noteState(host, r);
        return r == null ? null : "address refused: " + r.message();
    }

    /**
     * For a client's DNS hook: the addresses of {@code host}, all allowed, so the address connected is
     * the address checked.
     *
     * @throws AddressPolicy.RefusedException when one is not allowed
     */
    public InetAddress[] resolve(String host) throws UnknownHostException {
        try {
            InetAddress[] addresses = policy.resolve(host);
            noteState(host, null);
            return addresses;
        } catch (AddressPolicy.RefusedException e) {
            noteState(host, e.refusal());
            throw e;
        }
    }

    private void noteState(String host, AddressPolicy.Refusal refusal) {
        if (refusal != null) {
            if (refused.put(host, Boolean.TRUE) == null) {
                LOG.warn("{}: connections to host {} refused by the address policy ({}); its destinations wait and retry",
                        transport, host, refusal.message());
            }
        } else if (refused.remove(host) != null) {
            LOG.info("{}: host {} is allowed by the address policy again", transport, host);
        }
    }
}
