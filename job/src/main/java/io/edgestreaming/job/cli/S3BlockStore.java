package io.edgestreaming.job.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/** An {@code s3://bucket/prefix} store. */
final class S3BlockStore implements BlockStore {
    private final S3Client client;
    private final String bucket;
    private final String prefix;
    private final String description;

    /** @param prefix the key prefix of the root, empty or ending with '/' */
    S3BlockStore(S3Client client, String bucket, String prefix, String description) {
        this.client = client;
        this.bucket = bucket;
        this.prefix = prefix;
        this.description = description;
    }

    @Override
    public List<String> list() throws IOException {
        List<String> paths = new ArrayList<>();
        try {
            for (S3Object object : client.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents()) {
                paths.add(object.key().substring(prefix.length()));
            }
        } catch (SdkException e) {
            throw new IOException("cannot list " + description + ": " + e.getMessage(), e);
        }
        paths.sort(null);
        return paths;
    }

    @Override
    public byte[] read(String path) throws IOException {
        try {
            return client.getObjectAsBytes(b -> b.bucket(bucket).key(prefix + path)).asByteArray();
        } catch (NoSuchKeyException e) {
            throw new FileNotFoundException(path + " is not in " + description);
        } catch (SdkException e) {
            throw new IOException("cannot read " + path + " from " + description + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void write(String path, byte[] bytes) throws IOException {
        try {
            client.putObject(b -> b.bucket(bucket).key(prefix + path).contentType("application/json"), RequestBody.fromBytes(bytes));
        } catch (SdkException e) {
            throw new IOException("cannot write " + path + " to " + description + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        client.close();
    }
}
