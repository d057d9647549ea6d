///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Thread exceptions: where a worker's failure goes, and how not to lose it
//
// An exception that escapes `main` gives the program exit status 1. The same exception
// in a worker thread ends only that thread: its trace is printed, `join()` returns as
// usual, `main` carries on without the result, and the exit status stays 0.
//
// **You will learn**
// - what happens to an uncaught exception in a thread, and what `join()` tells you
// - when the JVM exits, and with which status, if `main` or a worker throws
// - to catch a thread's failure in a handler: its own, or the JVM-wide default
// - why `submit` keeps a task's exception for `get()`; how `CompletableFuture` recovers

// %%
import java.io.*;
import java.nio.file.*;
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.stream.*;

// %% [markdown]
// ## A worker dies, `main` carries on
//
// Three workers each divide 60 by a number into their own slot; the second is 0, so
// `worker-1` throws `ArithmeticException`, and `run()` has nowhere to throw to. Before
// the thread ends, the JVM hands the exception to its handler: `worker-1` has none of
// its own, so its `ThreadGroup` takes it and, with no JVM-wide default handler set,
// prints `Exception in thread "worker-1"` and the stack trace to `System.err` (two
// frames here: the failing code is the thread's lambda). The program, a compact source
// file (JDK 25: a `void main` with no class written around it; its lines after `return`
// are the next section's), runs in a JVM of its own (`ChildJvm`); we print its output as
// it comes, then its status. Indented lines come from another thread or JVM.
//
// @diagram thread_exceptions-plain-thread

// %%
class Divisions {
    static final String SOURCE = """
        void main(String[] args) throws InterruptedException {
            int[] divisors = {3, 0, 5};
            var results = new Integer[3];
            var workers = new Thread[3];
            for (int i = 0; i < 3; i++) {
                int slot = i;
                workers[i] = Thread.ofPlatform().name("worker-" + i)
                        .start(() -> results[slot] = 60 / divisors[slot]);
            }
            for (Thread worker : workers) worker.join();
            System.out.println("main: joined " + Arrays.asList(results));
            if (args.length == 0) return;
            long pause = Long.parseLong(args[0]);  // main fails, writer still writes
            Thread main = Thread.currentThread();
            Thread.ofPlatform().name("writer").start(() -> {
                try {
                    main.join();
                    for (int part = 1; part <= 3; part++) {
                        Thread.sleep(pause);
                        System.out.println("writer: main has ended; part " + part);
                    }
                } catch (InterruptedException e) { }  // nothing interrupts writer
            });
            throw new IllegalStateException("main gives up");
        }
        """;
}

// %%
class ChildRuns {
    record Run(int status, List<String> lines) { }
    static Run plain(double speed) throws Exception {
        return run(Divisions.SOURCE, 60_000);
    }
    static Run mainFails(double speed) throws Exception {
        long pause = Math.round(400 / speed);  // writer's pause, before each part
        return run(Divisions.SOURCE, 60_000 + 3 * pause, "" + pause);
    }
    /** Runs a child program, printing its lines as they come, then its exit status. */
    static Run run(String source, long limitMillis, String... args) throws Exception {
        long deadline = System.currentTimeMillis() + limitMillis;
        System.out.println("(java Child.java: it compiles first, a few seconds)");
        try (var child = ChildJvm.start(source, List.of(), args)) {
            boolean ended;  // its output has ended: it is exiting
            int shown = 0;  // lines of output printed so far
            do {
                ended = child.reader().join(Duration.ofMillis(100));
                for (List<String> lines = child.output(); shown < lines.size(); shown++)
                    System.out.println("  " + lines.get(shown).replace("\t", "  "));
            } while (!ended && System.currentTimeMillis() < deadline);
            if (!ended || !child.exitsWithin(10_000)) throw new TimeoutException();
            System.out.println("exit status " + child.process().exitValue());
            return new Run(child.process().exitValue(), List.copyOf(child.output()));
        }
    }
    /** A small program run in a JVM of its own (`java <jvmOptions> Child.java args`). */
    record ChildJvm(Process process, List<String> output, Thread reader)
            implements AutoCloseable {
        static ChildJvm start(String source, List<String> jvmOptions, String... args)
                throws IOException {
            Path file = Files.createTempDirectory("child").resolve("Child.java");
            Files.writeString(file, source);  // deleted on exit: file first, then folder
            for (Path p : List.of(file.getParent(), file)) p.toFile().deleteOnExit();
            var command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"),
                    "bin", "java").toString(), file.toString()));
            command.addAll(1, jvmOptions);  // before the program's file
            command.addAll(List.of(args));
            var process = new ProcessBuilder(command).redirectErrorStream(true).start();
            List<String> output = new CopyOnWriteArrayList<>();
            Thread reader = Thread.ofPlatform().daemon().start(
                    () -> process.inputReader().lines().forEach(output::add));
            return new ChildJvm(process, output, reader);
        }

        /** Whether the child exited by itself within `limitMillis`. */
        boolean exitsWithin(long limitMillis) throws InterruptedException {
            boolean exited = process.waitFor(limitMillis, TimeUnit.MILLISECONDS);
            if (exited) reader.join(limitMillis);
            return exited;
        }

        @Override
        public void close() throws InterruptedException {  // never leaves a JVM behind
            process.toHandle().destroyForcibly();  // the pipe then ends by itself: reader
            process.waitFor();                     // reads to its end, no "Stream closed"
            reader.join();
        }
    }
}

// %% [run]
// var plain = ChildRuns.plain(1);

// %% [markdown]
// The trace comes first: `worker-1` printed it before it ended (`TERMINATED`, like a
// thread that finished), so before `join()` returned normally. `main` saw only a
// `null` where a result should be, and returned: status 0, a success to any CI step.
//
// ## When `main` throws: status 1, after the other threads
//
// What escapes `main` ends the thread `main`, nothing more. The launcher records status
// 1; `main` prints its trace (through the handlers, like any thread) and ends; then the
// JVM waits for every non-daemon thread (threads are non-daemon unless made daemon:
// lesson `daemon_threads`) before it exits (JLS 12.8); a thread named `DestroyJavaVM`,
// the launcher's last step, does the waiting. Here, after its joins, the program starts
// `writer` and throws; `writer` waits for `main` to end, then writes three parts, a
// pause before each (`--speed` scales it). All three are written; then the status is 1.
//
// @diagram thread_exceptions-main-throws

// %% [run]
// var mainFails = ChildRuns.mainFails(1);

// %% [markdown]
// ## Fix 1: a handler of your own
//
// When an exception is about to end a thread, the runtime calls, on that thread, the
// first of: the thread's own `UncaughtExceptionHandler`; else its `ThreadGroup`, which
// passes it up to the root group, which calls the default handler (set with
// `Thread.setDefaultUncaughtExceptionHandler`), or else prints. A builder's
// `uncaughtExceptionHandler(h)` gives `h` to every thread it (or its `factory()`) makes.
// `FailureLog` keeps each failure and prints a line before its thread ends: the caller
// sees it after `join()`. Set the JVM-wide default once, at startup (we put it back).

// %%
class FailureLog implements Thread.UncaughtExceptionHandler {
    record Failure(String thread, String handledOn, Throwable error) { }
    private final Queue<Failure> failures = new ConcurrentLinkedQueue<>();
    private final String name;
    FailureLog(String name) { this.name = name; }

    @Override
    public void uncaughtException(Thread dying, Throwable e) {  // runs on `dying`
        String on = Thread.currentThread().getName();
        failures.add(new Failure(dying.getName(), on, e));
        System.out.printf("  %s handler on %s: %s ended by %s%n", name, on,
                dying.getName(), e.getClass().getSimpleName());
    }

    List<Failure> failures() { return List.copyOf(failures); }
    static String names(Throwable e) {  // "Outer(Cause)", or "Outer"
        return e.getClass().getSimpleName() + (e.getCause() == null ? ""
                : "(" + e.getCause().getClass().getSimpleName() + ")");
    }
}

// %%
class Handlers {
    static int divide(int divisor) { return 60 / divisor; }
    static void join(Thread t) throws InterruptedException {  // a join with a limit
        if (!t.join(Duration.ofSeconds(10))) throw new IllegalStateException(t.getName());
    }

    /** The first section's workers, from a builder that gives each one `log`. */
    static List<Integer> ownHandler(FailureLog log) throws InterruptedException {
        int[] divisors = {3, 0, 5};
        var results = new Integer[3];
        var builder = Thread.ofPlatform().name("worker-", 0)
                .uncaughtExceptionHandler(log);
        var workers = new ArrayList<Thread>();
        for (int i = 0; i < 3; i++) {
            int slot = i;
            workers.add(builder.start(() -> results[slot] = divide(divisors[slot])));
        }
        for (Thread worker : workers) join(worker);
        System.out.printf("joined all %s; failed: %s%n", Arrays.toString(results),
                log.failures().stream().map(FailureLog.Failure::thread).toList());
        return Arrays.asList(results);
    }

    /** Two failing threads, one at a time (so the lines come in a fixed order). */
    static void defaultHandler(FailureLog fallback, FailureLog own) throws Exception {
        var previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler(fallback);  // for the whole JVM
        try {
            join(Thread.ofVirtual().name("virtual").start(() -> divide(0)));
            Thread owner = Thread.ofPlatform().name("owner").unstarted(() -> divide(0));
            owner.setUncaughtExceptionHandler(own);  // the classic way, before start()
            owner.start();
            join(owner);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
    }

    static void demo(double speed) throws Exception {
        ownHandler(new FailureLog("builder's"));
        defaultHandler(new FailureLog("default"), new FailureLog("own"));
    }
}

// %% [run]
// Handlers.demo(1);

// %% [markdown]
// Nothing reached `System.err`. The handler ran on `worker-1` itself, and the caller
// learnt which worker failed. The default handler took `virtual`; `owner` reached only
// its own. A handler cannot undo the failure, nor change the exit status except by
// calling `System.exit`; what it throws is ignored (`UncaughtExceptionHandler` docs):
// for a platform thread HotSpot prints one line; for a virtual thread, nothing.
//
// ## Fix 2: a `Future` keeps it for `get()`; `execute` does not
//
// `submit` wraps the task in a `FutureTask`, which catches what it throws and keeps it:
// no handler call, no output, the worker lives on. `future.get()` throws
// `ExecutionException`, the task's exception as its cause; if nobody calls it, the
// failure is lost without a trace. `execute` has no future: the exception kills the
// worker; the dying worker starts its replacement, then calls its handler. Both happen
// here, on a pool of one worker whose factory names it and adds a handler.
//
// @diagram thread_exceptions-submit-vs-execute

// %%
class PoolRoutes {
    static void demo(double speed) throws Exception {
        var factory = Thread.ofPlatform().name("pool-worker-", 1)
                .uncaughtExceptionHandler(new FailureLog("pool's")).factory();
        try (var pool = Executors.newFixedThreadPool(1, factory)) {
            System.out.println("submit(() -> divide(0)): nothing printed");
            Future<Integer> future = pool.submit(() -> Handlers.divide(0));
            try {
                future.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                System.out.println("future.get() threw " + FailureLog.names(e));
            }
            Thread worker = pool.submit(Thread::currentThread).get(10, TimeUnit.SECONDS);
            System.out.println("future.state() " + future.state()
                    + "; the next task ran on " + worker.getName());
            System.out.println("execute(() -> divide(0)):");
            pool.execute(() -> Handlers.divide(0));
            Handlers.join(worker);  // it died: its handler has run
            Thread next = pool.submit(Thread::currentThread).get(10, TimeUnit.SECONDS);
            System.out.println("the next task ran on " + next.getName());
        }
    }
}

// %% [run]
// PoolRoutes.demo(1);

// %% [markdown]
// ## Fix 3: `CompletableFuture`: recover, or observe
//
// `supplyAsync(f, pool)` runs `f` on `pool` and returns a `CompletableFuture`; each
// method below returns a new one (a stage), completed from this one's outcome.
// `exceptionally(ex -> value)` turns a failure into a value; `handle((v, ex) -> ...)`
// maps either outcome to one; `whenComplete` only looks (to log): its stage fails too.
// `join()` throws `CompletionException`, `get()` `ExecutionException`, the task's
// exception as cause; `exceptionNow()` returns it. When `f` throws, `exceptionally` and
// `handle` get it wrapped in a `CompletionException`: test `getCause()`, not it.

// %%
class StageRecovery {
    static void row(String label, Callable<?> call) {  // what `call` returned or threw
        try {
            System.out.printf("%-27s returned %s%n", label, call.call());
        } catch (Exception e) {
            System.out.printf("%-27s threw %s%n", label, FailureLog.names(e));
        }
    }

    static void demo(double speed) throws Exception {
        var seen = new AtomicReference<Throwable>();
        try (var pool = Executors.newSingleThreadExecutor()) {  // ours: we close it
            var share = CompletableFuture.supplyAsync(() -> Handlers.divide(0), pool);
            var fallback = share.exceptionally(ex -> { seen.set(ex); return -1; });
            row("exceptionally(ex -> -1)", () -> fallback.get(10, TimeUnit.SECONDS));
            System.out.println("exceptionally saw " + FailureLog.names(seen.get()));
            var handled = share.handle((v, ex) -> ex == null ? v : 0);
            row("handle(ex == null ? v : 0)", handled::join);
            var logged = share.whenComplete((v, ex) -> seen.set(ex));  // only looks
            row("whenComplete(log).join()", logged::join);
            row("join()", share::join);  // share is done: no wait
            row("get()", share::get);
            row("exceptionNow()", share::exceptionNow);
        }
    }
}

// %% [run]
// StageRecovery.demo(1);

// %% [markdown]
// ## Pitfalls
//
// - **`join()` returning says nothing about success**: a thread ended by an exception
//   is `TERMINATED`, like one that finished. Check its result, or use a `Future`.
// - **Submit and forget** loses the exception without a trace, as does a `runAsync`
//   nobody joins. Call `get()`, or `execute` on threads that have a handler.
// - **A worker's failure leaves the exit status 0**: `main` must notice and fail. And a
//   `main` that throws still waits for every other non-daemon thread.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `threading.excepthook` prints `Exception in thread …` (the seed's "silent" means nothing else notices) | with no handler, the `ThreadGroup` prints; `setDefaultUncaughtExceptionHandler(h)`, or per thread |
// | `future.result()` raises the task's exception | `future.get()` throws `ExecutionException`, the task's as cause |
// | status 0 after a thread failed; 1 if the main thread raised, after the other threads end | the same |
//
// ## Try it
//
// - In `Handlers.ownHandler`, delete `.uncaughtExceptionHandler(log)` and run `handler`:
//   a trace goes to `System.err`, and the line says `failed: []`.
// - `jbang thread_exceptions exit --speed 0.2`: 2 s before each of writer's parts, then
//   exit status 1. Add `.daemon()` to `writer`'s builder and run `exit` again (default
//   speed): no part is written; a daemon is not waited for, it runs until the JVM halts.
//
// ## Summary
//
// An exception in a worker thread ends only that thread: the program carries on and
// exits with status 0, unless the failure reaches code that checks it.
//
// A handler hears of each failure on the dying thread, before `join()` returns; `submit`
// keeps it for `get()`; `CompletableFuture` recovers with `exceptionally` or `handle`.

// %% [main]
class thread_exceptions {  // the entry point, script only: try --help
    static final Section[] SECTIONS = {
            new Section("plain", "a worker dies, main goes on: 0", ChildRuns::plain),
            new Section("exit", "main throws, writer goes on: 1", ChildRuns::mainFails),
            new Section("handler", "a thread's own handler; the default", Handlers::demo),
            new Section("future", "submit keeps it for get()", PoolRoutes::demo),
            new Section("stages", "CompletableFuture: recover", StageRecovery::demo)};
    // From here on the same in every lesson (tools/entry-point.java).
    record Section(String name, String about, Demo demo) { }
    interface Demo { void run(double speed) throws Exception; }

    public static void main(String[] args) throws Exception {
        var chosen = new ArrayList<Section>();
        double speed = 1;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i], next = i + 1 < args.length ? args[i + 1] : "";
            var named = Stream.of(SECTIONS).filter(s -> s.name().equals(arg)).findAny();
            if (named.isPresent()) chosen.add(named.get());
            else if (arg.equals("--speed") && next.matches("\\d*\\.?\\d+"))
                speed = Math.clamp(Double.parseDouble(args[++i]), 0.1, 20);
            else if (!arg.equals("--step")) usage(arg.matches("--help|--list"), arg);
        }
        boolean step = List.of(args).contains("--step") && System.console() != null;
        for (Section s : chosen.isEmpty() ? List.of(SECTIONS) : chosen) {
            if (step) System.console().readLine("%n[Enter] %s ", s.name());
            System.out.printf("%n== %s: %s%n", s.name(), s.about());
            s.demo().run(speed);
        }
    }

    static void usage(boolean asked, String arg) {  // --help; or a bad argument, status 2
        String name = Section.class.getEnclosingClass().getSimpleName();
        if (!asked) System.err.printf("%s: bad argument '%s' (try --help)%n", name, arg);
        else System.out.printf("jbang %s [section...] [--speed 0.1-20] [--step]%n%s",
                name, Stream.of(SECTIONS).map(s -> "  %-8s %s%n".formatted(s.name(),
                        s.about())).collect(Collectors.joining()));
        System.exit(asked ? 0 : 2);
    }
}
