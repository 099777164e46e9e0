package io.edgestreaming.config;

import java.io.Serializable;

/** Where a stream's blocks are delivered ({@code endpoint.endpoint_type}). */
public sealed interface Endpoint extends Serializable permits HttpEndpoint, KafkaEndpoint, S3Endpoint {

    /** The API name: {@code standard}, {@code kafka} or {@code s3}. */
    String endpointType();

    /**
     * A stable identity of the physical destination (same URL / cluster+topic / host+bucket and
     * credentials = same id). Connections are pooled and retries scheduled per destination. Contains
     * no secret in clear.
     */
    String destinationId();

    /** A human description for logs, manifests and errors, with secrets redacted. */
    String describe();
}
