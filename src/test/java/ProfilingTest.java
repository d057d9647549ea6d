import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import support.Threads;

/** What the `profiling` lesson claims, proven: its counters, its JMH run and its JFR summary. */
class ProfilingTest {
    static final String CLASS_PATH = System.getProperty("java.class.path");
    static final List<String> BENCHMARKS = List.of("plain", "sync", "lock", "atomic", "adder");

    @BeforeAll
    @Timeout(60)
    static void startJfrOnce() throws Exception {
        // JFR starts two daemon threads the first time a recording starts, and keeps them
        // for the JVM's lifetime: start them here, before any test's leak check looks.
        JfrLocks.recordDuring(() -> { });
    }

    static Stream<Arguments> safeCounters() {
        return Stream.of(
                Arguments.of("synchronized", (Supplier<HitCounter>) SyncHits::new),
                Arguments.of("ReentrantLock", (Supplier<HitCounter>) LockHits::new),
                Arguments.of("AtomicLong", (Supplier<HitCounter>) AtomicHits::new),
                Arguments.of("LongAdder", (Supplier<HitCounter>) AdderHits::new));
    }

    @Test
    @Timeout(10)
    void everyCounterCountsEachHitOnOneThread() {
        for (HitCounter c : List.of(new PlainHits(), new SyncHits(), new LockHits(),
                new AtomicHits(), new AdderHits())) {
            for (int i = 0; i < 1_000; i++) c.run();
            assertEquals(1_000, c.total(), c.getClass().getName());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("safeCounters")
    @Timeout(60)
    void safeCounterIsExactUnderStress(String name, Supplier<HitCounter> factory)
            throws Exception {
        HitCounter counter = factory.get();
        var start = new CyclicBarrier(4);
        var workers = new ArrayList<Thread>();
        for (int t = 0; t < 4; t++) {
            workers.add(Thread.ofPlatform().name("hitter-" + t).start(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                for (int i = 0; i < 250_000; i++) counter.run();
            }));
        }
        Threads.joinAll(workers);
        assertEquals(1_000_000, counter.total());
    }

    @Test
    @Timeout(300)
    void compiledBenchmarkIsCachedAndListsEveryBenchmark() throws Exception {
        Path classes = JmhLab.compiled(CLASS_PATH);
        assertEquals(classes, JmhLab.compiled(CLASS_PATH), "the second call reuses it");
        String list = Files.readString(classes.resolve("META-INF/BenchmarkList"));
        for (String b : BENCHMARKS) {
            assertTrue(list.contains("jmh_generated.HitsBench_" + b + "_jmhTest"), b);
        }
    }

    /** Calls the generated-for benchmark methods directly, as JMH's harness would. */
    @Test
    @Timeout(300)
    void benchmarkMethodsCountOnTheirStateObjects() throws Exception {
        Path classes = JmhLab.compiled(CLASS_PATH);
        try (var loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                getClass().getClassLoader())) {
            Class<?> bench = loader.loadClass(HitsBenchSource.CLASS);
            Object state = bench.getConstructor().newInstance();
            bench.getMethod("setUp").invoke(state);
            Map<String, Class<?>> expected = Map.of("plain", PlainHits.class,
                    "sync", SyncHits.class, "lock", LockHits.class,
                    "atomic", AtomicHits.class, "adder", AdderHits.class);
            for (String b : BENCHMARKS) {
                for (int i = 0; i < 3; i++) bench.getMethod(b).invoke(state);
                var field = bench.getDeclaredField(b);
                field.setAccessible(true);
                HitCounter counter = assertInstanceOf(HitCounter.class, field.get(state));
                assertEquals(expected.get(b), counter.getClass(), b);
                assertEquals(3, counter.total(), b + " counted every call");
            }
        }
    }

    @Test
    @Timeout(300)
    void quickJmhRunReportsEveryCounterAtEveryThreadCount() throws Exception {
        var plan = new JmhLab.Plan(0, 1, 2, 10, List.of(1, 2));
        List<JmhLab.Score> scores = JmhLab.run(JmhLab.compiled(CLASS_PATH), CLASS_PATH,
                plan, Duration.ofMinutes(4));

        var expected = new HashSet<String>();
        for (String b : BENCHMARKS) {
            expected.add(b + "@1");
            expected.add(b + "@2");
        }
        Set<String> got = new HashSet<>();
        for (JmhLab.Score s : scores) {
            got.add(s.benchmark() + "@" + s.threads());
            assertTrue(s.opsPerMicro() > 0 && Double.isFinite(s.opsPerMicro()), s.toString());
        }
        assertEquals(expected, got);
        assertEquals(10, scores.size());
        JmhLab.printRatios(scores, plan.threads());  // every ratio it needs is there
    }

    @Test
    void plansFollowTheSpeed() {
        assertEquals(new JmhLab.Plan(1, 2, 5, 400, List.of(1, 2)), JmhLab.Plan.forSpeed(1, 2));
        assertEquals(new JmhLab.Plan(1, 2, 5, 80, List.of(1, 4)), JmhLab.Plan.forSpeed(5, 4));
        assertEquals(new JmhLab.Plan(0, 2, 5, 20, List.of(1, 2)), JmhLab.Plan.forSpeed(20, 2));
        assertEquals(new JmhLab.Plan(0, 2, 5, 10, List.of(1)), JmhLab.Plan.forSpeed(1e6, 1));
    }

    @Test
    @Timeout(60)
    void jfrRecordsTheForcedMonitorWaitAndTheForcedPark() throws Exception {
        JfrLocks.Summary s = JfrLocks.forced();

        assertEquals(1, s.monitorEnters(), "one thread waited once for the monitor");
        assertEquals("ContendedLedger", s.monitorClass());
        assertTrue(s.blocked().compareTo(Duration.ZERO) > 0, s.blocked().toString());
        assertTrue(s.parks() >= 1, "the lock's waiter parked: " + s);
        assertEquals("ReentrantLock$NonfairSync", s.parkedClass());
        assertTrue(s.topFrames().keySet().stream()
                .anyMatch(f -> f.startsWith("ContendedLedger.postHoldingMonitor line ")),
                s.topFrames().toString());
        assertTrue(s.topFrames().keySet().stream()
                .anyMatch(f -> f.startsWith("ContendedLedger.postHoldingLock line ")),
                s.topFrames().toString());
    }

    @Test
    @Timeout(60)
    void jfrTellsMonitorWaitsFromLockWaits() throws Exception {
        Map<String, JfrLocks.Summary> byWay = JfrLocks.compare(2, 5, Duration.ofMillis(1));

        assertEquals(List.of("synchronized, slow write inside",
                "ReentrantLock, slow write inside", "synchronized, slow write outside"),
                List.copyOf(byWay.keySet()));
        // a ReentrantLock never shows up as a monitor enter, a monitor never as a park
        assertEquals(0, byWay.get("ReentrantLock, slow write inside").monitorEnters());
        assertEquals(0, byWay.get("synchronized, slow write inside").parks());
        assertEquals(0, byWay.get("synchronized, slow write outside").parks());
    }

    @Test
    void jshellPrefixesAndPackagesAreDropped() {
        assertEquals("ContendedLedger", JfrLocks.simple("REPL.$JShell$12$ContendedLedger"));
        assertEquals("ReentrantLock$NonfairSync",
                JfrLocks.simple("java.util.concurrent.locks.ReentrantLock$NonfairSync"));
    }

    @Test
    void keptLoopComputesItsSum() {
        assertEquals(0 + 1 + Math.sqrt(2) + Math.sqrt(3), NaiveTiming.kept(4), 1e-12);
    }

    @Test
    void optionsDefaultToTheCarefulRun() {
        assertEquals(new profiling.Options(2, "all", 1.0), profiling.parse());
        assertEquals("jmh", profiling.parse("--part", "jmh").part());
        assertEquals(4, profiling.parse("--threads", "4").threads());
        assertEquals(20.0, profiling.parse("--speed", "20").speed());
        assertNull(profiling.parse("--part", "jfr", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--part wants all, naive, jmh or jfr, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> profiling.parse("--part", "fast")).getMessage());
        assertEquals("--threads wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> profiling.parse("--threads", "0")).getMessage());
        assertEquals("unknown argument '--forks'",
                assertThrows(IllegalArgumentException.class,
                        () -> profiling.parse("--forks", "1")).getMessage());
        assertEquals("--speed needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> profiling.parse("--speed")).getMessage());
    }
}
