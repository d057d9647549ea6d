///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Counter: lost updates, and four ways to stop losing them
//
// Five threads each add one to a shared counter a thousand times: the total should be
// 5,000. Without a lock it can come out short, with no error and no warning, and on
// the next run come out right. This lesson shows why, replays one lost update step by
// step, and fixes it four ways.
//
// **You will learn**
// - why `count++` is three steps, and how two threads interleave them to lose an update
// - to prove a race by forcing the interleaving, not by hoping to see it
// - `synchronized`, `ReentrantLock`, `AtomicInteger` and `LongAdder`, and which to use
// - why `volatile` does not fix a lost update

// %%
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.concurrent.locks.*;
import java.util.function.*;
import java.util.stream.*;

// %% [markdown]
// ## The broken counter
//
// `count++` on an `int` field compiles to `getfield`, `iadd`, `putfield`: a read, an
// add and a write. We spell the steps out, with a *seam* between the read and the write:
// a hook that does nothing in normal use, which the replay and the tests use to pause a
// thread at exactly the wrong moment. Every counter here implements `Counter`.

// %%
interface Counter { void increment(); long get(); }

class UnsafeCounter implements Counter {
    private int count;
    private final IntConsumer afterRead;  // a seam to force interleavings; no-op normally

    UnsafeCounter() { this(seen -> { }); }
    UnsafeCounter(IntConsumer afterRead) { this.afterRead = afterRead; }

    public void increment() {
        int seen = count;        // 1. read
        afterRead.accept(seen);  //    (another thread may run here)
        count = seen + 1;        // 2. add, and write back
    }

    public long get() { return count; }
}

// %% [markdown]
// ## The race, at the seed's size
//
// The harness holds the threads at a barrier so they start at about the same time, lets
// each call `increment()` a number of times, joins them and returns the count. `join()`
// makes a worker's writes visible to the thread that joins it (JLS 17.4.5), so a short
// count means lost updates, not a stale read. We run the seed's load (5 threads × 1,000
// increments) twenty times. Some runs come out short, by varying amounts; many lose
// nothing, and on a busy machine all twenty may. The barrier's last arrival goes on at
// once while the others wake one by one, and once the JIT (the JVM's compiler of hot
// code) has compiled the loop, a thousand increments take microseconds: a thread is
// often done before the next is awake. A race shows only sometimes: a passing test
// proves nothing.

// %%
class CounterRace {
    static long run(Counter counter, int threads, int increments)
            throws InterruptedException {
        var start = new CyclicBarrier(threads);
        var workers = new ArrayList<Thread>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().name("worker-" + t).start(() -> {
                try {
                    start.await(10, TimeUnit.SECONDS);
                } catch (Exception e) {  // a thread that never ran is no lost update
                    throw new IllegalStateException("the start barrier failed", e);
                }
                for (int i = 0; i < increments; i++) counter.increment();
            }));
        }
        for (Thread worker : workers) worker.join();
        return counter.get();
    }

    static void seedRuns(int runs) throws InterruptedException {
        var lost = new ArrayList<Long>();
        for (int run = 0; run < runs; run++) {
            lost.add(5_000 - run(new UnsafeCounter(), 5, 1_000));
        }
        var lossy = lost.stream().filter(n -> n > 0).sorted().toList();
        System.out.printf("5 threads x 1,000 increments: %d of %d runs lost updates%s%n",
                lossy.size(), runs, lossy.isEmpty() ? "" : " (%d to %d in a run)"
                        .formatted(lossy.getFirst(), lossy.getLast()));
    }
}

// %% [run]
// CounterRace.seedRuns(20);

// %% [markdown]
// ## Long enough to collide: `volatile` does not help
//
// Two threads with ten million increments each run side by side on two free cores. We
// make the field `volatile`, the fix many people try first: every read and write then
// really happens, in program order, and each read sees the latest write (JLS 17.4.4,
// 17.4.5), where a plain field lets the JIT read once, add in a register, write once.
// But `count++` is still a read, an add and a write, and two threads still interleave
// them. With two idle cores most runs lose updates, often millions; on a busy machine,
// where the threads take turns on one core, a run may lose none. The replay below shows
// the interleaving every time, and the tests prove it with Lincheck, a model checker.

// %%
class VolatileCounter implements Counter {
    private volatile int count;

    public void increment() { count++; }  // a volatile read, then a volatile write
    public long get() { return count; }

    static void twoThreads() throws InterruptedException {
        long count = CounterRace.run(new VolatileCounter(), 2, 10_000_000);
        System.out.printf("2 threads x 10,000,000 increments of a volatile field: "
                + "%,d lost%n", 20_000_000 - count);
    }
}

// %% [run]
// VolatileCounter.twoThreads();

// %% [markdown]
// ## The lost update in slow motion
//
// Counting after the fact shows *that* updates vanish; this replay shows *how*. Two
// latches force the one interleaving that loses an update: thread A reads 0 and pauses
// in the seam; thread B reads 0, writes 1 and finishes; then A writes its stale 0 + 1.
// Two increments, final count 1, on every run. The pauses between the steps are only
// for the audience (run as a script, `--speed 0.25` slows them down).
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
                await(bIsDone, 10_000 + 4 * pauseMillis);  // A: read, not yet written
            }
        });
        Thread a = Thread.ofPlatform().name("A").start(() -> {
            counter.increment();
            step(pauseMillis, "A writes count = " + counter.get() + " (stale read + 1)");
        });
        await(aHasRead, 10_000 + 2 * pauseMillis);
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

    static void step(long pauseMillis, String what) {
        System.out.println("  " + what);
        try {
            Thread.sleep(pauseMillis);  // pacing for people, not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
// long finalCount = LostUpdateReplay.replay(300);

// %% [markdown]
// ## Fix 1: `synchronized`
//
// Every object has a built-in lock, its *monitor*, which one thread at a time can hold.
// `synchronized` methods take it, so read-add-write becomes one indivisible step; and
// since an unlock *happens-before* every later lock of the same monitor (JLS 17.4.4,
// 17.4.5), `get()` sees the last write. The smallest fix for several fields.
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
// The same exclusion as an object you hold: it adds `tryLock` with a timeout,
// interruptible waits, fairness and several `Condition`s. The price is ceremony: unlock
// in `finally`, always, or one exception leaves the lock held for good. This is the
// seed's `SafeCounter`, which guards its value with a `threading.Lock` (one difference:
// a `ReentrantLock` may be taken again by the thread that holds it, as Python's
// `threading.RLock` may, and only that thread may release it).

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
// No lock at all. `incrementAndGet` is one atomic read-modify-write: once compiled, on
// x86, it is a single `lock xadd` instruction, a fetch-and-add that cannot fail, so
// nothing is retried. (Before the JIT compiles it, the JDK's Java code loops on
// `compareAndSet`, which fails when another thread got there first.) Right for one
// variable; it cannot keep two fields consistent with each other.

// %%
class AtomicCounter implements Counter {
    private final AtomicInteger count = new AtomicInteger();

    public void increment() { count.incrementAndGet(); }
    public long get() { return count.get(); }
}

// %% [markdown]
// ## Fix 4: `LongAdder`
//
// Under heavy contention every thread fights over the one memory location of an
// `AtomicInteger` (one cache line, which the cores pass back and forth). `LongAdder`
// spreads contending threads over several cells, at most about one per CPU, and adds
// them up in `sum()`. It suits counters that many threads write and few read (hit
// counts, metrics). It cannot hand out ids: `increment()` returns nothing, and `sum()`
// is a separate read, not an atomic snapshot while writers run.

// %%
class AdderCounter implements Counter {
    private final LongAdder count = new LongAdder();

    public void increment() { count.increment(); }
    public long get() { return count.sum(); }
}

// %% [markdown]
// ## All four, at the seed's size
//
// Every correct counter ends at exactly 5,000 on every run (the tests prove each with
// Lincheck). The last line is the seed's own output: its `SafeCounter` is `LockCounter`.

// %%
class Fixes {
    static void finalCounts() throws InterruptedException {
        long seeds = 0;
        for (Counter counter : List.of(new SynchronizedCounter(), new AtomicCounter(),
                new AdderCounter(), new LockCounter())) {
            long count = CounterRace.run(counter, 5, 1_000);
            String name = counter.getClass().getSimpleName();
            System.out.printf("%-20s final count %d%n", name, count);
            if (counter instanceof LockCounter) seeds = count;
        }
        System.out.println("Final count: " + seeds);  // the seed's last line
    }
}

// %% [run]
// Fixes.finalCounts();

// %% [markdown]
// ## Which one to use
//
// | you need | use |
// |---|---|
// | one counter, or ids and sequence numbers | `AtomicInteger`, `AtomicLong` |
// | one counter many threads write and few read (metrics) | `LongAdder` |
// | several fields that must change together | `synchronized` |
// | the same, with `tryLock`, timeouts or conditions | `ReentrantLock` |
//
// What each costs under contention is measured with JMH in `benchmarking`.
//
// ## Pitfalls
//
// - **Guard the reads too.** An unsynchronised `get()` may return a stale value: with
//   no happens-before edge to the last write, nothing obliges the reader to see it.
// - **One lock per piece of state.** Methods locking different objects exclude nothing.
// - **A passing race test proves nothing.** Force the interleaving, as the replay does,
//   or use a tool built for races (lessons `testing_concurrency`, `jcstress`): jcstress
//   saw `x++` lose increments on a plain and a `volatile` field, never on an atomic.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `self._lock = threading.Lock()` | `new ReentrantLock()`, or an object's monitor |
// | `with self._lock: self._value += 1` | `lock()`, `try`, `finally` (`LockCounter`) |
// | (nothing built in) | `AtomicInteger`, `LongAdder`: counters without a lock |
//
// The GIL never made `+=` atomic: it is several bytecodes. Recent CPythons switch
// threads only at a few points (calls, loop jumps), so the seed's race rarely shows,
// and free-threaded CPython (PEP 703) has no GIL at all: keep the lock. The JVM has no
// GIL; its threads run on every core at once.
//
// ## Try it
//
// - Run `jbang counter race` a few times: how many runs lose updates, and how many
//   updates, changes from run to run.
// - Remove `volatile` from `VolatileCounter` and run `race` again: updates still go
//   missing, sometimes a whole thread's work at once.
// - Run `taskset -c 0 jbang counter race` (Linux; one core): the volatile counter loses
//   far fewer updates, or none, because the threads now take turns.
//
// ## Summary
//
// `count++` is a read, an add and a write, and two threads that interleave them lose
// updates, with no error, on some runs and not others.
//
// So prove a race by forcing the interleaving, never by a test that happened to pass.
// `AtomicInteger` suits one counter, `LongAdder` a hot counter that is rarely read;
// `synchronized` guards several fields that change together, and `ReentrantLock` adds
// timeouts and conditions. `volatile` alone never makes a compound action atomic.

// %% [main]
class counter {  // the entry point, script only: `jbang counter --help`
    static final Section[] SECTIONS = {
            new Section("race", "the seed's counter without a lock, then a volatile one",
                    speed -> { CounterRace.seedRuns(20); VolatileCounter.twoThreads(); }),
            new Section("replay", "one lost update in slow motion, forced by two latches",
                    speed -> LostUpdateReplay.replay(Math.round(400 / speed))),
            new Section("fixes", "four correct counters, each at exactly 5,000",
                    speed -> Fixes.finalCounts())};
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
