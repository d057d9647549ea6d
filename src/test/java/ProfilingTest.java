import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `profiling` lesson claims, proven: its lower bound and what JFR records. */
class ProfilingTest {
    static final String MONITOR_ENTER = "jdk.JavaMonitorEnter";
    static final String PARK = "jdk.ThreadPark";

    @BeforeAll
    @Timeout(60)
    static void startJfrOnce() throws Exception {
        // JFR starts threads of its own with the first recording and keeps them for the
        // JVM's lifetime: start them here, before any test's leak check looks.
        JfrWaits.record("nobody", () -> { });
    }

    static List<Wait> of(List<Wait> waits, Predicate<Wait> which) {
        return waits.stream().filter(which).toList();
    }

    @Test
    @Timeout(60)
    void slowMotionRecordsOneMonitorEnterForPoster1AndParksForPoster2() throws Exception {
        List<Wait> waits = SlowMotion.replay(0);

        List<Wait> first = of(waits, w -> w.thread().equals("poster-1"));
        assertEquals(1, first.size(), waits.toString());
        assertEquals(MONITOR_ENTER, first.getFirst().event());
        assertEquals("ContendedLedger", first.getFirst().on());
        assertTrue(first.getFirst().site().startsWith("ContendedLedger.postHoldingMonitor line "),
                first.getFirst().site());

        List<Wait> second = of(waits, w -> w.thread().equals("poster-2"));
        assertTrue(second.size() >= 1, waits.toString());
        for (Wait w : second) {
            assertEquals(PARK, w.event());
            assertEquals("ReentrantLock$NonfairSync", w.on());
            assertTrue(w.site().startsWith("ContendedLedger.postHoldingLock line "), w.site());
        }
    }

    @Test
    @Timeout(60)
    void contendedMonitorRecordsOnlyMonitorEntersAndContendedLockOnlyParks() throws Exception {
        Map<String, List<Wait>> byWay = RealRun.compare(4, 100, Duration.ofMillis(2));

        assertEquals(List.of("write inside synchronized", "write inside ReentrantLock",
                "write outside (the fix)"), List.copyOf(byWay.keySet()));
        List<Wait> monitor = byWay.get("write inside synchronized");
        assertTrue(monitor.size() >= 1, "the posters queued on the monitor");
        for (Wait w : monitor) {
            assertEquals(MONITOR_ENTER, w.event(), w.toString());
            assertTrue(w.site().startsWith("ContendedLedger.postHoldingMonitor line "), w.site());
        }
        List<Wait> lock = byWay.get("write inside ReentrantLock");
        assertTrue(lock.size() >= 1, "the posters queued on the lock");
        for (Wait w : lock) {
            assertEquals(PARK, w.event(), "a ReentrantLock wait is never a monitor enter");
            assertEquals("ReentrantLock$NonfairSync", w.on());
            assertTrue(w.site().startsWith("ContendedLedger.postHoldingLock line "), w.site());
        }
        assertEquals(List.of(), of(byWay.get("write outside (the fix)"),
                w -> w.event().equals(PARK)), "the fix never parks");
    }

    @Test
    @Timeout(60)
    void aLonePosterWaitsForNothing() throws Exception {
        Map<String, List<Wait>> byWay = RealRun.compare(1, 20, Duration.ofMillis(1));

        byWay.forEach((way, waits) -> assertEquals(List.of(), waits, way));
    }

    @Test
    @Timeout(60)
    void writesInsideTheMonitorTakeTurnsHoweverManyThreadsShareThem() throws Exception {
        Duration took = Posters.run(4, 40, ContendedLedger::postHoldingMonitor,
                Duration.ofMillis(5));

        assertTrue(took.toMillis() >= 40 * 5, took.toString());
    }

    /** The monitors and locks a poster holds while it sleeps in its slow write. */
    static List<String> heldDuringTheWrite(BiConsumer<ContendedLedger, String> post)
            throws Exception {
        var ledger = new ContendedLedger(Duration.ofMinutes(1));  // an interrupt ends it
        Thread poster = Thread.ofPlatform().name("poster").start(() -> post.accept(ledger, "x"));
        try {
            Threads.awaitState(poster, Thread.State.TIMED_WAITING);  // in slowWrite's sleep
            ThreadInfo info = ManagementFactory.getThreadMXBean()
                    .getThreadInfo(new long[] {poster.threadId()}, true, true)[0];
            var held = new ArrayList<String>();
            for (MonitorInfo m : info.getLockedMonitors()) {
                held.add(JfrWaits.simple(m.getClassName()));
            }
            for (LockInfo l : info.getLockedSynchronizers()) {
                held.add(JfrWaits.simple(l.getClassName()));
            }
            return held;
        } finally {
            poster.interrupt();  // the write ends early; the post goes on and appends
            Threads.joinAll(List.of(poster));
            assertEquals(1, ledger.size());
        }
    }

    @Test
    @Timeout(60)
    void onlyTheFixWritesWithoutHoldingTheLedgersLock() throws Exception {
        assertEquals(List.of("ContendedLedger"),
                heldDuringTheWrite(ContendedLedger::postHoldingMonitor));
        assertEquals(List.of("ReentrantLock$NonfairSync"),
                heldDuringTheWrite(ContendedLedger::postHoldingLock));
        assertEquals(List.of(), heldDuringTheWrite(ContendedLedger::postThenLock));
    }

    @Test
    @Timeout(60)
    void everyPostArrivesWhicheverWayThreadsPost() throws Exception {
        // Posters.run throws if the ledger's count differs from the posts made
        Posters.run(4, 4_000, ContendedLedger::postHoldingMonitor, Duration.ZERO);
        Posters.run(4, 4_000, ContendedLedger::postHoldingLock, Duration.ZERO);
        Posters.run(4, 4_000, ContendedLedger::postThenLock, Duration.ZERO);
    }

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void measureSectionNeverBeatsTheLowerBoundWithTheWriteInside() throws Exception {
        var run = Scripts.compiled("profiling", "measure");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> rows = run.stdout().lines().filter(l -> l.matches("[124] .*")).toList();
        assertEquals(3, rows.size(), run.stdout());
        for (String row : rows) {  // "4        219 (214-338)                56 (53-59)"
            String[] cells = row.trim().split("[ ()-]+");
            assertTrue(Integer.parseInt(cells[2]) >= 200, "fastest inside run: " + row);
        }
    }

    @Test
    @Timeout(10)
    void jshellPrefixesAndPackagesAreDropped() {
        assertEquals("ContendedLedger", JfrWaits.simple("REPL.$JShell$12$ContendedLedger"));
        assertEquals("ReentrantLock$NonfairSync",
                JfrWaits.simple("java.util.concurrent.locks.ReentrantLock$NonfairSync"));
    }
}
