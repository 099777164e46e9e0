package io.edgestreaming.job.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Function;
import picocli.CommandLine.Option;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/** Where the dead-letter store is, and how to reach an {@code s3://} one. */
final class StoreOptions {
    @Option(names = "--store", paramLabel = "URI",
            description = "the dead-letter store: file:///path or s3://bucket/prefix (default: dead_letter.blocks_path of --config)")
    String store;

    @Option(names = "--s3-endpoint", paramLabel = "URL",
            description = "S3 service of an s3:// store, e.g. https://minio.example:9000 (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS)")
    URI s3Endpoint;

    @Option(names = "--s3-region", paramLabel = "REGION", description = "signing region of an s3:// store (default: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1)")
    String s3Region;

    /**
     * Opens the store named by {@code --store}, else by {@code blocksPath}. Credentials of an s3:// store:
     * $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY (/ $AWS_SESSION_TOKEN), else the AWS default chain (profile,
     * web identity, container or instance role).
     *
     * @throws IllegalArgumentException when neither names a store, or the URI cannot be used
     */
    BlockStore open(String blocksPath, Function<String, String> env) {
        String uri = store != null ? store : blocksPath;
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("name the dead-letter store with --store URI (or give --config)");
        }
        URI parsed;
        try {
            parsed = new URI(uri.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--store " + uri + ": not a URI (" + e.getReason() + ")");
        }
        String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
        switch (scheme) {
            case "", "file" -> {
                Path root = scheme.isEmpty() ? Path.of(uri) : Path.of(parsed);
                return new LocalBlockStore(root.toAbsolutePath().normalize(), uri);
            }
            case "s3", "s3a", "s3p" -> {
                String bucket = parsed.getHost();
                if (bucket == null || bucket.isBlank()) {
                    throw new IllegalArgumentException("--store " + uri + ": name the bucket (s3://bucket/prefix)");
                }
                String path = parsed.getPath() == null ? "" : parsed.getPath().replaceAll("^/+", "");
                String prefix = path.isEmpty() || path.endsWith("/") ? path : path + "/";
                return new S3BlockStore(s3Client(env), bucket, prefix, uri);
            }
            default -> throw new IllegalArgumentException("--store " + uri + ": only file:// and s3:// stores are supported");
        }
    }

    private S3Client s3Client(Function<String, String> env) {
        URI endpoint = s3Endpoint != null ? s3Endpoint : uri(first(env, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"));
        String region = s3Region != null ? s3Region : first(env, "AWS_REGION", "AWS_DEFAULT_REGION");
        S3ClientBuilder builder = S3Client.builder()
                .region(Region.of(region == null ? "us-east-1" : region))
                .credentialsProvider(credentials(env))
                .httpClient(Apache5HttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(10)).socketTimeout(Duration.ofSeconds(60)).build())
                // As the job's S3 client: several S3-compatible stores refuse the SDK's newer checksums.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (endpoint != null) {
            String host = endpoint.getHost() == null ? "" : endpoint.getHost().toLowerCase(Locale.ROOT);
            builder.endpointOverride(endpoint).forcePathStyle(!host.endsWith("amazonaws.com"));
        }
        return builder.build();
    }

    private static AwsCredentialsProvider credentials(Function<String, String> env) {
        String key = env.apply("AWS_ACCESS_KEY_ID");
        String secret = env.apply("AWS_SECRET_ACCESS_KEY");
        if (key != null && !key.isBlank() && secret != null && !secret.isBlank()) {
            String token = env.apply("AWS_SESSION_TOKEN");
            return StaticCredentialsProvider.create(token == null || token.isBlank()
                    ? AwsBasicCredentials.create(key, secret)
                    : AwsSessionCredentials.create(key, secret, token));
        }
        return DefaultCredentialsProvider.builder().build();
    }

    private static String first(Function<String, String> env, String... names) {
        for (String name : names) {
            String v = env.apply(name);
            if (v != null && !v.isBlank()) {
                return v.trim();
            }
        }
        return null;
    }

    private static URI uri(String text) {
        return text == null ? null : URI.create(text);
    }
}
