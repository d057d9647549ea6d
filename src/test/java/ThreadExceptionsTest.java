import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Threads;

/** What the `thread_exceptions` lesson claims, proven. */
class ThreadExceptionsTest {
    private static final String NFE_OOPS =
            "java.lang.NumberFormatException: For input string: \"oops\"";

    private Thread.UncaughtExceptionHandler defaultBefore;

    @BeforeEach
    void rememberTheDefaultHandler() {
        defaultBefore = Thread.getDefaultUncaughtExceptionHandler();
    }

    @AfterEach
    void defaultHandlerIsUnchanged() {
        assertSame(defaultBefore, Thread.getDefaultUncaughtExceptionHandler(),
                "the test left the JVM-wide default handler changed");
    }

    // ---- a plain thread: the exception dies with it ----

    @Test
    @Timeout(10)
    void plainThreadDiesJoinReturnsNormallyAndTheResultIsMissing() throws Exception {
        var outcome = SilentDeath.demo(List.of("1", "oops", "3"), 0);

        assertEquals(Arrays.asList(1, null, 3), outcome.results());
        assertEquals(1, outcome.missing());
        assertEquals(List.of("parser-0 TERMINATED", "parser-1 TERMINATED",
                "parser-2 TERMINATED"), outcome.states());
        assertTrue(outcome.stderr().startsWith("Exception in thread \"parser-1\" " + NFE_OOPS),
                outcome.stderr());
    }

    @Test
    @Timeout(10)
    void withGoodInputsNothingIsMissingAndNothingIsPrinted() throws Exception {
        var outcome = SilentDeath.demo(List.of("1", "2", "3"), 0);

        assertEquals(List.of(1, 2, 3), outcome.results());
        assertEquals(0, outcome.missing());
        assertEquals("", outcome.stderr());
    }

    @Test
    @Timeout(150)
    void aJvmWhoseWorkerDiedStillExitsZeroUnlessMainThrows() throws Exception {
        var runs = ChildJvmExit.demo();

        var workerOnly = runs.get(0);
        assertEquals(0, workerOnly.exitCode(), workerOnly.stderr());
        assertTrue(workerOnly.stdout().contains("returning normally"), workerOnly.stdout());
        assertEquals(List.of("Exception in thread \"doomed\" "
                + "java.lang.IllegalStateException: boom"), workerOnly.uncaught());

        var mainToo = runs.get(1);
        assertEquals(1, mainToo.exitCode(), mainToo.stderr());
        assertTrue(mainToo.stdout().contains("returning normally"), mainToo.stdout());
        assertEquals(2, mainToo.uncaught().size(), mainToo.stderr());
        assertTrue(mainToo.uncaught().get(1).startsWith("Exception in thread \"main\""),
                mainToo.stderr());
    }

    // ---- handlers ----

    @Test
    @Timeout(10)
    void perThreadHandlerGetsTheDyingThreadAndTheCauseOnThatThread() throws Exception {
        var boom = new IllegalStateException("boom");
        var handled = new CountDownLatch(1);
        var dead = new AtomicReference<Thread>();
        var cause = new AtomicReference<Throwable>();
        var ranOn = new AtomicReference<Thread>();
        Thread t = new Thread(() -> { throw boom; }, "doomed");
        t.setUncaughtExceptionHandler((thread, e) -> {
            dead.set(thread);
            cause.set(e);
            ranOn.set(Thread.currentThread());
            handled.countDown();
        });
        t.start();
        await(handled);
        Threads.joinAll(List.of(t));

        assertSame(t, dead.get());
        assertSame(boom, cause.get());
        assertSame(t, ranOn.get(), "the handler runs on the dying thread");
    }

    @Test
    @Timeout(20)
    void builderHandlerGetsEveryFailureOfEveryThreadItBuilds() throws Exception {
        int perKind = 50;
        var handled = new CountDownLatch(2 * perKind);
        var causes = new ConcurrentHashMap<String, Throwable>();
        Thread.UncaughtExceptionHandler handler = (thread, e) -> {
            causes.put(thread.getName(), e);
            handled.countDown();
        };
        var thrown = new ConcurrentHashMap<String, Throwable>();
        Runnable failing = () -> {
            var e = new IllegalStateException(Thread.currentThread().getName());
            thrown.put(Thread.currentThread().getName(), e);
            throw e;
        };
        var platform = Thread.ofPlatform().name("p-", 0).uncaughtExceptionHandler(handler);
        var virtual = Thread.ofVirtual().name("v-", 0).uncaughtExceptionHandler(handler);
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < perKind; i++) {
            threads.add(platform.start(failing));
            threads.add(virtual.start(failing));
        }
        await(handled);
        Threads.joinAll(threads);

        assertEquals(2 * perKind, causes.size());
        for (Map.Entry<String, Throwable> e : thrown.entrySet()) {
            assertSame(e.getValue(), causes.get(e.getKey()), e.getKey());
        }
    }

    @Test
    @Timeout(20)
    void theHandlerHasRunByTheTimeJoinReturns() throws Exception {
        for (int i = 0; i < 200; i++) {
            var log = new FailureLog();
            Thread t = Thread.ofPlatform().name("j-" + i).uncaughtExceptionHandler(log)
                    .start(() -> ParseJob.parse(ParseJob.BAD, 0));
            Threads.joinAll(List.of(t));
            assertEquals(1, log.failures().size(), "handler not seen after join, round " + i);
        }
    }

    @Test
    @Timeout(10)
    void ownHandlerDemosRecordTheFailureAndPrintNothing() throws Exception {
        var report = OwnHandlers.demo(List.of("1", "oops", "3"), 0);

        assertEquals("", report.stderr());
        assertEquals(1, report.failures().size());
        var failure = report.failures().get(0);
        assertEquals("parser-1", failure.thread());
        assertEquals("parser-1", failure.handledOn());
        assertInstanceOf(NumberFormatException.class, failure.error());

        var classic = OwnHandlers.classic(ParseJob.BAD);
        assertEquals(1, classic.size());
        assertEquals("classic", classic.get(0).thread());
        assertInstanceOf(NumberFormatException.class, classic.get(0).error());
    }

    @Test
    @Timeout(10)
    void defaultHandlerCatchesThreadsWithoutAHandlerOfTheirOwn() throws Exception {
        var toDefault = new ConcurrentHashMap<String, Throwable>();
        var toOwn = new ConcurrentHashMap<String, Throwable>();
        var handled = new CountDownLatch(3);
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
            toDefault.put(t.getName(), e);
            handled.countDown();
        });
        try {
            Runnable failing = () -> { throw new IllegalStateException("boom"); };
            var threads = List.of(
                    Thread.ofPlatform().name("plain").start(failing),
                    Thread.ofVirtual().name("virtual").start(failing),
                    Thread.ofPlatform().name("owned").uncaughtExceptionHandler((t, e) -> {
                        toOwn.put(t.getName(), e);
                        handled.countDown();
                    }).start(failing));
            await(handled);
            Threads.joinAll(threads);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }

        assertEquals(Set.of("plain", "virtual"), toDefault.keySet());
        assertEquals(Set.of("owned"), toOwn.keySet());
    }

    @Test
    @Timeout(10)
    void globalHandlerDemoRestoresWhateverDefaultWasThere() throws Exception {
        Thread.UncaughtExceptionHandler sentinel = (t, e) -> { };
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler(sentinel);
        GlobalHandler.Report report;
        try {
            report = GlobalHandler.demo(ParseJob.BAD);
            assertSame(sentinel, Thread.getDefaultUncaughtExceptionHandler());
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }

        assertTrue(report.restored());
        assertEquals(List.of("plain", "virtual"),
                report.byDefault().stream().map(FailureLog.Failure::thread).toList());
        assertEquals(List.of("owned"),
                report.byOwn().stream().map(FailureLog.Failure::thread).toList());
        assertEquals("", report.stderr());
    }

    // ---- executors ----

    @Test
    @Timeout(10)
    void submitHidesTheExceptionUntilGetThrowsExecutionExceptionWithTheOriginal()
            throws Exception {
        var boom = new IllegalStateException("boom");
        var handlerCalls = new AtomicInteger();
        var made = new CopyOnWriteArrayList<Thread>();
        ThreadFactory base = Thread.ofPlatform().name("s-", 0)
                .uncaughtExceptionHandler((t, e) -> handlerCalls.incrementAndGet()).factory();
        Future<?> future;
        try (var pool = Executors.newFixedThreadPool(1, counting(base, made))) {
            future = pool.submit(() -> { throw boom; });
            var e = assertThrows(ExecutionException.class,
                    () -> future.get(Threads.LONG.toSeconds(), TimeUnit.SECONDS));
            assertSame(boom, e.getCause());
        }
        Threads.joinAll(made);  // a late handler call would have happened by now

        assertEquals(Future.State.FAILED, future.state());
        assertSame(boom, future.exceptionNow());
        assertEquals(0, handlerCalls.get(), "submit must not reach the thread's handler");
        assertEquals(1, made.size(), "the worker survived");
    }

    @Test
    @Timeout(10)
    void futureHidesDemoShowsNothingUntilGet() throws Exception {
        var report = FutureHides.demo(ParseJob.BAD);

        assertEquals("", report.stderr());
        assertEquals(0, report.handlerCalls());
        assertEquals(Future.State.FAILED, report.state());
        var getThrew = assertInstanceOf(ExecutionException.class, report.getThrew());
        assertInstanceOf(NumberFormatException.class, getThrew.getCause());
        assertSame(getThrew.getCause(), report.exceptionNow());
    }

    @Test
    @Timeout(10)
    void executeRoutesItToTheFactorysHandlerAndTheWorkerIsReplaced() throws Exception {
        var boom = new IllegalStateException("boom");
        var handled = new CountDownLatch(1);
        var dead = new AtomicReference<String>();
        var cause = new AtomicReference<Throwable>();
        var made = new CopyOnWriteArrayList<Thread>();
        ThreadFactory base = Thread.ofPlatform().name("x-", 0)
                .uncaughtExceptionHandler((t, e) -> {
                    dead.set(t.getName());
                    cause.set(e);
                    handled.countDown();
                }).factory();
        var first = new AtomicReference<String>();
        var later = new AtomicReference<String>();
        try (var pool = Executors.newFixedThreadPool(1, counting(base, made))) {
            pool.execute(() -> first.set(Thread.currentThread().getName()));
            pool.execute(() -> { throw boom; });
            pool.execute(() -> later.set(Thread.currentThread().getName()));
            await(handled);
        }
        Threads.joinAll(made);

        assertSame(boom, cause.get());
        assertEquals(first.get(), dead.get(), "the worker that ran the tasks died");
        assertNotEquals(first.get(), later.get(), "a later task ran on a new worker");
        assertEquals(2, made.size());
    }

    @Test
    @Timeout(10)
    void poolPathsShowTheWorkerReplacedOnlyForExecute() throws Exception {
        var execute = PoolPaths.run(PoolPaths.Route.EXECUTE);
        assertEquals(List.of("pool-worker-1", "pool-worker-1", "pool-worker-2"),
                execute.ranOn());
        assertEquals(2, execute.threadsMade());
        assertEquals(1, execute.failures().size());
        assertEquals("pool-worker-1", execute.failures().get(0).thread());

        var submit = PoolPaths.run(PoolPaths.Route.SUBMIT);
        assertEquals(List.of("pool-worker-1", "pool-worker-1", "pool-worker-1"),
                submit.ranOn());
        assertEquals(1, submit.threadsMade());
        assertEquals(0, submit.failures().size());
    }

    @Test
    @Timeout(30)
    void aPoolKeepsWorkingThroughManyFailingExecutes() throws Exception {
        int failures = 100;
        var handled = new CountDownLatch(failures);
        var made = new CopyOnWriteArrayList<Thread>();
        ThreadFactory base = Thread.ofPlatform().name("m-", 0)
                .uncaughtExceptionHandler((t, e) -> handled.countDown()).factory();
        var lastRan = new CountDownLatch(1);
        try (var pool = Executors.newFixedThreadPool(2, counting(base, made))) {
            for (int i = 0; i < failures; i++) {
                pool.execute(() -> ParseJob.parse(ParseJob.BAD, 0));
            }
            pool.execute(lastRan::countDown);
            await(handled);
            await(lastRan);
        }
        Threads.joinAll(made);

        assertEquals(0, handled.getCount());
        assertTrue(made.size() > failures, "every failure cost a worker: " + made.size());
    }

    // ---- CompletableFuture ----

    @Test
    @Timeout(10)
    void completableFutureRecoversAndJoinWrapsTheCause() throws Exception {
        var r = CompletableRecovery.demo(ParseJob.BAD);

        assertEquals(-1, r.byExceptionally());
        assertEquals(0, r.byHandle());
        var seen = assertInstanceOf(CompletionException.class, r.exceptionallySaw());
        assertInstanceOf(NumberFormatException.class, seen.getCause());
        assertInstanceOf(CompletionException.class, r.whenCompleteSaw());
        var joined = assertInstanceOf(CompletionException.class, r.joinThrew());
        assertInstanceOf(NumberFormatException.class, joined.getCause());
        var got = assertInstanceOf(ExecutionException.class, r.getThrew());
        assertInstanceOf(NumberFormatException.class, got.getCause());
        assertInstanceOf(NumberFormatException.class, r.exceptionNow());
        assertEquals("", r.forgottenStderr(), "a dropped runAsync prints nothing");
    }

    @Test
    @Timeout(10)
    void recoveryStagesPassSuccessThroughAndJoinThrowsTheOriginalAsCause()
            throws Exception {
        var boom = new IllegalStateException("boom");
        try (var pool = Executors.newFixedThreadPool(2)) {
            var ok = CompletableFuture.supplyAsync(() -> 7, pool);
            assertEquals(7, ok.exceptionally(ex -> -1).get(10, TimeUnit.SECONDS));
            assertEquals(7, ok.handle((v, ex) -> ex == null ? v : 0).get(10, TimeUnit.SECONDS));

            CompletableFuture<Integer> failed =
                    CompletableFuture.supplyAsync(() -> { throw boom; }, pool);
            assertEquals(-1, failed.exceptionally(ex -> -1).get(10, TimeUnit.SECONDS));
            var logged = failed.whenComplete((v, ex) -> { });
            var e = assertThrows(CompletionException.class, logged::join);
            assertSame(boom, e.getCause());
            assertSame(boom, failed.exceptionNow());
        }
        // a future failed directly, not by a throwing function, is not wrapped
        var seen = new AtomicReference<Throwable>();
        CompletableFuture.<Integer>failedFuture(boom).exceptionally(ex -> {
            seen.set(ex);
            return 0;
        });
        assertSame(boom, seen.get());
    }

    // ---- invokeAll ----

    @Test
    @Timeout(10)
    void invokeAllCollectsEverySuccessAndEveryFailure() throws Exception {
        var report = CollectFailures.demo(List.of("1", "oops", "3", "x"), 0, 10_000, false);

        assertEquals(List.of("parse \"1\" = 1", "parse \"3\" = 3"), report.succeeded());
        assertEquals(2, report.failed().size(), report.failed().toString());
        assertEquals(List.of(), report.cancelled());
        assertEquals(4, report.sum());
        assertEquals(2, report.combined().getSuppressed().length);
        for (Throwable t : report.combined().getSuppressed()) {
            assertInstanceOf(NumberFormatException.class, t);
        }
    }

    @Test
    @Timeout(20)
    void invokeAllCancelsATaskThatOutlivesTheDeadline() throws Exception {
        var report = CollectFailures.demo(List.of(), 0, 50, true);

        assertEquals(List.of("stuck"), report.cancelled());
        assertEquals(List.of(), report.succeeded());
        assertEquals(List.of(), report.failed());
        assertNull(report.combined());
    }

    // ---- the command line ----

    @Test
    void optionsDefaultToTheLessonsRun() {
        assertEquals(new thread_exceptions.Options(List.of("12", "oops", "30"), 200, 1.0),
                thread_exceptions.parse());
        assertEquals(List.of("a", "b"), thread_exceptions.parse("--inputs", "a, b").inputs());
        assertEquals(50, thread_exceptions.parse("--speed", "4").scaled(200));
        assertNull(thread_exceptions.parse("--work", "7", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--inputs wants texts separated by commas, got '1,,2'",
                assertThrows(IllegalArgumentException.class,
                        () -> thread_exceptions.parse("--inputs", "1,,2")).getMessage());
        assertEquals("--work wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> thread_exceptions.parse("--work", "0")).getMessage());
        assertEquals("--speed wants a positive number, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> thread_exceptions.parse("--speed", "fast")).getMessage());
        assertEquals("unknown argument '--bogus'",
                assertThrows(IllegalArgumentException.class,
                        () -> thread_exceptions.parse("--bogus", "1")).getMessage());
        assertEquals("--inputs needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> thread_exceptions.parse("--inputs")).getMessage());
    }

    private static ThreadFactory counting(ThreadFactory base, List<Thread> made) {
        return r -> {
            Thread t = base.newThread(r);
            made.add(t);
            return t;
        };
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(Threads.LONG.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("latch never opened; count " + latch.getCount());
        }
    }
}
