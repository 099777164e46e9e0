package io.edgestreaming.connectors.s3;

import static io.edgestreaming.connectors.Fixtures.delivery;
import static io.edgestreaming.connectors.Fixtures.job;
import static io.edgestreaming.connectors.Fixtures.stream;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgestreaming.connectors.Block;
import io.edgestreaming.connectors.BlockTypeInfoFactory;
import io.edgestreaming.connectors.DeliveryTopology;
import io.edgestreaming.config.JobConfig;
import io.edgestreaming.config.S3Endpoint;
import io.edgestreaming.config.Secret;
import io.edgestreaming.testkit.EmbeddedS3;
import io.edgestreaming.templates.DataSource;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.zip.GZIPInputStream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A MiniCluster job (blocks into {@link DeliveryTopology}, s3 endpoint) that fails once mid-way and
 * restarts from its last checkpoint: every block ends up in exactly one object (those already stored
 * are overwritten under the same name, never stored twice), gzip objects decompress to the block, and
 * no multipart upload is left open.
 */
class S3RestartITCase {
    private static final Logger LOG = LoggerFactory.getLogger(S3RestartITCase.class);
    private static final int BLOCKS = 80;
    private static final String BUCKET = "restart";
    private static final AtomicBoolean FAILED = new AtomicBoolean();
    private static volatile EmbeddedS3 server;

    @TempDir
    Path deadLetters;

    @Test
    void aRestartedJobStoresEveryBlockInExactlyOneObject() throws Exception {
        try (EmbeddedS3 s3 = EmbeddedS3.start("restart-access", "restart-secret")) {
            server = s3;
            FAILED.set(false);
            s3.createBucket(BUCKET);
            S3Endpoint endpoint = new S3Endpoint(s3.endpoint(), BUCKET, EmbeddedS3.REGION, s3.accessKey(),
                    Secret.of(s3.secretKey()), "edge", "application/gzip", S3Endpoint.KeyLayout.AZION);
            JobConfig config = job(deadLetters, delivery(), stream(1, endpoint));
            Configuration conf = new Configuration();
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(1);
            env.enableCheckpointing(100);
            var blocks = env.fromSequence(0, BLOCKS - 1).map(S3RestartITCase::blockOf).returns(BlockTypeInfoFactory.TYPE_INFO);
            DeliveryTopology.attach(blocks, config);
            env.execute("s3 delivery restart");

            assertThat(FAILED).as("the job failed once on purpose").isTrue();
            List<String> keys = s3.listKeys(BUCKET);
            assertThat(keys).hasSize(BLOCKS).allMatch(k -> k.matches("edge_\\d{13}_[0-9a-f-]{36}"));
            List<String> records = new ArrayList<>();
            for (String key : keys) {
                assertThat(s3.contentType(BUCKET, key)).isEqualTo("application/gzip");
                records.add(new String(gunzip(s3.get(BUCKET, key)), StandardCharsets.US_ASCII));
            }
            assertThat(records).containsExactlyInAnyOrderElementsOf(
                    LongStream.range(0, BLOCKS).mapToObj(S3RestartITCase::record).collect(Collectors.toList()));
            assertThat(s3.openMultipartUploads(BUCKET)).isEmpty();
            LOG.info("S3 restart: {} objects for {} blocks", keys.size(), BLOCKS);
        } finally {
            server = null;
        }
    }

    private static String record(long i) {
        return "{\"i\":\"" + i + "\"}";
    }

    /** Content depends on i only: a replay after the restart re-cuts identical blocks. */
    private static Block blockOf(long i) throws InterruptedException {
        Thread.sleep(20);
        // Fail once, after some objects are stored: those delivered after the last checkpoint are still
        // pending in it and are put again after the restore.
        if (i >= 30 && !FAILED.get() && server.listKeys(BUCKET).size() >= 15 && !FAILED.getAndSet(true)) {
            throw new IllegalStateException("injected failure");
        }
        return new Block(1, DataSource.HTTP, "example.com", i, 1, record(i).getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] gunzip(byte[] bytes) {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
