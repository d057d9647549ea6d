///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Shared resource: a lock guard for try-with-resources
//
// Ten workers share one map, `{"count": 0}`. Each one reads the count, spends a few
// milliseconds "processing", then writes the count plus one. Without a lock, workers
// read the same old value during each other's pause, and most of the updates vanish. The
// Python original guards the map with a `@contextmanager`: `with resource.acquire() as
// data:` locks, hands over the map, and unlocks however the block ends. Java's version
// of that is try-with-resources over an `AutoCloseable` guard. This lesson loses the
// updates first and measures the loss, then fixes it three ways: a `synchronized` block,
// `lock()` with `try`/`finally`, and the guard; it shows what a guard must refuse (use
// after close, use from another thread) so the data cannot slip out from under the lock,
// and what serialising the slow part costs.
//
// Run it: `jbang shared_resource` from the repository root,
// `jbang jbang-scripts/shared_resource.java`, or with a bare JDK 25,
// `java jbang-scripts/shared_resource.java`. Try `--help`.

// %%
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.IntConsumer;

// %% [markdown]
// ## One update, four ways to run it
//
// The seed's worker does a read, some work, and a write that depends on the read. Every
// form below runs that same update on its own `{"count": 0}` map, so one harness can
// compare them. The "work" is a seam: a callback between the read and the write that
// receives the value read. The demos make it sleep; the tests make it wait on a latch or
// a barrier, to force the worst interleaving on purpose.

// %%
interface SlowCount {
    /** Reads count, runs the work between read and write, writes count + 1. */
    int update();  // returns the value it read

    int count();
}

// %% [markdown]
// ## The broken version: no lock
//
// The map is a `ConcurrentHashMap`, so every single `get` and `put` is thread-safe. That
// does not help: the update is a `get`, a pause and a `put`, and nothing stops another
// worker from reading between them. A thread-safe container makes each call safe, not a
// sequence of calls.

// %%
class UnguardedCount implements SlowCount {
    private final Map<String, Integer> data = new ConcurrentHashMap<>(Map.of("count", 0));
    private final IntConsumer work;  // runs between the read and the write

    UnguardedCount(IntConsumer work) { this.work = work; }

    public int update() {
        int current = data.get("count");  // 1. read
        work.accept(current);             // 2. work: the others read the same value now
        data.put("count", current + 1);   // 3. write, based on a stale read
        return current;
    }

    public int count() { return data.get("count"); }
}

// %% [markdown]
// ## Measuring the damage
//
// The harness starts the workers together, lets each run the update, joins them all
// (within a timeout: nothing here can hang) and returns the final count. The demo runs
// the seed's exact load: 10 workers, one update each, 10 ms of work between read and
// write. It prints every value the workers read, sorted, and the final count.

// %%
class SlowCountRace {
    static final Duration PATIENCE = Duration.ofSeconds(30);

    /** Starts `workers` threads together; each calls update() `rounds` times. */
    static int run(SlowCount form, int workers, int rounds) throws InterruptedException {
        return timed(form, workers, rounds).count();
    }

    record Timed(int count, long millis) { }

    /** Like run(), and times it from the start signal until the last worker ends. */
    static Timed timed(SlowCount form, int workers, int rounds)
            throws InterruptedException {
        var start = new CountDownLatch(1);
        var failure = new AtomicReference<Throwable>();
        var threads = new ArrayList<Thread>();
        for (int w = 0; w < workers; w++) {
            threads.add(Thread.ofPlatform().name("worker-" + w).start(() -> {
                try {
                    awaitOrFail(start);
                    for (int i = 0; i < rounds; i++) form.update();
                } catch (RuntimeException | Error e) {
                    failure.compareAndSet(null, e);  // rethrown below, to the caller
                }
            }));
        }
        long started = System.nanoTime();
        start.countDown();
        joinAll(threads);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        if (failure.get() != null) {
            throw new IllegalStateException("a worker failed", failure.get());
        }
        return new Timed(form.count(), millis);
    }

    /** The demo's work: sleep, as the seed's time.sleep(0.01) does. */
    static IntConsumer pause(long millis) {
        return seen -> sleep(millis);
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void awaitOrFail(CountDownLatch latch) {
        try {
            if (!latch.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("a latch never opened");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting", e);
        }
    }

    static void joinAll(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            if (!t.join(PATIENCE)) {
                throw new IllegalStateException(t.getName() + " never ended");
            }
        }
    }

    static void lostUpdates(int workers, long pauseMillis, int runs)
            throws InterruptedException {
        System.out.printf("%d workers, each: read count, work %d ms, write count + 1%n",
                workers, pauseMillis);
        for (int run = 1; run <= runs; run++) {
            var reads = new ConcurrentLinkedQueue<Integer>();
            var form = new UnguardedCount(seen -> {
                reads.add(seen);
                sleep(pauseMillis);
            });
            int count = run(form, workers, 1);
            List<Integer> sorted = reads.stream().sorted().toList();
            System.out.printf("  run %d: values read %s%n", run, sorted);
            System.out.printf("         final count %d, %d of %d updates lost%n",
                    count, workers - count, workers);
        }
    }
}

// %% [run]
// SlowCountRace.lostUpdates(10, 10, 3);

// %% [markdown]
// Look at the values read: when most of them are 0, most workers started their update
// before anyone had finished one, and each of them wrote 1. The sleep is much longer
// than starting a thread, so a run that loses nothing is very unlikely, but it is not
// impossible; the tests do not rely on luck: they hold every worker at a barrier right
// after its read, and then the final count is exactly 1, every time.
//
// ## What goes wrong
//
// Two workers are enough to lose one update. Both read 0 before either writes; both
// write 0 + 1. The second write does not fail or warn: it just replaces the first.
//
// @diagram shared_resource-lost-update

// %% [markdown]
// ## Fix 1: a `synchronized` block
//
// Every Java object has a monitor, and only one thread at a time may be inside a
// `synchronized` block on it. Put the read, the work and the write in one block on a
// private lock object and the whole update becomes one step to every other worker.
// The monitor is released when the block ends, normally or by an exception. The
// smallest fix: no import, nothing to forget.

// %%
class SynchronizedBlockCount implements SlowCount {
    private final Object lock = new Object();
    private final Map<String, Integer> data = new HashMap<>(Map.of("count", 0));  // lock
    private final IntConsumer work;

    SynchronizedBlockCount(IntConsumer work) { this.work = work; }

    public int update() {
        synchronized (lock) {
            int current = data.get("count");
            work.accept(current);
            data.put("count", current + 1);
            return current;
        }
    }

    public int count() {
        synchronized (lock) {
            return data.get("count");
        }
    }
}

// %% [markdown]
// ## Fix 2: `lock()`, `try`, `finally`
//
// A `ReentrantLock` is the same exclusion as an object you hold, with more to offer:
// `tryLock` with a timeout, waits you can interrupt, fairness, conditions. The price is
// the idiom, which is yours to get right each time: `lock()` just before `try`, and
// `unlock()` in `finally`, or the first exception leaves the lock held for ever and
// every later worker waits for ever.

// %%
class LockFinallyCount implements SlowCount {
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Integer> data = new HashMap<>(Map.of("count", 0));  // lock
    private final IntConsumer work;

    LockFinallyCount(IntConsumer work) { this.work = work; }

    public int update() {
        lock.lock();  // before try: if lock() fails, there is nothing to unlock
        try {
            int current = data.get("count");
            work.accept(current);
            data.put("count", current + 1);
            return current;
        } finally {
            lock.unlock();
        }
    }

    public int count() {
        lock.lock();
        try {
            return data.get("count");
        } finally {
            lock.unlock();
        }
    }
}

// %% [markdown]
// ## Fix 3: a guard for try-with-resources
//
// Python's `@contextmanager` turns lock/try/finally into `with resource.acquire() as
// data:`. Java's counterpart is try-with-resources: `acquire()` locks and returns a
// `Guard`, and the `try` calls the guard's `close()`, which unlocks, when the block ends,
// whether it completes or throws. Callers write the idiom once, in one place, and
// cannot forget the `finally`.
//
// The seed yields the dict itself, and that is the guard's weak spot: a reference kept
// past the `with` block still reads and writes the data, with no lock held and no error.
// So this guard hands out no map. It is the only way to the data, and every call checks
// that the guard is still open and used by the thread that acquired it; otherwise it
// throws `IllegalStateException`. What may leave the block is a copy (`snapshot()`).
// A second `close()` does nothing, as for `Closeable`. `acquire(timeout)` is the
// `tryLock` version: it gives up with a `TimeoutException` instead of waiting for ever.
//
// @diagram shared_resource-guard-lifecycle

// %%
class SharedResource {
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Integer> data = new HashMap<>(Map.of("count", 0));  // lock

    /** Waits for the lock; the guard's close() releases it. */
    Guard acquire() {
        lock.lock();
        return new Guard();
    }

    /** Like acquire(), but gives up after the timeout. */
    Guard acquire(Duration timeout) throws InterruptedException, TimeoutException {
        if (!lock.tryLock(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            throw new TimeoutException(
                    "resource still busy after " + timeout.toMillis() + " ms");
        }
        return new Guard();
    }

    /** The only way to the data: valid while open, on the thread that acquired it. */
    final class Guard implements AutoCloseable {
        private final Thread owner = Thread.currentThread();
        private boolean open = true;  // only the owner reads or writes it

        int get(String key) {
            check();
            return data.getOrDefault(key, 0);
        }

        void put(String key, int value) {
            check();
            data.put(key, value);
        }

        /** A copy: safe to keep after close, because it is no longer the shared data. */
        Map<String, Integer> snapshot() {
            check();
            return Map.copyOf(data);
        }

        @Override
        public void close() {
            checkOwner();
            if (open) {  // a second close is a no-op
                open = false;
                lock.unlock();
            }
        }

        private void check() {
            checkOwner();
            if (!open) throw new IllegalStateException("guard used after close");
        }

        private void checkOwner() {
            Thread me = Thread.currentThread();
            if (me != owner) {
                throw new IllegalStateException("guard belongs to " + owner.getName()
                        + ", used by " + me.getName());
            }
        }
    }
}

// %% [markdown]
// ## The seed's program, ported
//
// Ten workers, each in a `try (var data = resource.acquire())` block: read, work, write,
// print, exactly as the Python workers do inside `with`. The workers print, so their
// numbers can come out in any order, and the order varies from run to run; the counts
// always climb from 1 to 10, because each line is printed while its worker still holds
// the guard.

// %%
class SharedResourceSeed {
    static void run(int workers, long pauseMillis) throws InterruptedException {
        var resource = new SharedResource();
        var threads = new ArrayList<Thread>();
        for (int id = 0; id < workers; id++) {
            int workerId = id;
            threads.add(Thread.ofPlatform().name("worker-" + id).start(() -> {
                try (var data = resource.acquire()) {
                    int current = data.get("count");
                    SlowCountRace.sleep(pauseMillis);  // simulate some processing
                    data.put("count", current + 1);
                    System.out.printf("Worker %d: count = %d%n",
                            workerId, data.get("count"));
                }
            }));
        }
        SlowCountRace.joinAll(threads);
        try (var data = resource.acquire()) {
            System.out.println("Final count: " + data.get("count"));
        }
    }
}

// %% [run]
// SharedResourceSeed.run(10, 10);

// %% [markdown]
// ## What the guard refuses
//
// Here is the seed's shape ported literally, for contrast: a guard that hands out the
// live map. Then each thing the checked guard is built to stop, tried on purpose:
// keeping the guard past its block, handing it to another thread, a body that throws,
// and a resource that stays busy longer than a caller will wait.

// %%
class LeakyResource {
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Integer> data = new HashMap<>(Map.of("count", 0));

    Guard acquire() {
        lock.lock();
        return new Guard();
    }

    final class Guard implements AutoCloseable {
        Map<String, Integer> data() { return data; }  // the live map: it can escape

        @Override
        public void close() { lock.unlock(); }
    }
}

// %%
class GuardRefusals {
    interface Step {
        void run() throws Exception;
    }

    static void show(long pauseMillis) throws InterruptedException {
        var leaky = new LeakyResource();
        Map<String, Integer> leaked;
        try (var guard = leaky.acquire()) {
            leaked = guard.data();
        }
        String write = outcome(() -> leaked.put("count", 99));
        System.out.println("literal port, write through the map kept after close: "
                + write + ", count is now " + leaked.get("count"));

        var resource = new SharedResource();
        SharedResource.Guard kept;
        try (var data = resource.acquire()) {
            kept = data;
        }
        System.out.println("checked guard, write after close: "
                + outcome(() -> kept.put("count", 99)));

        try (var data = resource.acquire()) {
            System.out.println("checked guard, handed to another thread: "
                    + inAnotherThread("helper", () -> data.put("count", 99)));
        }

        System.out.println("body writes count = 1, then throws: " + outcome(() -> {
            try (var data = resource.acquire()) {
                data.put("count", 1);
                throw new IllegalArgumentException("bad input");
            }
        }));
        var afterwards = new AtomicReference<Integer>();
        String next = inAnotherThread("next", () -> {
            try (var data = resource.acquire(Duration.ofSeconds(10))) {
                afterwards.set(data.get("count"));
            }
        });
        System.out.println("  then another thread acquires: " + next + ", reads count = "
                + afterwards.get() + " (unlocked; the write stayed)");

        try (var _ = resource.acquire()) {  // held, not used: unnamed
            var patience = Duration.ofMillis(pauseMillis);
            String busy = inAnotherThread("impatient",
                    () -> resource.acquire(patience).close());
            System.out.println("while this thread holds it, another's acquire("
                    + pauseMillis + " ms): " + busy);
        }
    }

    /** Runs the step; says "accepted", or which exception it threw. */
    static String outcome(Step step) {
        try {
            step.run();
            return "accepted";
        } catch (Exception e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    static String inAnotherThread(String name, Step step) throws InterruptedException {
        var result = new AtomicReference<String>();
        Thread t = Thread.ofPlatform().name(name).start(() -> result.set(outcome(step)));
        SlowCountRace.joinAll(List.of(t));
        return result.get();
    }
}

// %% [run]
// GuardRefusals.show(10);

// %% [markdown]
// The literal port accepted a write with no lock held; the checked guard turned down
// both misuses with an exception that names the problem. After the throwing body the
// lock was free again, but notice what was *not* undone: the write made before the
// throw. A lock gives exclusion, not rollback.
//
// ## All four, side by side
//
// The guard also fits the `SlowCount` shape, so the harness can run all four forms:
// first the seed's load (10 workers, one update each, 10 ms of work), counting the most
// workers inside the work at one moment and timing the run; then a stress run with no
// work and many updates per worker.

// %%
class GuardedCount implements SlowCount {
    private final SharedResource resource = new SharedResource();
    private final IntConsumer work;

    GuardedCount(IntConsumer work) { this.work = work; }

    public int update() {
        try (var data = resource.acquire()) {
            int current = data.get("count");
            work.accept(current);
            data.put("count", current + 1);
            return current;
        }
    }

    public int count() {
        try (var data = resource.acquire()) {
            return data.get("count");
        }
    }
}

// %%
record CountForm(String name, Function<IntConsumer, SlowCount> factory) {
    static final List<CountForm> ALL = List.of(
            new CountForm("no lock", UnguardedCount::new),
            new CountForm("synchronized block", SynchronizedBlockCount::new),
            new CountForm("lock/try/finally", LockFinallyCount::new),
            new CountForm("guard (try-with-resources)", GuardedCount::new));

    static void compare(int workers, long pauseMillis, int rounds)
            throws InterruptedException {
        System.out.printf("seed run: %d workers x 1 update, %d ms work; "
                + "stress: %d workers x %,d updates, no work%n",
                workers, pauseMillis, workers, rounds);
        System.out.printf("%-27s %9s %8s %10s   %s%n",
                "form", "seed run", "at once", "wall time", "stress");
        for (CountForm form : ALL) {
            var inWork = new AtomicInteger();
            var most = new AtomicInteger();  // most workers inside the work at one time
            var slow = form.factory().apply(seen -> {
                most.accumulateAndGet(inWork.incrementAndGet(), Math::max);
                SlowCountRace.sleep(pauseMillis);
                inWork.decrementAndGet();
            });
            var seed = SlowCountRace.timed(slow, workers, 1);
            var fast = form.factory().apply(seen -> { });
            int stress = SlowCountRace.run(fast, workers, rounds);
            System.out.printf("%-27s %3d of %-3d %8d %7d ms   %,d of %,d%n",
                    form.name(), seed.count(), workers, most.get(), seed.millis(),
                    stress, workers * rounds);
        }
    }
}

// %% [run]
// CountForm.compare(10, 10, 20_000);

// %% [markdown]
// Every guarded form ends at exactly the expected count, in both runs. The "at once"
// column says why: without a lock, nearly every worker is inside the work at the same
// moment, each holding a stale read; with any of the three locks, never more than one.
// That one is also the cost, in the wall-time column: the guarded workers sleep one
// after another, so their run takes about workers × work, while the unguarded ones
// sleep side by side. Differences between the three guarded forms are noise from the
// machine: all three lock and unlock the same way, and the guard adds only one small
// object per `acquire()`. The unguarded stress count swings from run to run (it can even
// come out right), which is why the tests force its failure instead of hoping for it.
//
// ## Which one to use
//
// | you need | use |
// |---|---|
// | a short critical section inside one class | a `synchronized` block on a private lock object |
// | timeouts, interruptible waits, fairness or conditions | `ReentrantLock`: `lock()`, `try`, `finally` |
// | callers outside the class to reach shared data safely | a guard with try-with-resources, handing out no raw data |
// | one key updated from its old value, with no slow work | `ConcurrentHashMap.merge("count", 1, Integer::sum)` |
//
// ## Pitfalls
//
// - **Do not hand out the data.** A map, list or iterator that leaves the guarded block
//   is read and written without the lock. Hand out a guard that checks it is still held,
//   or a copy.
// - **Keep slow work outside the lock when you can.** Everything inside the lock runs
//   one worker at a time (the wall-time column above). Here the write depends on the
//   read, so the work must stay inside; when it does not, compute first, lock only to
//   read and write.
// - **A lock is not a transaction.** When the body throws, the lock is released, but
//   writes made before the throw stay. Validate first, or write last.
// - **A thread-safe map is not a thread-safe update.** Each `get` and `put` of the
//   `ConcurrentHashMap` above is atomic; the read-work-write between them is not.
// - **Call `acquire()` in the `try` header.** A guard taken on a line of its own is
//   never closed if anything throws before its `try` begins, and the lock is held for
//   ever. When the body does not use the guard, name it `_`
//   (`try (var _ = resource.acquire())`): javac's `-Xlint` then does not warn that the
//   resource is never referenced.
// - **Java's locks are reentrant, Python's `Lock` is not.** Acquiring the resource again
//   on the same thread deadlocks in the seed; here it just counts a second hold, and each
//   guard releases one.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `self._lock = threading.Lock()` | `new ReentrantLock()` (reentrant, like `threading.RLock`) |
// | `@contextmanager def acquire(self):` | `Guard acquire() { lock.lock(); return new Guard(); }` |
// | `try: yield self._data finally: self._lock.release()` | `Guard.close() { lock.unlock(); }`, called by the `try` |
// | `with resource.acquire() as data:` | `try (var data = resource.acquire()) { ... }` |
// | the dict, yielded by reference | a guard that checks it is open and on its owner thread |
// | `with self._lock:` | `synchronized (lock) { ... }`, or `lock()`, `try`, `finally` |
// | `self._lock.acquire(timeout=0.05)` | `lock.tryLock(50, MILLISECONDS)`, here `acquire(Duration)` |
// | `time.sleep(0.01)` | `Thread.sleep(10)` |
// | `threading.Thread(target=worker, args=(resource, i))` | `Thread.ofPlatform().start(() -> ...)` |
//
// The GIL does not save the seed's unguarded version: `time.sleep` releases it, so in
// CPython too every worker reads before any writes.
//
// Related lessons: `counter` (the same lost update on a single `count++`, and what the
// lock forms cost under contention).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line;
// a bad option prints one line and exits with status 2.

// %%
class shared_resource {
    static final String USAGE = """
            Usage: shared_resource [options]
              --workers N   workers sharing one resource (default 10)
              --work MS     work between read and write, in milliseconds (default 10)
              --runs N      runs of the unguarded update (default 3)
              --stress N    updates per worker in the stress run, no work (default 20000)
              --speed X     divides the work time: 2 = twice as fast (default 1)
              --help        print this and exit""";

    record Options(int workers, int work, int runs, int stress, double speed) {
        long workMillis() { return Math.round(work / speed); }
    }

    public static void main(String[] args) throws InterruptedException {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("shared_resource: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        System.out.println("== Without the lock ==");
        SlowCountRace.lostUpdates(o.workers(), o.workMillis(), o.runs());
        System.out.println("\n== The seed's program, with the guard ==");
        SharedResourceSeed.run(o.workers(), o.workMillis());
        System.out.println("\n== What the guard refuses ==");
        GuardRefusals.show(o.workMillis());
        System.out.println("\n== All four, side by side ==");
        CountForm.compare(o.workers(), o.workMillis(), o.stress());
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
                count("--workers", given.getOrDefault("--workers", "10")),
                count("--work", given.getOrDefault("--work", "10")),
                count("--runs", given.getOrDefault("--runs", "3")),
                count("--stress", given.getOrDefault("--stress", "20000")),
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
