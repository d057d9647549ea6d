import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `cancellation` lesson claims, proven. */
class CancellationTest {

    /** A step that counts down `inStep` (for the given step numbers) and waits on `gate`. */
    private static Step held(CountDownLatch gate, Map<Integer, CountDownLatch> inStep) {
        return step -> {
            var latch = inStep.get(step);
            if (latch != null) latch.countDown();
            if (!gate.await(Threads.LONG.toMillis(), MILLISECONDS)) {
                throw new IllegalStateException("the gate never opened");
            }
        };
    }

    @Test
    @Timeout(30)
    void swallowingTaskRunsOnAfterCancelAndItsPoolDoesNotTerminate() throws Exception {
        var gate = new CountDownLatch(1);
        CountDownLatch inStep1 = new CountDownLatch(1), inStep2 = new CountDownLatch(1);
        var task = new SwallowingTask(held(gate, Map.of(1, inStep1, 2, inStep2)));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> future = pool.submit(task);
            Threads.await(inStep1);  // held in step 1, on the closed gate
            assertTrue(future.cancel(true));
            assertTrue(future.isCancelled());
            assertTrue(future.isDone());
            assertEquals(Future.State.CANCELLED, future.state());
            assertThrows(CancellationException.class, future::get);  // at once
            Threads.await(inStep2);  // yet it begins another step, and is held there
            pool.shutdown();
            assertFalse(pool.awaitTermination(50, MILLISECONDS));
            assertFalse(pool.isTerminated());
            assertEquals(2, task.steps.get());
        } finally {
            task.running = false;  // its own switch, then the gate: it leaves
            gate.countDown();
            pool.close();
        }
        assertTrue(pool.isTerminated());
    }

    @Test
    @Timeout(30)
    void cancellableTaskStopsInTheStepItWasIn() throws Exception {
        var gate = new CountDownLatch(1);  // never opened: only the interrupt ends step 1
        var inStep1 = new CountDownLatch(1);
        var task = new CancellableTask(held(gate, Map.of(1, inStep1)));
        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            Future<?> future = pool.submit(task);
            Threads.await(inStep1);
            assertTrue(future.cancel(true));
            pool.shutdown();
            assertTrue(pool.awaitTermination(Threads.LONG.toMillis(), MILLISECONDS));
        }
        assertEquals(1, task.steps.get(), "no step begun after the cancel");
    }

    /** Cancels at a random moment, in a step or between steps: at most one step more. */
    @Test
    @Timeout(120)
    void cancellableTaskStopsWithinOneStepWhereverTheCancelLands() throws Exception {
        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            for (int run = 0; run < 500; run++) {
                int wanted = ThreadLocalRandom.current().nextInt(1, 50);
                var reached = new CountDownLatch(wanted);
                var ended = new CountDownLatch(1);
                var task = new CancellableTask(step -> {  // a step that answers interrupts
                    reached.countDown();
                    Thread.onSpinWait();
                    if (Thread.interrupted()) throw new InterruptedException();
                });
                Future<?> future = pool.submit(() -> {
                    try {
                        task.run();
                    } finally {
                        ended.countDown();
                    }
                });
                Threads.await(reached);
                future.cancel(true);
                int atCancel = task.steps.get();
                Threads.await(ended);
                int after = task.steps.get() - atCancel;
                assertTrue(after <= 1, "run " + run + ": " + after + " steps after the cancel");
            }
        }
    }

    @Test
    @Timeout(30)
    void aRestoredFlagDoesNotReachThePoolsNextTask() throws Exception {
        var inStep1 = new CountDownLatch(1);
        var task = new CancellableTask(held(new CountDownLatch(1), Map.of(1, inStep1)));
        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            Future<?> first = pool.submit(task);
            Threads.await(inStep1);
            first.cancel(true);
            Future<Boolean> next = pool.submit(() -> Thread.currentThread().isInterrupted());
            assertFalse(next.get(Threads.LONG.toMillis(), MILLISECONDS));
        }
        assertEquals(1, task.steps.get());
    }

    @Test
    @Timeout(60)
    void cancelDemosShowTheSwallowedAndTheHonouredCancel() throws Exception {
        assertFalse(Cancel.swallowed(20), "awaitTermination(pause) after the cancel");
        assertEquals(0, CancellableTask.demo(20), "steps begun after the cancel");
    }

    @Test
    @Timeout(30)
    void getWithATimeoutLeavesTheTaskRunning() throws Exception {
        var task = new Timeouts.Slow(Threads.LONG.toMillis());
        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            Future<String> future = pool.submit(task);
            Threads.await(task.started());
            assertThrows(TimeoutException.class, () -> future.get(10, MILLISECONDS));
            assertEquals(Future.State.RUNNING, future.state());
            assertEquals(1, task.stopped().getCount(), "not interrupted by the timeout");
            future.cancel(true);
            Threads.await(task.stopped());  // only cancel(true) interrupts it
        }
    }

    @Test
    @Timeout(60)
    void invokeAnyReturnsTheFastResultAndInterruptsTheSlowTask() throws Exception {
        assertEquals("fast", Timeouts.demo(20));  // it waits until slow2 was interrupted
    }

    @Test
    @Timeout(60)
    void invokeAnyThatTimesOutCancelsEveryTask() throws Exception {
        var slow = new Timeouts.Slow(Threads.LONG.toMillis());
        var alsoSlow = new Timeouts.Slow(Threads.LONG.toMillis());
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            assertThrows(TimeoutException.class,
                    () -> pool.invokeAny(List.of(slow, alsoSlow), 200, MILLISECONDS));
        }  // close() waits: had a task not been cancelled, it would sleep for 10 s
        for (var task : List.of(slow, alsoSlow)) {  // cancelled: interrupted, or never run
            assertTrue(task.stopped().getCount() == 0 || task.started().getCount() == 1);
        }
    }

    @Test
    @Timeout(30)
    void lockIgnoresAnInterruptUntilItGetsTheLock() throws Exception {
        var lock = new ReentrantLock();
        var flagSet = new AtomicBoolean();
        Thread waiter;
        lock.lock();
        try {
            waiter = Thread.ofPlatform().name("lock()").start(() -> {
                lock.lock();  // not interruptible
                flagSet.set(Thread.currentThread().isInterrupted());
                lock.unlock();
            });
            Threads.awaitState(waiter, Thread.State.WAITING);
            waiter.interrupt();
            assertFalse(waiter.join(java.time.Duration.ofMillis(100)), "still waiting");
            assertTrue(waiter.isAlive());
        } finally {
            lock.unlock();
        }
        Threads.joinAll(List.of(waiter));
        assertTrue(flagSet.get(), "it returns from lock() with its flag set");
    }

    @Test
    @Timeout(30)
    void lockInterruptiblyThrowsAndTryLockGivesUp() throws Exception {
        Map<String, String> said = Uninterruptible.demo(20);
        assertEquals("threw InterruptedException at once", said.get("lockInterruptibly()"));
        assertEquals("gave up after 10 ms", said.get("tryLock"));
        assertEquals("got the lock, flag set: true", said.get("lock()"));
    }

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void sectionsPrintWhatTheProseSays() throws Exception {
        var run = Scripts.compiled("cancellation", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        for (String line : List.of(
                "the future is CANCELLED, isDone() true",
                "yet worker has begun step 4, then step 5",
                "shutdown(); awaitTermination(10 ms) returns false",
                "task.running = false; awaitTermination returns true",
                "steps begun after the cancel: 0",
                "get(10 ms) throws TimeoutException; the task is RUNNING",
                "cancel(true) interrupted it; now CANCELLED",
                "invokeAny returns fast, and interrupted slow2",
                "lock():              interrupted, and still waiting 10 ms later")) {
            assertTrue(lines.contains(line), line + " missing in:\n" + run.stdout());
        }
    }
}
