///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Singleton: one instance, however many threads ask
//
// A lazy singleton is "if there is none yet, make one": two steps, and two threads can
// both take the first before either takes the second. The seed guards them with
// double-checked locking; this lesson takes it apart, then lets the JVM do the work.
//
// **You will learn**
// - how a lazy singleton without a lock makes two instances (forced here, every run)
// - double-checked locking, and why its field must be `volatile` (safe publication)
// - the holder idiom: class initialisation (JLS 12.4) as a lock you do not write
// - the `enum` singleton, and when a singleton is the wrong design

// %%
import java.lang.management.*;
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.function.*;
import java.util.stream.*;

// %% [markdown]
// ## The seed's singleton, in Java
//
// The seed hands out its one `DatabaseConnection` from `__new__`: check, lock, check
// again. Here the instance sits in a field of a small object rather than in a `static`,
// so every demo and test starts empty; make the field and `get()` static and it is the
// textbook code. The `factory` that opens a connection is a *seam*: a hook that just
// opens one in normal use, where the replays (forced, step-by-step runs) hold a thread.

// %%
class DatabaseConnection {
    private static final AtomicInteger opened = new AtomicInteger();
    private String url = "db://localhost:5432";  // not final, like most real state
    DatabaseConnection() { opened.incrementAndGet(); }
    static int opened() { return opened.get(); }  // in this class loader
    String query(String sql) { return "Executing on " + url + ": " + sql; }
}

class DoubleCheckedSingleton implements Supplier<DatabaseConnection> {
    private final Supplier<DatabaseConnection> factory;  // opens one; a seam for replays
    private volatile DatabaseConnection instance;  // "Why the field must be volatile"
    DoubleCheckedSingleton(Supplier<DatabaseConnection> opener) { factory = opener; }

    public DatabaseConnection get() {
        DatabaseConnection result = instance;  // 1st check, no lock: the fast path
        if (result == null) {
            synchronized (this) {
                result = instance;             // 2nd check, under the lock
                if (result == null) instance = result = factory.get();
            }
        }
        return result;
    }
}

// %% [markdown]
// ## The seed's run
//
// Three threads, named as Python 3.10+ names them, meet at a `CyclicBarrier` (it lets
// them go once all have arrived: the `barrier` lesson) and each call `get()` once. The
// main thread joins them, compares what they got with `==`, then prints the seed's lines
// with `System.identityHashCode` for `id(db)`: equal in every run, but only a label (two
// live objects can share one); the proof is `==`.

// %%
class SingletonSeed {
    static List<Object> askTogether(Supplier<?> singleton, List<String> names)
            throws InterruptedException {
        var start = new CyclicBarrier(names.size());
        var got = new Object[names.size()];  // a plain array: see the joins below
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < names.size(); i++) {
            int me = i;
            threads.add(Thread.ofPlatform().name(names.get(i)).start(() -> {
                try {
                    start.await(10, TimeUnit.SECONDS);  // all ask at the same moment
                } catch (Exception e) { return; }  // timed out, interrupted, or broken
                got[me] = singleton.get();
            }));
        }
        for (Thread t : threads) {  // join makes their writes visible (JLS 17.4.4)
            if (!t.join(Duration.ofSeconds(10))) throw new IllegalStateException("stuck");
        }
        return Arrays.asList(got);
    }

    static void seedRun() throws InterruptedException {
        int before = DatabaseConnection.opened();
        var names = Stream.of(1, 2, 3).map(n -> "Thread-" + n + " (worker)").toList();
        var got = askTogether(new DoubleCheckedSingleton(DatabaseConnection::new), names);
        boolean same = got.stream().allMatch(db -> db != null && db == got.getFirst());
        System.out.printf("connections opened: %d; all three the same object (==): %b%n",
                DatabaseConnection.opened() - before, same);
        for (int i = 0; i < 3; i++)  // the seed's lines: the number only labels
            System.out.println("Thread " + names.get(i) + ": "
                    + System.identityHashCode(got.get(i)));
    }
}

// %% [run]
// SingletonSeed.seedRun();

// %% [markdown]
// ## Take the lock away: two instances
//
// Without a lock, all of `factory.get()` (milliseconds, for a real connection) lies
// between the check and the write, and a thread that checks meanwhile sees `null` too.
// `volatile` cannot help: no thread reads a stale value; each really sees `null`.

// %%
class UnsafeLazySingleton implements Supplier<DatabaseConnection> {
    private final Supplier<DatabaseConnection> factory;
    private DatabaseConnection instance;
    UnsafeLazySingleton(Supplier<DatabaseConnection> opener) { factory = opener; }

    public DatabaseConnection get() {
        if (instance == null) instance = factory.get();  // check, then act: a race
        return instance;
    }
}

// %% [markdown]
// ## Two instances, forced
//
// A race seen only sometimes proves nothing, so the replay forces it: a `CountDownLatch`
// (a one-shot gate, as in `counter`) holds thread A in the factory (checked, not yet
// written) until B's `get()` has returned or B is `BLOCKED` on the singleton's lock, as
// the JVM reports. Pauses are for the audience (`--speed 0.25` slows them). Without a
// lock, B opens and returns a connection, then A writes its own over it.
//
// @diagram singleton-two-instances

// %%
class SingletonReplay {
    /** Holds A in the factory while B calls get(); returns the connections opened. */
    static int replay(String name, UnaryOperator<Supplier<DatabaseConnection>> make,
            long pause) throws InterruptedException {
        Duration limit = Duration.ofMillis(10_000 + 10 * pause);  // scales with pauses
        var opened = new AtomicInteger();
        CountDownLatch aIsIn = new CountDownLatch(1), releaseA = new CountDownLatch(1);
        var singleton = make.apply(() -> {
            String me = Thread.currentThread().getName();
            System.out.println("  " + me + " found no instance: opens connection "
                    + opened.incrementAndGet());
            if (me.equals("A")) {
                aIsIn.countDown();
                await(releaseA, limit);  // A has checked and not yet written
            }
            return new DatabaseConnection();
        });
        System.out.println(name + ":");
        var got = new DatabaseConnection[2];  // read after the joins
        Thread a = Thread.ofPlatform().name("A").start(() -> got[0] = singleton.get());
        await(aIsIn, limit);
        Thread.sleep(pause);  // each pause is for the audience, not synchronisation
        Thread b = Thread.ofPlatform().name("B").start(() -> got[1] = singleton.get());
        long deadline = System.nanoTime() + limit.toNanos();
        while (!blockedOn(singleton, b) && !b.join(Duration.ofMillis(1))) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("B stuck");
        }
        if (!b.isAlive()) Thread.sleep(pause);  // after B's own line
        System.out.println(b.isAlive() ? "  B is BLOCKED: A holds the singleton's lock"
                : "  B has returned its connection; now A writes its own");
        Thread.sleep(pause);
        releaseA.countDown();
        if (!a.join(limit) || !b.join(limit)) throw new IllegalStateException("stuck");
        System.out.printf("  => %d opened; A and B got the same connection (==): %b%n",
                opened.get(), got[0] == got[1]);
        return opened.get();
    }

    static void all(long pause) throws InterruptedException {  // the section "race"
        replay("unsafe lazy", UnsafeLazySingleton::new, pause);
        replay("double-checked", DoubleCheckedSingleton::new, pause);
    }

    private static boolean blockedOn(Object lock, Thread t) {  // as the JVM reports it
        var info = ManagementFactory.getThreadMXBean().getThreadInfo(t.threadId());
        return info != null && info.getThreadState() == Thread.State.BLOCKED
                && Objects.toIdentityString(lock).equals(info.getLockName());
    }

    private static void await(CountDownLatch latch, Duration limit) {
        try {
            if (!latch.await(limit.toMillis(), TimeUnit.MILLISECONDS))
                throw new IllegalStateException("replay stuck: a step never happened");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

// %% [run]
// int opened = SingletonReplay.replay("unsafe lazy", UnsafeLazySingleton::new, 300);

// %% [markdown]
// ## Why check twice
//
// The same replay on the seed's code: B saw `null`, so it waits for A's lock; once A is
// done, B's second check finds A's connection. With one check, B would open a second
// (try it below). After the first call, `get()` is one `volatile` read and no lock.
//
// @diagram singleton-double-check

// %% [run]
// int once = SingletonReplay.replay("double-checked", DoubleCheckedSingleton::new, 300);

// %% [markdown]
// ## Why the field must be `volatile`
//
// Without it, double-checked locking is broken. `factory.get()` runs the constructor
// (which writes `url`), then A stores the reference in `instance`. B reads `instance`
// without the lock, so with a plain field nothing orders its reads after A's writes: a
// data race, in which B may see the reference and still the default `url`, `null` (JLS
// 17.4.5). The JIT (the JVM's compiler of hot code) may cause it: having inlined the
// constructor (copied its body into the caller), it may store `instance` before `url`;
// ARM and POWER processors may also make the stores visible out of order. `volatile`
// makes it a *safe publication*: all A did before writing `instance` happens-before
// whatever B does after a read that sees it (JLS 17.4.4).
//
// On x86 the failure is practically never *observed*: the processor keeps stores in
// order and loads in order, so only the JIT could show it. That proves nothing: the code
// is wrong by the JLS. The `jcstress` lesson races such a publication on x86 and saw no
// half-built object: not observed is not forbidden. (All-`final` fields would survive,
// JLS 17.5, with the single read into `result`, as here; real state rarely is all final.)
//
// @diagram singleton-unsafe-publication

// %% [markdown]
// ## The holder idiom: let class initialisation do it
//
// A class is initialised (its static initialisers run) immediately before the first
// instance is created, static method called, or static field assigned or used (JLS
// 12.4.1, which exempts constant variables: javac copies their value into the reader,
// JLS 13.1). The JVM runs them once, in one thread, while other threads that need the
// class wait, and what they wrote is visible to all that use the class later (JLS
// 12.4.2). A *constant variable* is a `final` primitive or `String` set to a constant
// expression (JLS 4.12.4): reading `EagerSingleton.URL` does not initialise the class;
// calling `describe()` does, and opens the connection. The holder idiom moves the
// instance into a nested class that only `get()` touches.

// %%
class EagerSingleton {
    static final String URL = "db://localhost:5432";  // a constant: javac inlines it
    static final DatabaseConnection INSTANCE = new DatabaseConnection();
    static String describe() { return "a connection to " + URL; }
}

class HolderSingleton {
    private static final class Holder {  // initialised on its first use: in get()
        static final DatabaseConnection INSTANCE = new DatabaseConnection();
    }
    static DatabaseConnection get() { return Holder.INSTANCE; }
    static String describe() { return "a lazy connection"; }
}

// %% [markdown]
// ## The enum singleton
//
// An enum's constants are made by its class initialiser: the same guarantee, in one
// line, and no copies: reflection refuses to call an enum's constructor, deserialisation
// returns the existing constant. But it is lazy only until anything touches the enum
// class (`values()`, a static method); `HolderSingleton.describe()` leaves `Holder` be.
// It cannot extend a class or take the caller's arguments.
//
// The demo counts connections after each step. On its first run nothing has used these
// classes, so the first of T1-T3 to arrive initialises `Holder`, and the others wait or
// find it done. (Run the cell again: every count is 0, as each class is set up once.)
//
// @diagram singleton-holder-init

// %%
enum EnumSingleton {
    INSTANCE;
    final DatabaseConnection connection = new DatabaseConnection();
}

class ClassInitDemo {
    static List<Integer> run() throws InterruptedException {
        int before = DatabaseConnection.opened();
        var counts = new ArrayList<Integer>();
        // result is unused: it lets a bare read (EagerSingleton.URL) run before the count
        BiConsumer<String, Object> after = (step, result) -> {
            counts.add(DatabaseConnection.opened() - before);
            System.out.printf("%-45s opened so far: %d%n", step, counts.getLast());
        };
        after.accept("read EagerSingleton.URL", EagerSingleton.URL);
        after.accept("call EagerSingleton.describe()", EagerSingleton.describe());
        after.accept("call HolderSingleton.describe()", HolderSingleton.describe());
        var got = SingletonSeed.askTogether(HolderSingleton::get,
                List.of("T1", "T2", "T3"));
        after.accept("T1-T3 call HolderSingleton.get(); same: "
                + got.stream().allMatch(db -> db == HolderSingleton.get()), null);
        after.accept("read EnumSingleton.INSTANCE (first use)", EnumSingleton.INSTANCE);
        return counts;
    }
}

// %% [run]
// List<Integer> counts = ClassInitDemo.run();

// %% [markdown]
// ## When a singleton is a bad idea
//
// - **It is global state.** Code that calls `get()` depends on it without saying so; a
//   test cannot hand it a fake, and the first test to touch it creates it for all.
// - **One for the whole program is often wrong:** one shared connection serialises the
//   threads' work and mixes their transactions (servers use a pool); and as nobody owns
//   it, nobody closes it.
//
// Often better: create the instance in `main`, before other threads start, and pass it
// to whoever needs it. Else prefer the holder idiom or an `enum`.
//
// ## Pitfalls
//
// - **Check-then-act needs one atomic step:** decide again under the lock.
// - **A singleton is one per class loader.** Plugin systems, application servers and
//   this lesson's tests load classes more than once, and each copy has its own.
// - **A failed class initialiser is final:** the first caller gets the failure (an
//   exception wrapped in `ExceptionInInitializerError`); every other caller, then and
//   later, gets `NoClassDefFoundError` (JLS 12.4.2). A throwing double-checked factory
//   leaves `instance` `null`, and the next `get()` tries again.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `_instance` on the class, checked in `__new__` | a `volatile` field, `get()` |
// | `with cls._lock:` and a second `is None` | `synchronized`, the 2nd check |
// | `__init__` (runs on every call) guarded by `_initialized` | a constructor, run once |
// | a module-level instance (module code runs once) | the holder idiom, an `enum` |
// | `id(db)` | `a == b` compares; `identityHashCode` labels |
//
// The GIL makes the unguarded race rarer in CPython, not impossible.
//
// ## Try it
//
// - Make `UnsafeLazySingleton.instance` `volatile` and run `jbang singleton race`: still
//   two connections, because both threads really read `null`.
// - Set `EagerSingleton.URL` to `new String("db://localhost:5432")`, no longer a
//   constant, and run `jbang singleton holder`: its first line now counts one.
// - Delete the second check, `result = instance;`, in `DoubleCheckedSingleton.get` and
//   run `jbang singleton race`: now B opens a second connection there too.
//
// ## Summary
//
// A lazy singleton is a check-then-act race: guard it with double-checked locking on a
// `volatile` field or, simpler, let class initialisation guard it (holder or `enum`).
//
// The second check, under the lock, stops a second instance; `volatile` stops a reader
// seeing a half-built one, a bug x86 rarely shows. Reading a constant initialises no
// class. Often one instance made in `main` and passed around is the better design.

// %% [main]
class singleton {  // the entry point, script only: `jbang singleton --help`
    static final Section[] SECTIONS = {
            new Section("seed", "the seed's three threads, one connection",
                    speed -> SingletonSeed.seedRun()),
            new Section("race", "no lock: two connections; double-checked: one (forced)",
                    speed -> SingletonReplay.all(Math.round(400 / Math.max(speed, 0.2)))),
            new Section("holder", "class initialisation: constants, holder, enum",
                    speed -> ClassInitDemo.run())};
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
