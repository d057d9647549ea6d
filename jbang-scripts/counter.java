///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Counter: lost updates, and four ways to stop losing them
//
// Several threads add one to the same counter. Each `count++` looks like one step, but
// the CPU does three: read the field, add one, write it back. When two threads read the
// same value before either writes, one increment is overwritten and gone, with no error
// and no warning. This lesson makes that happen, measures it, replays it in slow motion,
// then fixes it four ways: `synchronized`, `ReentrantLock`, `AtomicInteger` and
// `LongAdder`, and compares what each costs.
//
// Run it: `jbang counter` from the repository root, `jbang jbang-scripts/counter.java`,
// or with a bare JDK 25, `java jbang-scripts/counter.java`. Try `--help`.

// %%
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

// %% [markdown]
// ## One interface, five counters
//
// Every variant below implements this interface, so the same harness can hammer each
// one and compare them fairly.

// %%
interface Counter {
    void increment();
    long get();
}

// %% [markdown]
// ## The broken counter
//
// `count++` on an `int` field compiles to `getfield`, `iadd`, `putfield`: a read, an
// add and a write. We spell those steps out so you can see them, and leave a seam
// between the read and the write: it does nothing in normal use, and lets the replay
// below (and the tests) pause one thread at exactly the wrong moment.

// %%
class UnsafeCounter implements Counter {
    private int count;
    private final IntConsumer afterRead;  // a seam to force interleavings; no-op normally

    UnsafeCounter() { this(seen -> { }); }
    UnsafeCounter(IntConsumer afterRead) { this.afterRead = afterRead; }

    public void increment() {
        int seen = count;        // 1. read
        afterRead.accept(seen);  //    (another thread may run here)
        count = seen + 1;        // 2. add and write back
    }

    public long get() { return count; }
}

// %% [markdown]
// ## Measuring the damage
//
// The harness starts `threads` threads, holds them at a barrier so they all begin
// together, lets each call `increment()` `increments` times, joins them all and returns
// the final count. Anything below `threads × increments` is updates lost.

// %%
class CounterRace {
    static long run(Counter counter, int threads, int increments)
            throws InterruptedException {
        var start = new CyclicBarrier(threads);
        var workers = new ArrayList<Thread>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().name("worker-" + t).start(() -> {
                try {
                    start.await();
                } catch (InterruptedException | BrokenBarrierException e) {
                    return;
                }
                for (int i = 0; i < increments; i++) counter.increment();
            }));
        }
        for (Thread worker : workers) worker.join();
        return counter.get();
    }

    static void lostUpdates(int threads, int increments, int runs)
            throws InterruptedException {
        long expected = (long) threads * increments;
        int runsThatLost = 0;
        System.out.printf("%d threads x %,d increments, expected %,d%n",
                threads, increments, expected);
        for (int run = 1; run <= runs; run++) {
            long lost = expected - run(new UnsafeCounter(), threads, increments);
            if (lost > 0) runsThatLost++;
            System.out.printf("  run %d: lost %,d (%.1f%%)%n",
                    run, lost, 100.0 * lost / expected);
        }
        System.out.printf("  %d of %d runs lost updates%n", runsThatLost, runs);
    }
}

// %% [markdown]
// How many updates vanish swings from run to run, and from machine to machine: the
// output below is one run. Starting every thread at the same barrier makes the race
// window wide open; without it, at the seed's load, each thread may finish before the
// next one starts and a run may lose nothing at all. (If whole millions vanish at
// once, that is the JIT keeping `count` in a register for the entire loop: with no
// synchronisation it is allowed to.)

// %% [run]
// CounterRace.lostUpdates(5, 1_000, 5);
// CounterRace.lostUpdates(5, 300_000, 5);

// %% [markdown]
// ## The lost update in slow motion
//
// Counting after the fact shows *that* updates vanish; this replay shows *how*. Two
// latches force the one interleaving that loses an update: thread A reads 0 and pauses
// in the seam; thread B reads 0, writes 1 and finishes; then A writes its stale 0 + 1.
// Two increments, final count 1. The pauses between steps are for the audience:
// `--speed 0.25` slows them down on stage, `--speed 20` hurries them.
//
// @diagram counter-lost-update

// %%
class LostUpdateReplay {
    static long replay(long pauseMillis) throws InterruptedException {
        var aHasRead = new CountDownLatch(1);
        var bIsDone = new CountDownLatch(1);
        var counter = new UnsafeCounter(seen -> {
            String me = Thread.currentThread().getName();
            step(pauseMillis, me + " reads count = " + seen);
            if (me.equals("A")) {
                aHasRead.countDown();
                awaitOrFail(bIsDone);  // A is paused between its read and its write
            }
        });
        Thread a = Thread.ofPlatform().name("A").start(() -> {
            counter.increment();
            step(pauseMillis, "A writes count = " + counter.get() + " (stale read + 1)");
        });
        awaitOrFail(aHasRead);
        Thread b = Thread.ofPlatform().name("B").start(() -> {
            counter.increment();
            step(pauseMillis, "B writes count = " + counter.get());
            bIsDone.countDown();
        });
        a.join();
        b.join();
        System.out.println("two increments, final count " + counter.get());
        return counter.get();
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
}

// %% [run]
// long finalCount = LostUpdateReplay.replay(100);

// %% [markdown]
// ## Fix 1: `synchronized`
//
// Only one thread at a time may hold an object's monitor. Marking both methods
// `synchronized` makes read-add-write one indivisible step, and `get()` sees the last
// write (releasing a monitor *happens-before* the next acquisition of it). The smallest
// fix, and the one to reach for first.
//
// @diagram counter-lock-handoff

// %%
class SynchronizedCounter implements Counter {
    private int count;

    public synchronized void increment() { count++; }
    public synchronized long get() { return count; }
}

// %% [markdown]
// ## Fix 2: `ReentrantLock`
//
// The same exclusion as an object you can hold: `tryLock` with a timeout,
// interruptible waits, fairness, several `Condition`s. The price is ceremony: unlock
// in `finally`, always, or one exception leaves the lock held forever.

// %%
class LockCounter implements Counter {
    private final ReentrantLock lock = new ReentrantLock();
    private int count;

    public void increment() {
        lock.lock();
        try {
            count++;
        } finally {
            lock.unlock();
        }
    }

    public long get() {
        lock.lock();
        try {
            return count;
        } finally {
            lock.unlock();
        }
    }
}

// %% [markdown]
// ## Fix 3: `AtomicInteger`
//
// No lock at all: `incrementAndGet` is a single hardware compare-and-swap (`lock xadd`
// on x86) that retries on conflict. Right for one variable; it cannot keep two fields
// consistent with each other.

// %%
class AtomicCounter implements Counter {
    private final AtomicInteger count = new AtomicInteger();

    public void increment() { count.incrementAndGet(); }
    public long get() { return count.get(); }
}

// %% [markdown]
// ## Fix 4: `LongAdder`
//
// Under heavy contention every thread fights over the one cache line of an
// `AtomicInteger`. `LongAdder` gives contending threads cells of their own and adds
// them up in `sum()`. Fastest for write-mostly counters (hit counts, metrics); but
// `sum()` is not an atomic snapshot while writers are running, so it cannot hand out
// unique ids.

// %%
class AdderCounter implements Counter {
    private final LongAdder count = new LongAdder();

    public void increment() { count.increment(); }
    public long get() { return count.sum(); }
}

// %% [markdown]
// ## All five, side by side
//
// First the seed's exact run: 5 threads × 1,000 increments each, so every safe
// variant must print 5000. Then a heavier run timed side by side in one process,
// reported as a ratio to the fastest correct variant (one warm-up round first; the
// `profiling` lesson measures this properly with JMH).

// %%
record Variant(String name, Supplier<Counter> factory) {
    static final List<Variant> ALL = List.of(
            new Variant("unsafe (count++)", UnsafeCounter::new),
            new Variant("synchronized", SynchronizedCounter::new),
            new Variant("ReentrantLock", LockCounter::new),
            new Variant("AtomicInteger", AtomicCounter::new),
            new Variant("LongAdder", AdderCounter::new));

    static void finalCounts(int threads, int increments) throws InterruptedException {
        for (Variant v : ALL) {
            long count = CounterRace.run(v.factory().get(), threads, increments);
            System.out.printf("%-18s final count: %d%n", v.name(), count);
        }
    }

    static void costs(int threads, int increments) throws InterruptedException {
        for (Variant v : ALL) {  // warm-up: let the JIT compile every variant first
            CounterRace.run(v.factory().get(), threads, increments);
        }
        var nanos = new long[ALL.size()];
        var counts = new long[ALL.size()];
        for (int i = 0; i < ALL.size(); i++) {
            long start = System.nanoTime();
            counts[i] = CounterRace.run(ALL.get(i).factory().get(), threads, increments);
            nanos[i] = System.nanoTime() - start;
        }
        long fastestCorrect = Long.MAX_VALUE;
        for (int i = 1; i < nanos.length; i++) {  // index 0 is the unsafe counter
            fastestCorrect = Math.min(fastestCorrect, nanos[i]);
        }
        System.out.printf("%d threads x %,d increments%n", threads, increments);
        System.out.printf("%-18s %14s %16s%n",
                "variant", "final count", "time vs fastest");
        for (int i = 0; i < ALL.size(); i++) {
            System.out.printf("%-18s %,14d %15.1fx%n",
                    ALL.get(i).name(), counts[i], (double) nanos[i] / fastestCorrect);
        }
    }
}

// %% [run]
// Variant.finalCounts(5, 1_000);
// Variant.costs(5, 300_000);

// %% [markdown]
// The unsafe counter is fast only because it is wrong. Among the correct ones,
// uncontended locks are cheap, but contended `synchronized` and `ReentrantLock` make
// threads queue, park and wake; the atomic spins on one cache line; `LongAdder`
// barely contends at all. Ratios swing from run to run on a 2-core machine: read the
// order, not the decimals.
//
// ## Which one to use
//
// | you need | use |
// |---|---|
// | a counter, or a few fields that must change together | `synchronized` |
// | the same, plus `tryLock`, timeouts, interruptible waits or conditions | `ReentrantLock` |
// | one number, read often, and ids or sequence numbers | `AtomicInteger` / `AtomicLong` |
// | one number written by many threads, read rarely (metrics) | `LongAdder` |
//
// ## Pitfalls
//
// - **`volatile` is no fix.** It makes each read and write visible to other threads,
//   but read-add-write is still three steps, and the slow-motion interleaving above
//   loses an update just the same.
// - **Guard reads too.** An unsynchronised `get()` may return a stale value: without a
//   happens-before edge to the last write, nothing obliges the reader to see it.
// - **One lock per piece of state.** Two methods that lock different objects do not
//   exclude each other.
// - **A race test can pass by luck.** The loss swings from run to run and can be
//   zero; prove a race by forcing the interleaving, as `LostUpdateReplay` (and this
//   lesson's tests) do, or with a tool built for it such as jcstress.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `self._lock = threading.Lock()` | `private final ReentrantLock lock = new ReentrantLock();` or an object's monitor |
// | `with self._lock: self._value += 1` | `synchronized (this) { count++; }`, or `lock.lock(); try { count++; } finally { lock.unlock(); }` |
// | `threading.Thread(target=f, args=(c, 1000))` | `Thread.ofPlatform().start(() -> f(c, 1000))` |
// | `t.join()` | `t.join()` |
// | (nothing) | `AtomicInteger`, `LongAdder`: lock-free counters |
//
// In CPython the GIL makes lost updates rarer but not impossible: `+=` is several
// bytecodes and a thread switch can fall between them. The JVM has no GIL, so threads
// really run in parallel and the race is easy to hit.
//
// Related lessons: `shared_resource` (a lock guard with try-with-resources),
// `race_conditions` (check-then-act and visibility), `profiling` (JMH numbers for
// these counters).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line;
// a bad option prints one line and exits with status 2.

// %%
class counter {
    static final String USAGE = """
            Usage: counter [options]
              --threads N     threads incrementing one counter (default 5)
              --increments N  increments per thread, the seed's run (default 1000)
              --stress N      increments per thread for the measured runs (default 300000)
              --runs N        measured runs of the broken counter (default 5)
              --speed X       replay pacing: 2 = twice as fast, 0.5 = half (default 1)
              --help          print this and exit""";

    record Options(int threads, int increments, int stress, int runs, double speed) { }

    public static void main(String[] args) throws InterruptedException {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("counter: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        System.out.println("== The broken counter ==");
        CounterRace.lostUpdates(o.threads(), o.increments(), o.runs());
        CounterRace.lostUpdates(o.threads(), o.stress(), o.runs());
        System.out.println("\n== The lost update in slow motion ==");
        LostUpdateReplay.replay(Math.round(400 / o.speed()));
        System.out.println("\n== All five, side by side ==");
        Variant.finalCounts(o.threads(), o.increments());
        System.out.println();
        Variant.costs(o.threads(), o.stress());
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
                count("--threads", given.getOrDefault("--threads", "5")),
                count("--increments", given.getOrDefault("--increments", "1000")),
                count("--stress", given.getOrDefault("--stress", "300000")),
                count("--runs", given.getOrDefault("--runs", "5")),
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
