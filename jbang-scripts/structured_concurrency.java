///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25
//PREVIEW

// %% [markdown]
// # Structured concurrency: subtasks that cannot outlive the block that forked them
//
// A method starts two calls at once and one of them fails: who stops the other? In the
// usual code on an executor, nobody: the caller gives up and the sibling runs on for no
// one. A `StructuredTaskScope` interrupts the sibling, and no subtask outlives its block.
//
// **You will learn**
// - why a fan-out on an `ExecutorService` leaves a subtask running when its sibling fails
// - `StructuredTaskScope.open()`, `fork`, `join`, and what closing the scope waits for
// - the Joiners (all must succeed, first success, await all) and a timeout
// - to read the tree of scopes and their threads in a JSON thread dump
// - that the API is a preview in JDK 25, and what later JDKs change

// %% [markdown]
// ## A preview API
//
// `StructuredTaskScope` is a *preview* API in JDK 25 (JEP 505): this file needs
// `--enable-preview` and JDK 25 exactly (JBang reads `//PREVIEW`; a bare JDK: `java
// --enable-preview --source 25 structured_concurrency.java`). JDK 26 (JEP 525) adds
// `Joiner.onTimeout`, makes `allSuccessfulOrThrow` return a list of results, renames
// `anySuccessfulResultOrThrow` to `anySuccessfulOrThrow`. In JDK 27 (JEP 533) `join`'s
// exception has a type parameter, and the built-in Joiners throw `ExecutionException`,
// not `FailedException`. JEP 543 proposes the final API for JDK 28.

// %%
import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.HotSpotDiagnosticMXBean.ThreadDumpFormat;
import java.lang.management.ManagementFactory;
import java.nio.file.*;
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.StructuredTaskScope.*;
import java.util.stream.*;

// %% [markdown]
// ## Two subtasks, one failure
//
// `handle` needs a user and an order, fetched at once. `findUser` fails, always after
// `fetchOrder` has started (a latch); `fetchOrder` waits for the latch `release`, a slow
// service. Pauses scale with `--speed`; waits have limits.

// %%
class Fetch {
    final CountDownLatch orderStarted = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);  // the slow service answers
    final CountDownLatch orderEnded = new CountDownLatch(1);
    volatile boolean orderInterrupted;
    final long pauseMillis;
    Fetch(long pauseMillis) { this.pauseMillis = pauseMillis; }

    String findUser() throws InterruptedException {
        await(orderStarted, 10_000);
        Thread.sleep(pauseMillis);  // pacing for people, not synchronisation
        say("findUser: fails");
        throw new IllegalStateException("user service down");
    }

    String fetchOrder() throws InterruptedException {
        try {
            say("fetchOrder: started, waits for the order service");
            orderStarted.countDown();
            if (!release.await(10_000 + 4 * pauseMillis, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("never released, never interrupted");
            }
            say("fetchOrder: done, its order goes to nobody");
            return "order 42";
        } catch (InterruptedException e) {
            orderInterrupted = true;
            say("fetchOrder: interrupted, stops");
            throw e;
        } finally {
            orderEnded.countDown();
        }
    }

    boolean orderRunning() { return orderEnded.getCount() == 1; }
    static void say(String what) { System.out.println("  " + what); }

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

// %% [markdown]
// ## Broken: the fan-out on an executor
//
// The usual code submits both calls to a pool and waits for each `Future`. `user.get()`
// throws, so `handle` throws too, and nothing cancels `order`: `fetchOrder` goes on.
// Every run prints `still running: true` after `handle` has returned; then the demo opens
// `release`, and `fetchOrder` finishes useless work.
//
// @diagram structured_concurrency-leak

// %%
class LeakyFanOut {
    static String handle(ExecutorService pool, Fetch fetch) throws Exception {
        Future<String> user = pool.submit(fetch::findUser);
        Future<String> order = pool.submit(fetch::fetchOrder);
        return user.get() + ", " + order.get();  // user fails: we leave, order runs on
    }

    static boolean demo(double pauseMillis) throws Exception {
        System.out.println("on an executor (broken):");
        var fetch = new Fetch(Math.round(pauseMillis));
        try (var pool = Executors.newCachedThreadPool()) {  // lives longer than one call
            try {
                handle(pool, fetch);
            } catch (ExecutionException e) {
                Fetch.say("handle: gave up (" + e.getCause().getMessage() + ")");
            }
            boolean running = fetch.orderRunning();
            Fetch.say("after handle returned, fetchOrder still running: " + running);
            Thread.sleep(fetch.pauseMillis);
            fetch.release.countDown();  // the order service answers, for no one
            Fetch.await(fetch.orderEnded, 10_000);
            return running;
        }  // the pool's close() waits for its tasks: nothing leaks from this demo
    }
}

// %% [run]
// boolean stillRunning = LeakyFanOut.demo(400);

// %% [markdown]
// ## Fixed: a `StructuredTaskScope`
//
// `StructuredTaskScope.open()` opens a scope whose policy is "all must succeed". `fork`
// starts a subtask in a new virtual thread and returns a `Subtask`; `join` waits. When
// `findUser` fails, the scope is *cancelled*: it interrupts the threads of the unfinished
// subtasks, here `fetchOrder`, and `join` throws `FailedException` (unchecked) with
// `findUser`'s exception as its cause. `join` returns once the scope is cancelled; it is
// `close()`, at the end of the try block, that waits until every fork has ended. So every
// run shows `fetchOrder` interrupted and ended by the time `handle` returns.
//
// @diagram structured_concurrency-cancel

// %%
class ScopedFanOut {
    static String handle(Fetch fetch) throws InterruptedException {
        try (var scope = StructuredTaskScope.open()) {
            Subtask<String> user = scope.fork(fetch::findUser);
            Subtask<String> order = scope.fork(fetch::fetchOrder);
            scope.join();  // findUser fails: fetchOrder is interrupted, join throws
            return user.get() + ", " + order.get();
        }  // close() waits until every fork has ended
    }

    static boolean demo(double pauseMillis) throws InterruptedException {
        System.out.println("in a StructuredTaskScope (fixed):");
        var fetch = new Fetch(Math.round(pauseMillis));
        try {
            handle(fetch);
        } catch (FailedException e) {
            Fetch.say("handle: gave up (" + e.getCause().getMessage() + ")");
        }
        Fetch.say("after handle returned, fetchOrder still running: "
                + fetch.orderRunning() + ", interrupted: " + fetch.orderInterrupted);
        return !fetch.orderRunning() && fetch.orderInterrupted;
    }
}

// %% [run]
// boolean interruptedAndEnded = ScopedFanOut.demo(400);

// %% [markdown]
// ## The Joiners: what `join` waits for, and what it returns
//
// `open(joiner)` sets the policy; `open()` is `open(Joiner.awaitAllSuccessfulOrThrow())`.
// With `allSuccessfulOrThrow()`, `join` returns a stream of the subtasks, in fork order,
// if all succeed. With `anySuccessfulResultOrThrow()`, `join` returns the first result
// and the scope cancels the rest: `mirror-2` fails, `mirror-3` answers, `mirror-1` (a
// minute's wait) is interrupted. `awaitAll()` cancels for no subtask's outcome (a timeout
// still cancels): you read each subtask's state. `open(joiner, cfg ->
// cfg.withTimeout(duration))` sets a timeout: it cancels the scope, and `join` throws
// `StructuredTaskScope.TimeoutException`, unchecked, not the checked
// `java.util.concurrent.TimeoutException` (with both imports, name it in full).

// %%
class JoinerPolicies {
    static List<String> demo(long pauseMillis) throws InterruptedException {
        var out = new ArrayList<String>();
        try (var scope = StructuredTaskScope.open(Joiner.allSuccessfulOrThrow())) {
            for (int n = 1; n <= 3; n++) { int i = n; scope.fork(() -> i * i); }
            show(out, "allSuccessfulOrThrow: " + scope.join().map(Subtask::get).toList());
        }
        var interrupted = new ConcurrentLinkedQueue<String>();
        Object first;
        try (var scope = StructuredTaskScope.open(Joiner.anySuccessfulResultOrThrow())) {
            scope.fork(() -> waitLong("mirror-1", interrupted));
            scope.fork(() -> { throw new IllegalStateException("mirror-2 down"); });
            scope.fork(() -> { Thread.sleep(pauseMillis); return "mirror-3"; });
            first = scope.join();
        }
        show(out, "anySuccessfulResultOrThrow: " + first + ", interrupted "
                + interrupted);
        try (var scope = StructuredTaskScope.open(Joiner.awaitAll())) {
            var ok = scope.fork(() -> "ok");
            var failed = scope.fork(() -> { throw new IllegalStateException("boom"); });
            scope.join();
            show(out, "awaitAll: " + ok.state() + " " + ok.get() + ", " + failed.state()
                    + " " + failed.exception().getMessage());
        }
        interrupted.clear();
        var timeout = Duration.ofMillis(Math.max(200, pauseMillis));
        try (var scope = StructuredTaskScope.open(Joiner.awaitAllSuccessfulOrThrow(),
                cfg -> cfg.withTimeout(timeout))) {
            scope.fork(() -> waitLong("slow", interrupted));
            scope.join();
        } catch (StructuredTaskScope.TimeoutException e) {
            show(out, "withTimeout(" + timeout.toMillis() + " ms): join threw "
                    + "TimeoutException, interrupted " + interrupted);
        }
        return out;
    }

    static void show(List<String> out, String s) { out.add(s); System.out.println(s); }

    /** A subtask that only ends when it is interrupted (or after a minute). */
    static String waitLong(String name, Queue<String> interrupted) {
        try {
            Thread.sleep(60_000);
        } catch (InterruptedException e) {
            interrupted.add(name);
        }
        return name;
    }
}

// %% [run]
// List<String> outcomes = JoinerPolicies.demo(400);

// %% [markdown]
// ## The task tree in a thread dump
//
// Each scope is a *thread container* owned by the thread that opened it; a subtask that
// opens a scope hangs a child container under its own. A JSON thread dump lists each
// container's parent, owner and threads (`jcmd <pid> Thread.dump_to_file -format=json
// <file>`, or, as here, `HotSpotDiagnosticMXBean.dumpThreads`). Scope `handle` forks two
// subtasks; the second opens scope `fetchOrder` with two forks, named by `withName` and
// `withThreadFactory`. We print their tree lines (`owner`, `tid`: thread ids). `handle`'s
// parent is `<root>` in the script, the kernel's pool in the notebook, where the `jcmd`
// line (for the script) names the kernel's JVM and the forks end in 500 ms.

// %%
class TaskTree {
    static List<String> demo(long holdMillis) throws Exception {
        var forksUp = new CountDownLatch(3);
        var dumped = new CountDownLatch(1);
        Callable<String> leaf = () -> {
            forksUp.countDown();
            Fetch.await(dumped, 10_000 + holdMillis);
            return "ok";
        };
        System.out.println("caller: tid " + Thread.currentThread().threadId()
                + ", the owner of scope handle");
        try (var scope = open("handle")) {
            scope.fork(leaf);
            scope.fork(() -> {
                try (var inner = open("fetchOrder")) {
                    inner.fork(leaf); inner.fork(leaf);
                    inner.join();
                    return "order";
                }
            });
            Fetch.await(forksUp, 10_000);
            Path file = Files.createTempDirectory("dump").resolve("t.json");  // absolute
            var bean = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            bean.dumpThreads(file.toString(), ThreadDumpFormat.JSON);
            List<String> tree = scopesIn(file, "handle", "fetchOrder");
            tree.forEach(System.out::println);
            System.out.printf("forks held %d ms; meanwhile, from another terminal:%n"
                    + "jcmd %d Thread.dump_to_file -format=json -overwrite /tmp/t.json%n",
                    holdMillis, ProcessHandle.current().pid());
            Thread.sleep(holdMillis);  // time for `jcmd` from another terminal
            dumped.countDown();
            scope.join();
            return tree;
        }
    }

    static StructuredTaskScope<String, Void> open(String name) {
        return StructuredTaskScope.open(Joiner.awaitAllSuccessfulOrThrow(), cfg -> cfg
                .withName(name).withThreadFactory(Thread.ofVirtual().name(name + "-", 1)
                        .factory()));
    }

    /** The lines of the named scopes' containers that show the tree, shortened. */
    static List<String> scopesIn(Path dump, String... scopes) throws Exception {
        var shown = new ArrayList<String>();
        boolean ours = false;
        for (String line : Files.readAllLines(dump)) {
            String s = line.substring(Math.min(6, line.length())).replace("\\/", "/")
                    .replace("jdk.internal.misc.ThreadFlock$", "");
            if (s.strip().startsWith("\"container\"")) {
                ours = Stream.of(scopes).anyMatch(n -> s.contains("\": \"" + n + "/"));
            }
            if (ours && s.strip().matches("\"(container|parent|owner|tid|name)\".*")) {
                shown.add(s);
            }
        }
        for (Path p : List.of(dump, dump.getParent())) Files.delete(p);
        return shown;
    }
}

// %% [run]
// List<String> tree = TaskTree.demo(500);

// %% [markdown]
// ## Pitfalls
//
// - **`join` in the block**: or `close()` cancels, throws `IllegalStateException`.
// - **Only the owner** (the thread that opened the scope) may `fork`, `join`, `close`.
// - **Subtasks must answer interrupts**: one that ignores them holds `close()` until it
//   ends. Call `Subtask.get()` only after `join`, on a success.
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | `async with asyncio.TaskGroup() as tg:` | `try (var scope = StructuredTaskScope.open())` |
// | `tg.create_task(coro)` | `scope.fork(callable)`, a `Subtask` |
// | leaving the `async with` block waits | `scope.join()`, then `close()` waits |
// | one task fails: `CancelledError` into the others | the scope interrupts the other forks |
// | `ExceptionGroup` of the failures | `FailedException` (JDK 27: `ExecutionException`), the first failure |
// | `async with asyncio.timeout(10):` | `open(joiner, cfg -> cfg.withTimeout(duration))` |
//
// ## Try it
//
// - In `ScopedFanOut.handle`, use `open(Joiner.awaitAll())` and run `cancel`: nobody
//   interrupts `fetchOrder`; some twelve seconds later `user.get()` throws
//   `IllegalStateException` (`findUser` failed), and a stack trace ends the section.
// - Run `jbang structured_concurrency dump --speed 0.1` and, within five seconds, the
//   printed `jcmd` line in another terminal: `/tmp/t.json` shows `handle` and
//   `fetchOrder` with their forks and each thread's stack.
//
// ## Summary
//
// A `StructuredTaskScope` ties its subtasks to a block: when one fails the others are
// interrupted, and none outlives the block.
//
// An executor has no such tie: a caller that gives up leaves its other tasks running. A
// Joiner picks the policy, `withTimeout` bounds the wait, a JSON thread dump shows the
// tree. The API is a preview; JEP 543 proposes its final form for JDK 28.

// %% [main]
class structured_concurrency {  // the entry point, script only: `jbang <slug> --help`
    static final Section[] SECTIONS = {
            new Section("cancel", "the executor leaks; the scope cancels", speed -> {
                    LeakyFanOut.demo(400 / speed); ScopedFanOut.demo(400 / speed); }),
            new Section("joiners", "all must succeed, first success, await all, timeout",
                    speed -> JoinerPolicies.demo(Math.round(400 / speed))),
            new Section("dump", "the tree of scopes and threads in a JSON thread dump",
                    speed -> TaskTree.demo(Math.round(500 / speed)))};
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
