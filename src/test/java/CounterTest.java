import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import support.Threads;

/** What the `counter` lesson claims, proven. */
class CounterTest {

    static Stream<Arguments> safeCounters() {
        return Variant.ALL.stream()
                .filter(v -> !(v.factory().get() instanceof UnsafeCounter))
                .map(v -> Arguments.of(v.name(), v.factory()));
    }

    @Test
    @Timeout(10)
    void unsafeCounterLosesAnUpdateWhenTwoReadsInterleave() throws Exception {
        var firstHasRead = new CountDownLatch(1);
        var secondIsDone = new CountDownLatch(1);
        var counter = new UnsafeCounter(seen -> {
            if (Thread.currentThread().getName().equals("first")) {
                firstHasRead.countDown();
                await(secondIsDone);  // hold "first" between its read and its write
            }
        });
        Thread first = Thread.ofPlatform().name("first").start(counter::increment);
        await(firstHasRead);
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
    @MethodSource("safeCounters")
    @Timeout(60)
    void safeCounterIsExactUnderStress(String name, Supplier<Counter> factory) throws Exception {
        assertEquals(4_000_000, CounterRace.run(factory.get(), 4, 1_000_000));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("safeCounters")
    @Timeout(10)
    void seedRunCountsTo5000(String name, Supplier<Counter> factory) throws Exception {
        assertEquals(5000, CounterRace.run(factory.get(), 5, 1_000));
    }

    @Test
    void optionsDefaultToTheSeedsRun() {
        assertEquals(new counter.Options(5, 1_000, 300_000, 5, 1.0), counter.parse());
        assertEquals(7, counter.parse("--threads", "7").threads());
        assertEquals(0.25, counter.parse("--speed", "0.25").speed());
        assertNull(counter.parse("--threads", "7", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--threads wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> counter.parse("--threads", "0")).getMessage());
        assertEquals("unknown argument '--bogus'",
                assertThrows(IllegalArgumentException.class,
                        () -> counter.parse("--bogus", "1")).getMessage());
        assertEquals("--runs needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> counter.parse("--runs")).getMessage());
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(Threads.LONG.toSeconds(), TimeUnit.SECONDS)) {
                throw new AssertionError("latch never opened");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
