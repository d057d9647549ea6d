import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `event` lesson claims, proven. */
class EventTest {
    private static final long LONG_MS = Threads.LONG.toMillis();  // never runs out here
    private static final long PATIENCE_MS = 3 * LONG_MS;  // a waiter's: outlasts the test
    private static final TimeUnit MS = TimeUnit.MILLISECONDS;

    // ---- the seed's run on CountDownLatch(1) ------------------------------------------

    @Test
    @Timeout(60)
    void seedSectionPrintsTheSeedsLinesAndEndsWithAReceivedLine() throws Exception {
        var run = Scripts.compiled("event", "seed", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertTrue(lines.getLast().matches("Waiter-[0-2] received event!"), run.stdout());
        int setting = lines.indexOf("Setting event");
        assertTrue(setting >= 0, run.stdout());
        for (int i = 0; i < 3; i++) {
            assertTrue(lines.contains("Waiter-" + i + " waiting for event"), run.stdout());
            int received = lines.indexOf("Waiter-" + i + " received event!");
            assertTrue(received > setting, "received after the set:\n" + run.stdout());
        }
    }

    @Test
    @Timeout(60)
    void seedRunWithNoDelayReleasesAllThree() throws Exception {
        for (int round = 0; round < 20; round++) {  // no delay: the set races the waiters
            assertEquals(3, SeedEvent.run(0), "round " + round);
        }
    }

    @Test
    @Timeout(10)
    void aWaiterThatComesAfterTheCountDownGoesStraightThrough() throws Exception {
        var latch = new CountDownLatch(1);
        latch.countDown();  // before the waiter exists
        var received = new AtomicInteger();
        // await(0): it may not wait at all, so only the open latch can say yes
        Thread late = Waiters.start("late", () -> latch.await(0, MS), received);
        Threads.joinAll(List.of(late));
        assertEquals(1, received.get());
    }

    // ---- FlagEvent: a re-armable event ------------------------------------------------

    @Test
    @Timeout(20)
    void waiterParksUntilSet() throws Exception {
        var event = new FlagEvent();
        var result = new AtomicReference<Boolean>();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() ->
                result.set(awaitOn(event)));
        Threads.awaitBlocked(waiter);
        assertEquals(1, event.waiting());
        assertNull(result.get(), "await returned before anyone set the event");

        event.set();
        allReturn(List.of(waiter));
        assertEquals(Boolean.TRUE, result.get());
    }

    @Test
    @Timeout(10)
    void aWaiterThatComesAfterTheSetGoesStraightThrough() throws Exception {
        var event = new FlagEvent();
        event.set();
        assertTrue(event.await(0, MS), "no time to wait: the flag alone says yes");
        event.set();  // setting twice is harmless
        assertTrue(event.await(0, MS));
        assertEquals(0, event.waiting());
    }

    @Test
    @Timeout(10)
    void awaitReturnsFalseWhenTheTimeRunsOut() throws Exception {
        var event = new FlagEvent();
        assertFalse(event.await(20, MS));
        assertFalse(event.await(0, MS));
        assertFalse(event.await(-1, MS));
        assertEquals(0, event.waiting(), "a waiter that gave up left the condition");
    }

    @Test
    @Timeout(20)
    void clearReArmsTheEvent() throws Exception {
        var event = new FlagEvent();
        event.set();
        event.clear();
        assertFalse(event.await(0, MS), "cleared: a waiter must wait again");

        var result = new AtomicReference<Boolean>();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() ->
                result.set(awaitOn(event)));
        Threads.awaitBlocked(waiter);
        assertNull(result.get());

        event.set();
        allReturn(List.of(waiter));
        assertEquals(Boolean.TRUE, result.get());
    }

    /**
     * One set() releases all 32 waiters, 16 parked before it and 16 racing it. The
     * waiters' patience outlasts the wait for them, so only a wake-up ends them in time:
     * signal() for signalAll() fails this. That await checks and parks under one lock
     * hold, so no set() can fall between, is proven by the code's structure, not by this
     * test: a check moved out of the lock passes it, the window being too narrow to hit.
     */
    @Test
    @Timeout(60)
    void setReleasesAll32WaitersParkedOrRacing() throws Exception {
        for (int round = 0; round < 20; round++) {
            var event = new FlagEvent();
            var released = new AtomicInteger();
            var go = new CountDownLatch(1);
            var threads = new ArrayList<Thread>();
            for (int i = 0; i < 32; i++) {
                boolean racer = i >= 16;
                threads.add(Thread.ofPlatform().name("waiter-" + i).start(() -> {
                    if (racer) Threads.await(go);
                    if (awaitOn(event)) released.incrementAndGet();
                }));
            }
            Waiters.until("16 park", () -> event.waiting() == 16, LONG_MS, threads);
            go.countDown();
            event.set();  // the racers: some parked by now, some still on their way
            allReturn(threads);
            assertEquals(32, released.get(), "round " + round);
        }
    }

    @Test
    @Timeout(10)
    void anInterruptedWaiterThrowsAndLeavesTheCondition() throws Exception {
        var event = new FlagEvent();
        var thrown = new AtomicReference<Throwable>();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() -> {
            try {
                event.await(PATIENCE_MS, MS);
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        Threads.awaitBlocked(waiter);
        waiter.interrupt();
        Threads.joinAll(List.of(waiter));

        assertInstanceOf(InterruptedException.class, thrown.get());
        assertEquals(0, event.waiting());
    }

    /**
     * Python's Event.wait returns True to every thread waiting when set() ran, even if
     * clear() follows at once. The test holds FlagEvent's lock (by reflection) across
     * set() and clear(), so every woken waiter gets the lock back only after clear(): an
     * await that re-checks only the flag parks again; one that waits once and returns
     * the flag returns false.
     */
    @Test
    @Timeout(30)
    void setThenClearAtOnceReleasesEveryParkedWaiterLikePython() throws Exception {
        var event = new FlagEvent();
        var results = new AtomicReferenceArray<Boolean>(3);
        var waiters = new ArrayList<Thread>();
        for (int i = 0; i < 3; i++) {
            int n = i;
            waiters.add(Thread.ofPlatform().name("waiter-" + i).start(() ->
                    results.set(n, awaitOn(event))));
        }
        Waiters.until("all three park", () -> event.waiting() == 3, LONG_MS, waiters);

        var field = FlagEvent.class.getDeclaredField("lock");
        field.setAccessible(true);
        var lock = (ReentrantLock) field.get(event);
        lock.lock();
        try {
            event.set();
            event.clear();
        } finally {
            lock.unlock();
        }
        allReturn(waiters);
        for (int i = 0; i < 3; i++) {
            assertEquals(Boolean.TRUE, results.get(i), "after the pulse: waiter-" + i);
        }
        assertFalse(event.await(0, MS), "the flag is down after the clear()");
    }

    @Test
    @Timeout(30)
    void pulseDemoReleasesAllThree() throws Exception {
        for (int round = 0; round < 5; round++) {
            assertEquals(3, Pulse.show(0), "round " + round);
        }
    }

    @Test
    @Timeout(60)
    void pulseSectionEndsWithAllThreeReceivedAndTheFlagDown() throws Exception {
        var run = Scripts.compiled("event", "pulse", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        long received = lines.stream().filter(l -> l.endsWith(" received event!")).count();
        assertEquals(3, received, run.stdout());
        assertTrue(lines.getLast().startsWith("  3 of 3 received it;"), run.stdout());
        assertTrue(lines.getLast().endsWith("returns false"), run.stdout());
    }

    @Test
    @Timeout(10)
    void flagDemoReleasesTheParkedWaiterAndTheLateOne() throws Exception {
        assertEquals(2, FlagEventDemo.show(0));
    }

    @Test
    @Timeout(60)
    void flagSectionPrintsItsStepsInOrder() throws Exception {
        var run = Scripts.compiled("event", "flag", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        List<String> waiters = lines.stream().filter(l -> l.startsWith("Waiter-")).toList();
        assertEquals(List.of("Waiter-0 waiting for event", "Waiter-0 received event!",
                "Waiter-1 waiting for event", "Waiter-1 received event!"), waiters);
        assertTrue(lines.get(2).endsWith("returns false"), run.stdout());  // after "== flag"
        assertTrue(lines.getLast().startsWith("  clear();"), run.stdout());
        assertTrue(lines.getLast().endsWith("returns false"), run.stdout());
    }

    // ---- helpers ----------------------------------------------------------------------

    /** A FlagEvent wait from a worker: an interrupt there would be a test failure. */
    private static boolean awaitOn(FlagEvent event) {
        try {
            return event.await(PATIENCE_MS, MS);  // ends in time only if released
        } catch (InterruptedException e) {
            throw new AssertionError("waiter interrupted", e);
        }
    }

    /** Waits until every thread ends, within LONG; else interrupts them all and fails. */
    private static void allReturn(List<Thread> threads) throws Exception {
        BooleanSupplier ended = () -> threads.stream().noneMatch(Thread::isAlive);
        Waiters.until("every waiter returns", ended, LONG_MS, threads);
        Threads.joinAll(threads);  // already ended: for the happens-before of join
    }
}
