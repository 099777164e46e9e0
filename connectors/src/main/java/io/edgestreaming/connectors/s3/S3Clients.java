package io.edgestreaming.connectors.s3;

import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.connectors.AddressGuard;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.http.apache5.ProxyConfiguration;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Builds the SDK clients of one subtask's S3 destinations.
 *
 * <h2>Requests</h2>
 * One {@link S3Client} per destination (host, bucket, credentials), signed SigV4 for the configured
 * region with that destination's static credentials; path-style addressing except on AWS hosts
 * (virtual-hosted there, unless the bucket name has dots); HTTPS verified by the JDK trust store; SDK
 * retries off (the engine retries with backoff and circuit breaking); a hard per-call timeout of
 * {@code request_timeout}; no SDK "flexible checksums" beyond what an API requires (several
 * S3-compatible stores refuse them).
 *
 * <h2>Timeouts</h2>
 * The SDK times a synchronous call out by scheduling a task (interrupt the caller, abort the request)
 * that the call cancels when it ends; without a scheduler of ours it starts five threads per client. All
 * clients of a subtask share the scheduler handed in here, whose life is the subtask's: the SDK wraps a
 * scheduler it was given so that closing a client never shuts it down, so its owner must.
 *
 * <h2>Addresses</h2>
 * The HTTP client is Apache HttpClient 5 ({@code apache5-client}) for its DNS hook: every connection
 * resolves its host through allowed_networks ({@link AddressGuard}), so the address connected is the
 * address checked, also for the virtual-hosted {@code <bucket>.s3...amazonaws.com} names that
 * {@code host_url} does not show. A refused address fails the request before anything is sent, and is
 * retried like an unreachable host. No proxy is used (a proxy would resolve the host itself, past the check).
 */
final class S3Clients {
    private static final Logger LOG = LoggerFactory.getLogger(S3Clients.class);
    private static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final Duration requestTimeout;
    private final AddressGuard addresses;
    private final ScheduledExecutorService timeouts;

    /** @param timeouts times out the clients' calls; owned (and shut down) by the caller */
    S3Clients(Duration requestTimeout, AddressGuard addresses, ScheduledExecutorService timeouts) {
        this.requestTimeout = requestTimeout;
        this.addresses = addresses;
        this.timeouts = timeouts;
    }

    /** A new client for the destination; the caller closes it. */
    S3Client open(S3Endpoint s3) {
        return build(s3, requestTimeout, addresses, timeouts);
    }

    /**
     * @param timeouts the scheduler of the calls' timeouts, or null for the SDK's own (which it shuts down
     *     with the client)
     */
    static S3Client build(S3Endpoint s3, Duration requestTimeout, AddressGuard addresses, ScheduledExecutorService timeouts) {
        Duration connect = requestTimeout.compareTo(MAX_CONNECT_TIMEOUT) < 0 ? requestTimeout : MAX_CONNECT_TIMEOUT;
        return S3Client.builder()
                .endpointOverride(s3.hostUrl())
                .region(Region.of(s3.region()))
                .forcePathStyle(pathStyle(s3))
                // Some stores mishandle an early refusal of "Expect: 100-continue" (the error code is lost
                // as a failed write); blocks are small, send them whole.
                .serviceConfiguration(c -> c.expectContinueEnabled(false))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(s3.accessKey(), s3.secretKey().reveal())))
                // A builder, not a built client: the SDK closes an HTTP client it built (and its connections) with
                // the S3 client, but never one it was given.
                .httpClientBuilder(Apache5HttpClient.builder()
                        .connectionTimeout(connect)
                        .socketTimeout(requestTimeout)
                        .expectContinueEnabled(false)
                        .dnsResolver(new CheckedDns(addresses))
                        .proxyConfiguration(ProxyConfiguration.builder()
                                .useSystemPropertyValues(false).useEnvironmentVariableValues(false).build()))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(o -> {
                    if (timeouts != null) {
                        o.scheduledExecutorService(timeouts);
                    }
                    o.retryStrategy(AwsRetryStrategy.doNotRetry())
                            .apiCallTimeout(requestTimeout)
                            .apiCallAttemptTimeout(requestTimeout);
                })
                .build();
    }

    /** Path-style for custom hosts; AWS prefers virtual-hosted, which TLS allows only for dot-free bucket names. */
    static boolean pathStyle(S3Endpoint s3) {
        String host = s3.hostUrl().getHost() == null ? "" : s3.hostUrl().getHost().toLowerCase(Locale.ROOT);
        boolean aws = host.equals("amazonaws.com") || host.endsWith(".amazonaws.com");
        return !aws || s3.bucketName().contains(".");
    }

    static void closeQuietly(S3Client c) {
        try {
            c.close();
        } catch (RuntimeException e) {
            LOG.debug("closing an S3 client failed", e);
        }
    }

    /** Apache HttpClient's resolver, through allowed_networks: the addresses it connects to are checked ones. */
    private record CheckedDns(AddressGuard addresses) implements DnsResolver {
        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            return addresses.resolve(host);
        }

        @Override
        public String resolveCanonicalHostname(String host) throws UnknownHostException {
            return SystemDefaultDnsResolver.INSTANCE.resolveCanonicalHostname(host);
        }
    }
}
