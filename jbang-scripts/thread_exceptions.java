///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Thread exceptions: where a worker's failure goes, and how not to lose it
//
// When code on the main thread throws and nobody catches it, the program stops with a
// stack trace and a non-zero exit status. When the same code runs on a worker thread,
// much less happens. The worker thread ends. A default handler prints
// `Exception in thread "..."` and a stack trace to `System.err`. Then nothing else
// happens. `main` keeps running, `join()` returns as if all went well, the result the
// worker was supposed to produce is simply missing, and the process still exits with
// status 0. The exception never reaches the code that could do something about it.
//
// This lesson shows that happening: it captures the printed trace, counts the missing
// results and runs a child JVM to read its exit status. Then it covers the ways to
// route a worker's exception somewhere useful: a handler on one thread, the JVM-wide
// default handler, a `Future` that rethrows it from `get()` (and the `submit` call
// that hides it until someone calls `get()`), `CompletableFuture`'s recovery stages,
// and `invokeAll`, which collects every failure of a batch.
//
// Run it: `jbang thread_exceptions` from the repository root,
// `jbang jbang-scripts/thread_exceptions.java`, or with a bare JDK 25,
// `java jbang-scripts/thread_exceptions.java`. Try `--help`.

// %%
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

// %% [markdown]
// ## The tools of this lesson
//
// Every wait has a time limit, so a mistake ends in an error message, not a hang.
//
// The work is always the same: a worker turns a piece of text into a number after
// "working" for a moment. `"12"` parses; `"oops"` throws `NumberFormatException`,
// the kind of failure that really does happen in worker threads: bad input, found
// only when it is used.
//
// `StderrTap` redirects `System.err` into a buffer while a piece of code runs, so the
// notebook can show (and count) what the JVM printed there. It is a global switch,
// like the default handler later on, so it always restores the original stream.

// %%
class FailWaits {
    static final Duration PATIENCE = Duration.ofSeconds(10);

    /** Joins every thread, or throws if one is still running after PATIENCE. */
    static void join(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            if (!t.join(PATIENCE)) {
                throw new IllegalStateException(t.getName() + " still running after "
                        + PATIENCE.toSeconds() + " s");
            }
        }
    }

    /** Waits for the latch, or throws if it stays closed for PATIENCE. */
    static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException("waited " + PATIENCE.toSeconds()
                    + " s for a step that never happened");
        }
    }

    /** The result of a future that is expected to succeed (a recovered one). */
    static <T> T result(Future<T> future) throws InterruptedException {
        try {
            return future.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("expected a result", e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("no result after "
                    + PATIENCE.toSeconds() + " s");
        }
    }
}

// %%
class ParseJob {
    static final String BAD = "oops";

    /** The unit of work: "work" for a moment, then parse the text as a number. */
    static int parse(String text, long workMillis) {
        try {
            Thread.sleep(workMillis);  // stands in for real work
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();  // keep the flag for the caller
        }
        return Integer.parseInt(text.strip());  // "oops" throws NumberFormatException
    }

    /** "NumberFormatException: For input string: "oops"", without the package. */
    static String describe(Throwable e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}

// %%
class StderrTap {
    interface Body<T> { T run() throws InterruptedException; }

    record Tapped<T>(T value, String stderr) {
        List<String> lines() { return stderr.lines().toList(); }
    }

    /** Runs body with System.err going into a buffer; always puts the real one back. */
    static <T> Tapped<T> capture(Body<T> body) throws InterruptedException {
        PrintStream original = System.err;
        var buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            T value = body.run();
            return new Tapped<>(value, buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(original);
        }
    }

    /** Prints how many lines were captured, and the first few of them. */
    static void show(String captured, int maxLines) {
        List<String> lines = captured.lines().toList();
        System.out.printf("  System.err got %d line%s%s%n", lines.size(),
                lines.size() == 1 ? "" : "s", lines.isEmpty() ? "" : ":");
        lines.stream().limit(maxLines)
                .forEach(line -> System.out.println("  | " + line.replace("\t", "    ")));
        if (lines.size() > maxLines) {
            System.out.println("  | ... " + (lines.size() - maxLines) + " more lines");
        }
    }
}

// %% [markdown]
// ## The naive version: the worker dies, `main` carries on
//
// `main` starts one worker per input. Each worker writes its number into its own slot
// of an array. `main` joins every worker, then reads the slots. The second input is
// `"oops"`, so `parser-1` throws. Nothing catches the exception inside the worker, so
// it leaves the thread's `run` method, and the thread ends.
//
// This is exactly what the seed's tip warns about: the exception does not propagate
// to the main thread. Below, `System.err` is captured while the workers run, then
// `main` reports what it can see. (Outside this demo those lines would go straight to
// the console, mixed with everything else the program prints.)

// %%
class SilentDeath {
    /** What main could see after joining: the slots, and what went to System.err. */
    record Outcome(List<Integer> results, int missing, List<String> states,
                   String stderr) { }

    static Outcome demo(List<String> inputs, long workMillis)
            throws InterruptedException {
        var results = new Integer[inputs.size()];  // slot i belongs to parser-i
        var threads = new ArrayList<Thread>();
        var builder = Thread.ofPlatform().name("parser-", 0);
        var tapped = StderrTap.capture(() -> {
            for (int i = 0; i < inputs.size(); i++) {
                int slot = i;
                threads.add(builder.start(() ->
                        results[slot] = ParseJob.parse(inputs.get(slot), workMillis)));
            }
            FailWaits.join(threads);  // returns normally: join cannot tell how they ended
            return null;
        });
        StderrTap.show(tapped.stderr(), 3);
        var states = threads.stream().map(t -> t.getName() + " " + t.getState()).toList();
        List<Integer> slots = Collections.unmodifiableList(Arrays.asList(results));
        int missing = (int) slots.stream().filter(Objects::isNull).count();
        long sum = slots.stream().filter(Objects::nonNull)
                .mapToLong(Integer::longValue).sum();
        long ended = threads.stream()
                .filter(t -> t.getState() == Thread.State.TERMINATED).count();
        System.out.printf("  main: all %d join() calls returned normally;"
                + " %d of %d threads TERMINATED%n", threads.size(), ended,
                threads.size());
        System.out.printf("  main: results %s, %d of %d missing, sum of the rest %d%n",
                slots, missing, slots.size(), sum);
        return new Outcome(slots, missing, states, tapped.stderr());
    }
}

// %% [run]
// var silent = SilentDeath.demo(List.of("12", "oops", "30"), 200);

// %% [markdown]
// Count what `main` got: the trace on `System.err`, a `null` where a number should be,
// and a sum that is wrong without any error. Every thread reports `TERMINATED`, the
// one that failed as well as the ones that finished. A `Thread` keeps no record of how
// it ended, and `join()` has no way to report a failure. If `main` had added the
// slots up as `int`s, the missing result would have turned into a
// `NullPointerException` in `main`, one step away from its real cause. With an `int[]`
// it would have been a silent `0`.
//
// @diagram thread_exceptions-plain-thread
//
// ### The process does not fail either
//
// Would a script or a CI job at least notice through the exit status? The program
// below starts a worker that throws, joins it and returns. The lesson writes it to a
// temporary file and runs it twice in child JVMs, using the JDK's source-file mode.
// In the second run `main` throws as well, after the join. The two children start
// together, so the wait is about one JVM start.

// %%
class ChildJvmExit {
    static final String PROGRAM = """
            class Doomed {
                public static void main(String[] args) throws Exception {
                    Thread worker = Thread.ofPlatform().name("doomed").start(() -> {
                        throw new IllegalStateException("boom");
                    });
                    worker.join();
                    System.out.println("main: joined doomed, returning normally");
                    if (args.length > 0) throw new IllegalStateException("main too");
                }
            }
            """;
    static final Duration LIMIT = Duration.ofSeconds(60);  // a loaded machine is slow

    record Run(String what, int exitCode, String stdout, String stderr) {
        List<String> uncaught() {
            return stderr.lines()
                    .filter(l -> l.startsWith("Exception in thread")).toList();
        }
    }

    static List<Run> demo() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("thread-exceptions");
        Path source = Files.writeString(dir.resolve("Doomed.java"), PROGRAM);
        try {
            Process workerOnly = start(dir, source, "worker");
            Process mainToo = start(dir, source, "main");  // both run at the same time
            var runs = List.of(
                    finish("a worker throws, main returns", dir, "worker", workerOnly),
                    finish("a worker throws, then main throws", dir, "main", mainToo));
            for (Run run : runs) {
                System.out.printf("  %s: exit status %d%n", run.what(), run.exitCode());
                run.stdout().lines()
                        .forEach(l -> System.out.println("    stdout | " + l));
                run.uncaught().forEach(l -> System.out.println("    stderr | " + l));
            }
            return runs;
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        }
    }

    private static Process start(Path dir, Path source, String tag) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var command = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1",
                source.toString()));  // C1 only: a quicker start for a tiny program
        if (tag.equals("main")) command.add("main-throws");
        return new ProcessBuilder(command)
                .redirectOutput(dir.resolve(tag + ".out").toFile())
                .redirectError(dir.resolve(tag + ".err").toFile())
                .start();
    }

    private static Run finish(String what, Path dir, String tag, Process p)
            throws IOException, InterruptedException {
        if (!p.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new IllegalStateException("child JVM '" + what
                    + "' still running after " + LIMIT.toSeconds() + " s");
        }
        return new Run(what, p.exitValue(), Files.readString(dir.resolve(tag + ".out")),
                Files.readString(dir.resolve(tag + ".err")));
    }
}

// %% [run]
// var children = ChildJvmExit.demo();

// %% [markdown]
// The first child printed a stack trace and still exited with status 0: a shell
// script, a cron job or a CI step that checks only the status would report success.
// The JVM does not stop because one thread died. It exits when the last non-daemon
// thread ends, which here is `main`, returning normally. Only the second child, whose
// `main` itself threw, exits with 1. (Python behaves the same way: a thread's
// exception is printed and the exit status stays 0.)
//
// ## Fix 1: a handler on the thread
//
// When an exception is about to end a thread, the JVM looks for an
// `UncaughtExceptionHandler` and calls it **on the dying thread**, before the thread
// terminates:
//
// 1. the thread's own handler, if one was set;
// 2. otherwise its `ThreadGroup`, which passes it to the JVM-wide default handler,
//    if one is set (Fix 2);
// 3. otherwise the group prints `Exception in thread "name"` and the stack trace to
//    `System.err`: what we saw above.
//
// A thread gets a handler of its own in one of two ways. Classic:
// `t.setUncaughtExceptionHandler(h)` before `t.start()`. Since Java 21:
// `Thread.ofPlatform().uncaughtExceptionHandler(h)` (or `ofVirtual()`), and every
// thread that the builder, or its `factory()`, makes gets the handler.
//
// `FailureLog` is a handler that records each failure in a thread-safe queue for
// `main` to read. Because the handler runs before the thread terminates, `join()`
// returning is enough for `main` to see what the handler recorded: everything a
// thread does happens-before another thread returns from `join` on it.

// %%
class FailureLog implements Thread.UncaughtExceptionHandler {
    /** A thread that died, the handler's thread, and what killed it. */
    record Failure(String thread, String handledOn, Throwable error) {
        public String toString() {
            return thread + " died of " + ParseJob.describe(error)
                    + " (handler ran on " + handledOn + ")";
        }
    }

    private final Queue<Failure> failures = new ConcurrentLinkedQueue<>();

    @Override
    public void uncaughtException(Thread t, Throwable e) {
        failures.add(new Failure(t.getName(), Thread.currentThread().getName(), e));
    }

    List<Failure> failures() { return List.copyOf(failures); }
}

// %%
class OwnHandlers {
    record Report(List<Integer> results, List<FailureLog.Failure> failures,
                  String stderr) { }

    /** The naive demo's workers, built by a builder that sets a handler. */
    static Report demo(List<String> inputs, long workMillis) throws InterruptedException {
        var log = new FailureLog();
        var results = new Integer[inputs.size()];
        var builder = Thread.ofPlatform().name("parser-", 0)
                .uncaughtExceptionHandler(log);  // for every thread it builds
        var tapped = StderrTap.capture(() -> {
            var threads = new ArrayList<Thread>();
            for (int i = 0; i < inputs.size(); i++) {
                int slot = i;
                threads.add(builder.start(() ->
                        results[slot] = ParseJob.parse(inputs.get(slot), workMillis)));
            }
            FailWaits.join(threads);
            return null;
        });
        StderrTap.show(tapped.stderr(), 3);
        var failures = log.failures();  // safe: the handlers ran before join returned
        failures.forEach(f -> System.out.println("  handler: " + f));
        List<Integer> slots = Collections.unmodifiableList(Arrays.asList(results));
        if (failures.isEmpty()) {
            System.out.println("  main: all " + slots.size() + " parsed: " + slots);
        } else {
            System.out.printf("  main: %d of %d workers failed; not using %s%n",
                    failures.size(), slots.size(), slots);
        }
        return new Report(slots, failures, tapped.stderr());
    }

    /** The classic API: set the handler on the Thread object before start(). */
    static List<FailureLog.Failure> classic(String input) throws InterruptedException {
        var log = new FailureLog();
        Thread t = new Thread(() -> ParseJob.parse(input, 0), "classic");
        String before = t.getUncaughtExceptionHandler().getClass().getSimpleName();
        t.setUncaughtExceptionHandler(log);
        String after = t.getUncaughtExceptionHandler().getClass().getSimpleName();
        t.start();
        FailWaits.join(List.of(t));
        System.out.printf("  classic's handler: %s before setUncaughtExceptionHandler,"
                + " %s after%n", before, after);
        log.failures().forEach(f -> System.out.println("  handler: " + f));
        return log.failures();
    }
}

// %% [run]
// var handled = OwnHandlers.demo(List.of("12", "oops", "30"), 200);
// var classic = OwnHandlers.classic(ParseJob.BAD);

// %% [markdown]
// Nothing reached `System.err` this time. The handler was told which thread died and
// why, and it ran on that very thread. `main` now knows one worker failed and can
// refuse to use a partial result. Notice what `getUncaughtExceptionHandler()` returns
// before a handler is set: the thread's `ThreadGroup`, which is step 2 of the list
// above.
//
// What a handler costs: it is told about the failure, but it cannot undo it. The
// thread is finished, and there is no caller to hand a value to. The handler runs on
// the dying thread, so it should be quick and must not throw: the JVM ignores any
// exception a handler throws. It is the right tool for logging and for counting
// failures. To get a *result or its failure* back to the caller, use a `Future`
// (Fix 3).
//
// ## Fix 2: the default handler, for every thread
//
// `Thread.setDefaultUncaughtExceptionHandler(h)` sets one handler for every thread in
// the JVM that has none of its own: threads you start, threads a library starts, and
// virtual threads too. It is a global setting, like `System.setErr`. A program usually
// sets it once at startup, to log failures. A library should never change it. A test
// or a demo that changes it must put the old one back, in `finally`, as this one does.
// The demo starts three threads that fail: a platform thread and a virtual thread
// with no handler, and a platform thread with a handler of its own.

// %%
class GlobalHandler {
    record Report(List<FailureLog.Failure> byDefault, List<FailureLog.Failure> byOwn,
                  String stderr, boolean restored) { }

    static Report demo(String input) throws InterruptedException {
        var global = new FailureLog();
        var own = new FailureLog();
        Runnable work = () -> ParseJob.parse(input, 0);
        Thread.UncaughtExceptionHandler previous =
                Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler(global);
        StderrTap.Tapped<Void> tapped;
        try {
            tapped = StderrTap.capture(() -> {
                FailWaits.join(List.of(
                        Thread.ofPlatform().name("plain").start(work),
                        Thread.ofVirtual().name("virtual").start(work),
                        Thread.ofPlatform().name("owned").uncaughtExceptionHandler(own)
                                .start(work)));
                return null;
            });
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);  // always put it back
        }
        boolean restored = Thread.getDefaultUncaughtExceptionHandler() == previous;
        var byDefault = global.failures().stream()
                .sorted(Comparator.comparing(FailureLog.Failure::thread)).toList();
        byDefault.forEach(f -> System.out.println("  default handler: " + f));
        own.failures().forEach(f -> System.out.println("  own handler:     " + f));
        StderrTap.show(tapped.stderr(), 3);
        System.out.println("  previous default handler restored: " + restored);
        return new Report(byDefault, own.failures(), tapped.stderr(), restored);
    }
}

// %% [run]
// var global = GlobalHandler.demo(ParseJob.BAD);

// %% [markdown]
// The default handler caught the two threads that had no handler of their own, the
// virtual one included. The thread with its own handler never reached it: a thread's
// own handler takes precedence. As before, nothing went to `System.err`.
//
// ## Fix 3: a `Future` carries the exception to `get()`
//
// Handlers are told about a failure. A `Future` hands it back to the caller. When you
// `submit` a task to an `ExecutorService`, the pool wraps it in a `FutureTask`, which
// catches *everything* the task throws and stores it in the future. The worker thread
// survives, no handler is called and nothing is printed. The exception waits in the
// future until someone calls `get()`, which throws an `ExecutionException` whose
// `getCause()` is the original exception.
//
// That is a fix only if someone calls `get()`. If nobody does, the exception is lost
// more completely than with a plain thread: not even a stack trace is printed. The
// demo submits the failing task, closes the pool (which waits for the task to end)
// and looks at what that produced. Only then does it call `get()`. Since Java 19, a
// `Future` can also be asked about its outcome without a `try` block: `state()` and
// `exceptionNow()`.

// %%
class FutureHides {
    record Report(String stderr, int handlerCalls, Future.State state, Throwable getThrew,
                  Throwable exceptionNow) { }

    static Report demo(String input) throws InterruptedException {
        var log = new FailureLog();
        var made = new CopyOnWriteArrayList<Thread>();
        ThreadFactory named = Thread.ofPlatform().name("pool-worker-", 1)
                .uncaughtExceptionHandler(log).factory();
        var tapped = StderrTap.capture(() -> {
            try (var pool = Executors.newFixedThreadPool(1, r -> {
                Thread t = named.newThread(r);
                made.add(t);
                return t;
            })) {
                return pool.submit(() -> ParseJob.parse(input, 0));  // no get() follows
            }  // close() waits for the task
        });
        FailWaits.join(made);  // the pool is closed: its worker has ended
        Future<Integer> future = tapped.value();
        System.out.println("  submitted a failing task, closed the pool, no get() yet");
        StderrTap.show(tapped.stderr(), 3);
        System.out.println("  handler calls: " + log.failures().size()
                + "; future.state(): " + future.state());
        Throwable getThrew = null;
        try {
            future.get(FailWaits.PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            getThrew = e;
            System.out.println("  get() threw " + e.getClass().getSimpleName()
                    + ", cause: " + ParseJob.describe(e.getCause()));
        } catch (TimeoutException e) {
            throw new IllegalStateException("the task never finished");
        }
        Throwable now = future.exceptionNow();
        System.out.println("  exceptionNow(): " + ParseJob.describe(now));
        return new Report(tapped.stderr(), log.failures().size(), future.state(),
                getThrew, now);
    }
}

// %% [run]
// var hidden = FutureHides.demo(ParseJob.BAD);

// %% [markdown]
// Zero lines on `System.err`, zero handler calls: if this program had dropped the
// `Future`, nothing anywhere would say that the task failed. The future's state is
// `FAILED`, and `get()` delivers the original `NumberFormatException`, wrapped.
//
// ## `submit` versus `execute`
//
// `ExecutorService` has two ways in. `submit(task)` returns a `Future`, as above.
// `execute(task)` (from `Executor`) returns nothing, so there is no future to hold an
// exception: a task that throws ends its worker thread, just like a plain thread, and
// the worker's uncaught-exception handler is called. A `ThreadPoolExecutor` then
// replaces the dead worker with a new thread from its factory.
//
// The demo runs the same three tasks both ways on a pool of one thread whose factory
// names the threads and sets a handler: a task that succeeds, a task that throws,
// and another that succeeds. Each task records which thread ran it. Tasks run one
// after another on the single worker, so the order of the names is fixed.
//
// @diagram thread_exceptions-submit-vs-execute

// %%
class PoolPaths {
    enum Route { EXECUTE, SUBMIT }

    record PoolRun(Route route, List<String> ranOn, int threadsMade,
                   List<FailureLog.Failure> failures) { }

    static PoolRun run(Route route) throws InterruptedException {
        var log = new FailureLog();
        var made = new CopyOnWriteArrayList<Thread>();
        ThreadFactory named = Thread.ofPlatform().name("pool-worker-", 1)
                .uncaughtExceptionHandler(log).factory();
        ThreadFactory counting = r -> {
            Thread t = named.newThread(r);
            made.add(t);
            return t;
        };
        var ranOn = new CopyOnWriteArrayList<String>();
        Runnable fine = () -> ranOn.add(Thread.currentThread().getName());
        Runnable failing = () -> {
            ranOn.add(Thread.currentThread().getName());
            ParseJob.parse(ParseJob.BAD, 0);
        };
        try (var pool = Executors.newFixedThreadPool(1, counting)) {
            for (Runnable task : List.of(fine, failing, fine)) {
                switch (route) {
                    case EXECUTE -> pool.execute(task);
                    case SUBMIT -> pool.submit(task);  // the Future is dropped: lost
                }
            }
        }
        FailWaits.join(made);  // close() does not wait for a dying worker's handler
        return new PoolRun(route, List.copyOf(ranOn), made.size(), log.failures());
    }

    static List<PoolRun> compare() throws InterruptedException {
        var runs = List.of(run(Route.EXECUTE), run(Route.SUBMIT));
        System.out.printf("  %-8s %-45s %8s %14s%n",
                "route", "tasks ran on", "threads", "handler calls");
        for (PoolRun r : runs) {
            System.out.printf("  %-8s %-45s %8d %14d%n", r.route().name().toLowerCase(),
                    String.join(", ", r.ranOn()), r.threadsMade(), r.failures().size());
        }
        return runs;
    }
}

// %% [run]
// var routes = PoolPaths.compare();

// %% [markdown]
// With `execute`, the handler was called once, the failing task took its worker with
// it, and the third task ran on a new thread. The worker names give it away, and the
// factory made two threads for a one-thread pool. With `submit`, the same worker ran
// all three tasks, and no handler heard anything. A pool whose tasks keep failing through
// `execute` keeps creating threads, which is why `pool-worker-37` in a log is a hint
// that tasks are dying.
//
// Two details from the code. `close()` waits for the *tasks*, but a worker killed by
// `execute` calls its handler *after* the pool has counted it gone, so `run` joins the
// threads the factory made before reading the log. And a pool without a handler in
// its factory prints `Exception in thread "pool-N-thread-M"` for `execute`, exactly
// like the naive version.
//
// ## Fix 4: `CompletableFuture`: recover, or observe
//
// A `CompletableFuture` can deal with a failure as one more stage of the pipeline,
// without anyone blocking in `get()`:
//
// - `exceptionally(ex -> fallback)` replaces a failure with a value; a success passes
//   through.
// - `handle((value, ex) -> ...)` sees both outcomes and returns a new value for
//   either.
// - `whenComplete((value, ex) -> ...)` only *looks*: good for logging. The stage it
//   returns fails just as the original did.
//
// When the caller does block, `join()` throws the unchecked `CompletionException` and
// `get()` the checked `ExecutionException`, each with the original exception as the
// cause. One surprise: a stage that failed because the function of `supplyAsync` (or
// of an earlier stage) threw hands `exceptionally` and `handle` a
// `CompletionException` wrapping the real exception, not the exception itself. Unwrap
// it with `getCause()` before you test its type. `exceptionNow()` already unwraps it.
// And a `runAsync` whose result nobody looks at loses its exception, as `submit` does.
// The demo uses its own pool, so it can close it: the default, the common
// `ForkJoinPool`, cannot be closed.

// %%
class CompletableRecovery {
    record Report(int byExceptionally, Throwable exceptionallySaw, int byHandle,
                  Throwable whenCompleteSaw, Throwable joinThrew, Throwable getThrew,
                  Throwable exceptionNow, String forgottenStderr) {
        Report withStderr(String stderr) {
            return new Report(byExceptionally, exceptionallySaw, byHandle,
                    whenCompleteSaw, joinThrew, getThrew, exceptionNow, stderr);
        }
    }

    static Report demo(String input) throws InterruptedException {
        ThreadFactory named = Thread.ofPlatform().name("cf-", 1).factory();
        var tapped = StderrTap.capture(() -> {
            try (var pool = Executors.newFixedThreadPool(2, named)) {
                CompletableFuture<Integer> parsed = CompletableFuture.supplyAsync(
                        () -> ParseJob.parse(input, 0), pool);
                var sawByExceptionally = new AtomicReference<Throwable>();
                int byExceptionally = FailWaits.result(parsed.exceptionally(ex -> {
                    sawByExceptionally.set(ex);
                    return -1;
                }));
                int byHandle = FailWaits.result(
                        parsed.handle((value, ex) -> ex == null ? value : 0));
                var sawByWhenComplete = new AtomicReference<Throwable>();
                var logged = parsed.whenComplete(
                        (value, ex) -> sawByWhenComplete.set(ex));
                Throwable joinThrew = thrownBy(() -> logged.join());  // parsed is done
                Throwable getThrew = thrownBy(() -> parsed.get(1, TimeUnit.SECONDS));
                // a task whose future is dropped: nobody ever joins it
                CompletableFuture.runAsync(() -> ParseJob.parse(input, 0), pool);
                return new Report(byExceptionally, sawByExceptionally.get(), byHandle,
                        sawByWhenComplete.get(), joinThrew, getThrew,
                        parsed.exceptionNow(), null);
            }  // close() waits for the forgotten task too
        });
        Report r = tapped.value().withStderr(tapped.stderr());
        String fmt = "  %-38s %s%n";
        System.out.printf(fmt, "exceptionally(ex -> -1)", r.byExceptionally()
                + "  (ex was " + wrapped(r.exceptionallySaw()) + ")");
        System.out.printf(fmt, "handle((v, ex) -> ex == null ? v : 0)", r.byHandle());
        System.out.printf(fmt, "whenComplete((v, ex) -> log)",
                "saw " + wrapped(r.whenCompleteSaw()) + "; still failed");
        System.out.printf(fmt, "join()", "threw " + wrapped(r.joinThrew()));
        System.out.printf(fmt, "get()", "threw " + wrapped(r.getThrew()));
        System.out.printf(fmt, "exceptionNow()", ParseJob.describe(r.exceptionNow()));
        System.out.printf(fmt, "runAsync(...), nobody joins",
                "System.err got " + tapped.lines().size() + " lines");
        return r;
    }

    /** "CompletionException(NumberFormatException)", or just the type if not wrapped. */
    static String wrapped(Throwable e) {
        String outer = e.getClass().getSimpleName();
        return e.getCause() == null ? outer
                : outer + "(" + e.getCause().getClass().getSimpleName() + ")";
    }

    interface Call { Object call() throws Exception; }

    static Throwable thrownBy(Call call) {
        try {
            call.call();
        } catch (Exception e) {
            return e;
        }
        throw new IllegalStateException("expected an exception, got a result");
    }
}

// %% [run]
// var recovery = CompletableRecovery.demo(ParseJob.BAD);

// %% [markdown]
// ## Fix 5: `invokeAll` collects every failure of a batch
//
// Often the question is not "did this one task fail?" but "what happened to all of
// them?". `invokeAll(tasks, timeout, unit)` runs a batch, waits until every task has
// ended or the time is up, cancels whatever is still running, and returns one future
// per task, in order. Every future is then done, so the caller can sort them by
// `state()` without blocking: `SUCCESS` gives `resultNow()`, `FAILED` gives
// `exceptionNow()`, `CANCELLED` means the task ran out of time. Then the caller
// decides, in one place, with every outcome in hand. Here it builds one exception
// that carries every failure as a suppressed exception, instead of stopping at the
// first one.
//
// The batch runs on virtual threads, one per task
// (`Executors.newThreadPerTaskExecutor` with a named virtual-thread factory). Besides
// the parse tasks there is one task that would hang: it waits on a latch that nobody
// opens, until the deadline cancels it.

// %%
class CollectFailures {
    record Report(List<String> succeeded, List<String> failed, List<String> cancelled,
                  long sum, Exception combined) { }

    static Report demo(List<String> inputs, long workMillis, long deadlineMillis,
                       boolean withStuckTask) throws InterruptedException {
        var names = new ArrayList<String>();
        var tasks = new ArrayList<Callable<Integer>>();
        for (String input : inputs) {
            names.add("parse \"" + input + "\"");
            tasks.add(() -> ParseJob.parse(input, workMillis));
        }
        if (withStuckTask) {
            names.add("stuck");
            tasks.add(() -> {
                var never = new CountDownLatch(1);  // nobody opens it
                never.await(FailWaits.PATIENCE.toSeconds(), TimeUnit.SECONDS);
                throw new IllegalStateException("stuck task was never cancelled");
            });
        }
        List<Future<Integer>> futures;
        ThreadFactory named = Thread.ofVirtual().name("batch-", 0).factory();
        try (var pool = Executors.newThreadPerTaskExecutor(named)) {
            futures = pool.invokeAll(tasks, deadlineMillis, TimeUnit.MILLISECONDS);
        }
        var succeeded = new ArrayList<String>();
        var failed = new ArrayList<String>();
        var cancelled = new ArrayList<String>();
        var errors = new ArrayList<Throwable>();
        long sum = 0;
        for (int i = 0; i < futures.size(); i++) {
            Future<Integer> f = futures.get(i);
            String name = names.get(i);
            switch (f.state()) {
                case SUCCESS -> {
                    succeeded.add(name + " = " + f.resultNow());
                    sum += f.resultNow();
                }
                case FAILED -> {
                    failed.add(name + ": " + ParseJob.describe(f.exceptionNow()));
                    errors.add(f.exceptionNow());
                }
                case CANCELLED -> cancelled.add(name);
                case RUNNING -> throw new IllegalStateException(name + " still running");
            }
        }
        succeeded.forEach(s -> System.out.println("  SUCCESS   " + s));
        failed.forEach(s -> System.out.println("  FAILED    " + s));
        cancelled.forEach(s -> System.out.println("  CANCELLED " + s + " (deadline "
                + deadlineMillis + " ms)"));
        System.out.printf("  %d of %d succeeded (sum %d), %d failed, %d cancelled%n",
                succeeded.size(), futures.size(), sum, failed.size(), cancelled.size());
        Exception combined = null;  // one exception for the caller, with every failure
        if (!errors.isEmpty()) {
            combined = new IllegalStateException(errors.size() + " of " + futures.size()
                    + " tasks failed");
            errors.forEach(combined::addSuppressed);
            System.out.println("  for the caller: " + ParseJob.describe(combined)
                    + ", with " + combined.getSuppressed().length + " suppressed");
        }
        return new Report(List.copyOf(succeeded), List.copyOf(failed),
                List.copyOf(cancelled), sum, combined);
    }
}

// %% [run]
// var batch = CollectFailures.demo(List.of("12", "oops", "30"), 200, 1000, true);

// %% [markdown]
// Every task is accounted for: the two that parsed, the one that threw, and the one
// the deadline cancelled. Nothing was printed behind the caller's back, and nothing
// was lost. `ExecutorCompletionService` does the same job when you want to handle
// each outcome as soon as it arrives rather than all at the end.
//
// This is the shape of *structured concurrency*: the tasks live inside one block,
// the block does not end before they do, and their failures come out of it. Java 25
// has `StructuredTaskScope` for exactly this, still as a preview API
// (`--enable-preview`, JEP 505): it can also cancel the other tasks as soon as one
// fails. This lesson stays with APIs that are final.
//
// ## How not to lose one: the rules
//
// | situation | do this | what you get |
// |---|---|---|
// | a thread you start yourself | catch inside `run()` and record the failure, or set a handler (`setUncaughtExceptionHandler`, builder `.uncaughtExceptionHandler`) | the failure, on the dying thread |
// | a task whose result you need | `submit` it and call `get()` (with a timeout) | the original exception as `getCause()` of `ExecutionException` |
// | a `Future` you will not `get()` | don't drop it: check `state()` and `exceptionNow()` later, or use `execute` | a failure someone sees |
// | a batch of tasks | `invokeAll` (with a deadline), then sort by `state()` | every success, failure and timeout, in one place |
// | an async pipeline | `CompletableFuture` with `exceptionally` or `handle`; `whenComplete` to log | a fallback value, or a failure passed on to the next stage |
// | a pool whose tasks are fire-and-forget | `execute`, and a factory whose threads have a handler | a handler call per failure (and a new worker each time) |
// | the whole application | `Thread.setDefaultUncaughtExceptionHandler` once, at startup, to log | a last line of defence for threads that have no handler |
// | a test or demo that sets the default handler | save the old one and restore it in `finally` | no effect on anything else in the JVM |
//
// ## Pitfalls
//
// - **`join()` returning says nothing about success.** A thread that died of an
//   exception is `TERMINATED`, like one that finished. Check its result, or use a
//   `Future`.
// - **`submit` swallows; `execute` prints.** A dropped `Future` loses its exception
//   without a trace. A pool's own hook, `ThreadPoolExecutor.afterExecute(r, t)`, sees
//   `t == null` for submitted tasks too: the exception is inside the `Future`.
// - **The exit status stays 0.** A program whose workers all failed still exits with
//   0 unless `main` notices and fails itself (with `System.exit(1)`, or by throwing).
// - **`CompletionException` wraps the real cause.** `exceptionally` and `handle` may
//   receive the wrapper; test `ex.getCause()`, not `ex`.
// - **A handler runs on the dying thread.** It cannot save the thread or its result.
//   Keep it short, and do not throw from it: the JVM ignores that exception.
// - **The default handler is global.** It also catches other libraries' threads, and
//   only one can be set. Set it once, at startup, and restore it in tests.
// - **Errors are exceptions too.** `OutOfMemoryError` and `StackOverflowError` also
//   end up in handlers and futures. Log them, but do not pretend to recover from
//   them.
// - **Output after the cell ends.** In a notebook, a handler that prints after its
//   cell has finished prints into a later cell. Join first, then print, as this
//   lesson does.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | an exception in a `threading.Thread` prints "Exception in thread ..." (via `threading.excepthook`) | the default handling prints `Exception in thread "name"` and the trace to `System.err` |
// | `threading.excepthook = hook` (one global hook) | `Thread.setDefaultUncaughtExceptionHandler(h)`; per thread `t.setUncaughtExceptionHandler(h)` or `Thread.ofPlatform().uncaughtExceptionHandler(h)` |
// | `future.result()` re-raises the task's exception | `future.get()` throws `ExecutionException`; the task's exception is `getCause()` |
// | `future.exception()` | `future.exceptionNow()` (Java 19+), when `state()` is `FAILED` |
// | `executor.submit(f)` and never `result()`: lost | `executor.submit(task)` and never `get()`: lost, just the same |
// | `concurrent.futures.wait(fs, timeout=...)` | `executor.invokeAll(tasks, timeout, unit)` |
// | `as_completed(fs)` | `ExecutorCompletionService` |
// | exit status 0 after a thread failed | exit status 0 after a thread failed |
//
// The seed's tips say exceptions in threads "are silent". In both languages they are
// not quite silent, since the default hook prints them, but they are *lost* to the
// code that could act on them. Java adds a per-thread handler, which Python's
// `threading` module does not have.
//
// Related lessons: `threads` (start, join, interrupt), `thread_pool` (executors and
// futures), `executor_lifecycle` (shutting a pool down without losing work),
// `virtual_threads`, `daemon_threads` (which threads keep the JVM alive).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line.
// A bad option prints one line and exits with status 2.

// %%
class thread_exceptions {
    static final String USAGE = """
            Usage: thread_exceptions [options]
              --inputs LIST  texts the workers parse, comma-separated (default 12,oops,30)
              --work MS      how long each worker "works" first (default 200)
              --speed X      divides every delay: 2 = twice as fast (default 1)
              --help         print this and exit""";

    record Options(List<String> inputs, int workMillis, double speed) {
        long scaled(long millis) { return Math.round(millis / speed); }
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("thread_exceptions: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        long work = o.scaled(o.workMillis());
        System.out.println("== The naive version: the worker dies, main carries on ==");
        SilentDeath.demo(o.inputs(), work);
        System.out.println("\n== The process does not fail either ==");
        ChildJvmExit.demo();
        System.out.println("\n== Fix 1: a handler on the thread ==");
        OwnHandlers.demo(o.inputs(), work);
        OwnHandlers.classic(ParseJob.BAD);
        System.out.println("\n== Fix 2: the default handler, for every thread ==");
        GlobalHandler.demo(ParseJob.BAD);
        System.out.println("\n== Fix 3: a Future carries the exception to get() ==");
        FutureHides.demo(ParseJob.BAD);
        System.out.println("\n== submit versus execute ==");
        PoolPaths.compare();
        System.out.println("\n== Fix 4: CompletableFuture: recover, or observe ==");
        CompletableRecovery.demo(ParseJob.BAD);
        System.out.println("\n== Fix 5: invokeAll collects every failure of a batch ==");
        // the deadline is a limit, not work: it keeps a floor so quick tasks make it
        CollectFailures.demo(o.inputs(), work, Math.max(250, o.scaled(1000)), true);
    }

    /** Returns null for --help; throws IllegalArgumentException on a bad argument. */
    static Options parse(String... args) {
        var given = new HashMap<String, String>();
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--help") || flag.equals("-h")) return null;
            if (!USAGE.contains("  " + flag + " ")) {
                throw new IllegalArgumentException("unknown argument '" + flag + "'");
            }
            if (i + 1 == args.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            given.put(flag, args[++i]);
        }
        return new Options(
                texts("--inputs", given.getOrDefault("--inputs", "12,oops,30")),
                count("--work", given.getOrDefault("--work", "200")),
                factor("--speed", given.getOrDefault("--speed", "1")));
    }

    static List<String> texts(String flag, String value) {
        List<String> texts = Arrays.stream(value.split(",", -1))
                .map(String::strip).toList();
        if (texts.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException(flag
                    + " wants texts separated by commas, got '" + value + "'");
        }
        return texts;
    }

    static int count(String flag, String value) {
        try {
            int n = Integer.parseInt(value.replace("_", ""));
            if (n > 0) return n;
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException(flag + " wants a positive whole number, got '"
                + value + "'");
    }

    static double factor(String flag, String value) {
        try {
            double x = Double.parseDouble(value);
            if (x > 0 && Double.isFinite(x)) return x;
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException(flag + " wants a positive number, got '"
                + value + "'");
    }
}
