package io.edgestreaming.deploy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes realistic raw edge ({@code http}) and WAF events into the raw topics at a steady rate:
 * several clients and domains, real-looking status codes, user agents, cache statuses and WAF attack
 * families, and about 1% malformed events (truncated JSON, not JSON, no client) for the dead-letter
 * path.
 *
 * <p>{@link #corpus(long, int)} makes the same events without a producer, one at a time
 * ({@link #next()}), e.g. for a benchmark's backlog, with its own seed and share of malformed events.
 */
public final class EventGenerator implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(EventGenerator.class);

    private static final String[][] CLIENT_HOSTS = {
        {"4529r", "www.shop-4529r.example", "img.cdn-4529r.example", "static.cdn-4529r.example",
            "checkout.shop-4529r.example"},
        {"7781k", "api.7781k.example", "www.7781k.example"},
        {"1230z", "www.other-1230z.example"},
    };
    private static final String[] STATUSES = {"200", "200", "200", "200", "200", "200", "304", "304", "206",
        "301", "302", "404", "404", "403", "500", "502", "503"};
    private static final String[] CACHE = {"HIT", "HIT", "HIT", "MISS", "MISS", "BYPASS", "EXPIRED", "STALE",
        "UPDATING", "REVALIDATED"};
    private static final String[] USER_AGENTS = {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
        "curl/8.8.0", "Googlebot/2.1 (+http://www.google.com/bot.html)", "okhttp/4.12.0"};
    private static final String[] SORTS = {"price", "-price", "relevance", "newest", "rating"};
    private static final String[] PATHS = {"/", "/index.html", "/products/42", "/api/v1/cart", "/img/banner.webp",
        "/static/app.js", "/static/app.css", "/search", "/login", "/checkout"};
    private static final String[] CONTENT_TYPES = {"text/html", "application/json", "image/webp",
        "application/javascript", "text/css"};
    private static final String[] METHODS = {"GET", "GET", "GET", "GET", "POST", "HEAD", "PUT"};
    private static final String[] COUNTRIES = {"Brazil", "United States", "Germany", "Japan", "India"};
    private static final String[] STATES = {"Sao Paulo", "California", "Berlin", "Tokyo", "Karnataka"};
    private static final String[][] ATTACKS = {
        {"SQL", "id=1%27%20OR%201%3D1--", "select from"},
        {"XSS", "q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "<script"},
        {"RFI", "page=http://evil.example/shell.txt", "http://"},
        {"TRAVERSAL", "file=../../etc/passwd", "../"},
        {"CMD", "cmd=cat%20/etc/shadow", "/etc/shadow"},
    };
    private static final String[] WAF_ACTIONS = {"$BLOCK", "$BLOCK", "$PASS", "$LEARNING_BLOCK", "$LEARNING_PASS"};

    private final KafkaProducer<byte[], byte[]> producer;
    private final String httpTopic;
    private final String wafTopic;
    private final int eventsPerSecond;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong generated = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final SplittableRandom random;
    /** Malformed events per 10,000. */
    private final int malformedPerTenThousand;
    private long sequence;

    EventGenerator(KafkaProducer<byte[], byte[]> producer, String httpTopic, String wafTopic, int eventsPerSecond) {
        this(producer, httpTopic, wafTopic, eventsPerSecond, 4529, 100);
    }

    private EventGenerator(KafkaProducer<byte[], byte[]> producer, String httpTopic, String wafTopic,
            int eventsPerSecond, long seed, int malformedPerTenThousand) {
        this.producer = producer;
        this.httpTopic = httpTopic;
        this.wafTopic = wafTopic;
        this.eventsPerSecond = eventsPerSecond;
        this.random = new SplittableRandom(seed);
        this.malformedPerTenThousand = malformedPerTenThousand;
    }

    /** One generated event: its data source ({@code waf} or {@code http}), its bytes, and whether it is malformed. */
    public record Event(boolean waf, byte[] value, boolean malformed) {}

    /**
     * A generator without a producer: {@link #next()} returns the events one by one (not thread-safe).
     *
     * @param malformedPerTenThousand malformed events per 10,000 (100: 1%, 10: 0.1%)
     */
    public static EventGenerator corpus(long seed, int malformedPerTenThousand) {
        if (malformedPerTenThousand < 0 || malformedPerTenThousand > 10_000) {
            throw new IllegalArgumentException("malformed events per 10,000 out of range: " + malformedPerTenThousand);
        }
        return new EventGenerator(null, null, null, 0, seed, malformedPerTenThousand);
    }

    /** The next event (25% WAF, 75% edge), malformed with the generator's probability. */
    public Event next() {
        boolean waf = random.nextInt(100) < 25;
        String json = waf ? wafEvent() : httpEvent();
        boolean bad = random.nextInt(10_000) < malformedPerTenThousand;
        if (bad) {
            json = malform(json);
            malformed.incrementAndGet();
        }
        generated.incrementAndGet();
        return new Event(waf, json.getBytes(StandardCharsets.UTF_8), bad);
    }

    long generated() {
        return generated.get();
    }

    long malformed() {
        return malformed.get();
    }

    void stop() {
        running.set(false);
    }

    @Override
    public void run() {
        long tickNanos = 100_000_000L; // ten batches a second keep the rate steady
        long next = System.nanoTime();
        double carry = 0;
        try {
            while (running.get()) {
                carry += eventsPerSecond / 10.0;
                int batch = (int) carry;
                carry -= batch;
                for (int i = 0; i < batch; i++) {
                    sendOne();
                }
                producer.flush();
                next += tickNanos;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("event generator stopped", e);
        } finally {
            producer.close(java.time.Duration.ofSeconds(5));
        }
    }

    private void sendOne() {
        Event event = next();
        producer.send(new ProducerRecord<>(event.waf() ? wafTopic : httpTopic, event.value()));
    }

    private String malform(String json) {
        return switch (random.nextInt(3)) {
            case 0 -> json.substring(0, json.length() / 2); // truncated in flight
            case 1 -> "GET /index.html HTTP/1.1 200 " + json.length(); // a plain access-log line
            default -> json.replaceFirst("\"client\":\"[^\"]*\",", ""); // no client
        };
    }

    private <T> T pick(T[] values) {
        return values[random.nextInt(values.length)];
    }

    private String[] clientAndHost() {
        String[] client = CLIENT_HOSTS[random.nextInt(10) < 6 ? 0 : random.nextInt(10) < 8 ? 1 : 2];
        return new String[] {client[0], client[1 + random.nextInt(client.length - 1)]};
    }

    private String ip() {
        return (random.nextInt(223) + 1) + "." + random.nextInt(256) + "." + random.nextInt(256) + "."
                + (random.nextInt(254) + 1);
    }

    private String httpEvent() {
        String[] ch = clientAndHost();
        String path = pick(PATHS);
        // Query strings as real traffic has them: searches with paging, campaign tags, cache busters.
        String query = switch (random.nextInt(8)) {
            case 0, 1 -> "q=" + random.nextInt(1000) + "&page=" + (1 + random.nextInt(20)) + "&sort=" + pick(SORTS);
            case 2 -> "utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale-" + random.nextInt(100)
                    + "&utm_content=hero-banner";
            case 3 -> "v=" + Long.toHexString(random.nextLong());
            default -> "-";
        };
        String cache = pick(CACHE);
        boolean hit = cache.equals("HIT");
        String status = pick(STATUSES);
        long id = ++sequence;
        Map<String, String> f = new LinkedHashMap<>();
        f.put("version", "1");
        f.put("time", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        f.put("client", ch[0]);
        f.put("configuration", "15953" + ch[0].hashCode() % 100);
        f.put("host", ch[1]);
        f.put("request_time", String.format(java.util.Locale.ROOT, "%.3f", hit ? random.nextDouble() * 0.01 : random.nextDouble() * 0.8));
        f.put("request_method", pick(METHODS));
        f.put("upstream_cache_status", cache);
        f.put("status", status);
        f.put("proxy_status", "-");
        f.put("upstream_status", hit ? "-" : random.nextInt(50) == 0 ? "502 : " + status : status);
        f.put("upstream_bytes_received", hit ? "-" : String.valueOf(200 + random.nextInt(90_000)));
        f.put("upstream_bytes_sent", hit ? "-" : String.valueOf(300 + random.nextInt(900)));
        f.put("upstream_addr", hit ? "-" : "10.0.0." + (1 + random.nextInt(9)) + ":80");
        f.put("upstream_connect_time", hit ? "-" : String.format(java.util.Locale.ROOT, "%.3f", random.nextDouble() * 0.05));
        f.put("upstream_header_time", hit ? "-" : String.format(java.util.Locale.ROOT, "%.3f", random.nextDouble() * 0.3));
        f.put("upstream_response_time", hit ? "-" : String.format(java.util.Locale.ROOT, "%.3f", random.nextDouble() * 0.7));
        f.put("scheme", random.nextInt(10) == 0 ? "http" : "https");
        f.put("request_uri", query.equals("-") ? path : path + "?" + query);
        f.put("requestPath", path);
        f.put("requestQuery", query);
        f.put("sent_http_content_type", pick(CONTENT_TYPES));
        f.put("sent_http_x_original_image_size", path.startsWith("/img") ? String.valueOf(50_000 + random.nextInt(500_000)) : "-");
        f.put("server_protocol", random.nextBoolean() ? "HTTP/2.0" : "HTTP/1.1");
        f.put("request_length", String.valueOf(300 + random.nextInt(1500)));
        f.put("bytes_sent", String.valueOf(200 + random.nextInt(120_000)));
        f.put("tcpinfo_rtt", String.valueOf(1000 + random.nextInt(90_000)));
        f.put("remote_addr", ip());
        f.put("remote_port", String.valueOf(1024 + random.nextInt(64_000)));
        f.put("server_addr", "200.1.2." + (1 + random.nextInt(50)));
        f.put("server_port", "443");
        int country = random.nextInt(COUNTRIES.length);
        f.put("country", COUNTRIES[country]);
        f.put("state", STATES[country]);
        f.put("asn", "AS" + (1000 + random.nextInt(60_000)));
        f.put("ssl_protocol", "TLSv1.3");
        f.put("ssl_cipher", "TLS_AES_128_GCM_SHA256");
        f.put("ssl_session_reused", random.nextBoolean() ? "r" : ".");
        f.put("ssl_server_name", ch[1]);
        f.put("http_user_agent", pick(USER_AGENTS));
        f.put("http_referrer", random.nextBoolean() ? "https://" + ch[1] + pick(PATHS) : "-");
        f.put("request_id", String.format(java.util.Locale.ROOT, "%016x%016x", random.nextLong(), id));
        f.put("session_id", Long.toHexString(random.nextLong()));
        f.put("stream", "edge");
        f.put("traceback", "-");
        boolean attacked = random.nextInt(20) == 0;
        String[] attack = pick(ATTACKS);
        f.put("waf_attack_family", attacked ? attack[0] : "-");
        f.put("waf_attack_action", attacked ? pick(WAF_ACTIONS) : "-");
        f.put("waf_block", attacked && random.nextBoolean() ? "1" : "0");
        f.put("waf_learning", "0");
        f.put("waf_score", attacked ? String.valueOf(10 + random.nextInt(90)) : "0");
        f.put("waf_match", attacked ? attack[2] : "-");
        f.put("waf_headers", "-");
        f.put("waf_total_processed", String.valueOf(random.nextInt(5)));
        f.put("waf_total_blocked", attacked ? "1" : "0");
        return json(f);
    }

    private String wafEvent() {
        String[] ch = clientAndHost();
        String[] attack = pick(ATTACKS);
        String action = pick(WAF_ACTIONS);
        String path = pick(PATHS);
        Map<String, String> f = new LinkedHashMap<>();
        f.put("version", "1");
        f.put("time", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        f.put("client", ch[0]);
        f.put("configuration", "15953" + ch[0].hashCode() % 100);
        f.put("host", ch[1]);
        f.put("remote_addr", ip());
        f.put("server_protocol", "HTTP/1.1");
        f.put("country", pick(COUNTRIES));
        f.put("waf_server", ch[1]);
        f.put("waf_uri", path);
        f.put("waf_learning", action.startsWith("$LEARNING") ? "1" : "0");
        f.put("blocked", action.endsWith("BLOCK") ? "1" : "0");
        f.put("waf_score", String.valueOf(10 + random.nextInt(90)));
        f.put("waf_match", attack[2]);
        f.put("waf_attack_family", attack[0]);
        f.put("waf_attack_action", action);
        f.put("headers", "-");
        f.put("truncated_body", "-");
        f.put("waf_args", attack[1]);
        f.put("requestPath", path);
        f.put("requestQuery", attack[1]);
        return json(f);
    }

    private static String json(Map<String, String> fields) {
        StringBuilder out = new StringBuilder(1024).append('{');
        for (Map.Entry<String, String> e : fields.entrySet()) {
            if (out.length() > 1) {
                out.append(',');
            }
            out.append('"').append(e.getKey()).append("\":\"");
            for (char c : e.getValue().toCharArray()) {
                if (c == '"' || c == '\\') {
                    out.append('\\');
                }
                out.append(c);
            }
            out.append('"');
        }
        return out.append('}').toString();
    }
}
