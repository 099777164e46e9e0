package io.edgestreaming.connectors;

import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/** Collects the formatted messages logged under {@code io.edgestreaming} while open (INFO and up). */
public final class LogCapture extends AbstractAppender implements AutoCloseable {
    private static final String LOGGER = "io.edgestreaming";
    private final List<String> messages = new ArrayList<>();

    private LogCapture() {
        super("log-capture-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY);
    }

    public static LogCapture open() {
        LogCapture capture = new LogCapture();
        capture.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getLoggerConfig(LOGGER).addAppender(capture, Level.INFO, null);
        context.updateLoggers();
        return capture;
    }

    @Override
    public void append(LogEvent event) {
        String message = event.getMessage().getFormattedMessage();
        synchronized (messages) {
            messages.add(message);
        }
    }

    /** Messages so far that contain every one of the fragments. */
    public List<String> matching(String... fragments) {
        List<String> out = new ArrayList<>();
        synchronized (messages) {
            for (String m : messages) {
                boolean all = true;
                for (String f : fragments) {
                    all &= m.contains(f);
                }
                if (all) {
                    out.add(m);
                }
            }
        }
        return out;
    }

    public List<String> all() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getLoggerConfig(LOGGER).removeAppender(getName());
        context.updateLoggers();
        stop();
    }
}
