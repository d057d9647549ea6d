///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Threads: start them, name them, join them, ask them to stop
//
// Three workers that each sleep for a second finish together after about one second,
// not three: a thread runs alongside the code that started it. The starter has to wait
// for its workers (`join`) before it uses their results, and it cannot kill a worker it
// no longer wants, only ask it to stop with `interrupt()`.
//
// **You will learn**
// - to start named threads and join them: the Python seed's three workers, in Java
// - what a forgotten `join` costs: results read before they exist
// - to stop a sleeping or waiting thread with `interrupt()`, and never to swallow
//   `InterruptedException`
// - which blocking calls answer an interrupt, and which keep waiting

// %%
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.stream.*;

// %% [markdown]
// ## The seed's run: start three workers, then join each
//
// The seed's `worker(name, delay)` prints, sleeps and prints again. Our `work` gets its
// delay from the lambda `() -> work(delayMillis)`, but its name from the thread that
// runs it, to show what naming is for: `Thread.ofPlatform().name("T" + i)` names them
// `T0`, `T1`, `T2`. Stack traces and thread dumps show the name; an unnamed thread is
// just `Thread-7`. `sleep` throws the checked `InterruptedException` (the last section
// says when), which a `Runnable` may not throw, so the worker catches it.
//
// `start()` returns at once, and the new thread runs alongside `main`. `main` starts all
// three, then joins each: `join` waits until that thread has ended. The three sleep at
// the same time, so the "finished" lines come about one second after the "starting"
// lines, not three, in an order that can change from run to run. `main` prints nothing:
// the last line is a worker's, as in the seed. Every wait here has a limit:
// `join(Duration)` returns `false` if the thread still runs then; `join()` would not.
//
// @diagram threads-start-join

// %%
class SeedWorkers {
    static void work(long delayMillis) {
        String name = Thread.currentThread().getName();
        System.out.println("Worker " + name + " starting");
        try {
            Thread.sleep(delayMillis);  // stands in for real work
        } catch (InterruptedException e) {  // asked to stop: say so, keep the flag, leave
            System.out.println("Worker " + name + " interrupted");
            Thread.currentThread().interrupt();
            return;
        }
        System.out.println("Worker " + name + " finished");
    }

    static Thread startWorker(int i, long delayMillis) {  // worker("Ti", delay)
        return Thread.ofPlatform().name("T" + i).start(() -> work(delayMillis));
    }

    static void joinAll(List<Thread> threads, Duration patience)  // runs on: an error,
            throws InterruptedException {                           // not a hang
        for (Thread t : threads) {
            if (!t.join(patience)) throw new IllegalStateException(t + " runs on");
        }
    }

    static Duration patience(long delayMillis) {  // the work, and ten seconds to spare
        return Duration.ofMillis(delayMillis).plusSeconds(10);
    }

    static void run(long delayMillis) throws InterruptedException {
        var threads = new ArrayList<Thread>();  // first start them all,
        for (int i = 0; i < 3; i++) threads.add(startWorker(i, delayMillis));
        joinAll(threads, patience(delayMillis));  // then join each
    }
}

// %% [run]
// SeedWorkers.run(1000);

// %% [markdown]
// ## Forgetting `join`: results read before they exist
//
// Now each worker leaves a result in its slot of an array, and `main` forgets to join.
// It starts the workers, reads the results at once and announces "all done!". But
// `start()` does not wait for the new thread, so `main` can read the array before any
// worker has written to it.
//
// How long a worker takes varies, so the demo makes the failure certain: the `gate`, a
// `CountDownLatch(1)` (its `await()` blocks until someone calls `countDown()`), holds
// every worker until `main` has read the array, as if the work took longer than `main`
// expected. (A second latch, `hold`, is for the tests; here it is open.) Then `main`
// opens the gate and does it right: it joins every worker and reads again. `join` does
// more than wait: everything a thread did is visible to the thread that joined it (JLS
// 17.4.5), so now `main` sees all three results. Without `join` (or other
// synchronisation), even a result already written need not be seen by `main`.
//
// `main`'s lines start with its thread's name: `main` in the script, another name in
// the notebook, where the Java kernel runs each cell on a thread of its own.
//
// @diagram threads-forgotten-join

// %%
class ForgottenJoin {
    record Seen(int beforeJoin, int afterJoin) { }  // results main saw

    static Seen demo() throws InterruptedException { return demo(new CountDownLatch(0)); }

    static Seen demo(CountDownLatch hold) throws InterruptedException {
        String me = Thread.currentThread().getName();  // "main" in the script
        var results = new String[3];                   // slot i belongs to worker Ti
        var gate = new CountDownLatch(1);              // "the work takes a while"
        var workers = new ArrayList<Thread>();
        for (int i = 0; i < 3; i++) {
            int slot = i;
            workers.add(Thread.ofPlatform().name("T" + i).start(() -> {
                try {
                    if (!gate.await(10, TimeUnit.SECONDS)) return;
                    if (!hold.await(10, TimeUnit.SECONDS)) return;  // open but in tests
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                results[slot] = "T" + slot + " done";
                System.out.println("Worker T" + slot + " finished");
            }));
        }
        int before = count(results);  // BUG: no join, and the workers are still at work
        System.out.println(me + ", no join: all done! " + Arrays.toString(results));
        gate.countDown();
        SeedWorkers.joinAll(workers, Duration.ofSeconds(10));  // the fix
        System.out.println(me + ", joined:  all done! " + Arrays.toString(results));
        return new Seen(before, count(results));
    }

    static int count(String[] results) {
        return (int) Stream.of(results).filter(Objects::nonNull).count();
    }
}

// %% [markdown]
// `main` says "all done!" over three `null`s, and the workers finish after it. A
// forgotten `join` hangs no script (the JVM waits for every non-daemon thread before it
// exits; lesson `daemon_threads`): the harm is that `main` acted on results that did not
// exist yet. In a notebook, a thread printing after its cell has ended writes elsewhere.

// %% [run]
// var seen = ForgottenJoin.demo();

// %% [markdown]
// ## Asking a thread to stop: `interrupt()`
//
// Java cannot kill a thread (`Thread.stop()` has thrown `UnsupportedOperationException`
// since JDK 20): stopping a thread halfway through a change would leave shared state
// half changed. `t.interrupt()` sets `t`'s *interrupt flag* and wakes `t` if it is
// blocked in an interruptible call; it never ends `t` by itself. `t` finds out, and
// decides when to stop, in one of two ways:
//
// - **It is waiting** in a call such as `Thread.sleep`, `Thread.join`, `Object.wait`,
//   `BlockingQueue.take` and `poll(timeout)`, `CountDownLatch.await`,
//   `Semaphore.acquire`, `ReentrantLock.lockInterruptibly`, `FutureTask.get` or
//   `CompletableFuture.get`. The call throws `InterruptedException` and clears the
//   flag (`wait` and `await` first take their lock back, which may take a while).
// - **It is computing**, and nothing throws: it must check
//   `Thread.currentThread().isInterrupted()` between steps of its work.
//
// Some other waits do not answer, and go on until they get what they wait for: entering
// a `synchronized` block, `Lock.lock()`, `Semaphore.acquireUninterruptibly()`,
// `Condition.awaitUninterruptibly()`, `CompletableFuture.join()`, and a platform
// thread's blocking `java.io` read (`System.in`, a plain `Socket`'s stream). The request
// is not lost (they return with the flag set), but it waits. Where a stop must get
// through, use the interruptible twins: `lockInterruptibly()`, `acquire()`, `await()`,
// `get()`, or an NIO channel, which an interrupt closes (`ClosedByInterruptException`).
//
// Below, `main` starts the seed's workers, but `T1` would sleep ten seconds longer:
// only an interrupt ends it on time. `main` waits until `T1` is asleep and interrupts
// it; `T1` says so, and `T0` and `T2` finish a second later. (An interrupt that comes
// before the sleep is not lost: the flag stays set, and `sleep` throws at once.) `main`
// sees `T1` asleep by polling `T1.getState()`, which is `RUNNABLE` while a thread runs,
// `TIMED_WAITING` in a wait with a time limit (`sleep`), `TERMINATED` once it has ended:
// a trick for demos and tests.

// %%
class Interrupts {
    static void untilWaiting(Thread t) throws InterruptedException {  // in sleep, poll...
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.TIMED_WAITING) {
            if (!t.isAlive()) throw new IllegalStateException(t + " ended, never waited");
            if (System.nanoTime() - end > 0) throw new IllegalStateException(t + " runs");
            Thread.sleep(1);
        }
    }

    static void sleepers(long delayMillis) throws InterruptedException {
        long d = delayMillis, t1 = SeedWorkers.patience(d).toMillis();  // T1: too long
        List<Thread> workers = List.of(SeedWorkers.startWorker(0, d),
                SeedWorkers.startWorker(1, t1), SeedWorkers.startWorker(2, d));
        untilWaiting(workers.get(1));  // T1 is asleep
        System.out.println(Thread.currentThread().getName() + ": T1.interrupt()");
        workers.get(1).interrupt();  // a request; T1's catch block decides what it means
        SeedWorkers.joinAll(workers, SeedWorkers.patience(delayMillis));
    }
}

// %% [run]
// Interrupts.sleepers(1000);

// %% [markdown]
// ### The one line that must not be missing
//
// Whoever catches `InterruptedException` holds the only record of the request: throwing
// it cleared the flag. The catch block must rethrow it, or set the flag again with
// `Thread.currentThread().interrupt()`, so that the code above it sees the request too.
//
// `JobWorker` takes jobs from a queue until it is interrupted or takes the `STOP` job.
// Its helper `next()` waits for a job; when the wait is interrupted it returns `null`,
// and the loop checks the flag. The two versions differ in one line: `jobs-restore`
// sets the flag again, `jobs-swallow` does not. `main` interrupts each as it waits, then
// waits (latch `caught`) until it caught the interrupt, and offers two jobs and a `STOP`.
//
// @diagram threads-interrupt

// %%
class JobWorker implements Runnable {
    record Stop(String name, int jobsAfter, String endedBy) { }

    static final String STOP = "STOP";  // a poison pill: the other way to end it
    final BlockingQueue<String> jobs = new LinkedBlockingQueue<>();
    final CountDownLatch caught = new CountDownLatch(1);  // it caught the interrupt
    private final boolean restore;
    int jobsDone; String endedBy = "nothing yet";  // read after join

    JobWorker(boolean restore) { this.restore = restore; }

    public void run() {
        while (true) {
            String job = next();  // waits for a job, or for an interrupt
            if (Thread.currentThread().isInterrupted()) {
                endedBy = "the interrupt";  // asked to stop: leave, flag still set
                return;
            }
            if (STOP.equals(job)) {
                endedBy = "the STOP job";
                return;
            }
            if (job != null) jobsDone++;  // "do" the job
        }
    }

    private String next() {
        try {
            return jobs.poll(10, TimeUnit.SECONDS);  // null: no job came in time
        } catch (InterruptedException e) {           // throwing it cleared the flag
            caught.countDown();
            if (restore) Thread.currentThread().interrupt();  // THE line: set it again
            return null;
        }
    }

    static Stop demo(boolean restore) throws InterruptedException {
        var worker = new JobWorker(restore);
        String name = restore ? "jobs-restore" : "jobs-swallow";
        Thread thread = Thread.ofPlatform().name(name).start(worker);
        try {
            Interrupts.untilWaiting(thread);  // waiting in poll(...) for a job
            thread.interrupt();               // please stop
            boolean caught = worker.caught.await(10, TimeUnit.SECONDS);
            if (!caught) throw new IllegalStateException(name + " never caught it");
            worker.jobs.addAll(List.of("job 1", "job 2"));
        } finally {
            worker.jobs.add(STOP);  // ends it if the interrupt did not
            SeedWorkers.joinAll(List.of(thread), Duration.ofSeconds(10));
        }
        return new Stop(name, worker.jobsDone, worker.endedBy);
    }

    static void both() throws InterruptedException {
        for (Stop s : List.of(demo(false), demo(true))) {
            System.out.printf("%s: interrupted, then took %d jobs; ended by %s%n",
                    s.name(), s.jobsAfter(), s.endedBy());
        }
    }
}

// %% [markdown]
// Both catch the interrupt. `jobs-swallow` carries on as if nothing had happened: it
// takes the two jobs, and only the `STOP` job ends it. Without one it would wait for
// jobs forever and, not being a daemon thread, keep the JVM from exiting. `jobs-restore`
// sees the flag as soon as `next()` returns, and leaves; the jobs stay in the queue.

// %% [run]
// JobWorker.both();

// %% [markdown]
// ## Which one to use
//
// | you need | use |
// |---|---|
// | a thread | `Thread.ofPlatform().name("...").start(r)`; before Java 21, `new Thread(r, "name")` |
// | many threads that mostly wait | `Thread.ofVirtual()` (lesson `virtual_threads`) |
// | results from tasks, and threads reused | an `ExecutorService` (lesson `thread_pool`) |
// | a thread's work, done | `join()`, or `join(Duration)`, which says whether it ended |
// | a thread stopped | `interrupt()`, and code that lets it end the thread |
//
// ## Pitfalls
//
// - **`run()` is not `start()`.** It runs the code on the caller's thread and starts no
//   thread. A thread starts once: another `start()` throws `IllegalThreadStateException`.
// - **Start them all, then join them all.** Joining in the start loop runs them in turn.
// - **Read results after `join`.** Before it they may be missing, or not yet visible.
// - **Never swallow `InterruptedException`.** Rethrow it, or set the flag again.
// - **`Thread.interrupted()` clears the flag**; `isInterrupted()` only reads it. It is
//   static: `t.interrupted()` compiles, but tests and clears the caller's flag, not t's.
// - **An exception ends only its own thread.** `join` returns normally; the exception
//   goes to the thread's uncaught-exception handler (lesson `thread_exceptions`).
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `threading.Thread(target=worker, args=("T0", 1.0))` | `Thread.ofPlatform().name("T0").unstarted(r)` |
// | `t.start()`, `t.join()` | `t.start()`, `t.join()` |
// | `t.join(timeout=1.0)`, then `t.is_alive()` | `t.join(Duration.ofSeconds(1))` returns whether it ended |
// | `threading.current_thread().name` | `Thread.currentThread().getName()` |
// | a `threading.Event` the worker checks | `t.interrupt()`; the worker checks its flag |
//
// Python's `threading` cannot interrupt a thread: one blocked in `time.sleep` or
// `queue.get()` wakes only when its time or item comes, so a worker that must stop
// waits with a timeout and checks an `Event` (in Java, an interrupt wakes a thread
// from `sleep` or `take()`). The seed's workers overlap in both languages, since
// sleeping releases CPython's GIL; threads that compute run in parallel on the JVM,
// not under the GIL (lesson `cpu_bound`).
//
// ## Try it
//
// - In `SeedWorkers.run`, replace `threads.add(startWorker(i, delayMillis))` with
//   `startWorker(i, delayMillis).join()` and run `jbang threads seed`: each worker
//   starts only after the one before has finished, three seconds in all, not one.
// - In `SeedWorkers.work`, delete the `return;` in the catch block and run
//   `jbang threads stop`: `T1` now prints "interrupted" and then "finished", a worker
//   that heard the request and carried on.
// - In `JobWorker.next`, delete `if (restore)` from the line that sets the flag again:
//   both workers now end by the interrupt, with no jobs taken.
//
// ## Summary
//
// Start every thread with a name, join every thread you start before you use its work,
// and stop a thread by interrupting it and letting the interrupt end it.
//
// `start()` returns at once; `join` waits for the thread's end and makes all it did
// visible to the joiner. An interrupted worker that sleeps or waits gets an
// `InterruptedException`, which its catch block must rethrow or turn back into the flag;
// one that computes must check the flag. Some waits, such as `Lock.lock()`, do not end
// early, but return with the flag set.

// %% [main]
class threads {  // the entry point, script only: `jbang threads --help`
    static final Section[] SECTIONS = {
            new Section("seed", "the seed's run: T0..T2 each sleep 1 s, main joins them",
                    speed -> SeedWorkers.run(Math.round(1000 / speed))),
            new Section("join", "what main sees without join, and with it",
                    speed -> ForgottenJoin.demo()),
            new Section("stop", "interrupt T1 as it sleeps, then two waiters", speed -> {
                    Interrupts.sleepers(Math.round(1000 / speed)); JobWorker.both(); })};
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
