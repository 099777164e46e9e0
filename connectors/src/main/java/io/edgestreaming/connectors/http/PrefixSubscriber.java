package io.edgestreaming.connectors.http;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/** Keeps the first {@code limit} bytes of a body and drains the rest. */
final class PrefixSubscriber implements HttpResponse.BodySubscriber<byte[]> {
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final byte[] prefix;
    private int length;

    PrefixSubscriber(int limit) {
        this.prefix = new byte[limit];
    }

    @Override
    public CompletionStage<byte[]> getBody() {
        return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        for (ByteBuffer buffer : items) {
            int n = Math.min(buffer.remaining(), prefix.length - length);
            buffer.get(prefix, length, n);
            length += n;
        }
    }

    @Override
    public void onError(Throwable throwable) {
        result.completeExceptionally(throwable);
    }

    @Override
    public void onComplete() {
        result.complete(java.util.Arrays.copyOf(prefix, length));
    }
}
