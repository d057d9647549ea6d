///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Executor lifecycle: end every pool, or it never ends
//
// An idle worker of a fixed thread pool waits for the next task, for ever. Forget to end
// the pool and, after `main` returns, the JVM waits for that worker: no error, no output,
// a program that never ends. Here: which pools do that, and how each ending treats tasks.
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
// To watch a JVM fail to exit we need a second one. The program below (a compact source
// file: a `void main` with no class around it, JDK 25) submits a task, prints the
// thread that ran it, then: `close` closes its fixed pool, `fixed` forgets it,
// `forkjoin` forgets a `newWorkStealingPool` (a `ForkJoinPool`). `ForgottenPool.start`
// runs it in a JVM of its own (`java Child.java fixed`), collecting what it prints.
//
// A child's exit can be awaited (`Process.waitFor`), a line it prints only polled for:
// `LeakWatch.until` polls, and says every 10 s that it still waits. The demo waits until
// the `fixed` child has printed `main returns`, then starts the other two and waits until
// both have exited: the `fixed` JVM had that long to exit, so it is not merely slow. We
// watch it for three more pauses (500 ms each, divided by `--speed`), then end it.
//
// @diagram executor_lifecycle-leak

// %%
class ForgottenPool {
    static final String PROGRAM = """
            // java Child.java close|fixed|forkjoin
            void main(String[] args) throws Exception {
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
            """;

    static ChildJvm start(String arg) throws IOException {  // java Child.java arg
        return ChildJvm.start(PROGRAM, List.of(), arg);
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

// %%
class LeakWatch {
    static void demo(double speed) throws Exception {
        long pause = Math.round(500 / speed), limit = 120_000 + 10 * pause;
        try (var fixed = ForgottenPool.start("fixed")) {
            until("main to return", limit, () -> !fixed.reader().isAlive()  // ended
                    || fixed.output().contains("main returns"));
            try (var closed = ForgottenPool.start("close");
                 var forkJoin = ForgottenPool.start("forkjoin")) {
                until("two JVMs to exit", limit,  // a reader ends when its JVM does
                        () -> !closed.reader().isAlive() && !forkJoin.reader().isAlive());
                show("newFixedThreadPool(2), then close():", closed, limit);
                show("newWorkStealingPool(2), forgotten:", forkJoin, limit);
            }
            if (!show("newFixedThreadPool(2), forgotten; its main returned first:",
                    fixed, 0)) {  // still running: we watch it three pauses more
                for (int step = 1; step <= 3 && !fixed.exitsWithin(pause); step++) {
                    System.out.printf("  still running %,d ms after the others exited%n",
                            step * pause);
                }
                System.out.println(fixed.process().isAlive()
                        ? "  -> we end it: destroyForcibly()" : "  -> the JVM exited");
            }
        }  // ChildJvm.close() kills a child that is still running
    }

    /** Polls `done` until it holds, at most `limit` ms; says so every 10 s it takes. */
    static void until(String what, long limit, Callable<Boolean> done) throws Exception {
        long start = System.nanoTime(), said = 0;
        while (!done.call()) {
            long ms = (System.nanoTime() - start) / 1_000_000;
            if (ms > limit) throw new IllegalStateException("no " + what + " in time");
            if (ms / 10_000 > said) System.out.printf("  (waiting for %s: %d s)%n", what,
                    10 * (said = ms / 10_000));
            Thread.sleep(50);  // polling output, not synchronising by sleeping
        }
    }

    static boolean show(String title, ForgottenPool.ChildJvm child, long limit)
            throws InterruptedException {
        boolean exited = child.exitsWithin(limit);  // then all it printed has been read
        System.out.println(title);
        child.output().forEach(line -> System.out.println("  " + line));
        System.out.println(exited ? "  -> the JVM exited" : "  -> the JVM still runs");
        return exited;
    }
}

// %% [run]
// LeakWatch.demo(1);

// %% [markdown]
// A JVM exits once its last non-daemon thread has ended (`daemon_threads`). `close()`
// ended one fixed pool's worker; a `ForkJoinPool`'s workers are daemon threads. The
// forgotten fixed pool's worker, `pool-1-thread-1`, is no daemon: parked in its queue's
// `take()`, it waits for a task nobody will submit, and its JVM waits for it. How long a
// forgotten pool that has started workers holds its JVM depends on the pool (JDK source):
//
// | forgotten pool | its idle workers | the JVM exits |
// |---|---|---|
// | `newFixedThreadPool`, `newScheduledThreadPool`, `newSingleThreadScheduledExecutor` | wait for ever: core threads never time out | never |
// | `newSingleThreadExecutor` | the same, but a `Cleaner` (it runs an action once the GC finds an object unreachable) shuts the pool down once the executor is unreachable | only after a GC, which an idle JVM may never run |
// | `newCachedThreadPool` | end after 60 s without a task | about 60 s after its last task |
// | `newWorkStealingPool` (a `ForkJoinPool`) | are daemon threads | at once, abandoning running tasks |
// | `newVirtualThreadPerTaskExecutor` | none: a new virtual thread per task, and virtual threads are daemons | at once, abandoning running tasks |
//
// ## Ending a pool: `shutdown()`, `shutdownNow()`, `close()`
//
// A `ThreadPoolExecutor` has a run state (not a `Future.State`). `shutdown()` takes it
// from `RUNNING` to `SHUTDOWN`: it refuses new tasks, and the queue still drains.
// `shutdownNow()` takes it to `STOP`: it interrupts the running tasks, empties the queue
// and hands those tasks back. With the last worker gone it is `TERMINATED`. `close()`
// (Java 19+) is `shutdown()`, then `awaitTermination()` until the pool has terminated,
// with no time limit. Each row below: one worker, `worker-1`, whose running task waits on
// a closed gate (a latch), and three tasks queued, all given by `submit()`. A thread,
// `ender`, ends the pool one way and gets a pause (300 ms, divided by `--speed`) to
// return; then we open the gate (not after `shutdownNow()`), wait for the pool to
// terminate and read each task's `Future.state()`.
//
// @diagram executor_lifecycle-states

// %%
class PoolEndings {
    record Row(boolean waited, Future<String> running, List<Future<String>> queued,
            List<Runnable> handedBack) { }

    static Row scene(String ending, long pause) throws Exception {
        long limit = 10_000 + 10 * pause;
        CountDownLatch started = new CountDownLatch(1), gate = new CountDownLatch(1);
        try (var pool = Executors.newFixedThreadPool(1,
                Thread.ofPlatform().name("worker-", 1).factory())) {
            Future<String> running = pool.submit(() -> {
                started.countDown();
                if (!gate.await(limit, MILLISECONDS)) throw new TimeoutException();
                return "ok";
            });
            if (!started.await(limit, MILLISECONDS)) throw new TimeoutException();
            var queued = Stream.generate(() -> pool.submit(() -> "ok")).limit(3).toList();
            var handedBack = new CopyOnWriteArrayList<Runnable>();
            Thread ender = Thread.ofPlatform().name("ender").start(() -> {
                switch (ending) {
                    case "shutdown()" -> pool.shutdown();
                    case "shutdownNow()" -> handedBack.addAll(pool.shutdownNow());
                    default -> pool.close();
                }
            });
            boolean waited = !ender.join(Duration.ofMillis(pause));  // the gate is closed
            if (!ending.equals("shutdownNow()")) gate.countDown();  // the task may finish
            if (!ender.join(Duration.ofMillis(limit))
                    || !pool.awaitTermination(limit, MILLISECONDS)) {
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
// `shutdown()` and `shutdownNow()` returned within the pause, the gate still closed:
// neither waits for tasks; `close()` returned once every task had run. After `shutdown()`
// and `close()` every task ran. `shutdownNow()` interrupted the running task (its `await`
// threw `InterruptedException`, which its `Future` holds) and handed the queued ones back
// unrun. Every ending refuses new tasks (`RejectedExecutionException`). The surprise is
// `Future.State.RUNNING` (not the pool's run state) for tasks that never started, in a
// terminated pool: it means "not completed", and a `FutureTask` says it from `submit()`
// until it completes, queued or running. These three never will: `get()` would wait for
// ever. Each is the `FutureTask` that `submit()` returned: `cancel(false)` completes it.
//
// ## Ending a pool within a time limit
//
// `close()` waits as long as the tasks run. To end a pool within a bound, follow
// `ExecutorService`'s documented recipe: `shutdown()` and wait; then `shutdownNow()` and
// wait again; if interrupted meanwhile, `shutdownNow()` and keep the interrupt.
// `shutdownNow()` can only *ask* a task to stop, by interrupting its worker. Two tasks
// that run until stopped test the recipe: one keeps the request, one swallows it; both
// also stop once `cancelled` is set, the last resort.

// %%
class BoundedShutdown {
    /** ExecutorService's recipe: ask and wait; insist and wait; then report. */
    static String shutdownAndAwait(ExecutorService pool, long ms) {
        pool.shutdown();  // no new tasks; the queued ones still run
        try {
            if (pool.awaitTermination(ms, MILLISECONDS)) return "ended by shutdown()";
            System.out.printf("    still running %d ms after shutdown()%n", ms);
            pool.shutdownNow();  // interrupts running tasks, hands back queued ones
            if (pool.awaitTermination(ms, MILLISECONDS)) return "ended by shutdownNow()";
            return "still running after both";
        } catch (InterruptedException e) {  // our caller asks us to stop waiting:
            pool.shutdownNow();  // insist at once,
            Thread.currentThread().interrupt();  // and keep the request for the caller
            return "interrupted while waiting";
        }
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

    static void compare(double speed) throws Exception {
        long pause = Math.round(300 / speed), limit = 10_000 + 10 * pause;
        System.out.printf("shutdownAndAwait(pool, %d ms) on a looping task:%n", pause);
        for (boolean keeps : List.of(true, false)) {
            var started = new CountDownLatch(1);
            var cancelled = new AtomicBoolean();
            var pool = Executors.newFixedThreadPool(1);
            try {
                pool.execute(longTask(keeps, started, new CountDownLatch(1), cancelled));
                if (!started.await(limit, MILLISECONDS)) throw new TimeoutException();
                System.out.println(keeps ? "  a task that keeps the interrupt:"
                        : "  a task that swallows it:");
                System.out.println("    " + shutdownAndAwait(pool, pause));
            } finally {
                cancelled.set(true);  // the last resort: else close() waits for ever
                pool.close();
            }
        }
    }
}

// %% [run]
// BoundedShutdown.compare(1);

// %% [markdown]
// Neither task ends in phase 1: `shutdown()` does not touch a running task. In phase 2
// the one that keeps the request ends; the one that swallows it caught the interrupt too,
// and goes on: `close()` would wait for it for ever. Let `InterruptedException` propagate
// (a `Callable` may throw it), or restore the flag and return.
//
// ## Pitfalls
//
// - **`awaitTermination()` without `shutdown()`** waits its full time, then says `false`.
// - **A fixed pool per call** leaks a parked worker per call; the garbage collector
//   cannot help: a live thread is a root, and each worker refers to its pool.
// - **Futures that never complete**: those `shutdownNow()` hands back, or that an
//   interrupted `close()` drops (it calls `shutdownNow()`, ignoring what that returns).
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | `with ThreadPoolExecutor(max_workers=2) as ex:` | `try (var pool = Executors.newFixedThreadPool(2)) { … }` |
// | `ex.shutdown(wait=True)` | `close()`, or `shutdown()` then `awaitTermination(t, unit)` |
// | `ex.shutdown(wait=False)` | `shutdown()` |
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
// Close a pool whose life is one block with try-with-resources; end a long-lived one with
// `shutdown()`, a bounded wait, then `shutdownNow()`, whose interrupts tasks must honour.

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
