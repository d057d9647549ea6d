///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Executor lifecycle: end every pool, or it never ends
//
// A fixed thread pool's worker with nothing to do waits for the next task, for ever.
// Forget to end the pool and, after `main` returns, the JVM waits for that worker: no
// error, no output, a program that never ends. Here: which pools do that, and what each
// way of ending a pool does to its tasks.
//
// **You will learn**
// - which pools keep the JVM alive after `main` returns, and for how long
// - what `shutdown()`, `shutdownNow()` and `close()` do to running and queued tasks
// - what `Future.state()` says about a task that never ran
// - to end a pool within a time limit, and why a task must honour interrupts

// %%
import java.io.*;
import java.nio.file.*;
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.stream.*;
import static java.util.concurrent.TimeUnit.MILLISECONDS;

// %% [markdown]
// ## A forgotten pool: `main` returns, the JVM does not
//
// To watch a JVM fail to exit we need a second one. The program below submits one task,
// prints the thread that ran it, ends its pool as its argument says, and prints `main
// returns`: `close` closes a fixed pool, `fixed` forgets it, and `forkjoin` forgets a
// `newWorkStealingPool`, which is a `ForkJoinPool`. `ChildJvm` runs it in a JVM of its
// own with the JDK's source launcher (`java Child.java fixed`), and collects what it
// prints. `await` waits for a latch, with a limit: every wait in this lesson has one.

// %%
class ForgottenPool {
    static final String PROGRAM = """
            import java.util.concurrent.*;
            class Child {  // java Child.java close|fixed|forkjoin
                public static void main(String[] args) throws Exception {
                    ExecutorService pool = args[0].equals("forkjoin")
                            ? Executors.newWorkStealingPool(2)
                            : Executors.newFixedThreadPool(2);
                    Thread worker = pool.submit(Thread::currentThread)
                            .get(10, TimeUnit.SECONDS);
                    System.out.println("task ran on " + worker.getName()
                            + ", daemon: " + worker.isDaemon());
                    if (args[0].equals("close")) pool.close();
                    System.out.println("main returns");
                }
            }
            """;
}

// %%
class Lifecycle {
    /** A small program run in a JVM of its own (`java Child.java args...`). */
    record ChildJvm(Process process, List<String> output, Thread reader)
            implements AutoCloseable {
        static ChildJvm start(String source, String... args) throws IOException {
            Path file = Files.createTempDirectory("child").resolve("Child.java");
            Files.writeString(file, source);
            var command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"),
                    "bin", "java").toString(), file.toString()));
            command.addAll(List.of(args));
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .start();
            List<String> output = new CopyOnWriteArrayList<>();
            Thread reader = Thread.ofPlatform().daemon().start(
                    () -> process.inputReader().lines().forEach(output::add));
            return new ChildJvm(process, output, reader);
        }

        /** Whether the child exited by itself within `limitMillis` (then all its output
         *  has been read). */
        boolean exitsWithin(long limitMillis) throws InterruptedException {
            boolean exited = process.waitFor(limitMillis, TimeUnit.MILLISECONDS);
            if (exited) reader.join(limitMillis);
            return exited;
        }

        @Override
        public void close() throws InterruptedException {  // never leaves a JVM behind
            process.destroyForcibly().waitFor();
            reader.join();
        }
    }

    /** Waits for a step that must happen; gives up (an error) after `limitMillis`. */
    static void await(CountDownLatch latch, long limitMillis) {
        try {
            if (!latch.await(limitMillis, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("no step within " + limitMillis + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a step", e);
        }
    }
}

// %% [markdown]
// The demo starts three children and waits until each has printed `main returns` (every
// 5 s it says it is still waiting), then for the two that should exit. It watches the
// third for three pauses (500 ms each, divided by `--speed`), and kills it.
//
// @diagram executor_lifecycle-leak

// %%
class LeakWatch {
    static void demo(double speed) throws Exception {
        long pause = Math.round(500 / speed);
        try (var closed = Lifecycle.ChildJvm.start(ForgottenPool.PROGRAM, "close");
             var forkJoin = Lifecycle.ChildJvm.start(ForgottenPool.PROGRAM, "forkjoin");
             var fixed = Lifecycle.ChildJvm.start(ForgottenPool.PROGRAM, "fixed")) {
            var all = List.of(closed, forkJoin, fixed);
            long start = System.nanoTime(), said = 0;  // the children compile, then run
            while (!all.stream().allMatch(c -> c.output().contains("main returns"))) {
                long seconds = (System.nanoTime() - start) / 1_000_000_000;
                if (seconds >= 90) throw new IllegalStateException("no main returned");
                if (seconds >= said + 5) {
                    System.out.printf("  (the child JVMs are starting: %d s)%n", seconds);
                    said = seconds;
                }
                Thread.sleep(50);  // polling output, not synchronising by sleeping
            }
            if (!closed.exitsWithin(10_000) || !forkJoin.exitsWithin(10_000)) {
                throw new IllegalStateException("a JVM that should exit did not");
            }
            show("newFixedThreadPool(2), then close():", closed, "the JVM exited");
            show("newWorkStealingPool(2), forgotten:", forkJoin, "the JVM exited");
            show("newFixedThreadPool(2), forgotten:", fixed, "the other two have exited");
            for (int step = 1; step <= 3 && !fixed.exitsWithin(pause); step++) {
                System.out.printf("     still running %,d ms later%n", step * pause);
            }
            System.out.println(fixed.process().isAlive()
                    ? "  -> we end it: destroyForcibly()" : "  -> the JVM exited");
        }  // ChildJvm.close() kills a child that is still running
    }

    static void show(String title, Lifecycle.ChildJvm child, String verdict) {
        System.out.println(title);
        child.output().forEach(line -> System.out.println("  " + line));
        System.out.println("  -> " + verdict);
    }
}

// %% [run]
// LeakWatch.demo(1);

// %% [markdown]
// A JVM exits once its last non-daemon thread has ended (`daemon_threads`). `close()`
// ended the fixed pool's worker, so that JVM exited. A `ForkJoinPool`'s workers are
// daemon threads, so the forgotten work-stealing pool did not hold its JVM either. The
// forgotten fixed pool's worker, `pool-1-thread-1`, is no daemon: parked in its queue's
// `take()`, it waits for a task nobody will submit, and its JVM waits for it. A pool
// that never ran a task has no worker yet; once it has, how long a forgotten pool holds
// the JVM depends on the pool (see `Executors` in the JDK's source):
//
// | forgotten pool | its idle workers | the JVM exits |
// |---|---|---|
// | `newFixedThreadPool`, `newScheduledThreadPool` | wait for ever: core threads never time out | never |
// | `newSingleThreadExecutor` | the same, but a `Cleaner` shuts the pool down once a GC finds it unreachable | only if a GC runs, which an idle JVM may never do |
// | `newCachedThreadPool` | end after 60 s without a task | about 60 s after its last task ends |
// | `newWorkStealingPool` (any `ForkJoinPool`'s default workers), `newVirtualThreadPerTaskExecutor` | are daemon threads | at once, abandoning running tasks |
//
// ## Ending a pool: `shutdown()`, `shutdownNow()`, `close()`
//
// `shutdown()` moves a `ThreadPoolExecutor` from `RUNNING` to `SHUTDOWN`: it refuses
// new tasks, but the queue still drains. `shutdownNow()` moves it to `STOP`: it empties
// the queue, hands the tasks back and interrupts the running ones. When the last worker
// has gone it is `TERMINATED`. `close()` (Java 19+) is `shutdown()`, then
// `awaitTermination()` until the pool has terminated, with no time limit.
//
// Each row: one worker, `worker-1`, whose running task waits on a closed gate (a
// latch), and three tasks queued, all given by `submit()`. We end the pool one way, open
// the gate (except after `shutdownNow()`), wait for the pool to terminate and read each
// `Future.state()`. `close()` runs on a thread of its own, `closer`, which gets a pause
// (300 ms, divided by `--speed`) to return: it cannot while the gate is closed.
//
// @diagram executor_lifecycle-states

// %%
class PoolEndings {
    record Row(boolean waited, Future<String> running, List<Future<String>> queued,
            List<Runnable> handedBack) { }

    static Row scene(String ending, long pause) throws Exception {
        long limit = 10_000 + 10 * pause;
        var started = new CountDownLatch(1);
        var gate = new CountDownLatch(1);
        try (var pool = Executors.newFixedThreadPool(1,
                Thread.ofPlatform().name("worker-", 1).factory())) {
            Future<String> running = pool.submit(() -> {
                started.countDown();
                if (!gate.await(limit, MILLISECONDS)) throw new TimeoutException();
                return "ok";
            });
            Lifecycle.await(started, limit);
            var queued = Stream.generate(() -> pool.submit(() -> "ok")).limit(3).toList();
            List<Runnable> handedBack = List.of();
            Thread closer = null;
            switch (ending) {
                case "shutdown()" -> pool.shutdown();
                case "shutdownNow()" -> handedBack = pool.shutdownNow();
                default -> closer = Thread.ofPlatform().name("closer").start(pool::close);
            }
            boolean waited = closer != null && !closer.join(Duration.ofMillis(pause));
            if (!ending.equals("shutdownNow()")) gate.countDown();  // the task may finish
            if (!pool.awaitTermination(limit, MILLISECONDS)
                    || closer != null && !closer.join(Duration.ofMillis(limit))) {
                throw new IllegalStateException("the pool did not terminate");
            }
            return new Row(waited, running, queued, handedBack);
        }
    }

    static void table(double speed) throws Exception {
        long pause = Math.round(300 / speed);
        System.out.println("one worker, its running task held on a gate; 3 tasks queued");
        String format = "%-14s %-8s %-28s %s%n";
        System.out.printf(format, "ending", "the call", "running task", "queued tasks");
        var handedBack = new ArrayList<Runnable>();
        for (String ending : List.of("shutdown()", "shutdownNow()", "close()")) {
            Row row = scene(ending, pause);
            var held = row.running();
            String ran = held.state() != Future.State.FAILED ? held.state().toString()
                    : "FAILED: " + held.exceptionNow().getClass().getSimpleName();
            System.out.printf(format, ending, row.waited() ? "waited" : "returned", ran,
                    row.queued().stream().map(Future::state).toList());
            handedBack.addAll(row.handedBack());
        }
        handedBack.forEach(task -> ((Future<?>) task).cancel(false));
        System.out.println("cancel(false) on the 3 tasks it handed back: " + handedBack
                .stream().map(task -> ((Future<?>) task).state()).toList());
    }
}

// %% [run]
// PoolEndings.table(1);

// %% [markdown]
// `shutdown()` and `shutdownNow()` returned at once; `close()` waited. After `shutdown()`
// and `close()` every task ran. `shutdownNow()` interrupted the running task (its
// `await` threw `InterruptedException`, which its `Future` holds), and handed the queued
// tasks back unrun. Every ending refuses new tasks (`RejectedExecutionException`).
//
// The surprise is `RUNNING` for tasks that never started, in a pool that has
// terminated. `Future.State.RUNNING` means "the task has not completed", and
// `FutureTask.state()` returns it for a task still waiting in a queue too. These three
// never will complete: a `get()` without a time limit would wait for ever. Each is the
// very `FutureTask` that `submit()` returned, so `cancel(false)` completes it.
//
// ## Ending a pool within a time limit
//
// `close()` waits as long as the tasks run. To end a pool within a bound, the recipe in
// `ExecutorService`'s documentation has two phases: `shutdown()` and wait; then
// `shutdownNow()` and wait again (its version also handles an interrupt of the waiting
// thread). `shutdownNow()` can only *ask* a task to stop, by interrupting its worker.
// Two tasks that run until stopped test the recipe: one keeps the request, one swallows
// it. Each also stops once `cancelled` is set, the last resort.

// %%
class BoundedShutdown {
    /** ExecutorService's recipe: ask and wait; insist and wait; then report. */
    static String shutdownAndAwait(ExecutorService pool, long ms)
            throws InterruptedException {
        pool.shutdown();  // no new tasks; the queued ones still run
        if (pool.awaitTermination(ms, MILLISECONDS)) return "ended by shutdown()";
        pool.shutdownNow();  // interrupts the running tasks, hands back the queued ones
        if (pool.awaitTermination(ms, MILLISECONDS)) return "ended by shutdownNow()";
        return "still running after both";
    }

    /** Works in slices until `cancelled`; on an interrupt, `keepsRequest` or not. */
    static Runnable longTask(boolean keepsRequest, CountDownLatch started,
            CountDownLatch interrupted, AtomicBoolean cancelled) {
        return () -> {
            started.countDown();
            while (!cancelled.get()) {
                try {
                    Thread.sleep(10);  // a slice of work
                } catch (InterruptedException e) {  // throwing it cleared the flag
                    interrupted.countDown();
                    if (keepsRequest) {
                        Thread.currentThread().interrupt();  // keep the request,
                        return;                              // and honour it
                    }  // else the request is lost here, and the loop goes on
                }
            }
        };
    }

    static void compare(double speed) throws InterruptedException {
        long pause = Math.round(300 / speed);
        System.out.printf("shutdownAndAwait(pool, %d ms) on a task that runs until "
                + "stopped:%n", pause);
        for (boolean keeps : List.of(true, false)) {
            var started = new CountDownLatch(1);
            var cancelled = new AtomicBoolean();
            var pool = Executors.newFixedThreadPool(1);
            try {
                pool.execute(longTask(keeps, started, new CountDownLatch(1), cancelled));
                Lifecycle.await(started, 10_000);
                String outcome = shutdownAndAwait(pool, pause);
                System.out.printf("  a task that %-20s %s%n",
                        keeps ? "keeps the interrupt:" : "swallows it:", outcome);
            } finally {
                cancelled.set(true);  // the last resort: else close() waits for ever
                pool.close();
            }
        }
        System.out.println("then each task's cancel flag was set: both pools terminated");
    }
}

// %% [run]
// BoundedShutdown.compare(1);

// %% [markdown]
// Neither task ends in phase 1: `shutdown()` does not touch a running task. In phase 2
// the one that keeps the request ends. The one that swallows it caught the interrupt
// too, and went on: in a forgotten pool, it would keep the JVM running. Let
// `InterruptedException` propagate (a `Callable` may throw it), or restore the flag.
//
// ## Pitfalls
//
// - **`awaitTermination()` without `shutdown()`** waits its full time, then says `false`.
// - **A fixed pool per call** leaks a parked worker per call; the garbage collector
//   cannot help: a live thread is a root, and each worker refers to its pool.
// - **Futures that never complete**: those `shutdownNow()` hands back, and those an
//   interrupted `close()` drops (it calls `shutdownNow()` and ignores what it returns).
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | `with ThreadPoolExecutor(max_workers=2) as ex:` | `try (var pool = Executors.newFixedThreadPool(2)) { … }` |
// | `ex.shutdown(wait=True)`; `wait=False` | `close()`, or `shutdown()` then `awaitTermination(t, unit)`; `shutdown()` |
// | `ex.shutdown(cancel_futures=True)` | `shutdownNow()`, `cancel(false)` on each task it hands back, then `awaitTermination`; but it also interrupts the running tasks |
// | a forgotten executor: at exit, its workers run the queued tasks and are joined | a forgotten fixed pool: the JVM never exits |
//
// ## Try it
//
// - In `ForgottenPool.PROGRAM`, give the fixed pool daemon workers:
//   `Executors.newFixedThreadPool(2, Thread.ofPlatform().daemon().factory())`. Run
//   `jbang executor_lifecycle leak`: the forgotten pool's JVM now exits too.
// - In `longTask`, delete the `return` after `interrupt()` and run `jbang
//   executor_lifecycle stop`: a task that keeps the flag but carries on survives too.
//
// ## Summary
//
// A pool's workers outlive its tasks, and a forgotten fixed pool keeps the JVM running
// for ever: end every pool you create.
//
// Use try-with-resources (`close()`) for a pool whose life is one block; for a
// long-lived one, `shutdown()`, `awaitTermination()` with a limit, then `shutdownNow()`,
// whose interrupts your tasks must honour, and cancel the tasks it hands back.

// %% [main]
class executor_lifecycle {  // the entry point: `jbang executor_lifecycle --help`
    static final Section[] SECTIONS = {
            new Section("leak", "a forgotten pool keeps its JVM alive", LeakWatch::demo),
            new Section("endings", "shutdown, shutdownNow, close", PoolEndings::table),
            new Section("stop", "end a pool within a limit", BoundedShutdown::compare)};
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
