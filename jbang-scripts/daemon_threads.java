///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Daemon threads: background work the JVM will not wait for
//
// A Java program does not end when `main` returns. It ends when its last *non-daemon*
// thread ends, and every thread you make from `main` is non-daemon unless you say
// otherwise. So a background helper that loops forever (a heartbeat, a cache
// refresher, a metrics flusher) keeps the whole process alive after the real work is
// done: the program looks finished and never exits. Marking the helper a *daemon*
// tells the JVM not to wait for it. The price is that the JVM does not stop it
// politely either: at exit a daemon thread simply ceases to exist, mid-step, and its
// `finally` blocks never run. This lesson watches real JVMs exit (child processes),
// measures when they do, and covers daemon inheritance, virtual threads (always
// daemons) and shutdown hooks, which run on a normal exit and on SIGTERM but not on
// SIGKILL.
//
// Run it: `jbang daemon_threads` from the repository root,
// `jbang jbang-scripts/daemon_threads.java`, or with a bare JDK 25,
// `java jbang-scripts/daemon_threads.java`. Try `--help`.

// %%
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

// %% [markdown]
// ## Watching a JVM exit from the outside
//
// Whether a JVM exits is something only another process can watch, so every demo
// below starts a small *child* JVM and times it. The child program is the text block
// `CHILD`: its `main` starts one worker thread, registers a shutdown hook, waits until
// the worker has started, prints `main: returns`, and returns. Three arguments vary:
//
// - the worker's kind: `daemon`, `platform` (non-daemon, the default) or `virtual`;
// - its work: a job of `W` milliseconds, or `-1` for a loop that never ends;
// - its shutdown hook: `report` (print whether the worker is still alive) or `stop`
//   (also interrupt the worker and wait for it, with a limit).
//
// The parent writes the program to a temporary file and runs it in the JDK's
// source-file mode (`java Child.java ...`: no build step, and JShell's classes would
// be invisible to another JVM anyway). A reader thread timestamps the moment
// `main: returns` arrives; `Process.onExit()` timestamps the exit. The difference,
// *main returned → JVM exited*, is the number that matters here, and it is reported as
// a multiple of `W` so it means the same on a fast or a slow machine. Starting a child
// costs a fraction of a second (the source launcher compiles it first), which is why
// the lesson runs only six of them. Every wait has a limit, and a child still running
// when its `Child` handle closes is killed.

// %%
final class JvmExitWatch {
    static final String MAIN_RETURNS = "main: returns";
    static final Duration STARTUP_LIMIT = Duration.ofSeconds(60);  // a loaded machine
    static final Duration EXIT_LIMIT = Duration.ofSeconds(30);

    static final String CHILD = """
        import java.time.Duration;
        import java.util.concurrent.CountDownLatch;

        class Child {
            public static void main(String[] args) throws InterruptedException {
                String kind = args[0];                      // daemon, platform, virtual
                long workMillis = Long.parseLong(args[1]);  // -1: never ends
                boolean hookStopsWorker = args[2].equals("stop");
                var started = new CountDownLatch(1);
                Runnable job = () -> {
                    try {
                        System.out.println("worker: started");
                        started.countDown();
                        while (workMillis < 0) Thread.sleep(60_000);  // forever
                        Thread.sleep(workMillis);
                        System.out.println("worker: finished");
                    } catch (InterruptedException e) {
                        System.out.println("worker: interrupted");
                    } finally {
                        System.out.println("worker: finally ran");
                    }
                };
                Thread worker = switch (kind) {
                    case "daemon" -> Thread.ofPlatform().daemon(true).unstarted(job);
                    case "platform" -> Thread.ofPlatform().daemon(false).unstarted(job);
                    case "virtual" -> Thread.ofVirtual().unstarted(job);
                    default -> throw new IllegalArgumentException(kind);
                };
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    System.out.println("hook: runs, worker alive: " + worker.isAlive());
                    if (hookStopsWorker && worker.isAlive()) {
                        worker.interrupt();
                        try {
                            worker.join(Duration.ofSeconds(10));  // never hang exit
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        System.out.println("hook: worker stopped: " + !worker.isAlive());
                    }
                }, "shutdown-hook"));
                worker.start();
                started.await();
                System.out.println("main: returns");
            }
        }
        """;

    /** What one child JVM printed, and how it ended. */
    record Outcome(String label, List<String> lines, boolean exitedByItself,
                   long afterMainNanos, String killedWith, int exitCode) {
        boolean printed(String line) { return lines.contains(line); }

        double afterMainInW(long workMillis) {
            return afterMainNanos / (workMillis * 1e6);
        }
    }

    /** One running child JVM; close() kills it if it is still alive. */
    static final class Child implements AutoCloseable {
        final String label;
        private final Path dir;
        private final Process process;
        private final Thread reader;
        private final List<String> lines = new CopyOnWriteArrayList<>();
        private final CountDownLatch mainReturned = new CountDownLatch(1);
        private final CompletableFuture<Long> exitedAt;
        private volatile long mainReturnedAt;
        private String killedWith = "";

        private Child(String label, String... args) throws IOException {
            this.label = label;
            dir = Files.createTempDirectory("daemon_threads");
            Path source = Files.writeString(dir.resolve("Child.java"), CHILD);
            var command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1",  // a short-lived JVM starts faster on C1
                    source.toString()));
            command.addAll(List.of(args));
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
            exitedAt = process.onExit().thenApply(p -> System.nanoTime());
            reader = Thread.ofPlatform().name("child-stdout").start(this::readLines);
        }

        /** Starts {@code java Child.java kind workMillis hook}. */
        static Child start(String label, String kind, long workMillis, String hook)
                throws IOException {
            return new Child(label, kind, Long.toString(workMillis), hook);
        }

        private void readLines() {
            try (var in = new BufferedReader(new InputStreamReader(
                    process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.equals(MAIN_RETURNS)) {
                        mainReturnedAt = System.nanoTime();
                        mainReturned.countDown();
                    }
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(reading the child's output failed: " + e + ")");
            }
        }

        /** Waits until the child's main has returned, or throws. */
        void awaitMainReturned() throws InterruptedException {
            if (!mainReturned.await(STARTUP_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException(label + ": main never returned within "
                        + STARTUP_LIMIT.toSeconds() + " s; it printed " + lines);
            }
        }

        /** Whether the child exited by itself within {@code limit}. */
        boolean awaitExit(Duration limit) throws InterruptedException {
            return process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
        }

        boolean isAlive() { return process.isAlive(); }

        /**
         * destroy() sends SIGTERM on Linux and macOS, destroyForcibly() SIGKILL. Asked
         * through the ProcessHandle: Process.destroy() would also close our end of the
         * pipe, and the lines the child prints while it shuts down would be lost.
         */
        void kill(boolean forcibly) {
            killedWith = forcibly ? "SIGKILL" : "SIGTERM";
            if (forcibly) process.toHandle().destroyForcibly();
            else process.toHandle().destroy();
        }

        /** Waits for the exit and for the last line of output, then reports. */
        Outcome finish() throws InterruptedException {
            if (!awaitExit(EXIT_LIMIT)) {
                throw new IllegalStateException(label + ": still running after "
                        + EXIT_LIMIT.toSeconds() + " s; it printed " + lines);
            }
            if (!reader.join(EXIT_LIMIT)) {
                throw new IllegalStateException(label + ": output never ended");
            }
            long exited;
            try {
                exited = exitedAt.get(EXIT_LIMIT.toSeconds(), TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException(label + ": exit time unknown", e);
            }
            return new Outcome(label, List.copyOf(lines), killedWith.isEmpty(),
                    exited - mainReturnedAt, killedWith, process.exitValue());
        }

        @Override
        public void close() throws IOException, InterruptedException {
            try {
                if (process.isAlive()) {
                    process.toHandle().destroyForcibly();
                    process.waitFor(EXIT_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
                }
                reader.join(EXIT_LIMIT);
            } finally {
                try (var files = Files.list(dir)) {
                    for (Path p : files.toList()) Files.deleteIfExists(p);
                }
                Files.deleteIfExists(dir);
            }
        }
    }

    /** Prints a child's output, indented, behind its label. */
    static void printLines(Outcome o) {
        System.out.println("  " + o.label() + ":");
        for (String line : o.lines()) System.out.println("    | " + line);
    }

    static String yesNo(boolean b) { return b ? "yes" : "no"; }
}

// %% [markdown]
// ## The naive version: a heartbeat on an ordinary thread
//
// The child's `main` starts a worker whose loop never ends, the way a heartbeat or a
// poller does, on a thread made the ordinary way, and returns. The parent waits
// `2 × W` after `main` has returned, for a child that should have exited at once, and
// then gives up and kills it with `destroyForcibly()`.

// %%
final class ForgottenHeartbeat {
    static JvmExitWatch.Outcome demo(long workMillis) throws Exception {
        var grace = Duration.ofMillis(2 * workMillis);
        try (var child = JvmExitWatch.Child.start(
                "non-daemon worker that never ends", "platform", -1, "report")) {
            child.awaitMainReturned();
            boolean exited = child.awaitExit(grace);
            if (!exited) child.kill(true);
            var o = child.finish();
            JvmExitWatch.printLines(o);
            System.out.printf("  W = %d ms; exited within 2 x W of main's return: %s%n",
                    workMillis, JvmExitWatch.yesNo(exited));
            if (!exited) {
                System.out.println("  still alive 2 x W after main returned: killed with "
                        + o.killedWith() + ", exit code " + o.exitCode());
            }
            return o;
        }
    }
}

// %% [run]
// var naive = ForgottenHeartbeat.demo(500);

// %% [markdown]
// `main` printed `main: returns` and returned, yet the JVM was still there when the
// parent ran out of patience: the output above says so. Nothing is wrong with the
// heartbeat itself. The JVM is doing exactly what it promises: it exits when the last
// non-daemon thread ends, and this one never will. In a real program this is the
// command-line tool that prints its result and then hangs, or the test run that
// never finishes. Note also which line is missing: the shutdown hook never ran,
// because SIGKILL gives a process no chance to run anything (more on that below).
//
// @diagram daemon_threads-jvm-exit

// %% [markdown]
// ## Fix 1: make the background thread a daemon
//
// One flag, set before `start()`: `Thread.ofPlatform().daemon().start(r)`, or
// `t.setDaemon(true)` on a classic `Thread`. Below, a daemon heartbeat that never
// ends is measured next to an ordinary non-daemon worker whose job takes `W`: two
// children, run one after the other, each timed from its `main`'s return to its exit.

// %%
final class DaemonSideBySide {
    static List<JvmExitWatch.Outcome> demo(long workMillis) throws Exception {
        var outcomes = List.of(  // one after the other, so neither slows the other down
                run("daemon worker that never ends", "daemon", -1),
                run("non-daemon worker with W of work", "platform", workMillis));
        outcomes.forEach(JvmExitWatch::printLines);
        System.out.printf("  W = %d ms%n", workMillis);
        System.out.printf("  %-34s %14s %9s %8s %12s%n", "worker",
                "main -> exit", "finished", "finally", "hook ran");
        for (var o : outcomes) {
            System.out.printf("  %-34s %10.2f x W %9s %8s %12s%n", o.label(),
                    o.afterMainInW(workMillis),
                    JvmExitWatch.yesNo(o.printed("worker: finished")),
                    JvmExitWatch.yesNo(o.printed("worker: finally ran")),
                    JvmExitWatch.yesNo(o.lines().stream()
                            .anyMatch(l -> l.startsWith("hook: runs"))));
        }
        return outcomes;
    }

    private static JvmExitWatch.Outcome run(String label, String kind, long workMillis)
            throws Exception {
        try (var child = JvmExitWatch.Child.start(label, kind, workMillis, "report")) {
            child.awaitMainReturned();
            return child.finish();
        }
    }
}

// %% [run]
// var sideBySide = DaemonSideBySide.demo(500);

// %% [markdown]
// In the table above, the daemon child exited soon after `main` returned, although
// its worker was still busy: the JVM did not wait for it. The non-daemon child exited
// only once its worker's job was done, so its time is `W` plus the JVM's own shutdown.
// That is the fix and its cost in one picture:
//
// - **The daemon was abandoned, not stopped.** It never printed `worker: finished`,
//   and its `finally` block did *not* run. No exception, no interrupt: at exit the JVM
//   halts and daemon threads vanish wherever they are. A `finally` that closes a
//   file, a `try`-with-resources that flushes a buffer, a rollback of a half-done
//   transaction: none of it happens.
// - **The shutdown hook saw it alive.** Hooks run while daemon threads are still
//   running (`worker alive: true` in the daemon's output); only after the hooks does
//   the JVM halt. A hook is therefore the one place that can still stop a daemon
//   cleanly (Fix 2).
// - **Use a daemon only for work you can lose**: heartbeats, cache refreshes,
//   watchers, anything that is either idempotent or pointless once the program is
//   ending. Work that must finish belongs on a non-daemon thread, or on any thread
//   you `join` before `main` returns.

// %% [markdown]
// ## Who is a daemon? Inheritance, factories, pools
//
// A new thread copies the daemon flag of the thread that *creates* it, unless told
// otherwise. That is why threads made from `main` are non-daemon, and why a thread
// made by a daemon thread is a daemon too, a surprise when a background task spawns
// a helper that must finish. Thread pools decide for themselves: `Executors`' default
// thread factory always makes non-daemon threads, whoever calls it, while the common
// `ForkJoinPool` (behind `parallelStream()` and `CompletableFuture.runAsync`) uses
// daemon threads. The table below asks each one; nothing in it is started except the
// one daemon thread, the common-pool task and the thread that is still running when
// `setDaemon` is called on it, and all three are waited for.

// %%
final class DaemonFacts {
    record Row(String thread, String daemon) { }

    static List<Row> rows() throws Exception {
        Runnable idle = () -> { };
        var rows = new ArrayList<Row>();
        Thread me = Thread.currentThread();
        rows.add(row("the current thread ('" + me.getName() + "')", me.isDaemon()));
        rows.add(row("new Thread(r), made by it", new Thread(idle).isDaemon()));
        rows.add(row("Thread.ofPlatform().unstarted(r), made by it",
                Thread.ofPlatform().unstarted(idle).isDaemon()));
        rows.add(row("Thread.ofPlatform().daemon().unstarted(r)",
                Thread.ofPlatform().daemon().unstarted(idle).isDaemon()));
        var madeByDaemon = new boolean[1];
        Thread daemon = Thread.ofPlatform().daemon().name("a-daemon").start(
                () -> madeByDaemon[0] = new Thread(idle).isDaemon());
        if (!daemon.join(JvmExitWatch.EXIT_LIMIT)) {
            throw new IllegalStateException("a-daemon never ended");
        }
        rows.add(row("new Thread(r), made by a daemon thread", madeByDaemon[0]));
        rows.add(row("Executors.defaultThreadFactory() thread",
                Executors.defaultThreadFactory().newThread(idle).isDaemon()));
        boolean commonPool = ForkJoinPool.commonPool()
                .submit(() -> Thread.currentThread().isDaemon())
                .get(JvmExitWatch.EXIT_LIMIT.toSeconds(), TimeUnit.SECONDS);
        rows.add(row("a common ForkJoinPool worker", commonPool));
        rows.add(new Row("setDaemon(true) after start()", setDaemonAfterStart()));
        return rows;
    }

    /** What setDaemon says to a thread that is already running. */
    static String setDaemonAfterStart() throws InterruptedException {
        var release = new CountDownLatch(1);
        Thread running = Thread.ofPlatform().name("already-running").start(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            running.setDaemon(true);
            return "accepted";
        } catch (IllegalThreadStateException e) {
            return "throws " + e.getClass().getSimpleName();
        } finally {
            release.countDown();
            if (!running.join(JvmExitWatch.EXIT_LIMIT)) {
                throw new IllegalStateException("already-running never ended");
            }
        }
    }

    static void show() throws Exception {
        for (Row r : rows()) System.out.printf("  %-46s %s%n", r.thread(), r.daemon());
    }

    private static Row row(String thread, boolean daemon) {
        return new Row(thread, daemon ? "daemon" : "non-daemon");
    }
}

// %% [run]
// DaemonFacts.show();

// %% [markdown]
// Two consequences. A pool you create with `Executors.newFixedThreadPool(n)` and
// forget to close keeps the JVM alive exactly like the naive heartbeat, idle threads
// and all: the `executor_lifecycle` lesson shows it and its fixes. If a pool's threads
// really should be daemons, give it a factory:
// `Executors.newFixedThreadPool(n, Thread.ofPlatform().daemon().factory())`. And the
// reverse trap: work handed to `CompletableFuture.runAsync` runs on daemon threads, so
// if `main` returns without `join()`ing the future, the work may simply never happen.
// Finally, the flag is fixed at `start()`: changing it on a running thread throws.

// %% [markdown]
// ## Virtual threads are always daemons
//
// A virtual thread cannot be anything else: `isDaemon()` is always true, and
// `setDaemon(false)` throws. So a `main` that only starts virtual threads and returns
// ends the program at once, whatever they were doing. The cell below checks both
// facts in this JVM, then runs a child whose only worker is a virtual thread that
// never ends.

// %%
final class VirtualDaemons {
    static JvmExitWatch.Outcome demo(long workMillis) throws Exception {
        var isDaemon = new boolean[1];
        Thread v = Thread.ofVirtual().name("virtual").start(
                () -> isDaemon[0] = Thread.currentThread().isDaemon());
        if (!v.join(JvmExitWatch.EXIT_LIMIT)) {
            throw new IllegalStateException("virtual thread never ended");
        }
        System.out.println("  a virtual thread's isDaemon(): " + isDaemon[0]);
        try {
            Thread.ofVirtual().unstarted(() -> { }).setDaemon(false);
            System.out.println("  setDaemon(false) on a virtual thread: accepted");
        } catch (IllegalArgumentException e) {
            System.out.println("  setDaemon(false) on a virtual thread: throws "
                    + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        try (var child = JvmExitWatch.Child.start(
                "virtual worker that never ends", "virtual", -1, "report")) {
            child.awaitMainReturned();
            var o = child.finish();
            JvmExitWatch.printLines(o);
            System.out.printf("  W = %d ms; main -> exit: %.2f x W; "
                    + "worker finished: %s%n", workMillis, o.afterMainInW(workMillis),
                    JvmExitWatch.yesNo(o.printed("worker: finished")));
            return o;
        }
    }
}

// %% [run]
// var virtualChild = VirtualDaemons.demo(500);

// %% [markdown]
// Like the daemon child, this one exited soon after `main` returned, its virtual
// worker cut off: no `worker: finished`, no `finally`. If virtual threads do work
// that matters, `join` them, or run them in an executor you close
// (`Executors.newVirtualThreadPerTaskExecutor()` in a try-with-resources waits for
// every task): see the `virtual_threads` lesson.

// %% [markdown]
// ## Fix 2: a shutdown hook that stops the worker
//
// `Runtime.getRuntime().addShutdownHook(thread)` registers an unstarted thread that
// the JVM starts when it begins to shut down. That happens when the last non-daemon
// thread ends (seen above: the hook ran in both children), on `System.exit`, and when
// the process receives SIGTERM (what `kill <pid>`, `docker stop`, a Kubernetes pod
// shutdown and `Process.destroy()` on Linux send) or Ctrl-C (SIGINT). It does not
// happen on SIGKILL (`kill -9`, `destroyForcibly()`, the kernel's out-of-memory
// killer) or `Runtime.halt`: the process is gone before any Java code can run.
//
// On a signal the JVM does not wait for non-daemon threads either: it runs the hooks
// and halts. So a hook is where a long-running worker gets its chance to stop
// cleanly. The children below use the hook mode `stop`: the hook interrupts the
// worker and joins it, with a limit so a stuck worker cannot hang the exit. Both run
// the never-ending non-daemon worker from the naive version; once `main` has
// returned, one gets SIGTERM, the other SIGKILL. The parent sends them through
// `process.toHandle()`: `Process.destroy()` sends the same signal but also closes the
// parent's end of the child's output pipe, and the lines the hook prints would be lost.
//
// @diagram daemon_threads-shutdown-hook

// %%
final class ShutdownHookDemo {
    static List<JvmExitWatch.Outcome> signals() throws Exception {
        List<JvmExitWatch.Outcome> outcomes;
        try (var term = JvmExitWatch.Child.start(
                     "destroy() (SIGTERM)", "platform", -1, "stop");
             var kill = JvmExitWatch.Child.start(
                     "destroyForcibly() (SIGKILL)", "platform", -1, "stop")) {
            term.awaitMainReturned();
            kill.awaitMainReturned();
            term.kill(false);
            kill.kill(true);
            outcomes = List.of(term.finish(), kill.finish());
        }
        outcomes.forEach(JvmExitWatch::printLines);
        System.out.printf("  %-30s %9s %15s %10s%n",
                "signal", "hook ran", "worker finally", "exit code");
        for (var o : outcomes) {
            System.out.printf("  %-30s %9s %15s %10d%n", o.label(),
                    JvmExitWatch.yesNo(o.lines().stream()
                            .anyMatch(l -> l.startsWith("hook: runs"))),
                    JvmExitWatch.yesNo(o.printed("worker: finally ran")), o.exitCode());
        }
        return outcomes;
    }
}

// %% [run]
// var hooked = ShutdownHookDemo.signals();

// %% [markdown]
// After SIGTERM the hook ran, interrupted the worker, the worker's `finally` ran, and
// the JVM exited with 143 (128 + 15, the signal's number). After SIGKILL the output
// ends at `main: returns` and the exit code is 137 (128 + 9): no hook, no `finally`,
// nothing. Design for both. A hook makes the polite shutdown clean; only durable
// state (a database commit, an atomic file rename) survives the impolite one.
//
// ## Which one to use
//
// | the background thread | make it | and at exit |
// |---|---|---|
// | loses nothing if cut off (heartbeat, cache refresh, watcher) | a daemon: `Thread.ofPlatform().daemon()` | nothing to do |
// | must finish its current job | non-daemon, or any thread you `join` | `main` waits, with a time limit |
// | loops until told to stop, and must clean up | daemon or not, plus a stop signal | a shutdown hook that interrupts and joins it (bounded) |
// | runs tasks in a pool | an executor you `close()` (`executor_lifecycle`) | `close()` waits for the tasks |
// | is a pool of background helpers | `Executors.newFixedThreadPool(n, Thread.ofPlatform().daemon().factory())` | nothing; tasks may be cut off |
// | is a virtual thread | always a daemon | `join` it, or close its executor |
//
// ## Pitfalls
//
// - **Daemon threads are abandoned, not stopped.** No interrupt, no exception, no
//   `finally`, no closing of resources. Never give a daemon work whose half-done
//   state is harmful, such as writing a file in place.
// - **The daemon flag is inherited** from the creating thread. Helpers spawned by a
//   daemon are daemons; threads spawned by `main` are not. Set it explicitly when it
//   matters.
// - **Set it before `start()`.** `setDaemon` on a running thread throws
//   `IllegalThreadStateException`; on a virtual thread, `setDaemon(false)` throws
//   `IllegalArgumentException`.
// - **A forgotten executor keeps the JVM alive.** `Executors`' default factory makes
//   non-daemon threads, and an idle pool thread waits for tasks forever. Close the
//   executor (`executor_lifecycle`).
// - **The common pool is daemon.** `CompletableFuture.runAsync(work)` with nobody
//   joining the future may never finish the work before the JVM exits.
// - **`System.exit` does not wait for non-daemon threads.** It runs the hooks and
//   halts, just as SIGTERM does. Calling `System.exit` *inside* a hook blocks that
//   hook forever, and with it the whole shutdown.
// - **Hooks must be quick and bounded.** They all start at once in no set order; the
//   JVM waits for every one of them. Join with a timeout, as the child's hook does.
//   Adding a hook once shutdown has begun throws `IllegalStateException`.
// - **SIGKILL runs nothing.** Neither hooks nor `finally`. Neither does
//   `Runtime.halt`, nor a crash of the JVM itself.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `threading.Thread(target=f, daemon=True)` | `Thread.ofPlatform().daemon().start(f)` |
// | `t.daemon = True` before `t.start()` | `t.setDaemon(true)` before `t.start()` |
// | `t.daemon` | `t.isDaemon()` |
// | the flag is inherited from the creating thread | the same |
// | at exit, wait for non-daemon threads, drop daemon ones | the same |
// | `atexit.register(f)` | `Runtime.getRuntime().addShutdownHook(new Thread(f))` |
// | SIGTERM ends the process without running `atexit` unless you install a handler | SIGTERM runs the shutdown hooks |
// | `ThreadPoolExecutor` workers are joined at exit | a forgotten executor's idle threads keep the JVM alive |
// | (no equivalent) | virtual threads: always daemons |
//
// The seed's advice carries over directly: a background task that should end with the
// program belongs on a daemon thread. Python's documentation gives the same warning
// as this lesson's measurement: daemon threads are stopped abruptly at shutdown, and
// their resources may not be released properly.
//
// Related lessons: `threads` (start, join and interrupt), `executor_lifecycle` (a pool
// that keeps the JVM alive, and closing it), `virtual_threads` (joining many of them),
// `thread_pool` (executors), `thread_exceptions` (what happens when a worker throws),
// `event` (telling a loop to stop).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line;
// a bad option prints one line and exits with status 2.

// %%
class daemon_threads {
    static final String USAGE = """
            Usage: daemon_threads [options]
              --work MS   W: how long the non-daemon worker works (default 500)
              --speed X   divides W: 2 = twice as fast (default 1); W stays >= 100 ms
              --help      print this and exit""";

    record Options(int workMillis, double speed) {
        static final long MIN_WORK_MILLIS = 100;  // below this, JVM exit time blurs W

        long scaledWork() {
            return Math.max(MIN_WORK_MILLIS, Math.round(workMillis / speed));
        }
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("daemon_threads: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        long w = o.scaledWork();
        System.out.println("== The naive version: a heartbeat on an ordinary thread ==");
        ForgottenHeartbeat.demo(w);
        System.out.println("\n== Fix 1: make the background thread a daemon ==");
        DaemonSideBySide.demo(w);
        System.out.println("\n== Who is a daemon? ==");
        DaemonFacts.show();
        System.out.println("\n== Virtual threads are always daemons ==");
        VirtualDaemons.demo(w);
        System.out.println("\n== Fix 2: a shutdown hook that stops the worker ==");
        ShutdownHookDemo.signals();
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
                count("--work", given.getOrDefault("--work", "500")),
                factor("--speed", given.getOrDefault("--speed", "1")));
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
