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
// - how forks of a `StructuredTaskScope` inherit a binding, and what an inheritable
//   thread-local costs per thread instead

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
// `serve` sends three requests, one after another, to a pool of one thread,
// `pool-worker`: alice reads her inbox, alice hits a bug, then someone who is not logged
// in opens the home page. One thread makes the leak certain, not a matter of luck:
// every request runs on the thread the earlier ones ran on. (`submit` keeps a task's
// exception in its `Future`, so the worker survives it and serves the next request;
// `execute` would let the worker die and the pool start a fresh thread.) The pauses
// between requests are only for the audience (`--speed` scales them).
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
                Thread.sleep(pauseMillis);  // pacing for people, not synchronisation
            }
        }
        return replies;
    }
}

// %% [run]
// Requests.serve("ThreadLocalServer", ThreadLocalServer::handle, 300);

// %% [markdown]
// The third request never logged in, yet it is served as alice. Nothing failed at the
// moment of the leak: the bug was in the second request, the damage in the third.
//
// ## The fix: a `ScopedValue`, bound for one call
//
// `ScopedValue.where(USER, "alice").call(op)` binds `USER` to `"alice"` in this thread
// for the length of `op` (`run` does the same for an op with no result). Code that `op`
// calls, however deep, reads it with `USER.get()`, or `USER.orElse("anonymous")` where
// it may be unbound. When `op` returns or throws, the binding ends: there is no `remove`
// to forget, so the leak cannot happen, even on a pooled thread. `ScopedValue` is a final
// API of JDK 25 (JEP 506).
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
// Requests.serve("ScopedServer", ScopedServer::handle, 300);

// %% [markdown]
// ## Rebinding, and no `set`
//
// A `ScopedValue` has no `set` method: code that reads it cannot change what its caller
// sees. To give a nested call another value, bind it again: inside the nested `run` the
// new value hides the old one, and when that `run` returns the old value is back. Each
// binding is per thread: two threads can bind `USER` to different users at the same
// time, and each reads its own.

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
// Nesting.show();

// %% [markdown]
// ## Forks inherit the binding; other threads do not
//
// A binding reaches another thread in one case only: a subtask forked in a
// `StructuredTaskScope` opened inside the binding. The scope captures the bindings when
// it opens, and each fork's thread starts with them: a reference to the same immutable
// bindings, not a copy. That is safe because forks cannot outlive their scope: `join`
// waits for them, and `close`, at the end of the `try` and still inside the binding,
// cancels and waits for any left. An executor's task, on a virtual thread here too, has
// no such bound: it sees `USER` unbound. `StructuredTaskScope` is a preview API in JDK
// 25 (JEP 505), the only public API that hands a binding to another thread: hence
// `//PREVIEW` and `//JAVA 25` here (a preview API may change in any release; classes
// compiled with preview features run only on that release), the `java-preview` kernel,
// and `java --enable-preview --source 25 scoped_values.java` without JBang.
//
// @diagram scoped_values-forks

// %%
class Inheritance {
    static List<String> forksAndTask() throws Exception {
        return ScopedValue.where(ScopedServer.USER, "alice").call(() -> {
            var seen = new ArrayList<String>();
            try (var scope = StructuredTaskScope.<String>open()) {
                var inbox = scope.fork(() -> whoSees("fork 1"));
                var home = scope.fork(() -> whoSees("fork 2"));
                scope.join();  // waits for both forks, inside the binding
                seen.addAll(List.of(inbox.get(), home.get()));
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
// Inheritance.forksAndTask();

// %% [markdown]
// ## What inheritance costs: a copy per thread, or none
//
// The old way to hand context to child threads is an `InheritableThreadLocal`: each new
// thread gets a copy of its creator's map of inheritable thread-locals, made in the
// `Thread` constructor and kept for the thread's life (the values themselves are shared
// unless `childValue` copies them). `bytesPerFork` forks 10,000 subtasks that wait on a
// latch, so that all are alive at once, and counts the bytes the forking thread allocates
// meanwhile (`getCurrentThreadAllocatedBytes`), per fork. Its three runs differ only in
// how the user reaches the forks (none, a `ScopedValue`, an `InheritableThreadLocal`):
// same scope, forks and value, every fork reads it, each run on a new thread that
// inherits no thread-locals. Five rounds after a warm-up: medians, min-max.

// %%
class InheritanceCost {
    static final InheritableThreadLocal<String> USER = new InheritableThreadLocal<>();
    static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    static long bytesPerFork(int forks, Supplier<String> user) throws Exception {
        var release = new CountDownLatch(1);
        try (var scope = StructuredTaskScope.<String>open()) {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < forks; i++) {
                scope.fork(() -> {
                    boolean released = release.await(60, TimeUnit.SECONDS);
                    if (!released) throw new TimeoutException("never released");
                    return user.get();
                });
            }
            long bytes = THREADS.getCurrentThreadAllocatedBytes() - before;  // all alive
            release.countDown();
            scope.join();
            return bytes / forks;
        }
    }

    record Context(String name, Callable<Long> bytesPerFork) { }

    static List<Context> contexts(int forks) {
        var scoped = ScopedServer.USER;
        return List.of(
                new Context("no context", () -> bytesPerFork(forks, () -> "alice")),
                new Context("ScopedValue", () -> ScopedValue.where(scoped, "alice")
                        .call(() -> bytesPerFork(forks, scoped::get))),
                new Context("InheritableThreadLocal", () -> {
                    USER.set("alice");
                    try {
                        return bytesPerFork(forks, USER::get);
                    } finally {
                        USER.remove();
                    }
                }));
    }
}

// %%
class CostTable {
    static Map<String, Long> compare(int rounds, int forks) throws Exception {
        var bytes = new LinkedHashMap<String, List<Long>>();
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
        System.out.printf("%,d forks; bytes the forking thread allocates per fork%n",
                forks);
        System.out.printf("%-24s %6s  %s%n", "context", "median", "(min-max)");
        var medians = new LinkedHashMap<String, Long>();
        bytes.forEach((name, all) -> {
            var sorted = all.stream().sorted().toList();
            medians.put(name, sorted.get(sorted.size() / 2));
            System.out.printf("%-24s %6d  (%d-%d)%n", name, medians.get(name),
                    sorted.getFirst(), sorted.getLast());
        });
        return medians;
    }
}

// %% [run]
// CostTable.compare(5, 10_000);

// %% [markdown]
// Every run shows the same order. With a scoped value the forking thread allocates about
// what it allocates with no context at all (a few bytes apart, either way); with an
// inheritable thread-local, over a hundred bytes more per fork, in every round: the
// copied map (a map object, a table as long as its creator's, 16 slots at first, and an
// entry per inheritable thread-local). Not the whole story: a thread's first read of a
// bound scoped value gives it a small cache of its own (32 references, allocated by the
// reading thread, so not in this table). With one value that every fork reads, the
// memory is close; what differs is who pays, and when: the copy is made for every new
// thread, read or not, for every inheritable thread-local its creator holds, on the
// creator's path; and a `childValue` that copies multiplies it.
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
// | `USER.get("anonymous")` | `USER.orElse("anonymous")` |
// | `asyncio.create_task` runs the task in a copy of the context | forks of a `StructuredTaskScope` share the binding |
// | `threading.local()` | `ThreadLocal` |
//
// A `ContextVar` set by a `ThreadPoolExecutor` task and never reset stays set for that
// worker's next task (CPython 3.11), exactly like the thread-local above.
//
// ## Try it
//
// - In `ThreadLocalServer.handle`, move `USER.remove()` into a `finally` and run
//   `jbang scoped_values leak`: the third request is served as anonymous.
// - Add `USER.set("bob");` to `ScopedServer.render`: it does not compile, as there is no
//   `set`; `ScopedValue.where(USER, "bob").run(...)` is the only way, for a nested call.
// - Run `jbang scoped_values memory` a few times: the figures move a little, the order
//   of the three rows never does.
//
// ## Summary
//
// A scoped value is bound for exactly one call, so it cannot leak into the next task on
// a pooled thread the way a forgotten `ThreadLocal` does.
//
// `where(KEY, value).run/call` binds it, a nested `where` rebinds it for a nested call,
// and there is no `set`. Forks of a `StructuredTaskScope` opened inside the binding
// share it without a copy; any other thread sees it unbound.

// %% [main]
class scoped_values {  // the entry point, script only: `jbang scoped_values --help`
    static final Section[] SECTIONS = {
            new Section("leak", "a ThreadLocal leaks a user; a ScopedValue cannot",
                    speed -> ScopedServer.bothServers(Math.round(400 / speed))),
            new Section("scopes", "rebinding in a nested call; forks inherit a binding",
                    speed -> { Nesting.show(); Inheritance.forksAndTask(); }),
            new Section("memory", "bytes per fork: no context, scoped, inheritable",
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
