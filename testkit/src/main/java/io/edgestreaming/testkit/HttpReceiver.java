package io.edgestreaming.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real HTTP (or HTTPS, with the {@link TestTls} certificate) server on 127.0.0.1 that plays a customer's
 * endpoint: it records every request, deduplicates deliveries by {@code Idempotency-Key}, and can be told
 * to fail, to be slow, or to go away and come back on the same port.
 *
 * <p>Bookkeeping, per request carrying an {@code Idempotency-Key}:
 * <ul>
 *   <li>the first request with a key that is answered 2xx is a <em>delivered block</em>;</li>
 *   <li>a later request with an already delivered key is a <em>repeat</em> (harmless: the receiver
 *       deduplicates, as a customer endpoint honouring the key would);</li>
 *   <li>a request whose key was seen before with a different (decoded) body is a <em>conflicting
 *       repeat</em>: the sender reused a key for other data, an exactly-once violation.</li>
 * </ul>
 * Requests without the header are each a delivered block when answered 2xx (nothing to deduplicate on).
 *
 * <p>Thread-safe: behaviour can be changed while requests are in flight; a change applies to requests
 * that arrive after it.
 */
public final class HttpReceiver implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HttpReceiver.class);

    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    /** One request as received. Header names are case-insensitive. */
    public record Request(
            String method,
            String path,
            String query,
            Map<String, List<String>> headers,
            byte[] body,
            byte[] decodedBody,
            Instant receivedAt,
            int status) {

        /** First value of a header, or null. */
        public String header(String name) {
            List<String> values = headers.get(name);
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        public String idempotencyKey() {
            return header(IDEMPOTENCY_KEY);
        }

        /** The decoded body (gunzipped when Content-Encoding: gzip) as UTF-8 text. */
        public String bodyAsString() {
            return new String(decodedBody, StandardCharsets.UTF_8);
        }

        /** The decoded body split into its "\n"-separated records (a trailing newline adds no record). */
        public List<String> records() {
            String text = bodyAsString();
            if (text.isEmpty()) {
                return List.of();
            }
            List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
            if (lines.get(lines.size() - 1).isEmpty()) {
                lines.remove(lines.size() - 1);
            }
            return lines;
        }

        @Override
        public String toString() {
            return method + " " + path + (query == null ? "" : "?" + query) + " -> " + status + " ("
                    + body.length + " bytes, key " + idempotencyKey() + ")";
        }
    }

    private final boolean tls;
    private final int port;
    private final ExecutorService executor;
    private final Object lock = new Object();

    // All guarded by lock.
    private HttpServer server;
    private int status = 200;
    private Duration retryAfter;
    private URI location;
    private Duration delay = Duration.ZERO;
    private final List<Integer> nextStatuses = new ArrayList<>();
    private boolean closed;
    private final ReceivedRequests received = new ReceivedRequests();

    private HttpReceiver(boolean tls) {
        this.tls = tls;
        AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "http-receiver-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        synchronized (lock) {
            this.server = bind(0);
            this.port = server.getAddress().getPort();
        }
    }

    /** A plain HTTP receiver on 127.0.0.1 and a free port. */
    public static HttpReceiver start() {
        return new HttpReceiver(false);
    }

    /** An HTTPS receiver presenting the {@link TestTls} certificate (trusted via {@link TestTls#caPem()}). */
    public static HttpReceiver startTls() {
        return new HttpReceiver(true);
    }

    /** http(s)://127.0.0.1:port + path. */
    public URI url(String path) {
        String p = path.startsWith("/") ? path : "/" + path;
        return URI.create((tls ? "https" : "http") + "://127.0.0.1:" + port + p);
    }

    /** The same as {@link #url(String)} with host name localhost (matches the certificate's DNS name too). */
    public URI localhostUrl(String path) {
        String p = path.startsWith("/") ? path : "/" + path;
        return URI.create((tls ? "https" : "http") + "://localhost:" + port + p);
    }

    public int port() {
        return port;
    }

    // ---- behaviour ----

    /** Answers every following request with this status (200 restores normal service). */
    public void respondWith(int status) {
        respondWith(status, null);
    }

    /** Answers every following request with this status and a Retry-After header (whole seconds, rounded up). */
    public void respondWith(int status, Duration retryAfter) {
        synchronized (lock) {
            this.status = status;
            this.retryAfter = retryAfter;
            this.location = null;
        }
    }

    /** Answers every following request with a redirect ({@code status}, e.g. 302) to {@code location}. */
    public void redirectTo(int status, URI location) {
        synchronized (lock) {
            this.status = status;
            this.retryAfter = null;
            this.location = location;
        }
    }

    /** Answers the next {@code times} requests with {@code status}, then goes back to the standing status. */
    public void respondNext(int status, int times) {
        synchronized (lock) {
            for (int i = 0; i < times; i++) {
                nextStatuses.add(status);
            }
        }
    }

    /** Waits this long before answering each following request (ZERO: answer at once). */
    public void delay(Duration delay) {
        synchronized (lock) {
            this.delay = delay;
        }
    }

    /** Called (on a server thread) with every newly delivered block. */
    public void onDelivered(Consumer<Request> listener) {
        received.onDelivered(listener);
    }

    /** Stops listening: new connections are refused, open ones are closed. Recorded requests stay. */
    public void goDown() {
        HttpServer s;
        synchronized (lock) {
            s = server;
            server = null;
        }
        if (s != null) {
            s.stop(0);
            LOG.info("HTTP receiver on port {} is down", port);
        }
    }

    /** Listens again on the same port (after {@link #goDown()}). */
    public void comeBack() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("receiver is closed");
            }
            if (server == null) {
                server = bind(port);
                LOG.info("HTTP receiver on port {} is back", port);
            }
        }
    }

    public boolean isUp() {
        synchronized (lock) {
            return server != null;
        }
    }

    // ---- what was received ----

    /** Every request, in arrival order (answered ones; a request still being delayed is not listed yet). */
    public List<Request> requests() {
        return received.requests();
    }

    /** The first 2xx-answered request per Idempotency-Key (and every 2xx request without one), in order. */
    public List<Request> deliveredBlocks() {
        return received.deliveredBlocks();
    }

    /** All records of all delivered blocks, in delivery order. */
    public List<String> deliveredRecords() {
        List<String> records = new ArrayList<>();
        for (Request r : deliveredBlocks()) {
            records.addAll(r.records());
        }
        return records;
    }

    /** Requests repeating an Idempotency-Key that had already been delivered. */
    public int repeats() {
        return received.repeats();
    }

    /** Requests that reused an Idempotency-Key with a different body: must stay empty. */
    public List<Request> conflictingRepeats() {
        return received.conflictingRepeats();
    }

    /**
     * Waits until at least {@code n} blocks are delivered; returns the delivered blocks.
     *
     * @throws AssertionError naming what arrived, when the timeout passes first
     */
    public List<Request> awaitBlocks(int n, Duration timeout) {
        return received.awaitBlocks(n, timeout);
    }

    /** Waits until at least {@code n} requests (any outcome) were answered; returns all requests. */
    public List<Request> awaitRequests(int n, Duration timeout) {
        return received.awaitRequests(n, timeout);
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        received.wakeUp();
        goDown();
        executor.shutdownNow();
    }

    // ---- server ----

    private HttpServer bind(int requestedPort) {
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), requestedPort);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                HttpServer s;
                if (tls) {
                    HttpsServer https = HttpsServer.create(address, 128);
                    https.setHttpsConfigurator(new HttpsConfigurator(TestTls.serverContext()));
                    s = https;
                } else {
                    s = HttpServer.create(address, 128);
                }
                s.setExecutor(executor);
                s.createContext("/", this::handle);
                s.start();
                return s;
            } catch (BindException e) {
                // The old socket of this port may linger for a moment after goDown().
                if (requestedPort == 0 || System.nanoTime() > deadline) {
                    throw new UncheckedIOException("cannot listen on 127.0.0.1:" + requestedPort, e);
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", ie);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot listen on 127.0.0.1:" + requestedPort, e);
            }
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            Instant receivedAt = Instant.now();
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k, List.copyOf(v)));
            String encoding = first(headers, "Content-Encoding");
            byte[] decoded = body;
            boolean undecodable = false;
            if (encoding != null && encoding.equalsIgnoreCase("gzip")) {
                try (InputStream gz = new GZIPInputStream(new ByteArrayInputStream(body))) {
                    decoded = gz.readAllBytes();
                } catch (IOException e) {
                    undecodable = true;
                }
            }

            int answer;
            Duration answerRetryAfter;
            URI answerLocation = null;
            Duration wait;
            synchronized (lock) {
                if (nextStatuses.isEmpty()) {
                    answer = status;
                    answerRetryAfter = retryAfter;
                    answerLocation = location;
                } else {
                    answer = nextStatuses.remove(0);
                    answerRetryAfter = null;
                }
                wait = delay;
            }
            if (undecodable) {
                answer = 400; // a real endpoint rejects a body it cannot decode
            }
            if (!wait.isZero()) {
                try {
                    Thread.sleep(wait.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }

            Request request = new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                    exchange.getRequestURI().getRawQuery(), Collections.unmodifiableMap(headers), body, decoded,
                    receivedAt, answer);
            received.record(request);

            if (answerRetryAfter != null) {
                long seconds = (answerRetryAfter.toMillis() + 999) / 1000;
                exchange.getResponseHeaders().set("Retry-After", Long.toString(seconds));
            }
            if (answerLocation != null) {
                exchange.getResponseHeaders().set("Location", answerLocation.toString());
            }
            byte[] response = answer / 100 == 2 ? new byte[0]
                    : (undecodable ? "body is not valid gzip" : "status " + answer + " as programmed")
                            .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(answer, response.length == 0 ? -1 : response.length);
            if (response.length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(response);
                }
            }
        } catch (IOException e) {
            // The client went away (timeout, or we went down): what was recorded stays recorded.
            LOG.debug("HTTP receiver exchange failed", e);
        }
    }

    private static String first(Map<String, List<String>> headers, String name) {
        List<String> values = headers.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
