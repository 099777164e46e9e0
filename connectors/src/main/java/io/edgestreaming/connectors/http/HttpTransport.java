package io.edgestreaming.connectors.http;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.connectors.AddressGuard;
import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.connectors.engine.Prepared;
import io.edgestreaming.connectors.engine.StagedBlock;
import io.edgestreaming.connectors.engine.Transport;
import io.edgestreaming.connectors.engine.TransportFactory;
import io.edgestreaming.config.DeliveryConfig;
import io.edgestreaming.config.Endpoint;
import io.edgestreaming.config.HttpEndpoint;
import io.edgestreaming.config.Secret;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP/HTTPS POST ({@code endpoint_type: standard}) with the JDK {@link HttpClient}: asynchronous,
 * HTTP/2 over TLS when the server offers it, no extra dependency. One client (connection pool) per
 * trust configuration (CA bundle), shared by its destinations, with one small daemon executor per subtask.
 *
 * <p>Request: body from {@link HttpPayload} (gzip-compressed when configured, with
 * {@code Content-Encoding: gzip}); the custom headers; {@code Content-Type} defaulting to
 * {@code application/x-ndjson} for "\n" + "$dataset" and {@code text/plain; charset=us-ascii}
 * otherwise; {@code Idempotency-Key: <block id>:<digest>} where the digest covers the uncompressed
 * body (a receiver dedupes by it; see {@link Transport#prepare}; digesting before compression keeps
 * the key independent of the deflater). A hard per-request timeout covers connect, headers and body.
 *
 * <p>Classification: 2xx delivered; 408, 429, 5xx, timeouts, connection and TLS errors retried
 * (honouring {@code Retry-After}); 401 and 403 retried too: a rotated or revoked credential is fixed
 * by the customer while the blocks wait (the engine pauses the destination with backoff, up to
 * max_retry_duration), instead of sending all of them to the dead-letter store at once; any other
 * status permanent (dead-letter). Header values are removed from reasons (a refusal may echo the
 * credential). TLS certificates are
 * verified (JDK trust store, or only the CAs of {@code ca_bundle}); a certificate the client does not
 * trust is a retried failure, so fixing the server or the bundle within max_retry_duration loses nothing.
 *
 * <p>Addresses: the JDK client has no resolver hook, so before each request the URL's host is resolved
 * and checked against allowed_networks ({@link AddressGuard}); a refused address is a retried failure
 * and nothing is sent. The client then resolves the same name from the JVM's address cache
 * ({@code networkaddress.cache.ttl}, 30 s by default, shared by the whole JVM), so the addresses checked
 * are those it connects to unless the cache entry expires in the instant between. Redirects are never
 * followed (a 3xx is a permanent refusal), so a server cannot send the client on to another address.
 */
public final class HttpTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(HttpTransport.class);
    public static final String ENDPOINT_TYPE = "standard";
    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    static final String NDJSON = "application/x-ndjson";
    static final String TEXT_PLAIN = "text/plain; charset=us-ascii";
    private static final String USER_AGENT = "edge-streaming";
    private static final int ERROR_BODY_BYTES = 200;

    private final Duration requestTimeout;
    private final AddressGuard addresses;
    private final ExecutorService executor;
    private final Map<String, HttpClient> clients = new ConcurrentHashMap<>();

    /** @param addresses the allowed_networks every request's host must pass */
    public HttpTransport(DeliveryConfig delivery, AddressPolicy addresses) {
        this.requestTimeout = delivery.requestTimeout();
        this.addresses = new AddressGuard(addresses, "HTTP");
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "http-delivery-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Factory for {@code standard} endpoints. */
    public static final class Factory implements TransportFactory {
        private static final long serialVersionUID = 1L;

        @Override
        public String endpointType() {
            return ENDPOINT_TYPE;
        }

        @Override
        public void validate(Endpoint endpoint) {
            if (!(endpoint instanceof HttpEndpoint http)) {
                throw new IllegalArgumentException("not an HTTP endpoint: " + endpoint.describe());
            }
            HttpHeaderRules.validate(http);
        }

        @Override
        public Transport create(DeliveryConfig delivery, AddressPolicy addresses) {
            return new HttpTransport(delivery, addresses);
        }
    }

    @Override
    public Prepared prepare(Block block, Endpoint endpoint) {
        HttpEndpoint http = (HttpEndpoint) endpoint;
        byte[] body = HttpPayload.body(block.records(), http.logLineSeparator(), http.payloadFormat());
        String key = idempotencyKey(block.blockId(), body);
        if (http.compression() == HttpEndpoint.Compression.GZIP) {
            return new Prepared(io.edgestreaming.connectors.engine.Gzip.compress(body), key, Prepared.GZIP);
        }
        return new Prepared(body, key, Prepared.IDENTITY);
    }

    /** {@code <block id>:<first 128 bits of SHA-256(body), hex>}, in visible ASCII. */
    static String idempotencyKey(String blockId, byte[] body) {
        return io.edgestreaming.connectors.engine.DeliveryKeys.of(asciiSafe(blockId), body);
    }

    @Override
    public CompletableFuture<Outcome> deliver(StagedBlock block, Endpoint endpoint) {
        HttpEndpoint http = (HttpEndpoint) endpoint;
        HttpClient client;
        try {
            client = client(http);
        } catch (Exception e) {
            return CompletableFuture.completedFuture(Outcome.retry("cannot set up TLS for " + http.describe() + ": " + e.getMessage()));
        }
        HttpRequest request;
        try {
            request = request(block, http);
        } catch (IllegalArgumentException e) {
            // Never echo the message: the JDK may quote a header value.
            return CompletableFuture.completedFuture(Outcome.permanent("request refused by the HTTP client (invalid header or URL)"));
        }
        String host = http.url().getHost();
        try {
            // The lookup may block: on the client's executor, never on the task thread.
            return CompletableFuture.supplyAsync(() -> addressRefusal(host), executor)
                    .thenCompose(refused -> refused != null ? CompletableFuture.completedFuture(refused)
                            : client.sendAsync(request, HttpTransport::bodyHandler)
                                    .orTimeout(requestTimeout.toMillis() + 1000, java.util.concurrent.TimeUnit.MILLISECONDS)
                                    .handle((response, error) -> error == null ? classify(response, http) : classify(error)));
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(Outcome.retry("HTTP transport closing"));
        }
    }

    /** A retried outcome when {@code host} must not be connected to now, else null. */
    private Outcome addressRefusal(String host) {
        if (host == null) {
            return null; // no host to check: the client refuses the URL itself
        }
        try {
            String refused = addresses.refusal(host);
            return refused == null ? null : Outcome.retry(refused);
        } catch (UnknownHostException e) {
            return Outcome.retry("host " + host + " does not resolve (" + e.getMessage() + ")");
        }
    }

    HttpRequest request(StagedBlock block, HttpEndpoint http) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(http.url())
                // h2c upgrade over cleartext trips some servers on POST; HTTP/2 only via TLS ALPN.
                .version("https".equalsIgnoreCase(http.url().getScheme()) ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
                .timeout(requestTimeout)
                .POST(HttpRequest.BodyPublishers.ofByteArray(block.payload()));
        boolean contentType = false;
        boolean userAgent = false;
        if (http.headers() != null) {
            for (Map.Entry<String, Secret> header : http.headers().entrySet()) {
                String name = header.getKey();
                contentType |= name.equalsIgnoreCase("Content-Type");
                userAgent |= name.equalsIgnoreCase("User-Agent");
                builder.header(name, header.getValue().reveal());
            }
        }
        if (!contentType) {
            builder.header("Content-Type", defaultContentType(http));
        }
        if (!userAgent) {
            builder.header("User-Agent", USER_AGENT);
        }
        if (Prepared.GZIP.equals(block.contentEncoding())) {
            builder.header("Content-Encoding", "gzip");
        }
        builder.header(IDEMPOTENCY_KEY, block.deliveryKey());
        return builder.build();
    }

    static String defaultContentType(HttpEndpoint http) {
        String sep = http.logLineSeparator() == null ? HttpPayload.DEFAULT_SEPARATOR : http.logLineSeparator();
        String format = http.payloadFormat() == null ? HttpPayload.DEFAULT_FORMAT : http.payloadFormat();
        return sep.equals("\n") && format.equals(HttpPayload.DATASET) ? NDJSON : TEXT_PLAIN;
    }

    /**
     * One client per trust configuration (the default trust store, or one CA bundle), shared by every
     * destination that uses it: a JDK client has a selector thread and pools connections per host, so
     * many tenants' destinations cost connections, not a thread each.
     */
    private HttpClient client(HttpEndpoint http) throws Exception {
        String ca = http.caBundlePath() == null || http.caBundlePath().isBlank() ? "" : http.caBundlePath();
        HttpClient client = clients.get(ca);
        if (client == null) {
            HttpClient.Builder builder = HttpClient.newBuilder()
                    .executor(executor)
                    .connectTimeout(requestTimeout)
                    .followRedirects(HttpClient.Redirect.NEVER);
            if (!ca.isEmpty()) {
                SSLContext context = TrustBundle.sslContext(ca);
                builder.sslContext(context);
            }
            client = builder.build();
            HttpClient raced = clients.putIfAbsent(ca, client);
            client = raced == null ? client : raced;
        }
        return client;
    }

    static Outcome classify(HttpResponse<byte[]> response, HttpEndpoint http) {
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return Outcome.delivered();
        }
        String snippet = redact(errorSnippet(response.body()), http);
        Duration retryAfter = retryAfter(response.headers().firstValue("Retry-After").orElse(null));
        if (status == 401 || status == 403) {
            return Outcome.retry("HTTP " + status + " (credential refused: check the endpoint's headers, e.g. Authorization"
                    + (status == 403 ? ", and what the credential may do" : "") + ")" + snippet, retryAfter);
        }
        String reason = "HTTP " + status + snippet;
        if (status == 408 || status == 429 || status >= 500) {
            return Outcome.retry(reason, retryAfter);
        }
        return Outcome.permanent(reason);
    }

    /**
     * Removes the header values (all secrets) from text the server sent: each value, and its last
     * space-separated part (the token after a scheme such as Bearer), of 4 or more characters.
     */
    static String redact(String text, HttpEndpoint http) {
        if (text.isEmpty() || http.headers() == null) {
            return text;
        }
        String out = text;
        for (Secret value : http.headers().values()) {
            String v = value.reveal().trim();
            String last = v.substring(v.lastIndexOf(' ') + 1);
            for (String secret : new String[] {v, last}) {
                if (secret.length() >= 4) {
                    out = out.replace(secret, Secret.REDACTED);
                }
            }
        }
        return out;
    }

    static Outcome classify(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof java.util.concurrent.ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof HttpConnectTimeoutException) {
            return Outcome.retry("connect timed out");
        }
        if (cause instanceof HttpTimeoutException || cause instanceof TimeoutException) {
            return Outcome.retry("request timed out");
        }
        if (cause instanceof ConnectException) {
            return Outcome.retry("connection refused");
        }
        if (cause instanceof SSLException || cause.getCause() instanceof SSLException) {
            SSLException ssl = cause instanceof SSLException s ? s : (SSLException) cause.getCause();
            return Outcome.retry("TLS failure: " + ssl.getMessage());
        }
        if (cause instanceof IOException) {
            return Outcome.retry("I/O error: " + cause.getClass().getSimpleName()
                    + (cause.getMessage() == null ? "" : " " + cause.getMessage()));
        }
        LOG.warn("Unexpected HTTP delivery failure", cause);
        return Outcome.retry("unexpected failure: " + cause.getClass().getSimpleName());
    }

    /** Seconds or an HTTP date (RFC 9110); null when absent or unreadable. */
    static Duration retryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        try {
            long seconds = Long.parseLong(v);
            return seconds < 0 ? null : Duration.ofSeconds(seconds);
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (RuntimeException notDate) {
                return null;
            }
        }
    }

    private static String errorSnippet(byte[] body) {
        if (body == null || body.length == 0) {
            return "";
        }
        StringBuilder sb = new StringBuilder(": ");
        for (int i = 0; i < body.length && i < ERROR_BODY_BYTES; i++) {
            char c = (char) (body[i] & 0xff);
            sb.append(c >= 0x20 && c < 0x7f ? c : ' ');
        }
        return sb.toString().trim();
    }

    private static String asciiSafe(String s) {
        StringBuilder sb = null;
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            boolean ok = b > 0x20 && b < 0x7f && b != '%';
            if (!ok && sb == null) {
                sb = new StringBuilder(new String(bytes, 0, i, StandardCharsets.US_ASCII));
            }
            if (sb != null) {
                if (ok) {
                    sb.append((char) b);
                } else {
                    sb.append('%').append(String.format(Locale.ROOT, "%02X", b));
                }
            }
        }
        return sb == null ? s : sb.toString();
    }

    /** 2xx: discard the body; otherwise keep its first bytes for the reason. Never buffers more. */
    private static HttpResponse.BodySubscriber<byte[]> bodyHandler(HttpResponse.ResponseInfo info) {
        if (info.statusCode() >= 200 && info.statusCode() < 300) {
            return HttpResponse.BodySubscribers.replacing(new byte[0]);
        }
        return new PrefixSubscriber(ERROR_BODY_BYTES);
    }

    @Override
    public void close() {
        clients.clear();
        executor.shutdownNow();
    }
}
