///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # CompletableFuture: chain callbacks, see every failure, stop what you cancel
//
// A `CompletableFuture` is a result that arrives later, plus the callbacks that run
// when it does. A chain of them reads like straight-line code, but a failure that
// nobody joins vanishes without a trace, and `cancel(true)` marks a future cancelled
// while its work goes on.
//
// **You will learn**
// - to compose steps: `thenApply`, `thenCompose`, `thenCombine`, `allOf`, `anyOf`
// - which thread runs each callback, and what the default executor is in JDK 25
// - to bound a wait with `orTimeout` and `completeOnTimeout`
// - why a failure nobody joins is lost, and how `join` and `handle` show it
// - why `cancel(true)` does not stop the work, and what does

// %%
import java.util.*;
import java.util.concurrent.*;
import java.util.function.*;
import java.util.stream.*;

// %% [markdown]
// ## The seed's fetch, as futures
//
// `PageFetch.page` is the seed's `fetch_data`: a one-second pause (paced by `--speed`),
// then a record. `supplyAsync(supplier, pool)` runs the supplier on the pool and returns
// at once a `CompletableFuture`, completed later with its value. Each `then...` returns a
// new future (a *stage*) completed from the one before: `thenCompose` starts a call that
// needs the value (page 1 is linked from page 0), `thenCombine` joins two results,
// `thenApply` maps one. `allOf` completes when all its futures have, `anyOf` with the
// first; `join()` waits. Last, the seed's fan-out: five fetches on three threads.

// %%
record WebPage(int id, String data) { }

class PageFetch {
    static WebPage page(int id, long pauseMillis) {
        pause(pauseMillis);
        return new WebPage(id, "content_" + id);
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);  // stands for the network; not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted during a fetch");
        }
    }

    static ExecutorService fetchers(int n) {
        return Executors.newFixedThreadPool(n,
                Thread.ofPlatform().name("fetcher-", 0).factory());
    }
}

class Composing {
    static void demo(double speed) {
        long pause = Math.round(1_000 / speed);
        try (var pool = PageFetch.fetchers(3)) {
            CompletableFuture<WebPage> home = CompletableFuture.supplyAsync(
                    () -> PageFetch.page(0, pause), pool);
            CompletableFuture<WebPage> link = home.thenCompose(p -> CompletableFuture
                    .supplyAsync(() -> PageFetch.page(p.id() + 1, pause), pool));
            CompletableFuture<String> both = home.thenCombine(link,
                    (a, b) -> a.data() + " + " + b.data()).thenApply(String::toUpperCase);
            System.out.println("thenCompose, thenCombine, thenApply: " + both.join());

            var silent = new CompletableFuture<WebPage>();  // a mirror that never answers
            Object first = CompletableFuture.anyOf(silent, CompletableFuture.supplyAsync(
                    () -> PageFetch.page(4, pause), pool)).join();
            System.out.println("anyOf: " + first + "; mirror done: " + silent.isDone());

            var fetches = IntStream.range(0, 5).mapToObj(id -> CompletableFuture
                    .supplyAsync(() -> PageFetch.page(id, pause), pool)
                    .whenComplete((p, ex) -> System.out.println(ex != null ? ex
                            : "Completed URL " + p.id() + ": " + p))).toList();
            CompletableFuture.allOf(fetches.toArray(CompletableFuture[]::new)).join();
            var results = fetches.stream().map(CompletableFuture::join).toList();
            System.out.println("Total results: " + results.size());  // the seed's line
        }
    }
}

// %% [run]
// Composing.demo(1);

// %% [markdown]
// `anyOf` returns a `CompletableFuture<Object>` (cast its result) and does not cancel
// the losers: the mirror stays pending for good. The seed's five lines come in the
// order the fetches finish, which varies from run to run.
//
// ## Which thread runs a callback
//
// A non-async callback (`thenApply`, `exceptionally`, ...) attached to a pending stage
// runs on the thread that completes that stage (or on one that calls `join`, `get` or a
// `then...` on it at that moment); attached to a completed one, at once, on the thread
// that attaches it. An `...Async` method hands it to an executor: yours, or the default,
// in JDK 25 the common `ForkJoinPool` (so says the class javadoc; that of
// `defaultExecutor()` keeps an older rule). Its *parallelism* (the number of workers it
// aims to keep running) is the processors minus one, at least one; if set to 0 with
// `-Djava.util.concurrent.ForkJoinPool.common.parallelism=0`, `asyncCommonPool()` makes
// it two. On 2 cores, at most one worker runs the default async tasks at a time, unless
// a task blocks in `join()` or `get()`: then the pool may add a spare. (JDK 17 and 21
// started a thread per task when that parallelism was below two.)
//
// The demo builds a chain of four steps, then a latch lets the first (on `fetcher-0`)
// finish, so the order is the same on every run. `orTimeout` and `completeOnTimeout`
// complete a future still pending after a delay, with a `TimeoutException` or a value,
// on the common pool's timer thread, `ForkJoinPool.commonPool-delayScheduler`, which
// then runs the future's non-async callbacks (attached first, then the timer armed).
// The caller is `main` (in the notebook, the kernel's own thread); the worker's number
// varies, as the pool makes and retires workers.
//
// @diagram completable_future-callback-chain

// %%
class CallbackThreads {
    static final List<String> ranOn = new CopyOnWriteArrayList<>();  // thread per step

    static String on(String step) {  // prints and records which thread runs a step
        String thread = Thread.currentThread().getName();
        System.out.printf("  %-34s on %s%n", step, thread);
        ranOn.add(thread);
        return thread;
    }

    static void demo(double speed) {
        ranOn.clear();
        System.out.printf("common pool: parallelism %d, on %d processors%n", ForkJoinPool
                .getCommonPoolParallelism(), Runtime.getRuntime().availableProcessors());
        var go = new CountDownLatch(1);
        try (var pool = PageFetch.fetchers(1)) {
            var chain = CompletableFuture.supplyAsync(() -> {
                        await(go, 10_000);
                        return on("supplyAsync(supplier, pool)");
                    }, pool)
                    .thenApply(t -> on("thenApply"))
                    .thenApplyAsync(t -> on("thenApplyAsync"))  // the default executor
                    .thenApply(t -> on("thenApply"));
            go.countDown();  // the chain is built: now the first step may finish
            chain.join();
            on("join() returned");
            chain.thenApply(t -> on("thenApply on a completed stage"));
        }
        long limit = Math.round(500 / speed);  // two futures nobody else completes
        var timesOut = new CompletableFuture<String>();
        var seen = timesOut.exceptionally(ex -> on("exceptionally(TimeoutException)"));
        timesOut.orTimeout(limit, TimeUnit.MILLISECONDS);  // callback first, then timer
        seen.join();
        var late = new CompletableFuture<String>();
        var mapped = late.thenApply(v -> on("thenApply(\"late\")"));
        late.completeOnTimeout("late", limit, TimeUnit.MILLISECONDS);
        mapped.join();
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
// CallbackThreads.demo(1);

// %% [markdown]
// ## Broken: a failure nobody sees
//
// Now URL 3 is down: its fetch throws. Each fetch ends in `thenAccept(results::add)`;
// the caller keeps no future, closes the pool (which waits for the fetches) and counts.
// URL 3's future passes its exception to its `thenAccept` stage, which nobody reads: no
// output, 4 results on every run. (A dying `Thread` at least prints its exception.)
//
// ## Fixed: keep every future, and ask it how it ended
//
// `allOf(...).join()` throws a `CompletionException` whose cause is the fetch's
// exception. To report each URL as the seed does, `handle((value, ex) -> ...)` maps
// either outcome to a value, `exceptionally` replaces a failure, `whenComplete` only
// looks; each gets it wrapped in a `CompletionException` (see `thread_exceptions`).

// %%
class LostFailure {
    static WebPage fetch(int id, long pauseMillis) {  // URL 3 is down
        WebPage page = PageFetch.page(id, pauseMillis);
        if (id == 3) throw new IllegalStateException("HTTP 503 from URL 3");
        return page;
    }

    static List<WebPage> fireAndForget(long pauseMillis) {
        var results = new CopyOnWriteArrayList<WebPage>();
        try (var pool = PageFetch.fetchers(3)) {
            IntStream.range(0, 5).forEach(id -> CompletableFuture.supplyAsync(
                    () -> fetch(id, pauseMillis), pool).thenAccept(results::add));
        }  // close() waits for every fetch, and the thenAccept it completes
        System.out.println("Total results: " + results.size());
        return results;
    }

    static List<WebPage> observed(long pauseMillis) {
        try (var pool = PageFetch.fetchers(3)) {
            var fetches = IntStream.range(0, 5).mapToObj(id -> CompletableFuture
                    .supplyAsync(() -> fetch(id, pauseMillis), pool)).toList();
            try {
                CompletableFuture.allOf(fetches.toArray(CompletableFuture[]::new)).join();
            } catch (CompletionException e) {  // allOf fails if any of them failed
                System.out.println("allOf(...).join() threw: " + e.getCause());
            }
            var results = new ArrayList<WebPage>();
            IntStream.range(0, fetches.size()).forEach(url -> {
                var fetch = fetches.get(url);
                System.out.println(fetch.handle((page, ex) -> ex == null  // either way
                        ? "Completed URL %d: %s".formatted(url, page)
                        : "URL %d generated exception: %s".formatted(url,
                                ex.getCause().getMessage())).join());
                if (fetch.state() == Future.State.SUCCESS) results.add(fetch.resultNow());
            });
            System.out.println("Total results: " + results.size());
            return results;
        }
    }

    static void demo(double speed) {
        System.out.println("-- broken: thenAccept, and nobody joins");
        fireAndForget(Math.round(1_000 / speed));
        System.out.println("-- fixed: allOf(...).join(), then handle each");
        observed(Math.round(1_000 / speed));
    }
}

// %% [run]
// LostFailure.demo(1);

// %% [markdown]
// ## Broken: `cancel(true)` that stops nothing
//
// A job waits for a slow call (a latch, opened after a paced pause), then sends an
// email; it reports whether it was interrupted. The caller cancels it while it waits.
// `CompletableFuture.cancel(true)` returns true and the future is cancelled, but the
// argument "has no effect in this implementation because interrupts are not used to
// control processing" (its javadoc): the job wakes when its call returns, and sends.
//
// Two fixes. `submit` on a `ThreadPoolExecutor` (our pool) returns a `FutureTask`,
// which knows its thread: its `cancel(true)` interrupts it. An interrupt is a request:
// `await` may return `true` with the flag set (the reply came too), so the job checks
// `Thread.interrupted()` before it sends. Or it checks its future's `isCancelled()`.
//
// @diagram completable_future-cancel

// %%
class ReportJob {  // waits for a slow call, then sends an email, unless stopped
    final CountDownLatch started = new CountDownLatch(1), reply = new CountDownLatch(1);
    volatile String outcome = "never ran";

    String run(long limitMillis, BooleanSupplier cancelled) {
        started.countDown();
        try {
            outcome = !reply.await(limitMillis, TimeUnit.MILLISECONDS) ? "no reply"
                    : Thread.interrupted() ? "interrupted while waiting; sent no email"
                    : cancelled.getAsBoolean() ? "saw the cancel; sent no email"
                    : "not interrupted: went on and SENT THE EMAIL";
        } catch (InterruptedException e) {
            outcome = "interrupted while waiting; sent no email";
        }
        return outcome;
    }
}

class CancelRuns {
    enum How { SUPPLY_ASYNC, SUBMIT, COOPERATIVE }
    static final List<String> LABELS = List.of("broken: supplyAsync(job, pool)",
            "fixed: pool.submit(job), a FutureTask", "fixed: the job checks the future");

    static String run(How how, long pauseMillis) {
        System.out.println("-- " + LABELS.get(how.ordinal()));
        var job = new ReportJob();
        long limit = 10_000 + 4 * pauseMillis;
        try (var pool = PageFetch.fetchers(1)) {
            Future<?> future = switch (how) {
                case SUPPLY_ASYNC -> CompletableFuture.supplyAsync(
                        () -> job.run(limit, () -> false), pool);
                case SUBMIT -> pool.submit(() -> job.run(limit, () -> false));
                case COOPERATIVE -> {  // a future the job completes, and checks
                    var f = new CompletableFuture<String>();
                    pool.execute(() -> f.complete(job.run(limit, f::isCancelled)));
                    yield f;
                }
            };
            CallbackThreads.await(job.started, limit);
            System.out.printf("  cancel(true) returned %b; isCancelled() %b%n",
                    future.cancel(true), future.isCancelled());
            PageFetch.pause(pauseMillis);  // the slow call returns a little later
            job.reply.countDown();
        }  // close() waits for the job to end (its await, too, has a limit)
        System.out.println("  the job: " + job.outcome);
        return job.outcome;
    }

    static void demo(double speed) {
        for (How how : How.values()) run(how, Math.round(1_000 / speed));
    }
}

// %% [run]
// CancelRuns.demo(1);

// %% [markdown]
// ## Pitfalls
//
// - **Blocking work on the default executor.** On two cores its parallelism is one,
//   shared with all else that uses the common pool: pass an executor for blocking calls.
// - **`orTimeout` is not cancellation.** It completes the future; the work runs on.
// - **Slow callbacks after a timeout** hold up `ForkJoinPool.commonPool-delayScheduler`,
//   the timer of every `CompletableFuture`: keep them short, or use `exceptionallyAsync`.
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | `executor.submit(f, x)`, a `concurrent.futures.Future` | `supplyAsync(() -> f(x), pool)` |
// | `future.add_done_callback(fn)` | `whenComplete((value, ex) -> ...)`, `thenApply(fn)` |
// | `future.result()` | `join()` (or `get()`, with checked exceptions) |
// | `asyncio.gather(*aws)` | `allOf(...)`, then `join()` each |
// | `as_completed(fs)` | `whenComplete` on each; `ExecutorCompletionService` |
// | `asyncio.wait(aws, return_when=FIRST_COMPLETED)` | `anyOf(...)` |
// | `asyncio.wait_for(aw, timeout)` | `orTimeout(...)`, `completeOnTimeout(...)` |
// | `future.cancel()`, `task.cancel()` | `Future.cancel(true)` of `submit`; a check |
//
// `add_done_callback` runs as a non-async `then...` does (on the thread that completes
// the future, or at once if done) but returns nothing to chain. Its `cancel()` refuses
// (`False`) once the call runs; `CompletableFuture`'s says yes and lets it run.
//
// ## Try it
//
// - In `Composing.demo`, drop `, pool` from the seed's `supplyAsync`, then run `java
//   -Djava.util.concurrent.ForkJoinPool.common.parallelism=1 completable_future.java
//   compose`: the `Completed` lines come one a second (one worker), not three at once.
// - In `CallbackThreads.demo`, pass `pool` to `thenApplyAsync`: all four steps of the
//   chain run on `fetcher-0`.
// - In `LostFailure.fireAndForget`, end the chain in `.exceptionally(ex -> { ... })`
//   that prints `ex.getCause()`: the failure of URL 3 shows up.
//
// ## Summary
//
// A `CompletableFuture` keeps failures and cancellation to itself: a failure shows only
// when someone joins or handles the future, and `cancel(true)` stops no work unless the
// work is told.
//
// Give blocking steps their own executor, bound waits with `orTimeout`, join or `handle`
// every future. To stop work, cancel the `Future` of a `ThreadPoolExecutor`'s `submit`
// (if the work answers interrupts), or have the work check for cancellation.

// %% [main]
class completable_future {  // the entry point: `jbang completable_future --help`
    static final Section[] SECTIONS = {
            new Section("compose", "then..., allOf, anyOf", Composing::demo),
            new Section("threads", "where callbacks run", CallbackThreads::demo),
            new Section("failures", "a lost failure; join and handle", LostFailure::demo),
            new Section("cancel", "cancel(true) stops nothing", CancelRuns::demo)};
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
