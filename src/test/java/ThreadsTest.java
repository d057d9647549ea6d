import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import support.Scripts;
import support.Threads;

/** What the `threads` lesson claims, proven. */
class ThreadsTest {
    private static final long FIVE_MINUTES = TimeUnit.MINUTES.toMillis(5);

    private static List<String> lines(Scripts.Result run) {
        assertEquals(0, run.exitCode(), run.stderr());
        return run.stdout().lines().filter(l -> !l.isBlank() && !l.startsWith("== ")).toList();
    }

    /** Polls until the condition holds: for states no latch reports (in join, a read). */
    private static void until(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Threads.LONG.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) throw new AssertionError("never: " + what);
            Thread.yield();
        }
    }

    private static List<Thread> startSeedWorkers(long delayMillis) {
        var workers = new ArrayList<Thread>();
        for (int i = 0; i < 3; i++) workers.add(SeedWorkers.startWorker(i, delayMillis));
        return workers;
    }

    // The seed's run

    @Test
    @Timeout(60)
    void seedSectionPrintsTheSeedsSixLinesAndEndsOnOne() throws Exception {
        var run = Scripts.compiled("threads", "seed");  // one second of sleep each
        List<String> lines = lines(run);
        assertEquals(Stream.of("T0", "T1", "T2")
                        .flatMap(t -> Stream.of("Worker " + t + " starting", "Worker " + t
                                + " finished")).sorted().toList(),
                lines.stream().sorted().toList(), run.stdout());
        for (String t : List.of("T0", "T1", "T2")) {
            assertTrue(lines.indexOf("Worker " + t + " starting")
                    < lines.indexOf("Worker " + t + " finished"), run.stdout());
        }
        // the three sleep at the same time: no worker finishes before all have started
        int lastStart = lines.stream().filter(l -> l.endsWith(" starting"))
                .mapToInt(lines::indexOf).max().orElseThrow();
        int firstFinish = lines.stream().filter(l -> l.endsWith(" finished"))
                .mapToInt(lines::indexOf).min().orElseThrow();
        assertTrue(lastStart < firstFinish, run.stdout());
        String last = run.stdout().lines().toList().getLast();
        assertTrue(last.matches("Worker T[012] finished"), last);
    }

    @Test
    @Timeout(30)
    void seedWorkersAreNamedT0ToT2AndSleepAtTheSameTime() throws Exception {
        List<Thread> workers = startSeedWorkers(FIVE_MINUTES);
        try {
            for (Thread t : workers) Interrupts.untilWaiting(t);
            // each sleeps five minutes, so all three are asleep at once now
            for (Thread t : workers) {
                assertEquals(Thread.State.TIMED_WAITING, t.getState(), t.getName());
                assertFalse(t.isVirtual(), t.getName());
                assertFalse(t.isDaemon(), t.getName());
            }
            assertEquals(List.of("T0", "T1", "T2"),
                    workers.stream().map(Thread::getName).toList());
        } finally {
            workers.forEach(Thread::interrupt);
        }
        Threads.joinAll(workers);
    }

    // The forgotten join

    @Test
    @Timeout(20)
    void withoutJoinMainSeesNoResultsAndAfterJoinItSeesAllThree() throws Exception {
        var hold = new CountDownLatch(1);  // keeps the workers from writing their results
        var seen = new AtomicReference<ForgottenJoin.Seen>();
        Thread demo = Thread.ofPlatform().name("demo").start(() -> {
            try {
                seen.set(ForgottenJoin.demo(hold));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            // demo's one timed wait is join(Duration); without join it would just end
            until(() -> demo.getState() == Thread.State.TIMED_WAITING || !demo.isAlive(),
                    "demo waits in join");
            assertTrue(demo.isAlive(), "demo returned while its workers were still held");
        } finally {
            hold.countDown();
        }
        Threads.joinAll(List.of(demo));
        assertEquals(new ForgottenJoin.Seen(0, 3), seen.get());
    }

    @Test
    @Timeout(10)
    void theLessonsJoinDemoSeesNoResultsThenAllThree() throws Exception {
        assertEquals(new ForgottenJoin.Seen(0, 3), ForgottenJoin.demo());
    }

    @Test
    @Timeout(10)
    void runIsNotStart() throws Exception {
        var ranOn = new AtomicReference<Thread>();
        Thread t = new Thread(() -> ranOn.set(Thread.currentThread()), "not-started");
        t.run();  // a plain call
        assertSame(Thread.currentThread(), ranOn.get());
        assertEquals(Thread.State.NEW, t.getState());
        t.start();
        Threads.joinAll(List.of(t));
        assertSame(t, ranOn.get());
        assertThrows(IllegalThreadStateException.class, t::start);
    }

    // Interrupting a sleeping worker

    @Test
    @Timeout(10)
    void anInterruptedSeedWorkerStopsSleepingAndKeepsTheFlag() throws Exception {
        var flagAfterWork = new AtomicBoolean();
        Thread worker = Thread.ofPlatform().name("sleeper").start(() -> {
            SeedWorkers.work(FIVE_MINUTES);
            flagAfterWork.set(Thread.currentThread().isInterrupted());
        });
        Interrupts.untilWaiting(worker);
        worker.interrupt();
        Threads.joinAll(List.of(worker));  // within seconds, not five minutes
        assertTrue(flagAfterWork.get(), "work() lost the interrupt");
    }

    @Test
    @Timeout(10)
    void anInterruptBeforeTheSleepIsNotLost() throws Exception {
        var flagAfterWork = new AtomicBoolean();
        Thread worker = Thread.ofPlatform().name("early").start(() -> {
            Thread.currentThread().interrupt();  // before work() reaches its sleep
            SeedWorkers.work(FIVE_MINUTES);
            flagAfterWork.set(Thread.currentThread().isInterrupted());
        });
        Threads.joinAll(List.of(worker));  // within seconds: the sleep threw at once
        assertTrue(flagAfterWork.get());
    }

    @Test
    @Timeout(60)
    void stopSectionInterruptsT1WhileT0AndT2Finish() throws Exception {
        var run = Scripts.compiled("threads", "stop");  // the default speed
        List<String> lines = lines(run);
        assertTrue(lines.containsAll(List.of("Worker T0 finished", "Worker T2 finished",
                "Worker T1 interrupted")), run.stdout());
        assertFalse(lines.contains("Worker T1 finished"), run.stdout());
        assertTrue(lines.contains("main: T1.interrupt()"), run.stdout());
        assertTrue(lines.indexOf("main: T1.interrupt()")
                < lines.indexOf("Worker T1 interrupted"), run.stdout());
        assertEquals(List.of(
                "jobs-swallow: interrupted, then took 2 jobs; ended by the STOP job",
                "jobs-restore: interrupted, then took 0 jobs; ended by the interrupt"),
                lines.subList(lines.size() - 2, lines.size()));
    }

    @Test
    @Timeout(5)  // at once, not after the ten seconds untilWaiting allows a live thread
    void untilWaitingFailsAtOnceOnAThreadThatHasEnded() throws Exception {
        Thread ended = Thread.ofPlatform().name("ended").start(() -> { });
        Threads.joinAll(List.of(ended));
        assertThrows(IllegalStateException.class, () -> Interrupts.untilWaiting(ended));
    }

    // Swallowing or restoring the interrupt

    @Test
    @Timeout(30)
    void jobWorkerDemosEndTheSameWayEveryTime() throws Exception {
        for (int i = 0; i < 50; i++) {  // demo() prints nothing; both() prints
            assertEquals(new JobWorker.Stop("jobs-swallow", 2, "the STOP job"),
                    JobWorker.demo(false));
            assertEquals(new JobWorker.Stop("jobs-restore", 0, "the interrupt"),
                    JobWorker.demo(true));
        }
    }

    @Test
    @Timeout(10)
    void aSwallowedInterruptIsLostAndTheWorkerWaitsAgain() throws Exception {
        var worker = new JobWorker(false);
        Thread thread = Thread.ofPlatform().name("swallower").start(worker);
        try {
            Threads.awaitBlocked(thread);
            thread.interrupt();
            Threads.await(worker.caught);
            Threads.awaitBlocked(thread);  // back in poll(), waiting for a job
            assertFalse(thread.isInterrupted(), "the flag should be cleared, and lost");
            assertTrue(thread.isAlive());
        } finally {
            worker.jobs.add(JobWorker.STOP);
        }
        Threads.joinAll(List.of(thread));
        assertEquals("the STOP job", worker.endedBy);
    }

    @Test
    @Timeout(10)
    void jobWorkerDoesEveryJobUntilTheStopJob() throws Exception {
        var worker = new JobWorker(true);
        Thread thread = Thread.ofPlatform().name("jobs").start(worker);
        for (int i = 0; i < 1_000; i++) worker.jobs.add("job " + i);
        worker.jobs.add(JobWorker.STOP);
        Threads.joinAll(List.of(thread));
        assertEquals(1_000, worker.jobsDone);
        assertEquals("the STOP job", worker.endedBy);
    }

    // Which waits answer an interrupt

    interface Blocking { void run() throws InterruptedException; }

    /** A wait: what the test holds first, what the waiter calls, what lets it go. */
    record Wait(String name, Runnable hold, Blocking block, Runnable release) {
        @Override public String toString() { return name; }
    }

    static Stream<Wait> uninterruptibleWaits() {
        var lock = new ReentrantLock();
        var semaphore = new Semaphore(0);
        var condLock = new ReentrantLock();
        Condition condition = condLock.newCondition();
        var future = new CompletableFuture<String>();
        return Stream.of(
                new Wait("Lock.lock()", lock::lock, () -> {
                    lock.lock();
                    lock.unlock();
                }, lock::unlock),
                new Wait("Semaphore.acquireUninterruptibly()", () -> { },
                        semaphore::acquireUninterruptibly, semaphore::release),
                new Wait("Condition.awaitUninterruptibly()", () -> { },
                        () -> locked(condLock, condition::awaitUninterruptibly),
                        () -> locked(condLock, condition::signal)),
                new Wait("CompletableFuture.join()", () -> { }, future::join,
                        () -> future.complete("done")));
    }

    static Stream<Wait> interruptibleWaits() {
        var lock = new ReentrantLock();
        var semaphore = new Semaphore(0);
        var condLock = new ReentrantLock();
        Condition condition = condLock.newCondition();
        var future = new CompletableFuture<String>();
        var queue = new LinkedBlockingQueue<String>();
        var latch = new CountDownLatch(1);
        var emptyQueue = new LinkedBlockingQueue<String>();
        var monitor = new Object();
        var notified = new AtomicBoolean();
        var task = new FutureTask<>(() -> "done");
        var targetMayEnd = new CountDownLatch(1);
        Thread target = Thread.ofPlatform().name("target").unstarted(
                () -> Threads.await(targetMayEnd));
        return Stream.of(
                new Wait("Lock.lockInterruptibly()", lock::lock, lock::lockInterruptibly,
                        lock::unlock),
                new Wait("Semaphore.acquire()", () -> { }, semaphore::acquire,
                        semaphore::release),
                new Wait("Condition.await()", () -> { }, () -> {
                    condLock.lock();
                    try {
                        condition.await();
                    } finally {
                        condLock.unlock();
                    }
                }, () -> locked(condLock, condition::signal)),
                new Wait("CompletableFuture.get()", () -> { }, () -> {
                    try {
                        future.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw new AssertionError(e);
                    }
                }, () -> future.complete("done")),
                new Wait("BlockingQueue.take()", () -> { }, queue::take, () -> queue.add("x")),
                new Wait("CountDownLatch.await()", () -> { }, latch::await, latch::countDown),
                new Wait("Thread.sleep", () -> { }, () -> Thread.sleep(FIVE_MINUTES), () -> { }),
                new Wait("BlockingQueue.poll(timeout)", () -> { },
                        () -> emptyQueue.poll(5, TimeUnit.MINUTES), () -> { }),
                new Wait("Object.wait()", () -> { }, () -> {
                    synchronized (monitor) {
                        while (!notified.get()) monitor.wait();
                    }
                }, () -> {
                    synchronized (monitor) {
                        notified.set(true);
                        monitor.notifyAll();
                    }
                }),
                new Wait("FutureTask.get()", () -> { }, () -> {
                    try {
                        task.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw new AssertionError(e);
                    }
                }, task::run),
                new Wait("Thread.join()", target::start, target::join, () -> {
                    targetMayEnd.countDown();
                    try {
                        target.join();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }));
    }

    private static void locked(ReentrantLock lock, Runnable action) {
        lock.lock();
        try {
            action.run();
        } finally {
            lock.unlock();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("uninterruptibleWaits")
    @Timeout(10)
    void someWaitsGoOnWaitingWhenInterruptedAndReturnWithTheFlagSet(Wait wait)
            throws Exception {
        var returned = new AtomicBoolean();
        var flagOnReturn = new AtomicBoolean();
        wait.hold().run();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() -> {
            try {
                wait.block().run();
            } catch (InterruptedException e) {
                return;  // it answered the interrupt: returned stays false
            }
            returned.set(true);
            flagOnReturn.set(Thread.currentThread().isInterrupted());
        });
        try {
            Threads.awaitBlocked(waiter);
            waiter.interrupt();
            assertFalse(waiter.join(Duration.ofMillis(200)), "the interrupt ended the wait");
        } finally {
            wait.release().run();
        }
        Threads.joinAll(List.of(waiter));
        assertTrue(returned.get(), "the wait did not return normally");
        assertTrue(flagOnReturn.get(), "the interrupt was lost");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("interruptibleWaits")
    @Timeout(10)
    void theirTwinsThrowInterruptedExceptionAndClearTheFlag(Wait wait) throws Exception {
        var threw = new AtomicBoolean();
        var flagAfter = new AtomicBoolean(true);
        wait.hold().run();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() -> {
            try {
                wait.block().run();
            } catch (InterruptedException e) {
                threw.set(true);
                flagAfter.set(Thread.currentThread().isInterrupted());
            }
        });
        try {
            Threads.awaitBlocked(waiter);
            waiter.interrupt();
            Threads.joinAll(List.of(waiter));  // ended with the resource still held
        } finally {
            wait.release().run();
        }
        assertTrue(threw.get(), "no InterruptedException");
        assertFalse(flagAfter.get(), "throwing it should clear the flag");
    }

    @Test
    @Timeout(10)
    void enteringSynchronizedGoesOnWaitingWhenInterrupted() throws Exception {
        var monitor = new Object();
        var flagInside = new AtomicBoolean();
        Thread waiter;
        synchronized (monitor) {
            waiter = Thread.ofPlatform().name("waiter").start(() -> {
                synchronized (monitor) {
                    flagInside.set(Thread.currentThread().isInterrupted());
                }
            });
            Threads.awaitBlocked(waiter);
            waiter.interrupt();
            assertFalse(waiter.join(Duration.ofMillis(200)), "the interrupt ended the wait");
            assertEquals(Thread.State.BLOCKED, waiter.getState());
        }
        Threads.joinAll(List.of(waiter));
        assertTrue(flagInside.get());
    }

    @Test
    @Timeout(10)
    void anInterruptedWaitThrowsOnlyOnceItHasTheMonitorBack() throws Exception {
        var monitor = new Object();
        var threw = new AtomicBoolean();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() -> {
            synchronized (monitor) {
                try {
                    monitor.wait(FIVE_MINUTES);
                } catch (InterruptedException e) {
                    threw.set(true);
                }
            }
        });
        Threads.awaitBlocked(waiter);  // in wait(), which has let the monitor go
        synchronized (monitor) {
            waiter.interrupt();
            until(() -> waiter.getState() == Thread.State.BLOCKED, "waiter wants the monitor");
            assertFalse(threw.get());  // woken, but it cannot throw without the monitor
        }
        Threads.joinAll(List.of(waiter));
        assertTrue(threw.get());
    }

    /** Whether t is inside a native read called from the given class. */
    private static boolean inNativeRead(Thread t, String caller) {
        StackTraceElement[] stack = t.getStackTrace();
        return stack.length > 0 && stack[0].isNativeMethod() && Arrays.stream(stack)
                .anyMatch(f -> f.getClassName().startsWith(caller));
    }

    @Test
    @Timeout(10)
    void aPlatformThreadsSocketReadGoesOnWaitingWhenInterrupted() throws Exception {
        var loopback = InetAddress.getLoopbackAddress();
        try (var server = new ServerSocket(0, 1, loopback);
                var socket = new Socket(loopback, server.getLocalPort());
                var peer = server.accept()) {
            var read = new AtomicReference<Integer>();
            var flagOnReturn = new AtomicBoolean();
            Thread reader = Thread.ofPlatform().name("reader").start(() -> {
                try {
                    read.set(socket.getInputStream().read());
                    flagOnReturn.set(Thread.currentThread().isInterrupted());
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            try {
                until(() -> inNativeRead(reader, "java.net.Socket"), "reader in read()");
                reader.interrupt();
                assertFalse(reader.join(Duration.ofMillis(200)), "the interrupt ended read()");
            } finally {
                peer.getOutputStream().write(42);
            }
            Threads.joinAll(List.of(reader));
            assertEquals(42, read.get());
            assertTrue(flagOnReturn.get(), "the interrupt was lost");
        }
    }

    @Test
    @Timeout(10)
    void anInterruptClosesTheChannelOfAnNioRead() throws Exception {
        var loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        try (var server = ServerSocketChannel.open().bind(loopback);
                var channel = SocketChannel.open(server.getLocalAddress());
                var peer = server.accept()) {
            var thrown = new AtomicReference<Exception>();
            var flagAfter = new AtomicBoolean();
            Thread reader = Thread.ofPlatform().name("reader").start(() -> {
                try {
                    channel.read(ByteBuffer.allocate(1));
                } catch (IOException e) {
                    thrown.set(e);
                    flagAfter.set(Thread.currentThread().isInterrupted());
                }
            });
            until(() -> inNativeRead(reader, "sun.nio.ch.SocketChannelImpl"), "reader in read");
            reader.interrupt();
            Threads.joinAll(List.of(reader));
            assertTrue(thrown.get() instanceof ClosedByInterruptException, "" + thrown.get());
            assertTrue(flagAfter.get(), "the flag should stay set");
            assertFalse(channel.isOpen());
        }
    }

    @Test
    @Timeout(10)
    @SuppressWarnings("static")  // the pitfall itself: a static method called on an instance
    void tInterruptedTestsAndClearsTheCallersFlagNotTs() throws Exception {
        var monitor = new Object();
        Thread t;
        synchronized (monitor) {
            t = Thread.ofPlatform().name("t").start(() -> {
                synchronized (monitor) { }  // waits to enter, and leaves the flag alone
            });
            t.interrupt();  // t's flag is set, and t goes on waiting
            assertFalse(t.interrupted(), "it read the caller's flag, which is clear");
            Thread.currentThread().interrupt();
            assertTrue(t.interrupted(), "the caller's flag, set");
            assertFalse(Thread.currentThread().isInterrupted(), "... and now cleared");
            assertTrue(t.isInterrupted(), "t's own flag, untouched");
        }
        Threads.joinAll(List.of(t));
    }

    // The stage

    @Test
    @Timeout(60)
    void everySectionFitsFortyRowsOfEightyColumns() throws Exception {
        var run = Scripts.compiled("threads", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> sections = Stream.of(run.stdout().split("\n(?=== )"))
                .filter(s -> s.startsWith("== ")).toList();
        assertEquals(Scripts.sections("threads").size(), sections.size(), run.stdout());
        for (String section : sections) {
            List<String> rows = section.lines().toList();
            assertTrue(rows.size() <= 40, section);
            rows.forEach(row -> assertTrue(row.length() <= 80, row));
        }
    }
}
