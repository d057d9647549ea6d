///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Threads: start them, name them, join them, ask them to stop
//
// A thread runs code alongside the code that started it. Three workers that each wait
// one second finish in about one second together, not three, because their waits
// overlap. Starting a thread is the easy part. The starter also has to wait for the
// workers before it uses what they produced, which is what `join` is for. It should
// give them names that say what they do, because the names show up in stack traces
// and thread dumps. And it needs a way to stop a worker it no longer wants. Java has
// no safe way to kill a thread: you *ask* it to stop with `interrupt()`, and the worker
// has to cooperate. This lesson runs the Python seed's three workers in Java, shows
// what goes wrong without `join`, then covers names, a first look at virtual threads,
// and interruption, including the one missing line that makes a worker ignore a stop
// request.
//
// Run it: `jbang threads` from the repository root, `jbang jbang-scripts/threads.java`,
// or with a bare JDK 25, `java jbang-scripts/threads.java`. Try `--help`.

// %%
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

// %% [markdown]
// ## Waiting, with a limit
//
// Every wait in this lesson has a time limit, so a mistake produces an error message
// instead of a hang. `Thread.join(Duration)` (Java 19+) waits at most that long and
// returns whether the thread ended. Plain `join()` waits forever, which is fine in
// production code you trust. In a lesson it is safer to fail loudly.

// %%
class ThreadWaits {
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
}

// %% [markdown]
// ## Making a thread
//
// A thread runs a `Runnable`: a method with no arguments and no result, usually a
// lambda. There are several ways to make one:
//
// - `new Thread(runnable)` is the classic way. It gets the name `Thread-N`, where N
//   counts every unnamed thread made so far.
// - `new Thread(runnable, "name")` names it when you create it.
// - `Thread.ofPlatform().name("prefix", 0).start(runnable)` (Java 21+) is a builder.
//   You set the name (here with a counter: `prefix0`, `prefix1`, ...), and whether it
//   is a daemon, then start it in one call. `unstarted(runnable)` builds without
//   starting it.
// - `Thread.startVirtualThread(runnable)` starts a virtual thread, which has an empty
//   name unless you give it one.
//
// The first line of output below shows a classic mistake. Calling `run()` instead of
// `start()` starts no thread: the code runs on the caller's thread (`main` in the
// script) and the `Thread` object stays `NEW`. The other lines come from four real
// threads. Their order changes from run to run, because nothing orders them.

// %%
class FirstThreads {
    static void show() throws InterruptedException {
        Runnable hello = () -> System.out.println(
                "  hello from '" + Thread.currentThread().getName() + "'");

        Thread oops = new Thread(hello, "never-started");
        oops.run();  // a plain method call on this thread; no new thread
        System.out.println("  after run(): " + oops.getName() + " is " + oops.getState());

        Thread classic = new Thread(hello);               // named Thread-N
        classic.start();
        Thread named = new Thread(hello, "greeter");       // named at birth
        named.start();
        Thread built = Thread.ofPlatform().name("builder-", 1).start(hello);
        Thread virtual = Thread.startVirtualThread(hello); // nameless by default
        ThreadWaits.join(List.of(classic, named, built, virtual));
    }
}

// %% [run]
// FirstThreads.show();

// %% [markdown]
// ## The naive version: start workers and forget them
//
// This is the seed's program with the `join` loop left out. `main` starts three
// workers, each of which will put its result in a slot of a shared array, and then
// `main` reads the array and announces "all done". `start()` returns as soon as the
// thread exists, long before it has done anything. So `main` reads the slots while the
// workers are still busy.
//
// How long a worker takes varies, so to make the failure repeatable a latch, the
// `gate`, holds every worker until `main` has looked. The gate stands in for "the
// work takes longer than `main` expects". Nothing else is different. The count below
// shows how many results `main` saw before and after it joined.
//
// Even if a worker *had* written its slot in time, `main` would not be guaranteed to
// see the value without `join`. Every write a thread makes *happens-before* another
// thread's `join` on it returns. Without that edge, nothing obliges `main` to see the
// worker's writes at all.

// %%
class ForgottenJoin {
    /** How many results main saw: before joining, and after. */
    record Seen(int beforeJoin, int afterJoin, int workers) { }

    static Seen demo(int workers) throws InterruptedException {
        var results = new String[workers];       // slot i belongs to worker i
        var gate = new CountDownLatch(1);        // "the work is still going on"
        var builder = Thread.ofPlatform().name("T", 0);
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < workers; i++) {
            int slot = i;
            threads.add(builder.start(() -> {
                try {
                    ThreadWaits.await(gate);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                results[slot] = Thread.currentThread().getName() + " done";
                System.out.println("  Worker " + Thread.currentThread().getName()
                        + " finished");
            }));
        }
        int before = ready(results);  // BUG: no join; the workers are still working
        System.out.println("  main, no join: all done! " + Arrays.toString(results));
        gate.countDown();
        ThreadWaits.join(threads);    // the fix: wait for every worker first
        int after = ready(results);
        System.out.println("  main, joined:  all done! " + Arrays.toString(results));
        System.out.printf("  results main saw: %d of %d without join, %d of %d after%n",
                before, workers, after, workers);
        return new Seen(before, after, workers);
    }

    private static int ready(String[] results) {
        return (int) Arrays.stream(results).filter(Objects::nonNull).count();
    }
}

// %% [markdown]
// `main` says "all done" while the results are still `null`. Then the workers print
// "finished", after `main` already claimed they were done, and in an order that varies.
// In a script, forgetting `join` does not hang anything: the JVM keeps running until
// every non-daemon thread ends, so the workers still finish. The damage is that `main`
// has already acted on results that did not exist yet. In a notebook it is worse: a
// worker that prints after its cell ends puts its output under a later cell, or drops
// it.

// %% [run]
// var seen = ForgottenJoin.demo(3);

// %% [markdown]
// @diagram threads-forgotten-join
//
// ## Fix 1: join every thread you start (the seed's run)
//
// This is the seed's program. Three workers, `T0` to `T2`, each "work" for a delay
// (the seed's one second; `--speed` divides it). `main` starts all of them first and
// then joins each one. Starting and joining in separate loops matters. Joining inside
// the start loop would make each worker finish before the next one starts, so nothing
// would run at the same time.
//
// The workers print as they go, so the order of their lines varies from run to run.
// `main` prints last, after every `join` has returned. The elapsed time it prints is
// about one delay, not three, because the waits overlapped. (It says nothing about
// what a thread costs to start; that is not this lesson's subject.)
//
// The worker catches `InterruptedException` around its `sleep`: a `Runnable` cannot
// throw checked exceptions. It restores the interrupt flag before it returns. The last
// section explains why.

// %%
class SeedWorkers {
    static void work(long delayMillis) {
        String me = Thread.currentThread().getName();
        if (me.isEmpty()) me = "''";  // a virtual thread nobody named
        System.out.println("  Worker " + me + " starting");
        try {
            Thread.sleep(delayMillis);  // stands in for real work
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();  // asked to stop: keep the flag, return
            return;
        }
        System.out.println("  Worker " + me + " finished");
    }

    /** Starts the workers T0, T1, ... and returns them, unjoined. */
    static List<Thread> start(int workers, long delayMillis) {
        var builder = Thread.ofPlatform().name("T", 0);  // T0, T1, T2, ...
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < workers; i++) {
            threads.add(builder.start(() -> work(delayMillis)));
        }
        return threads;
    }

    static void run(int workers, long delayMillis) throws InterruptedException {
        long start = System.nanoTime();
        List<Thread> threads = start(workers, delayMillis);  // first start them all,
        ThreadWaits.join(threads);                           // then join them all
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.printf("  main: all %d joined after %d ms (each worked %d ms)%n",
                workers, elapsed, delayMillis);
    }
}

// %% [run]
// SeedWorkers.run(3, 1000);

// %% [markdown]
// @diagram threads-start-join
//
// ## Fix 2: join with a time limit
//
// `join()` waits as long as it takes. That is right when the worker is sure to end,
// and a hang when it is not. `join(Duration)` returns `false` if the thread is still
// running when the time is up, and the caller decides what to do next: log it,
// interrupt the worker, or give up. Below, a worker held on a latch makes the first
// `join` time out every time. Once the latch opens, the next `join` returns `true`.

// %%
class JoinTimeout {
    /** What join(Duration) returned while the worker was held, and after release. */
    record Joins(boolean whileHeld, boolean afterRelease) { }

    static Joins demo(long patienceMillis) throws InterruptedException {
        var release = new CountDownLatch(1);
        Thread held = Thread.ofPlatform().name("held").start(() -> {
            try {
                ThreadWaits.await(release);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            boolean whileHeld = held.join(Duration.ofMillis(patienceMillis));
            System.out.printf("  join(%d ms) while held: %b (alive: %b)%n",
                    patienceMillis, whileHeld, held.isAlive());
            release.countDown();
            boolean afterRelease = held.join(ThreadWaits.PATIENCE);
            System.out.printf("  released; join(%d s): %b (alive: %b)%n",
                    ThreadWaits.PATIENCE.toSeconds(), afterRelease, held.isAlive());
            return new Joins(whileHeld, afterRelease);
        } finally {
            release.countDown();  // never leave it held, whatever happened above
        }
    }
}

// %% [run]
// var joins = JoinTimeout.demo(200);

// %% [markdown]
// ## A first look at virtual threads
//
// `Thread.ofVirtual()` builds threads that the JDK schedules on a few carrier
// threads, not on operating-system threads of their own. When a virtual thread blocks
// (sleeps, waits on a lock or a queue, does I/O), it steps off its carrier and frees
// it for another, so a program can have far more of them than platform threads. The
// code is the same as before: the seed's workers, unchanged, on
// `Thread.ofVirtual().name("V", 0)`, plus one started with `Thread.startVirtualThread`.
//
// Two differences show up in the table below. A virtual thread has no name unless you
// give it one. And it is **always a daemon**: the JVM does not wait for daemon
// threads at exit (`setDaemon(false)` throws). Forgetting `join` on a virtual thread
// does more than let `main` run ahead: if `main` ends, the worker's unfinished work
// disappears with the JVM. The `thread_pool` lesson runs many of them through an
// executor.

// %%
class VirtualWorkers {
    /** The seed's workers on virtual threads V0, V1, ..., plus one nameless one. */
    static List<Thread> start(int workers, long delayMillis) {
        var builder = Thread.ofVirtual().name("V", 0);
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < workers; i++) {
            threads.add(builder.start(() -> work(delayMillis)));
        }
        threads.add(Thread.startVirtualThread(() -> work(delayMillis)));
        return threads;
    }

    private static void work(long delayMillis) {
        SeedWorkers.work(delayMillis);  // the very same worker code
    }

    static void run(int workers, long delayMillis) throws InterruptedException {
        List<Thread> threads = start(workers, delayMillis);
        ThreadWaits.join(threads);
        System.out.printf("  %-8s %-8s %-7s%n", "name", "virtual", "daemon");
        for (Thread t : threads) {
            System.out.printf("  %-8s %-8b %-7b%n",
                    "'" + t.getName() + "'", t.isVirtual(), t.isDaemon());
        }
    }
}

// %% [run]
// VirtualWorkers.run(3, 1000);

// %% [markdown]
// ## Asking a thread to stop: interruption
//
// `Thread.stop()` used to kill a thread wherever it was, even halfway through updating
// shared state. It has thrown `UnsupportedOperationException` since JDK 20. What
// remains is a request. `worker.interrupt()` sets the worker's *interrupt flag*, and
// the worker finds out in one of two ways:
//
// - **It is blocked** in `sleep`, `join`, `wait`, `BlockingQueue.take`/`poll`,
//   `CountDownLatch.await` and the like. The call wakes up and throws
//   `InterruptedException`, and **clears the flag** as it does.
// - **It is computing.** Nothing throws. The worker has to check
//   `Thread.currentThread().isInterrupted()` every so often.
//   (`Thread.interrupted()` checks the flag *and clears it*. Use it only when you are
//   handling the interrupt right there.)
//
// So whoever catches `InterruptedException` holds the only record that a stop was
// requested. If the catch block neither rethrows it nor calls
// `Thread.currentThread().interrupt()` to set the flag again, the request is lost.
//
// The worker below takes jobs from a queue until it is interrupted. It loops, waiting
// for the next job, and checks the flag after every wait. The helper that waits has to
// catch `InterruptedException`, so it returns `null` and leaves the flag for the loop
// to check. The two versions differ in one line, the `RESTORE` branch.
//
// @diagram threads-interrupt

// %%
class JobWorker implements Runnable {
    enum OnInterrupt { SWALLOW, RESTORE }

    /** What happened: read after join, which makes the worker's writes visible. */
    record Stop(OnInterrupt onInterrupt, int jobsAfter, String endedBy) { }

    static final String STOP = "STOP";  // a poison pill: the other way to end it

    private final BlockingQueue<String> jobs = new LinkedBlockingQueue<>();
    private final OnInterrupt onInterrupt;
    final CountDownLatch caughtInterrupt = new CountDownLatch(1);
    private int jobsDone;
    private String endedBy = "still running";

    JobWorker(OnInterrupt onInterrupt) { this.onInterrupt = onInterrupt; }

    void submit(String job) { jobs.add(job); }
    int jobsDone() { return jobsDone; }
    String endedBy() { return endedBy; }

    public void run() {
        while (true) {
            String job = nextJob();  // blocks until a job comes or we are interrupted
            if (Thread.currentThread().isInterrupted()) {
                endedBy = "interrupt";  // asked to stop: leave, flag still set
                return;
            }
            if (STOP.equals(job)) {
                endedBy = "STOP job";
                return;
            }
            if (job != null) jobsDone++;  // "do" the job
        }
    }

    private String nextJob() {
        try {
            return jobs.poll(10, TimeUnit.SECONDS);  // null: no job this time
        } catch (InterruptedException e) {           // throwing it cleared the flag
            caughtInterrupt.countDown();
            if (onInterrupt == OnInterrupt.RESTORE) {
                Thread.currentThread().interrupt();  // THE line: set it again
            }
            return null;
        }
    }

    /** Interrupts an idle worker, then offers it two jobs and a STOP. */
    static Stop demo(OnInterrupt onInterrupt) throws InterruptedException {
        var worker = new JobWorker(onInterrupt);
        String name = "jobs-" + onInterrupt.name().toLowerCase();
        Thread thread = Thread.ofPlatform().name(name).start(worker);
        try {
            thread.interrupt();  // please stop
            ThreadWaits.await(worker.caughtInterrupt);
            worker.submit("job 1");
            worker.submit("job 2");
        } finally {
            worker.submit(STOP);  // ends it if the interrupt did not
            ThreadWaits.join(List.of(thread));
        }
        var stop = new Stop(onInterrupt, worker.jobsDone(), worker.endedBy());
        System.out.printf("  %s: caught the interrupt; jobs taken after it: %d;"
                + " ended by: %s%n", name, stop.jobsAfter(), stop.endedBy());
        return stop;
    }
}

// %% [markdown]
// Both workers catch the `InterruptedException`. The one that swallows it acts as if
// nothing happened: it takes the two jobs submitted after `interrupt()`, and only the
// poison pill ends it. Had there been no pill, it would run until the JVM exits, and
// since it is not a daemon, the JVM would not exit. The one that restores the flag sees
// it at the top of its loop and leaves at once, and the two jobs are never taken.

// %% [run]
// var swallowed = JobWorker.demo(JobWorker.OnInterrupt.SWALLOW);
// var restored = JobWorker.demo(JobWorker.OnInterrupt.RESTORE);

// %% [markdown]
// ### A worker that is busy computing
//
// A thread that never blocks never gets an `InterruptedException`. It has to check
// the flag itself, often enough that a stop request is not left waiting for long.
// Below, `main` lets the cruncher run for a short while, interrupts it and joins it.
// The cruncher notices at its next check and reports how many steps it finished (the
// number depends on the machine and on the run).

// %%
class Cruncher {
    static long demo(long letItRunMillis) throws InterruptedException {
        var started = new CountDownLatch(1);
        var steps = new long[1];  // written by the cruncher, read after join
        Thread cruncher = Thread.ofPlatform().name("cruncher").start(() -> {
            started.countDown();
            long n = 0;
            while (!Thread.currentThread().isInterrupted()) {
                n++;  // one small step of "work" between checks
            }
            steps[0] = n;
        });
        try {
            ThreadWaits.await(started);
            Thread.sleep(letItRunMillis);  // pacing: let it crunch for a moment
        } finally {
            cruncher.interrupt();
            ThreadWaits.join(List.of(cruncher));
        }
        System.out.printf("  cruncher saw the flag, stopped after %,d steps%n", steps[0]);
        return steps[0];
    }
}

// %% [run]
// long steps = Cruncher.demo(100);

// %% [markdown]
// ## Which one to use
//
// | you need | use |
// |---|---|
// | one thread, Java 21 or later | `Thread.ofPlatform().name("...").start(r)` |
// | the same on old Java, or an API that wants a `Thread` | `new Thread(r, "name")` |
// | many threads that mostly wait (I/O, sleeps, queues) | `Thread.ofVirtual()`, or an executor of them (`thread_pool`) |
// | a result from a thread | `join` it, then read; or `Future.get` from an executor (`thread_pool`) |
// | to wait without risking a hang | `join(Duration)`; it returns whether the thread ended |
// | to stop a thread | `interrupt()`, and a worker that checks the flag or lets `InterruptedException` end it |
// | to stop a worker that waits on a queue | a poison pill (`producer_consumer`), or `interrupt()` |
//
// In application code, prefer an `ExecutorService` to creating threads yourself: it
// reuses threads, returns results as `Future`s, and `close()` joins the work for you
// (the `thread_pool` lesson). The threads you make by hand are the ones underneath.
//
// ## Pitfalls
//
// - **`run()` is not `start()`.** It runs the code on the caller's thread, as the
//   first demo showed. A `Thread` can be started only once: a second `start()` throws
//   `IllegalThreadStateException`.
// - **Start everything, then join everything.** Joining inside the start loop runs
//   the workers one after another.
// - **Read results only after `join`.** Before it, they may be missing. Even when they
//   are there, nothing guarantees `main` sees them without the happens-before edge
//   that `join` provides.
// - **Never swallow `InterruptedException`.** Rethrow it, or restore the flag with
//   `Thread.currentThread().interrupt()`, as `JobWorker` does with `RESTORE`.
// - **`Thread.interrupted()` clears the flag**; `isInterrupted()` only reads it.
// - **Not everything can be interrupted.** Waiting to enter a `synchronized` block, or
//   for `lock()`, ignores interrupts (`lockInterruptibly()` does not). A loop that
//   never checks the flag cannot be stopped at all.
// - **Virtual threads are daemons.** If nothing joins them, the JVM may exit in the
//   middle of their work.
// - **An exception in a worker does not reach `main`.** It ends that thread, and the
//   default handler prints the stack trace. `join` returns normally, so check the
//   worker's result, or use a `Future`, whose `get` rethrows it.
// - **Name your threads.** A thread dump full of `Thread-7` and `''` tells you nothing
//   about which worker is stuck.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `threading.Thread(target=worker, args=("T0", 1.0))` | `Thread.ofPlatform().name("T0").unstarted(() -> worker(1000))` |
// | `t.start()` | `t.start()` (or `builder.start(r)`, which builds and starts) |
// | `t.join()` | `t.join()` |
// | `t.join(timeout=1.0)`, then `t.is_alive()` | `t.join(Duration.ofSeconds(1))` returns whether it ended |
// | `threading.Thread(..., name="T0")`, `current_thread().name` | `.name("T0")`, `Thread.currentThread().getName()` |
// | `threading.Thread(..., daemon=True)` | `.daemon(true)`; virtual threads always are |
// | a `threading.Event` checked in the loop to stop | `t.interrupt()` + `isInterrupted()`, built into every thread |
// | (no equivalent) | `Thread.ofVirtual()`, `Thread.startVirtualThread(r)` |
//
// Python threads cannot be interrupted: a blocked `time.sleep` or `queue.get()` does
// not wake up because another thread asked it to. Python code usually passes a
// `threading.Event` and uses timeouts. In Java, every blocking call in
// `java.util.concurrent` already responds to `interrupt()`. In CPython the GIL lets
// only one thread run Python code at a time (unless you use the free-threaded build).
// Sleeping workers like the seed's overlap in both languages. Only the JVM also runs
// CPU-bound threads in parallel.
//
// Related lessons: `counter` (what goes wrong when threads share a variable),
// `thread_pool` (executors instead of hand-made threads, and virtual threads at
// scale), `producer_consumer` (stopping workers with a poison pill), `event` (one
// thread signalling others), `barrier` (threads waiting for each other),
// `shared_resource` and `singleton`.
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line.
// A bad option prints one line and exits with status 2.

// %%
class threads {
    static final String USAGE = """
            Usage: threads [options]
              --workers N   worker threads in the seed's run (default 3)
              --delay MS    how long each worker "works", in ms (default 1000, the seed's)
              --speed X     divides every delay: 2 = twice as fast, 0.5 = half (default 1)
              --help        print this and exit""";

    record Options(int workers, int delayMillis, double speed) {
        long scaled(long millis) { return Math.round(millis / speed); }
    }

    public static void main(String[] args) throws InterruptedException {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("threads: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        long delay = o.scaled(o.delayMillis());
        System.out.println("== Making a thread ==");
        FirstThreads.show();
        System.out.println("\n== The naive version: start workers and forget them ==");
        ForgottenJoin.demo(o.workers());
        System.out.println("\n== Fix 1: join every thread you start (the seed's run) ==");
        SeedWorkers.run(o.workers(), delay);
        System.out.println("\n== Fix 2: join with a time limit ==");
        JoinTimeout.demo(o.scaled(200));
        System.out.println("\n== A first look at virtual threads ==");
        VirtualWorkers.run(o.workers(), delay);
        System.out.println("\n== Asking a thread to stop: interruption ==");
        JobWorker.demo(JobWorker.OnInterrupt.SWALLOW);
        JobWorker.demo(JobWorker.OnInterrupt.RESTORE);
        Cruncher.demo(o.scaled(100));
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
                count("--workers", given.getOrDefault("--workers", "3")),
                count("--delay", given.getOrDefault("--delay", "1000")),
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
