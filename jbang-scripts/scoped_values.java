///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25
//PREVIEW

// %% [markdown]
// # Scoped values: context that ends with its call
//
// Code deep in a request handler needs to know who is asking, and nobody wants to pass
// the user through every method. A `ThreadLocal` does it, but its value stays on the
// thread until someone removes it, and a pooled thread hands a forgotten one on.
//
// **You will learn**
// - how a `ThreadLocal` left set on a pooled thread serves one user's request as another's
// - `ScopedValue.where(KEY, value).run/call`: a binding that ends when the call returns
// - rebinding in a nested call, and why a scoped value has no `set`
// - how `StructuredTaskScope` forks inherit a binding, and who pays for that, and when

// %%
import java.lang.management.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.function.*;
import java.util.stream.*;

// %% [markdown]
// ## The broken version: a thread-local left set
//
// A small server keeps the logged-in user in a `ThreadLocal`, so that `render`, deep in
// the call stack, can read it without a parameter. `handle` sets it for logged-in
// requests and removes it at the end; but when `render` throws, `remove()` is skipped,
// and the value stays on the thread. A thread pool's thread outlives its tasks: the next
// request it serves starts with the last user still set.

// %%
record Request(String user, String path) { }  // user null: not logged in

class ThreadLocalServer {
    static final ThreadLocal<String> USER = new ThreadLocal<>();

    static String handle(Request request) {
        if (request.user() != null) USER.set(request.user());
        String page = render(request.path());
        USER.remove();  // skipped when render throws
        return page;
    }

    static String render(String path) {  // deep in the call stack: no user parameter
        if (path.equals("/broken")) throw new IllegalStateException(path + " failed");
        return Objects.requireNonNullElse(USER.get(), "anonymous") + " sees " + path;
    }
}

// %% [markdown]
// `serve` sends three requests in turn to a pool of one thread, `pool-worker`: alice
// reads her inbox, alice hits a bug, then someone not logged in opens the home page. One
// thread makes the leak certain: every request runs where the earlier ones ran.
// (`submit` keeps a task's exception in its `Future`, so the worker lives on; `execute`
// would let it die and the pool start a fresh one.) `--speed` scales the pauses.
//
// @diagram scoped_values-leak

// %%
class Requests {
    static final List<Request> DAY = List.of(new Request("alice", "/inbox"),
            new Request("alice", "/broken"), new Request(null, "/home"));

    /** Serves the day's requests in order on one pooled thread; returns the replies. */
    static List<String> serve(String server, Function<Request, String> handler,
            long pauseMillis) throws Exception {
        System.out.println(server + ", every request on pool-worker:");
        var replies = new ArrayList<String>();
        try (var pool = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().name("pool-worker").factory())) {
            for (Request request : DAY) {
                Future<String> reply = pool.submit(() -> handler.apply(request));
                try {
                    replies.add(reply.get(10, TimeUnit.SECONDS));
                } catch (ExecutionException e) {
                    replies.add("failed: " + e.getCause().getMessage());
                }
                boolean leaked = request.user() == null
                        && !replies.getLast().startsWith("anonymous");
                System.out.printf("  %-7s %-8s -> %s%s%n", Objects.requireNonNullElse(
                        request.user(), "(none)"), request.path(), replies.getLast(),
                        leaked ? "  <- LEAKED" : "");
                if (request != DAY.getLast()) Thread.sleep(pauseMillis);  // for people
            }
        }
        return replies;
    }
}

// %% [run]
// var replies = Requests.serve("ThreadLocalServer", ThreadLocalServer::handle, 400);

// %% [markdown]
// The third request never logged in, yet it is served as alice. Nothing failed at the
// moment of the leak: the bug was in the second request, the damage in the third.
//
// ## The fix: a `ScopedValue`, bound for one call
//
// `ScopedValue.where(USER, "alice").call(op)` binds `USER` to `"alice"` in this thread
// for the length of `op` (`run` does the same for an op with no result). Code that `op`
// calls, however deep, reads it with `USER.get()`, or `USER.orElse("anonymous")` where it
// may be unbound. When `op` returns or throws, the binding ends: there is no `remove` to
// forget, even on a pooled thread. `ScopedValue` is final in JDK 25 (JEP 506).
//
// @diagram scoped_values-binding

// %%
class ScopedServer {
    static final ScopedValue<String> USER = ScopedValue.newInstance();

    static String handle(Request request) {
        if (request.user() == null) return render(request.path());
        return ScopedValue.where(USER, request.user()).call(() -> render(request.path()));
    }

    static String render(String path) {
        if (path.equals("/broken")) throw new IllegalStateException(path + " failed");
        return USER.orElse("anonymous") + " sees " + path;
    }

    static void bothServers(long pauseMillis) throws Exception {  // the `leak` section
        Requests.serve("ThreadLocalServer", ThreadLocalServer::handle, pauseMillis);
        Requests.serve("ScopedServer", ScopedServer::handle, pauseMillis);
    }
}

// %% [run]
// var scopedReplies = Requests.serve("ScopedServer", ScopedServer::handle, 400);

// %% [markdown]
// ## Rebinding, and no `set`
//
// A `ScopedValue` has no `set`: code that reads it cannot change what its caller sees.
// To give a nested call another value, bind it again: inside the nested `run` the new
// value hides the old one, and when that `run` returns the old value is back. Bindings
// are per thread: two threads can bind `USER` to different users at once; each reads
// its own.

// %%
class Nesting {
    static List<String> show() {
        var seen = new ArrayList<String>();
        ScopedValue.where(ScopedServer.USER, "alice").run(() -> {
            seen.add(look("in where(USER, \"alice\")"));
            ScopedValue.where(ScopedServer.USER, "admin").run(
                    () -> seen.add(look("  nested where(USER, \"admin\")")));
            seen.add(look("back in the outer call"));
        });
        seen.add(look("after run returned"));
        return seen;
    }

    static String look(String where) {
        String user = ScopedServer.USER.orElse("(unbound)");
        System.out.printf("  %-32s USER = %s%n", where, user);
        return user;
    }
}

// %% [run]
// List<String> nested = Nesting.show();

// %% [markdown]
// ## Forks inherit the binding; other threads do not
//
// A binding reaches another thread in one case only: a subtask forked in a
// `StructuredTaskScope` opened inside the binding. The scope captures the bindings when
// it opens, and each fork's thread starts with a reference to them, not a copy: safe, as
// forks cannot outlive their scope (`join` waits for them; `close`, still inside the
// binding, cancels and waits for any left). An executor's task, on a virtual thread too,
// sees `USER` unbound. `StructuredTaskScope` is a preview API in JDK 25 (JEP 505): its
// `Joiner` API changes in JDK 26, not the calls used here (`open`, `fork`, `join`,
// `get`). Without JBang: `java --enable-preview --source 25 scoped_values.java`.
//
// @diagram scoped_values-forks

// %%
class Inheritance {
    static List<String> forksAndTask() throws Exception {
        return ScopedValue.where(ScopedServer.USER, "alice").call(() -> {
            var seen = new ArrayList<String>();
            try (var scope = StructuredTaskScope.<String>open()) {
                var fork1 = scope.fork(() -> whoSees("fork 1"));
                var fork2 = scope.fork(() -> whoSees("fork 2"));
                scope.join();  // waits for both forks, inside the binding
                seen.addAll(List.of(fork1.get(), fork2.get()));
            }
            try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
                seen.add(executor.submit(() -> whoSees("executor task"))
                        .get(10, TimeUnit.SECONDS));
            }
            seen.forEach(line -> System.out.println("  " + line));
            return seen;
        });
    }

    static String whoSees(String who) {
        String user = ScopedServer.USER.orElse("(unbound)");
        return "%-13s virtual: %-5b USER = %s".formatted(who,
                Thread.currentThread().isVirtual(), user);
    }
}

// %% [run]
// List<String> inherited = Inheritance.forksAndTask();

// %% [markdown]
// ## Who pays for inheritance, and when
//
// The old way to hand context to child threads is an `InheritableThreadLocal`: a new
// thread gets a copy of its creator's map of them, made in the `Thread` constructor and
// kept for the thread's life (unless the creator has none, or the thread is built with
// `inheritInheritableThreadLocals(false)`, as `CostTable` does so each run starts clean).
// `bytesPerFork` forks 10,000 subtasks and counts the bytes allocated per fork: by the
// forking thread as it forks (the forks wait on a latch, so none has read yet), then by
// all threads as every fork reads the user once and ends. Rows differ only in how forks
// get the user; each is five rounds after a warm-up: medians, min-max.

// %%
class InheritanceCost {
    static final InheritableThreadLocal<String> USER = new InheritableThreadLocal<>();
    static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Bytes per fork: {by the forking thread, at fork; by all threads, at the read}. */
    static long[] bytesPerFork(int forks, Supplier<String> user) throws Exception {
        var arrived = new CountDownLatch(forks);
        var release = new CountDownLatch(1);
        try (var scope = StructuredTaskScope.<String>open()) {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < forks; i++) {
                scope.fork(() -> {
                    arrived.countDown();
                    if (!release.await(1, TimeUnit.MINUTES)) throw new TimeoutException();
                    return user.get();  // the fork's first and only read
                });
            }
            long forking = THREADS.getCurrentThreadAllocatedBytes() - before;
            if (!arrived.await(1, TimeUnit.MINUTES)) throw new TimeoutException();
            long beforeReads = THREADS.getTotalThreadAllocatedBytes();
            release.countDown();
            scope.join();
            long reading = THREADS.getTotalThreadAllocatedBytes() - beforeReads;
            return new long[] {forking / forks, reading / forks};
        }
    }

    record Context(String name, Callable<long[]> bytesPerFork) { }

    static List<Context> contexts(int forks) {
        var scoped = ScopedServer.USER;
        return List.of(
                new Context("no context", () -> bytesPerFork(forks, () -> "alice")),
                new Context("ScopedValue", () -> ScopedValue.where(scoped, "alice")
                        .call(() -> bytesPerFork(forks, scoped::get))),
                new Context("InheritableThreadLocal", () -> {
                    USER.set("alice");  // on a thread of its own, ended after the run
                    return bytesPerFork(forks, USER::get);
                }));
    }
}

// %%
class CostTable {
    /** Prints the table; returns each context's medians {at fork, at the read}. */
    static Map<String, long[]> compare(int rounds, int forks) throws Exception {
        var bytes = new LinkedHashMap<String, List<long[]>>();
        System.out.print("warm-up");
        for (int round = 0; round <= rounds; round++) {
            for (var context : InheritanceCost.contexts(forks)) {
                var task = new FutureTask<>(context.bytesPerFork());
                Thread.ofPlatform().inheritInheritableThreadLocals(false).start(task)
                        .join();
                if (round == 0) continue;  // the warm-up
                bytes.computeIfAbsent(context.name(), k -> new ArrayList<>())
                        .add(task.get());
            }
            System.out.print(round < rounds ? ", round " + (round + 1) : "\n");
        }
        System.out.printf("%,d forks; bytes per fork, median (min-max)%n%-24s%-26s%s%n",
                forks, "", "forking thread, at fork", "all threads, at the read");
        var medians = new LinkedHashMap<String, long[]>();
        bytes.forEach((name, all) -> {
            long[] median = new long[2];
            System.out.printf("%-24s", name);
            for (int c = 0; c < 2; c++) {
                int column = c;
                var sorted = all.stream().mapToLong(b -> b[column]).sorted().toArray();
                median[c] = sorted[rounds / 2];
                System.out.printf(c == 0 ? "%-26s" : "%s%n", "%5d (%d-%d)".formatted(
                        median[c], sorted[0], sorted[rounds - 1]));
            }
            medians.put(name, median);
        });
        return medians;
    }
}

// %% [run]
// Map<String, long[]> medians = CostTable.compare(5, 10_000);

// %% [markdown]
// At fork, the `InheritableThreadLocal` row stays over 100 bytes above the other two,
// which stay within 16 bytes of each other, in either order: the copied map, made by the
// forking thread for every fork, whether the fork reads the value or not.
//
// At the read it is the other way round: the `ScopedValue` row stays over 100 bytes above
// the other two. A thread's first read of a scoped value allocates its cache (32
// references), about what the copy costs, kept while the thread lives. When every fork
// reads, the memory is close; what differs is who pays, and when: the forking thread,
// for every fork, up front; or only a fork that reads, when it reads.
//
// ## Pitfalls
//
// - **Only forks inherit.** A task on an executor, a `new Thread`, a `supplyAsync`: each
//   runs on a thread that sees the value unbound. Read it first and pass it on.
// - **Open the scope inside the binding.** Forking after rebinding the value throws
//   `StructureViolationException`: a fork must see what the scope captured.
// - **Bind immutable values.** The binding cannot change, but the object bound can, and
//   forks share it: bind strings, records, `List.of`; a mutable object needs locks.
// - **`ThreadLocal` still has its uses**: a per-thread cache of an object that is costly
//   to make. If you keep one on pooled threads, `remove()` it in a `finally`.
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | `USER = contextvars.ContextVar("user")` | `ScopedValue<String> USER = ScopedValue.newInstance()` |
// | `token = USER.set("alice")` ... `USER.reset(token)` | `ScopedValue.where(USER, "alice").run(...)`: no `set`, the end is built in |
// | `USER.get("anonymous")` | `USER.orElse("anonymous")` (`orElse(null)` throws) |
// | `asyncio.create_task` copies the context (cheap: it is immutable); the task may `set` its own | a fork shares the binding; it can only rebind for a nested call |
// | `threading.local()` | `ThreadLocal` |
//
// A `ContextVar` set by a `ThreadPoolExecutor` task and never reset stays set for that
// worker's next task (CPython), exactly like the thread-local above.
//
// ## Try it
//
// - In `ThreadLocalServer.handle`, move `USER.remove()` into a `finally` and run
//   `jbang scoped_values leak`: the third request is served as anonymous.
// - Add `USER.set("bob");` to `ScopedServer.render`: it does not compile, as there is no
//   `set`; `ScopedValue.where(USER, "bob").run(...)` is the only way, for a nested call.
// - Run `jbang scoped_values memory` a few times: the figures move a little; the copy
//   at fork and the cache at the read stay over 100 bytes above the rest.
//
// ## Summary
//
// A scoped value is bound for exactly one call, so it cannot leak into the next task on
// a pooled thread the way a forgotten `ThreadLocal` does.
//
// `where(KEY, value).run/call` binds it, a nested `where` rebinds it for a nested call,
// and there is no `set`. Forks of a `StructuredTaskScope` opened inside the binding share
// it without a copy (a fork that reads it pays for a small cache); any other thread sees
// it unbound.

// %% [main]
class scoped_values {  // the entry point, script only: `jbang scoped_values --help`
    static final Section[] SECTIONS = {
            new Section("leak", "a ThreadLocal leaks a user; a ScopedValue cannot",
                    speed -> ScopedServer.bothServers(Math.round(400 / speed))),
            new Section("scopes", "rebinding in a nested call; forks inherit a binding",
                    speed -> { Nesting.show(); Inheritance.forksAndTask(); }),
            new Section("memory", "bytes per fork, at fork and at the read",
                    speed -> CostTable.compare(5, 10_000))};
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
