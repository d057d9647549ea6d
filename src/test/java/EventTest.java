import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import support.Threads;

/** What the `event` lesson claims, proven. */
class EventTest {
    private static final long SHORT_MILLIS = 50;  // a timeout under test, not a handshake
    private static final long LONG_MS = Threads.LONG.toMillis();
    private static final TimeUnit MS = TimeUnit.MILLISECONDS;

    static Stream<Arguments> eventsWithState() {
        return EventVariant.ALL.stream()
                .filter(v -> !(v.factory().get() instanceof SignalOnlyEvent))
                .map(v -> Arguments.of(v.name(), v.factory()));
    }

    // ---- FlagEvent: blocking semantics ------------------------------------------------

    @Test
    @Timeout(10)
    void waiterBlocksUntilSet() throws Exception {
        var event = new FlagEvent();
        var result = new AtomicReference<Boolean>();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() ->
                result.set(uninterrupted(() -> event.await(LONG_MS, MS))));
        Threads.awaitBlocked(waiter);
        assertNull(result.get(), "await returned before anyone set the event");
        assertTrue(waiter.isAlive());

        event.set();
        Threads.joinAll(List.of(waiter));
        assertEquals(Boolean.TRUE, result.get());
    }

    @Test
    @Timeout(10)
    void untimedAwaitBlocksUntilSet() throws Exception {
        var event = new FlagEvent();
        var result = new AtomicReference<Boolean>();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() ->
                result.set(uninterrupted(event::await)));
        Threads.awaitBlocked(waiter);
        assertNull(result.get(), "await() returned before anyone set the event");

        event.set();
        Threads.joinAll(List.of(waiter));
        assertEquals(Boolean.TRUE, result.get());
    }

    @Test
    @Timeout(10)
    void awaitWithTimeoutReturnsFalseWhenNobodySets() throws Exception {
        var event = new FlagEvent();
        assertFalse(event.await(SHORT_MILLIS, MS));
        assertFalse(event.await(0, MS));
        assertFalse(event.await(-1, MS));
        assertFalse(event.isSet());
        assertEquals(0, event.waiting(), "a timed-out waiter must leave the condition");
    }

    @Test
    @Timeout(10)
    void awaitReturnsTrueAtOnceWhenAlreadySet() throws Exception {
        var event = new FlagEvent();
        event.set();
        assertTrue(event.isSet());
        assertTrue(event.await(0, MS), "0 ms: no time to wait");
        assertTrue(event.await());
        event.set();  // setting twice is harmless
        assertTrue(event.await(0, MS));
    }

    @Test
    @Timeout(10)
    void clearReArmsTheEvent() throws Exception {
        var event = new FlagEvent();
        event.set();
        event.clear();
        assertFalse(event.isSet());
        assertFalse(event.await(SHORT_MILLIS, MS), "cleared: a waiter must wait again");

        var result = new AtomicReference<Boolean>();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() ->
                result.set(uninterrupted(() -> event.await(LONG_MS, MS))));
        Threads.awaitBlocked(waiter);
        assertNull(result.get());

        event.set();
        Threads.joinAll(List.of(waiter));
        assertEquals(Boolean.TRUE, result.get());
    }

    @Test
    @Timeout(60)
    void setReleasesEveryParkedWaiterUnderStress() throws Exception {
        int waiters = 64;
        for (int round = 0; round < 20; round++) {
            var event = new FlagEvent();
            var released = new AtomicInteger();
            List<Thread> threads = startWaiters(waiters, () -> {
                if (uninterrupted(() -> event.await(LONG_MS, MS))) {
                    released.incrementAndGet();
                }
            });
            until(() -> event.waiting() == waiters);
            event.set();
            Threads.joinAll(threads);
            assertEquals(waiters, released.get(), "round " + round);
        }
    }

    @Test
    @Timeout(10)
    void setThenClearStillReleasesTheWaitersParkedAtTheTime() throws Exception {
        assertEquals(3, FlagEventDemo.pulse(3));

        var event = new FlagEvent();
        var released = new AtomicInteger();
        List<Thread> threads = startWaiters(16, () -> {
            if (uninterrupted(() -> event.await(LONG_MS, MS))) {
                released.incrementAndGet();
            }
        });
        until(() -> event.waiting() == 16);
        event.set();
        event.clear();
        Threads.joinAll(threads);
        assertEquals(16, released.get());
        assertFalse(event.isSet());
        assertFalse(event.await(SHORT_MILLIS, MS), "the clear() re-armed it");
    }

    @Test
    @Timeout(10)
    void interruptedWaiterThrowsInterruptedException() throws Exception {
        var event = new FlagEvent();
        var untimed = new AtomicReference<Throwable>();
        var timed = new AtomicReference<Throwable>();
        Thread first = Thread.ofPlatform().name("untimed").start(() -> {
            try {
                event.await();
            } catch (Throwable t) {
                untimed.set(t);
            }
        });
        Thread second = Thread.ofPlatform().name("timed").start(() -> {
            try {
                event.await(LONG_MS, MS);
            } catch (Throwable t) {
                timed.set(t);
            }
        });
        Threads.awaitBlocked(first);
        Threads.awaitBlocked(second);
        first.interrupt();
        second.interrupt();
        Threads.joinAll(List.of(first, second));

        assertInstanceOf(InterruptedException.class, untimed.get());
        assertInstanceOf(InterruptedException.class, timed.get());
        assertFalse(event.isSet());
        assertEquals(0, event.waiting());
    }

    // ---- the `if` version: a wake-up without set() -----------------------------------

    @Test
    @Timeout(10)
    void ifEventLetsAWaiterThroughOnAWakeUpWithoutSet() throws Exception {
        var event = new IfEvent();
        var result = new AtomicReference<Boolean>();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() ->
                result.set(uninterrupted(() -> event.await(LONG_MS, MS))));
        until(() -> event.waiting() == 1);
        event.wakeSpuriously();
        Threads.joinAll(List.of(waiter));

        assertEquals(Boolean.TRUE, result.get(), "woken is not set");
        assertFalse(event.isSet(), "...although nobody set it");
    }

    @Test
    @Timeout(10)
    void flagEventParksAgainOnAWakeUpWithoutSet() throws Exception {
        var event = new FlagEvent();
        var result = new AtomicReference<Boolean>();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() ->
                result.set(uninterrupted(() -> event.await(LONG_MS, MS))));
        until(() -> event.waiting() == 1);
        event.wakeSpuriously();  // unlinks the waiter from the condition: waiting() 0
        until(() -> event.waiting() == 1);  // so this is a new park, after a re-check
        assertNull(result.get());
        assertTrue(waiter.isAlive());

        event.set();
        Threads.joinAll(List.of(waiter));
        assertEquals(Boolean.TRUE, result.get());
    }

    @Test
    @Timeout(10)
    void spuriousWakeUpDemoShowsTheIfVersionGoingThrough() throws Exception {
        assertTrue(SpuriousWakeUpDemo.show());
    }

    // ---- the naive event: a missed signal, forced -------------------------------------

    @Test
    @Timeout(10)
    void signalOnlyEventForgetsASetThatCameFirst() throws Exception {
        var event = new SignalOnlyEvent();
        event.set();
        assertFalse(event.await(SHORT_MILLIS, MS), "nothing remembers the set()");
    }

    @Test
    @Timeout(10)
    void signalOnlyEventMissesASetThatFallsBetweenDecidingAndParking() throws Exception {
        var onItsWay = new CountDownLatch(1);
        var setIsOver = new CountDownLatch(1);
        var event = new SignalOnlyEvent(() -> {
            if (Thread.currentThread().getName().equals("late")) {
                onItsWay.countDown();
                await(setIsOver);
            }
        });
        var early = new AtomicReference<Boolean>();
        var late = new AtomicReference<Boolean>();
        Thread parked = Thread.ofPlatform().name("early").start(() ->
                early.set(uninterrupted(() -> event.await(LONG_MS, MS))));
        until(() -> event.waiting() == 1);
        Thread arriving = Thread.ofPlatform().name("late").start(() ->
                late.set(uninterrupted(() -> event.await(SHORT_MILLIS, MS))));
        await(onItsWay);

        event.set();
        setIsOver.countDown();
        Threads.joinAll(List.of(parked, arriving));

        assertEquals(Boolean.TRUE, early.get(), "a parked waiter is woken by the signal");
        assertEquals(Boolean.FALSE, late.get(), "the late one missed it and timed out");
    }

    @Test
    @Timeout(10)
    void signalOnlyEventStrandsAWaiterThatParksAfterTheSet() throws Exception {
        var onItsWay = new CountDownLatch(1);
        var setIsOver = new CountDownLatch(1);
        var event = new SignalOnlyEvent(() -> {
            onItsWay.countDown();
            await(setIsOver);
        });
        var result = new AtomicReference<Boolean>();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() ->
                result.set(uninterrupted(() -> event.await(LONG_MS, MS))));
        await(onItsWay);
        event.set();
        setIsOver.countDown();
        until(() -> event.waiting() == 1);
        Threads.awaitBlocked(waiter);
        assertNull(result.get(), "stranded: parked after the only set()");

        event.set();  // only a second signal gets it out
        Threads.joinAll(List.of(waiter));
        assertEquals(Boolean.TRUE, result.get());
    }

    @Test
    @Timeout(10)
    void slowMotionReplayMissesExactlyOne() throws Exception {
        assertEquals(1, MissedSignalReplay.replay(0, SHORT_MILLIS));
    }

    @Test
    @Timeout(10)
    void harnessCountsEveryWaiterThatParksAfterTheSet() throws Exception {
        var setIsOver = new CountDownLatch(1);
        var event = new SignalOnlyEvent(() -> await(setIsOver)) {  // all held until set()
            @Override
            public void set() {
                super.set();
                setIsOver.countDown();
            }
        };
        assertEquals(8, EventRace.setAtOnce(event, 8));
    }

    // ---- the fixes against the same races ---------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("eventsWithState")
    @Timeout(10)
    void aLateWaiterGetsThroughAtOnce(String name, Supplier<EventGate> factory)
            throws Exception {
        EventGate event = factory.get();
        event.set();
        assertTrue(event.await(0, MS), name + " must remember the set()");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("eventsWithState")
    @Timeout(60)
    void setAtOnceReleasesAllUnderStress(String name, Supplier<EventGate> factory)
            throws Exception {
        for (int round = 0; round < 20; round++) {
            EventGate event = factory.get();
            var released = new AtomicInteger();
            List<Thread> threads = startWaiters(32, () -> {
                if (uninterrupted(() -> event.await(LONG_MS, MS))) {
                    released.incrementAndGet();
                }
            });
            event.set();  // races the waiters: some parked, some not there yet
            Threads.joinAll(threads);
            assertEquals(32, released.get(), "round " + round);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("eventsWithState")
    @Timeout(10)
    void theSeedsRunReleasesAllThreeWaiters(String name, Supplier<EventGate> factory)
            throws Exception {
        assertEquals(3, EventRace.seedRun(factory.get(), 3, 0));
    }

    @Test
    @Timeout(10)
    void latchEventIsOneShot() throws Exception {
        var event = new LatchEvent();
        assertFalse(event.isSet());
        assertFalse(event.await(SHORT_MILLIS, MS));
        event.set();
        event.set();
        assertTrue(event.isSet());
        assertTrue(event.await(0, MS));
    }

    @Test
    @Timeout(10)
    void timeoutAndRearmDemoRunsToTheEnd() throws Exception {
        FlagEventDemo.timeoutAndRearm(0);
    }

    // ---- the command line -------------------------------------------------------------

    @Test
    void optionsDefaultToTheSeedsRun() {
        assertEquals(new event.Options(3, 5, 1.0), event.parse());
        assertEquals(7, event.parse("--waiters", "7").waiters());
        assertEquals(2, event.parse("--runs", "2").runs());
        assertEquals(0.25, event.parse("--speed", "0.25").speed());
        assertNull(event.parse("--waiters", "7", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--waiters wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> event.parse("--waiters", "0")).getMessage());
        assertEquals("--speed wants a positive number, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> event.parse("--speed", "fast")).getMessage());
        assertEquals("unknown argument '--bogus'",
                assertThrows(IllegalArgumentException.class,
                        () -> event.parse("--bogus", "1")).getMessage());
        assertEquals("--runs needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> event.parse("--runs")).getMessage());
    }

    // ---- helpers ----------------------------------------------------------------------

    interface Wait {
        boolean await() throws InterruptedException;
    }

    /** Runs a wait in a worker thread; an interrupt there would be a test failure. */
    private static boolean uninterrupted(Wait wait) {
        try {
            return wait.await();
        } catch (InterruptedException e) {
            throw new AssertionError("waiter interrupted", e);
        }
    }

    private static List<Thread> startWaiters(int n, Runnable body) {
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < n; i++) {
            threads.add(Thread.ofPlatform().name("waiter-" + i).start(body));
        }
        return threads;
    }

    /** Polls a state the event reports (such as waiting()), within Threads.LONG. */
    private static void until(BooleanSupplier done) {
        long deadline = System.nanoTime() + Threads.LONG.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("never happened");
            Thread.yield();
        }
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
