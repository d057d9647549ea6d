import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Threads;

/**
 * What the `daemon_threads` lesson claims, proven. Most tests run the lesson's child JVM
 * and check what it printed and whether it exited, never how fast: a child's job is
 * either a minute long (so a child that exits cannot have finished it) or never ends.
 */
class DaemonThreadsTest {
    private static final long A_MINUTE = 60_000;  // longer than any bound below

    @Test
    @Timeout(120)
    void jvmExitsWhileADaemonWorksAndAbandonsIt() throws Exception {
        JvmExitWatch.Outcome o;
        try (var child =
                JvmExitWatch.Child.start("daemon", "daemon", A_MINUTE, "report")) {
            child.awaitMainReturned();
            assertTrue(child.awaitExit(JvmExitWatch.EXIT_LIMIT), "exited by itself");
            o = child.finish();
        }
        assertEquals(0, o.exitCode(), o.lines().toString());
        assertTrue(o.printed("worker: started"), o.lines().toString());
        assertFalse(o.printed("worker: finished"), o.lines().toString());
        assertFalse(o.printed("worker: finally ran"), "a daemon's finally never runs");
        assertTrue(o.printed("hook: runs, worker alive: true"), o.lines().toString());
    }

    @Test
    @Timeout(120)
    void jvmExitsOnlyAfterItsNonDaemonWorkerEnds() throws Exception {
        JvmExitWatch.Outcome o;
        try (var child = JvmExitWatch.Child.start("platform", "platform", 50, "report")) {
            o = child.finish();
        }
        assertEquals(0, o.exitCode(), o.lines().toString());
        assertTrue(o.printed("main: returns"), o.lines().toString());
        // Whether main or the worker prints first varies; the JVM's exit comes last.
        var lines = o.lines();
        int finished = lines.indexOf("worker: finished");
        int finallyRan = lines.indexOf("worker: finally ran");
        int hook = lines.indexOf("hook: runs, worker alive: false");
        assertTrue(0 <= finished && finished < finallyRan && finallyRan < hook,
                lines.toString());
        assertEquals(lines.size() - 1, hook, "the hook, the last thing before exit");
    }

    @Test
    @Timeout(120)
    void neverEndingNonDaemonKeepsTheJvmAliveUntilKilled() throws Exception {
        JvmExitWatch.Outcome o;
        try (var child = JvmExitWatch.Child.start("forever", "platform", -1, "report")) {
            child.awaitMainReturned();
            assertFalse(child.awaitExit(Duration.ofMillis(500)), "cannot exit by itself");
            assertTrue(child.isAlive());
            child.kill(true);
            o = child.finish();
        }
        assertFalse(o.exitedByItself());
        assertEquals(137, o.exitCode(), "128 + SIGKILL's 9");
        assertEquals(List.of("worker: started", "main: returns"), o.lines(),
                "SIGKILL runs neither the hook nor the worker's finally");
    }

    @Test
    @Timeout(120)
    void closingTheHandleKillsAChildThatIsStillRunning() throws Exception {
        JvmExitWatch.Child leaked;
        try (var child = JvmExitWatch.Child.start("forever", "platform", -1, "report")) {
            leaked = child;
            child.awaitMainReturned();
        }
        assertFalse(leaked.isAlive());
    }

    @Test
    @Timeout(120)
    void shutdownHookRunsOnSigtermButNotOnSigkill() throws Exception {
        assumeFalse(System.getProperty("os.name").startsWith("Windows"), "no signals");
        List<JvmExitWatch.Outcome> outcomes = ShutdownHookDemo.signals();
        var term = outcomes.get(0);
        var kill = outcomes.get(1);
        assertEquals(143, term.exitCode(), "128 + SIGTERM's 15");
        assertEquals(List.of("worker: started", "main: returns",
                "hook: runs, worker alive: true", "worker: interrupted",
                "worker: finally ran", "hook: worker stopped: true"), term.lines());
        assertEquals(137, kill.exitCode(), "128 + SIGKILL's 9");
        assertEquals(List.of("worker: started", "main: returns"), kill.lines());
    }

    @Test
    @Timeout(120)
    void mainThatOnlyStartsAVirtualThreadExitsWithoutIt() throws Exception {
        JvmExitWatch.Outcome o;
        try (var child =
                JvmExitWatch.Child.start("virtual", "virtual", A_MINUTE, "report")) {
            child.awaitMainReturned();
            assertTrue(child.awaitExit(JvmExitWatch.EXIT_LIMIT), "exited by itself");
            o = child.finish();
        }
        assertEquals(0, o.exitCode(), o.lines().toString());
        assertFalse(o.printed("worker: finished"), o.lines().toString());
        assertFalse(o.printed("worker: finally ran"), o.lines().toString());
    }

    @Test
    @Timeout(10)
    void virtualThreadsAreAlwaysDaemons() throws Exception {
        var release = new CountDownLatch(1);
        Thread v = Thread.ofVirtual().name("v").start(() -> {
            try {
                release.await(Threads.LONG.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertTrue(v.isDaemon());
            assertThrows(IllegalArgumentException.class, () -> v.setDaemon(false));
            assertTrue(Thread.ofVirtual().unstarted(() -> { }).isDaemon());
            assertThrows(IllegalArgumentException.class,
                    () -> Thread.ofVirtual().unstarted(() -> { }).setDaemon(false));
        } finally {
            release.countDown();
            Threads.joinAll(List.of(v));
        }
    }

    @Test
    @Timeout(10)
    void daemonFlagIsInheritedAndFactoriesDecideForThemselves() throws Exception {
        var rows = DaemonFacts.rows();
        String mine = Thread.currentThread().isDaemon() ? "daemon" : "non-daemon";
        assertEquals(List.of(mine, mine, mine, "daemon", "daemon", "non-daemon", "daemon",
                        "throws IllegalThreadStateException"),
                rows.stream().map(DaemonFacts.Row::daemon).toList());
    }

    @Test
    @Timeout(10)
    void aDaemonThreadsChildrenAreDaemonsUnlessToldOtherwise() throws Exception {
        var flags = new boolean[3];
        Thread parent = Thread.ofPlatform().daemon().name("parent").start(() -> {
            flags[0] = new Thread(() -> { }).isDaemon();
            flags[1] = Thread.ofPlatform().unstarted(() -> { }).isDaemon();
            flags[2] = Thread.ofPlatform().daemon(false).unstarted(() -> { }).isDaemon();
        });
        Threads.joinAll(List.of(parent));
        assertTrue(flags[0]);
        assertTrue(flags[1]);
        assertFalse(flags[2]);
    }

    @Test
    void optionsDefaultToHalfASecondOfWork() {
        assertEquals(new daemon_threads.Options(500, 1.0), daemon_threads.parse());
        assertEquals(250, daemon_threads.parse("--speed", "2").scaledWork());
        assertEquals(1000, daemon_threads.parse("--work", "250", "--speed", "0.25")
                .scaledWork());
        assertEquals(100, daemon_threads.parse("--speed", "20").scaledWork(), "floor");
        assertEquals(100, daemon_threads.parse("--work", "1").scaledWork(), "floor");
        assertNull(daemon_threads.parse("--work", "7", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--work wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> daemon_threads.parse("--work", "0")).getMessage());
        assertEquals("unknown argument '--bogus'",
                assertThrows(IllegalArgumentException.class,
                        () -> daemon_threads.parse("--bogus", "1")).getMessage());
        assertEquals("--speed wants a positive number, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> daemon_threads.parse("--speed", "fast")).getMessage());
        assertEquals("--work needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> daemon_threads.parse("--work")).getMessage());
    }
}
