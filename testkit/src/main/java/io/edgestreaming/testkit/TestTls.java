package io.edgestreaming.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The testkit's self-signed TLS material, shared by {@link HttpReceiver} (HTTPS) and {@link EmbeddedKafka}
 * (TLS listener).
 *
 * <p>A private CA ("edge-streaming testkit CA") signed one server certificate, CN=localhost with SAN
 * DNS:localhost and IP:127.0.0.1, valid for 100 years (made once with keytool, see
 * {@code src/main/resources/io/edgestreaming/testkit/tls}). Clients trust the CA via {@link #caPem()},
 * {@link #trustStore()} or {@link #clientContext()}; a client that does not is refused, which is what tests
 * of "unknown certificate" rely on.
 */
public final class TestTls {

    /** Password of both PKCS12 files and of the server key. Test material only. */
    public static final String PASSWORD = "edge-testkit";

    private static final String RESOURCE_DIR = "/io/edgestreaming/testkit/tls/";
    private static Path extractedDir;

    private TestTls() {
    }

    /** PKCS12 key store with the server key and its chain (server certificate, CA). */
    public static Path keyStore() {
        return extracted("server.p12");
    }

    /** PKCS12 trust store holding only the CA certificate. */
    public static Path trustStore() {
        return extracted("truststore.p12");
    }

    /** The CA certificate as a PEM file (what a customer would hand over as "CA file"). */
    public static Path caPem() {
        return extracted("ca.pem");
    }

    /** The CA certificate as PEM text. */
    public static String caPemText() {
        try {
            return Files.readString(caPem(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Server side: presents the localhost certificate. */
    public static SSLContext serverContext() {
        try {
            KeyStore ks = load(keyStore());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, PASSWORD.toCharArray());
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build the testkit server TLS context", e);
        }
    }

    /** Client side: trusts the testkit CA (and nothing else). */
    public static SSLContext clientContext() {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(load(trustStore()));
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build the testkit client TLS context", e);
        }
    }

    private static KeyStore load(Path file) throws GeneralSecurityException {
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, PASSWORD.toCharArray());
            return ks;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // Kafka and most clients want file paths, not class path resources: copy them out once per JVM.
    private static synchronized Path extracted(String name) {
        try {
            if (extractedDir == null) {
                Path dir = Files.createTempDirectory("edge-testkit-tls");
                dir.toFile().deleteOnExit(); // deleted last: deleteOnExit runs in reverse order
                for (String file : new String[] {"server.p12", "truststore.p12", "ca.pem", "server.pem"}) {
                    try (InputStream in = TestTls.class.getResourceAsStream(RESOURCE_DIR + file)) {
                        if (in == null) {
                            throw new IllegalStateException("testkit resource missing: " + RESOURCE_DIR + file);
                        }
                        Files.copy(in, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
                    }
                    dir.resolve(file).toFile().deleteOnExit();
                }
                extractedDir = dir;
            }
            return extractedDir.resolve(name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
