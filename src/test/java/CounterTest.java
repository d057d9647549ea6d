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
    void slowMotionReplayEndsWithOneIncrementLost() throws Exception {
        assertEquals(1, LostUpdateReplay.replay(0));
    }

    /** Lincheck tries interleavings of two threads' increments until one breaks. */
    public static class VolatileCounterUnderModelChecking {
        private final VolatileCounter counter = new VolatileCounter();

        @Operation
        public void increment() { counter.increment(); }

        @Operation
        public long get() { return counter.get(); }
    }

    @Test
    @Timeout(120)
    void volatileCounterStillLosesUpdatesUnderModelChecking() {
        var failure = assertThrows(AssertionError.class, () -> new ModelCheckingOptions()
                .iterations(20).invocationsPerIteration(1_000)
                .check(VolatileCounterUnderModelChecking.class));
        assertTrue(failure.getMessage().contains("Invalid execution results"),
                failure.getMessage());
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixes")
    @Timeout(10)
    void fixCountsTo5000AtTheSeedsSize(String name, Supplier<Counter> fix) throws Exception {
        assertEquals(5000, CounterRace.run(fix.get(), 5, 1_000));
    }

    @Test
    @Timeout(30)
    void fixesSectionEndsWithTheSeedsResult() throws Exception {
        var run = Scripts.compiled("counter", "fixes");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertEquals("Final count: 5000", lines.getLast());
        assertEquals(4, lines.stream().filter(l -> l.endsWith("final count 5000")).count(),
                run.stdout());
    }
}
