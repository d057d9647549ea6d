///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Race conditions: check-then-act, and writes that are never seen
//
// A race condition is a bug whose result depends on how threads happen to interleave.
// The `counter` lesson showed the smallest one, `count++` losing updates, and four ways
// to fix it. The seed's advice, "always use locks for shared mutable state, or
// thread-safe data structures", has two traps that this lesson is about. First,
// *check-then-act*: every single call on a `ConcurrentHashMap` is thread-safe, but
// "get the count, then put count + 1" is two calls, and another thread can slip in
// between them. Second, *visibility*: a thread sets a plain `boolean` field to tell
// another thread to stop, and the other thread never sees the write, because nothing
// in the program obliges it to. Both failures are forced to happen below, on every
// run, then measured, then fixed: `merge` and `computeIfAbsent` make the check and the
// act one step per key, and `volatile` makes the write visible. The rule behind both,
// *happens-before*, is summed up at the end.
//
// Run it: `jbang race_conditions` from the repository root,
// `jbang jbang-scripts/race_conditions.java`, or with a bare JDK 25,
// `java jbang-scripts/race_conditions.java`. Try `--help`.

// %%
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import javax.tools.ToolProvider;

// %% [markdown]
// ## Waiting, with a limit
//
// Every wait in this lesson has a time limit, so a mistake ends in an error message,
// never in a hang. These two helpers are used throughout.

// %%
class RaceWaits {
    static final Duration PATIENCE = Duration.ofSeconds(30);

    /** Waits at the barrier; a seam calls this, so failures are unchecked. */
    static void await(CyclicBarrier barrier) {
        try {
            barrier.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted at the barrier", e);
        } catch (BrokenBarrierException | TimeoutException e) {
            throw new IllegalStateException("the other thread never came", e);
        }
    }

    /** Joins every thread, or throws if one is still running after PATIENCE. */
    static void joinAll(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            if (!t.join(PATIENCE)) {
                throw new IllegalStateException(t.getName() + " still running after "
                        + PATIENCE.toSeconds() + " s");
            }
        }
    }
}

// %% [markdown]
// ## Part 1: a thread-safe map, used unsafely
//
// Counting words is the classic job for a shared map. Every variant below implements
// the same small interface, so one harness can run them all.

// %%
interface WordTally {
    void add(String word);
    long count(String word);
    long total();
}

// %% [markdown]
// ### The broken version: get, then put
//
// `ConcurrentHashMap` is a thread-safe map: two threads calling `get` and `put` at the
// same time will never corrupt it. But counting one word takes two calls. `get` is the
// *check* (what is the count now?) and `put` is the *act* (store count + 1). The map
// makes each call safe on its own. It has no way to know that the two calls belong
// together, so another thread can run its own `get` and `put` in between. The same
// goes for `if (!map.containsKey(k)) map.put(k, v)`, `Collections.synchronizedMap`,
// and any other sequence of individually safe calls.
//
// Between the two calls sits a seam, `gap`. It does nothing in normal use. The replay
// below (and the tests) use it to hold a thread at exactly the wrong moment.

// %%
class GetThenPutTally implements WordTally {
    private final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();
    private final Runnable gap;  // a seam to force interleavings; no-op normally

    GetThenPutTally() { this(() -> { }); }
    GetThenPutTally(Runnable gap) { this.gap = gap; }

    public void add(String word) {
        Long seen = counts.get(word);                    // check: one safe call
        gap.run();                                       // (another thread may run here)
        counts.put(word, seen == null ? 1L : seen + 1);  // act: another safe call
    }

    public long count(String word) { return counts.getOrDefault(word, 0L); }
    public long total() {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }
}

// %% [markdown]
// ### Measuring the damage
//
// The harness starts `threads` threads at a barrier, so they all begin together. Each
// one counts the words of the same nine-word sentence `rounds` times. Then it joins
// them all. The sentence has eight distinct words ("the" appears twice), so every
// thread hammers the same few keys. Any total below `threads × rounds × 9` means lost
// counts.

// %%
class TallyRace {
    static final List<String> SENTENCE =
            List.of("the quick brown fox jumps over the lazy dog".split(" "));

    static WordTally run(WordTally tally, int threads, int rounds)
            throws InterruptedException {
        var start = new CyclicBarrier(threads);
        var workers = new ArrayList<Thread>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().name("tally-" + t).start(() -> {
                RaceWaits.await(start);
                for (int r = 0; r < rounds; r++) {
                    for (String word : SENTENCE) tally.add(word);
                }
            }));
        }
        RaceWaits.joinAll(workers);
        return tally;
    }

    static long expected(int threads, int rounds) {
        return (long) threads * rounds * SENTENCE.size();
    }

    static void lostCounts(int threads, int rounds, int runs)
            throws InterruptedException {
        long expected = expected(threads, rounds);
        int runsThatLost = 0;
        System.out.printf("%d threads x %,d rounds x %d words, expected %,d%n",
                threads, rounds, SENTENCE.size(), expected);
        for (int run = 1; run <= runs; run++) {
            WordTally tally = run(new GetThenPutTally(), threads, rounds);
            long lost = expected - tally.total();
            if (lost > 0) runsThatLost++;
            System.out.printf("  run %d: counted %,d, lost %,d (%.1f%%);"
                            + " \"the\": %,d of %,d%n",
                    run, tally.total(), lost, 100.0 * lost / expected,
                    tally.count("the"), 2L * threads * rounds);
        }
        System.out.printf("  %d of %d runs lost counts%n", runsThatLost, runs);
    }
}

// %% [run]
// TallyRace.lostCounts(4, 10_000, 3);

// %% [markdown]
// Every add that the output above calls lost was a `put` that overwrote another
// thread's `put` with a count computed from an older `get`. No exception, no warning,
// and a map that is "thread-safe" the whole time. How much is lost swings from run to
// run and from machine to machine.
//
// ## Check-then-act in slow motion
//
// To show *how* a count is lost, and to lose one on every run, a barrier is put in the
// seam. Thread A and thread B each add "the" once, and each must reach the gap before
// either may go on. So both run `get("the")` while the word is absent, and both then
// `put("the", 1)`. Two adds, and the count is 1.
//
// @diagram race_conditions-check-then-act

// %%
class TallyReplay {
    /** Two threads add "the" once each; both reach the seam before either goes on. */
    static long twoAdds(Function<Runnable, WordTally> kind) throws InterruptedException {
        var bothAtTheGap = new CyclicBarrier(2);
        WordTally tally = kind.apply(() -> RaceWaits.await(bothAtTheGap));
        Runnable addThe = () -> tally.add("the");
        RaceWaits.joinAll(List.of(
                Thread.ofPlatform().name("A").start(addThe),
                Thread.ofPlatform().name("B").start(addThe)));
        return tally.count("the");
    }

    static long replayBroken() throws InterruptedException {
        long count = twoAdds(GetThenPutTally::new);
        System.out.println("A and B add \"the\" once each, held between get and put:");
        System.out.println("  count of \"the\" = " + count + " (one add lost)");
        return count;
    }
}

// %% [run]
// long theCount = TallyReplay.replayBroken();

// %% [markdown]
// ## Fix 1: `merge`, one atomic step per key
//
// `ConcurrentHashMap.merge(word, 1L, Long::sum)` does the check and the act in one call.
// It stores 1 if the word is absent, otherwise `Long.sum(old, 1)`. It runs atomically
// *for that key*: it locks only the one bin of the table that holds the key, so threads
// counting different words rarely wait for each other. `compute` and
// `computeIfPresent` are the general forms, and a function that returns `null`
// removes the entry. This is the smallest fix: one line instead of two.
//
// In this variant and the next two, the seam sits just *before* the update. The check
// and the act are now a single step, so there is no gap to hold a thread in. The replay
// can only make both threads arrive at the same moment.

// %%
class MergeTally implements WordTally {
    private final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();
    private final Runnable gap;

    MergeTally() { this(() -> { }); }
    MergeTally(Runnable gap) { this.gap = gap; }

    public void add(String word) {
        gap.run();
        counts.merge(word, 1L, Long::sum);  // check and act in one call, atomic per key
    }

    public long count(String word) { return counts.getOrDefault(word, 0L); }
    public long total() {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }
}

// %% [markdown]
// ## Fix 2: `computeIfAbsent` and a `LongAdder` per key
//
// A hot key (here "the") still makes every `merge` on it queue for that key's bin.
// `computeIfAbsent(word, w -> new LongAdder())` creates the counter for a word exactly
// once and returns the same one to every thread. `increment()` then runs on the adder,
// outside the map, with the contention-spreading cells from the `counter` lesson. This
// is the usual shape of a concurrent histogram or metrics map. Once a word exists, the
// map is only read, which needs no lock at all.

// %%
class AdderTally implements WordTally {
    private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();
    private final Runnable gap;

    AdderTally() { this(() -> { }); }
    AdderTally(Runnable gap) { this.gap = gap; }

    public void add(String word) {
        gap.run();
        counts.computeIfAbsent(word, w -> new LongAdder()).increment();
    }

    public long count(String word) {
        LongAdder adder = counts.get(word);
        return adder == null ? 0 : adder.sum();
    }

    public long total() {
        return counts.values().stream().mapToLong(LongAdder::sum).sum();
    }
}

// %% [markdown]
// ## Fix 3: one lock around the check and the act
//
// The seed's advice, taken literally: hold one lock for the whole sequence. With the
// `get` and the `put` inside one `synchronized` block, no other thread can run between
// them, and a plain `HashMap` is enough, because every access to it holds the lock.
// This is the fix to reach for when one update touches *several* keys or several
// structures at once. The cost is that every word, on every key, waits for the same
// lock.

// %%
class LockedTally implements WordTally {
    private final Map<String, Long> counts = new HashMap<>();  // guarded by this
    private final Runnable gap;

    LockedTally() { this(() -> { }); }
    LockedTally(Runnable gap) { this.gap = gap; }

    public void add(String word) {
        gap.run();            // outside the lock: holding it here would block the other
        synchronized (this) {
            Long seen = counts.get(word);
            counts.put(word, seen == null ? 1L : seen + 1);
        }
    }

    public synchronized long count(String word) { return counts.getOrDefault(word, 0L); }
    public synchronized long total() {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }
}

// %% [markdown]
// ## All four, side by side
//
// First the slow-motion replay again, now for every variant: two threads, one add of
// "the" each, both arriving together. Then the measured run for each variant, with its
// total and its time relative to the fastest correct variant. All four run in one
// process, three times each in turn, and the best of the three times is kept. On a
// busy 2-core machine the ratios, and even the order of the middle rows, swing from
// run to run: take them as a rough picture (the `profiling` lesson measures properly,
// with JMH). The broken variant's count is from its last run.

// %%
record TallyKind(String name, Function<Runnable, WordTally> factory) {
    static final List<TallyKind> ALL = List.of(
            new TallyKind("get then put", GetThenPutTally::new),
            new TallyKind("merge", MergeTally::new),
            new TallyKind("computeIfAbsent+LongAdder", AdderTally::new),
            new TallyKind("synchronized get/put", LockedTally::new));

    WordTally create() { return factory.apply(() -> { }); }

    static void replayAll() throws InterruptedException {
        System.out.println("two threads add \"the\" once each, arriving together:");
        for (TallyKind kind : ALL) {
            System.out.printf("  %-26s count = %d%n",
                    kind.name(), TallyReplay.twoAdds(kind.factory()));
        }
    }

    static void costs(int threads, int rounds) throws InterruptedException {
        var nanos = new long[ALL.size()];
        var totals = new long[ALL.size()];
        Arrays.fill(nanos, Long.MAX_VALUE);
        for (int round = 0; round < 3; round++) {  // best of three; the first warms up
            for (int i = 0; i < ALL.size(); i++) {
                long start = System.nanoTime();
                totals[i] = TallyRace.run(ALL.get(i).create(), threads, rounds).total();
                nanos[i] = Math.min(nanos[i], System.nanoTime() - start);
            }
        }
        long fastestCorrect = Long.MAX_VALUE;
        for (int i = 1; i < nanos.length; i++) {  // index 0 is the broken variant
            fastestCorrect = Math.min(fastestCorrect, nanos[i]);
        }
        System.out.printf("%d threads x %,d rounds, expected %,d%n",
                threads, rounds, TallyRace.expected(threads, rounds));
        System.out.printf("  %-26s %12s %16s%n", "variant", "counted", "time vs fastest");
        for (int i = 0; i < ALL.size(); i++) {
            System.out.printf("  %-26s %,12d %15.1fx%n",
                    ALL.get(i).name(), totals[i], (double) nanos[i] / fastestCorrect);
        }
    }
}

// %% [run]
// TallyKind.replayAll();
// TallyKind.costs(4, 10_000);

// %% [markdown]
// ## The other check-then-act: create if absent
//
// The second common shape is "if there is no value for this key yet, make one". Think
// of a cache, a connection per host, or, as here, one lock per account. It is the
// shape where a lost race does the most harm. Two threads that ask for the lock of the
// same account must get *the same* lock, or the lock excludes nothing. Three versions:
//
// - **check then act**: `get`, and if it returns `null`, create a lock and `put` it.
//   Two threads that both see `null` both create a lock, and each returns its own.
// - **`putIfAbsent`**: create a candidate, then `putIfAbsent(key, candidate)`, which
//   stores it only if the key is still absent and otherwise returns the value that won.
//   Every caller uses the winner, so all callers agree. But a losing candidate was
//   created for nothing. That is fine for a cheap value. It is wrong if creating one
//   has side effects, such as opening a connection or starting a thread.
// - **`computeIfAbsent`**: the map calls your function only if the key is absent,
//   and holds the key's bin while it runs. The value is created once, and everyone gets
//   it.
//
// The seam sits where each version has its gap: after the `get` for the first two,
// and before the single call for `computeIfAbsent`, which has no gap.

// %%
abstract class PerKeyLocks {
    final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    final AtomicInteger created = new AtomicInteger();
    final Runnable gap;  // a seam to force interleavings; no-op normally

    PerKeyLocks(Runnable gap) { this.gap = gap; }

    abstract ReentrantLock lockFor(String key);

    ReentrantLock newLock() {
        created.incrementAndGet();
        return new ReentrantLock();
    }
}

class CheckThenActLocks extends PerKeyLocks {
    CheckThenActLocks(Runnable gap) { super(gap); }

    ReentrantLock lockFor(String key) {
        ReentrantLock lock = locks.get(key);
        if (lock == null) {        // check: absent...
            gap.run();
            lock = newLock();
            locks.put(key, lock);  // ...act: another thread may have put one meanwhile
        }
        return lock;
    }
}

class PutIfAbsentLocks extends PerKeyLocks {
    PutIfAbsentLocks(Runnable gap) { super(gap); }

    ReentrantLock lockFor(String key) {
        ReentrantLock lock = locks.get(key);
        if (lock != null) return lock;       // the usual case: no allocation
        gap.run();
        ReentrantLock candidate = newLock();  // may be thrown away
        ReentrantLock winner = locks.putIfAbsent(key, candidate);
        return winner != null ? winner : candidate;
    }
}

class ComputeIfAbsentLocks extends PerKeyLocks {
    ComputeIfAbsentLocks(Runnable gap) { super(gap); }

    ReentrantLock lockFor(String key) {
        gap.run();
        return locks.computeIfAbsent(key, k -> newLock());  // created at most once
    }
}

// %% [markdown]
// The replay below: threads A and B ask for the lock of "acct-42" at the same moment,
// held at the seam until both are there. For each version it prints how many locks
// were created, and whether A and B got the same one.

// %%
class PerKeyLocksReplay {
    static final String KEY = "acct-42";

    record Result(int created, boolean sameLock) { }

    static Result twoCallers(Function<Runnable, PerKeyLocks> kind)
            throws InterruptedException {
        var bothAtTheGap = new CyclicBarrier(2);
        PerKeyLocks table = kind.apply(() -> RaceWaits.await(bothAtTheGap));
        var got = new ReentrantLock[2];
        RaceWaits.joinAll(List.of(
                Thread.ofPlatform().name("A").start(() -> got[0] = table.lockFor(KEY)),
                Thread.ofPlatform().name("B").start(() -> got[1] = table.lockFor(KEY))));
        return new Result(table.created.get(), got[0] == got[1]);  // join: writes visible
    }

    static void replayAll() throws InterruptedException {
        System.out.println("A and B ask for the lock of \"acct-42\" at the same moment:");
        var kinds = List.<Map.Entry<String, Function<Runnable, PerKeyLocks>>>of(
                Map.entry("check then act", CheckThenActLocks::new),
                Map.entry("putIfAbsent", PutIfAbsentLocks::new),
                Map.entry("computeIfAbsent", ComputeIfAbsentLocks::new));
        for (var kind : kinds) {
            Result r = twoCallers(kind.getValue());
            System.out.printf("  %-16s locks created: %d; A and B got one lock: %s%n",
                    kind.getKey(), r.created(), r.sameLock());
        }
    }
}

// %% [run]
// PerKeyLocksReplay.replayAll();

// %% [markdown]
// With check-then-act, A and B each hold "the" lock of acct-42, but they hold
// *different* locks. Both can lock at once, and whatever the lock was meant to protect
// is unprotected. `putIfAbsent` gives them the same lock but created one too many.
// `computeIfAbsent` created exactly one.
//
// ## Part 2: visibility, a write that is never seen
//
// Check-then-act is about *when* threads act. Visibility is about *whether* one thread
// sees what another wrote at all. Take the simplest way to stop a worker: a `boolean`
// field that the worker checks on every turn of its loop, and that `main` sets to
// `true`. If the field is not `volatile`, the Java Memory Model does not oblige the
// worker ever to see the write. The JIT compiler (C2, in HotSpot) makes use of that.
// It sees a loop that never writes the field, reads the field once before the loop,
// and keeps the value in a register. The compiled loop never reads the field again,
// so it spins forever. The Java Language Specification (§17.3) describes exactly this:
// the compiler is free to read a non-volatile field once and reuse the value, and
// then the loop never ends.
//
// Running this in the lesson's own JVM would leave a thread spinning forever. Java has
// no way to kill a thread, and this one would ignore an interrupt. So the program runs
// in a **child JVM**, which can be killed. The text block below is its source. The
// parent compiles it once with the JDK's own compiler (`javax.tools`), starts it with
// `java`, waits for its verdict with a time limit, and destroys it if it is still
// alive. The plain-flag child and the volatile-flag child run side by side, three
// times.
//
// The loop only misbehaves once the JIT has compiled it, so the child makes sure of
// that first:
//
// - the `spinner` thread first runs `spin` 20,000 times with a small `limit`. That
//   makes the method hot, and C2 compiles it. The child JVM runs with
//   `-XX:CompileCommand=BackgroundCompilation,StopFlagChild::*,false`, so the
//   spinner waits for each compilation to finish instead of going on in the
//   interpreter. After the warm-up, `spin` is compiled code, whatever the load on the
//   machine.
// - then it calls `spin` with a `limit` it will never reach (146 years at a billion
//   turns a second).
// - `main` waits until the spinner's stack trace shows it inside that loop, so the
//   spinner has read the flag at least once. Only then does `main` set the flag.
//   `-XX:+UseCountedLoopSafepoints -XX:LoopStripMiningIter=1000` (the defaults with
//   G1, but not with every garbage collector) keep a safepoint poll in the compiled
//   loop, so the stack trace can be taken.
// - `main` then joins the spinner with a time limit and prints `stopped <µs>` or
//   `running <µs>`. Then `main` returns, and the JVM exits only if no other
//   non-daemon thread is still running.
//
// The same child has a `volatile` flag and an identical loop that reads it. An
// argument picks which one runs.

// %%
class StaleFlag {
    enum Flag { PLAIN, VOLATILE }

    /** One child run: did the spinner stop, how soon after the write, did its JVM end. */
    record Outcome(Flag flag, boolean stopped, long micros, boolean jvmExited) { }

    static final String CHILD = """
            import java.time.Duration;
            import java.util.concurrent.CountDownLatch;
            import java.util.concurrent.TimeUnit;

            public class StopFlagChild {
                static boolean plainStop;              // the bug: a plain field
                static volatile boolean volatileStop;  // the fix

                static long spinPlain(long limit) {
                    long n = 0;
                    while (!plainStop && n < limit) n++;
                    return n;
                }

                static long spinVolatile(long limit) {
                    long n = 0;
                    while (!volatileStop && n < limit) n++;
                    return n;
                }

                static long spin(boolean plain, long limit) {
                    return plain ? spinPlain(limit) : spinVolatile(limit);
                }

                public static void main(String[] args) throws Exception {
                    boolean plain = args[0].equals("plain");
                    var warm = new CountDownLatch(1);
                    Thread spinner = Thread.ofPlatform().name("spinner").start(() -> {
                        for (int i = 0; i < 20_000; i++) spin(plain, 1_000);  // hot
                        warm.countDown();
                        spin(plain, 1L << 62);  // never reaches the limit
                    });
                    if (!warm.await(60, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("warm-up did not finish");
                    }
                    String loop = plain ? "spinPlain" : "spinVolatile";
                    while (!inside(spinner, loop)) Thread.onSpinWait();
                    if (plain) plainStop = true; else volatileStop = true;
                    long start = System.nanoTime();
                    var patience = Duration.ofMillis(Long.parseLong(args[1]));
                    boolean stopped = spinner.join(patience);
                    long micros = (System.nanoTime() - start) / 1_000;
                    System.out.println((stopped ? "stopped " : "running ") + micros);
                }  // a spinner still running keeps this JVM alive after main returns

                static boolean inside(Thread t, String method) {
                    StackTraceElement[] stack = t.getStackTrace();
                    if (!t.isAlive()) throw new IllegalStateException("spinner ended");
                    return stack.length > 0 && stack[0].getMethodName().equals(method);
                }
            }
            """;

    static final Duration CHILD_BUDGET = Duration.ofSeconds(60);  // start-up, warm-up
    private static Path classes;  // the child, compiled once per JVM

    static synchronized Path compiledChild() throws IOException {
        if (classes != null) return classes;
        var javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) throw new IllegalStateException("needs a JDK, not a JRE");
        Path dir = Files.createTempDirectory("race_conditions");
        dir.toFile().deleteOnExit();  // registered first, so deleted last
        Path source = Files.writeString(dir.resolve("StopFlagChild.java"), CHILD);
        var errors = new ByteArrayOutputStream();
        int status = javac.run(null, null, errors,
                "-d", dir.toString(), source.toString());
        try (var files = Files.list(dir)) {
            files.forEach(f -> f.toFile().deleteOnExit());
        }
        if (status != 0) throw new IllegalStateException("javac failed: " + errors);
        return classes = dir;
    }

    /** Runs the child JVM once; it is dead (exited or destroyed) when this returns. */
    static Outcome run(Flag flag, long patienceMillis)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java,
                "-XX:CompileCommand=quiet",
                "-XX:CompileCommand=BackgroundCompilation,StopFlagChild::*,false",
                "-XX:+UseCountedLoopSafepoints", "-XX:LoopStripMiningIter=1000",
                "-cp", compiledChild().toString(), "StopFlagChild",
                flag.name().toLowerCase(Locale.ROOT), String.valueOf(patienceMillis))
                .redirectErrorStream(true).start();
        try (var reader = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                Future<String> line = reader.submit(() -> child.inputReader().readLine());
                String verdict = line.get(CHILD_BUDGET.toMillis() + patienceMillis,
                        TimeUnit.MILLISECONDS);
                if (verdict == null || !verdict.matches("(stopped|running) \\d+")) {
                    throw new IllegalStateException("the child JVM said: " + verdict);
                }
                boolean stopped = verdict.startsWith("stopped");
                long micros = Long.parseLong(verdict.substring(verdict.indexOf(' ') + 1));
                // main has returned: the JVM ends only if no spinner is left running
                long grace = stopped ? 10_000 : 100;
                boolean exited = child.waitFor(grace, TimeUnit.MILLISECONDS);
                return new Outcome(flag, stopped, micros, exited);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("the child JVM gave no verdict", e);
            } finally {
                if (child.isAlive()) {
                    child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    static String describe(Outcome o) {
        String spinner = o.stopped()
                ? String.format("stopped after %.2f ms", o.micros() / 1000.0)
                : String.format("still running at %,d ms", o.micros() / 1000);
        String jvm = o.jvmExited() ? "exited" : "did not exit: killed";
        return String.format("%-9s %-28s %s",
                o.flag().name().toLowerCase(Locale.ROOT), spinner, jvm);
    }

    /** Runs the plain and the volatile child side by side, `runs` times. */
    static void demo(int runs, long patienceMillis)
            throws IOException, InterruptedException {
        compiledChild();
        var stops = new HashMap<Flag, Integer>();
        System.out.printf("  %-4s %-9s %-28s %s%n",
                "run", "flag", "spinner, after stop = true", "child JVM");
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int run = 1; run <= runs; run++) {
                var outcomes = new ArrayList<Future<Outcome>>();
                for (Flag flag : Flag.values()) {
                    outcomes.add(pool.submit(() -> run(flag, patienceMillis)));
                }
                for (Future<Outcome> f : outcomes) {
                    Outcome o = outcome(f, patienceMillis);
                    if (o.stopped()) stops.merge(o.flag(), 1, Integer::sum);
                    System.out.printf("  %-4d %s%n", run, describe(o));
                }
            }
        }
        System.out.printf("  plain flag: still running in %d of %d runs;"
                        + " volatile flag: stopped in %d of %d runs%n",
                runs - stops.getOrDefault(Flag.PLAIN, 0), runs,
                stops.getOrDefault(Flag.VOLATILE, 0), runs);
    }

    private static Outcome outcome(Future<Outcome> f, long patienceMillis)
            throws InterruptedException {
        try {  // run() bounds itself; this limit is a second line of defence
            return f.get(CHILD_BUDGET.toMillis() + patienceMillis + 30_000,
                    TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a child run failed", e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("a child run never finished", e);
        }
    }
}

// %% [run]
// StaleFlag.demo(3, 1_000);

// %% [markdown]
// In the table above, the plain-flag spinner is still running at the end of each
// wait. Its JVM could not even exit after `main` returned, because a non-daemon thread
// was still spinning, so the parent had to kill it. The `volatile` spinner stopped
// soon after the flag was set. The hang is not promised on every JVM. Another JIT, or
// an interpreter, may read the field again and stop. The specification allows both,
// so code must not depend on either.
//
// ## Fix: `volatile`, `AtomicBoolean`, or interruption
//
// - **`volatile boolean stop`**: the JIT may not keep a volatile field in a register
//   or hoist its read out of a loop. Each read sees the latest write to the field. A
//   volatile write *happens-before* every later read of the same field, so the
//   spinner also sees everything `main` wrote before it set the flag. This is the
//   whole fix for the child above: one keyword.
// - **`AtomicBoolean`**: the same visibility guarantee, plus `compareAndSet`, for when
//   several threads race to be the one that stops something
//   (`if (stopping.compareAndSet(false, true)) cleanUp();`).
// - **Interruption**: the idiomatic stop signal for a thread is `thread.interrupt()`,
//   checked with `Thread.currentThread().isInterrupted()`. It is visible across
//   threads just like a volatile flag. It also wakes a thread that is blocked in
//   `sleep`, `wait`, `join` or a blocking queue, which a flag cannot do. See the
//   `threads` lesson for the protocol (and for the catch block that loses it).
//
// What does *not* fix it: `Thread.sleep` or `Thread.yield` in the loop, which have no
// synchronization semantics at all (JLS §17.3), or a `System.out.println` in the loop.
// That one usually makes the hang go away, because `println` takes a lock. The bug is
// still there, waiting for the debug line to be removed.
//
// ## Happens-before, in one paragraph
//
// Both parts of this lesson come down to one rule. A thread is guaranteed to see
// another thread's write only if the write *happens-before* the read. The Java Memory
// Model (JLS §17.4.5) creates that ordering in a few ways:
//
// - **program order**: within one thread, each action happens-before the next.
// - **monitor lock**: unlocking a monitor happens-before every later lock of the same
//   monitor (and `ReentrantLock` gives the same guarantee).
// - **`volatile`**: a write to a volatile field happens-before every later read of that
//   field.
// - **`Thread.start`**: `start()` happens-before everything the started thread does.
// - **`Thread.join`**: everything a thread does happens-before another thread's
//   `join()` on it returns.
// - **`java.util.concurrent`**: putting an object into a concurrent collection
//   happens-before another thread reads or removes it. Submitting a task
//   happens-before the task runs, and the task happens-before `Future.get()` returns.
//   `countDown()` happens-before a successful `await()` returns, `release()` before
//   `acquire()`, and `CyclicBarrier.await()` in one thread before the others return
//   from theirs.
//
// The ordering is transitive: chain two edges and the first action happens-before the
// last. `TallyRace` reads the totals after `join`, and `PerKeyLocksReplay` reads its
// `got` array after `join`. That is why they see every write the workers made, with no
// `volatile` in sight. The plain-flag spinner has no such chain from `main`'s write to
// its read, so it is allowed never to see it. Happens-before gives only visibility and
// ordering, not atomicity: a `volatile` field still loses `count++` updates (see
// `counter`), and it cannot make get-then-put one step.
//
// @diagram race_conditions-happens-before
//
// ## Which one to use
//
// | you need | use |
// |---|---|
// | a count per key | `map.merge(key, 1L, Long::sum)` on a `ConcurrentHashMap` |
// | a count per key, with a few very hot keys | `map.computeIfAbsent(key, k -> new LongAdder()).increment()` |
// | one value per key, made once (cache, per-key lock) | `computeIfAbsent(key, k -> make(k))`, with a short function |
// | insert a cheap value if absent, and agree on the winner | `putIfAbsent(key, value)`, using its return value |
// | a new value from the old one, or removal | `compute` / `computeIfPresent` (return `null` to remove) |
// | one update across several keys or several structures | one lock (`synchronized`) around the whole sequence |
// | a stop signal | interruption, or a `volatile boolean` / `AtomicBoolean` |
// | a one-off hand-over of a value | a happens-before edge: `join`, a `Future`, a queue, a latch |
//
// ## Pitfalls
//
// - **Thread-safe calls do not make a thread-safe sequence.** `containsKey` then `put`,
//   `get` then `put`, `isEmpty()` then `remove()`, and `size()` then anything are all
//   check-then-act. Use the map's single-call operation, or a lock around the sequence.
// - **`Collections.synchronizedMap` is no better.** It locks each call, not the pair.
//   Its javadoc already makes you hold `synchronized (map)` yourself while iterating,
//   and a compound action needs the same.
// - **Keep `computeIfAbsent` functions short.** The function runs while the key's bin
//   is locked, so other threads updating nearby keys wait for it. Never modify the
//   same map from inside it. The javadoc forbids it, and `ConcurrentHashMap` may
//   throw `IllegalStateException: Recursive update`.
// - **`putIfAbsent` can create a value for nothing.** Use it when the value is cheap
//   and has no side effects, and always use the value it returns.
// - **The visibility bug hides in tests.** It needs the JIT to compile the loop, so it
//   shows up after warm-up, in production, under load. A short test or a debugger
//   run in the interpreter sees the write and passes. Make the flag `volatile` (or use
//   interruption) on sight, rather than waiting to see it fail.
// - **`volatile` is not a lock.** It fixes visibility of single reads and writes.
//   Read-modify-write (`count++`, `if (!x) x = true`) still needs an atomic or a lock.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `with lock: d[k] = d.get(k, 0) + 1` | `map.merge(k, 1L, Long::sum)`, or `synchronized` around get and put |
// | `collections.Counter` behind a lock | `ConcurrentHashMap<String, LongAdder>` |
// | `d.setdefault(k, v)` | `map.putIfAbsent(k, v)` (returns the old value, or `null`) |
// | `if k not in d: d[k] = make(k)` | `map.computeIfAbsent(k, key -> make(key))` |
// | `stop = threading.Event()`, `stop.set()`, `stop.is_set()` | `volatile boolean`, `AtomicBoolean`, or `interrupt()` |
// | (no visibility problem under the GIL) | visibility only through happens-before |
//
// In CPython, `d[k] = d.get(k, 0) + 1` is several bytecodes, so a thread switch between
// them loses an update exactly as in Java. There are just fewer switches. Visibility is
// the part Python programmers have never had to think about. Under the GIL, a thread
// that gets the interpreter sees every write made before the switch, so a plain
// attribute works as a stop flag. In Java, a read with no happens-before edge to the
// write may see a stale value forever.
//
// Related lessons: `counter` (the lost update on `count++`, and its four fixes),
// `shared_resource` (a lock guard with try-with-resources), `threads` (interruption,
// and `join` as a happens-before edge), `singleton` (safe publication and `volatile`
// in double-checked locking), `event` (waiting for a signal instead of spinning on a
// flag), `profiling` (measuring these variants properly).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line;
// a bad option prints one line and exits with status 2.

// %%
class race_conditions {
    static final String USAGE = """
            Usage: race_conditions [options]
              --threads N     threads counting words into one map (default 4)
              --rounds N      times each thread counts the sentence (default 10000)
              --runs N        runs of the broken tally and of each child JVM (default 3)
              --patience MS   how long to wait for a spinner to stop (default 1000)
              --speed X       divides the patience, down to 100 ms (default 1)
              --help          print this and exit""";

    record Options(int threads, int rounds, int runs, int patienceMillis, double speed) {
        long patience() { return Math.max(100, Math.round(patienceMillis / speed)); }
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("race_conditions: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        System.out.println("== Part 1: a thread-safe map, used unsafely ==");
        TallyRace.lostCounts(o.threads(), o.rounds(), o.runs());
        System.out.println("\n== Check-then-act in slow motion ==");
        TallyReplay.replayBroken();
        System.out.println("\n== All four, side by side ==");
        TallyKind.replayAll();
        System.out.println();
        TallyKind.costs(o.threads(), o.rounds());
        System.out.println("\n== The other check-then-act: create if absent ==");
        PerKeyLocksReplay.replayAll();
        System.out.println("\n== Part 2: visibility, a write that is never seen ==");
        StaleFlag.demo(o.runs(), o.patience());
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
                count("--threads", given.getOrDefault("--threads", "4")),
                count("--rounds", given.getOrDefault("--rounds", "10000")),
                count("--runs", given.getOrDefault("--runs", "3")),
                count("--patience", given.getOrDefault("--patience", "1000")),
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
