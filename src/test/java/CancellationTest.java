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
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `cancellation` lesson claims, proven. */
class CancellationTest {

    /** A step that counts down `inStep` (for the given step numbers) and waits on `gate`;
     *  a task that never stops fails at step 101 (the tests never hang on it). */
    private static Step held(CountDownLatch gate, Map<Integer, CountDownLatch> inStep) {
        return step -> {
            if (step > 100) throw new IllegalStateException("step " + step + ": never stops");
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

    /** An interrupt that lands between steps (here: the step itself sets the flag and
     *  returns normally) is seen by the loop check: no step begins after it. */
    @Test
    @Timeout(30)
    void cancellableTaskStopsWhenTheInterruptLandsBetweenSteps() throws Exception {
        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            for (int k = 1; k <= 5; k++) {
                int last = k;
                var task = new CancellableTask(step -> {
                    if (step > last) throw new IllegalStateException("step " + step + " begun");
                    if (step == last) Thread.currentThread().interrupt();  // no wait follows
                });
                pool.submit(task).get(Threads.LONG.toMillis(), MILLISECONDS);  // no exception
                assertEquals(k, task.steps.get());
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
    void enteringSynchronizedIgnoresAnInterruptUntilItGetsTheMonitor() throws Exception {
        var monitor = new Object();
        var flagSet = new AtomicBoolean();
        Thread waiter;
        synchronized (monitor) {
            waiter = Thread.ofPlatform().name("synchronized").start(() -> {
                synchronized (monitor) {  // not interruptible
                    flagSet.set(Thread.currentThread().isInterrupted());
                }
            });
            Threads.awaitBlocked(waiter);
            waiter.interrupt();
            assertFalse(waiter.join(java.time.Duration.ofMillis(100)), "still waiting");
            assertEquals(Thread.State.BLOCKED, waiter.getState());
        }
        Threads.joinAll(List.of(waiter));
        assertTrue(flagSet.get(), "it enters with its flag set");
    }

    @Test
    @Timeout(30)
    void lockInterruptiblyThrowsAndTryLockGivesUp() throws Exception {
        var lock = new ReentrantLock();
        var threw = new AtomicBoolean();
        var gotIt = new AtomicBoolean(true);
        lock.lock();  // held by the test thread throughout
        try {
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    lock.lockInterruptibly();
                    lock.unlock();
                } catch (InterruptedException e) {
                    threw.set(true);
                }
            });
            Threads.awaitState(waiter, Thread.State.WAITING);
            waiter.interrupt();
            Thread tryer = Thread.ofPlatform().start(() -> {
                try {
                    gotIt.set(lock.tryLock(10, MILLISECONDS));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            Threads.joinAll(List.of(waiter, tryer));  // both end while the lock is held
        } finally {
            lock.unlock();
        }
        assertTrue(threw.get(), "lockInterruptibly() threw InterruptedException");
        assertFalse(gotIt.get(), "tryLock(10 ms) gave up");
    }

    /** The platform thread's plain read outlives cancel(true): only main's close() ends
     *  it ("Socket closed"). On a virtual thread, or through a SocketChannel, the
     *  interrupt closes the socket. Every read ends with the flag set. */
    @Test
    @Timeout(90)
    void cancelEndsASocketReadOnlyOnAVirtualThreadOrThroughAChannel() throws Exception {
        assertEquals(List.of("SocketException (Socket closed), flag set: true",
                "SocketException (Closed by interrupt), flag set: true",
                "ClosedByInterruptException, flag set: true"),
                StuckRead.demo(0.1));  // grace: 2 s for a read that the interrupt ends
    }

    @Test
    @Timeout(30)
    void aVirtualThreadsSocketReadEndsByTheInterruptAlone() throws Exception {
        var loopback = java.net.InetAddress.getLoopbackAddress();
        var ended = new java.util.concurrent.LinkedBlockingQueue<String>();
        var reading = new java.util.concurrent.LinkedBlockingQueue<Thread>();
        try (var server = new java.net.ServerSocket(0, 1, loopback);
                var socket = new java.net.Socket(loopback, server.getLocalPort());
                var peer = server.accept()) {
            Thread reader = Thread.ofVirtual().start(
                    () -> StuckRead.read(socket, reading, ended));
            assertEquals(reader, reading.take());
            Threads.awaitState(reader, Thread.State.WAITING);  // parked in the read
            reader.interrupt();
            Threads.joinAll(List.of(reader));  // we closed nothing: the interrupt ended it
            assertEquals("SocketException (Closed by interrupt), flag set: true", ended.take());
            assertTrue(socket.isClosed(), "the interrupt closed it");
        }
    }

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void sectionsPrintWhatTheProseSays() throws Exception {
        var run = Scripts.compiled("cancellation", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        for (String line : List.of(
                "SwallowingTask, in slow step 3: cancel(true) returns true",
                "the future is CANCELLED, isDone() true",
                "yet worker has begun step 4, then step 5",
                "task.running = false; close() returns",
                "CancellableTask, in slow step 3: cancel(true) returns true",
                "close() returns; steps begun after the cancel: 0",
                "get(10 ms) throws TimeoutException; the task is RUNNING",
                "cancel(true) interrupted it; now CANCELLED",
                "invokeAny returns fast, and interrupted slow2",
                "reader, platform thread, plain Socket: cancel(true) returns true",
                "  500 ms later still reading; close()",
                "  SocketException (Socket closed), flag set: true",
                "  ClosedByInterruptException, flag set: true")) {
            assertTrue(lines.contains(line), line + " missing in:\n" + run.stdout());
        }
    }
}
