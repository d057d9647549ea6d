///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Cancellation: stopping a task that is already running
//
// `future.cancel(true)` returns `true`, the future says `CANCELLED`, and the task may
// still run for ever: Java cannot stop a thread, only ask it to stop, by interrupting it.
// A task that swallows the request keeps its pool alive; one that honours it stops.
//
// **You will learn**
// - what `Future.cancel(true)` does to a running task, and what it cannot do
// - to write a task that stops within one loop iteration: restore the flag, or leave
// - that `get(timeout)` gives up waiting but cancels nothing, while `invokeAny` cancels
// - which waits no interrupt ends (`synchronized`, `Lock.lock()`, a blocking socket
//   read), and the alternatives that answer it

// %%
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.concurrent.locks.*;
import java.util.stream.*;
import static java.util.concurrent.TimeUnit.MILLISECONDS;

// %% [markdown]
// ## A task that swallows its cancellation
//
// Lesson `threads` shows what `t.interrupt()` does and which waits answer it. A task in
// a pool has no thread of ours to interrupt: its `Future` does it. `FutureTask`'s
// `cancel(true)`, on a task not yet completed, marks the future cancelled, interrupts
// the thread running the task, and wakes every caller of `get()`, which throws
// `CancellationException`. A queued task never runs; a running one is only asked.
//
// Both tasks below run one *step* of work per loop iteration (`Step` is a seam: the
// tests hold a task in a step). `SwallowingTask` has its own off switch, `running`, and
// swallows a step's `InterruptedException`, whose throwing cleared the flag: it is lost.

// %%
interface Step { void run(int step) throws InterruptedException; }  // one step of work

/** BUG: works step after step, and swallows the interrupt that cancel(true) sends. */
class SwallowingTask implements Runnable {
    final AtomicInteger steps = new AtomicInteger();  // steps begun
    volatile boolean running = true;  // its own switch, which cancel() knows nothing of
    private final Step step;

    SwallowingTask(Step step) { this.step = step; }

    public void run() {
        while (running) {
            try {
                step.run(steps.incrementAndGet());
            } catch (InterruptedException e) { }  // "cannot happen"; the loop goes on
        }
    }
}

// %% [markdown]
// `main` submits it to a pool of one thread, `worker`, waits (latch `inStep3`) until it
// is in step 3, a slow one (ten seconds, unless interrupted; the others take 200 ms
// divided by `--speed`), and cancels it. The future is `CANCELLED` at once, yet `worker`
// begins steps 4 and 5 (latch `begun`), and `awaitTermination` returns `false`: it
// reports, it does not act. `close()` would wait for ever, so a `finally` ends the task
// for sure with its own switch, `running = false`, seen at the next loop check.
//
// @diagram cancellation-swallowed

// %%
class Cancel {
    static final ThreadFactory WORKER = Thread.ofPlatform().name("worker").factory();

    /** Steps of `pause` ms, but step 3 is slow (`slow` ms): main cancels it then. */
    static Step steps(long pause, long slow, CountDownLatch in3, CountDownLatch begun) {
        return step -> {
            begun.countDown();
            if (step == 3) in3.countDown();
            Thread.sleep(step == 3 ? slow : pause);
        };
    }

    /** Cancels a SwallowingTask; returns what awaitTermination(pause) said. */
    static boolean swallowed(double speed) throws Exception {
        long pause = Math.round(200 / speed), limit = 10_000 + 10 * pause;
        CountDownLatch inStep3 = new CountDownLatch(1), begun = new CountDownLatch(5);
        var task = new SwallowingTask(steps(pause, limit, inStep3, begun));
        try (var pool = Executors.newSingleThreadExecutor(WORKER)) {
            boolean ended;
            try {
                Future<?> future = pool.submit(task);
                await(inStep3, limit);
                System.out.println("SwallowingTask, in slow step 3: cancel(true) returns "
                        + future.cancel(true));
                System.out.printf("the future is %s, isDone() %s%n", future.state(),
                        future.isDone());
                await(begun, limit);
                System.out.println("yet worker has begun step 4, then step 5");
                pool.shutdown();
                ended = pool.awaitTermination(pause, MILLISECONDS);
                System.out.printf("shutdown(); awaitTermination(%d ms) returns %s%n",
                        pause, ended);
            } finally {
                task.running = false;  // the last resort: it stops after this step
            }
            System.out.println("task.running = false; awaitTermination returns "
                    + pool.awaitTermination(limit, MILLISECONDS));
            return ended;
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

// %% [run]
// boolean ended = Cancel.swallowed(1);

// %% [markdown]
// ## The fix: keep the request, and act on it
//
// `CancellableTask` differs in two lines: its catch block sets the flag again, and its
// loop runs while the flag is clear. An interrupt that lands in a step ends the step and
// then the loop; one that lands between steps is seen by the loop check, or makes the
// next `sleep` throw at once. Leaving from the catch block (`return`) works too, and a
// `Callable` can let `InterruptedException` propagate. Restoring the flag is safe in a
// pool: a `ThreadPoolExecutor` worker clears it before its next task, unless the pool is
// stopping (JDK source, `runWorker`). The same demo counts the steps begun after the
// cancel: 0 on every run, as the task stops in the step it was in.
//
// @diagram cancellation-handshake

// %%
/** Stops within one step: the catch sets the flag again, and the loop checks it. */
class CancellableTask implements Runnable {
    final AtomicInteger steps = new AtomicInteger();  // steps begun
    private final Step step;

    CancellableTask(Step step) { this.step = step; }

    public void run() {
        while (!Thread.currentThread().isInterrupted()) {  // asked to stop? each step
            try {
                step.run(steps.incrementAndGet());
            } catch (InterruptedException e) {       // throwing it cleared the flag:
                Thread.currentThread().interrupt();  // set it again; the loop ends
            }
        }
    }

    /** Cancels it in its slow step 3; returns the steps begun after the cancel. */
    static int demo(double speed) throws Exception {
        long pause = Math.round(200 / speed), limit = 10_000 + 10 * pause;
        CountDownLatch inStep3 = new CountDownLatch(1), begun = new CountDownLatch(5);
        var task = new CancellableTask(Cancel.steps(pause, limit, inStep3, begun));
        try (var pool = Executors.newSingleThreadExecutor(Cancel.WORKER)) {
            Future<?> future = pool.submit(task);
            Cancel.await(inStep3, limit);
            System.out.println("CancellableTask, in slow step 3: cancel(true) returns "
                    + future.cancel(true));
            pool.shutdown();
            System.out.println("shutdown(); awaitTermination returns "
                    + pool.awaitTermination(limit, MILLISECONDS));
            int after = task.steps.get() - 3;
            System.out.println("steps begun after the cancel: " + after);
            return after;
        }
    }
}

// %% [run]
// int stepsAfter = CancellableTask.demo(1);

// %% [markdown]
// ## Timeouts: giving up waiting is not cancelling
//
// A timeout bounds how long *you* wait, not the task. `future.get(t, unit)` throws
// `TimeoutException` and leaves the task `RUNNING`: cancel it yourself, in a `finally`.
// `invokeAny(tasks, t, unit)` returns the first result to succeed and cancels, with
// interrupts, every other task (all of them if time runs out); `invokeAll(tasks, t,
// unit)` cancels those not done in time. Below, a `Slow` task sleeps ten seconds unless
// interrupted; `fast` answers once `slow2` has started, so both run on every run.

// %%
class Timeouts {
    /** Sleeps `ms` unless interrupted; says when it has started, and when it stopped. */
    record Slow(long ms, CountDownLatch started, CountDownLatch stopped)
            implements Callable<String> {
        Slow(long ms) { this(ms, new CountDownLatch(1), new CountDownLatch(1)); }

        public String call() throws InterruptedException {
            started.countDown();
            try {
                Thread.sleep(ms);
                return "slow";
            } catch (InterruptedException e) {
                stopped.countDown();
                throw e;  // a Callable may throw it: the simplest way to honour it
            }
        }
    }

    static String demo(double speed) throws Exception {
        long pause = Math.round(200 / speed), limit = 10_000 + 10 * pause;
        try (var pool = Executors.newFixedThreadPool(2)) {
            var slow = new Slow(limit);
            Future<String> future = pool.submit(slow);
            Cancel.await(slow.started(), limit);
            try {
                future.get(pause, MILLISECONDS);
            } catch (TimeoutException e) {
                System.out.printf("get(%d ms) throws TimeoutException; the task is %s%n",
                        pause, future.state());
            } finally {
                future.cancel(true);  // we stopped waiting: now stop the task
            }
            Cancel.await(slow.stopped(), limit);
            System.out.println("cancel(true) interrupted it; now " + future.state());

            var slow2 = new Slow(limit);
            Callable<String> fast = () -> {
                Cancel.await(slow2.started(), limit);  // answers once slow2 runs
                return "fast";
            };
            String first = pool.invokeAny(List.of(slow2, fast), limit, MILLISECONDS);
            Cancel.await(slow2.stopped(), limit);
            System.out.println("invokeAny returns " + first + ", and interrupted slow2");
            return first;
        }
    }
}

// %% [run]
// String first = Timeouts.demo(1);

// %% [markdown]
// ## What an interrupt cannot stop
//
// A thread waiting to enter `synchronized`, or in `Lock.lock()`, ignores an interrupt:
// it waits for the lock, and returns with its flag set; so does a platform thread in a
// `Socket` read with no timeout. Below, `main` holds a `ReentrantLock`, a thread per
// method tries to take it, and `main` interrupts the first two once parked (`WAITING`).
// `lock()` still waits `pause` ms later, and gets the lock only when `main` lets go;
// `lockInterruptibly()` throws at once; `tryLock(pause ms)` gives up by itself.

// %%
class Uninterruptible {
    static String take(Lock lock, String how, long pause) {
        try {
            boolean got = switch (how) {
                case "lock()" -> { lock.lock(); yield true; }
                case "lockInterruptibly()" -> { lock.lockInterruptibly(); yield true; }
                default -> lock.tryLock(pause, MILLISECONDS);
            };
            if (!got) return "gave up after " + pause + " ms";
            lock.unlock();
            return "got the lock, flag set: " + Thread.currentThread().isInterrupted();
        } catch (InterruptedException e) {
            return "threw InterruptedException at once";
        }
    }

    static void untilParked(Thread t, long limit) throws InterruptedException {
        long end = System.nanoTime() + MILLISECONDS.toNanos(limit);
        while (t.getState() != Thread.State.WAITING) {  // polling, for a demo
            if (System.nanoTime() > end) throw new IllegalStateException(t + " runs");
            Thread.sleep(1);
        }
    }

    static Map<String, String> demo(double speed) throws InterruptedException {
        long pause = Math.round(200 / speed), limit = 10_000 + 10 * pause;
        var lock = new ReentrantLock();
        var said = new ConcurrentHashMap<String, String>();
        var threads = new ArrayList<Thread>();
        lock.lock();  // main holds the lock, as a stuck owner would
        try {
            for (String how : List.of("lock()", "lockInterruptibly()", "tryLock")) {
                Thread t = Thread.ofPlatform().name(how)
                        .start(() -> said.put(how, take(lock, how, pause)));
                threads.add(t);
                if (!how.equals("tryLock")) {
                    untilParked(t, limit);
                    t.interrupt();
                }
                t.join(how.equals("lock()") ? pause : limit);
                System.out.printf("%-20s %s%n", how + ":", said.getOrDefault(how,
                        "interrupted, and still waiting " + pause + " ms later"));
            }
        } finally {
            lock.unlock();
            for (Thread t : threads) t.join(limit);
        }
        System.out.printf("%-20s %s%n", "lock(), at last:", said.get("lock()"));
        return said;
    }
}

// %% [run]
// var said = Uninterruptible.demo(1);

// %% [markdown]
// | this wait ignores an interrupt | the alternative that answers it |
// |---|---|
// | entering `synchronized` | a `ReentrantLock`: `lockInterruptibly()`, `tryLock(t, unit)` |
// | `Lock.lock()` | `lockInterruptibly()`, `tryLock(t, unit)` |
// | a platform thread's `Socket` read | `setSoTimeout(ms)`; `close()` from another thread (the read throws `SocketException`); a `SocketChannel`, or a virtual thread: an interrupt closes the socket |
//
// ## Pitfalls
//
// - **`isCancelled()` says nothing about the task**, which may still run: wait for its
//   end some other way (`awaitTermination`, a latch).
// - **Wrapping loses the request.** Before `throw new RuntimeException(e)`, call
//   `Thread.currentThread().interrupt()`. A `catch (Exception e)` catches it too.
// - **`cancel(false)` interrupts nothing**, nor does `CompletableFuture.cancel(true)`:
//   its argument "has no effect" (lesson `completable_future`).
// - **A whole pool**: `shutdownNow()` interrupts every task (lesson `executor_lifecycle`).
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | asyncio `task.cancel()`: `CancelledError` at the task's next `await` | `future.cancel(true)`: an interrupt; `InterruptedException` at the next wait that answers it |
// | `except CancelledError:` without `raise` (discouraged; needs `task.uncancel()`) | `catch (InterruptedException e) { }`: set the flag again, or leave |
// | `asyncio.wait_for(aw, t)`, `asyncio.timeout(t)`: cancel on timeout | `get(t, unit)` does not; `invokeAny`, `invokeAll` with a timeout do |
// | `concurrent.futures` `f.cancel()`: `False` once the call runs | `cancel(false)`: `true` even then; the task runs on, its result dropped |
// | no way to stop or interrupt a `threading.Thread` | `t.interrupt()`, which the thread must honour |
//
// Both are cooperative: a coroutine that never awaits cannot be cancelled, nor a Java
// loop that neither waits nor checks its flag. A Python thread checks an `Event`.
//
// ## Try it
//
// - Run `jbang cancellation locks --speed 0.25`: `lock()` still waits 800 ms after its
//   interrupt and `tryLock` gives up after 800 ms; `lockInterruptibly()` answers at once.
// - In `Timeouts.demo`, make it `invokeAny(List.of(slow2), pause, MILLISECONDS)`: it
//   throws `TimeoutException` after `pause` ms, having cancelled `slow2`, so the pool
//   closes at once.
//
// ## Summary
//
// Cancelling a running task only interrupts its thread, so a task must restore the flag
// or stop when it catches `InterruptedException`, or nothing can end it.
//
// `cancel(true)` marks the future and interrupts; `get(timeout)` stops waiting, cancels
// nothing; `invokeAny` and `invokeAll` with a timeout cancel what they leave behind.
// Where a wait ignores interrupts (`synchronized`, `lock()`, a socket read), bound it:
// `lockInterruptibly()`, `tryLock` with a timeout, a socket timeout, or `close()`.

// %% [main]
class cancellation {  // the entry point, script only: `jbang cancellation --help`
    static final Section[] SECTIONS = {
            new Section("cancel", "cancel(true): a task that swallows it, one that stops",
                    speed -> { Cancel.swallowed(speed); CancellableTask.demo(speed); }),
            new Section("timeouts", "get(timeout) cancels nothing; invokeAny does",
                    Timeouts::demo),
            new Section("locks", "an interrupt ends lockInterruptibly(), not lock()",
                    Uninterruptible::demo)};
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
