import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Threads;

/** What the `executor_lifecycle` lesson claims, proven. */
class ExecutorLifecycleTest {
    /** For waits that must time out: short, since nothing can make them succeed. */
    private static final Duration SHORT = Duration.ofMillis(50);
    private static final long LONG_MS = Threads.LONG.toMillis();

    // ---- the leak, in a child JVM and in-process

    @Test
    @Timeout(180)  // three child JVMs compile their source on a shared, loaded machine
    void forgottenPoolKeepsTheChildJvmAliveWhileEndedPoolsLetItExit() throws Exception {
        var runs = LeakedPoolChild.run(List.of(LeakedPoolChild.Ending.FORGOTTEN,
                LeakedPoolChild.Ending.SHUTDOWN, LeakedPoolChild.Ending.CLOSE), SHORT);

        var forgotten = runs.get(0);
        assertFalse(forgotten.exited(), "waitFor(bound) must time out: " + forgotten);
        assertTrue(forgotten.millisAfterMain() >= SHORT.toMillis(), forgotten.toString());
        assertTrue(forgotten.output().contains("pool terminated: false"), forgotten.output()
                .toString());
        assertTrue(forgotten.output().stream().anyMatch(l -> l.startsWith("non-daemon")
                && l.contains("pool-1-thread-1")), forgotten.output().toString());
        var shutdown = runs.get(1);
        assertTrue(shutdown.exited(), "shutdown() lets the JVM exit: " + shutdown);
        var closed = runs.get(2);
        assertTrue(closed.exited(), "close() lets the JVM exit: " + closed);
        assertTrue(closed.output().contains("pool terminated: true"), closed.output()
                .toString());
        for (var run : runs) {  // run() destroys every child in its finally
            assertFalse(ProcessHandle.of(run.pid()).map(ProcessHandle::isAlive).orElse(false),
                    "child " + run.pid() + " is still alive");
        }
    }

    @Test
    @Timeout(20)
    void poolPerCallLeaksOneWorkerPerCallUntilEachIsClosed() throws Exception {
        assertEquals(4, PoolPerCallLeak.demo(4));
        assertEquals(List.of(), PoolPerCallLeak.liveWorkers());
    }

    // ---- shutdown, shutdownNow, awaitTermination, close

    @Test
    @Timeout(20)
    void shutdownReturnsAtOnceRunsTheQueuedTasksAndRefusesNewOnes() throws Exception {
        try (var g = new GatedPool("t-shutdown", 3)) {
            g.pool.shutdown();  // returns although the held task cannot end yet
            assertTrue(g.pool.isShutdown());
            assertFalse(g.pool.isTerminated());
            assertThrows(RejectedExecutionException.class, () -> g.pool.execute(() -> { }));
            assertEquals(0, g.queuedRan.get(), "the worker is still held");
            g.open();
            assertTrue(g.pool.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS));
            assertEquals(1, g.heldFinished.get());
            assertEquals(3, g.queuedRan.get(), "the queue drains after shutdown()");
        }
    }

    @Test
    @Timeout(20)
    void shutdownNowReturnsExactlyTheNeverStartedTasksAndInterruptsTheRunningOne()
            throws Exception {
        try (var g = new GatedPool("t-now", 3)) {
            List<Runnable> neverStarted = g.pool.shutdownNow();
            assertEquals(g.queued, neverStarted);
            for (int i = 0; i < neverStarted.size(); i++) {
                assertTrue(g.queued.get(i) == neverStarted.get(i), "the very same tasks");
            }
            assertTrue(g.pool.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS));
            assertEquals(1, g.heldInterrupted.get(), "the running task was interrupted");
            assertEquals(0, g.heldFinished.get());
            assertEquals(0, g.queuedRan.get(), "no queued task ran");
        }
    }

    @Test
    @Timeout(20)
    void awaitTerminationIsFalseWhileATaskIsHeldAndTrueOnceReleased() throws Exception {
        try (var g = new GatedPool("t-await", 2)) {
            g.pool.shutdown();
            assertFalse(g.pool.awaitTermination(SHORT.toMillis(), TimeUnit.MILLISECONDS));
            assertFalse(g.pool.isTerminated());
            g.open();
            assertTrue(g.pool.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    @Timeout(20)
    void awaitTerminationWithoutShutdownTimesOutOnAnIdlePool() throws Exception {
        try (var g = new GatedPool("t-idle", 2)) {
            g.open();
            LifecycleWaits.until(() -> g.queuedRan.get() == 2, "the queue never ran");
            assertFalse(g.pool.awaitTermination(SHORT.toMillis(), TimeUnit.MILLISECONDS));
            assertFalse(g.refusesNewTask(), "an idle pool still takes new tasks");
        }
    }

    @Test
    @Timeout(20)
    void tableRowsForShutdownAndShutdownNow() throws Exception {
        assertEquals(new PoolEndings.Row("shutdown()", false, "finished", 3, 0, 0, true,
                false), PoolEndings.shutdown(3));
        assertEquals(new PoolEndings.Row("shutdownNow()", false, "interrupted", 0, 3, 3,
                true, false), PoolEndings.shutdownNow(3));
    }

    @Test
    @Timeout(20)
    void closeWaitsForTheHeldTaskThenEverythingHasRun() throws Exception {
        var row = PoolEndings.close(3, false);
        assertTrue(row.callerWaited(), "close() was still waiting with the gate closed");
        assertEquals("finished", row.heldTask());
        assertEquals(3, row.queuedRan());
        assertTrue(row.refusedNew());
        assertFalse(row.closerFlag());
    }

    @Test
    @Timeout(20)
    void interruptedCloseStopsThePoolAndSetsTheClosersFlagAgain() throws Exception {
        var row = PoolEndings.close(3, true);
        assertTrue(row.callerWaited());
        assertEquals("interrupted", row.heldTask(), "close() fell back to shutdownNow()");
        assertEquals(0, row.queuedRan());
        assertEquals(3, row.neverRan(), "the queued tasks were dropped");
        assertTrue(row.closerFlag(), "close() restores the closer's interrupt flag");
    }

    @Test
    @Timeout(30)
    void shutdownAndCloseRunEveryTaskUnderLoad() throws Exception {
        try (var g = new GatedPool("t-many", 20_000)) {
            g.pool.shutdown();
            g.open();
            LifecycleWaits.terminated(g.pool);
            assertEquals(20_000, g.queuedRan.get());
        }
        var ran = new AtomicInteger();
        try (var pool = Executors.newFixedThreadPool(4,
                Thread.ofPlatform().name("t-close-", 1).factory())) {
            for (int i = 0; i < 50_000; i++) pool.execute(ran::incrementAndGet);
        }
        assertEquals(50_000, ran.get());
    }

    // ---- rejection policies: one blocked worker, a full queue of 2, then 3 more

    @Test
    @Timeout(20)
    void abortPolicyThrowsAtTheSubmitterAndAfterShutdown() throws Exception {
        var r = RejectionPolicies.run(new ThreadPoolExecutor.AbortPolicy(), 3);
        assertEquals(List.of(0, 1, 2), r.ran());
        assertEquals(List.of(3, 4, 5), r.thrown());
        assertEquals(List.of(), r.dropped());
        assertEquals("throws RejectedExecutionException", r.afterShutdown());
    }

    @Test
    @Timeout(20)
    void callerRunsPolicyRunsTheOverflowOnTheSubmittingThread() throws Exception {
        var r = RejectionPolicies.run(new ThreadPoolExecutor.CallerRunsPolicy(), 3);
        assertEquals(List.of(3, 4, 5, 0, 1, 2), r.ran(), "the caller ran 3-5 at once");
        assertEquals(List.of(3, 4, 5), r.onCaller());
        assertEquals(List.of(), r.thrown());
        assertEquals("dropped silently", r.afterShutdown(), "not run once shut down");
    }

    @Test
    @Timeout(20)
    void discardPolicyDropsTheNewTasksSilently() throws Exception {
        var r = RejectionPolicies.run(new ThreadPoolExecutor.DiscardPolicy(), 3);
        assertEquals(List.of(0, 1, 2), r.ran());
        assertEquals(List.of(), r.thrown());
        assertEquals(List.of(3, 4, 5), r.dropped());
        assertEquals("dropped silently", r.afterShutdown());
    }

    @Test
    @Timeout(20)
    void discardOldestPolicyDropsTheOldestQueuedTasks() throws Exception {
        var r = RejectionPolicies.run(new ThreadPoolExecutor.DiscardOldestPolicy(), 3);
        assertEquals(List.of(0, 4, 5), r.ran());
        assertEquals(List.of(1, 2, 3), r.dropped());
        assertEquals(List.of(), r.thrown());
        assertEquals("dropped silently", r.afterShutdown());
    }

    @Test
    @Timeout(20)
    void aSubmittedTaskThatIsDiscardedLeavesAFutureThatNeverCompletes() throws Exception {
        Future<String> lost = RejectionPolicies.droppedFuture(SHORT);
        assertFalse(lost.isDone());
        assertEquals(Future.State.RUNNING, lost.state());
    }

    // ---- interruption etiquette

    @Test
    @Timeout(20)
    void aTaskThatSwallowsTheInterruptSurvivesShutdownNowUntilItsFlagIsSet()
            throws Exception {
        var task = new InterruptEtiquette.LongTask(false, 1);
        ExecutorService pool = Executors.newFixedThreadPool(1,
                Thread.ofPlatform().name("t-swallow-", 1).factory());
        try {
            pool.execute(task);
            await(task.started);
            pool.shutdownNow();
            LifecycleWaits.until(() -> task.interruptsCaught.get() == 1,
                    "the interrupt never reached the task");
            assertFalse(pool.awaitTermination(SHORT.toMillis(), TimeUnit.MILLISECONDS),
                    "the interrupt was swallowed: the task runs on");
        } finally {
            task.cancelled = true;
            assertTrue(pool.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS),
                    "the cancel flag stops it");
        }
        assertEquals(1, task.interruptsCaught.get());
    }

    @Test
    @Timeout(20)
    void aTaskThatRestoresTheFlagStopsOnShutdownNow() throws Exception {
        var task = new InterruptEtiquette.LongTask(true, 1);
        ExecutorService pool = Executors.newFixedThreadPool(1,
                Thread.ofPlatform().name("t-polite-", 1).factory());
        try {
            pool.execute(task);
            await(task.started);
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS));
            assertEquals(1, task.interruptsCaught.get());
        } finally {
            task.cancelled = true;  // in case the assertion failed: never leak the worker
            pool.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS);
        }
    }

    @Test
    @Timeout(20)
    void boundedShutdownReportsEachOutcome() throws Exception {
        var idle = Executors.newFixedThreadPool(1);
        idle.execute(() -> { });
        assertEquals(BoundedShutdown.Outcome.DRAINED,
                BoundedShutdown.shutdownAndAwait(idle, Threads.LONG, Threads.LONG));

        var polite = new InterruptEtiquette.LongTask(true, 1);
        var politePool = Executors.newFixedThreadPool(1);
        politePool.execute(polite);
        await(polite.started);
        assertEquals(BoundedShutdown.Outcome.INTERRUPTED,
                BoundedShutdown.shutdownAndAwait(politePool, SHORT, Threads.LONG));

        var rude = new InterruptEtiquette.LongTask(false, 1);
        var rudePool = Executors.newFixedThreadPool(1);
        try {
            rudePool.execute(rude);
            await(rude.started);
            assertEquals(BoundedShutdown.Outcome.STUCK,
                    BoundedShutdown.shutdownAndAwait(rudePool, SHORT, SHORT));
        } finally {
            rude.cancelled = true;
            assertTrue(rudePool.awaitTermination(LONG_MS, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    @Timeout(20)
    void etiquetteDemoCleansUpTheSwallowingTask() throws Exception {
        var task = new InterruptEtiquette.LongTask(false, 1);
        var report = InterruptEtiquette.stop(task, SHORT);
        assertEquals(BoundedShutdown.Outcome.STUCK, report.outcome());
        assertTrue(task.cancelled, "stop() set the cancel flag in its finally");
        // stop() returned only after its pool terminated; NoLeakedThreads checks the rest
    }

    // ---- the command line

    @Test
    void optionsHaveDefaultsAndScaleThePatience() {
        assertEquals(new executor_lifecycle.Options(500, 3, 5, 1.0),
                executor_lifecycle.parse());
        assertEquals(7, executor_lifecycle.parse("--queued", "7").queued());
        assertEquals(Duration.ofMillis(250),
                executor_lifecycle.parse("--speed", "2").patience());
        assertEquals(Duration.ofMillis(100),
                executor_lifecycle.parse("--speed", "20").patience(), "never below 100 ms");
        assertEquals(Duration.ofMillis(2000),
                executor_lifecycle.parse("--speed", "0.25").patience());
        assertNull(executor_lifecycle.parse("--calls", "2", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--queued wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> executor_lifecycle.parse("--queued", "0")).getMessage());
        assertEquals("unknown argument '--bogus'",
                assertThrows(IllegalArgumentException.class,
                        () -> executor_lifecycle.parse("--bogus", "1")).getMessage());
        assertEquals("--patience needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> executor_lifecycle.parse("--patience")).getMessage());
        assertEquals("--speed wants a positive number, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> executor_lifecycle.parse("--speed", "fast")).getMessage());
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(LONG_MS, TimeUnit.MILLISECONDS)) {
            throw new AssertionError("latch never opened");
        }
    }
}
