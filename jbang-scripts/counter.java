///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Counter: lost updates, and four ways to stop losing them
//
// Five threads each add one to a shared counter a thousand times: the total should be
// 5,000. Without a lock it often comes out short, with no error and no warning. This
// lesson shows why, replays one lost update step by step, and fixes it four ways.
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
// add and a write. We spell the steps out and leave a seam between the read and the
// write. It does nothing in normal use; the replay below and the tests use it to pause
// one thread at exactly the wrong moment. Every counter in this lesson implements
// `Counter`, so one harness can run them all.

// %%
interface Counter {
    void increment();
    long get();
}

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
// The harness starts the threads, holds them at a barrier so that they begin together,
// lets each call `increment()` a number of times, joins them, and returns the count. We
// run the seed's load (5 threads × 1,000 increments) twenty times. Some runs come out
// short, by a different amount each time, and many lose nothing: a thousand increments
// take a few microseconds once the JIT has compiled them, so a thread is often done
// before the next one wakes up from the barrier. A race shows up only sometimes; a test
// that passes proves nothing.

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
                } catch (Exception e) {  // interrupted, timed out, or a broken barrier
                    return;
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
        System.out.printf("5 threads x 1,000 increments: %d of %d runs lost updates%n",
                lost.stream().filter(n -> n > 0).count(), runs);
        for (int from = 0; from < runs; from += 10) {  // ten runs a line
            var line = lost.subList(from, Math.min(from + 10, runs));
            System.out.printf("  updates lost, runs %2d-%2d: %s%n", from + 1,
                    from + line.size(), line.stream().map(String::valueOf)
                            .collect(Collectors.joining(" ")));
        }
    }
}

// %% [run]
// CounterRace.seedRuns(20);

// %% [markdown]
// ## Long enough to collide: `volatile` does not help
//
// Give two threads ten million increments each and they run side by side for a good
// fraction of a second. We make the field `volatile`, the fix many people try first. It
// does make every read and write go to memory, in order (a plain field lets the JIT keep
// `count` in a register for the whole loop: read once, add ten million, write once), but
// `count++` is still a read, an add and a write, and two threads still interleave them.
// On a machine with two or more cores every run loses updates, usually a great many.

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
// for the audience (`--speed 0.25` on stage slows them down).
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
                await(bIsDone);  // A is paused between its read and its write
            }
        });
        Thread a = Thread.ofPlatform().name("A").start(() -> {
            counter.increment();
            step(pauseMillis, "A writes count = " + counter.get() + " (stale read + 1)");
        });
        await(aHasRead);
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
            Thread.sleep(pauseMillis);  // pacing for people, not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void await(CountDownLatch latch) {
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
// long finalCount = LostUpdateReplay.replay(300);

// %% [markdown]
// ## Fix 1: `synchronized`
//
// Only one thread at a time can hold an object's monitor. Marking both methods
// `synchronized` makes read-add-write one indivisible step, and `get()` sees the last
// write, because releasing a monitor *happens-before* every later acquisition of it
// (JLS 17.4.4). The smallest fix, and the one to reach for first.
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
// seed's `SafeCounter`, which guards its value with a `threading.Lock`.

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
// No lock at all. `incrementAndGet` is one atomic read-modify-write: on x86 the JIT
// turns it into a single `lock xadd` instruction, a fetch-and-add that cannot fail, so
// nothing is retried. (`compareAndSet` is the other tool here: it fails when another
// thread got there first, and the caller loops.) Right for one variable; it cannot keep
// two fields consistent with each other.

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
// them up in `sum()`. It suits counters that many threads write and few read (hit
// counts, metrics), but `sum()` is not an atomic snapshot while writers run, so it
// cannot hand out unique ids.

// %%
class AdderCounter implements Counter {
    private final LongAdder count = new LongAdder();

    public void increment() { count.increment(); }
    public long get() { return count.sum(); }
}

// %% [markdown]
// ## All four, at the seed's size
//
// Every correct counter ends at exactly 5,000 on every run, which this lesson's tests
// check under far heavier load. The last line is the seed's own run: its `SafeCounter`
// is our `LockCounter`.

// %%
class Fixes {
    static void finalCounts() throws InterruptedException {
        for (Supplier<Counter> fix : List.<Supplier<Counter>>of(SynchronizedCounter::new,
                LockCounter::new, AtomicCounter::new, AdderCounter::new)) {
            Counter counter = fix.get();
            long count = CounterRace.run(counter, 5, 1_000);
            String name = counter.getClass().getSimpleName();
            System.out.printf("%-20s final count %d%n", name, count);
        }
        long seeds = CounterRace.run(new LockCounter(), 5, 1_000);
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
// | a counter, or a few fields that must change together | `synchronized` |
// | the same, with `tryLock`, timeouts or conditions | `ReentrantLock` |
// | one number, read often; ids and sequence numbers | `AtomicInteger`, `AtomicLong` |
// | one number written by many threads, read rarely (metrics) | `LongAdder` |
//
// What each costs under contention is measured properly, with JMH, in `benchmarking`.
//
// ## Pitfalls
//
// - **`volatile` is no fix.** It makes each read and write visible to other threads,
//   but read-add-write is still three steps, as `VolatileCounter` shows.
// - **Guard the reads too.** An unsynchronised `get()` may return a stale value: with
//   no happens-before edge to the last write, nothing obliges the reader to see it.
// - **One lock per piece of state.** Two methods that lock different objects do not
//   exclude each other.
// - **A passing race test proves nothing.** Prove a race by forcing the interleaving,
//   as `LostUpdateReplay` and this lesson's tests do, or with a tool built for it, such
//   as jcstress.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `self._lock = threading.Lock()` | `new ReentrantLock()`, or an object's monitor |
// | `with self._lock: self._value += 1` | `synchronized (this) { count++; }` |
// | `threading.Thread(target=f, args=(c, 1000))` | `Thread.ofPlatform().start(...)` |
// | (nothing built in) | `AtomicInteger`, `LongAdder`: counters without a lock |
//
// CPython's GIL makes lost updates rarer, not impossible: `+=` is several bytecodes and
// a thread switch can fall between them. The JVM has no GIL: threads run on every
// core at once, and the race is easy to hit.
//
// ## Try it
//
// - Run `jbang counter race` a few times: the number of runs that lose updates, and
//   how much they lose, changes from run to run.
// - In `VolatileCounter.twoThreads`, run one thread with twenty million increments:
//   nothing is lost, because no other thread runs at the same time.
// - In `Fixes.finalCounts`, add `UnsafeCounter::new` to the list: on most runs its
//   final count is below 5,000.
//
// ## Summary
//
// `count++` is a read, an add and a write, and two threads that interleave them lose
// an update. A race shows up only sometimes, so prove it by forcing the interleaving.
// `synchronized` is the first fix to reach for; `ReentrantLock` adds timeouts and
// conditions; `AtomicInteger` suits one number; `LongAdder` suits a hot counter that
// is rarely read. `volatile` alone never makes a compound action atomic.

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
