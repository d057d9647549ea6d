///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Cancellation: stopping a task that is already running
//
// `future.cancel(true)` returns `true`, the future says `CANCELLED`, and the task may
// still run for ever: Java cannot stop a thread, only ask it to stop, by interrupting it.
// A task that swallows the request runs on; so does one stuck in a read that ignores it.
//
// **You will learn**
// - what `Future.cancel(true)` does to a running task, and what it cannot do
// - that a future says `CANCELLED` and `isDone()` while its task may still run
// - that `get(timeout)` gives up waiting but cancels nothing, while `invokeAny` cancels
// - which socket reads an interrupt ends, and how to bound and end one that it does not

// %%
import java.io.*;
import java.net.*;
import java.nio.channels.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.stream.*;
import static java.util.concurrent.TimeUnit.MILLISECONDS;

// %% [markdown]
// ## A task that swallows its cancellation
//
// A task in a pool has no thread of ours to interrupt: its `Future` does it.
// `FutureTask`'s `cancel(true)`, on a task not yet completed, marks the future cancelled,
// interrupts the thread running the task, and wakes every caller of `get()`
// (`CancellationException`). A queued task never runs; a running one is only asked.
//
// `SwallowingTask` runs one *step* per loop iteration (`Step` is one unit of work,
// passed in so the tests can control it) until its own off switch, `running`, is
// cleared. It swallows a step's `InterruptedException`, whose throwing cleared the flag.

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
// is in step 3, a slow one (ten seconds or more, unless interrupted; the others take
// 200 ms divided by `--speed`), and cancels it. The future is `CANCELLED` and done at
// once, yet `worker` begins steps 4 and 5 (latch `begun`). `close()` would wait for
// ever, so a `finally` ends the task with its own switch, `running = false`.
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

    /** Cancels a SwallowingTask in its slow step 3, and watches it run on. */
    static void swallowed(double speed) throws Exception {
        long pause = Math.round(200 / speed), limit = 10_000 + 10 * pause;
        CountDownLatch inStep3 = new CountDownLatch(1), begun = new CountDownLatch(5);
        var task = new SwallowingTask(steps(pause, limit, inStep3, begun));
        try (var pool = Executors.newSingleThreadExecutor(WORKER)) {
            Future<?> future = pool.submit(task);
            try {
                await(inStep3, limit);
                System.out.println("SwallowingTask, in slow step 3: cancel(true) returns "
                        + future.cancel(true));
                System.out.printf("the future is %s, isDone() %s%n", future.state(),
                        future.isDone());
                await(begun, limit);
                System.out.println("yet worker has begun step 4, then step 5");
            } finally {
                task.running = false;  // the last resort: it stops after this step
            }
        }  // close(): shutdown(), then wait until the task has ended
        System.out.println("task.running = false; close() returns");
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
// Cancel.swallowed(1);

// %% [markdown]
// ## The fix: keep the request, and act on it
//
// Lesson `executor_lifecycle` (section `stop`) sets the fix beside the bug, under
// `shutdownNow()`: set the flag again and leave (or let a `Callable` throw it).
// `CancellableTask` sets it again and loops while it is clear, so an interrupt between
// steps ends it too. A `ThreadPoolExecutor` worker clears the flag before its next task
// unless the pool is stopping (JDK source, `runWorker`). The same demo: it ends in step 3.
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
            try {
                Cancel.await(inStep3, limit);
                System.out.print("CancellableTask, in slow step 3: ");
            } finally {  // also the last resort, should step 3 never come
                System.out.println("cancel(true) returns " + future.cancel(true));
            }
        }  // close(): shutdown(), then wait until the task has ended
        int after = task.steps.get() - 3;
        System.out.println("close() returns; steps begun after the cancel: " + after);
        return after;
    }
}

// %% [run]
// int stepsAfter = CancellableTask.demo(1);

// %% [markdown]
// ## Timeouts: giving up waiting is not cancelling
//
// A timeout bounds how long *you* wait. `future.get(t, unit)` throws `TimeoutException`
// and leaves the task `RUNNING`: cancel it yourself, in a `finally`. `invokeAny(tasks,
// t, unit)` returns the first result to succeed and cancels the other tasks (all if time
// runs out); `invokeAll(tasks, t, unit)` runs them all, returns their futures, and
// cancels those not done in time. The JDK's pools cancel with `cancel(true)`. A `Slow`
// task sleeps ten seconds or more unless interrupted; `fast` answers once `slow2` runs.

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
// ## A read that an interrupt cannot end
//
// Some waits ignore an interrupt: entering `synchronized`, `Lock.lock()` (lessons
// `threads`, `deadlock`), and a platform thread's read from a plain `Socket`. Below,
// thread `reader` reads a byte from a loopback connection whose other end, `peer`, never
// writes: a plain `Socket` on a platform thread, then on a virtual thread, then a
// `Socket` made by a `SocketChannel`. `main` cancels once `reader` is in the read (or,
// on a platform thread, about to read: the same, says `NioSocketImpl`), waits `grace`
// ms, and closes a socket still read. `setSoTimeout(limit)` bounds every read.
//
// @diagram cancellation-socket

// %%
class StuckRead {
    /** Reads a byte from `socket`; puts in `said` how the read ended. */
    static void read(Socket socket, Queue<Thread> reading, Queue<String> said) {
        try {
            InputStream in = socket.getInputStream();
            reading.add(Thread.currentThread());
            said.add("read() returns " + in.read());  // peer never writes: it waits
        } catch (IOException e) {
            String why = e.getMessage() == null ? "" : " (" + e.getMessage() + ")";
            said.add(e.getClass().getSimpleName() + why + ", flag set: "
                    + Thread.currentThread().isInterrupted());
        }
    }

    /** Cancels `reader` in its read; returns how the read ended. */
    static String cancel(String how, ThreadFactory threads, boolean channel, double speed)
            throws Exception {
        long pause = Math.round(200 / speed), limit = 10_000 + 10 * pause;
        long grace = Math.max(pause, 500);  // ample for a read that the interrupt ends
        var loopback = InetAddress.getLoopbackAddress();
        var said = new LinkedBlockingQueue<String>();
        var reading = new LinkedBlockingQueue<Thread>();
        try (var server = new ServerSocket(0, 1, loopback);
                var pool = Executors.newThreadPerTaskExecutor(threads);
                Socket socket = channel
                        ? SocketChannel.open(server.getLocalSocketAddress()).socket()
                        : new Socket(loopback, server.getLocalPort());
                Socket peer = server.accept()) {  // connected; peer never writes
            socket.setSoTimeout((int) limit);  // the bound: no read waits longer
            Future<?> future = pool.submit(() -> read(socket, reading, said));
            Thread reader = Objects.requireNonNull(reading.poll(limit, MILLISECONDS));
            while (reader.isVirtual() && reader.getState() == Thread.State.RUNNABLE) {
                Thread.sleep(1);  // until it parks in the read (or the read has ended)
            }
            System.out.println("reader, " + how + ": cancel(true) returns "
                    + future.cancel(true));
            String end = said.poll(grace, MILLISECONDS);
            if (end == null) {
                System.out.printf("  %d ms later still reading; close()%n", grace);
                socket.close();  // ends the read for sure
                end = said.poll(limit, MILLISECONDS);
            }
            System.out.println("  " + end);
            return end;
        }  // closes peer, socket, then pool (the task has ended), then server
    }

    static List<String> demo(double speed) throws Exception {
        var platform = Thread.ofPlatform().name("reader").factory();
        var virtual = Thread.ofVirtual().name("reader").factory();
        return List.of(cancel("platform thread, plain Socket", platform, false, speed),
                cancel("virtual thread, plain Socket", virtual, false, speed),
                cancel("platform thread, SocketChannel", platform, true, speed));
    }
}

// %% [run]
// var ends = StuckRead.demo(1);

// %% [markdown]
// The platform thread's plain read waits on after the cancel until `close()` (or the
// timeout) ends it. On a virtual thread the interrupt closes the socket; through a
// `SocketChannel`, the channel. Every read ends with its flag set, its connection gone.
//
// | this wait ignores an interrupt | what ends or bounds it |
// |---|---|
// | entering `synchronized`; `Lock.lock()` | a `Lock`'s `lockInterruptibly()`, `tryLock(t, unit)` |
// | a platform thread's read on a plain `Socket` | `setSoTimeout(ms)`, then check the flag after each `SocketTimeoutException`; `close()` from another thread; a virtual thread or a `SocketChannel`: an interrupt closes the socket |
//
// ## Pitfalls
//
// - **`isCancelled()` says nothing about the task**, which may still run: wait for its
//   end some other way (`awaitTermination`, a latch).
// - **Wrapping loses the request.** Before `throw new RuntimeException(e)`, call
//   `Thread.currentThread().interrupt()`. A `catch (Exception e)` catches it too.
// - **`cancel(false)` interrupts nothing**, nor does `CompletableFuture.cancel(true)`:
//   its argument "has no effect" (lesson `completable_future`).
// - **A whole pool**: `shutdownNow()` interrupts the running tasks and hands back the
//   queued ones (lesson `executor_lifecycle`).
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
// - In `SwallowingTask`, restore the flag in the catch but keep `while (running)`: the
//   output does not change; a restored flag that nothing checks stops nothing.
// - In `Timeouts.demo`, make it `invokeAny(List.of(slow2), pause, MILLISECONDS)`: it
//   throws `TimeoutException` after `pause` ms, having cancelled `slow2`; the pool closes
//   at once, and you see the exception's stack trace and exit status 1.
// - In `StuckRead.cancel`, delete `socket.close();`: the platform thread's read ends at
//   its timeout, `limit` ms after it began: `SocketTimeoutException`, flag still set.
//
// ## Summary
//
// Cancelling a running task only interrupts its thread, so a task must restore the flag
// or stop when it catches `InterruptedException`, or neither `cancel(true)` nor
// `shutdownNow()` can end it.
//
// `get(timeout)` cancels nothing; `invokeAny` and `invokeAll` with a timeout do. A
// platform thread's plain `Socket` read ignores an interrupt: bound it (`setSoTimeout`),
// end it (`close()`), or read on a virtual thread or through a `SocketChannel`.

// %% [main]
class cancellation {  // the entry point, script only: `jbang cancellation --help`
    static final Section[] SECTIONS = {
            new Section("cancel", "cancel(true): a task that swallows it, one that stops",
                    speed -> { Cancel.swallowed(speed); CancellableTask.demo(speed); }),
            new Section("timeouts", "get(timeout) cancels nothing; invokeAny does",
                    Timeouts::demo),
            new Section("socket", "cancel a Socket read: platform, virtual, channel",
                    StuckRead::demo)};
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
