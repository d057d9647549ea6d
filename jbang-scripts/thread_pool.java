///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Thread pool: ExecutorService, futures, and results as they complete
//
// Five pages to fetch, each one mostly waiting on the network. Fetched one after
// another they take five waits; a thread for each takes one wait, but a thread per
// task does not scale to ten thousand tasks, and threads started by hand must be
// joined, their results collected and their exceptions caught by hand. A thread pool
// keeps a fixed number of workers and a queue of tasks: you `submit` a task and get a
// `Future` back, a claim ticket for its result or its exception. This lesson runs the
// seed's five fetches on three workers and measures the two "rounds" that follow
// from it. Then it hands results back in completion order (`ExecutorCompletionService`,
// Java's `as_completed`) and in a batch (`invokeAll`), lets a task throw (and shows
// where the exception goes), and shows what `close()`, `shutdown()` and `shutdownNow()`
// each do to running tasks.
//
// Every delay is a multiple of one unit, **d** (100 ms by default; the seed sleeps
// 1 s), and every time below is printed in d, so runs at different speeds compare
// directly. Run it: `jbang thread_pool`, or `java jbang-scripts/thread_pool.java`; try
// `--help`.

// %%
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

// %% [markdown]
// ## The task: the seed's `fetch_data`
//
// A fetch is a `Callable`: unlike a `Runnable` it returns a value and may throw a
// checked exception, and the pool carries both back to whoever asks. The "network"
// is a sleep. The seam runs first in every fetch; it does nothing by default, and
// lets the demos log a start, make a fetch fail, or (in the tests) hold a task on a
// latch. `PoolClock` reads the time since a start in units of d.

// %%
record FetchResult(int id, String data) { }

// %%
record FetchTask(int id, long millis, FetchTask.Seam seam)
        implements Callable<FetchResult> {
    /** Runs at the start of the fetch, on the worker's thread. */
    interface Seam {
        void reached(int id) throws Exception;
    }

    static final Seam NO_SEAM = id -> { };

    FetchTask(int id, long millis) { this(id, millis, NO_SEAM); }

    public FetchResult call() throws Exception {
        seam.reached(id);
        Thread.sleep(millis);  // the simulated network wait
        return new FetchResult(id, "content_" + id);
    }

    /** The seed's batch: ids 0 .. n-1, each waiting the same time. */
    static List<FetchTask> batch(int n, long millis, Seam seam) {
        var tasks = new ArrayList<FetchTask>();
        for (int id = 0; id < n; id++) tasks.add(new FetchTask(id, millis, seam));
        return tasks;
    }

    /** A fetch whose connection is refused: it fails at once, with a checked one. */
    static FetchTask failing(int id, long millis) {
        return new FetchTask(id, millis, i -> {
            throw new IOException("connection refused fetching url " + i);
        });
    }
}

// %%
record PoolClock(long startNanos, long d) {
    static PoolClock start(long d) { return new PoolClock(System.nanoTime(), d); }

    /** Time since the start, in units of d. */
    double inD() { return (System.nanoTime() - startNanos) / 1e6 / d; }
}

// %%
class PoolWaits {
    static final long TIMEOUT_SECONDS = 10;

    /** Future.get with a timeout: a stuck task fails the demo instead of hanging it. */
    static <T> T get(Future<T> future) throws InterruptedException, ExecutionException {
        try {
            return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("a task did not finish within "
                    + TIMEOUT_SECONDS + " s", e);
        }
    }

    static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("a task never reached its start");
        }
    }
}

// %% [markdown]
// ## The naive version: one fetch after another
//
// The main thread calls each fetch in turn. Nothing can go wrong between threads
// because there is only one; the cost is time: every wait is added to the last.

// %%
class SequentialFetch {
    static void demo(int tasks, long d) throws Exception {
        var clock = PoolClock.start(d);
        var results = new ArrayList<FetchResult>();
        for (FetchTask task : FetchTask.batch(tasks, d, FetchTask.NO_SEAM)) {
            results.add(task.call());
        }
        double wall = clock.inD();
        System.out.printf("%d fetches on the main thread, one after another%n", tasks);
        results.forEach(r -> System.out.println("  " + r));
        System.out.printf("wall %.2f d, ideal %d d%n", wall, tasks);
    }
}

// %% [run]
// SequentialFetch.demo(5, 100);

// %% [markdown]
// ## A pool of three workers
//
// `Executors.newFixedThreadPool(3, factory)` starts three worker threads (the factory
// names them `worker-1` … `worker-3`) that take tasks from one shared queue.
// `submit` returns at once with a `Future`; `get()` waits for that task's result.
// With five tasks and three workers, three fetches start together and two wait in the
// queue until a worker comes free: two rounds, so the ideal is ⌈5/3⌉ = 2 d, not 1 d.
// `ConcurrencyGauge` counts how many tasks run at the same moment.
//
// The workers print when they start a fetch, so the order of the lines within a round
// varies from run to run; the start times show the two rounds. The results are
// printed by the main thread, in submission order, after every `get()`.
//
// @diagram thread_pool-rounds

// %%
class ConcurrencyGauge {
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger max = new AtomicInteger();

    /** Wraps a task so that the gauge sees it start and end. */
    <T> Callable<T> around(Callable<T> task) {
        return () -> {
            max.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                return task.call();
            } finally {
                running.decrementAndGet();
            }
        };
    }

    int running() { return running.get(); }
    int max() { return max.get(); }
}

// %%
class PoolRounds {
    static ExecutorService newPool(int workers) {
        return Executors.newFixedThreadPool(workers,
                Thread.ofPlatform().name("worker-", 1).factory());
    }

    /** Submits every task, then waits for each result in submission order. */
    static List<FetchResult> fetchAll(ExecutorService pool,
            List<? extends Callable<FetchResult>> tasks)
            throws InterruptedException, ExecutionException {
        var futures = new ArrayList<Future<FetchResult>>();
        for (var task : tasks) futures.add(pool.submit(task));
        var results = new ArrayList<FetchResult>();
        for (var future : futures) results.add(PoolWaits.get(future));
        return results;
    }

    static void demo(int tasks, int workers, long d) throws Exception {
        var gauge = new ConcurrencyGauge();
        var clock = PoolClock.start(d);
        FetchTask.Seam logStart = id -> System.out.printf("  %.2f d  %s starts url %d%n",
                clock.inD(), Thread.currentThread().getName(), id);
        List<FetchResult> results;
        try (var pool = newPool(workers)) {
            var wrapped = FetchTask.batch(tasks, d, logStart).stream()
                    .map(gauge::around).toList();
            results = fetchAll(pool, wrapped);
        }
        double wall = clock.inD();
        System.out.println("results, in submission order:");
        results.forEach(r -> System.out.println("  " + r));
        System.out.printf("%d tasks, %d workers: at most %d ran at once%n",
                tasks, workers, gauge.max());
        System.out.printf("wall %.2f d, ideal %d d (%d rounds of d)%n",
                wall, Math.ceilDiv(tasks, workers), Math.ceilDiv(tasks, workers));
    }
}

// %% [run]
// PoolRounds.demo(5, 3, 100);

// %% [markdown]
// The wall time sits above the ideal: starting three threads, handing tasks over
// through the queue and waking the main thread all take time, and `sleep` never wakes
// early. This is also the run's first pool, which pays for loading the pool's classes
// (see the first start time); the sizing table at the end, run once they are loaded,
// comes closer. Under `make run`'s `--speed 20`, d is small and the overhead a larger
// share of it.
//
// ## Results in completion order
//
// Waiting on futures in submission order has a flaw: a slow first task holds up
// every result behind it, even those that finished long ago. This scenario gives the
// five fetches different delays (url 0 is the slowest, 2 d), so that they finish in
// the order 1, 2, 3, 4, 0; the main thread prints when each result reaches it.

// %%
class CompletionOrder {
    /** url 0 is slow; on three workers the fetches finish in the order 1, 2, 3, 4, 0. */
    static final double[] DELAYS_IN_D = {2.0, 0.4, 1.0, 0.8, 0.5};

    static List<FetchTask> scenario(long d) {
        var tasks = new ArrayList<FetchTask>();
        for (int id = 0; id < DELAYS_IN_D.length; id++) {
            tasks.add(new FetchTask(id, Math.round(DELAYS_IN_D[id] * d)));
        }
        return tasks;
    }

    static void inSubmissionOrder(long d) throws Exception {
        System.out.println("Future.get() on each future, in submission order:");
        var clock = PoolClock.start(d);
        try (var pool = PoolRounds.newPool(3)) {
            var futures = new ArrayList<Future<FetchResult>>();
            for (var task : scenario(d)) futures.add(pool.submit(task));
            for (var future : futures) {
                FetchResult r = PoolWaits.get(future);
                System.out.printf("  %.2f d  got url %d%n", clock.inD(), r.id());
            }
        }
    }

    /** Gives each result to onEach as its task ends; returns them in that order. */
    static List<FetchResult> asCompleted(ExecutorService pool, List<FetchTask> tasks,
            Consumer<FetchResult> onEach)
            throws InterruptedException, ExecutionException {
        var done = new ExecutorCompletionService<FetchResult>(pool);
        for (var task : tasks) done.submit(task);
        var results = new ArrayList<FetchResult>();
        for (int i = 0; i < tasks.size(); i++) {
            var next = done.poll(PoolWaits.TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (next == null) throw new IllegalStateException("no task ended in 10 s");
            FetchResult r = next.get();  // it is done: get() returns at once
            onEach.accept(r);
            results.add(r);
        }
        return results;
    }

    static void inCompletionOrder(long d) throws Exception {
        System.out.println("ExecutorCompletionService, in completion order:");
        var clock = PoolClock.start(d);
        try (var pool = PoolRounds.newPool(3)) {
            asCompleted(pool, scenario(d), r ->
                    System.out.printf("  %.2f d  got url %d%n", clock.inD(), r.id()));
        }
    }
}

// %% [run]
// CompletionOrder.inSubmissionOrder(100);
// CompletionOrder.inCompletionOrder(100);

// %% [markdown]
// In submission order nothing arrives until the slow url 0 has ended, and then the
// rest arrive all at once, although they were ready long before; the completion
// service hands each result over as its fetch ends, url 0 last. It works by
// wrapping each task so that, when it finishes (with a result or an exception), it
// puts its own `Future` on a queue; `take()` and `poll(timeout)` read that queue.
// Unlike Python's `as_completed(futures)`, it must be in place *before* the tasks are
// submitted: it cannot adopt futures that already exist.
//
// @diagram thread_pool-completion
//
// ## `invokeAll`: a batch, all at once
//
// `invokeAll` submits a whole list and returns when every task has ended, with the
// futures in the order of the list, whatever order they finished in. The same
// scenario: url 0 finishes last, but its future still comes first. Its sibling
// `invokeAny` returns the first *successful* result and cancels the rest.

// %%
class InvokeAllBatch {
    static List<Future<FetchResult>> fetchAll(ExecutorService pool, List<FetchTask> tasks)
            throws InterruptedException {
        // the timeout cancels what has not ended by then: nothing waits forever
        return pool.invokeAll(tasks, PoolWaits.TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    static void demo(long d) throws Exception {
        var clock = PoolClock.start(d);
        List<Future<FetchResult>> futures;
        try (var pool = PoolRounds.newPool(3)) {
            futures = fetchAll(pool, CompletionOrder.scenario(d));
        }
        long done = futures.stream().filter(Future::isDone).count();
        System.out.printf("invokeAll returned after %.2f d: %d futures, %d done%n",
                clock.inD(), futures.size(), done);
        for (var future : futures) System.out.println("  " + future.resultNow());
    }
}

// %% [run]
// InvokeAllBatch.demo(100);

// %% [markdown]
// ## When a task throws
//
// A task's exception does not kill the worker and is not printed: the pool stores it
// in the task's `Future`. If nobody asks, nobody hears of it. Here url 3's connection
// is refused, nobody calls `get()`, and the pool closes as if all went well; only
// `Future.state()` (Java 19+) tells.

// %%
class FetchFailures {
    static List<FetchTask> withUrl3Failing(long d) {
        var tasks = new ArrayList<>(FetchTask.batch(5, d, FetchTask.NO_SEAM));
        tasks.set(3, FetchTask.failing(3, d));
        return tasks;
    }

    static void forgotten(long d) {
        var futures = new ArrayList<Future<FetchResult>>();
        try (var pool = PoolRounds.newPool(3)) {
            for (var task : withUrl3Failing(d)) futures.add(pool.submit(task));
        }  // close() waits for every task; it throws nothing
        System.out.println("submitted 5, never called get(); close() returned quietly");
        System.out.println("  states: " + futures.stream().map(Future::state).toList());
        for (var future : futures) {
            if (future.state() == Future.State.FAILED) {
                System.out.println("  stored, unseen: " + future.exceptionNow());
            }
        }
    }

    /** The seed's program: results as they complete, one fetch failing. */
    static void asCompleted(long d) throws InterruptedException {
        var results = new ArrayList<FetchResult>();
        try (var pool = PoolRounds.newPool(3)) {
            var done = new ExecutorCompletionService<FetchResult>(pool);
            Map<Future<FetchResult>, Integer> futureToId = new HashMap<>();
            for (var task : withUrl3Failing(d)) {
                futureToId.put(done.submit(task), task.id());
            }
            for (int i = 0; i < futureToId.size(); i++) {
                var future = done.poll(PoolWaits.TIMEOUT_SECONDS, TimeUnit.SECONDS);
                if (future == null) throw new IllegalStateException("no fetch ended");
                int id = futureToId.get(future);
                try {
                    FetchResult result = future.get();
                    results.add(result);
                    System.out.println("Completed URL " + id + ": " + result);
                } catch (ExecutionException e) {
                    System.out.println("URL " + id + " generated exception: "
                            + e.getCause());
                }
            }
        }
        System.out.println("Total results: " + results.size());
    }
}

// %% [run]
// FetchFailures.forgotten(100);

// %% [markdown]
// Asking is what `get()` is for: it rethrows the task's exception wrapped in an
// `ExecutionException`, whose `getCause()` is the original, here a checked
// `IOException` that `call()` was allowed to throw. This is the seed's whole program
// in Java: a completion service for `as_completed`, a map from future to id for
// `future_to_id`, `try`/`catch` around `get()`. The urls finishing in the same round
// may print in any order.

// %% [run]
// FetchFailures.asCompleted(100);

// %% [markdown]
// ## Closing the pool
//
// A pool's workers are ordinary platform threads: until the pool is shut down they
// wait for more work and keep the JVM alive. Since Java 19 `ExecutorService` is
// `AutoCloseable`, and `close()` is what Python's `with` block does on exit: no new
// tasks, then wait for every submitted task to end. The older calls do less.
// `shutdown()` refuses new tasks and returns at once, leaving the queue to drain;
// `shutdownNow()` also interrupts the running tasks and hands back the queued ones,
// never started. Each row below starts five fetches on three workers, waits until the
// first round is running, closes the pool one way, and counts how the futures ended
// once the pool has terminated.

// %%
class PoolClosing {
    record Outcome(String how, double returnedAfterD, long ok, long failed, long notDone,
            int neverRan) { }

    static Outcome close(String how, int tasks, int workers, long d)
            throws InterruptedException {
        var running = new CountDownLatch(Math.min(tasks, workers));
        var futures = new ArrayList<Future<FetchResult>>();
        int neverRan = 0;
        double returnedAfter;
        try (var pool = PoolRounds.newPool(workers)) {
            for (var task : FetchTask.batch(tasks, d, id -> running.countDown())) {
                futures.add(pool.submit(task));
            }
            PoolWaits.await(running);  // the first round is under way
            var clock = PoolClock.start(d);
            switch (how) {
                case "close()" -> pool.close();
                case "shutdown()" -> pool.shutdown();
                case "shutdownNow()" -> neverRan = pool.shutdownNow().size();
                default -> throw new IllegalArgumentException(how);
            }
            returnedAfter = clock.inD();
        }  // close() again: a no-op once terminated, else it waits for the tasks
        return new Outcome(how, returnedAfter, count(futures, Future.State.SUCCESS),
                count(futures, Future.State.FAILED),
                futures.stream().filter(f -> !f.isDone()).count(), neverRan);
    }

    private static long count(List<Future<FetchResult>> futures, Future.State state) {
        return futures.stream().filter(f -> f.state() == state).count();
    }

    static void compare(int tasks, int workers, long d) throws InterruptedException {
        System.out.printf("%d fetches, %d workers, the first round running%n",
                tasks, workers);
        System.out.printf("%-14s %14s %4s %7s %9s %10s%n",
                "closed with", "returned after", "ok", "failed", "never ran", "not done");
        for (String how : List.of("close()", "shutdown()", "shutdownNow()")) {
            var o = close(how, tasks, workers, d);
            System.out.printf("%-14s %12.2f d %4d %7d %9d %10d%n", o.how(),
                    o.returnedAfterD(), o.ok(), o.failed(), o.neverRan(), o.notDone());
        }
    }
}

// %% [run]
// PoolClosing.compare(5, 3, 100);

// %% [markdown]
// `close()` returns when the work is done; `shutdown()` returns at once and the tasks
// finish anyway (behind the scenes; here the `try` block's own `close()` waited for
// them). `shutdownNow()` interrupts the running fetches (their `sleep` throws
// `InterruptedException`, so their futures fail) and the queued ones never run:
// their futures are never done, and a `get()` without a timeout on them would wait
// forever.
//
// ## How many workers?
//
// The same fetches on pools of different sizes: one worker (the sequential case
// again), three, one per task, and a virtual thread per task
// (`Executors.newVirtualThreadPerTaskExecutor()`, Java 21+), which starts a cheap
// thread for every task instead of queueing it. The ideal is ⌈tasks / workers⌉ d.

// %%
class PoolSizing {
    record Row(String pool, int tasks, double wallD, int idealD, int maxAtOnce) { }

    /** Runs the batch on a fresh pool, timed from creation to close. */
    static Row measure(String name, int workers, Supplier<ExecutorService> pools,
            int tasks, long d) throws InterruptedException, ExecutionException {
        var gauge = new ConcurrencyGauge();
        var clock = PoolClock.start(d);
        try (var pool = pools.get()) {
            var wrapped = FetchTask.batch(tasks, d, FetchTask.NO_SEAM).stream()
                    .map(gauge::around).toList();
            PoolRounds.fetchAll(pool, wrapped);
        }
        int ideal = Math.ceilDiv(tasks, workers);
        return new Row(name, tasks, clock.inD(), ideal, gauge.max());
    }

    static void table(int tasks, int workers, long d) throws Exception {
        var rows = new ArrayList<Row>();
        for (int n : new TreeSet<>(List.of(1, workers, tasks))) {
            rows.add(measure(n + (n == 1 ? " worker" : " workers"), n,
                    () -> PoolRounds.newPool(n), tasks, d));
        }
        rows.add(measure("virtual thread per task", tasks,
                Executors::newVirtualThreadPerTaskExecutor, tasks, d));
        System.out.printf("%d fetches of d each%n", tasks);
        System.out.printf("%-24s %9s %8s %11s %8s%n",
                "pool", "wall", "ideal", "wall/ideal", "at once");
        for (Row r : rows) {
            System.out.printf("%-24s %7.2f d %6d d %10.2fx %8d%n", r.pool(), r.wallD(),
                    r.idealD(), r.wallD() / r.idealD(), r.maxAtOnce());
        }
    }
}

// %% [run]
// PoolSizing.table(5, 3, 100);

// %% [markdown]
// Every row pays a little for starting its threads, and a first use pays more: the
// virtual-thread row runs the JVM's first virtual threads, which start its
// virtual-thread scheduler. For tasks that wait, more workers means less wall time,
// up to one per task. The pool size is then a *limit*, and a useful one when the
// other side (a server, a database) must not get more than so many requests at once.
// For tasks that compute, more workers than cores only adds switching: size the pool
// by `Runtime.getRuntime().availableProcessors()`. For many tasks that block on I/O,
// virtual threads make the thread cheap enough to have one per task.
//
// ## Which one to use
//
// | you need | use |
// |---|---|
// | each result as soon as it is ready | `ExecutorCompletionService` (`poll` with a timeout) |
// | all results, in the order you asked | `invokeAll(tasks, timeout, unit)`, or `get` each future in order |
// | the first success; the rest cancelled | `invokeAny` |
// | a fixed bound on concurrency, platform threads | `Executors.newFixedThreadPool(n, factory)` |
// | CPU-bound tasks | a fixed pool of `availableProcessors()` workers |
// | many tasks that block on I/O | `Executors.newVirtualThreadPerTaskExecutor()` |
// | the same, with at most N at once | virtual threads and a `Semaphore(N)` |
// | to chain steps without blocking a thread | `CompletableFuture` |
// | one failure to cancel the siblings | `StructuredTaskScope` (preview in Java 25) |
//
// ## Pitfalls
//
// - **Submit and forget loses exceptions.** As shown above: `submit` stores the
//   exception in the future. Call `get()` on every future, or catch inside the task.
//   (`execute(runnable)` instead lets it reach the worker's uncaught-exception
//   handler, which prints it and replaces the worker thread.)
// - **`get()` without a timeout can wait forever**, for instance on a task that
//   `shutdownNow()` dropped from the queue. Prefer `get(timeout, unit)`.
// - **Tasks that wait for other tasks in the same pool can deadlock it.** With three
//   workers, three tasks each waiting for a fourth that is still queued wait forever:
//   the fourth needs a worker they hold.
// - **The fixed pool's queue is unbounded.** `submit` never blocks, so a fast producer
//   can queue tasks faster than they run until memory runs out. Bound it with a
//   `ThreadPoolExecutor` over an `ArrayBlockingQueue` and a rejection policy such as
//   `CallerRunsPolicy` (see `producer_consumer`).
// - **A pool never closed keeps the JVM alive**: its workers are not daemon threads.
//   Use try-with-resources.
// - **Swallowing `InterruptedException` in a task** makes `shutdownNow()` and
//   `Future.cancel(true)` unable to stop it: restore the flag or let it propagate.
// - **Pooled threads are reused**: a `ThreadLocal` set by one task is still there for
//   the next task on that worker. Clear it in `finally`, or use `ScopedValue`.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `ThreadPoolExecutor(max_workers=3)` | `Executors.newFixedThreadPool(3)` |
// | `with ThreadPoolExecutor(...) as executor:` | `try (var pool = Executors.newFixedThreadPool(3)) { … }` |
// | `executor.submit(fetch_data, url_id)` | `pool.submit(() -> fetchData(urlId))`, a `Callable` |
// | `as_completed(futures)` | `ExecutorCompletionService`: `submit` through it, then `take()`/`poll()` |
// | `executor.map(f, items)` (results in order) | `invokeAll(tasks)`, then `get()` each future |
// | `future.result()` raises the task's exception | `future.get()` throws `ExecutionException`; the task's is `getCause()` |
// | `future.exception()` | `future.exceptionNow()` (Java 19+), once `state()` is `FAILED` |
// | `executor.shutdown(wait=True)` | `close()` |
// | `executor.shutdown(wait=False, cancel_futures=True)` | `shutdownNow()`, which also interrupts running tasks |
// | (nothing: a Python thread cannot be interrupted) | `Thread.interrupt()`, used by `shutdownNow()` and `cancel(true)` |
//
// In CPython the fetches overlap because `time.sleep` and socket I/O release the GIL;
// CPU-bound tasks on a thread pool would not run in parallel. In Java they would, on
// as many cores as the machine has.
//
// Related lessons: `threads` (starting and joining threads by hand, which a pool
// replaces), `producer_consumer` (the blocking queue inside every pool), `counter`
// (tasks that share state still need a lock or an atomic), `barrier` (the latches
// and barriers that this lesson's tests use to force an order).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line;
// a bad option prints one line and exits with status 2.

// %%
class thread_pool {
    static final String USAGE = """
            Usage: thread_pool [options]
              --tasks N       fetches in the pool, closing and sizing demos (default 5)
              --workers N     worker threads in the pool (default 3)
              --delay MS      d, one fetch's wait in milliseconds (default 100)
              --speed X       pacing: 2 = twice as fast, 0.5 = half (default 1)
              --help          print this and exit""";

    record Options(int tasks, int workers, int delayMillis, double speed) {
        /** d in milliseconds: the delay scaled by speed, at least 1 ms. */
        long d() { return Math.max(1, Math.round(delayMillis / speed)); }
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("thread_pool: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        long d = o.d();
        System.out.printf("d = %d ms%n%n== The naive version ==%n", d);
        SequentialFetch.demo(o.tasks(), d);
        System.out.println("\n== A pool of " + o.workers() + " workers ==");
        PoolRounds.demo(o.tasks(), o.workers(), d);
        System.out.println("\n== Results in completion order ==");
        CompletionOrder.inSubmissionOrder(d);
        CompletionOrder.inCompletionOrder(d);
        System.out.println("\n== invokeAll ==");
        InvokeAllBatch.demo(d);
        System.out.println("\n== When a task throws ==");
        FetchFailures.forgotten(d);
        System.out.println();
        FetchFailures.asCompleted(d);
        System.out.println("\n== Closing the pool ==");
        PoolClosing.compare(o.tasks(), o.workers(), d);
        System.out.println("\n== How many workers? ==");
        PoolSizing.table(o.tasks(), o.workers(), d);
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
                count("--tasks", given.getOrDefault("--tasks", "5")),
                count("--workers", given.getOrDefault("--workers", "3")),
                count("--delay", given.getOrDefault("--delay", "100")),
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
