import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import support.Threads;

/** What the `shared_resource` lesson claims, proven. */
class SharedResourceTest {

    static Stream<Arguments> guardedForms() {
        return CountForm.ALL.stream()
                .filter(f -> !(f.factory().apply(seen -> { }) instanceof UnguardedCount))
                .map(f -> Arguments.of(f.name(), f.factory()));
    }

    // --- the broken form, forced to lose ---

    @Test
    @Timeout(20)
    void unguardedUpdateLosesAllButOneWhenEveryWorkerReadsBeforeAnyWrites()
            throws Exception {
        int workers = 10;
        var everyoneHasRead = new CyclicBarrier(workers);
        var form = new UnguardedCount(seen -> await(everyoneHasRead));

        assertEquals(1, SlowCountRace.run(form, workers, 1), "10 updates, 9 lost");
    }

    @Test
    @Timeout(10)
    void unguardedUpdateLetsASecondWorkerReadAndWriteBetweenTheFirstsReadAndWrite()
            throws Exception {
        var firstHasRead = new CountDownLatch(1);
        var secondIsDone = new CountDownLatch(1);
        var form = new UnguardedCount(seen -> {
            if (Thread.currentThread().getName().equals("first")) {
                firstHasRead.countDown();
                await(secondIsDone);  // "first" is paused between its read and its write
            }
        });
        Thread first = Thread.ofPlatform().name("first").start(form::update);
        await(firstHasRead);
        Thread second = Thread.ofPlatform().name("second").start(form::update);
        Threads.joinAll(List.of(second));  // nothing held it back
        secondIsDone.countDown();
        Threads.joinAll(List.of(first));

        assertEquals(1, form.count(), "two updates, one lost");
    }

    // --- each guarded form ---

    @ParameterizedTest(name = "{0}")
    @MethodSource("guardedForms")
    @Timeout(10)
    void guardedFormHoldsASecondWorkerOutWhileTheFirstIsBetweenReadAndWrite(
            String name, Function<IntConsumer, SlowCount> factory) throws Exception {
        var firstHasRead = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        SlowCount form = factory.apply(seen -> {
            if (Thread.currentThread().getName().equals("first")) {
                firstHasRead.countDown();
                await(release);
            }
        });
        Thread first = Thread.ofPlatform().name("first").start(form::update);
        await(firstHasRead);
        Thread second = Thread.ofPlatform().name("second").start(form::update);
        Threads.awaitBlocked(second);  // throws if "second" ends instead
        assertTrue(second.isAlive());
        release.countDown();
        Threads.joinAll(List.of(first, second));

        assertEquals(2, form.count());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("guardedForms")
    @Timeout(60)
    void guardedFormIsExactUnderStressAndEveryValueIsReadOnce(
            String name, Function<IntConsumer, SlowCount> factory) throws Exception {
        int workers = 8;
        int rounds = 25_000;
        var timesRead = new AtomicIntegerArray(workers * rounds);
        SlowCount form = factory.apply(timesRead::incrementAndGet);

        assertEquals(workers * rounds, SlowCountRace.run(form, workers, rounds));
        for (int value = 0; value < timesRead.length(); value++) {
            assertEquals(1, timesRead.get(value), "value " + value + " was read");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("guardedForms")
    @Timeout(10)
    void seedRunCountsTo10(String name, Function<IntConsumer, SlowCount> factory)
            throws Exception {
        SlowCount form = factory.apply(SlowCountRace.pause(10));
        assertEquals(10, SlowCountRace.run(form, 10, 1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("guardedForms")
    @Timeout(20)
    void guardedFormReleasesTheLockWhenTheWorkThrows(
            String name, Function<IntConsumer, SlowCount> factory) throws Exception {
        var calls = new AtomicInteger();
        SlowCount form = factory.apply(seen -> {
            if (calls.getAndIncrement() == 0) {
                throw new ArithmeticException("work failed");
            }
        });
        assertThrows(ArithmeticException.class, form::update);
        // Another thread, because this one could re-enter a lock it still held.
        Thread other = Thread.ofPlatform().name("other").start(form::update);
        Threads.joinAll(List.of(other));

        assertEquals(1, form.count(), "the failed update wrote nothing, the other 0 + 1");
    }

    // --- the guard itself ---

    @Test
    @Timeout(10)
    void guardReleasesTheLockWhenTheBodyThrowsButKeepsItsWrites() throws Exception {
        var resource = new SharedResource();
        assertThrows(IllegalArgumentException.class, () -> {
            try (var data = resource.acquire()) {
                data.put("count", 41);
                throw new IllegalArgumentException("bad input");
            }
        });
        var seen = new AtomicReference<Integer>();
        Thread other = Thread.ofPlatform().name("other").start(() -> {
            try (var data = resource.acquire(Threads.LONG)) {  // times out if still held
                seen.set(data.get("count"));
            } catch (InterruptedException | TimeoutException e) {
                throw new AssertionError(e);
            }
        });
        Threads.joinAll(List.of(other));

        assertEquals(41, seen.get(), "unlocked, and no rollback");
    }

    @Test
    @Timeout(10)
    void secondThreadBlocksWhileTheGuardIsHeldAndSeesTheHoldersWrite() throws Exception {
        var resource = new SharedResource();
        var seen = new AtomicReference<Integer>();
        Thread waiter;
        try (var data = resource.acquire()) {
            waiter = Thread.ofPlatform().name("waiter").start(() -> {
                try (var mine = resource.acquire()) {
                    seen.set(mine.get("count"));
                }
            });
            Threads.awaitBlocked(waiter);
            assertNull(seen.get(), "the waiter got in while the guard was held");
            data.put("count", 41);
        }
        Threads.joinAll(List.of(waiter));

        assertEquals(41, seen.get());
    }

    @Test
    @Timeout(10)
    void guardUsedAfterCloseThrowsAndASecondCloseIsHarmless() throws Exception {
        var resource = new SharedResource();
        var data = resource.acquire();
        data.put("count", 7);
        data.close();

        var afterClose = assertThrows(IllegalStateException.class,
                () -> data.get("count"));
        assertEquals("guard used after close", afterClose.getMessage());
        assertThrows(IllegalStateException.class, () -> data.put("count", 8));
        assertThrows(IllegalStateException.class, data::snapshot);
        data.close();  // no-op: must not unlock a hold it no longer has

        var seen = new AtomicReference<Map<String, Integer>>();
        Thread other = Thread.ofPlatform().name("other").start(() -> {
            try (var mine = resource.acquire(Threads.LONG)) {
                seen.set(mine.snapshot());
            } catch (InterruptedException | TimeoutException e) {
                throw new AssertionError(e);
            }
        });
        Threads.joinAll(List.of(other));
        assertEquals(Map.of("count", 7), seen.get());
    }

    @Test
    @Timeout(10)
    void guardUsedOrClosedByAnotherThreadThrowsAndStaysHeld() throws Exception {
        var resource = new SharedResource();
        var failures = new AtomicReference<List<Exception>>();
        try (var data = resource.acquire()) {
            Thread other = Thread.ofPlatform().name("other").start(() -> failures.set(
                    Stream.<Runnable>of(() -> data.put("count", 99), data::close)
                            .map(SharedResourceTest::thrownBy).toList()));
            Threads.joinAll(List.of(other));
            assertEquals(0, data.get("count"), "the other thread's write got through");
        }
        for (Exception e : failures.get()) {
            assertInstanceOf(IllegalStateException.class, e);
            assertEquals("guard belongs to " + Thread.currentThread().getName()
                    + ", used by other", e.getMessage());
        }
    }

    @Test
    @Timeout(10)
    void acquireWithATimeoutGivesUpWhileTheResourceIsHeld() throws Exception {
        var resource = new SharedResource();
        var failure = new AtomicReference<Exception>();
        try (var _ = resource.acquire()) {
            Thread impatient = Thread.ofPlatform().name("impatient").start(() -> {
                try (var _ = resource.acquire(Duration.ofMillis(1))) {
                    failure.set(null);  // acquired a held resource
                } catch (InterruptedException | TimeoutException e) {
                    failure.set(e);
                }
            });
            Threads.joinAll(List.of(impatient));
        }
        assertInstanceOf(TimeoutException.class, failure.get());
    }

    @Test
    @Timeout(10)
    void reacquiringOnTheSameThreadNestsAndEachGuardReleasesOneHold() throws Exception {
        var resource = new SharedResource();
        try (var outer = resource.acquire()) {
            try (var inner = resource.acquire()) {  // would deadlock with Python's Lock
                inner.put("count", 1);
            }
            outer.put("count", outer.get("count") + 1);  // the outer hold is still valid
        }
        var seen = new AtomicReference<Integer>();
        Thread other = Thread.ofPlatform().name("other").start(() -> {
            try (var data = resource.acquire(Threads.LONG)) {
                seen.set(data.get("count"));
            } catch (InterruptedException | TimeoutException e) {
                throw new AssertionError(e);
            }
        });
        Threads.joinAll(List.of(other));
        assertEquals(2, seen.get());
    }

    @Test
    @Timeout(10)
    void literalPortLetsAWriteThroughAKeptMapSlipPastTheLock() throws Exception {
        var resource = new LeakyResource();
        Map<String, Integer> leaked;
        try (var guard = resource.acquire()) {
            leaked = guard.data();
        }
        var holderHasRead = new CountDownLatch(1);
        var leakWritten = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().name("holder").start(() -> {
            try (var guard = resource.acquire()) {
                int current = guard.data().get("count");
                holderHasRead.countDown();
                await(leakWritten);
                guard.data().put("count", current + 1);
            }
        });
        await(holderHasRead);
        leaked.put("count", 100);  // accepted while "holder" holds the lock
        leakWritten.countDown();
        Threads.joinAll(List.of(holder));

        try (var guard = resource.acquire()) {
            assertEquals(1, guard.data().get("count"), "the leaked write was lost");
        }
    }

    // --- the command line ---

    @Test
    void optionsDefaultToTheSeedsRun() {
        var defaults = new shared_resource.Options(10, 10, 3, 20_000, 1.0);
        assertEquals(defaults, shared_resource.parse());
        assertEquals(4, shared_resource.parse("--workers", "4").workers());
        assertEquals(5, shared_resource.parse("--speed", "2").workMillis());
        assertEquals(40, shared_resource.parse("--speed", "0.25").workMillis());
        assertNull(shared_resource.parse("--workers", "4", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--workers wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> shared_resource.parse("--workers", "0")).getMessage());
        assertEquals("unknown argument '--wor'",
                assertThrows(IllegalArgumentException.class,
                        () -> shared_resource.parse("--wor", "1")).getMessage());
        assertEquals("--speed wants a positive number, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> shared_resource.parse("--speed", "fast")).getMessage());
        assertEquals("--stress needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> shared_resource.parse("--stress")).getMessage());
    }

    // --- helpers ---

    private static Exception thrownBy(Runnable action) {
        try {
            action.run();
            return null;
        } catch (Exception e) {
            return e;
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(Threads.LONG.toSeconds(), TimeUnit.SECONDS)) {
                throw new AssertionError("latch never opened");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(Threads.LONG.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } catch (BrokenBarrierException | TimeoutException e) {
            throw new AssertionError("not every worker read", e);
        }
    }
}
