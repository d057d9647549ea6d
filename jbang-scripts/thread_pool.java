///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Thread pool: ExecutorService, Future, and results in the order they finish
//
// Five pages to fetch, each a one-second wait on the network: one after another they
// take five seconds; on a pool of three worker threads, about two. The pool hands back a
// `Future` for every task, a claim ticket for its result or its exception, and an
// `ExecutorCompletionService` gives you each result as soon as it is ready, as Python's
// `as_completed` does.
//
// **You will learn**
// - to run tasks on an `ExecutorService` and close it with try-with-resources
// - what a fixed pool does with each `submit`: start a new worker, or queue the task
// - to take results in completion order with `ExecutorCompletionService`, and why
//   `get()` in submission order waits for the slowest task
// - where a task's exception goes, and how `Future.get()` hands it back

// %%
import java.io.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.function.*;
import java.util.stream.*;

// %% [markdown]
// ## The seed's program, in Java
//
// The seed's `fetch_data` sleeps for one second, standing in for the network, and
// returns a small dict; `UrlData` prints the same way. Every pause in this lesson is
// that one fetch, scaled by `--speed` (at `--speed 20` it takes 50 ms). `limit`, the
// longest a demo waits for a result before it gives up, grows with it: ten fetches and
// five seconds more.

// %%
record UrlData(int id, String data) {
    public String toString() { return "{'id': %d, 'data': '%s'}".formatted(id, data); }
}

class UrlFetch {
    static final List<Integer> URL_IDS = List.of(0, 1, 2, 3, 4);

    static long millis(double speed) { return Math.round(1000 / speed); }  // one fetch

    static long limit(long fetchMillis) { return 5_000 + 10 * fetchMillis; }

    static UrlData fetchData(int urlId, long millis) throws InterruptedException {
        Thread.sleep(millis);  // the simulated network delay
        return new UrlData(urlId, "content_" + urlId);
    }

    static double secondsSince(long start) { return (System.nanoTime() - start) / 1e9; }

    static Consumer<String> timed() {  // prints each line after the seconds since now
        long start = System.nanoTime();
        return line -> System.out.printf("%5.2f s  %s%n", secondsSince(start), line);
    }

    static IllegalStateException stuck(ExecutorService pool) {  // no result in the limit
        pool.shutdownNow();  // interrupts the running tasks: else close() waits for them
        return new IllegalStateException("no fetch ended within the limit");
    }
}

// %% [markdown]
// `Executors.newFixedThreadPool(3, factory)` stands for the seed's
// `ThreadPoolExecutor(max_workers=3)`; the factory names its threads `worker-1` to
// `worker-3`. A task is a `Callable`: unlike a `Runnable` it returns a value and may
// throw a checked exception. The seed's `as_completed` becomes an
// `ExecutorCompletionService` that we submit through: when a task ends, its `Future`
// joins the service's own queue, where `poll(limit)` takes it, done: `get()` returns at
// once, with the result or by throwing `ExecutionException`. Leaving the `try` block
// calls `close()` (Java 19+): like Python's `with`, it calls `shutdown()` (no new tasks;
// queued ones still run) and waits for every task. So when `poll` gives up, `stuck`
// first calls `shutdownNow()` to interrupt the fetches. The lines go to `out`.
//
// @diagram thread_pool-completion

// %%
class SeedPool {
    static ExecutorService newPool(int workers) {
        return Executors.newFixedThreadPool(workers,
                Thread.ofPlatform().name("worker-", 1).factory());
    }

    /** The seed's program: every fetch submitted, each result taken as it completes. */
    static List<UrlData> fetchAll(IntFunction<Callable<UrlData>> fetch, long limit,
            Consumer<String> out) throws InterruptedException {
        var results = new ArrayList<UrlData>();
        try (var executor = newPool(3)) {
            var done = new ExecutorCompletionService<UrlData>(executor);
            var futureToId = new HashMap<Future<UrlData>, Integer>();
            for (int urlId : UrlFetch.URL_IDS) {
                futureToId.put(done.submit(fetch.apply(urlId)), urlId);
            }
            for (int i = 0; i < futureToId.size(); i++) {
                Future<UrlData> future = done.poll(limit, TimeUnit.MILLISECONDS);
                if (future == null) throw UrlFetch.stuck(executor);
                int urlId = futureToId.get(future);
                try {
                    UrlData result = future.get();  // done already: no wait
                    results.add(result);
                    out.accept("Completed URL " + urlId + ": " + result);
                } catch (ExecutionException e) {
                    String message = e.getCause().getMessage();  // as Python's str(exc)
                    out.accept("URL " + urlId + " generated exception: " + message);
                }
            }
        }
        out.accept("Total results: " + results.size());
        return results;
    }

    static void demo(double speed) throws InterruptedException {
        long fetch = UrlFetch.millis(speed);
        fetchAll(id -> () -> UrlFetch.fetchData(id, fetch), UrlFetch.limit(fetch),
                System.out::println);
    }
}

// %% [run]
// SeedPool.demo(1);

// %% [markdown]
// The run takes about two fetches: three run at once, and the other two start only when
// a worker comes free (next section). At the default pace the first three lines are urls
// 0, 1 and 2 and the last two urls 3 and 4, each group in an order that varies. (At
// `--speed 20`, on a busy machine, a late worker can let url 3 or 4 overtake its fetch.)
//
// ## Inside the pool: three workers, then the queue
//
// `newFixedThreadPool(3)` returns a `ThreadPoolExecutor` with three core threads, at
// most three, and an unbounded `LinkedBlockingQueue`; we build exactly that, to look
// inside. It starts no thread until a task arrives. Then `execute` (which `submit`
// calls) starts a new worker, with the task as its first, while fewer than three exist,
// even if an older one is idle; only once three exist do tasks go into the queue,
// where a worker that has finished a task takes the next.
//
// Each task returns where and when it started; `main` (in the notebook, the kernel's
// thread running the cell) prints that as it completes. The counts are monitoring
// snapshots, which running workers can change at any moment: so each fetch first waits
// for `allIn`, a latch main opens after the fifth submit, and no fetch ends, nor a
// worker takes from the queue, while main counts.
//
// @diagram thread_pool-rounds

// %%
class PoolRounds {
    /** What Executors.newFixedThreadPool(n, factory) builds, with its type showing. */
    static ThreadPoolExecutor newPool(int workers) {
        var factory = Thread.ofPlatform().name("worker-", 1).factory();
        return new ThreadPoolExecutor(workers, workers, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), factory);
    }

    static void rounds(IntFunction<Callable<UrlData>> fetch, long limit,
            Consumer<String> out) throws Exception {
        long start = System.nanoTime();
        var allIn = new CountDownLatch(1);  // no fetch starts before all five are in
        try (var pool = newPool(3)) {
            var done = new ExecutorCompletionService<String>(pool);
            out.accept("new pool: workers " + pool.getPoolSize());
            try {
                for (int urlId : UrlFetch.URL_IDS) {
                    done.submit(() -> {
                        boolean in = allIn.await(limit, TimeUnit.MILLISECONDS);
                        if (!in) throw new TimeoutException("allIn never opened");
                        String ran = "url %d started on %s at %.2f s".formatted(urlId,
                                Thread.currentThread().getName(),
                                UrlFetch.secondsSince(start));
                        fetch.apply(urlId).call();
                        return ran;
                    });
                    out.accept("submit url %d: workers %d, queued %d".formatted(urlId,
                            pool.getPoolSize(), pool.getQueue().size()));
                }
            } finally {
                allIn.countDown();
            }
            for (int i = 0; i < UrlFetch.URL_IDS.size(); i++) {
                var next = done.poll(limit, TimeUnit.MILLISECONDS);
                if (next == null) throw UrlFetch.stuck(pool);
                out.accept("%5.2f s  %s".formatted(UrlFetch.secondsSince(start),
                        next.get()));
            }
        }
    }

    static void demo(double speed) throws Exception {
        long fetch = UrlFetch.millis(speed);
        rounds(id -> () -> UrlFetch.fetchData(id, fetch), UrlFetch.limit(fetch),
                System.out::println);
    }
}

// %% [run]
// PoolRounds.demo(1);

// %% [markdown]
// The counts after each `submit` are the same on every run: one, two, three workers,
// then one and two queued. Urls 0, 1 and 2 start at once on `worker-1`, `worker-2` and
// `worker-3` and end together about one fetch later, in an order that varies. Urls 3
// and 4 start then, on whichever two workers reach the queue first (not always those
// of the first two lines), and end about two fetches in.
//
// ## Submission order or completion order
//
// Now url 0 takes two fetches and the other urls half of one each. Calling `get()` on
// each future in the order we submitted them means waiting for url 0 first. The same
// fetches through the completion service come back as they end.

// %%
class PoolOrder {
    static void inSubmissionOrder(IntFunction<Callable<UrlData>> fetch, long limit,
            Consumer<String> out) throws Exception {
        try (var executor = SeedPool.newPool(3)) {
            var futures = UrlFetch.URL_IDS.stream()
                    .map(urlId -> executor.submit(fetch.apply(urlId))).toList();
            try {
                for (int urlId : UrlFetch.URL_IDS) {
                    var result = futures.get(urlId).get(limit, TimeUnit.MILLISECONDS);
                    out.accept("Completed URL " + urlId + ": " + result);
                }
            } catch (TimeoutException e) { throw UrlFetch.stuck(executor); }
        }
    }

    static void demo(double speed) throws Exception {
        long fetch = UrlFetch.millis(speed), limit = UrlFetch.limit(fetch);
        IntFunction<Callable<UrlData>> slowUrl0 = id -> () ->
                UrlFetch.fetchData(id, id == 0 ? 2 * fetch : fetch / 2);
        System.out.println("get() on each future, in submission order:");
        inSubmissionOrder(slowUrl0, limit, UrlFetch.timed());
        System.out.println("ExecutorCompletionService, in completion order:");
        SeedPool.fetchAll(slowUrl0, limit, UrlFetch.timed());
    }
}

// %% [run]
// PoolOrder.demo(1);

// %% [markdown]
// In submission order the first line waits for url 0, about two fetches in, and the
// other four come right after it, although they had all ended by about one. In
// completion order, at the default pace, urls 1 and 2 come at about half a fetch, urls
// 3 and 4 at about one (each pair in either order), and url 0 last. Both runs take the
// same time; only the completion service lets you act on each result as it exists.
//
// ## When a fetch throws
//
// A task's exception does not kill its worker and is not printed: the pool stores it in
// the task's `Future`, and nobody hears of it unless somebody asks. Here url 3's
// connection is refused after its wait. First nobody calls `get()`: `close()` returns
// as if all went well, and only the futures tell (`state()`, `exceptionNow()`). Then
// the seed's loop asks: `get()` throws `ExecutionException`, whose `getCause()` is the
// task's own `IOException`; the loop prints its message, as the seed prints `exc`.

// %%
class FetchFailures {
    static Callable<UrlData> fetchOrRefuse(int urlId, long fetch) {
        return () -> {
            if (urlId != 3) return UrlFetch.fetchData(urlId, fetch);
            Thread.sleep(fetch);
            throw new IOException("connection refused: url " + urlId);
        };
    }

    /** Submits every fetch and never calls get(); returns the futures once closed. */
    static List<Future<UrlData>> submitAndForget(long fetch) {
        try (var executor = SeedPool.newPool(3)) {
            return UrlFetch.URL_IDS.stream()
                    .map(urlId -> executor.submit(fetchOrRefuse(urlId, fetch))).toList();
        }  // close() waits for all five tasks; it throws nothing and prints nothing
    }

    static void demo(double speed) throws Exception {
        long fetch = UrlFetch.millis(speed);
        var futures = submitAndForget(fetch);
        System.out.println("closed, nothing printed; the futures' states:");
        System.out.println("  " + futures.stream().map(Future::state).toList());
        System.out.println("  url 3, stored: " + futures.get(3).exceptionNow());
        System.out.println("The seed's loop, which asks:");
        SeedPool.fetchAll(id -> fetchOrRefuse(id, fetch), UrlFetch.limit(fetch),
                System.out::println);
    }
}

// %% [run]
// FetchFailures.demo(1);

// %% [markdown]
// ## Which one to use
//
// | you need | use |
// |---|---|
// | each result as soon as it is ready | `ExecutorCompletionService`, `poll` with a limit |
// | all results, in the order you asked | `invokeAll(tasks, timeout, unit)` |
// | the first success, the rest cancelled | `invokeAny` |
// | at most N tasks at once, on platform threads | `Executors.newFixedThreadPool(n)` |
//
// ## Pitfalls
//
// - **Submit and forget loses exceptions.** `submit` stores them in the `Future`: call
//   `get()` on every future, or catch inside the task. (`execute` has no `Future`: the
//   worker's uncaught-exception handler prints it; see `thread_exceptions`.)
// - **A stuck task outlasts a timeout.** `get()` without one waits forever (also for a
//   task that will never run, below); with one, `close()` still waits for the task.
//   Use `get(timeout, unit)` or `poll(timeout, unit)`, then `shutdownNow()` or
//   `cancel(true)` before `close()`, and write tasks that end when interrupted.
// - **Tasks that wait for tasks in the same pool can deadlock it.** Three workers each
//   waiting for a fourth task, still queued, wait forever: it needs a worker they hold.
// - **The fixed pool's queue is unbounded.** `submit` never blocks, so a fast producer
//   can queue tasks until memory runs out (see `producer_consumer`).
// - **Workers are reused**: a `ThreadLocal` set by one task is still set for the next
//   task on that worker. Clear it in `finally`, or use `ScopedValue`.
// - **An open pool keeps the JVM alive**: its workers are not daemon threads. Close
//   it (`executor_lifecycle` shows `shutdown()`, `awaitTermination()` and the rest).
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `with ThreadPoolExecutor(max_workers=3) as executor:` | `try (var executor = Executors.newFixedThreadPool(3)) { … }` |
// | `executor.submit(fetch_data, url_id)` | `executor.submit(() -> fetchData(urlId))`, a `Callable` |
// | `as_completed(future_to_id)` | `ExecutorCompletionService`: submit through it, then `poll` |
// | `future.result()` raises the task's exception | `future.get()` throws `ExecutionException`; `getCause()` is the task's |
// | `executor.shutdown(cancel_futures=True)` | no single call: see below |
//
// Python's `cancel_futures=True` (3.9+) cancels the tasks not yet started and lets the
// running ones finish. `shutdownNow()` instead interrupts the running tasks and returns
// the queued ones without cancelling them: `get()` on their futures blocks forever.
// Python's call in Java, for tasks submitted straight to a `ThreadPoolExecutor` `pool`:
// `pool.shutdown(); pool.getQueue().forEach(r -> ((Future<?>) r).cancel(false));`
// (through a completion service, the queue holds wrappers, not your futures). In
// CPython (its default build) the fetches overlap because `time.sleep` and socket I/O
// release the GIL; in Java, tasks that compute run in parallel too, as many at once as
// the pool has workers and the machine has free cores.
//
// ## Try it
//
// - In `PoolRounds.rounds`, add `pool.prestartAllCoreThreads();` before the first
//   `out.accept`: every line shows workers 3, and the queued counts change from run to
//   run, since every task now goes through the queue and idle workers race main to it.
// - In `PoolRounds.rounds`, make it `newPool(5)`: workers 1 to 5, nothing queued, and
//   all five urls start at about 0 s and end together, about one fetch in.
// - In `FetchFailures.demo`, call `futures.get(3).get()` before the last two lines:
//   the section ends at once with an `ExecutionException` whose cause is url 3's.
//
// ## Summary
//
// A pool runs your tasks on a few reused workers, and each `submit` hands back a
// `Future` that delivers the task's result or its exception at `get()`.
//
// A fixed pool (a `ThreadPoolExecutor` with an unbounded queue) starts a worker while
// fewer than `corePoolSize` exist, then queues the rest for whichever worker comes
// free. Take results in completion order with `ExecutorCompletionService`, always with
// a time limit, and call `get()` on every future, or its exception is never seen.
// Close every pool, after `shutdownNow()` if you gave up on its tasks.

// %% [main]
class thread_pool {  // the entry point, script only: `jbang thread_pool --help`
    static final Section[] SECTIONS = {
            new Section("seed", "the seed's 5 fetches on 3 workers", SeedPool::demo),
            new Section("rounds", "3 new workers, then 2 queued", PoolRounds::demo),
            new Section("order", "submission order vs completion order", PoolOrder::demo),
            new Section("failure", "a fetch fails: unseen, then seen",
                    FetchFailures::demo)};
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
