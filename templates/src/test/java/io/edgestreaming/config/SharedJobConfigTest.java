package io.edgestreaming.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SharedJobConfigTest {

    @Test
    void decodesOncePerFingerprintAndSharesTheInstance() throws Exception {
        JobConfig config = ConfigTesting.parse(ConfigTesting.MINIMAL);
        SharedJobConfig.Encoded encoded = SharedJobConfig.encode(config);
        AtomicInteger reads = new AtomicInteger();

        SharedJobConfig.Shared first = SharedJobConfig.resolve(encoded.fingerprint(), () -> {
            reads.incrementAndGet();
            return encoded.payload();
        });
        SharedJobConfig.Shared second = SharedJobConfig.resolve(encoded.fingerprint(), () -> {
            reads.incrementAndGet();
            return encoded.payload();
        });

        assertThat(second).isSameAs(first);
        assertThat(reads).hasValue(1);
        assertThat(first.config().toString()).isEqualTo(config.toString());
        Long id = first.slice("id", c -> c.streams().get(0).id());
        Long again = second.slice("id", c -> -1L);
        assertThat(again).isSameAs(id);
        // The payload holds the secrets: neither form prints it.
        assertThat(encoded.toString()).doesNotContain(encoded.payload());
        assertThat(first.toString()).contains(encoded.fingerprint()).doesNotContain("siem.example.com");
    }

    @Test
    void aPayloadThatIsNotTheFingerprintsOrNoneIsRefused() throws Exception {
        // (Names of their own: a fingerprint already cached is answered without reading any payload.)
        SharedJobConfig.Encoded one = SharedJobConfig.encode(ConfigTesting.parse(
                ConfigTesting.MINIMAL.replace("name: s1", "name: refused")));
        SharedJobConfig.Encoded other = SharedJobConfig.encode(ConfigTesting.parse(
                ConfigTesting.MINIMAL.replace("name: s1", "name: s2")));
        assertThat(other.fingerprint()).isNotEqualTo(one.fingerprint());

        assertThatThrownBy(() -> SharedJobConfig.resolve(one.fingerprint(), other::payload))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("does not match");
        assertThatThrownBy(() -> SharedJobConfig.resolve(one.fingerprint(), () -> null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("does not carry");
    }

    @Test
    void aConfigurationNoOperatorHoldsIsReleased() throws Exception {
        SharedJobConfig.Encoded encoded = SharedJobConfig.encode(ConfigTesting.parse(
                ConfigTesting.MINIMAL.replace("name: s1", "name: released")));
        SharedJobConfig.Shared shared = SharedJobConfig.resolve(encoded.fingerprint(), encoded::payload);
        assertThat(shared).isNotNull();
        int withIt = SharedJobConfig.cached();
        shared = null;
        // Weakly held: gone once collected (a restarted job with another configuration does not keep this one).
        for (int i = 0; i < 50 && SharedJobConfig.cached() >= withIt; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(SharedJobConfig.cached()).isLessThan(withIt);
    }
}
