import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import support.Scripts;
import support.Threads;

/**
 * What the `daemon_threads` lesson claims, proven with its own child program and
 * launcher. Whether a JVM exits is judged only against another JVM that did exit: a
 * child that is merely slow never passes as "kept alive". No test depends on how fast
 * anything is; every wait is bounded, generously (JvmWatch.START_MILLIS).
 */
class DaemonThreadsTest {
    private static final String MINUTE = "60000";  // a beat no test waits for
    private static final long LIMIT = JvmWatch.START_MILLIS;

    /** The child's lines without its beats ("heartbeat 1", "heartbeat 2", ...). */
    private static List<String> withoutBeats(List<String> output) {
        return output.stream().filter(l -> !l.matches("heartbeat \\d+")).toList();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"daemon", "virtual"})
    @Timeout(120)
    void jvmExitsWhenMainReturnsAndCutsTheHeartbeatOff(String kind) throws Exception {
        try (var child = JvmWatch.ChildJvm.start(Heartbeat.CHILD, List.of(), kind, MINUTE)) {
            assertTrue(child.exitsWithin(LIMIT), "exited by itself: " + child.output());
            assertEquals(0, child.process().exitValue());
            assertEquals(List.of("heartbeat 1", "main: returns", "hook: heartbeat alive true"),
                    child.output(), "the hook saw it alive; its finally never ran");
        }
    }

    @Test
    @Timeout(300)
    void nonDaemonHeartbeatKeepsTheJvmAliveAfterMainReturns() throws Exception {
        try (var nonDaemon = JvmWatch.ChildJvm.start(Heartbeat.CHILD, List.of(),
                "non-daemon", "200")) {
            DaemonExit.afterMain(nonDaemon, "non-daemon", 1, 200);
            // The comparison: a whole JVM starts, returns from main and exits meanwhile.
            try (var daemon = JvmWatch.ChildJvm.start(Heartbeat.CHILD, List.of(), "daemon",
                    "200")) {
                assertTrue(daemon.exitsWithin(LIMIT), "the comparison never exited");
            }
            // Re-checked after it: still running, and still beating.
            long beats = nonDaemon.output().stream().filter(l -> l.startsWith("heartbeat "))
                    .count();
            JvmWatch.follow(nonDaemon, "non-daemon", 0, "heartbeat " + (beats + 1), LIMIT);
            assertTrue(nonDaemon.process().isAlive());
            assertEquals(List.of("main: returns"), withoutBeats(nonDaemon.output()),
                    "no shutdown began: no hook, no finally");
        }
    }

    @Test
    @Timeout(300)
    void sigtermRunsTheHookThatStopsTheHeartbeatAndSigkillRunsNothing() throws Exception {
        assumeFalse(System.getProperty("os.name").startsWith("Windows"), "no signals");
        var ended = Signals.demo(1_000);
        var term = ended.get(0);
        var kill = ended.get(1);
        assertEquals("SIGTERM", term.signal());
        assertEquals(143, term.status(), "128 + SIGTERM's 15");
        assertEquals(List.of("main: returns", "hook: heartbeat alive true",
                "heartbeat: interrupted", "heartbeat: finally"), withoutBeats(term.output()));
        assertEquals("SIGKILL", kill.signal());
        assertEquals(137, kill.status(), "128 + SIGKILL's 9");
        assertEquals(List.of("main: returns"), withoutBeats(kill.output()),
                "no hook, no finally");
    }

    /** Without "stop" the hook leaves the heartbeat alone: after the hooks the JVM
     *  terminates with the non-daemon heartbeat still running, and its finally never runs. */
    @Test
    @Timeout(180)
    void afterTheHooksTheJvmTerminatesWhateverStillRuns() throws Exception {
        assumeFalse(System.getProperty("os.name").startsWith("Windows"), "no signals");
        try (var child = JvmWatch.ChildJvm.start(Heartbeat.CHILD, List.of(), "non-daemon",
                "1000")) {
            DaemonExit.afterMain(child, "no stop", 1, 1_000);
            child.process().toHandle().destroy();  // SIGTERM
            assertTrue(child.exitsWithin(LIMIT), "SIGTERM ended it: " + child.output());
            assertEquals(143, child.process().exitValue());
            assertEquals(List.of("main: returns", "hook: heartbeat alive true"),
                    withoutBeats(child.output()));
        }
    }

    @Test
    @Timeout(60)
    void flagsComeFromTheCreatorOrTheFactory() throws Exception {
        String mine = Thread.currentThread().isDaemon() ? "daemon" : "non-daemon";
        assertEquals("non-daemon", mine, "JUnit runs this test on a non-daemon thread");
        var fromHere = DaemonFlags.rows().stream().map(DaemonFlags.Row::daemon).toList();
        assertEquals(List.of(mine, mine, "daemon", "daemon", "non-daemon", "daemon",
                "daemon", "throws IllegalThreadStateException",
                "throws IllegalArgumentException"), fromHere);

        var fromDaemon = new ArrayList<DaemonFlags.Row>();  // read after the join
        Thread daemon = Thread.ofPlatform().daemon().start(() -> {
            try {
                fromDaemon.addAll(DaemonFlags.rows());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Threads.joinAll(List.of(daemon));
        assertEquals(List.of("daemon", "daemon"),
                fromDaemon.stream().limit(2).map(DaemonFlags.Row::daemon).toList(),
                "a daemon, and the thread it makes with new Thread(r)");
    }

    /** In JDK 25 runAsync uses the common pool at any parallelism; up to JDK 24, below 2
     *  it started a new Thread per task. Each parallelism gets a JVM of its own. */
    @ParameterizedTest(name = "parallelism {0}")
    @ValueSource(ints = {0, 1, 3})
    @Timeout(150)
    void runAsyncUsesTheCommonPoolsDaemonsAtAnyParallelism(int parallelism)
            throws Exception {
        var run = Scripts.compiled(Duration.ofSeconds(120), List.of(
                "-Djava.util.concurrent.ForkJoinPool.common.parallelism=" + parallelism),
                "daemon_threads", "flags");
        String printed = run.stdout();
        assertEquals(0, run.exitCode(), printed + run.stderr());
        assertTrue(printed.lines().anyMatch(l -> l.matches(
                " +daemon +runAsync\\(\\.\\.\\.\\) ran on 'ForkJoinPool.commonPool-worker-\\d+'")),
                printed);
        int raised = parallelism == 0 ? 2 : parallelism;  // asyncCommonPool(): 0 -> 2
        assertTrue(printed.contains("common pool parallelism " + raised + ","), printed);
    }

    @Test
    @Timeout(300)  // longer than the limit given to the script's JVM
    void exitSectionShowsTheDaemonChildExitAndTheOtherLive() throws Exception {
        // exit --speed 20 starts two more JVMs (~30 s on a loaded box): a limit of 240 s
        var run = Scripts.compiled(Duration.ofSeconds(240), List.of(), "daemon_threads",
                "exit", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertTrue(lines.contains("  daemon     | hook: heartbeat alive true"), run.stdout());
        assertTrue(lines.contains("  daemon       exited, status 0"), run.stdout());
        assertFalse(lines.stream().anyMatch(l -> l.endsWith("heartbeat: finally")),
                run.stdout());
        assertEquals("  non-daemon   alive 3 beats after main returned: true (killed now)",
                lines.getLast());
        var afterMain = lines.subList(lines.indexOf("  non-daemon | main: returns") + 1,
                lines.size() - 1).stream().filter(l -> !l.endsWith("(waiting for the JVM)"));
        assertEquals(List.of("heartbeat", "heartbeat", "heartbeat"), afterMain.map(l ->
                l.replaceAll("^  non-daemon \\| (heartbeat) \\d+$", "$1")).toList(),
                "three beats after main returned, then the kill");
    }
}
