///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Daemon threads: background work the JVM will not wait for
//
// A Java program does not end when `main` returns but when its last non-daemon thread
// does, so a heartbeat loop on an ordinary thread keeps a finished program running for
// ever. Make it a daemon and the JVM exits without it, cutting it off mid-step.
//
// **You will learn**
// - when a JVM exits: no non-daemon thread left, `System.exit`, or a signal
// - to make a background thread a daemon, and what it loses at exit
// - who is a daemon: creator's flag, thread factories, common pool, virtual threads
// - shutdown hooks: they run on a normal exit and on SIGTERM, never on SIGKILL

// %%
import java.io.*;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.function.*;
import java.util.stream.*;

// %% [markdown]
// ## A heartbeat in a JVM of its own
//
// A JVM's exit shows only from outside, so the lesson runs a small program, `Child` (a
// compact source file: a `void main` with no class around it), in JVMs of its own. Its thread `heartbeat` prints `heartbeat 1`, `heartbeat 2`, ... a beat
// apart, for ever, and says so when interrupted and in its `finally`. `main` registers a
// shutdown hook (thread `hook`) that says whether the heartbeat is alive (and, given
// `stop`, interrupts and joins it), starts the heartbeat, waits for its first beat and
// returns. `ChildJvm` runs `java Child.java args` in a new JVM and collects its output;
// `follow` prints it as it comes, and says `(waiting for the JVM)` after 5 s of silence.

// %%
class Heartbeat {
    static final String CHILD = """
        // java Child.java daemon|non-daemon|virtual BEAT_MILLIS [stop]
        void main(String[] args) throws InterruptedException {
            long beatMillis = Long.parseLong(args[1]);
            var firstBeat = new CountDownLatch(1);
            Runnable beats = () -> {
                try {
                    for (int n = 1; ; n++) {
                        System.out.println("heartbeat " + n);
                        firstBeat.countDown();
                        Thread.sleep(beatMillis);
                    }
                } catch (InterruptedException e) {
                    System.out.println("heartbeat: interrupted");
                } finally {
                    System.out.println("heartbeat: finally");
                }
            };
            Thread heartbeat = switch (args[0]) {
                case "daemon" -> Thread.ofPlatform().daemon().unstarted(beats);
                case "virtual" -> Thread.ofVirtual().unstarted(beats);
                default -> Thread.ofPlatform().unstarted(beats);  // non-daemon
            };
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                System.out.println("hook: heartbeat alive " + heartbeat.isAlive());
                if (args.length > 2) {  // "stop"
                    heartbeat.interrupt();
                    try {
                        heartbeat.join(10_000);  // bounded: never hang the exit
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }, "hook"));
            heartbeat.start();
            firstBeat.await();
            System.out.println("main: returns");
        }
        """;
}

// %%
class JvmWatch {
    static final long START_MILLIS = 60_000;  // starting a JVM, on a loaded machine

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

    /** Prints the child's lines from index `from` on as they arrive, up to the line
     *  `until` (null: to the end of its output); returns the index after the last. */
    static int follow(ChildJvm child, String tag, int from, String until, long millis)
            throws InterruptedException {
        long start = System.nanoTime(), heard = start;
        for (int next = from; ; Thread.sleep(10)) {
            boolean ended = !child.reader().isAlive();  // checked before the last lines
            for (; next < child.output().size(); next++, heard = System.nanoTime()) {
                System.out.printf("  %-10s | %s%n", tag, child.output().get(next));
                if (child.output().get(next).equals(until)) return next + 1;
            }
            if (ended && until == null) return next;
            if (ended || System.nanoTime() - start > millis * 1_000_000) {
                throw new IllegalStateException(tag + ": no '" + until + "' in time");
            } else if (System.nanoTime() - heard > 5_000_000_000L) {  // no long silence
                System.out.printf("  %-10s   (waiting for the JVM)%n", tag);
                heard = System.nanoTime();
            }
        }
    }
}

// %% [markdown]
// ## Daemon or not: who keeps the JVM alive
//
// Two children differ only in the heartbeat's daemon flag. A JVM begins its shutdown
// when its last *non-daemon* thread has ended (`Runtime` javadoc, "Shutdown Sequence").
// In the daemon child that is `main`: the hook runs and sees the heartbeat alive, then
// the JVM terminates and every thread just stops: no exception, no `finally`. In the
// other child no shutdown begins: the parent watches three more beats and kills it.
//
// @diagram daemon_threads-jvm-exit

// %%
class DaemonExit {
    static void demo(long beatMillis) throws Exception {
        try (var daemon = JvmWatch.ChildJvm.start(Heartbeat.CHILD, List.of(), "daemon",
                Long.toString(beatMillis))) {
            finish(daemon, "daemon", 0);
        }
        try (var nonDaemon = JvmWatch.ChildJvm.start(Heartbeat.CHILD, List.of(),
                "non-daemon", Long.toString(beatMillis))) {
            afterMain(nonDaemon, "non-daemon", 3, beatMillis);
            System.out.printf("  %-10s   alive 3 beats after main returned: %s (killed "
                    + "now)%n", "non-daemon", nonDaemon.process().isAlive());
        }  // closing a ChildJvm kills its JVM
    }

    /** Follows the child to `main: returns`, then `beats` more beats; returns the index
     *  after the last line printed. Only beats come before `main: returns`. */
    static int afterMain(JvmWatch.ChildJvm child, String tag, int beats, long beatMillis)
            throws InterruptedException {
        int seen = JvmWatch.follow(child, tag, 0, "main: returns", JvmWatch.START_MILLIS);
        return JvmWatch.follow(child, tag, seen, "heartbeat " + (seen - 1 + beats),
                JvmWatch.START_MILLIS + (beats + 1) * beatMillis);
    }

    /** Follows the child to its end; prints and returns its exit status. */
    static int finish(JvmWatch.ChildJvm child, String tag, int from)
            throws InterruptedException {
        JvmWatch.follow(child, tag, from, null, JvmWatch.START_MILLIS);
        if (!child.exitsWithin(JvmWatch.START_MILLIS)) {
            throw new IllegalStateException(tag + ": its output ended, the JVM did not");
        }
        int status = child.process().exitValue();
        System.out.printf("  %-10s   exited, status %d%s%n", tag, status,
                status > 128 ? " = 128 + " + (status - 128) : "");
        return status;
    }
}

// %% [run]
// DaemonExit.demo(400);

// %% [markdown]
// The daemon child exited with status 0 right after `main` returned, and its heartbeat
// never printed `heartbeat: finally`. Further beats may show before the exit, even
// after the hook's line: daemons run on while the hooks run. The other child went on
// beating after `main: returns`, and would have for ever. So a daemon suits work that
// may be dropped at any instant: a heartbeat, a cache refresh, a watcher.
//
// ## Who is a daemon?
//
// A new platform thread takes its flag from the thread that *creates* it, by a
// constructor or a `Thread.Builder` that does not set it: threads made by `main` are
// non-daemon, those made by a daemon are daemons. A factory may decide for itself:
// `Executors.defaultThreadFactory()` always makes non-daemon threads (a forgotten fixed
// pool keeps the JVM alive: see `executor_lifecycle`); every `ForkJoinPool` worker, the
// common pool's too, is created a daemon. Virtual threads are always daemons.

// %%
class DaemonFlags {
    record Row(String thread, String daemon) { }

    static List<Row> rows() throws Exception {
        Runnable r = () -> { };
        Thread me = Thread.currentThread(), virtual = Thread.ofVirtual().unstarted(r);
        var made = new ArrayList<Thread>();  // filled by a daemon, read after its join
        Thread maker = Thread.ofPlatform().daemon().start(() -> made.addAll(List.of(
                new Thread(r), Thread.ofPlatform().unstarted(r),
                Executors.defaultThreadFactory().newThread(r))));
        if (!maker.join(java.time.Duration.ofSeconds(10))) throw new TimeoutException();
        var ran = new AtomicReference<Thread>();
        CompletableFuture.runAsync(() -> ran.set(Thread.currentThread()))
                .get(10, TimeUnit.SECONDS);
        return List.of(row("this thread, '" + me.getName() + "'", me),
                row("new Thread(r), made by this thread", new Thread(r)),
                row("new Thread(r), made by a daemon", made.get(0)),
                row("Thread.ofPlatform().unstarted(r), made by a daemon", made.get(1)),
                row("Executors.defaultThreadFactory(), in a daemon", made.get(2)),
                row("Thread.ofVirtual().unstarted(r)", virtual),
                row("runAsync(...) ran on '" + ran.get().getName() + "'", ran.get()),
                new Row("setDaemon(true) on this running thread",
                        outcome(() -> me.setDaemon(true))),
                new Row("setDaemon(false) on a virtual thread",
                        outcome(() -> virtual.setDaemon(false))));
    }

    static void show() throws Exception {
        rows().forEach(r -> System.out.printf(r.daemon().startsWith("throws")
                ? "  %2$s: %1$s%n" : "  %-10s  %s%n", r.daemon(), r.thread()));
        System.out.printf("  common pool parallelism %d, on %d processors%n",
                ForkJoinPool.getCommonPoolParallelism(), Runtime.getRuntime()
                        .availableProcessors());
    }

    static Row row(String what, Thread t) {
        return new Row(what, t.isDaemon() ? "daemon" : "non-daemon");
    }

    static String outcome(Runnable change) {
        try { change.run(); return "accepted"; }
        catch (RuntimeException e) { return "throws " + e.getClass().getSimpleName(); }
    }
}

// %% [run]
// DaemonFlags.show();

// %% [markdown]
// In a script "this thread" is `main`; in the notebook, cells run on the kernel's
// thread (`Engine-thread-...`), non-daemon too. `runAsync` ran on a common-pool worker,
// a daemon: since JDK 25 (JDK-8319447) async methods without an executor always use
// the common pool (a parallelism of 0 is raised to 2). So in JDK 25, on any machine, a
// `runAsync` task nobody joins is cut off at exit: join it if its work must be done.
//
// JDK 8 to 24 did so only at a common-pool parallelism of 2 or more; below (the default
// on one or two processors) each task got a `new Thread`, with the flag of the calling
// thread (for `runAsync`, the caller). The javadoc of `defaultExecutor()` still says so.
//
// ## Shutdown hooks: SIGTERM runs them, SIGKILL cannot
//
// `Runtime.getRuntime().addShutdownHook(thread)` registers an unstarted thread that the
// JVM starts when its shutdown begins: when the last non-daemon thread ends (the daemon
// child above), on `System.exit`, or on SIGTERM, SIGINT (Ctrl-C) or SIGHUP (unless
// `-Xrs`), whose handlers exit with status 128 + the signal's number. When the hooks have
// ended the JVM terminates, whatever threads still run. SIGKILL (`kill -9`) cannot be
// caught: the kernel ends the process, no Java code runs. Two children run a non-daemon
// heartbeat whose hook stops it; the parent signals them through `process.toHandle()`:
// on Linux and macOS `destroy()` sends SIGTERM, `destroyForcibly()` SIGKILL
// (`Process.destroy()` would also close the pipe we read).
//
// @diagram daemon_threads-shutdown-hook

// %%
class Signals {
    record Ended(String signal, List<String> output, int status) { }

    static List<Ended> demo(long beatMillis) throws Exception {
        return List.of(end("SIGTERM", ProcessHandle::destroy, beatMillis),
                end("SIGKILL", ProcessHandle::destroyForcibly, beatMillis));
    }

    static Ended end(String signal, Consumer<ProcessHandle> send, long beatMillis)
            throws Exception {
        try (var child = JvmWatch.ChildJvm.start(Heartbeat.CHILD, List.of(), "non-daemon",
                Long.toString(beatMillis), "stop")) {
            int seen = DaemonExit.afterMain(child, signal, 2, beatMillis);
            System.out.printf("  %-10s   the parent sends %s%n", signal, signal);
            send.accept(child.process().toHandle());  // not Process.destroy(): see above
            int status = DaemonExit.finish(child, signal, seen);
            return new Ended(signal, List.copyOf(child.output()), status);
        }
    }
}

// %% [run]
// var ended = Signals.demo(400);

// %% [markdown]
// After SIGTERM the hook found the heartbeat alive and interrupted it: its `catch` and
// `finally` ran, then the JVM exited, status 143. After SIGKILL the output stops: no
// hook, no `finally`, status 137 (a beat written just before the kill may still show).
//
// ## Which one to use
//
// | the background thread | make it |
// |---|---|
// | may be dropped mid-step (heartbeat, cache refresh) | a daemon: `Thread.ofPlatform().daemon()` |
// | must finish its job | non-daemon, or any thread you `join` before `main` returns |
// | must clean up when the program ends | a shutdown hook that interrupts it and joins it, with a limit |
//
// ## Pitfalls
//
// - **A daemon is abandoned, not stopped.** No interrupt, no `finally`, no flush:
//   never give one work whose half-done state does harm, like rewriting a file.
// - **The flag is inherited**: a daemon's helpers are daemons. Set it before `start()`.
// - **Hooks start together, in no set order, and must end.** The JVM waits for them and
//   no other thread: join with a limit. `System.exit` in a hook blocks for ever.
//
// ## From Python
//
// | Python (the seed's tip) | Java |
// |---|---|
// | `threading.Thread(target=f, daemon=True)` | `Thread.ofPlatform().daemon().start(f)` |
// | `t.daemon = True`, before `start()` | `t.setDaemon(true)`, before `start()` |
// | the flag comes from the creating thread; at exit, wait for non-daemons, drop daemons | the same |
// | `atexit.register(f)` | `Runtime.getRuntime().addShutdownHook(new Thread(f))` |
// | SIGTERM skips `atexit` (no handler by default) | SIGTERM runs the hooks |
//
// ## Try it
//
// - In `DaemonExit.demo`, change `"daemon"` in the first `start` call to `"virtual"`
//   and run `exit`: the child exits just as the daemon child did.
// - In `Signals.end`, drop the argument `"stop"` and run `hooks`: after SIGTERM the
//   hook still runs, but the heartbeat's `finally` no longer does.
// - Run `java -Djava.util.concurrent.ForkJoinPool.common.parallelism=0
//   jbang-scripts/daemon_threads.java flags`: the pool is raised to 2 and `runAsync`
//   still runs on a daemon.
//
// ## Summary
//
// The JVM exits when its last non-daemon thread ends, so a background loop belongs on
// a daemon thread, and a daemon is cut off at exit without its `finally`.
//
// The flag comes from the creating thread unless set before `start()`; virtual threads
// and common-pool workers (`runAsync`) are daemons. A shutdown hook runs on a normal
// exit and on SIGTERM, never on SIGKILL, and can stop a worker cleanly.

// %% [main]
class daemon_threads {  // the entry point, script only: `jbang daemon_threads --help`
    static final Section[] SECTIONS = {
            new Section("exit", "a daemon heartbeat is cut off, a non-daemon one lives",
                    speed -> DaemonExit.demo(Math.round(400 / speed))),
            new Section("flags", "who is a daemon: creator, factories, runAsync, virtual",
                    speed -> DaemonFlags.show()),
            new Section("hooks", "a shutdown hook runs on SIGTERM, nothing on SIGKILL",
                    speed -> Signals.demo(Math.round(400 / speed)))};
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
