package io.edgestreaming.testkit;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A real S3 server (s3proxy over an in-memory blob store) on 127.0.0.1 with one access key / secret key
 * (AWS signature V2 or V4). For buckets reachable with different credentials, start one instance per
 * credential pair: requests signed with another key are refused (403), as on AWS.
 */
public final class EmbeddedS3 implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedS3.class);

    /** Region the clients sign for; s3proxy accepts any, this is what our clients use. */
    public static final String REGION = "us-east-1";

    private final S3Proxy proxy;
    private final URI endpoint;
    private final String accessKey;
    private final String secretKey;
    private final S3Client client;
    private boolean closed;

    private EmbeddedS3(S3Proxy proxy, URI endpoint, String accessKey, String secretKey) {
        this.proxy = proxy;
        this.endpoint = endpoint;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        this.client = newClient(accessKey, secretKey);
    }

    /** Starts a server that accepts requests signed with this key pair only. */
    public static EmbeddedS3 start(String accessKey, String secretKey) {
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(BlobStores.create("transient", new Properties()))
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .build();
        try {
            proxy.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("s3proxy state " + proxy.getState() + " after 30 s");
                }
                Thread.sleep(20);
            }
        } catch (Exception e) {
            try {
                proxy.stop();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("embedded S3 failed to start: " + e, e);
        }
        URI endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
        LOG.info("S3 server ready at {}", endpoint);
        return new EmbeddedS3(proxy, endpoint, accessKey, secretKey);
    }

    /** http://127.0.0.1:port (path-style addressing: buckets are the first path segment). */
    public URI endpoint() {
        return endpoint;
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    public void createBucket(String bucket) {
        client.createBucket(b -> b.bucket(bucket));
    }

    /** The shared client of this server, signed with its key pair (closed with the server; do not close). */
    public S3Client client() {
        return client;
    }

    /** A new client for this endpoint signed with any key pair (e.g. a wrong one); the caller closes it. */
    public S3Client newClient(String accessKey, String secretKey) {
        return S3Client.builder()
                .endpointOverride(endpoint)
                .region(Region.of(REGION))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .httpClient(Apache5HttpClient.builder().build())
                .build();
    }

    /** Keys of all objects in the bucket, sorted (S3 lists in key order). */
    public List<String> listKeys(String bucket) {
        List<String> keys = new ArrayList<>();
        String token = null;
        do {
            String continuation = token;
            ListObjectsV2Response page = client.listObjectsV2(b -> b.bucket(bucket).continuationToken(continuation));
            for (S3Object o : page.contents()) {
                keys.add(o.key());
            }
            token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
        } while (token != null);
        return keys;
    }

    /**
     * Like {@link #listKeys}, once no PUT is in flight: s3proxy's transient store lists an object being
     * written as {@code <key>-<uuid>} until the write ends (a client closed mid-PUT, as in crash tests,
     * leaves one for a moment). Waits up to 10 s for those to go.
     */
    public List<String> listKeysSettled(String bucket) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (true) {
            List<String> keys = listKeys(bucket);
            boolean writing = false;
            for (String k : keys) {
                for (String other : keys) {
                    writing |= k.length() == other.length() + 37 && k.startsWith(other + "-");
                }
            }
            if (!writing || System.nanoTime() > deadline) {
                return keys;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return keys;
            }
        }
    }

    public byte[] get(String bucket, String key) {
        return client.getObject(b -> b.bucket(bucket).key(key), ResponseTransformer.toBytes()).asByteArray();
    }

    public String contentType(String bucket, String key) {
        return client.headObject(b -> b.bucket(bucket).key(key)).contentType();
    }

    /** Keys of multipart uploads started but neither completed nor aborted (leaks after a failure). */
    public List<String> openMultipartUploads(String bucket) {
        List<String> keys = new ArrayList<>();
        ListMultipartUploadsResponse response = client.listMultipartUploads(b -> b.bucket(bucket));
        for (MultipartUpload upload : response.uploads()) {
            keys.add(upload.key());
        }
        return keys;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        client.close();
        try {
            proxy.stop();
        } catch (Exception e) {
            LOG.warn("s3proxy did not stop cleanly", e);
        }
    }
}
