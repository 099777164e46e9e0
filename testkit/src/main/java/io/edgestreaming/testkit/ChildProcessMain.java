package io.edgestreaming.testkit;

import java.io.IOException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Entry point of the child JVMs that {@link ChildProcessKafka} starts: runs the main class named by the first
 * argument with the other arguments, and exits (running the program's shutdown hooks) as soon as its standard
 * input reaches end of file, which happens when the parent process ends however it ends, even killed with
 * {@code kill -9}. So a test JVM that dies never leaves a broker behind holding ports and CPU.
 *
 * <p>It uses nothing but the JDK: it runs on the child's class path (another Kafka release), beside none of the
 * testkit's dependencies.
 */
public final class ChildProcessMain {

    private ChildProcessMain() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length == 0) {
            System.err.println("usage: ChildProcessMain <main class> [args...]");
            System.exit(2);
        }
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // The parent writes nothing: only the end of the stream matters.
                }
            } catch (IOException e) {
                // Same as end of file: the parent is gone.
            }
            System.err.println("ChildProcessMain: the parent process is gone, exiting");
            System.exit(3);
        }, "parent-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    }
}
