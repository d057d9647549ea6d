import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `executor_lifecycle` lesson claims, proven. */
class ExecutorLifecycleTest {
    private static final long LONG_MS = Threads.LONG.toMillis();
    private static final long SHORT_MS = 50;  // for waits that must time out
    /** A child JVM compiles its program first: slow on a loaded machine. */
    private static final long CHILD_MS = TimeUnit.SECONDS.toMillis(120);

    private static final Future.State RUNNING = Future.State.RUNNING;
    private static final Future.State SUCCESS = Future.State.SUCCESS;

    // ---- which pools keep a JVM alive: child JVMs

    /** What the child's program printed: without the launcher's notes on inherited
     *  options (JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS) and without -Xlog lines. */
    private static List<String> printed(ForgottenPool.ChildJvm child) {
        return child.output().stream().filter(line -> !line.startsWith("Picked up ")
                && !line.startsWith("NOTE: Picked up ") && !line.startsWith("[")).toList();
    }

    /** Polls a child's output (there is no event to wait on) until main has returned. */
    private static void awaitMainReturns(ForgottenPool.ChildJvm child) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CHILD_MS);
        while (!child.output().contains("main returns")) {
            if (!child.process().isAlive() && !child.reader().isAlive()) {
                fail("the child ended before main returned: " + child.output());
            }
            if (System.nanoTime() > deadline) fail("main never returned: " + child.output());
            Thread.sleep(20);  // polling a process's output: it signals nothing
        }
    }

    /**
     * The forgotten pool's JVM is started first; only once its main has returned do the
     * other two start. They start, compile, run and exit while it has all that time to
     * exit: if it is still alive after that, it is held, not merely slow.
     */
    @Test
    @Timeout(300)  // three child JVMs compile their program on a shared, loaded machine
    void forgottenFixedPoolOutlivesTheJvmsThatClosedTheirPoolOrHadDaemonWorkers()
            throws Exception {
        Process forgotten;
        try (var fixed = ForgottenPool.start("fixed")) {
            forgotten = fixed.process();
            awaitMainReturns(fixed);
            assertEquals(List.of("task ran on pool-1-thread-1, daemon: false",
                    "main returns"), printed(fixed));
            try (var closed = ForgottenPool.start("close");
                 var forkJoin = ForgottenPool.start("forkjoin")) {
                assertTrue(closed.exitsWithin(CHILD_MS), "close(): " + closed.output());
                assertTrue(forkJoin.exitsWithin(CHILD_MS), "forkjoin: " + forkJoin.output());
                assertEquals(List.of("task ran on pool-1-thread-1, daemon: false",
                        "main returns"), printed(closed));
                assertEquals(0, closed.process().exitValue());
                var forkJoinSaid = printed(forkJoin);
                assertTrue(forkJoinSaid.getFirst().startsWith("task ran on ForkJoinPool-")
                        && forkJoinSaid.getFirst().endsWith(", daemon: true"),
                        forkJoinSaid.toString());
                assertEquals("main returns", forkJoinSaid.getLast());
                assertEquals(0, forkJoin.process().exitValue());
            }
            assertTrue(forgotten.isAlive(), "its main returned before the other two started,"
                    + " and both have exited since");
            assertFalse(fixed.exitsWithin(1_000), "and still running a second later");
        }  // ChildJvm.close(): destroyForcibly(), then waitFor()
        assertFalse(forgotten.isAlive(), "close() must leave no JVM behind");
    }

    /** `java Child.java single|scheduled gc|no-gc`: a single-thread executor, used and
     *  forgotten; then, with `gc`, a full GC and whether it found the executor unreachable. */
    private static final String SINGLE_THREAD_PROGRAM = """
            import java.lang.ref.WeakReference;
            import java.util.concurrent.*;
            class Child {
                static WeakReference<ExecutorService> useAndForget(String kind)
                        throws Exception {
                    ExecutorService pool = kind.equals("single")
                            ? Executors.newSingleThreadExecutor()
                            : Executors.newSingleThreadScheduledExecutor();
                    pool.submit(() -> "ok").get(10, TimeUnit.SECONDS);
                    return new WeakReference<>(pool);
                }  // the executor is unreachable from here on

                public static void main(String[] args) throws Exception {
                    System.out.println("main starts");  // any GC logged after this counts
                    var forgotten = useAndForget(args[0]);
                    if (args[1].equals("gc")) {
                        System.gc();
                        System.out.println("unreachable: " + (forgotten.get() == null));
                    }
                    System.out.println("main returns");
                }
            }
            """;

    /*
     * A child inherits JAVA_TOOL_OPTIONS, which may hold -XX:+DisableExplicitGC (then
     * System.gc() does nothing) or -XX:+ExplicitGCInvokesConcurrent (then it returns before
     * the collection has ended). Options on the command line come after those, and win.
     */
    private static final List<String> FULL_GC = List.of("-XX:-DisableExplicitGC",
            "-XX:-ExplicitGCInvokesConcurrent");
    /**
     * No GC is due in this child: its young generation (256 MB) is far more than the program
     * allocates. Should one run all the same (-Xlog:gc says), the test is inconclusive.
     */
    private static final List<String> NO_GC = List.of("-Xms512m", "-Xmx512m", "-Xmn256m",
            "-Xlog:gc");

    /** The GC events a child logged (-Xlog:gc) once its main had started. */
    private static List<String> gcsAfterMainStarts(ForgottenPool.ChildJvm child) {
        var output = child.output();
        return output.subList(output.indexOf("main starts") + 1, output.size()).stream()
                .filter(line -> line.contains("[gc]") && line.contains(" GC(")).toList();
    }

    /**
     * Three children: a forgotten single-thread executor that no GC finds (idle); a
     * forgotten single-thread scheduled executor that a full GC finds unreachable; and
     * a forgotten single-thread executor that a full GC finds, started only once the other
     * two have returned from main. Once it has exited, the other two still run.
     */
    @Test
    @Timeout(300)
    void forgottenSingleThreadExecutorEndsAfterAGcTheScheduledOneDoesNotEvenThen()
            throws Exception {
        Process idleProcess, scheduledProcess;
        try (var idle = ForgottenPool.ChildJvm.start(SINGLE_THREAD_PROGRAM, NO_GC,
                "single", "no-gc");
             var scheduled = ForgottenPool.ChildJvm.start(SINGLE_THREAD_PROGRAM, FULL_GC,
                     "scheduled", "gc")) {
            idleProcess = idle.process();
            scheduledProcess = scheduled.process();
            awaitMainReturns(idle);
            awaitMainReturns(scheduled);
            assertEquals(List.of("main starts", "unreachable: true", "main returns"),
                    printed(scheduled), "the GC found the scheduled executor unreachable");
            try (var collected = ForgottenPool.ChildJvm.start(SINGLE_THREAD_PROGRAM,
                    FULL_GC, "single", "gc")) {
                assertTrue(collected.exitsWithin(CHILD_MS), "the Cleaner shut the pool "
                        + "down: " + collected.output());
                assertEquals(List.of("main starts", "unreachable: true", "main returns"),
                        printed(collected));
            }
            boolean idleExited = idle.exitsWithin(1_000);
            assumeTrue(gcsAfterMainStarts(idle).isEmpty(),
                    "inconclusive: a GC ran in the idle child: " + idle.output());
            assertFalse(idleExited, "no GC, so no Cleaner: still running");
            assertTrue(scheduledProcess.isAlive(), "unreachable, but it has no Cleaner");
        }
        assertFalse(idleProcess.isAlive(), "close() must leave no JVM behind");
        assertFalse(scheduledProcess.isAlive(), "close() must leave no JVM behind");
    }

    @Test
    @Timeout(20)
    void idleWorkersOfFixedAndScheduledPoolsNeverTimeOutCachedOnesAfter60Seconds() {
        try (var fixed = (ThreadPoolExecutor) Executors.newFixedThreadPool(2);
             var cached = (ThreadPoolExecutor) Executors.newCachedThreadPool();
             var scheduled = (ScheduledThreadPoolExecutor) Executors
                     .newScheduledThreadPool(2)) {
            assertEquals(0, fixed.getPoolSize(), "no task yet, so no worker yet");
            assertEquals(fixed.getCorePoolSize(), fixed.getMaximumPoolSize());
            assertFalse(fixed.allowsCoreThreadTimeOut(), "core threads wait for ever");
            assertEquals(2, scheduled.getCorePoolSize());
            assertFalse(scheduled.allowsCoreThreadTimeOut());
            assertEquals(0, cached.getCorePoolSize(), "every worker may time out...");
            assertEquals(60, cached.getKeepAliveTime(TimeUnit.SECONDS), "...after 60 s");
        }
    }

    @Test
    @Timeout(20)
    void onlyForkJoinAndVirtualThreadWorkersAreDaemons() throws Exception {
        List<Supplier<ExecutorService>> nonDaemon = List.of(
                () -> Executors.newFixedThreadPool(1), Executors::newSingleThreadExecutor,
                Executors::newCachedThreadPool, () -> Executors.newScheduledThreadPool(1));
        for (var pool : nonDaemon) assertFalse(workerIsDaemon(pool.get()));
        assertTrue(workerIsDaemon(Executors.newWorkStealingPool(1)));
        assertTrue(workerIsDaemon(Executors.newVirtualThreadPerTaskExecutor()));
    }

    private static boolean workerIsDaemon(ExecutorService pool) throws Exception {
        try (pool) {
            return pool.submit(() -> Thread.currentThread().isDaemon())
                    .get(LONG_MS, TimeUnit.MILLISECONDS);
        }
    }

    // ---- shutdown(), shutdownNow(), close(): the lesson's scene

    private static List<Future.State> states(List<? extends Future<?>> futures) {
        return futures.stream().map(Future::state).toList();
    }

    /*
     * `scene` gives `ender` a pause to return while the gate is closed. A long pause costs
     * nothing when the call returns (join returns then), and had the call waited for the
     * task, it would still be waiting when the pause ends: so `waited()` can fail below.
     */
    @Test
    @Timeout(20)
    void shutdownReturnsWithTheGateClosedAndTheQueuedTasksStillRun() throws Exception {
        var row = PoolEndings.scene("shutdown()", LONG_MS);
        assertFalse(row.waited(), "returned while the running task held the gate");
        assertEquals(SUCCESS, row.running().state());
        assertEquals(List.of(SUCCESS, SUCCESS, SUCCESS), states(row.queued()));
        assertEquals(List.of(), row.handedBack());
    }

    @Test
    @Timeout(20)
    void shutdownNowInterruptsTheTaskAndHandsBackTheQueuedFuturesStillRunning()
            throws Exception {
        var row = PoolEndings.scene("shutdownNow()", LONG_MS);
        assertFalse(row.waited(), "returned; the gate never opens");
        assertEquals(Future.State.FAILED, row.running().state());
        assertInstanceOf(InterruptedException.class, row.running().exceptionNow());
        assertEquals(List.of(RUNNING, RUNNING, RUNNING), states(row.queued()),
                "never started, never completed, in a terminated pool");
        assertEquals(3, row.handedBack().size());
        for (int i = 0; i < 3; i++) {
            assertSame(row.queued().get(i), row.handedBack().get(i), "the very FutureTask");
        }
        assertThrows(java.util.concurrent.TimeoutException.class,
                () -> row.queued().getFirst().get(SHORT_MS, TimeUnit.MILLISECONDS));
        row.handedBack().forEach(task -> ((Future<?>) task).cancel(false));
        assertEquals(List.of(Future.State.CANCELLED, Future.State.CANCELLED,
                Future.State.CANCELLED), states(row.queued()));
        assertThrows(CancellationException.class, () -> row.queued().getFirst().get());
    }

    @Test
    @Timeout(20)
    void closeWaitsForTheTasksThenEveryTaskHasRun() throws Exception {
        var row = PoolEndings.scene("close()", SHORT_MS);  // a wait that must time out
        assertTrue(row.waited(), "close() cannot return while the gate is closed");
        assertEquals(SUCCESS, row.running().state());
        assertEquals(List.of(SUCCESS, SUCCESS, SUCCESS), states(row.queued()));
        assertEquals(List.of(), row.handedBack());
    }

    @Test
    @Timeout(30)
    void endingsSectionPrintsTheTableAndStopSectionTheOutcomes() throws Exception {
        // half speed: `ender` gets 600 ms to return from shutdown() on a loaded machine
        var run = Scripts.compiled("executor_lifecycle", "endings", "stop", "--speed", "0.5");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertTrue(lines.contains("shutdown()     returned SUCCESS                      "
                + "[SUCCESS, SUCCESS, SUCCESS]"), run.stdout());
        assertTrue(lines.contains("shutdownNow()  returned FAILED: InterruptedException "
                + "[RUNNING, RUNNING, RUNNING]"), run.stdout());
        assertTrue(lines.contains("close()        waited   SUCCESS                      "
                + "[SUCCESS, SUCCESS, SUCCESS]"), run.stdout());
        assertTrue(lines.contains("cancel(false) on the 3 tasks it handed back: "
                + "[CANCELLED, CANCELLED, CANCELLED]"), run.stdout());
        String phaseOne = "    still running 600 ms after shutdown()";
        int keeps = lines.indexOf("  a task that keeps the interrupt:");
        assertEquals(List.of(phaseOne, "    ended by shutdownNow()"),
                lines.subList(keeps + 1, keeps + 3), run.stdout());
        int swallows = lines.indexOf("  a task that swallows it:");
        assertEquals(List.of(phaseOne, "    still running after both"),
                lines.subList(swallows + 1, swallows + 3), run.stdout());
    }

    // ---- claims the prose makes beyond the scene

    /** One worker held by a running task on a closed gate, and three tasks queued. */
    private record Held(ExecutorService pool, CountDownLatch gate, Future<String> running,
            List<Future<String>> queued) implements AutoCloseable {
        static Held start(String name) {
            var pool = Executors.newFixedThreadPool(1,
                    Thread.ofPlatform().name(name + "-", 1).factory());
            var started = new CountDownLatch(1);
            var gate = new CountDownLatch(1);
            Future<String> running = pool.submit(() -> {
                started.countDown();
                gate.await();  // ended by the gate, or by an interrupt
                return "ok";
            });
            Threads.await(started);
            var queued = new ArrayList<Future<String>>();
            for (int i = 0; i < 3; i++) queued.add(pool.submit(() -> "ok"));
            return new Held(pool, gate, running, queued);
        }

        @Override
        public void close() {  // whatever a test did: the gate opens and the pool ends
            gate.countDown();
            pool.shutdownNow();
            pool.close();
        }
    }

    @Test
    @Timeout(20)
    void everyEndingRefusesNewTasksAtOnce() throws Exception {
        try (var held = Held.start("refuse-shutdown")) {
            held.pool().shutdown();
            assertThrows(RejectedExecutionException.class, () -> held.pool().execute(() -> { }));
        }
        try (var held = Held.start("refuse-now")) {
            held.pool().shutdownNow();
            assertThrows(RejectedExecutionException.class, () -> held.pool().execute(() -> { }));
        }
        try (var held = Held.start("refuse-close")) {
            Thread closer = Thread.ofPlatform().name("closer").start(held.pool()::close);
            Threads.awaitState(closer, Thread.State.TIMED_WAITING);  // in awaitTermination
            assertTrue(held.pool().isShutdown());
            assertThrows(RejectedExecutionException.class, () -> held.pool().execute(() -> { }));
            held.gate().countDown();
            Threads.joinAll(List.of(closer));
            assertTrue(held.pool().isTerminated());
        }
    }

    @Test
    @Timeout(20)
    void shutdownReturnsWhileTheTaskRunsCloseWaitsInAwaitTerminationUntilItEnds()
            throws Exception {
        try (var held = Held.start("returns")) {
            held.pool().shutdown();
            assertEquals(RUNNING, held.running().state(), "the gate is closed: still running");
            assertFalse(held.pool().isTerminated());
        }
        try (var held = Held.start("waits")) {
            Thread closer = Thread.ofPlatform().name("closer").start(held.pool()::close);
            Threads.awaitState(closer, Thread.State.TIMED_WAITING);  // in awaitTermination
            assertEquals(RUNNING, held.running().state(), "the task still holds the gate");
            assertTrue(held.pool().isShutdown());
            assertFalse(held.pool().isTerminated());
            held.gate().countDown();
            Threads.joinAll(List.of(closer));  // close() returns now, and only now
            assertEquals(SUCCESS, held.running().state());
            assertEquals(List.of(SUCCESS, SUCCESS, SUCCESS), states(held.queued()));
        }
    }

    @Test
    @Timeout(20)
    void interruptedCloseStopsTheTaskDropsTheQueueAndSetsTheFlagAgain() throws Exception {
        try (var held = Held.start("close-interrupted")) {
            var flagAfterClose = new AtomicBoolean();
            Thread closer = Thread.ofPlatform().name("closer").start(() -> {
                held.pool().close();
                flagAfterClose.set(Thread.currentThread().isInterrupted());
            });
            Threads.awaitState(closer, Thread.State.TIMED_WAITING);
            closer.interrupt();
            Threads.joinAll(List.of(closer));
            assertTrue(flagAfterClose.get(), "close() sets its caller's flag again");
            assertTrue(held.pool().isTerminated());
            assertInstanceOf(InterruptedException.class, held.running().exceptionNow());
            assertEquals(List.of(RUNNING, RUNNING, RUNNING), states(held.queued()),
                    "dropped: never run, never completed, handed to no one");
        }
    }

    @Test
    @Timeout(20)
    void awaitTerminationWithoutShutdownTimesOutOnAnIdlePoolThatStillTakesTasks()
            throws Exception {
        try (var pool = Executors.newFixedThreadPool(1)) {
            pool.submit(() -> "ok").get(LONG_MS, TimeUnit.MILLISECONDS);
            assertFalse(pool.awaitTermination(SHORT_MS, TimeUnit.MILLISECONDS));
            assertFalse(pool.isShutdown());
            assertEquals("again", pool.submit(() -> "again").get(LONG_MS,
                    TimeUnit.MILLISECONDS));
        }
    }

    // ---- ending a pool within a time limit

    @Test
    @Timeout(20)
    void shutdownAndAwaitEndsAnIdlePoolInPhaseOne() throws Exception {
        try (var pool = Executors.newFixedThreadPool(1)) {
            pool.submit(() -> "ok").get(LONG_MS, TimeUnit.MILLISECONDS);
            assertEquals("ended by shutdown()", BoundedShutdown.shutdownAndAwait(pool,
                    LONG_MS));
            assertTrue(pool.isTerminated());
        }
    }

    @Test
    @Timeout(20)
    void aTaskThatKeepsTheInterruptEndsInPhaseTwo() throws Exception {
        var started = new CountDownLatch(1);
        var interrupted = new CountDownLatch(1);
        var cancelled = new AtomicBoolean();
        var pool = Executors.newFixedThreadPool(1);
        try {
            pool.execute(BoundedShutdown.longTask(true, started, interrupted, cancelled));
            Threads.await(started);
            // phase 1 times out (2 s); phase 2 returns as soon as the pool has terminated
            assertEquals("ended by shutdownNow()", BoundedShutdown.shutdownAndAwait(pool,
                    2_000));
            assertEquals(0, interrupted.getCount(), "it caught the interrupt");
        } finally {
            cancelled.set(true);  // only matters if an assertion failed
            pool.close();
        }
    }

    @Test
    @Timeout(20)
    void aTaskThatSwallowsTheInterruptSurvivesBothPhasesUntilCancelled() throws Exception {
        var started = new CountDownLatch(1);
        var interrupted = new CountDownLatch(1);
        var cancelled = new AtomicBoolean();
        var pool = Executors.newFixedThreadPool(1);
        try {
            pool.execute(BoundedShutdown.longTask(false, started, interrupted, cancelled));
            Threads.await(started);
            assertEquals("still running after both", BoundedShutdown.shutdownAndAwait(pool,
                    SHORT_MS));
            Threads.await(interrupted);  // it did receive shutdownNow()'s interrupt...
            assertFalse(pool.awaitTermination(SHORT_MS, TimeUnit.MILLISECONDS),
                    "...and carried on");
        } finally {
            cancelled.set(true);
            assertTrue(pool.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS),
                    "the cancel flag stops it");
        }
    }

    @Test
    @Timeout(20)
    void shutdownAndAwaitInterruptedInsistsAtOnceAndKeepsTheInterrupt() throws Exception {
        var started = new CountDownLatch(1);
        var cancelled = new AtomicBoolean();
        var outcome = new AtomicReference<String>();
        var flagAfter = new AtomicBoolean();
        var pool = Executors.newFixedThreadPool(1);
        try {
            pool.execute(BoundedShutdown.longTask(true, started, new CountDownLatch(1),
                    cancelled));
            Threads.await(started);
            Thread caller = Thread.ofPlatform().name("caller").start(() -> {
                outcome.set(BoundedShutdown.shutdownAndAwait(pool, TimeUnit.DAYS.toMillis(1)));
                flagAfter.set(Thread.currentThread().isInterrupted());
            });
            Threads.awaitState(caller, Thread.State.TIMED_WAITING);  // phase 1's wait
            caller.interrupt();
            Threads.joinAll(List.of(caller));
            assertEquals("interrupted while waiting", outcome.get());
            assertTrue(flagAfter.get(), "the interrupt is kept for the caller's caller");
            assertTrue(pool.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS),
                    "its shutdownNow() stopped the task that keeps the interrupt");
        } finally {
            cancelled.set(true);  // only matters if an assertion failed
            pool.close();
        }
    }
}
