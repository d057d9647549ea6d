import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import support.Scripts;
import support.Threads;

/** What the `visibility` lesson claims, proven. */
class VisibilityTest {

    // --- the stale flag, in a child JVM (which the test can destroy) ---

    /**
     * JIT behaviour, not a promise of the Java Memory Model: the child makes sure HotSpot's
     * C2 compiled its loop, and C2 hoists the plain read out of it. Any other compiler
     * (the interpreter, C1 alone, Graal), chosen e.g. through JAVA_TOOL_OPTIONS, which the
     * child inherits, may see the write: the child names its compiler, and the test skips.
     * It checks one wait (the patience), not "never"; and that the flag really is written
     * and seen by a loop that rereads it is shown by theInterpreterReadsThePlainFlag...,
     * which runs the same child with -Xint.
     */
    @Test
    @Timeout(180)
    void plainFlagIsNotSeenWithinTheWaitByTheC2CompiledLoopAndItsJvmStaysUp()
            throws Exception {
        FlagDemo.Outcome o = FlagDemo.run("plain", 1);

        assumeTrue(o.output().contains("JIT compiler: C2"),
                () -> "needs HotSpot's C2 for the stale read; the child said " + o.output());
        assertFalse(o.stopped(), "still spinning at the end of the wait: " + o.output());
        assertFalse(o.exited(), "a non-daemon thread still spinning keeps the JVM up");
    }

    @Test
    @Timeout(180)
    void volatileFlagStopsTheSpinnerAndItsJvmExitsOnAnyCompiler() throws Exception {
        var outcome = new FlagDemo.Outcome[1];
        String out = captureOut(() -> outcome[0] = FlagDemo.run("volatile", 0.1));
        FlagDemo.Outcome o = outcome[0];

        assertTrue(o.stopped(), "join returned: the write was seen. " + o.output());
        assertTrue(o.exited());
        assertTrue(out.contains("    Child.java volatile 10000\n"), "speed scales: " + out);
    }

    @Test
    @Timeout(180)
    void theInterpreterReadsThePlainFlagOnEveryTurn() throws Exception {
        var options = new ArrayList<>(FlagDemo.OPTIONS);
        options.add("-Xint");
        try (var child = StaleFlag.ChildJvm.start(StopFlagChild.SOURCE, options,
                "plain", "10000")) {
            assertEquals("spinner stopped", StaleFlag.relay(child, "spinner s", 150_000));
            assertTrue(child.output().contains("JIT compiler: none"), child.output()::toString);
        }
    }

    /** The child names its JIT compiler from its own VM options, as the skip relies on. */
    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({"-XX:TieredStopAtLevel=1, 'no C2: TieredStopAtLevel=1'",
                "-XX:TieredStopAtLevel=3, 'no C2: TieredStopAtLevel=3'",
                "-XX:-TieredCompilation, C2"})
    @Timeout(120)
    void childNamesItsCompiler(String option, String compiler) throws Exception {
        assumeTrue(System.getenv("JAVA_TOOL_OPTIONS") == null
                && System.getenv("JDK_JAVA_OPTIONS") == null, "no options from outside");
        try (var child = StaleFlag.ChildJvm.start(StopFlagChild.SOURCE, List.of(option),
                "volatile", "10000")) {
            assertEquals("JIT compiler: " + compiler,
                    StaleFlag.relay(child, "JIT compiler: ", 90_000));
        }
    }

    @Test
    @Timeout(60)
    void relayPrintsProgressWhileTheChildIsQuiet() throws Exception {
        String quiet = """
                public class Child {
                    public static void main(String[] args) throws Exception {
                        Thread.sleep(3_000);
                        System.out.println("done");
                    }
                }
                """;
        String out = captureOut(() -> {
            try (var child = StaleFlag.ChildJvm.start(quiet, List.of())) {
                assertEquals("done", StaleFlag.relay(child, "done", 50_000));
            }
        });
        List<String> lines = out.lines().toList();  // the wait may be the first line
        assertTrue(lines.contains("  (waiting for the child JVM)"), out);
        assertTrue(lines.contains("  child: done"), out);
    }

    // --- hand-offs over happens-before edges ---

    /**
     * What the section prints, as the prose says every run does. Plain fields would print
     * the same on x86: the guarantee itself is checked (under stress) by the next test.
     */
    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void handoffSectionShowsEachEdgeDeliveringTheWholeOrder() throws Exception {
        var run = Scripts.compiled("visibility", "handoff");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals(List.of(
                "start:    the thread sees 2 x tea",
                "join:     the caller sees 1 x cake",
                "volatile: the reader sees 3 x jam",
                "lock:     the reader sees 4 x bread",
                "queue:    the reader sees 5 x milk"),
                run.stdout().lines().filter(l -> !l.isBlank() && !l.startsWith("==")).toList());
    }

    /**
     * Correct publication under stress: a reader never sees an order half built. This only
     * confirms the correct version: on x86 a plain field would pass too (see singleton).
     */
    @Test
    @Timeout(60)
    void ordersPublishedOverAVolatileOrAQueueAreAlwaysWhole() throws Exception {
        int orders = 100_000;
        var latest = new AtomicReference<Order>();  // a volatile field inside
        BlockingQueue<Order> queue = new ArrayBlockingQueue<>(64);
        List<String> failures = new CopyOnWriteArrayList<>();  // from either thread
        Thread writer = Thread.ofPlatform().name("writer").start(() -> {
            try {
                for (int i = 1; i <= orders; i++) {
                    latest.set(new Order("item-" + i, i));
                    if (!queue.offer(new Order("item-" + i, i), 10, TimeUnit.SECONDS)) {
                        failures.add("writer: queue full for 10 s at order " + i);
                        return;
                    }
                }
            } catch (InterruptedException e) {
                failures.add("writer interrupted");
            }
        });
        Thread reader = Thread.ofPlatform().name("reader").start(() -> {
            try {
                for (int i = 1; i <= orders; i++) {
                    Order taken = queue.poll(10, TimeUnit.SECONDS);
                    Order seen = latest.get();
                    if (taken == null || !("item-" + taken.quantity).equals(taken.item)
                            || seen == null || !("item-" + seen.quantity).equals(seen.item)) {
                        failures.add("reader: " + taken + " / " + seen);
                        return;
                    }
                }
            } catch (InterruptedException e) {
                failures.add("reader interrupted");
            }
        });
        Threads.joinAll(List.of(writer, reader));
        assertEquals(List.of(), failures);
    }

    // --- helpers ---

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static String captureOut(ThrowingRunnable body) throws Exception {
        PrintStream original = System.out;
        var buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setOut(original);
        }
        return buffer.toString(StandardCharsets.UTF_8);
    }
}
