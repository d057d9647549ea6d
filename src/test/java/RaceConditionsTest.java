import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import support.Threads;

/** What the `race_conditions` lesson claims, proven. */
class RaceConditionsTest {

    static Stream<Arguments> safeTallies() {
        return TallyKind.ALL.stream()
                .filter(k -> !(k.create() instanceof GetThenPutTally))
                .map(k -> Arguments.of(k.name(), k.factory()));
    }

    static Stream<Arguments> agreeingLockTables() {
        Function<Runnable, PerKeyLocks> putIfAbsent = PutIfAbsentLocks::new;
        Function<Runnable, PerKeyLocks> computeIfAbsent = ComputeIfAbsentLocks::new;
        return Stream.of(Arguments.of("putIfAbsent", putIfAbsent),
                Arguments.of("computeIfAbsent", computeIfAbsent));
    }

    // --- check-then-act on a ConcurrentHashMap, forced to lose ---

    @Test
    @Timeout(10)
    void getThenPutLosesAnAddWhenBothThreadsSeeTheWordAbsent() throws Exception {
        var bothHaveChecked = new CyclicBarrier(2);
        var tally = new GetThenPutTally(() -> await(bothHaveChecked));

        startAndJoin(() -> tally.add("the"), () -> tally.add("the"));

        assertEquals(1, tally.count("the"), "two adds, one lost");
        assertEquals(1, tally.total());
    }

    @Test
    @Timeout(10)
    void getThenPutLosesAnAddOnAWordThatIsAlreadyCounted() throws Exception {
        var bothHaveChecked = new CyclicBarrier(2);
        var tally = new GetThenPutTally(() -> {
            boolean racer = Thread.currentThread().getName().startsWith("racer");
            if (racer) await(bothHaveChecked);
        });
        for (int i = 0; i < 5; i++) tally.add("the");  // this thread: no pause

        startAndJoin(() -> tally.add("the"), () -> tally.add("the"));

        assertEquals(6, tally.count("the"), "5 + 2 adds, one lost");
    }

    @Test
    @Timeout(10)
    void slowMotionReplayEndsWithOneAddLost() throws Exception {
        assertEquals(1, TallyReplay.replayBroken());
    }

    // --- the fixes: no gap to lose an add in ---

    @ParameterizedTest(name = "{0}")
    @MethodSource("safeTallies")
    @Timeout(10)
    void safeTallyCountsBothAddsWhenThreadsArriveTogether(
            String name, Function<Runnable, WordTally> factory) throws Exception {
        assertEquals(2, TallyReplay.twoAdds(factory));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("safeTallies")
    @Timeout(60)
    void safeTallyIsExactOnAFewHotWordsUnderStress(
            String name, Function<Runnable, WordTally> factory) throws Exception {
        int threads = 8;
        int rounds = 25_000;
        WordTally tally = TallyRace.run(factory.apply(() -> { }), threads, rounds);

        assertEquals(TallyRace.expected(threads, rounds), tally.total());
        assertEquals(2L * threads * rounds, tally.count("the"));
        assertEquals((long) threads * rounds, tally.count("fox"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("safeTallies")
    @Timeout(60)
    void safeTallyIsExactOnManyWordsUnderStress(
            String name, Function<Runnable, WordTally> factory) throws Exception {
        int threads = 8;
        int words = 2_000;
        int rounds = 30;
        WordTally tally = factory.apply(() -> { });
        var start = new CyclicBarrier(threads);
        var workers = new ArrayList<Thread>();
        for (int t = 0; t < threads; t++) {
            int offset = t * words / threads;  // each thread starts at a different word
            workers.add(Thread.ofPlatform().name("stress-" + t).start(() -> {
                await(start);
                for (int r = 0; r < rounds; r++) {
                    for (int w = 0; w < words; w++) tally.add("w" + (offset + w) % words);
                }
            }));
        }
        Threads.joinAll(workers);

        for (int w = 0; w < words; w++) {
            assertEquals((long) threads * rounds, tally.count("w" + w), "w" + w);
        }
        assertEquals((long) threads * rounds * words, tally.total());
    }

    // --- create if absent: one lock per key ---

    @Test
    @Timeout(10)
    void checkThenActHandsTwoThreadsTwoDifferentLocksForOneKey() throws Exception {
        var bothHaveChecked = new CyclicBarrier(2);
        var table = new CheckThenActLocks(() -> await(bothHaveChecked));
        var got = new ReentrantLock[2];

        startAndJoin(() -> got[0] = table.lockFor("k"),
                () -> got[1] = table.lockFor("k"));

        assertEquals(2, table.created.get());
        assertNotSame(got[0], got[1]);
        assertTrue(got[0].tryLock(), "A's lock is free");
        assertTrue(got[1].tryLock(), "and so is B's: 'the' lock of k excludes nothing");
        got[0].unlock();
        got[1].unlock();
        assertTrue(table.locks.get("k") == got[0] ^ table.locks.get("k") == got[1],
                "the map keeps only one of them");
    }

    @Test
    @Timeout(10)
    void putIfAbsentCreatesTwoLocksButBothThreadsGetTheOneInTheMap() throws Exception {
        var result = PerKeyLocksReplay.twoCallers(PutIfAbsentLocks::new);

        assertEquals(2, result.created(), "the loser's candidate was made for nothing");
        assertTrue(result.sameLock());
    }

    @Test
    @Timeout(10)
    void computeIfAbsentCreatesOneLockWhenThreadsArriveTogether() throws Exception {
        var result = PerKeyLocksReplay.twoCallers(ComputeIfAbsentLocks::new);

        assertEquals(1, result.created());
        assertTrue(result.sameLock());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("agreeingLockTables")
    @Timeout(60)
    void everyThreadGetsTheSameLockForEachKeyUnderStress(
            String name, Function<Runnable, PerKeyLocks> factory) throws Exception {
        int threads = 8;
        int keys = 5_000;
        PerKeyLocks table = factory.apply(() -> { });
        var got = new ReentrantLock[threads][keys];
        var start = new CyclicBarrier(threads);
        var workers = new ArrayList<Thread>();
        for (int t = 0; t < threads; t++) {
            int me = t;
            workers.add(Thread.ofPlatform().name("asker-" + t).start(() -> {
                await(start);
                for (int k = 0; k < keys; k++) got[me][k] = table.lockFor("key-" + k);
            }));
        }
        Threads.joinAll(workers);

        for (int k = 0; k < keys; k++) {
            for (int t = 0; t < threads; t++) {
                assertSame(table.locks.get("key-" + k), got[t][k], "key-" + k);
            }
        }
        if (table instanceof ComputeIfAbsentLocks) {
            assertEquals(keys, table.created.get(), "computeIfAbsent: one lock per key");
        }
    }

    // --- visibility: in a child JVM, which the test can kill ---

    @Test
    @Timeout(180)
    void volatileFlagStopsTheCompiledSpinnerAndItsJvmExits() throws Exception {
        StaleFlag.Outcome o = StaleFlag.run(StaleFlag.Flag.VOLATILE, 30_000);

        assertTrue(o.stopped(), "join returned: the write was seen");
        assertTrue(o.jvmExited());
    }

    /**
     * The compiled loop never sees the plain write. This is JIT behaviour, not a
     * promise of the Java Memory Model; the child is set up (warm-up, synchronous
     * compilation, write only once the spinner is inside the loop) so that HotSpot's
     * C2 hoists the read every time.
     */
    @Test
    @Timeout(180)
    void plainFlagIsNeverSeenByTheCompiledSpinnerAndItsJvmCannotExit() throws Exception {
        StaleFlag.Outcome o = StaleFlag.run(StaleFlag.Flag.PLAIN, 500);

        assertFalse(o.stopped(), "still spinning at the end of the wait");
        assertFalse(o.jvmExited(), "a non-daemon thread still spinning keeps the JVM up");
    }

    @Test
    @Timeout(180)
    void demoReportsAVerdictForEveryRun() throws Exception {
        String out = captureOut(() -> StaleFlag.demo(1, 300));

        assertTrue(out.contains("1    plain     still running at"), out);
        assertTrue(out.contains("1    volatile  stopped after"), out);
        assertTrue(out.contains("plain flag: still running in 1 of 1 runs;"
                + " volatile flag: stopped in 1 of 1 runs"), out);
    }

    // --- the command line ---

    @Test
    void optionsHaveDefaultsAndSpeedShortensThePatience() {
        assertEquals(new race_conditions.Options(4, 10_000, 3, 1_000, 1.0),
                race_conditions.parse());
        assertEquals(8, race_conditions.parse("--threads", "8").threads());
        assertEquals(500, race_conditions.parse("--speed", "2").patience());
        assertEquals(100, race_conditions.parse("--speed", "20").patience(), "floor");
        assertEquals(4_000, race_conditions.parse("--speed", "0.25").patience());
        assertNull(race_conditions.parse("--runs", "2", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--rounds wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> race_conditions.parse("--rounds", "0")).getMessage());
        assertEquals("unknown argument '--bogus'",
                assertThrows(IllegalArgumentException.class,
                        () -> race_conditions.parse("--bogus", "1")).getMessage());
        assertEquals("--patience needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> race_conditions.parse("--patience")).getMessage());
        assertEquals("--speed wants a positive number, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> race_conditions.parse("--speed", "fast")).getMessage());
    }

    // --- helpers ---

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static void startAndJoin(Runnable a, Runnable b) throws Exception {
        Threads.joinAll(List.of(
                Thread.ofPlatform().name("racer-A").start(a),
                Thread.ofPlatform().name("racer-B").start(b)));
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(Threads.LONG.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new AssertionError("barrier never opened", e);
        }
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
