package io.edgestreaming.connectors.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.zip.GZIPInputStream;
import javax.net.ssl.SSLContext;

/**
 * A real HTTP(S) server on loopback for tests: records every request, dedupes delivered blocks by
 * Idempotency-Key (as a well-behaved receiver would), answers with a programmable status, and can go
 * down and come back on the same port.
 */
final class LoopbackReceiver implements AutoCloseable {

    record Request(long atMillis, String path, Map<String, String> headers, byte[] rawBody, byte[] body, int status) {
        String header(String name) {
            for (Map.Entry<String, String> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue();
                }
            }
            return null;
        }

        String key() {
            return header("Idempotency-Key");
        }

        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final SSLContext tls;
    private volatile int port;
    private volatile HttpServer server;
    private volatile int status = 200;
    private volatile String retryAfter;
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    /** First accepted body per key. */
    private final Map<String, Request> delivered = new LinkedHashMap<>();
    private final List<Request> conflicting = new ArrayList<>();

    private LoopbackReceiver(SSLContext tls) throws IOException {
        this.tls = tls;
        this.port = 0;
        listen();
    }

    static LoopbackReceiver start(SSLContext tls) throws IOException {
        return new LoopbackReceiver(tls);
    }

    static LoopbackReceiver start() throws IOException {
        return new LoopbackReceiver(null);
    }

    private void listen() throws IOException {
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        HttpServer s;
        if (tls != null) {
            HttpsServer https = HttpsServer.create(address, 50);
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
            s = https;
        } else {
            s = HttpServer.create(address, 50);
        }
        s.createContext("/", this::handle);
        s.setExecutor(Executors.newFixedThreadPool(4));
        s.start();
        port = s.getAddress().getPort();
        server = s;
    }

    URI url(String path) {
        return URI.create((tls != null ? "https" : "http") + "://127.0.0.1:" + port + path);
    }

    void respondWith(int status, String retryAfter) {
        this.status = status;
        this.retryAfter = retryAfter;
    }

    void goDown() {
        HttpServer s = server;
        server = null;
        if (s != null) {
            s.stop(0);
            ((java.util.concurrent.ExecutorService) s.getExecutor()).shutdownNow();
        }
    }

    void comeBack() throws IOException {
        listen();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] raw = exchange.getRequestBody().readAllBytes();
            Map<String, String> headers = new LinkedHashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k, String.join(",", v)));
            byte[] body = raw;
            String encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
            if ("gzip".equalsIgnoreCase(encoding)) {
                try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
                    body = in.readAllBytes();
                }
            }
            int answer = status;
            Request request = new Request(System.currentTimeMillis(), exchange.getRequestURI().getPath(), headers, raw, body, answer);
            requests.add(request);
            if (answer >= 200 && answer < 300) {
                synchronized (delivered) {
                    Request first = delivered.putIfAbsent(String.valueOf(request.key()), request);
                    if (first != null && !Arrays.equals(first.body(), body)) {
                        conflicting.add(request);
                    }
                }
            }
            if (retryAfter != null && answer >= 400) {
                exchange.getResponseHeaders().add("Retry-After", retryAfter);
            }
            byte[] reply = (answer >= 400 ? "nope " + answer : "ok").getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(answer, reply.length);
            exchange.getResponseBody().write(reply);
        }
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    /** Accepted blocks, one per Idempotency-Key (the first accepted copy), in arrival order. */
    List<Request> delivered() {
        synchronized (delivered) {
            return List.copyOf(delivered.values());
        }
    }

    /** Accepted repeats of a key whose body differed from the first: must stay empty. */
    List<Request> conflictingRepeats() {
        synchronized (delivered) {
            return List.copyOf(conflicting);
        }
    }

    /** Accepted requests beyond the first per key. */
    int acceptedRepeats() {
        long accepted = requests.stream().filter(r -> r.status() >= 200 && r.status() < 300).count();
        return (int) accepted - delivered().size();
    }

    boolean awaitDelivered(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (delivered().size() < n) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    @Override
    public void close() {
        goDown();
    }
}
