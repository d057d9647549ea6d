///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Executor lifecycle: end every pool, or it never ends
//
// A thread pool is a resource, like an open file: whoever creates it must end it. Its
// workers are ordinary platform threads, not daemons, and when the queue runs dry they
// do not end: they wait for the next task, for ever. While one of them waits, the JVM
// cannot exit, and a program whose `main` has returned hangs with no error and no
// output. The Python seed says it in one line: "Resource leaks: always join threads or
// use context managers". This lesson shows the leak first (a JVM that outlives its own
// `main`, then a pool per call that leaks a thread per call), then the pool's whole
// life: what `shutdown()`, `shutdownNow()`, `awaitTermination()` and `close()` each do
// to the task that is running and to the tasks still queued; what happens to a task
// that arrives after the end, or finds a bounded queue full (the rejection policies);
// and the task's half of the contract: a task that swallows an interrupt cannot be
// stopped by its pool. Submitting tasks and collecting their results is the
// `thread_pool` lesson; this one is about how a pool ends.
//
// Timing rule, borrowed from the JSR-166 tests: a wait that *should* time out gets a
// short bound, the **patience** (500 ms by default), and a wait that should succeed
// gets 10 s and returns the moment it does. Run it: `jbang executor_lifecycle`, or
// `java jbang-scripts/executor_lifecycle.java`; try `--help`.

// %%
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RejectedExecutionHandler;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

// %% [markdown]
// ## Helpers: every wait has a limit
//
// A lesson about things that never end must not hang itself. Each helper waits at
// most 10 s for something that should happen, and throws a clear
// `IllegalStateException` if it does not.

// %%
class LifecycleWaits {
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    static void await(CountDownLatch latch, String what) throws InterruptedException {
        if (!latch.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(what + " within " + TIMEOUT.toSeconds()
                    + " s");
        }
    }

    /** For a pool that must end: a stuck one fails the demo instead of hanging it. */
    static void terminated(ExecutorService pool) throws InterruptedException {
        if (!pool.awaitTermination(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("the pool did not terminate within "
                    + TIMEOUT.toSeconds() + " s");
        }
    }

    static void join(Thread thread) throws InterruptedException {
        if (!thread.join(TIMEOUT)) {
            throw new IllegalStateException(thread.getName() + " still running after "
                    + TIMEOUT.toSeconds() + " s");
        }
    }

    /** Polls a condition that another thread will make true. */
    static void until(BooleanSupplier condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new IllegalStateException(what);
            Thread.sleep(1);  // polling a condition, not synchronising by sleeping
        }
    }

    static double millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e6;
    }
}

// %% [markdown]
// ## The naive version: `main` returns, the JVM does not
//
// The smallest leak there is: `main` creates a pool, submits one task, gets its
// result and returns, without ending the pool. To watch a JVM fail to exit we need
// a second JVM: the program below is written to a temporary file and run by the JDK's
// source launcher (`java LeakyMain.java`). Its argument says how it ends its pool: not
// at all, `shutdown()` or `close()`; the demo starts two children side by side, one
// that forgets its pool and one that closes it (the tests run all three). Before it
// ends the pool, the child lists its live non-daemon threads, the ones the JVM will
// wait for; after, it says whether the pool has terminated.
//
// The parent waits for the line `main returns`, then calls `waitFor(bound)`: `false`
// means the child is still alive after the bound, and the parent kills it with
// `destroyForcibly()`. Every child is destroyed in a `finally`, whatever happens. By
// the timing rule, the leaked child is watched for the patience, and the others for
// up to 10 s; the time to exit is measured from `main returns` to the moment the
// child's output closed, which is when its process ended.

// %%
class LeakedPoolChild {
    enum Ending {
        FORGOTTEN("nothing"), SHUTDOWN("shutdown()"), CLOSE("close()");

        final String label;
        Ending(String label) { this.label = label; }
    }

    /** The child's whole program; its argument says how to end the pool. */
    static final String PROGRAM = """
            import java.util.concurrent.*;

            class LeakyMain {
                public static void main(String[] args) throws Exception {
                    ExecutorService pool = Executors.newFixedThreadPool(2);
                    Future<String> reply = pool.submit(
                            () -> "task ran on " + Thread.currentThread().getName());
                    System.out.println(reply.get(10, TimeUnit.SECONDS));
                    System.out.println("non-daemon threads: " + Thread.getAllStackTraces()
                            .keySet().stream().filter(t -> !t.isDaemon())
                            .map(Thread::getName).sorted().toList());
                    switch (args[0]) {
                        case "SHUTDOWN" -> pool.shutdown();
                        case "CLOSE" -> pool.close();
                        default -> { }  // FORGOTTEN: the pool is never ended
                    }
                    System.out.println("pool terminated: " + pool.isTerminated());
                    System.out.println("main returns");
                }
            }
            """;
    static final String MAIN_RETURNS = "main returns";
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);  // a loaded machine

    /** What the parent saw: did the child exit within the bound, and when. */
    record Run(Ending ending, List<String> output, Duration bound, boolean exited,
            double millisAfterMain, long pid) { }

    /** One child JVM and the thread that reads what it prints. */
    static final class Child {
        final Ending ending;
        final Process process;
        final List<String> output = Collections.synchronizedList(new ArrayList<>());
        private final CountDownLatch mainReturned = new CountDownLatch(1);
        private final CountDownLatch outputClosed = new CountDownLatch(1);
        private volatile long mainReturnedAt;
        private volatile long outputClosedAt;
        private final Thread reader;

        Child(Path source, Ending ending) throws IOException {
            this.ending = ending;
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            process = new ProcessBuilder(java.toString(),
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",  // a quicker start
                    source.toString(), ending.name())
                    .redirectErrorStream(true).start();
            reader = Thread.ofPlatform().name("child-reader-" + ending).start(this::read);
        }

        private void read() {
            try (var in = process.inputReader()) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.equals(MAIN_RETURNS)) {
                        mainReturnedAt = System.nanoTime();
                        mainReturned.countDown();
                    } else {
                        output.add(line);
                    }
                }
            } catch (IOException e) {
                output.add("(could not read the child: " + e + ")");
            } finally {
                outputClosedAt = System.nanoTime();  // the child's process has ended
                outputClosed.countDown();
                mainReturned.countDown();  // never leave watch() waiting for a dead child
            }
        }

        /** Waits for main to return, then up to bound for the child to exit. */
        Run watch(Duration bound) throws InterruptedException {
            if (!mainReturned.await(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
                    || mainReturnedAt == 0) {
                throw new IllegalStateException(
                        "the child never reached the end of main: " + output);
            }
            boolean exited = process.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS);
            double after;
            if (exited) {
                LifecycleWaits.await(outputClosed, "the child's output never closed");
                after = (outputClosedAt - mainReturnedAt) / 1e6;
            } else {
                after = LifecycleWaits.millisSince(mainReturnedAt);
            }
            return new Run(ending, List.copyOf(output), bound, exited, after,
                    process.pid());
        }

        /** Kills the child if it is still alive; waits until it and its reader end. */
        void destroy() throws InterruptedException {
            process.destroyForcibly();
            if (!process.waitFor(LifecycleWaits.TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw new IllegalStateException("child " + process.pid()
                        + " survived a kill");
            }
            LifecycleWaits.join(reader);
        }
    }

    /** A wait that should time out gets the patience; one that should succeed, 10 s. */
    static Duration boundFor(Ending ending, Duration patience) {
        return ending == Ending.FORGOTTEN ? patience : LifecycleWaits.TIMEOUT;
    }

    /** Starts one child per ending (all at once), watches each, destroys them all. */
    static List<Run> run(List<Ending> endings, Duration patience)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("executor_lifecycle");
        Path source = Files.writeString(dir.resolve("LeakyMain.java"), PROGRAM);
        var children = new ArrayList<Child>();
        try {
            for (Ending ending : endings) children.add(new Child(source, ending));
            var runs = new ArrayList<Run>();
            for (Child child : children) {
                runs.add(child.watch(boundFor(child.ending, patience)));
            }
            return runs;
        } finally {
            for (Child child : children) child.destroy();
            Files.deleteIfExists(source);
            Files.deleteIfExists(dir);
        }
    }

    static void demo(Duration patience) throws IOException, InterruptedException {
        var runs = run(List.of(Ending.FORGOTTEN, Ending.CLOSE), patience);
        System.out.println("each child: submits a task to newFixedThreadPool(2), "
                + "ends the pool (or not), returns");
        for (Run r : runs) {
            System.out.println("pool ended with " + r.ending().label + ":");
            r.output().forEach(line -> System.out.println("  " + line));
            String verdict = r.exited() ? "exited %.0f ms after main"
                    : "alive %.0f ms after main; destroyForcibly()";
            System.out.printf("  waitFor(%d ms) after main returned: %s -> %s%n",
                    r.bound().toMillis(), r.exited(),
                    verdict.formatted(r.millisAfterMain()));
        }
        Run leaked = runs.get(0);
        Run closed = runs.get(1);
        System.out.printf("forgotten pool: still alive %.0f ms after main returned (then "
                + "killed); close(): exited in %.0f ms%n",
                leaked.millisAfterMain(), closed.millisAfterMain());
    }
}

// %% [run]
// LeakedPoolChild.demo(Duration.ofMillis(500));

// %% [markdown]
// Both children ran their task and reached the end of `main` with the same two
// non-daemon threads: `main` and the pool's worker. In the child that closed its pool,
// `close()` ended the worker, and the JVM exited as soon as `main` returned. In the
// other, the worker is still parked in the queue's `take()`: nothing will ever put a
// task there or end the pool, so the JVM waits for a thread that waits for a task,
// until someone kills the process. No exception, no message, no stack trace: only a
// program that never finishes, or a test run, a container or a CI job that times out.
//
// @diagram executor_lifecycle-leak
//
// ## The same leak in a program that never ends: a pool per call
//
// In a server the JVM is meant to run for ever, so a forgotten pool does not stop an
// exit: it leaks. A method that builds a pool for each call and forgets it leaves one
// more parked worker behind on every call. The garbage collector cannot help: a live
// thread is a root, and each worker holds a reference to its own pool, so neither is
// ever unreachable. Below, `handle` is called a few times and the live worker threads
// are counted after a `System.gc()`. (The demo keeps each pool only to clean up.)

// %%
class PoolPerCallLeak {
    static final String PREFIX = "request-";

    /** The bug: a new pool on every call, never ended. */
    static String handle(int request, Consumer<ExecutorService> created)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2,
                Thread.ofPlatform().name(PREFIX + request + "-worker-", 1).factory());
        created.accept(pool);  // the demo's hook, so that it can clean up afterwards
        return pool.submit(() -> "reply " + request)
                .get(LifecycleWaits.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    static List<Thread> liveWorkers() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(PREFIX)).toList();
    }

    /** Returns how many workers were still alive after the calls and a GC. */
    static int demo(int calls) throws Exception {
        var pools = new ArrayList<ExecutorService>();
        int leaked;
        try {
            for (int i = 1; i <= calls; i++) handle(i, pools::add);
            System.gc();  // no help: live threads are GC roots
            LifecycleWaits.until(() -> liveWorkers().stream()  // each back in take()
                    .allMatch(t -> t.getState() == Thread.State.WAITING),
                    "a worker never went back to waiting for a task");
            List<Thread> workers = liveWorkers();
            leaked = workers.size();
            System.out.printf("%d calls returned; worker threads still alive after "
                    + "System.gc(): %d%n", calls, leaked);
            workers.stream().map(t -> "  " + t.getName() + ": " + t.getState())
                    .sorted().forEach(System.out::println);
        } finally {
            List<Thread> workers = liveWorkers();
            pools.forEach(ExecutorService::close);  // the fix: end each pool
            for (Thread worker : workers) LifecycleWaits.join(worker);
        }
        System.out.printf("after close() on each pool: %d%n", liveWorkers().size());
        return leaked;
    }
}

// %% [run]
// int leakedWorkers = PoolPerCallLeak.demo(5);

// %% [markdown]
// One worker per call (each pool started one thread for its one task), each `WAITING`
// for a task that will never come; only `close()` ends them. The fix is not to close
// faster but to create less: one long-lived pool for the application, ended once at
// shutdown, or a `try`-with-resources block around the pool when its life really is
// one call.
//
// ## Ending a pool, four ways
//
// `ThreadPoolExecutor` keeps a run state. It starts `RUNNING`; `shutdown()` moves it to
// `SHUTDOWN` (no new tasks, but the queue still drains); `shutdownNow()` to `STOP` (no
// new tasks, the queue is emptied and handed back, the running tasks are interrupted);
// when the last worker has left it passes through `TIDYING` to `TERMINATED`.
// `isShutdown()` tells whether it has left `RUNNING`, `isTerminated()` whether it has
// reached the end. Only `awaitTermination()` and `close()` wait for it.
//
// @diagram executor_lifecycle-states
//
// To see each ending do its work, every row below builds the same scene: a pool of
// one worker, running one task that is held on a closed gate (a latch), with three
// tasks queued behind it. Then it ends the pool one way, offers it one more task, and
// counts what ran. `close()` is called from a separate "closer" thread, because it
// waits; the last row interrupts that closer while it waits.

// %%
class GatedPool implements AutoCloseable {
    /** A queued task: all it does is count that it ran. */
    record Queued(int id, AtomicInteger ran) implements Runnable {
        public void run() { ran.incrementAndGet(); }
    }

    final ExecutorService pool;
    final List<Runnable> queued = new ArrayList<>();
    final AtomicInteger queuedRan = new AtomicInteger();
    final AtomicInteger heldFinished = new AtomicInteger();
    final AtomicInteger heldInterrupted = new AtomicInteger();
    private final CountDownLatch started = new CountDownLatch(1);
    private final CountDownLatch gate = new CountDownLatch(1);

    /** One worker, held by a running task on a closed gate, and n tasks queued. */
    GatedPool(String name, int n) throws InterruptedException {
        pool = Executors.newFixedThreadPool(1,
                Thread.ofPlatform().name(name + "-worker-", 1).factory());
        try {
            pool.execute(this::held);
            LifecycleWaits.await(started, "the held task never started");
        } catch (RuntimeException | InterruptedException e) {
            pool.shutdownNow();  // a failed start must not leak the worker either
            throw e;
        }
        for (int id = 1; id <= n; id++) queued.add(new Queued(id, queuedRan));
        queued.forEach(pool::execute);
    }

    private void held() {
        started.countDown();
        try {
            if (!gate.await(LifecycleWaits.TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw new IllegalStateException("the gate never opened");
            }
            heldFinished.incrementAndGet();
        } catch (InterruptedException e) {
            heldInterrupted.incrementAndGet();
            Thread.currentThread().interrupt();  // asked to stop: keep the flag, end
        }
    }

    void open() { gate.countDown(); }

    String heldTask() {
        return heldFinished.get() == 1 ? "finished"
                : heldInterrupted.get() == 1 ? "interrupted" : "still running";
    }

    /** Offers one more task; true if the pool refused it. */
    boolean refusesNewTask() {
        try {
            pool.execute(() -> { });
            return false;
        } catch (RejectedExecutionException e) {
            return true;
        }
    }

    /** Whatever a demo did, nothing stays held and the worker ends. */
    public void close() {
        open();
        pool.close();
    }
}

// %%
class PoolEndings {
    record Row(String ending, boolean callerWaited, String heldTask, int queuedRan,
            int neverRan, int handedBack, boolean refusedNew, boolean closerFlag) { }

    static Row shutdown(int queued) throws InterruptedException {
        try (var g = new GatedPool("shutdown", queued)) {
            g.pool.shutdown();  // returned: the gate is still closed, the task still held
            boolean refused = g.refusesNewTask();
            g.open();
            LifecycleWaits.terminated(g.pool);
            return row("shutdown()", g, false, 0, refused, false);
        }
    }

    static Row shutdownNow(int queued) throws InterruptedException {
        try (var g = new GatedPool("shutdown-now", queued)) {
            List<Runnable> neverStarted = g.pool.shutdownNow();  // the gate stays closed
            boolean refused = g.refusesNewTask();
            LifecycleWaits.terminated(g.pool);
            return row("shutdownNow()", g, false, neverStarted.size(), refused, false);
        }
    }

    /** close() on a closer thread; interruptCloser: interrupt it while it waits. */
    static Row close(int queued, boolean interruptCloser) throws InterruptedException {
        try (var g = new GatedPool(interruptCloser ? "close-int" : "close", queued)) {
            var flagAfterClose = new AtomicBoolean();
            Thread closer = Thread.ofPlatform().name("closer").start(() -> {
                g.pool.close();
                flagAfterClose.set(Thread.currentThread().isInterrupted());
            });
            LifecycleWaits.until(g.pool::isShutdown, "close() never called shutdown()");
            boolean waited = closer.isAlive();  // the gate is closed: close() must wait
            boolean refused = g.refusesNewTask();
            if (interruptCloser) {
                closer.interrupt();
            } else {
                g.open();
            }
            LifecycleWaits.join(closer);
            String name = interruptCloser ? "close(), closer interrupted" : "close()";
            return row(name, g, waited, 0, refused, flagAfterClose.get());
        }
    }

    private static Row row(String ending, GatedPool g, boolean waited, int handedBack,
            boolean refused, boolean closerFlag) {
        int ran = g.queuedRan.get();
        return new Row(ending, waited, g.heldTask(), ran, g.queued.size() - ran,
                handedBack, refused, closerFlag);
    }

    static void table(int queued) throws InterruptedException {
        var rows = List.of(shutdown(queued), shutdownNow(queued), close(queued, false),
                close(queued, true));
        System.out.printf("one worker, its running task held on a gate, %d queued%n",
                queued);
        String format = "%-28s %-9s %-13s %-11s %-10s %-12s %s%n";
        System.out.printf(format, "ending", "caller", "running task", "queued ran",
                "never ran", "handed back", "a new task");
        for (Row r : rows) {
            String caller = r.callerWaited() ? "waited" : "returned";
            String newTask = r.refusedNew() ? "refused" : "accepted";
            System.out.printf(format, r.ending(), caller, r.heldTask(), r.queuedRan(),
                    r.neverRan(), r.handedBack(), newTask);
        }
        System.out.println("the interrupted closer's own interrupt flag after close(): "
                + rows.get(3).closerFlag());
    }

    /** awaitTermination waits, and only waits: it neither ends the pool nor fails. */
    static void awaitTermination(int queued, Duration patience)
            throws InterruptedException {
        long ms = patience.toMillis();
        try (var g = new GatedPool("await", queued)) {
            g.pool.shutdown();
            boolean whileHeld = g.pool.awaitTermination(ms, TimeUnit.MILLISECONDS);
            g.open();
            boolean afterOpen = g.pool.awaitTermination(10, TimeUnit.SECONDS);
            System.out.printf("shutdown(), task still held:   awaitTermination(%d ms)"
                    + " = %s%n", ms, whileHeld);
            System.out.printf("then the gate opens:           awaitTermination(10 s)"
                    + " = %s%n", afterOpen);
        }
        try (var g = new GatedPool("idle", queued)) {
            g.open();
            LifecycleWaits.until(() -> g.queuedRan.get() == queued,
                    "the queue never ran");
            boolean idle = g.pool.awaitTermination(ms, TimeUnit.MILLISECONDS);
            String newTask = g.refusesNewTask() ? "refused" : "accepted";
            System.out.printf("all tasks done, no shutdown(): awaitTermination(%d ms)"
                    + " = %s; a new task: %s%n", ms, idle, newTask);
        }
    }
}

// %% [run]
// PoolEndings.table(3);

// %% [markdown]
// Read the table by column. `shutdown()` and `shutdownNow()` return at once, while
// the task is still held; `close()` waits. After `shutdown()` and `close()` the
// running task finished and every queued task still ran: the queue drains. After
// `shutdownNow()` the running task was interrupted (its `await` threw
// `InterruptedException`), and the queued tasks never ran: they came back to the
// caller as a `List<Runnable>`, to run elsewhere, log or drop. Every ending refuses a
// new task with `RejectedExecutionException`.
//
// The last row is `close()`'s fine print (Java 19+). It is `shutdown()` followed by
// `awaitTermination()` in a loop; if the closing thread is interrupted while it waits,
// it calls `shutdownNow()`, keeps waiting until the pool has terminated, and sets its
// own interrupt flag again before it returns. So an interrupt turns a gentle close into
// a hard stop, and the queued tasks it drops are not handed to anyone. `close()` has no
// time limit of its own: a task that never ends makes it wait for ever.
//
// `awaitTermination(timeout)` is the bounded wait: it returns `true` once the pool has
// terminated, `false` when the time is up. It does not end anything: on a pool nobody
// shut down it can only time out.

// %% [run]
// PoolEndings.awaitTermination(3, Duration.ofMillis(500));

// %% [markdown]
// The first `false` is the bound doing its job while the task is held; once the gate
// opens the same call returns `true` without using its 10 s. The last line is a classic
// bug: every task has finished, yet `awaitTermination` waits its full time and says
// `false`, because an idle pool is not a terminated one, and the pool still takes new
// work. `shutdown()` first, then `awaitTermination()`.
//
// ## Too late or too many: rejection policies
//
// A pool refuses a task in two cases: it has been shut down, or it is saturated (every
// worker busy and a bounded queue full). What happens then is its
// `RejectedExecutionHandler`'s choice. `Executors.newFixedThreadPool` never saturates
// (its queue is unbounded, so it grows until memory runs out); a `ThreadPoolExecutor`
// built by hand over an `ArrayBlockingQueue` does. Each row below uses one worker and a
// queue of two: task 0 holds the worker on a gate, tasks 1 and 2 fill the queue, then
// tasks 3, 4 and 5 arrive. Afterwards the gate opens, the pool is shut down, and one
// more task arrives too late.

// %%
class RejectionPolicies {
    record Row(String policy, List<Integer> ran, List<Integer> onCaller,
            List<Integer> thrown, List<Integer> dropped, String afterShutdown) { }

    static ThreadPoolExecutor bounded(RejectedExecutionHandler policy) {
        return new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(2),
                Thread.ofPlatform().name("bounded-worker-", 1).factory(), policy);
    }

    /** Task 0 holds the worker, 1 and 2 fill the queue, 3 .. 2 + extra find it full. */
    static Row run(RejectedExecutionHandler policy, int extra)
            throws InterruptedException {
        Thread submitter = Thread.currentThread();
        var ran = new ConcurrentLinkedQueue<Integer>();
        var onCaller = new ConcurrentLinkedQueue<Integer>();
        var thrown = new ArrayList<Integer>();
        var started = new CountDownLatch(1);
        var gate = new CountDownLatch(1);
        String afterShutdown;
        try (var pool = bounded(policy)) {
            pool.execute(() -> {
                started.countDown();
                holdOn(gate);
                ran.add(0);
            });
            LifecycleWaits.await(started, "task 0 never started");
            for (int id = 1; id <= 2 + extra; id++) {
                int task = id;
                try {
                    pool.execute(() -> {
                        ran.add(task);
                        if (Thread.currentThread() == submitter) onCaller.add(task);
                    });
                } catch (RejectedExecutionException e) {
                    thrown.add(task);
                }
            }
            gate.countDown();
            pool.shutdown();
            afterShutdown = lateTask(pool);
        }  // close(): waits for the queue to drain
        var dropped = IntStream.rangeClosed(0, 2 + extra).boxed()
                .filter(id -> !ran.contains(id) && !thrown.contains(id)).toList();
        return new Row(policy.getClass().getSimpleName(), List.copyOf(ran),
                List.copyOf(onCaller), thrown, dropped, afterShutdown);
    }

    private static void holdOn(CountDownLatch gate) {
        try {
            if (!gate.await(LifecycleWaits.TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw new IllegalStateException("the gate never opened");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Offers a task to a pool that has been shut down. */
    static String lateTask(ThreadPoolExecutor pool) {
        var ran = new AtomicBoolean();
        try {
            pool.execute(() -> ran.set(true));
        } catch (RejectedExecutionException e) {
            return "throws RejectedExecutionException";
        }
        return ran.get() ? "ran on the caller" : "dropped silently";
    }

    static final List<RejectedExecutionHandler> POLICIES = List.of(
            new ThreadPoolExecutor.AbortPolicy(),
            new ThreadPoolExecutor.CallerRunsPolicy(),
            new ThreadPoolExecutor.DiscardPolicy(),
            new ThreadPoolExecutor.DiscardOldestPolicy());

    static void table(int extra) throws InterruptedException {
        System.out.printf("one worker, a queue of 2: task 0 holds the worker, 1 and 2 "
                + "fill the queue, %s arrive%n", ids(IntStream.rangeClosed(3, 2 + extra)
                        .boxed().toList()));
        System.out.printf("the caller, which calls execute(), is thread '%s'%n",
                Thread.currentThread().getName());
        System.out.printf("%-20s %-16s %-14s %-9s %-9s %s%n", "policy", "ran, in order",
                "on the caller", "thrown", "dropped", "a task after shutdown()");
        for (var policy : POLICIES) {
            Row r = run(policy, extra);
            System.out.printf("%-20s %-16s %-14s %-9s %-9s %s%n", r.policy(),
                    ids(r.ran()), ids(r.onCaller()), ids(r.thrown()), ids(r.dropped()),
                    r.afterShutdown());
        }
    }

    static String ids(List<Integer> ids) {
        return ids.isEmpty() ? "-" : ids.stream().map(String::valueOf)
                .collect(Collectors.joining(" "));
    }

    /** submit() + DiscardPolicy: the dropped task's Future never completes. */
    static Future<String> droppedFuture(Duration patience) throws Exception {
        var started = new CountDownLatch(1);
        var gate = new CountDownLatch(1);
        Future<String> lost;
        try (var pool = bounded(new ThreadPoolExecutor.DiscardPolicy())) {
            pool.execute(() -> {
                started.countDown();
                holdOn(gate);
            });
            LifecycleWaits.await(started, "the holding task never started");
            pool.execute(() -> { });
            pool.execute(() -> { });
            lost = pool.submit(() -> "never");  // the queue is full: dropped
            gate.countDown();
        }
        System.out.println("submit() to a full pool with DiscardPolicy");
        System.out.printf("  after the pool terminated: Future.state() %s, isDone() %s%n",
                lost.state(), lost.isDone());
        try {
            lost.get(patience.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            System.out.printf("  get(%d ms) timed out; a plain get() would wait for "
                    + "ever%n", patience.toMillis());
        }
        return lost;
    }
}

// %% [run]
// RejectionPolicies.table(3);

// %% [markdown]
// - **`AbortPolicy`** (the default) throws `RejectedExecutionException` at the
//   submitter: tasks 3 to 5 come back as exceptions, and the caller decides.
// - **`CallerRunsPolicy`** runs the task on the submitting thread, inside `execute()`:
//   tasks 3 to 5 ran on the caller's own thread, before the worker ran anything, since
//   the worker was still held. While the submitter runs a task it cannot submit
//   the next: the producer is slowed to the pool's pace, which is back-pressure with no
//   extra code. The price: the task runs with the caller's thread, its locks and its
//   `ThreadLocal`s, its exception lands in the caller, and a slow task stalls the
//   caller (in a server, the thread that accepts connections).
// - **`DiscardPolicy`** drops the new task without a word: the count of what ran is
//   the only trace.
// - **`DiscardOldestPolicy`** drops the oldest *queued* task to make room, so it keeps
//   the newest work: 1 and 2 were dropped for 3 and 4, then 3 for 5.
//
// After `shutdown()`, `AbortPolicy` still throws, but the other three drop the late
// task silently, `CallerRunsPolicy` included: it runs tasks on the caller only while the
// pool is running. The `producer_consumer` lesson runs a pipeline on
// `CallerRunsPolicy`; here is what its back-pressure looks like:
//
// @diagram executor_lifecycle-caller-runs
//
// Dropping silently is worse with `submit()`: the policy drops the task, but
// `submit()` has already handed back its `Future`, and nothing will ever complete it.

// %% [run]
// var lost = RejectionPolicies.droppedFuture(Duration.ofMillis(500));

// %% [markdown]
// ## The task's half: interruption etiquette
//
// `shutdownNow()` (and `Future.cancel(true)`, and an interrupted `close()`) can only
// *ask* a running task to stop, by interrupting its worker thread. The `threads`
// lesson shows how an interrupt arrives: a blocking call throws
// `InterruptedException` and clears the flag, and whoever catches it holds the only
// record of the request. A pool task that catches it and carries on has cancelled
// its pool's stop request. Its worker never ends, the pool never terminates, and
// (the first section again) the JVM never exits.
//
// The bounded way to end a pool is two phases, as `ExecutorService`'s own
// documentation suggests: `shutdown()` and wait; then `shutdownNow()` and wait again;
// and if even that fails, report it, because a thread has leaked.

// %%
class BoundedShutdown {
    enum Outcome {
        DRAINED("ended by shutdown()"),
        INTERRUPTED("ended by shutdownNow()"),
        STUCK("still running after both phases");

        final String label;
        Outcome(String label) { this.label = label; }
    }

    /** Phase 1: finish within toFinish; phase 2: stop within toStop once interrupted. */
    static Outcome shutdownAndAwait(ExecutorService pool, Duration toFinish,
            Duration toStop) {
        pool.shutdown();  // no new tasks; the queued ones still run
        try {
            if (pool.awaitTermination(toFinish.toMillis(), TimeUnit.MILLISECONDS)) {
                return Outcome.DRAINED;
            }
            pool.shutdownNow();  // interrupt the running ones, drop the queued ones
            if (pool.awaitTermination(toStop.toMillis(), TimeUnit.MILLISECONDS)) {
                return Outcome.INTERRUPTED;
            }
            return Outcome.STUCK;  // something ignores interrupts: say so
        } catch (InterruptedException e) {
            pool.shutdownNow();  // we were asked to stop: stop the pool too
            Thread.currentThread().interrupt();
            return pool.isTerminated() ? Outcome.INTERRUPTED : Outcome.STUCK;
        }
    }
}

// %% [markdown]
// Two long tasks put it to the test. Each works in slices (a short sleep) until it is
// stopped, and each can be stopped by a `volatile` cancel flag as well. They differ in
// one branch: when the sleep throws `InterruptedException`, the polite task sets its
// interrupt flag again (so that its caller, here the pool's worker, sees the request
// too) and returns; the rude one only counts it and carries on. Each runs alone on a
// pool of one, which is then ended with `shutdownAndAwait(pool, patience, patience)`.
// The rude one cannot be stopped that way, so the demo stops it the only way left,
// its cancel flag, in a `finally`: even a misbehaving task is cleaned up.

// %%
class InterruptEtiquette {
    static final class LongTask implements Runnable {
        final boolean restoresFlag;
        final long sliceMillis;
        final CountDownLatch started = new CountDownLatch(1);
        final AtomicInteger interruptsCaught = new AtomicInteger();
        volatile boolean cancelled;  // the way to stop a task that ignores interrupts

        LongTask(boolean restoresFlag, long sliceMillis) {
            this.restoresFlag = restoresFlag;
            this.sliceMillis = sliceMillis;
        }

        String name() { return restoresFlag ? "restores the flag" : "swallows it"; }

        public void run() {
            started.countDown();
            while (!cancelled) {
                try {
                    Thread.sleep(sliceMillis);  // a slice of work
                } catch (InterruptedException e) {  // throwing it cleared the flag
                    interruptsCaught.incrementAndGet();
                    if (restoresFlag) {
                        Thread.currentThread().interrupt();  // keep the request...
                        return;                              // ...and honour it
                    }  // else: the request is lost here, and the loop goes on
                }
            }
        }
    }

    record Report(String task, BoundedShutdown.Outcome outcome, double millis,
            int interruptsCaught) { }

    static Report stop(LongTask task, Duration patience) throws InterruptedException {
        var pool = Executors.newFixedThreadPool(1,
                Thread.ofPlatform().name("etiquette-worker-", 1).factory());
        BoundedShutdown.Outcome outcome;
        double millis;
        try {
            pool.execute(task);
            LifecycleWaits.await(task.started, "the task never started");
            long start = System.nanoTime();
            outcome = BoundedShutdown.shutdownAndAwait(pool, patience, patience);
            millis = LifecycleWaits.millisSince(start);
        } finally {
            task.cancelled = true;  // the other off switch: clean up, whatever happened
            LifecycleWaits.terminated(pool);
        }
        return new Report(task.name(), outcome, millis, task.interruptsCaught.get());
    }

    static void compare(Duration patience, long sliceMillis) throws InterruptedException {
        var rude = stop(new LongTask(false, sliceMillis), patience);
        var polite = stop(new LongTask(true, sliceMillis), patience);
        System.out.printf("shutdownAndAwait(pool, %d ms, %d ms) on a task that runs "
                + "until stopped%n", patience.toMillis(), patience.toMillis());
        System.out.printf("%-18s %-32s %9s %18s%n", "on interrupt, it", "outcome",
                "took", "interrupts caught");
        for (Report r : List.of(rude, polite)) {
            System.out.printf("%-18s %-32s %6.0f ms %18d%n", r.task(), r.outcome().label,
                    r.millis(), r.interruptsCaught());
        }
        System.out.println("then each task's cancel flag was set: both pools have "
                + "terminated");
    }
}

// %% [run]
// InterruptEtiquette.compare(Duration.ofMillis(500), 10);

// %% [markdown]
// Both tasks outlived phase 1, as tasks that run until stopped do. In phase 2 both
// caught exactly one interrupt; the polite one ended and its pool terminated within
// moments, while the swallowing one went on working through the whole second wait and
// came out `STUCK`: had this been a forgotten pool in `main`, the JVM would still be
// running. The fixes, in order of preference: let `InterruptedException` propagate
// (submit a `Callable`, whose `call()` may throw it); if you must catch it, restore
// the flag with `Thread.currentThread().interrupt()` and return; in a loop that
// computes without blocking, check `Thread.currentThread().isInterrupted()`. A task
// that cannot be interrupted at all (a blocking call that ignores interrupts, a
// library that swallows them) needs another off switch: a `volatile` flag, or closing
// the socket or stream it is blocked on.
//
// ## Which one to use
//
// | you want | use | returns | running task | queued tasks |
// |---|---|---|---|---|
// | to end a pool whose life is one block | `try (var pool = …) { … }`, i.e. `close()` | when all have ended | finishes | run |
// | no new tasks, and go on meanwhile | `shutdown()` | at once | finishes | run |
// | to wait, with a limit | `awaitTermination(t, unit)` after a shutdown | `true` once terminated, `false` at `t` | - | - |
// | to stop now | `shutdownNow()` | at once, with the queued tasks | interrupted | handed back |
// | a bounded end for a long-lived pool | `shutdown`, wait, `shutdownNow`, wait (`BoundedShutdown`) | within both bounds | finishes, then interrupted | run, then handed back |
//
// | when the pool is full | policy |
// |---|---|
// | the caller must know (the default) | `AbortPolicy` |
// | slow the producer down to the pool's pace | `CallerRunsPolicy` |
// | the task can be lost, and nobody waits for it | `DiscardPolicy` (with `execute`, never `submit`) |
// | only the newest work matters (latest reading, latest frame) | `DiscardOldestPolicy` |
//
// ## Pitfalls
//
// - **`awaitTermination` without `shutdown()`** waits its full time and returns
//   `false`: it does not end the pool.
// - **`close()` has no timeout.** One task that never ends makes it wait for ever; for
//   a pool that outlives a block, use the two-phase `BoundedShutdown`.
// - **A pool per request** leaks a thread per request. Share one pool; end it once.
// - **Do not count on the garbage collector.** `newFixedThreadPool` is never collected
//   while its workers live. `newSingleThreadExecutor` does register a `Cleaner` that
//   shuts it down once unreachable, but only whenever a GC happens to notice: never
//   rely on it.
// - **Daemon workers are no fix.** A factory such as `Thread.ofPlatform().daemon()`
//   lets the JVM exit, by abandoning whatever tasks are still running or queued,
//   mid-write. Virtual threads are always daemons, so a forgotten
//   `newVirtualThreadPerTaskExecutor()` does not hang the JVM; it loses work instead.
// - **Discarded `submit()` futures never complete**: a `get()` without a timeout waits
//   for ever. The same goes for the futures of the tasks that `shutdownNow()` hands
//   back, and of those an interrupted `close()` drops.
// - **`CallerRunsPolicy` after shutdown drops the task** instead of running it.
// - **Swallowing `InterruptedException`** in a task disarms `shutdownNow()`,
//   `cancel(true)` and `close()`'s interrupt. Restore the flag or let it propagate.
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | `with ThreadPoolExecutor(max_workers=2) as ex:` | `try (var pool = Executors.newFixedThreadPool(2)) { … }` |
// | `ex.shutdown(wait=True)` | `close()`, or `shutdown()` + `awaitTermination(t, unit)` |
// | `ex.shutdown(wait=False)` | `shutdown()` |
// | `ex.shutdown(cancel_futures=True)` (3.9+) drops the queued tasks | `shutdownNow()` drops them too, hands them back, and interrupts the running ones |
// | `RuntimeError: cannot schedule new futures after shutdown` | `RejectedExecutionException` |
// | a forgotten executor: joined at interpreter exit (a hook in `threading` waits for its workers) | a forgotten executor: the JVM waits for ever |
// | `t.join()` on every thread | `close()` on every executor |
// | no interruption: a `threading.Event` the task checks | `Thread.interrupt()`, plus a `volatile` flag for tasks that ignore it |
// | the executor's queue is unbounded; no rejection policy | a bounded `ArrayBlockingQueue` and a `RejectedExecutionHandler` |
//
// CPython's `ThreadPoolExecutor` registers a hook that, when the interpreter exits,
// lets its workers finish the queued work and joins them, so a forgotten executor
// delays exit rather than preventing it. Java has no such hook: the pool's workers
// are ordinary non-daemon threads, and ending them is your job.
//
// Related lessons: `thread_pool` (submit, futures, `invokeAll`, the completion
// service), `threads` (interruption and `join` on a single thread),
// `producer_consumer` (bounded queues and a `CallerRunsPolicy` pipeline),
// `daemon_threads` (threads the JVM does not wait for), `thread_exceptions` (where a
// task's exception goes), `virtual_threads` (a thread per task, and no pool to size).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line;
// a bad option prints one line and exits with status 2.

// %%
class executor_lifecycle {
    static final String USAGE = """
            Usage: executor_lifecycle [options]
              --patience MS   how long a wait that should time out waits (default 500;
                              divided by speed, at least 100)
              --queued N      tasks queued behind the held one (default 3)
              --calls N       calls to the pool-per-call leak (default 5)
              --speed X       pacing: 2 = twice as fast, 0.5 = half (default 1)
              --help          print this and exit""";

    record Options(int patienceMillis, int queued, int calls, double speed) {
        /** The patience scaled by speed; at least 100 ms: a loaded machine keeps up. */
        Duration patience() {
            return Duration.ofMillis(Math.max(100, Math.round(patienceMillis / speed)));
        }

        /** One slice of the long tasks' work. */
        long sliceMillis() { return Math.max(1, Math.round(10 / speed)); }
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("executor_lifecycle: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        Duration patience = o.patience();
        System.out.printf("patience = %d ms%n%n", patience.toMillis());
        System.out.println("== The naive version: main returns, the JVM does not ==");
        LeakedPoolChild.demo(patience);
        System.out.println("\n== A pool per call ==");
        PoolPerCallLeak.demo(o.calls());
        System.out.println("\n== Ending a pool, four ways ==");
        PoolEndings.table(o.queued());
        System.out.println();
        PoolEndings.awaitTermination(o.queued(), patience);
        System.out.println("\n== Rejection policies ==");
        RejectionPolicies.table(3);
        System.out.println();
        RejectionPolicies.droppedFuture(patience);
        System.out.println("\n== Interruption etiquette ==");
        InterruptEtiquette.compare(patience, o.sliceMillis());
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
                count("--patience", given.getOrDefault("--patience", "500")),
                count("--queued", given.getOrDefault("--queued", "3")),
                count("--calls", given.getOrDefault("--calls", "5")),
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
