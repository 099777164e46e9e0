package io.edgestreaming.connectors.kafka;

import io.edgestreaming.config.KafkaEndpoint;
import io.edgestreaming.config.Secret;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TransactionAbortedException;
import org.apache.kafka.common.errors.UnknownProducerIdException;

/**
 * Secret-free text for Kafka failures (logs, outcomes, dead-letter manifests), like {@code S3Errors}.
 * Public for the command-line tool, whose reports must read like the job's.
 */
public final class KafkaErrors {
    private KafkaErrors() {}

    /**
     * Whether a commit of a resumed or live transaction failed because the transaction had already
     * ended (committed, aborted or its id re-initialised). Under transaction.version 2 a committed
     * transaction answers a second commit this way too, so this is never proof of an abort.
     */
    static boolean transactionEnded(Throwable e) {
        Throwable c = unwrap(e);
        return c instanceof ProducerFencedException || c instanceof InvalidProducerEpochException
                || c instanceof InvalidTxnStateException || c instanceof UnknownProducerIdException
                || c instanceof TransactionAbortedException || c instanceof InvalidPidMappingException;
    }

    /** A short, secret-free reason for logs, outcomes and dead-letter manifests. */
    public static String reason(Throwable error, KafkaEndpoint ep) {
        Throwable e = unwrap(error);
        String message = e.getMessage() == null ? "" : e.getMessage();
        String r;
        if (e instanceof BrokerAddressRefusedException) {
            r = message;
        } else if (e instanceof SslAuthenticationException) {
            r = "TLS handshake failed: " + message;
        } else if (e instanceof AuthenticationException) {
            r = "authentication failed" + (ep == null || ep.sasl() == null ? "" : " (SASL " + ep.sasl().mechanism() + ", user "
                    + ep.sasl().username() + ")") + ": " + message;
        } else if (e instanceof AuthorizationException) {
            r = "not authorised: " + message;
        } else if (e instanceof TimeoutException) {
            r = "timed out (cluster unreachable or topic " + (ep == null ? "?" : ep.kafkaTopic()) + " missing?): " + message;
        } else {
            r = e.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
        }
        if (ep != null && ep.sasl() != null && ep.sasl().password() != null && !ep.sasl().password().isEmpty()) {
            r = r.replace(ep.sasl().password().reveal(), Secret.REDACTED);
        }
        return r.length() > 500 ? r.substring(0, 500) + "..." : r;
    }

    static String tooLarge(String blockId, int bytes, KafkaEndpoint ep, Throwable e) {
        return "message of block " + blockId + " (" + bytes + " bytes before compression) is larger than " + ep.describe()
                + " accepts (broker message.max.bytes / topic max.message.bytes): " + e.getMessage();
    }

    static String fateUnknown(String txnId, long checkpointId, int blocks, String why) {
        return "transaction " + txnId + " of checkpoint " + checkpointId + " (" + blocks + " blocks) ended before it could be"
                + " committed again and Kafka can no longer tell whether it was committed (" + why + "); its blocks are"
                + " written again, so a read_committed consumer may see them twice";
    }

    private static Throwable unwrap(Throwable error) {
        Throwable e = error;
        while ((e instanceof ExecutionException || e instanceof CompletionException
                || (e instanceof KafkaException && !(e instanceof ApiException)))
                && e.getCause() != null && e.getCause() != e) {
            e = e.getCause();
        }
        return e;
    }
}
