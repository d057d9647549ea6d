import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `wait_notify` lesson claims, proven. */
class WaitNotifyTest {

    /** What two takers got, and what the buffer says and holds afterwards. */
    record Forced(List<Object> took, int count, List<Object> slots) { }

    /**
     * The lesson's scenario, staged by the test itself: A waits in take(), then B does;
     * one put() and its notifyAll() wake both; once the seam has seen both wake up, a
     * second put().
     */
    private static Forced twoTakersOneItemThenAnother(
            Function<IntConsumer, MonitorBuffer<Integer>> make) throws Exception {
        var bothWoke = new CountDownLatch(2);
        var buffer = make.apply(count -> bothWoke.countDown());
        var took = new Object[2];
        var failures = new ConcurrentLinkedQueue<Throwable>();
        var takers = new ArrayList<Thread>();
        try {
            takers.add(worker("A", failures, () -> took[0] = buffer.take()));
            // WAITING, not BLOCKED: inside take(), only wait() does that. (It may still
            // hold the monitor for a moment; then B and put() simply wait for it.)
            Threads.awaitState(takers.get(0), Thread.State.WAITING);
            takers.add(worker("B", failures, () -> took[1] = buffer.take()));
            Threads.awaitState(takers.get(1), Thread.State.WAITING);
            buffer.put(1);  // gets the monitor once both are in the wait set: wakes both
            Threads.await(bothWoke);
            buffer.put(2);
            Threads.joinAll(takers);
        } finally {
            takers.forEach(Thread::interrupt);  // a no-op once they have ended
        }
        assertTrue(failures.isEmpty(), failures::toString);
        return new Forced(Arrays.asList(took), buffer.count(), buffer.slots());
    }

    @Test
    @Timeout(10)
    void ifWaitBufferHandsOutNullAndStrandsAnItemWhenTwoTakersWake() throws Exception {
        Forced f = twoTakersOneItemThenAnother(seam -> new IfWaitBuffer<>(5, seam));

        assertEquals(1, Collections.frequency(f.took(), null), "one take() returned null");
        assertEquals(1, Collections.frequency(f.took(), 1), "the other got item 1");
        assertEquals(0, f.count(), "count went to -1, then back to 0");
        assertEquals(List.of(2), f.slots(), "item 2 sits in a slot nobody will take");
    }

    @Test
    @Timeout(10)
    void whileWaitBufferDeliversBothItemsInTheSameScenario() throws Exception {
        Forced f = twoTakersOneItemThenAnother(seam -> new MonitorBuffer<>(5, seam));

        assertEquals(List.of(1, 2), f.took().stream().map(Integer.class::cast).sorted()
                .toList());
        assertEquals(0, f.count());
        assertEquals(List.of(), f.slots());
    }

    @Test
    @Timeout(10)
    void replayShowsTheIfBufferFailingAndTheWhileBufferNot() throws Exception {
        var broken = TwoTakers.replay(true, 0);
        assertTrue(broken.took().contains(null), broken.toString());
        assertEquals(List.of(2), broken.slots());

        var fixed = TwoTakers.replay(false, 0);
        assertTrue(fixed.took().containsAll(List.of(1, 2)), fixed.toString());
        assertEquals(List.of(), fixed.slots());
    }

    @Test
    @Timeout(30)
    void ifSectionEndsWithANullAndAStrandedItem() throws Exception {
        var run = Scripts.compiled("wait_notify", "if", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        String last = run.stdout().lines().toList().getLast();
        assertTrue(last.matches("A got (1|null), B got (null|1); count\\(\\) = 0; "
                + "in the slots: \\[2\\]") && last.contains("null"), run.stdout());
    }

    @Test
    @Timeout(60)
    void monitorBufferHandsEachItemOverExactlyOnceUnderStress() throws Exception {
        int producers = 4;
        int consumers = 4;
        int itemsEach = 10_000;
        var buffer = new MonitorBuffer<Integer>(3, count -> { });
        var failures = new ConcurrentLinkedQueue<Throwable>();
        var received = new ArrayList<List<Integer>>();
        var takers = new ArrayList<Thread>();
        for (int c = 0; c < consumers; c++) {
            var mine = new ArrayList<Integer>();
            received.add(mine);
            takers.add(worker("taker-" + c, failures, () -> {
                for (int v = buffer.take(); v >= 0; v = buffer.take()) mine.add(v);
            }));
        }
        var putters = new ArrayList<Thread>();
        for (int p = 0; p < producers; p++) {
            int first = p * itemsEach;
            putters.add(worker("putter-" + p, failures, () -> {
                for (int i = 0; i < itemsEach; i++) buffer.put(first + i);
            }));
        }
        Threads.joinAll(putters);
        for (int c = 0; c < consumers; c++) buffer.put(-1);  // a pill each
        Threads.joinAll(takers);

        assertTrue(failures.isEmpty(), failures::toString);
        var all = received.stream().flatMap(List::stream).sorted().toList();
        assertEquals(IntStream.range(0, producers * itemsEach).boxed().toList(), all);
        assertEquals(0, buffer.count());
    }

    @Test
    @Timeout(10)
    void listenSleepsThroughARingThatCameFirstWhileAwaitRungDoesNot() throws Exception {
        var bell = new Doorbell();
        bell.ring(true);  // nobody waits yet: the notification is lost
        var failures = new ConcurrentLinkedQueue<Throwable>();
        var interrupted = new CountDownLatch(1);
        Thread late = worker("late", failures, () -> {
            try {
                bell.listen(Threads.LONG.toMillis());
            } catch (InterruptedException e) {
                interrupted.countDown();  // it was still waiting when interrupted
            }
        });
        Threads.awaitState(late, Thread.State.TIMED_WAITING);  // in wait(limit)
        late.interrupt();
        Threads.await(interrupted);
        Threads.joinAll(List.of(late));
        assertTrue(failures.isEmpty(), failures::toString);

        assertTrue(bell.awaitRung(0), "the state says rung: no waiting at all");
    }

    @Test
    @Timeout(10)
    void awaitRungReturnsFalseAtItsLimitWhenNobodyRings() throws Exception {
        assertFalse(new Doorbell().awaitRung(50));  // with an if: true after one wait()
    }

    @Test
    @Timeout(10)
    void missedSectionWaitsOutItsWholeLimit() throws Exception {
        long limit = Math.round(1_000 / 20.0);
        assertTrue(Doorbell.missed(20) >= limit - 1, "listen() returned before its limit");
    }

    @Test
    @Timeout(10)
    void notifyLetsExactlyOneOfTwoWaitersThrough() throws Exception {
        var bell = new Doorbell();
        var passed = new ConcurrentLinkedQueue<String>();
        var interrupted = new ConcurrentLinkedQueue<String>();
        var onePassed = new CountDownLatch(1);
        var waiters = new ArrayList<Thread>();
        try {
            for (String name : List.of("W1", "W2")) {
                waiters.add(Thread.ofPlatform().name(name).start(() -> {
                    try {
                        if (bell.awaitRung(Threads.LONG.toMillis())) passed.add(name);
                        onePassed.countDown();
                    } catch (InterruptedException e) {
                        interrupted.add(name);
                    }
                }));
                // In wait(limit) inside awaitRung(): not BLOCKED on the way in.
                Threads.awaitState(waiters.getLast(), Thread.State.TIMED_WAITING);
            }
            bell.ring(false);  // notify(): one waiter leaves the wait set
            Threads.await(onePassed);
            // The other is still in wait(), barring a spurious wake-up (JLS 17.2.1 allows
            // one: it would see rung and pass, and this test would fail).
            waiters.forEach(Thread::interrupt);  // so it throws InterruptedException
            Threads.joinAll(waiters);
        } finally {
            waiters.forEach(Thread::interrupt);
        }

        assertEquals(1, passed.size(), "passed: " + passed);
        assertEquals(1, interrupted.size(), "interrupted in wait(): " + interrupted);
    }

    @Test
    @Timeout(10)
    void notifyAllLetsBothWaitersThroughWithOneRing() throws Exception {
        var bell = new Doorbell();
        var passed = new ConcurrentLinkedQueue<String>();
        var failures = new ConcurrentLinkedQueue<Throwable>();
        var waiters = new ArrayList<Thread>();
        try {
            for (String name : List.of("W1", "W2")) {
                waiters.add(worker(name, failures, () -> {
                    if (bell.awaitRung(Threads.LONG.toMillis())) passed.add(name);
                }));
                Threads.awaitState(waiters.getLast(), Thread.State.TIMED_WAITING);
            }
            bell.ring(true);
            Threads.joinAll(waiters);
        } finally {
            waiters.forEach(Thread::interrupt);  // a no-op once they have ended
        }
        assertTrue(failures.isEmpty(), failures::toString);
        assertEquals(2, passed.size(), "passed: " + passed);
    }

    @Test
    @Timeout(30)
    void ringOnceLeavesOneWaiterAfterNotifyAndNoneAfterNotifyAll() throws Exception {
        // main waits the whole window for the one still in wait() (barring a spurious
        // wake-up); 2 s is ample for the woken one to pass and end.
        assertEquals(1, NotifyOne.ringOnce(false, 2_000).size());
        assertEquals(List.of(), NotifyOne.ringOnce(true, Threads.LONG.toMillis()));
    }

    @Test
    @Timeout(10)
    void waitOnAnObjectWhoseMonitorIsNotHeldThrows() {
        var lock = new Object();
        var other = new Object();
        synchronized (lock) {  // holding lock's monitor, not other's
            assertThrows(IllegalMonitorStateException.class, other::wait);
        }
    }

    interface Body {
        void run() throws Exception;
    }

    /** A platform thread that records what it throws instead of losing it. */
    private static Thread worker(String name, ConcurrentLinkedQueue<Throwable> failures,
                                 Body body) {
        return Thread.ofPlatform().name(name).start(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                failures.add(t);
            }
        });
    }
}
