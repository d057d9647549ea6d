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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `event` lesson claims, proven. */
class EventTest {
    private static final long LONG_MS = Threads.LONG.toMillis();  // never runs out here
    private static final TimeUnit MS = TimeUnit.MILLISECONDS;

    // ---- the seed's run on CountDownLatch(1) ------------------------------------------

    @Test
    @Timeout(60)
    void seedSectionPrintsTheSeedsLinesAndEndsWithOne() throws Exception {
        var run = Scripts.compiled("event", "seed", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertTrue(lines.getLast().matches("Waiter-[0-2] received event!"), run.stdout());
        int setting = lines.indexOf("Setting event");
        assertTrue(setting > 0, run.stdout());
        for (int i = 0; i < 3; i++) {
            assertTrue(lines.contains("Waiter-" + i + " waiting for event"), run.stdout());
            int received = lines.indexOf("Waiter-" + i + " received event!");
            assertTrue(received > setting, "received after the set:\n" + run.stdout());
        }
    }

    @Test
    @Timeout(60)
    void latchReleasesEveryWaiterEvenThoseThatComeAfterTheSet() throws Exception {
        for (int round = 0; round < 20; round++) {  // no delay: the set races the waiters
            assertEquals(3, SeedEvent.run(0), "round " + round);
        }
    }

    // ---- NotifyEvent: a signal with no state ------------------------------------------

    @Test
    @Timeout(10)
    void notifyAllWakesEveryThreadAlreadyInWait() throws Exception {
        var event = new NotifyEvent();
        var woken = new AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < 2; i++) {  // one at a time: each can block only in wait()
            threads.add(Thread.ofPlatform().name("waiter-" + i).start(() -> {
                if (waitOn(event).equals("woke")) woken.incrementAndGet();
            }));
            Threads.awaitBlocked(threads.getLast());
        }
        assertEquals(2, event.waiting());

        event.set();
        Threads.joinAll(threads);
        assertEquals(2, woken.get());
    }

    @Test
    @Timeout(10)
    void notifyEventStrandsAWaiterThatComesAfterTheSet() throws Exception {
        var event = new NotifyEvent();
        event.set();  // nobody waits yet: nothing remembers it
        var outcome = new AtomicReference<String>();
        Thread late = Thread.ofPlatform().name("late").start(() -> outcome.set(waitOn(event)));
        Threads.awaitBlocked(late);
        assertEquals(1, event.waiting(), "inside wait(), after the only set()");
        assertNull(outcome.get());

        late.interrupt();  // the only way out short of its timeout, ten seconds away
        Threads.joinAll(List.of(late));
        assertEquals("interrupted", outcome.get());
    }

    @Test
    @Timeout(30)
    void replayStrandsExactlyOneWaiterEveryRun() throws Exception {
        for (int round = 0; round < 5; round++) {
            assertEquals(1, MissedSignal.replay(0), "round " + round);
        }
    }

    // ---- FlagEvent: a re-armable event ------------------------------------------------

    @Test
    @Timeout(10)
    void waiterParksUntilSet() throws Exception {
        var event = new FlagEvent();
        var result = new AtomicReference<Boolean>();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() ->
                result.set(awaitOn(event)));
        Threads.awaitBlocked(waiter);
        assertEquals(1, event.waiting());
        assertNull(result.get(), "await returned before anyone set the event");

        event.set();
        Threads.joinAll(List.of(waiter));
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
    @Timeout(10)
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
        Threads.joinAll(List.of(waiter));
        assertEquals(Boolean.TRUE, result.get());
    }

    @Test
    @Timeout(60)
    void setReleasesEveryWaiterWhereverItIsUnderStress() throws Exception {
        for (int round = 0; round < 20; round++) {
            var event = new FlagEvent();
            var released = new AtomicInteger();
            var go = new CountDownLatch(1);
            var threads = new ArrayList<Thread>();
            for (int i = 0; i < 32; i++) {
                threads.add(Thread.ofPlatform().name("waiter-" + i).start(() -> {
                    Threads.await(go);
                    if (awaitOn(event)) released.incrementAndGet();
                }));
            }
            go.countDown();
            event.set();  // races the waiters: some parked, some still on their way
            Threads.joinAll(threads);
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
                event.await(LONG_MS, MS);
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
            return event.await(LONG_MS, MS);
        } catch (InterruptedException e) {
            throw new AssertionError("waiter interrupted", e);
        }
    }

    /** A NotifyEvent wait from a worker: "woke" after it returns, or "interrupted". */
    private static String waitOn(NotifyEvent event) {
        try {
            event.await(LONG_MS);
            return "woke";
        } catch (InterruptedException e) {
            return "interrupted";
        }
    }
}
