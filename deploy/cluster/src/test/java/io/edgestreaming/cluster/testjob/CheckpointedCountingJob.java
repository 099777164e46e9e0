package io.edgestreaming.cluster.testjob;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * A small unbounded job with what a lost TaskManager breaks: checkpointed source splits, keyed state, a network
 * shuffle and files written by the tasks. Packed into a jar at test time and submitted to the standalone cluster
 * with Flink's CLI. Argument: the output directory; each sink subtask attempt writes its own file
 * {@code part-<subtask>-attempt-<attempt>.txt}, so a test can see records flowing again after a restart.
 */
public final class CheckpointedCountingJob {

    private CheckpointedCountingJob() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: CheckpointedCountingJob <output directory>");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(500);
        env.fromSequence(0, Long.MAX_VALUE).name("numbers").setParallelism(1)
                .map(new Throttle()).name("throttle").setParallelism(1)
                .keyBy(new ModFour())
                .map(new CountPerKey()).name("count per key").setParallelism(2)
                .sinkTo(new LineFileSink(args[0])).name("files").setParallelism(2);
        env.execute("checkpointed-counting");
    }

    /** Keeps the job slow enough that checkpoints and files stay small (~500 records/s). */
    static final class Throttle extends RichMapFunction<Long, Long> {
        @Override
        public Long map(Long value) throws InterruptedException {
            Thread.sleep(2);
            return value;
        }
    }

    static final class ModFour implements KeySelector<Long, Long> {
        @Override
        public Long getKey(Long value) {
            return value % 4;
        }
    }

    /** Keyed state that must survive the restart: the count per key. */
    static final class CountPerKey extends RichMapFunction<Long, String> {
        private transient ValueState<Long> count;

        @Override
        public void open(OpenContext openContext) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }

        @Override
        public String map(Long value) throws IOException {
            long next = (count.value() == null ? 0 : count.value()) + 1;
            count.update(next);
            return (value % 4) + " " + next + " " + value;
        }
    }

    static final class LineFileSink implements Sink<String> {
        private final String directory;

        LineFileSink(String directory) {
            this.directory = directory;
        }

        @Override
        public SinkWriter<String> createWriter(WriterInitContext context) throws IOException {
            Path dir = Path.of(directory);
            Files.createDirectories(dir);
            Path file = dir.resolve("part-" + context.getTaskInfo().getIndexOfThisSubtask() + "-attempt-"
                    + context.getTaskInfo().getAttemptNumber() + ".txt");
            return new LineFileWriter(Files.newBufferedWriter(
                    file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND));
        }
    }

    static final class LineFileWriter implements SinkWriter<String> {
        private final BufferedWriter out;

        LineFileWriter(BufferedWriter out) {
            this.out = out;
        }

        @Override
        public void write(String line, Context context) throws IOException {
            out.write(line);
            out.newLine();
        }

        @Override
        public void flush(boolean endOfInput) throws IOException {
            out.flush(); // on each checkpoint: the test watches the files grow
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }
}
