///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Virtual threads: ten thousand blocking tasks, written as plain code
//
// A server's threads mostly wait, on databases and other services, and an OS thread is
// too costly to keep ten thousand waiting. Python's answer is asyncio, which rewrites the
// waiting code as coroutines; Java's is a thread so cheap that every task gets its own.
//
// **You will learn**
// - why 200 pooled threads run blocking tasks in rounds, and virtual threads all at once
// - how a virtual thread unmounts from its carrier while it waits, and when it cannot
// - to catch a pinned virtual thread with the JDK Flight Recorder (JFR)
// - why Java needs no `async` and `await`

// %%
import java.nio.file.*;
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.stream.*;
import jdk.jfr.*;
import jdk.jfr.consumer.*;

// %% [markdown]
// ## A pool of 200 threads: blocking tasks in rounds
//
// Each task makes one blocking call: `fetch` sleeps for d, standing in for a database
// query or a web service call, then answers `content_<id>`, as the seed's `fetch_data`
// does with d = 1 s. A server's request pool often has 200 platform threads, each an OS
// thread, which `fetch` holds while it sleeps; the other tasks wait in the queue: 1,000
// tasks take 5 rounds, at least 5 d; 10,000 would take 50 rounds, at least 50 d.
//
// @diagram virtual_threads-pool-queue
//
// ## The fix: a virtual thread per task
//
// A virtual thread is a `Thread` that the JDK schedules, not the OS: it runs *mounted* on
// a *carrier*, one of a few platform threads (a `ForkJoinPool` of one per core). In
// `sleep`, the JDK *unmounts* it: its frames go to the heap, the carrier runs another;
// after d, it is mounted again on a free carrier. `virtualThreads()` is like
// `Executors.newVirtualThreadPerTaskExecutor()`, naming threads `task-0`, `task-1`, ...
//
// @diagram virtual_threads-mount-unmount

// %%
/** Wall time in units of d; the most tasks that were inside `fetch` at one moment. */
record TaskRun(double wallD, int atOnce, int onVirtual) { }  // onVirtual: tasks

class BlockingTasks {
    static final int POOL_SIZE = 200;

    /** One blocking call, like a query to another service: waits d ms, then answers. */
    static String fetch(int id, long d) throws InterruptedException {
        Thread.sleep(d);
        return "content_" + id;
    }

    static int carriers() {  // the virtual-thread scheduler's parallelism
        return Integer.getInteger("jdk.virtualThreadScheduler.parallelism",
                Runtime.getRuntime().availableProcessors());
    }

    static ExecutorService virtualThreads() {
        return Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("task-", 0).factory());
    }

    static ExecutorService pool() {
        return Executors.newFixedThreadPool(POOL_SIZE,
                Thread.ofPlatform().name("pool-", 1).factory());
    }

    static TaskRun run(ExecutorService executor, int tasks, long d) throws Exception {
        var inside = new AtomicInteger();
        var atOnce = new AtomicInteger();
        var onVirtual = new AtomicInteger();
        long start = System.nanoTime();
        try (executor) {
            for (int i = 0; i < tasks; i++) {
                int id = i;
                executor.submit(() -> {
                    atOnce.accumulateAndGet(inside.incrementAndGet(), Math::max);
                    if (Thread.currentThread().isVirtual()) onVirtual.incrementAndGet();
                    try {
                        return fetch(id, d);
                    } finally {
                        inside.decrementAndGet();
                    }
                });
            }
            executor.shutdown();  // takes no more tasks; those submitted run to the end
            long dot = Math.max(1_000, d / 5), waited = 0;  // a dot a second, or per d/5
            while (!executor.awaitTermination(dot, TimeUnit.MILLISECONDS)) {
                System.out.print(".");
                if ((waited += dot) > Math.ceilDiv(tasks, POOL_SIZE) * d * 3 + 60_000) {
                    throw new IllegalStateException("stuck");
                }
            }
        }
        return new TaskRun((System.nanoTime() - start) / 1e6 / d, atOnce.get(),
                onVirtual.get());
    }
}

// %% [markdown]
// `compare` first runs both, untimed: virtual threads run slower until the JIT compiler
// has compiled the JDK code that starts, parks and resumes them. Then each round times
// 10,000 tasks on virtual threads and a tenth of them on the pool (all 10,000 would take
// 50 d); the table shows each one's median and range. d is 1 s (`--speed` scales it).

// %%
class TaskTimings {
    record Medians(double virtualD, double poolD) { }

    static Medians compare(int rounds, int poolTasks, long d) throws Exception {
        System.out.print("warm-up (untimed, d = 50 ms)");
        for (int i = 0; i < 3; i++) {  // the JIT compiles in steps: give it a few runs
            BlockingTasks.run(BlockingTasks.virtualThreads(), 10_000, 50);
        }
        BlockingTasks.run(BlockingTasks.pool(), poolTasks, 50);
        System.out.printf("%nd = %,d ms; carriers: %d; a round: virtual, then pool; a dot"
                + " per %,d ms%n", d, BlockingTasks.carriers(), Math.max(1_000, d / 5));
        List<TaskRun> virtual = new ArrayList<>(), pooled = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            System.out.printf("round %d: virtual", round);
            virtual.add(BlockingTasks.run(BlockingTasks.virtualThreads(), 10_000, d));
            System.out.printf(" %.2f d; pool", virtual.getLast().wallD());
            pooled.add(BlockingTasks.run(BlockingTasks.pool(), poolTasks, d));
            System.out.printf(" %.2f d%n", pooled.getLast().wallD());
        }
        System.out.printf("%-24s %6s  %-28s %8s %8s%n", "executor", "tasks",
                "wall in d: median (min-max)", "at least", "at once");
        int size = BlockingTasks.POOL_SIZE, all = 10_000 / size;
        var medians = new Medians(row("virtual thread per task", 10_000, virtual, 1),
                row("pool of %,d threads".formatted(size), poolTasks, pooled,
                        Math.ceilDiv(poolTasks, size)));
        System.out.printf("all 10,000 on the pool: %d rounds, at least %d d = %,d ms%n",
                all, all, all * d);
        return medians;
    }

    /** Prints a row (at once: in the round with the fewest); returns the median, in d. */
    static double row(String executor, int tasks, List<TaskRun> runs, int least) {
        double[] walls = runs.stream().mapToDouble(TaskRun::wallD).sorted().toArray();
        int atOnce = runs.stream().mapToInt(TaskRun::atOnce).min().orElseThrow();
        double median = walls[walls.length / 2];
        System.out.printf("%-24s %,6d  %-28s %6d d %,8d%n", executor, tasks,
                "%.2f (%.2f-%.2f)".formatted(median, walls[0], walls[walls.length - 1]),
                least, atOnce);
        return median;
    }
}

// %% [run]
// var medians = TaskTimings.compare(5, 1_000, 1_000);

// %% [markdown]
// Every run shows it: the pool takes just over its 5 rounds of d, with at most 200 tasks
// inside `fetch` at once. On virtual threads, all 10,000 are inside `fetch` at once (on a
// busy machine a few may end before the last start), on as many carriers as cores, and
// the median stays under 1.5 d: one wait, plus starting and resuming 10,000 threads.
//
// ## What unmounts, and what does not (JDK 25)
//
// A virtual thread unmounts only where the JDK parks it: in `Thread.sleep`, in
// `LockSupport.park` (under every `java.util.concurrent` wait and socket read) and, since
// JDK 24, blocking to enter a monitor, and `Object.wait`. Other calls keep the carrier.
//
// | a virtual thread blocks in | on JDK 25 |
// |---|---|
// | `Thread.sleep`; `java.util.concurrent` locks, queues, latches, semaphores, `Future.get`; `Process.waitFor()` (Linux, macOS) | unmounts |
// | socket I/O: `java.net` and `java.nio.channels` sockets, `HttpClient` | unmounts |
// | `synchronized` (entering it, or blocking inside it), `Object.wait()` | unmounts since JDK 24 (JEP 491); pinned on 21 to 23 |
// | file reads and writes (`FileInputStream`, `Files`, `FileChannel`) | holds the carrier for the call |
// | DNS lookups, a child process's pipes, `System.in`, `FileChannel.force`, file locks, synchronous or direct file I/O | holds it; the scheduler may add a carrier meanwhile |
// | anything, inside a class initializer or while waiting for another thread to finish initializing a class, or below a native frame (JNI, or Java called back from native code) | pinned: holds it, no extra carrier |
//
// A file read holds its carrier briefly, as a rule; for calls that may block long, the
// scheduler may add a spare carrier (*compensation*). A *pinned* virtual thread should
// unmount and cannot: its carrier waits with it. JFR records `jdk.VirtualThreadPinned` if
// it lasts 20 ms or more under JFR's default settings (`default.jfc`), as here.
//
// ## Pinning: `synchronized` no longer pins; a class initializer still does
//
// On JDK 21 to 23, a virtual thread blocked inside `synchronized` pinned its carrier
// (hence the old advice: use `ReentrantLock`); JEP 491 (JDK 24) lets it unmount. Blocking
// under a native frame still pins, and the JVM calls class initializers (`static { }`)
// from native code. One test for both: 4 × carriers virtual threads (`guarded-0`, ...:
// enough to pin every carrier) enter a guarded region, where the first one in waits for a
// *probe*, 1 s at most. Once as many have started as there are carriers, the caller
// starts the probe, which notes when it ran (at once if they unmounted, after that wait
// if they pinned every carrier) and how many `guarded-*` were `BLOCKED`; a JFR
// `Recording` collects the pins.
//
// @diagram virtual_threads-pinning

// %%
class Pinning {
    static volatile CountDownLatch probeRan = new CountDownLatch(0);
    static volatile long patience;  // ms that the first thread inside waits for the probe
    static volatile boolean configStarted;  // then Config no longer pins in this JVM
    static final Object LOCK = new Object();
    static final Runnable MONITOR = () -> { synchronized (LOCK) { waitForProbe(); } };
    static final Runnable CLASS_INIT = () -> Config.NAME.length();

    static class Config {  // the JVM runs its initializer once, on the first use of NAME
        static final String NAME;
        static {
            configStarted = true;
            waitForProbe();  // blocks inside the class initializer
            NAME = "config";
        }
    }

    static void waitForProbe() {  // gives up quietly after `patience`
        try { probeRan.await(patience, TimeUnit.MILLISECONDS); }
        catch (InterruptedException e) { Thread.currentThread().interrupt(); }
    }

    record Probe(long millis, long blocked) { }  // its wait; guarded-* BLOCKED by then

    /** Runs `guarded` on 4 x carriers virtual threads, then the probe. */
    static Probe probe(Runnable guarded, long patienceMillis) throws Exception {
        probeRan = new CountDownLatch(1);
        patience = patienceMillis;
        var started = new CountDownLatch(BlockingTasks.carriers());
        var threads = new ArrayList<Thread>();
        var guards = Thread.ofVirtual().name("guarded-", 0);
        for (int i = 0; i < 4 * BlockingTasks.carriers(); i++) {
            threads.add(guards.start(() -> { started.countDown(); guarded.run(); }));
        }
        if (!started.await(10, TimeUnit.SECONDS)) throw new IllegalStateException();
        long start = System.nanoTime();
        var ran = new AtomicReference<Probe>();
        var probe = Thread.ofVirtual().name("probe").start(() -> {
            ran.set(new Probe((System.nanoTime() - start) / 1_000_000, threads.stream()
                    .filter(t -> t.getState() == Thread.State.BLOCKED).count()));
            probeRan.countDown();
        });
        long dot = Math.max(2_000, patience / 4), limit = 10_000 + 2 * patience;  // dots
        for (Thread t : Stream.concat(threads.stream(), Stream.of(probe)).toList()) {
            for (int s = 1; !t.join(Duration.ofMillis(dot)); s++) {
                System.out.print(".");
                if (s * dot > limit) throw new IllegalStateException(t + " still runs");
            }
        }
        return ran.get();
    }
}

// %%
class PinWatch {
    record Outcome(Pinning.Probe probe, List<RecordedEvent> pins) { }

    static Outcome watch(Runnable guarded, long patienceMillis) throws Exception {
        try (var recording = new Recording()) {
            recording.enable("jdk.VirtualThreadPinned")  // as in default.jfc
                    .withThreshold(Duration.ofMillis(20));
            recording.start();
            var probe = Pinning.probe(guarded, patienceMillis);
            recording.stop();
            Path file = Files.createTempFile("pins", ".jfr");
            file.toFile().deleteOnExit();
            recording.dump(file);
            var pins = new ArrayList<>(RecordingFile.readAllEvents(file));
            pins.sort(Comparator.comparing(RecordedEvent::getStartTime));
            return new Outcome(probe, pins);
        }
    }

    static void show(String guard, Runnable guarded, long patience) throws Exception {
        System.out.print(guard + ":");
        var o = watch(guarded, patience);
        System.out.printf(" probe after %,d ms with %d BLOCKED; %d pinned event(s)%n",
                o.probe().millis(), o.probe().blocked(), o.pins().size());
        for (RecordedEvent e : o.pins()) {
            System.out.printf("  jdk.VirtualThreadPinned %,d ms: %s on %s%n    %s: %s%n",
                    e.getDuration().toMillis(), e.getThread().getJavaName(),
                    e.getThread("carrierThread").getJavaName(),
                    e.getString("blockingOperation"), e.getString("pinnedReason")
                            .replace(Pinning.Config.class.getName(), "Config"));
        }
    }

    static void both(long patienceMillis) throws Exception {
        System.out.printf("%d virtual threads; carriers: %d; patience %,d ms%n",
                4 * BlockingTasks.carriers(), BlockingTasks.carriers(), patienceMillis);
        show("synchronized (LOCK)", Pinning.MONITOR, patienceMillis);
        if (Pinning.configStarted) throw new IllegalStateException("run in a new JVM");
        show("Config's initializer", Pinning.CLASS_INIT, patienceMillis);
    }
}

// %% [run]
// PinWatch.both(1_000);

// %% [markdown]
// With `synchronized`, the probe runs within milliseconds, while at least as many threads
// as carriers are `BLOCKED` on the monitor, and JFR records no pin: all unmounted. With
// the initializer (JDK 25), the probe runs only after the wait, every time: the thread in
// `Config.<clinit>` parked pinned (`LockSupport.park`), and one per other carrier waits
// for `Config` in the JVM (`Object.wait`), pinned too: an event per carrier. The rest had
// no carrier until the pins ended, and then `Config` was ready: no event, few `BLOCKED`.
// (It runs once per JVM: where `Config` is ready already, the section stops.)
//
// ## Why the code stays plain: no coloured functions
//
// asyncio gets its scale on one OS thread by making each function that waits a coroutine:
// ```python
// async def fetch(i):   # a coroutine; time.sleep(1) in it would stall every task
//     await asyncio.sleep(1)
//     return f"content_{i}"
// answers = await asyncio.gather(*(fetch(i) for i in range(10_000)))  # in async code
// ```
// Only an `async` function can await another, so the colour spreads up the call chain to
// `asyncio.run`; a blocking call in any of them (`time.sleep`, `requests.get`) stalls the
// event loop and every task on it; libraries come twice (`aiohttp` beside `requests`).
// Java's `fetch` is the method you would write for one request: no `async`, whole stack
// traces, and blocking libraries as they are (within the table above).
//
// ## Pitfalls
//
// - **Pooling virtual threads** brings the queue back. The old pool of 200 also capped
//   the calls to the database: cap them at the call, with a `Semaphore(200)` around it.
// - **Computing on them.** The scheduler does not time-slice: a virtual thread keeps its
//   carrier until it blocks or ends. Compute on a pool sized to the cores (`cpu_bound`).
// - **Thread-local caches** become one per task, used once: share a thread-safe object.
// - **They are daemons**, and `Thread.getAllStackTraces()` and `ThreadMXBean` skip them:
//   join them; dump them with `jcmd <pid> Thread.dump_to_file -format=json <file>`.
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | "Consider asyncio for I/O-bound concurrency instead of threads" | virtual threads: threads that are cheap |
// | `async def f(): ... await g()` | `String f() { return g(); }`: a plain method |
// | `asyncio.gather(*(f(i) for i in ids))` | a virtual thread per task, then each `Future.get()` |
// | `time.sleep()` in a coroutine stalls the loop | `Thread.sleep()` unmounts the virtual thread |
//
// ## Try it
//
// - Run `jbang virtual_threads tasks --speed 20`: with d = 50 ms, starting 10,000
//   threads is no longer small beside d: the virtual row moves away from 1 d, and a
//   single round may even show them slower than the pool.
// - In `virtualThreads()`, write `Thread.ofPlatform()` and run `tasks`: 10,000 OS
//   threads, each with its own stack, take longer to start: the median grows past 1 d.
// - Run `JAVA_TOOL_OPTIONS=-Djdk.virtualThreadScheduler.parallelism=1 jbang
//   virtual_threads tasks`: one carrier still runs the 10,000 tasks in about 1 d.
//
// ## Summary
//
// A virtual thread unmounts from its carrier while it waits, so 10,000 blocking tasks,
// a thread each, take about as long as one, where a pool of 200 threads takes 50 rounds.
//
// Write plain blocking code, a virtual thread per task; cap what is scarce (`Semaphore`).
// Sleeps, `java.util.concurrent`, sockets and `synchronized` unmount; file I/O holds the
// carrier; a class initializer or native frame pins it (JFR shows where).

// %% [main]
class virtual_threads {  // the entry point, script only: `jbang virtual_threads --help`
    static final Section[] SECTIONS = {
            new Section("tasks", "10,000 blocking tasks: virtual threads, then a pool",
                    speed -> TaskTimings.compare(5, 1_000, Math.round(1_000 / speed))),
            new Section("pinning", "synchronized does not pin; a class initializer does",
                    speed -> PinWatch.both(Math.max(500, Math.round(1_000 / speed))))};
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
