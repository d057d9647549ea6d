import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import support.Scripts;
import support.Threads;

/** What the `race_conditions` lesson claims, checked. */
class RaceConditionsTest {

    static Stream<Arguments> fixes() {
        return Stream.<Supplier<WordTally>>of(LockedTally::new, MergeTally::new,
                        ComputeTally::new, AdderTally::new)
                .map(fix -> Arguments.of(fix.get().getClass().getSimpleName(), fix));
    }

    // --- check-then-act, forced to lose ---

    @Test
    @Timeout(60)  // each step has its own limit (support.Threads.LONG)
    void getThenPutLosesAnAddWhenAThreadIsHeldBetweenItsGetAndPut() throws Exception {
        assertEquals(1, loseOneAdd(0), "two adds of an absent word, count 1");
        assertEquals(6, loseOneAdd(5), "two adds of a word counted 5 times, count 6");
    }

    /**
     * Adds "the" `before` times, then twice from two threads: "first" is held in the seam
     * until "second" has ended. Fails if "second" cannot end meanwhile (if `add` held a
     * lock, say), or if either worker throws.
     */
    private static long loseOneAdd(int before) throws Exception {
        var firstHasChecked = new CountDownLatch(1);
        var secondIsDone = new CountDownLatch(1);
        var tally = new GetThenPutTally(seen -> {
            if (Thread.currentThread().getName().equals("first")) {
                firstHasChecked.countDown();
                Threads.await(secondIsDone);  // hold "first" between its get and its put
            }
        });
        for (int i = 0; i < before; i++) tally.add("the");
        var failures = new ConcurrentLinkedQueue<Throwable>();
        var workers = Thread.ofPlatform()
                .uncaughtExceptionHandler((t, e) -> failures.add(e));
        Thread first = workers.name("first").start(() -> tally.add("the"));
        Threads.await(firstHasChecked);
        Thread second = workers.name("second").start(() -> tally.add("the"));
        try {
            Threads.joinAll(List.of(second));  // "second" ends while "first" is held
        } finally {
            secondIsDone.countDown();
            Threads.joinAll(List.of(first, second));
        }
        assertEquals(List.of(), List.copyOf(failures), "a worker failed");
        return tally.count("the");
    }

    @Test
    @Timeout(60)  // longer than the replay's own limits, which make it throw
    void slowMotionReplayEndsWithOneAddLostEveryTime() throws Exception {
        assertEquals(1, TallyReplay.replay(0));
    }

    /**
     * Lincheck runs a few adds and counts on one tally from two or three threads, trying
     * their interleavings one by one, and fails when a result could not have come from
     * any order of the operations done one at a time (the tally is not linearizable).
     */
    abstract static class TallyModel {
        private final WordTally tally;

        TallyModel(WordTally tally) { this.tally = tally; }

        @Operation
        public void addThe() { tally.add("the"); }

        @Operation
        public void addFox() { tally.add("fox"); }

        @Operation
        public long countThe() { return tally.count("the"); }
    }

    public static class GetThenPut extends TallyModel {
        public GetThenPut() { super(new GetThenPutTally()); }
    }

    public static class Locked extends TallyModel {
        public Locked() { super(new LockedTally()); }
    }

    public static class Merge extends TallyModel {
        public Merge() { super(new MergeTally()); }
    }

    public static class Compute extends TallyModel {
        public Compute() { super(new ComputeTally()); }
    }

    public static class Adder extends TallyModel {
        public Adder() { super(new AdderTally()); }
    }

    private static ModelCheckingOptions options() {
        return new ModelCheckingOptions().iterations(4).invocationsPerIteration(200)
                .threads(2).actorsPerThread(3);
    }

    @Test
    @Timeout(120)
    void getThenPutFailsModelChecking() {
        var failure = assertThrows(AssertionError.class,  // the first failure is enough
                () -> options().minimizeFailedScenario(false).check(GetThenPut.class));
        assertTrue(failure.getMessage().contains("Invalid execution results"),
                failure.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(classes = {Locked.class, Merge.class, Compute.class, Adder.class})
    @Timeout(120)
    void fixPassesModelChecking(Class<? extends TallyModel> model) {
        options().check(model);
    }

    // --- the fixes, under stress ---

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixes")
    @Timeout(60)
    void fixIsExactOnAFewHotWords(String name, Supplier<WordTally> fix) throws Exception {
        WordTally tally = fix.get();
        assertEquals(TallyRace.WORDS, TallyRace.run(tally));
        assertEquals(2L * TallyRace.THREADS * TallyRace.ROUNDS, tally.count("the"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixes")
    @Timeout(60)
    void fixIsExactOnManyWords(String name, Supplier<WordTally> fix) throws Exception {
        int threads = 4, words = 2_000, rounds = 20;  // bins shared, the table resized
        WordTally tally = fix.get();
        var go = new CountDownLatch(1);
        var workers = new ArrayList<Thread>();
        for (int t = 0; t < threads; t++) {
            int offset = t * words / threads;  // each thread starts at a different word
            workers.add(Thread.ofPlatform().name("stress-" + t).start(() -> {
                Threads.await(go);
                for (int r = 0; r < rounds; r++) {
                    for (int w = 0; w < words; w++) tally.add("w" + (offset + w) % words);
                }
            }));
        }
        go.countDown();
        Threads.joinAll(workers);
        for (int w = 0; w < words; w++) {
            assertEquals((long) threads * rounds, tally.count("w" + w), "w" + w);
        }
    }

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void fixesSectionCountsEveryWordWithEveryFix() throws Exception {
        var run = Scripts.compiled("race_conditions", "fixes");
        assertEquals(0, run.exitCode(), run.stderr());
        for (String fix : List.of("LockedTally", "MergeTally", "ComputeTally", "AdderTally")) {
            assertTrue(run.stdout().lines().anyMatch(l -> l.startsWith(fix + " ")
                    && l.endsWith("counted 360,000 of 360,000")), fix + ":\n" + run.stdout());
        }
    }

    // --- what the map's methods lock (JDK 25's ConcurrentHashMap) ---
    // "Aa" and "BB" have the same hashCode, so they share a bin, "Aa" first.

    /** Runs `compute(key)` in a thread that holds the key's bin until `release` opens. */
    private static Thread holdBin(ConcurrentHashMap<String, LongAdder> map, String key,
                                  CountDownLatch holding, CountDownLatch release) {
        Thread holder = Thread.ofPlatform().name("holder").start(() ->
                map.compute(key, (k, v) -> {
                    holding.countDown();
                    Threads.await(release);  // the bin stays locked meanwhile
                    return v;
                }));
        Threads.await(holding);
        return holder;
    }

    @Test
    @Timeout(30)  // if it waited for the bin, joinAll would fail after 10 s
    void computeIfAbsentOnAKeyFirstInItsBinTakesNoLock() throws Exception {
        var map = new ConcurrentHashMap<String, LongAdder>();
        LongAdder aa = map.computeIfAbsent("Aa", k -> new LongAdder());
        var holding = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        Thread holder = holdBin(map, "Aa", holding, release);
        try {
            var got = new LongAdder[1];
            Thread asker = Thread.ofPlatform().name("asker").start(
                    () -> got[0] = map.computeIfAbsent("Aa", k -> new LongAdder()));
            Threads.joinAll(List.of(asker));  // finished while the bin is locked
            assertSame(aa, got[0]);
        } finally {
            release.countDown();
            Threads.joinAll(List.of(holder));
        }
    }

    @Test
    @Timeout(10)
    void computeIfAbsentOnAKeyBehindAnotherInItsBinWaitsForTheBinLock() throws Exception {
        var map = new ConcurrentHashMap<String, LongAdder>();
        map.computeIfAbsent("Aa", k -> new LongAdder());
        LongAdder bb = map.computeIfAbsent("BB", k -> new LongAdder());
        assertEquals("Aa".hashCode(), "BB".hashCode());
        var holding = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        Thread holder = holdBin(map, "Aa", holding, release);
        var got = new LongAdder[1];
        Thread asker = Thread.ofPlatform().name("asker").start(
                () -> got[0] = map.computeIfAbsent("BB", k -> new LongAdder()));
        try {
            Threads.awaitBlocked(asker);  // BLOCKED, WAITING or TIMED_WAITING
            assertEquals(Thread.State.BLOCKED, asker.getState(),
                    "asker should wait to enter the bin's monitor (synchronized)");
            assertSame(bb, map.get("BB"), "while get never locks");
        } finally {
            release.countDown();
            Threads.joinAll(List.of(holder, asker));
        }
        assertSame(bb, got[0]);
    }

    @Test
    @Timeout(10)
    void mergeOnAPresentKeyWaitsForTheBinLock() throws Exception {
        var map = new ConcurrentHashMap<String, LongAdder>();
        map.computeIfAbsent("the", k -> new LongAdder());
        var holding = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        Thread holder = holdBin(map, "the", holding, release);
        Thread merger = Thread.ofPlatform().name("merger").start(
                () -> map.merge("the", new LongAdder(), (old, one) -> old));
        try {
            Threads.awaitBlocked(merger);  // BLOCKED, WAITING or TIMED_WAITING
            assertEquals(Thread.State.BLOCKED, merger.getState(),
                    "merger should wait to enter the bin's monitor (synchronized)");
        } finally {
            release.countDown();
            Threads.joinAll(List.of(holder, merger));
        }
    }

    @Test
    @Timeout(10)
    void mergeIntoAnEmptyBinDoesNotCallTheFunction() {
        var map = new ConcurrentHashMap<String, Long>();
        var called = new AtomicBoolean();
        assertEquals(1L, map.merge("the", 1L, (old, one) -> {
            called.set(true);
            return old + one;
        }));
        assertFalse(called.get(), "Long::sum is not called for an absent key");
        assertEquals(2L, map.merge("the", 1L, Long::sum));
    }
}
