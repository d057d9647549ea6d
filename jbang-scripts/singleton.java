///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Singleton: one instance, however many threads ask
//
// Some objects should exist once per program: a connection to the database, a
// configuration, a cache. Creating one lazily, on first use, looks like two lines:
// "if there is none yet, make one". With threads those two lines are a check-then-act
// race: two threads can both see "none yet" and both make one, and the program ends
// up with two "singletons" and a connection nobody closes. This lesson makes that
// happen on demand, then builds the lazy singleton four correct ways (`synchronized`,
// double-checked locking with `volatile`, the holder idiom and the enum), shows what
// each one guarantees and costs, and explains the failure that no test on an x86
// laptop will show you: the double-checked singleton without `volatile`.
//
// Run it: `jbang singleton` from the repository root,
// `jbang jbang-scripts/singleton.java`, or with a bare JDK 25,
// `java jbang-scripts/singleton.java`. Try `--help`.

// %%
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

// %% [markdown]
// ## The thing there should be one of
//
// The seed's `DatabaseConnection`, made a little more honest: opening it takes time
// (the `connectTime` it is given), every connection gets a serial number, and a
// class-wide count records how many were ever opened, so "there was only one" is a
// number we can print and test. Its `open` flag is deliberately not `final`: a real
// connection's state changes over its life, and that matters in the section on
// `volatile` below.

// %%
class DatabaseConnection {
    static final String URL = "db://localhost:5432";
    /** Opening time in the two static variants: class initializers take no arguments. */
    static final Duration TYPICAL_CONNECT = Duration.ofMillis(5);
    private static final AtomicInteger opened = new AtomicInteger();

    private final int serial;
    private final String url;
    private boolean open;  // not final: a real connection's state changes over its life

    DatabaseConnection(Duration connectTime) {
        if (connectTime.isPositive()) pause(connectTime);  // the network round trips
        this.url = URL;
        this.open = true;
        this.serial = opened.incrementAndGet();
    }

    /** Connections opened so far, in this class loader: a fresh loader starts at 0. */
    static int opened() { return opened.get(); }

    String query(String sql) {
        if (!open) throw new IllegalStateException(this + " is not open");
        return "#" + serial + " on " + url + ": " + sql;
    }

    @Override
    public String toString() {
        String identity = Integer.toHexString(System.identityHashCode(this));
        return "connection #" + serial + " @" + identity;
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

// %% [markdown]
// ## A design note: singletons you can throw away
//
// The textbook singleton keeps its instance in a `static` field of the class itself:
//
// ```java
// class DatabaseConnection {
//     private static DatabaseConnection instance;
//     private DatabaseConnection() { /* connect */ }
//
//     static DatabaseConnection getInstance() {
//         if (instance == null) instance = new DatabaseConnection();
//         return instance;
//     }
// }
// ```
//
// Statics exist once per class loader. A demo would meet the race at most once per
// JVM, and a test suite would see whatever instance the first test left behind. So the
// lazy variants below keep that one field in a small object instead: each `new
// SynchronizedSingleton(...)` is a fresh, empty singleton, and the factory it is given
// (the `new DatabaseConnection(...)` call) is a seam where the demo and the tests can
// pause a thread at exactly the wrong moment, as `counter` does with its `UnsafeCounter`.
// Make the field and `get()` `static` and each one is the textbook code, line for line.
// (jcstress's singleton samples are built the same way: a factory object per test.)
//
// The holder idiom and the enum cannot move into an object: their guarantee *is* the
// JVM's class initialization, which happens once per class. Their tests load a fresh
// copy of the classes through a new class loader, which proves a pitfall on the way: a
// singleton is one per class loader, not one per JVM.
//
// Every lazy variant is a `Supplier<DatabaseConnection>` whose `get()` returns the one
// instance; the harness takes any `Supplier`, so `HolderSingleton::get` fits as well.
//
// ## The broken singleton
//
// The textbook code, moved into an object. Between the check and the write there is
// the whole of `factory.get()`: here, opening a connection, which takes milliseconds.
// Every thread that arrives in that window sees `null` too, and opens its own.

// %%
class UnsafeLazySingleton implements Supplier<DatabaseConnection> {
    private final Supplier<DatabaseConnection> factory;  // opens a connection; a seam
    private DatabaseConnection instance;

    UnsafeLazySingleton(Supplier<DatabaseConnection> factory) { this.factory = factory; }

    public DatabaseConnection get() {
        if (instance == null) {            // 1. check
            instance = factory.get();      // 2. act: other threads may have checked too
        }
        return instance;
    }
}

// %% [markdown]
// ## The seed's run, and then counting
//
// The seed starts three threads that each get the instance and print its identity
// (Python's `id(db)`; here the connection's serial number and
// `System.identityHashCode`). The harness below holds the threads at a barrier so they
// ask at the same moment, the way the first requests after a server starts do. The
// workers print as they finish, so the order of those lines varies; the summary
// comes from the main thread after it joined them all.

// %%
class SingletonRace {
    /** Starts threads together; each calls get() once. Returns what each one got. */
    static List<Object> askTogether(Supplier<?> singleton, int threads, boolean print) {
        var start = new CyclicBarrier(threads);
        var got = new Object[threads];
        var workers = new ArrayList<Thread>();
        for (int t = 0; t < threads; t++) {
            int me = t;
            workers.add(Thread.ofPlatform().name("seed-" + t).start(() -> {
                awaitTogether(start);
                got[me] = singleton.get();
                if (print) System.out.println("  seed-" + me + " got " + got[me]);
            }));
        }
        joinAll(workers);  // join() also makes the workers' writes to got[] visible here
        return Arrays.asList(got);
    }

    static int distinct(Collection<?> instances) {
        var seen = Collections.newSetFromMap(new IdentityHashMap<Object, Boolean>());
        seen.addAll(instances);
        return seen.size();
    }

    static void seedRun(String name, Supplier<?> singleton, int threads) {
        System.out.println(name + ":");
        int distinct = distinct(askTogether(singleton, threads, true));
        System.out.printf("  %d threads asked, %d distinct instance%s%n",
                threads, distinct, distinct == 1 ? "" : "s");
    }

    static void brokenRuns(int threads, int runs, Duration connectTime) {
        int runsWithMore = 0;
        System.out.printf("unsafe lazy singleton, %d threads asking at once, %d runs%n",
                threads, runs);
        for (int run = 1; run <= runs; run++) {
            var opened = new AtomicInteger();
            var singleton = new UnsafeLazySingleton(() -> {
                opened.incrementAndGet();
                return new DatabaseConnection(connectTime);
            });
            int distinct = distinct(askTogether(singleton, threads, false));
            if (opened.get() > 1) runsWithMore++;
            System.out.printf("  run %d: %d connections opened, %d distinct handed out%n",
                    run, opened.get(), distinct);
        }
        System.out.printf("  %d of %d runs opened more than one connection%n",
                runsWithMore, runs);
    }

    static void awaitTogether(CyclicBarrier start) {
        try {
            start.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
            throw new IllegalStateException("the threads never started together", e);
        }
    }

    static void joinAll(List<Thread> threads) {
        try {
            for (Thread t : threads) {
                if (!t.join(Duration.ofSeconds(10))) {
                    throw new IllegalStateException(t.getName() + " did not finish");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while joining", e);
        }
    }
}

// %% [markdown]
// A connection takes 20 ms to open in the notebook (20 ms divided by `--speed` in the
// script). That is a wide window: look at how many connections each run below opened,
// and how many different ones the threads were handed. "Opened" can be larger than
// "handed out": `get()` reads the field again to return it, so a thread whose write
// was overwritten in between returns the other thread's connection, and its own is
// simply dropped, never closed.

// %% [run]
// Duration connect = Duration.ofMillis(20);
// SingletonRace.seedRun("unsafe lazy", new UnsafeLazySingleton(
//         () -> new DatabaseConnection(connect)), 3);
// SingletonRace.brokenRuns(3, 10, connect);

// %% [markdown]
// ## Two instances in slow motion
//
// Counting shows *that* it happens; this replay makes it happen every time, and shows
// *how*. The factory is the seam: a thread only reaches it after its check saw `null`.
// Two latches hold thread A inside the factory, after its check and before its write,
// while thread B checks (still `null`: A has written nothing), opens a connection,
// stores it and returns it. Then A finishes opening its own, overwrites B's, and
// returns that. Two calls, two connections. The pauses between steps are for the
// audience: `--speed 0.25` slows them down on stage.
//
// @diagram singleton-two-instances

// %%
class SingletonReplay {
    static int twoInstances(long pauseMillis) {
        var aIsOpening = new CountDownLatch(1);
        var bIsDone = new CountDownLatch(1);
        var singleton = new UnsafeLazySingleton(() -> {
            String me = Thread.currentThread().getName();
            step(pauseMillis, me + " checks: instance is null, so it opens a connection");
            if (me.equals("A")) {
                aIsOpening.countDown();
                awaitOrFail(bIsDone);  // A is paused between its check and its write
            }
            return new DatabaseConnection(Duration.ZERO);
        });
        var got = new DatabaseConnection[2];
        Thread a = Thread.ofPlatform().name("A").start(() -> {
            got[0] = singleton.get();
            step(pauseMillis, "A stores and returns " + got[0] + ", overwriting B's");
        });
        awaitOrFail(aIsOpening);
        Thread b = Thread.ofPlatform().name("B").start(() -> {
            got[1] = singleton.get();
            step(pauseMillis, "B stores and returns " + got[1]);
            bIsDone.countDown();
        });
        SingletonRace.joinAll(List.of(a, b));
        int distinct = SingletonRace.distinct(Arrays.asList(got));
        System.out.println("two calls to get(), " + distinct + " different connections");
        return distinct;
    }

    /**
     * Holds A inside the factory (so, inside the lock) until B has passed the first
     * check and is blocked on the lock; then lets A finish. Returns connections opened.
     */
    static int secondCheck(String name,
            Function<Supplier<DatabaseConnection>, Supplier<DatabaseConnection>> make,
            long pauseMillis) {
        var aIsOpening = new CountDownLatch(1);
        var releaseA = new CountDownLatch(1);
        var opened = new AtomicInteger();
        var singleton = make.apply(() -> {
            String me = Thread.currentThread().getName();
            step(pauseMillis, me + " holds the lock and opens a connection");
            if (me.equals("A")) {
                aIsOpening.countDown();
                awaitOrFail(releaseA);
            }
            opened.incrementAndGet();
            return new DatabaseConnection(Duration.ZERO);
        });
        System.out.println(name + ":");
        var got = new DatabaseConnection[2];
        Thread a = Thread.ofPlatform().name("A").start(() -> got[0] = singleton.get());
        awaitOrFail(aIsOpening);
        Thread b = Thread.ofPlatform().name("B").start(() -> got[1] = singleton.get());
        awaitBlocked(b);
        step(pauseMillis, "B saw null too, and now waits for the lock A holds");
        releaseA.countDown();
        SingletonRace.joinAll(List.of(a, b));
        System.out.printf("  A got %s, B got %s: %d connection%s opened%n",
                got[0], got[1], opened.get(), opened.get() == 1 ? "" : "s");
        return opened.get();
    }

    private static void step(long pauseMillis, String what) {
        System.out.println("  " + what);
        try {
            Thread.sleep(pauseMillis);  // pacing for a human, not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitOrFail(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("replay stuck: a step never happened");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Polls until t waits to enter a monitor (Thread.State.BLOCKED). */
    private static void awaitBlocked(Thread t) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.BLOCKED) {
            if (!t.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException(t.getName() + " never blocked");
            }
            Thread.onSpinWait();
        }
    }
}

// %% [run]
// int distinctConnections = SingletonReplay.twoInstances(100);

// %% [markdown]
// The same shape as `counter`'s lost update: a decision (here "there is none, make
// one") taken on a value that another thread changes before the decision is carried
// out. And, as there, making the field `volatile` fixes nothing: A and B both really
// do read `null`.
//
// ## Fix 1: `synchronized`
//
// Make `get()` `synchronized` and the check and the write become one step: a second
// thread waits at the door until the first has stored its connection, then finds it.
// Correct, simple, and the monitor's release *happens-before* the next acquisition,
// so the waiting thread also sees the connection fully built.
//
// The cost: every call, for the life of the program, takes the lock, long after the
// one moment it was needed. Uncontended that is cheap; when many threads ask at once
// they queue for it. The table at the end measures it.

// %%
class SynchronizedSingleton implements Supplier<DatabaseConnection> {
    private final Supplier<DatabaseConnection> factory;
    private DatabaseConnection instance;  // guarded by this

    SynchronizedSingleton(Supplier<DatabaseConnection> factory) {
        this.factory = factory;
    }

    public synchronized DatabaseConnection get() {
        if (instance == null) instance = factory.get();
        return instance;
    }
}

// %% [run]
// SingletonRace.seedRun("synchronized", new SynchronizedSingleton(
//         () -> new DatabaseConnection(connect)), 3);

// %% [markdown]
// ## Fix 2: double-checked locking
//
// The idea: take the lock only while there is no instance yet. The obvious first try,
// check and then lock, is still broken: a thread that saw `null` waits for the lock,
// and when it gets it, opens a second connection, because nothing told it the first
// one exists. Its field is `volatile`, and that does not help either.

// %%
class CheckThenLockSingleton implements Supplier<DatabaseConnection> {
    private final Supplier<DatabaseConnection> factory;
    private volatile DatabaseConnection instance;

    CheckThenLockSingleton(Supplier<DatabaseConnection> factory) {
        this.factory = factory;
    }

    public DatabaseConnection get() {
        if (instance == null) {
            synchronized (this) {
                instance = factory.get();  // no second look: a waiter opens another one
            }
        }
        return instance;
    }
}

// %% [markdown]
// Double-checked locking looks again once it holds the lock. The fast path, taken by
// every call after the first, is one `volatile` read and no lock. Reading the field
// once into a local (`result`) keeps that to one read, as *Effective Java* does it.

// %%
class DoubleCheckedSingleton implements Supplier<DatabaseConnection> {
    private final Supplier<DatabaseConnection> factory;
    private volatile DatabaseConnection instance;  // volatile: see below, it matters

    DoubleCheckedSingleton(Supplier<DatabaseConnection> factory) {
        this.factory = factory;
    }

    public DatabaseConnection get() {
        DatabaseConnection result = instance;   // 1st check, no lock: the fast path
        if (result == null) {
            synchronized (this) {
                result = instance;              // 2nd check, under the lock
                if (result == null) {
                    instance = result = factory.get();
                }
            }
        }
        return result;
    }
}

// %% [markdown]
// The replay below forces the interleaving that separates the two: thread A holds the
// lock, paused inside the factory; thread B passes the first check (still `null`) and
// blocks on the lock; the replay waits until B's state really is `BLOCKED`, then lets
// A finish. With one check, B opens a second connection. With two, B's second check
// finds A's.
//
// @diagram singleton-double-check

// %% [run]
// int withOneCheck = SingletonReplay.secondCheck("check, then lock",
//         CheckThenLockSingleton::new, 100);
// int withTwoChecks = SingletonReplay.secondCheck("double-checked",
//         DoubleCheckedSingleton::new, 100);
// SingletonRace.seedRun("double-checked", new DoubleCheckedSingleton(
//         () -> new DatabaseConnection(connect)), 3);

// %% [markdown]
// ### Why `volatile` matters, though no test here can show it
//
// `instance = factory.get()` does two things: it builds the object (writes its fields:
// `url`, `open`, `serial`) and it publishes the reference. In program order the fields
// come first. But without `volatile` nothing obliges *another* thread to see them in
// that order. The JIT may inline the constructor and store the reference before the
// fields; ARM and POWER processors may make stores visible out of order, and reorder
// loads as well. A thread on the fast path, which never takes the lock, can then see
// a non-null `instance` whose fields still hold their defaults: a connection that
// says it is not open, a `url` that is `null`. The lock does not protect that reader,
// because the reader never takes it.
//
// `volatile` closes the gap: everything the creating thread wrote before its
// `volatile` write of `instance` (the whole constructor) *happens-before* whatever a
// thread does after a `volatile` read that sees that reference. On x86 a `volatile`
// read compiles to an ordinary load; the write pays for a fence, once.
//
// @diagram singleton-unsafe-publication
//
// What this lesson does **not** do is show the non-`volatile` version failing. x86
// (Intel and AMD) keeps stores in order and loads in order, which hides the
// reordering: on an x86 machine like the one that built this notebook, the broken
// version passes every test, jcstress's included, and a demo that ran it and printed
// "works" would teach exactly the wrong thing. That is why it is not here as code at
// all. To catch it you need a weakly ordered CPU and a tool built for the job:
// jcstress (OpenJDK's concurrency stress harness). Its sample
// `Singleton_07_BrokenNonVolatileDCL` records, on AArch64, a non-null singleton that
// carries `null` data. The same sample shows why this lesson's connection has a
// non-`final` field: an object whose fields are *all* `final` survives the race, since
// the memory model guarantees a `final` field's value to any thread that sees the
// object. Real connections, caches and configurations are rarely that immutable.
//
// ## Fix 3: the holder idiom
//
// Let the JVM do the locking. A class is initialized the first time it is really
// used, not when it is loaded, and the JVM guarantees that exactly one thread runs its
// static initializer while any other thread that needs the class waits (Java Language
// Specification, 12.4.2). Everything the initializer wrote is visible to every thread
// that uses the class afterwards. Put the instance in a tiny nested class that nothing
// else touches, and it is created on the first `get()`, once, with no lock in our
// code, and after that `get()` is a read of a `static final` field that the JIT can
// treat as a constant.
//
// @diagram singleton-holder-init

// %%
class HolderSingleton {
    private HolderSingleton() { }

    private static final class Holder {  // initialized on its first use, in get()
        static final DatabaseConnection INSTANCE =
                new DatabaseConnection(DatabaseConnection.TYPICAL_CONNECT);
    }

    static DatabaseConnection get() { return Holder.INSTANCE; }

    /** Uses the outer class for something else: that does not open the connection. */
    static String describe() { return "a lazy holder for " + DatabaseConnection.URL; }
}

// %% [markdown]
// The separate `Holder` is what makes it lazy. A `static final` field in the outer
// class would be created as soon as anything used the outer class (a constant, another
// static method); the nested class is used only by `get()`. The demo below uses the
// outer class first, then counts the connections opened before and after the first
// `get()`.

// %%
class HolderDemo {
    static void laziness() {
        int before = DatabaseConnection.opened();
        System.out.println(HolderSingleton.describe());
        System.out.printf("  after using HolderSingleton: %d connections opened%n",
                DatabaseConnection.opened() - before);
        DatabaseConnection first = HolderSingleton.get();
        System.out.printf("  after the first get(): %d opened, %s%n",
                DatabaseConnection.opened() - before, first);
        DatabaseConnection again = HolderSingleton.get();
        System.out.printf("  after a second get(): %d opened, same object: %b%n",
                DatabaseConnection.opened() - before, again == first);
    }
}

// %% [run]
// HolderDemo.laziness();

// %% [markdown]
// By now the holder's connection exists, so in the seed run the three threads simply
// read it. The race for a fresh, uninitialized holder is in this lesson's tests: each
// round loads a new copy of the class, starts eight threads at a barrier, and checks
// that exactly one connection was opened.

// %% [run]
// SingletonRace.seedRun("holder idiom", HolderSingleton::get, 3);

// %% [markdown]
// ## Fix 4: the enum
//
// An enum constant is created by the enum's class initializer, so it has the same
// once-only, visible-to-all guarantee as the holder, in one line. It also defends
// against the two ways a class-based singleton gets copied: reflection refuses to call
// an enum's constructor, and deserialization returns the existing constant instead of
// building a new one. The price: it is created when the enum class is first used for
// anything, it cannot extend a class (it can implement interfaces), and it cannot take
// constructor arguments from the caller. Usually the enum *is* the service; here it
// wraps one connection so it can be compared with the others.

// %%
enum EnumSingleton {
    INSTANCE;

    private final DatabaseConnection connection =
            new DatabaseConnection(DatabaseConnection.TYPICAL_CONNECT);

    String query(String sql) { return connection.query(sql); }

    @Override
    public String toString() { return "EnumSingleton.INSTANCE with " + connection; }
}

// %% [markdown]
// Nothing has used the enum before this cell, so these three threads do race to
// initialize it; the class initialization lock lets one of them in.

// %% [run]
// SingletonRace.seedRun("enum", () -> EnumSingleton.INSTANCE, 3);

// %% [markdown]
// ## What each `get()` costs, once the connection is open
//
// Creation happens once; `get()` is called for the life of the program. Each correct
// variant first opens its connection (instantly here), then the threads start together
// at a barrier and call `get()` over and over. Two shorter rounds warm up the JIT first;
// the times are one run, on the shared 2-core machine that built this notebook.

// %%
record SingletonVariant(String name, boolean correct,
        Function<Supplier<DatabaseConnection>, Supplier<?>> make) {
    static final List<SingletonVariant> ALL = List.of(
            new SingletonVariant("unsafe lazy", false, UnsafeLazySingleton::new),
            new SingletonVariant("synchronized", true, SynchronizedSingleton::new),
            new SingletonVariant("double-checked", true, DoubleCheckedSingleton::new),
            new SingletonVariant("holder idiom", true, factory -> HolderSingleton::get),
            new SingletonVariant("enum", true, factory -> () -> EnumSingleton.INSTANCE));
    static final List<SingletonVariant> CORRECT =
            ALL.stream().filter(SingletonVariant::correct).toList();

    /** A new, empty singleton of this kind (the holder and the enum are per JVM). */
    Supplier<?> fresh(Supplier<DatabaseConnection> factory) {
        return make.apply(factory);
    }

    static void accessCosts(int threads, int calls) {
        for (int round = 0; round < 2; round++) {  // shorter rounds to warm up the JIT
            for (SingletonVariant v : CORRECT) time(v, threads, calls / 5);
        }
        System.out.printf("%d threads x %,d calls to get()%n", threads, calls);
        System.out.printf("%-22s %12s%n", "variant", "time (ms)");
        for (SingletonVariant v : CORRECT) {
            System.out.printf("%-22s %12.1f%n", v.name(), time(v, threads, calls) / 1e6);
        }
    }

    private static long time(SingletonVariant v, int threads, int calls) {
        var singleton = v.fresh(() -> new DatabaseConnection(Duration.ZERO));
        Object one = singleton.get();  // open it before the clock starts
        long start = System.nanoTime();
        callTogether(singleton, one, threads, calls);
        return System.nanoTime() - start;
    }

    private static void callTogether(Supplier<?> singleton, Object one, int threads,
            int calls) {
        var start = new CyclicBarrier(threads);
        var others = new AtomicInteger();  // consumed, so the JIT cannot drop the loop
        var callers = new ArrayList<Thread>();
        for (int t = 0; t < threads; t++) {
            callers.add(Thread.ofPlatform().name("caller-" + t).start(() -> {
                SingletonRace.awaitTogether(start);
                int different = 0;
                for (int i = 0; i < calls; i++) {
                    if (singleton.get() != one) different++;
                }
                others.addAndGet(different);
            }));
        }
        SingletonRace.joinAll(callers);
        if (others.get() != 0) throw new IllegalStateException("a second instance");
    }
}

// %% [run]
// SingletonVariant.accessCosts(3, 1_000_000);

// %% [markdown]
// `synchronized` comes out slowest: every one of those calls takes a lock that the
// other threads want too. The others take no lock once the connection exists. All the
// times swing from run to run with the load on a shared 2-core machine: read the
// order, not the decimals. (The `profiling` lesson measures this
// kind of thing properly, with JMH.)
//
// ## Which one to use
//
// | you need | use |
// |---|---|
// | a static singleton, created on first use | the holder idiom |
// | a singleton that is a service in its own right, safe from reflection and serialization | an `enum` |
// | created when the class is first used is lazy enough | `static final INSTANCE = new ...` (class initialization again) |
// | laziness per object (a field, not a static), or a factory with arguments | double-checked locking with `volatile` |
// | the simplest correct code, and `get()` is called rarely | a `synchronized` accessor |
// | never | check-then-act without a lock, or double-checked locking without `volatile` |
//
// JDK 25 also previews `StableValue` (JEP 502, `--enable-preview`): a holder for a
// value set at most once, e.g. `StableValue.supplier(() -> new DatabaseConnection(...))`,
// that the JIT can then treat as a constant, like the holder's `static final` field.
// This lesson does not use it: it runs on a plain JDK 25 without preview flags.
//
// ## Pitfalls
//
// - **Check-then-act needs one atomic step.** `volatile` alone does not fix the unsafe
//   singleton (both threads really read `null`), and neither does a lock taken after
//   the check: the decision must be re-made under the lock.
// - **Double-checked locking without `volatile` is broken,** even though it will pass
//   every test on x86. Tests that "pass" are no proof here; jcstress on ARM is.
// - **A singleton is one per class loader.** Application servers, plugin systems and
//   this lesson's tests load classes more than once, and each copy has its own
//   "singleton".
// - **A failed class initializer is final.** If the holder's initializer throws, the
//   first caller gets `ExceptionInInitializerError` and every later one
//   `NoClassDefFoundError`: there is no second try. A `synchronized` or double-checked
//   `get()` whose factory throws leaves the field `null`, and the next call tries again.
// - **Keep class initializers short.** Every thread that touches the class waits
//   until its initializer finishes; an initializer that waits for another thread
//   which needs the same class is a deadlock.
// - **Singletons are global state.** They make tests order-dependent (this lesson had
//   to design around it). Often the better design is to create the one instance at
//   start-up and pass it to whoever needs it.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `_instance = None` on the class, checked in `__new__` | `private static DatabaseConnection instance;` checked in `getInstance()` |
// | `_lock = threading.Lock()`; `with cls._lock:` | `synchronized (DatabaseConnection.class) { ... }`, or a `synchronized static` method |
// | the seed's check, lock, check again | double-checked locking, with the field `volatile` |
// | a module-level instance (a module is imported once, under the import lock) | the holder idiom or a `static final` field (a class is initialized once, under its init lock) |
// | `id(db)` | `System.identityHashCode(db)`: stable for the object's life, not an address |
// | (nothing) | an `enum` singleton |
//
// The seed publishes its instance in `__new__` before `__init__` has filled it in, and
// guards the filling with a second flag and a second double check. That is the
// problem `volatile` solves in Java, where the constructor builds the object before
// the reference is stored and `volatile` makes every other thread see it in that
// order. In CPython the GIL makes the naive version's race rare but not impossible: a
// thread switch can fall between the check and the assignment, and a slow `__init__`
// (a real connection) widens the window.
//
// Related lessons: `counter` (the same race as a lost update, and the seam trick used
// here), `barrier` (the `CyclicBarrier` that starts the threads together),
// `shared_resource` (guarding shared state with a lock).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line;
// a bad option prints one line and exits with status 2.

// %%
class singleton {
    static final String USAGE = """
            Usage: singleton [options]
              --threads N   threads asking for the instance at once (default 3)
              --runs N      measured runs of the broken singleton (default 10)
              --calls N     get() calls per thread, timing the variants (default 1000000)
              --speed X     pacing: connect time and replay pauses shrink by X (default 1)
              --help        print this and exit""";

    record Options(int threads, int runs, int calls, double speed) { }

    public static void main(String[] args) {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("singleton: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        Duration connect = Duration.ofMillis(Math.round(20 / o.speed()));
        long pause = Math.round(200 / o.speed());
        Supplier<DatabaseConnection> opener = () -> new DatabaseConnection(connect);
        System.out.println("== The broken singleton ==");
        int threads = o.threads();
        SingletonRace.seedRun("unsafe lazy", new UnsafeLazySingleton(opener), threads);
        SingletonRace.brokenRuns(threads, o.runs(), connect);
        System.out.println("\n== Two instances in slow motion ==");
        SingletonReplay.twoInstances(pause);
        System.out.println("\n== Fix 1: synchronized ==");
        SingletonRace.seedRun("synchronized", new SynchronizedSingleton(opener), threads);
        System.out.println("\n== Fix 2: double-checked locking ==");
        SingletonReplay.secondCheck("check, then lock",
                CheckThenLockSingleton::new, pause);
        SingletonReplay.secondCheck("double-checked", DoubleCheckedSingleton::new, pause);
        SingletonRace.seedRun("double-checked", new DoubleCheckedSingleton(opener),
                threads);
        System.out.println("\n== Fix 3: the holder idiom ==");
        HolderDemo.laziness();
        SingletonRace.seedRun("holder idiom", HolderSingleton::get, threads);
        System.out.println("\n== Fix 4: the enum ==");
        SingletonRace.seedRun("enum", () -> EnumSingleton.INSTANCE, threads);
        System.out.println("\n== What each get() costs ==");
        SingletonVariant.accessCosts(threads, o.calls());
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
                count("--threads", given.getOrDefault("--threads", "3")),
                count("--runs", given.getOrDefault("--runs", "10")),
                count("--calls", given.getOrDefault("--calls", "1000000")),
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
