import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `thread_exceptions` lesson claims, proven. */
class ThreadExceptionsTest {
    private static final String WORKER_1_DIED =
            "Exception in thread \"worker-1\" java.lang.ArithmeticException: / by zero";

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

    /** The child's lines without the stack frames ("\tat ..."), whose lines vary. */
    private static List<String> withoutFrames(ChildRuns.Run run) {
        return run.lines().stream().filter(line -> !line.startsWith("\tat ")).toList();
    }

    // ---- whole programs, each in a child JVM ----

    @Test
    @Timeout(120)  // longer than the child's own limit
    void aWorkersExceptionIsPrintedMainCarriesOnAndTheStatusIsZero() throws Exception {
        var run = ChildRuns.plain(1);

        assertEquals(0, run.status(), String.join("\n", run.lines()));
        assertEquals(List.of(WORKER_1_DIED, "main: joined [20, null, 12]"),
                withoutFrames(run), "the trace comes before main's line");
    }

    @Test
    @Timeout(120)
    void whenMainThrowsTheJvmWaitsForWriterThenExitsWithOne() throws Exception {
        var run = ChildRuns.mainFails(1);  // writer pauses 3 x 400 ms after main has died

        assertEquals(1, run.status(), String.join("\n", run.lines()));
        assertEquals(List.of(WORKER_1_DIED, "main: joined [20, null, 12]",
                "Exception in thread \"main\" java.lang.IllegalStateException: main gives up",
                "writer: main has ended; part 1", "writer: main has ended; part 2",
                "writer: main has ended; part 3"), withoutFrames(run));
    }

    @Test
    @Timeout(120)
    void aDaemonWriterDoesNotHoldTheJvmAfterMainThrows() throws Exception {  // Try it
        String daemon = Divisions.SOURCE.replace("Thread.ofPlatform().name(\"writer\")",
                "Thread.ofPlatform().name(\"writer\").daemon()");
        var run = ChildRuns.run(daemon, 60_000, "5000");  // 5 s before writer's first part

        assertEquals(1, run.status(), String.join("\n", run.lines()));
        assertEquals(List.of(WORKER_1_DIED, "main: joined [20, null, 12]",
                "Exception in thread \"main\" java.lang.IllegalStateException: main gives up"),
                withoutFrames(run), "no part written: the JVM did not wait for writer");
    }

    @Test
    @Timeout(120)
    void mainsExceptionGoesToTheDefaultHandlerWhichCannotChangeTheStatus() throws Exception {
        String source = """
                class Child {
                    public static void main(String[] args) {
                        Thread.setDefaultUncaughtExceptionHandler((t, e) ->
                                System.out.println("handled " + t.getName() + ": " + e));
                        throw new IllegalStateException("main gives up");
                    }
                }
                """;
        var run = ChildRuns.run(source, 60_000);

        assertEquals(1, run.status());
        assertEquals(List.of("handled main: java.lang.IllegalStateException: main gives up"),
                run.lines());
    }

    // ---- handlers ----

    @Test
    @Timeout(10)
    void aThreadEndedByAnExceptionIsTerminatedLikeOneThatFinished() throws Exception {
        var log = new FailureLog("test");
        var builder = Thread.ofPlatform().uncaughtExceptionHandler(log);
        Thread failed = builder.start(() -> Handlers.divide(0));
        Thread finished = builder.start(() -> Handlers.divide(3));
        Threads.joinAll(List.of(failed, finished));  // join() returns normally for both

        assertEquals(Thread.State.TERMINATED, failed.getState());
        assertEquals(Thread.State.TERMINATED, finished.getState());
        assertEquals(1, log.failures().size(), "yet one of them failed");
    }

    @Test
    @Timeout(30)
    void aBuildersHandlerRunsOnTheDyingThreadBeforeJoinReturns() throws Exception {
        for (int round = 0; round < 20; round++) {
            var log = new FailureLog("test");
            assertEquals(Arrays.asList(20, null, 12), Handlers.ownHandler(log));
            var failures = log.failures();  // read right after the joins: no waiting
            assertEquals(1, failures.size(), "round " + round);
            assertEquals("worker-1", failures.getFirst().thread());
            assertEquals("worker-1", failures.getFirst().handledOn());
            assertInstanceOf(ArithmeticException.class, failures.getFirst().error());
        }
    }

    @Test
    @Timeout(10)
    void theDefaultHandlerTakesOnlyThreadsWithoutAHandlerOfTheirOwn() throws Exception {
        var fallback = new FailureLog("default");
        var own = new FailureLog("own");
        Handlers.defaultHandler(fallback, own);

        assertEquals(List.of("virtual"),
                fallback.failures().stream().map(FailureLog.Failure::thread).toList());
        assertEquals(List.of("owner"),
                own.failures().stream().map(FailureLog.Failure::thread).toList());
    }

    @Test
    @Timeout(10)
    void theDemoPutsBackTheDefaultHandlerItFound() throws Exception {
        Thread.UncaughtExceptionHandler sentinel = (t, e) -> { };
        Thread.setDefaultUncaughtExceptionHandler(sentinel);
        try {
            Handlers.defaultHandler(new FailureLog("default"), new FailureLog("own"));
            assertSame(sentinel, Thread.getDefaultUncaughtExceptionHandler());
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(defaultBefore);
        }
    }

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void handlerSectionPrintsOneLinePerFailureAndNothingOnSystemErr() throws Exception {
        var run = Scripts.compiled("thread_exceptions", "handler");

        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("", run.stderr(), "no trace: every failure reached a handler");
        assertEquals(List.of(
                "  builder's handler on worker-1: worker-1 ended by ArithmeticException",
                "joined all [20, null, 12]; failed: [worker-1]",
                "  default handler on virtual: virtual ended by ArithmeticException",
                "  own handler on owner: owner ended by ArithmeticException"),
                run.stdout().lines().skip(2).toList());  // after "" and "== handler: ..."
    }

    // ---- executors ----

    private static ThreadFactory counting(List<Thread> made, FailureLog log) {
        ThreadFactory named = Thread.ofPlatform().name("pool-worker-", 1)
                .uncaughtExceptionHandler(log).factory();
        return task -> {
            Thread t = named.newThread(task);
            made.add(t);
            return t;
        };
    }

    @Test
    @Timeout(10)
    void submitKeepsTheExceptionForGetAndTheWorkerLivesOn() throws Exception {
        var boom = new ArithmeticException("boom");
        var log = new FailureLog("test");
        var made = new CopyOnWriteArrayList<Thread>();
        Future<?> future;
        try (var pool = Executors.newFixedThreadPool(1, counting(made, log))) {
            future = pool.submit(() -> { throw boom; });
            var thrown = assertThrows(ExecutionException.class,
                    () -> future.get(Threads.LONG.toSeconds(), TimeUnit.SECONDS));
            assertSame(boom, thrown.getCause());
            Thread next = pool.submit(Thread::currentThread)
                    .get(Threads.LONG.toSeconds(), TimeUnit.SECONDS);
            assertSame(made.getFirst(), next, "the worker lived on");
        }
        Threads.joinAll(made);  // a handler call, had there been one, has happened by now

        assertEquals(Future.State.FAILED, future.state());
        assertSame(boom, future.exceptionNow());
        assertEquals(List.of(), log.failures(), "no handler heard of it");
        assertEquals(1, made.size(), "the worker lived on");
    }

    @Test
    @Timeout(10)
    void executeKillsTheWorkerWhichCallsItsHandlerAndThePoolStartsAnother() throws Exception {
        var boom = new ArithmeticException("boom");
        var log = new FailureLog("test");
        var made = new CopyOnWriteArrayList<Thread>();
        Thread next;
        try (var pool = Executors.newFixedThreadPool(1, counting(made, log))) {
            pool.execute(() -> { throw boom; });
            Threads.joinAll(List.of(made.getFirst()));  // the worker has died
            next = pool.submit(Thread::currentThread)
                    .get(Threads.LONG.toSeconds(), TimeUnit.SECONDS);
        }
        Threads.joinAll(made);

        assertEquals(1, log.failures().size());
        var failure = log.failures().getFirst();
        assertSame(boom, failure.error());
        assertEquals("pool-worker-1", failure.thread());
        assertEquals("pool-worker-1", failure.handledOn(), "on the dying worker");
        assertEquals(2, made.size());
        assertSame(made.get(1), next, "the next task ran on the new worker");
        assertNotSame(made.getFirst(), next);
    }

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void futureSectionShowsSubmitKeepingItAndExecuteReplacingTheWorker() throws Exception {
        var run = Scripts.compiled("thread_exceptions", "future");

        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("", run.stderr(), "nothing reaches System.err");
        assertEquals(List.of("submit(() -> divide(0)): nothing printed",
                "future.get() threw ExecutionException(ArithmeticException)",
                "future.state() FAILED; the next task ran on pool-worker-1",
                "execute(() -> divide(0)):",
                "  pool's handler on pool-worker-1: pool-worker-1 ended by ArithmeticException",
                "the next task ran on pool-worker-2"),
                run.stdout().lines().skip(2).toList());  // after "" and "== future: ..."
    }

    // ---- CompletableFuture ----

    /** A stage whose supplier threw `boom`, already completed when returned. */
    private static CompletableFuture<Integer> failedStage(ArithmeticException boom)
            throws Exception {
        try (var pool = Executors.newSingleThreadExecutor()) {
            return CompletableFuture.supplyAsync(() -> { throw boom; }, pool);
        }  // close() waits for the task: the stage is complete
    }

    @Test
    @Timeout(10)
    void exceptionallyAndHandleGetTheSuppliersExceptionWrappedInCompletionException()
            throws Exception {
        var boom = new ArithmeticException("boom");
        var failed = failedStage(boom);
        var seenByExceptionally = new AtomicReference<Throwable>();
        var seenByHandle = new AtomicReference<Throwable>();

        assertEquals(-1, failed.exceptionally(ex -> {
            seenByExceptionally.set(ex);
            return -1;
        }).join());
        assertEquals(0, failed.handle((v, ex) -> {
            seenByHandle.set(ex);
            return ex == null ? v : 0;
        }).join());
        for (var seen : List.of(seenByExceptionally, seenByHandle)) {
            assertInstanceOf(CompletionException.class, seen.get());
            assertSame(boom, seen.get().getCause());
        }
    }

    @Test
    @Timeout(10)
    void whenCompleteOnlyLooksJoinAndGetWrapTheCauseExceptionNowDoesNot() throws Exception {
        var boom = new ArithmeticException("boom");
        var failed = failedStage(boom);
        var logged = failed.whenComplete((v, ex) -> { });

        assertSame(boom, assertThrows(CompletionException.class, logged::join).getCause());
        assertSame(boom, assertThrows(CompletionException.class, failed::join).getCause());
        assertSame(boom, assertThrows(ExecutionException.class, failed::get).getCause());
        assertSame(boom, failed.exceptionNow());
    }

    @Test
    @Timeout(90)
    void stagesSectionPrintsWhatEachCallGaveBack() throws Exception {
        var run = Scripts.compiled("thread_exceptions", "stages");

        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().skip(2).toList();
        assertEquals(List.of(
                "exceptionally(ex -> -1)     returned -1",
                "exceptionally saw CompletionException(ArithmeticException)",
                "handle(ex == null ? v : 0)  returned 0",
                "whenComplete(log).join()    threw CompletionException(ArithmeticException)",
                "join()                      threw CompletionException(ArithmeticException)",
                "get()                       threw ExecutionException(ArithmeticException)",
                "exceptionNow()              returned java.lang.ArithmeticException: / by zero"),
                lines);
        assertTrue(run.stderr().isEmpty(), run.stderr());
    }
}
