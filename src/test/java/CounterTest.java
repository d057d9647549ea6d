import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CountDownLatch;
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

/** What the `counter` lesson claims, proven. */
class CounterTest {

    static Stream<Arguments> fixes() {
        return Stream.<Supplier<Counter>>of(SynchronizedCounter::new, LockCounter::new,
                AtomicCounter::new, AdderCounter::new)
                .map(fix -> Arguments.of(fix.get().getClass().getSimpleName(), fix));
    }

    @Test
    @Timeout(10)
    void unsafeCounterLosesAnUpdateWhenTwoReadsInterleave() throws Exception {
        var firstHasRead = new CountDownLatch(1);
        var secondIsDone = new CountDownLatch(1);
        var counter = new UnsafeCounter(seen -> {
            if (Thread.currentThread().getName().equals("first")) {
                firstHasRead.countDown();
                Threads.await(secondIsDone);  // hold "first" between its read and its write
            }
        });
        Thread first = Thread.ofPlatform().name("first").start(counter::increment);
        Threads.await(firstHasRead);
        Thread second = Thread.ofPlatform().name("second").start(() -> {
            counter.increment();
            secondIsDone.countDown();
        });
        Threads.joinAll(List.of(first, second));

        assertEquals(1, counter.get(), "two increments, one lost");
    }

    @Test
    @Timeout(10)
    void slowMotionReplayEndsWithOneIncrementLostEveryTime() throws Exception {
        assertEquals(1, LostUpdateReplay.replay(0));
    }

    /**
     * Lincheck runs a few operations on one counter from two or three threads, trying
     * their interleavings one by one, and fails when a result could not have come from
     * any order of the operations done one at a time (the counter is not linearizable).
     */
    abstract static class CounterModel {
        private final Counter counter;

        CounterModel(Counter counter) { this.counter = counter; }

        @Operation
        public void increment() { counter.increment(); }

        @Operation
        public long get() { return counter.get(); }
    }

    public static class Unsafe extends CounterModel {
        public Unsafe() { super(new UnsafeCounter()); }
    }

    public static class Volatile extends CounterModel {
        public Volatile() { super(new VolatileCounter()); }
    }

    public static class Synchronized extends CounterModel {
        public Synchronized() { super(new SynchronizedCounter()); }
    }

    public static class Locked extends CounterModel {
        public Locked() { super(new LockCounter()); }
    }

    public static class Atomic extends CounterModel {
        public Atomic() { super(new AtomicCounter()); }
    }

    public static class Adder extends CounterModel {
        public Adder() { super(new AdderCounter()); }
    }

    private static void modelCheck(Class<? extends CounterModel> model) {
        new ModelCheckingOptions().iterations(4).invocationsPerIteration(200).check(model);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(classes = {Unsafe.class, Volatile.class})
    @Timeout(120)
    void brokenCounterFailsModelChecking(Class<? extends CounterModel> model) {
        var failure = assertThrows(AssertionError.class, () -> modelCheck(model));
        assertTrue(failure.getMessage().contains("Invalid execution results"),
                failure.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(classes = {Synchronized.class, Locked.class, Atomic.class, Adder.class})
    @Timeout(120)
    void fixPassesModelChecking(Class<? extends CounterModel> model) {
        modelCheck(model);
    }

    @Test
    @Timeout(10)
    void synchronizedIncrementWaitsForTheMonitor() throws Exception {
        var counter = new SynchronizedCounter();
        Thread incrementer;
        synchronized (counter) {  // the same monitor the synchronized methods use
            incrementer = Thread.ofPlatform().name("incrementer").start(counter::increment);
            Threads.awaitBlocked(incrementer);
            assertEquals(Thread.State.BLOCKED, incrementer.getState());
        }
        Threads.joinAll(List.of(incrementer));
        assertEquals(1, counter.get());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixes")
    @Timeout(60)
    void fixIsExactUnderStress(String name, Supplier<Counter> fix) throws Exception {
        assertEquals(4_000_000, CounterRace.run(fix.get(), 4, 1_000_000));
    }

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void fixesSectionEndsWithTheSeedsResult() throws Exception {
        var run = Scripts.compiled("counter", "fixes");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertEquals("Final count: 5000", lines.getLast());
        assertEquals(4, lines.stream().filter(l -> l.endsWith("final count 5000")).count(),
                run.stdout());
    }
}
