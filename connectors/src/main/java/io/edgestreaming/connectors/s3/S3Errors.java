package io.edgestreaming.connectors.s3;

import io.edgestreaming.config.AddressPolicy;
import io.edgestreaming.connectors.engine.Outcome;
import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.config.Secret;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * Turns a failed PutObject into an {@link Outcome} with a clear, redacted reason.
 *
 * <p>Only errors about the object itself, which no retry and no fix on the store can change, are
 * permanent. Everything else is retried until {@code max_retry_duration}: the store's own trouble (5xx,
 * SlowDown, timeouts, connections) passes, and the configuration errors (missing bucket, wrong or
 * revoked keys, wrong region) are fixed by an operator on the store side while the job keeps the
 * blocks; after {@code max_retry_duration} they land in the dead-letter store with the reason below.
 * A refused credential says so in its reason, so the one warning the engine logs when the
 * destination starts failing names the cause.
 */
final class S3Errors {
    private static final Logger LOG = LoggerFactory.getLogger(S3Errors.class);
    private static final int MAX_MESSAGE = 300;

    /** Error codes that name a property of the object (key, size) rather than of the destination. */
    static final Set<String> PERMANENT = Set.of("EntityTooLarge", "KeyTooLongError", "InvalidObjectName", "MetadataTooLarge");

    /** Codes of a credential the store refused (unknown, wrong secret, or not allowed to write). */
    static final Set<String> CREDENTIAL_REFUSED = Set.of("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied");

    private static final Map<String, String> HINTS = Map.of(
            "NoSuchBucket", "bucket_name does not exist on host_url (it must be created beforehand)",
            "AccessDenied", "access_key may not write to bucket_name (PutObject permission)",
            "InvalidAccessKeyId", "access_key is unknown to host_url",
            "SignatureDoesNotMatch", "secret_key does not belong to access_key",
            "AuthorizationHeaderMalformed", "check region",
            "PermanentRedirect", "the bucket is in another region or behind another host_url",
            "AllAccessDisabled", "access to bucket_name is disabled",
            "InvalidBucketName", "bucket_name is not valid on this host");

    private S3Errors() {}

    static Outcome classify(Throwable error, S3Endpoint s3, Duration requestTimeout) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        Outcome outcome = classify(cause, s3.bucketName(), requestTimeout);
        String reason = redact(outcome.reason(), s3.secretKey());
        return outcome.kind() == Outcome.Kind.PERMANENT ? Outcome.permanent(reason) : Outcome.retry(reason);
    }

    private static Outcome classify(Throwable cause, String bucket, Duration requestTimeout) {
        if (cause instanceof AwsServiceException e) {
            String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
            String message = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorMessage();
            int status = e.statusCode();
            if (code == null || code.isBlank()) {
                code = status == 301 ? "PermanentRedirect" : status == 404 ? "NoSuchBucket" : "HTTP" + status;
            }
            StringBuilder reason = new StringBuilder("S3 ").append(code).append(" (HTTP ").append(status)
                    .append(") putting to bucket ").append(bucket);
            String hint = HINTS.get(code);
            if (CREDENTIAL_REFUSED.contains(code)) {
                reason.append(": credential refused, ").append(hint);
            } else if (hint != null) {
                reason.append(": ").append(hint);
            }
            if (message != null && !message.isBlank()) {
                reason.append(" [").append(clip(message)).append(']');
            }
            return PERMANENT.contains(code) ? Outcome.permanent(reason.toString()) : Outcome.retry(reason.toString());
        }
        if (cause instanceof ApiCallTimeoutException || cause instanceof ApiCallAttemptTimeoutException
                || cause instanceof TimeoutException) {
            return Outcome.retry("S3 request timed out (request_timeout " + requestTimeout + ")");
        }
        if (cause instanceof SdkClientException) {
            Throwable io = cause;
            while (io.getCause() != null && io != io.getCause()) {
                io = io.getCause();
                if (io instanceof AddressPolicy.RefusedException refused) {
                    return Outcome.retry(refused.getMessage()); // the host is the only thing it names
                }
                if (io instanceof ConnectException) {
                    return Outcome.retry("S3 host unreachable: connection refused (" + clip(io.getMessage()) + ")");
                }
                if (io instanceof UnknownHostException) {
                    return Outcome.retry("S3 host unknown: " + clip(io.getMessage()));
                }
                if (io instanceof SocketTimeoutException) {
                    return Outcome.retry("S3 request timed out: " + clip(io.getMessage()));
                }
                if (io instanceof SSLException) {
                    return Outcome.retry("S3 TLS failure (the host's certificate is not trusted or TLS failed): "
                            + clip(io.getMessage()));
                }
            }
            return Outcome.retry("S3 client error: " + clip(cause.getMessage()));
        }
        LOG.warn("Unexpected S3 delivery failure: {}", cause.getClass().getName());
        return Outcome.retry("unexpected S3 failure: " + cause.getClass().getSimpleName());
    }

    /**
     * True if the request got through to the store but the exchange broke off (not a refused
     * connection, unknown host, TLS failure or timeout): the store may have answered early.
     */
    static boolean closedMidRequest(SdkClientException e) {
        if (e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException) {
            return false;
        }
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnknownHostException || t instanceof SocketTimeoutException
                    || t instanceof SSLException) {
                return false;
            }
        }
        return true;
    }

    /** Removes the secret key wherever it might appear (servers never see it, but be sure). */
    static String redact(String reason, Secret secret) {
        if (reason == null || secret == null || secret.isEmpty()) {
            return reason;
        }
        return reason.replace(secret.reveal(), Secret.REDACTED);
    }

    private static String clip(String message) {
        if (message == null) {
            return "";
        }
        String m = message.replace('\n', ' ').replace('\r', ' ').trim();
        return m.length() <= MAX_MESSAGE ? m : m.substring(0, MAX_MESSAGE) + "...";
    }
}
