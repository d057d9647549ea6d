///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Race conditions: check-then-act, and one atomic step per key
//
// Every call on a `ConcurrentHashMap` is thread-safe, yet counting words with `get` and
// then `put` loses counts: each call is safe, the pair is not. This lesson makes it lose
// counts, replays one loss step by step, and fixes it with a lock, with the map's own
// one-step updates, and with atomics.
//
// **You will learn**
// - why a sequence of thread-safe calls is not thread-safe (check-then-act)
// - `merge`, `compute` and `computeIfAbsent`: the check and the act as one step per key
// - when a lock around the whole sequence is the fix, and what an atomic adds
// - what each of those map methods locks, read from the JDK's source
// - to force a race with a seam and latches, so it shows on every run

// %%
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.function.*;
import java.util.stream.*;

// %% [markdown]
// ## The broken tally: get, then put
//
// A word count is a map from each word to how often it was seen. On a
// `ConcurrentHashMap` each `get`, `put` or `merge` is atomic, so two threads calling
// `get` and `put` at once never corrupt it. But counting a word takes two calls: `get`
// is the *check* (what is the count now?) and `put` the *act* (store it plus one). The
// map cannot know that the two belong together, so another thread's `get` and `put` can
// run between them, and one of the two `put`s overwrites the other. Between the calls
// sits a *seam*, `afterGet`: it does nothing in normal use; the replay and the tests
// use it to hold a thread there.

// %%
interface WordTally { void add(String word); long count(String word); }

class GetThenPutTally implements WordTally {
    private final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();
    private final Consumer<Long> afterGet;  // a seam for forcing interleavings

    GetThenPutTally() { this(seen -> { }); }
    GetThenPutTally(Consumer<Long> afterGet) { this.afterGet = afterGet; }

    public void add(String word) {
        Long seen = counts.get(word);                    // check: one safe call
        afterGet.accept(seen);                           // (another thread may run here)
        counts.put(word, seen == null ? 1L : seen + 1);  // act: another safe call
    }

    public long count(String word) { return counts.getOrDefault(word, 0L); }
}

// %% [markdown]
// ## The race, at full speed
//
// Four threads wait at a latch, then each counts the words of the same sentence 10,000
// times: 360,000 words, on only eight distinct keys ("the" appears twice), so the
// threads collide on the same keys all the time. `join()` makes each worker's writes
// visible to the thread that joins it (see `visibility`), so a short total means lost
// counts, not stale reads. Nearly every run loses thousands of counts, a different
// number each time: no exception, no warning, and a "thread-safe" map the whole time.
// One stale `put` can erase many counts at once: a thread paused between its `get` and
// its `put` (by the scheduler, on a busy core) overwrites every count the others added
// to that word meanwhile. So even one core, where the threads only take turns, can lose
// counts.

// %%
class TallyRace {
    static final List<String> SENTENCE =
            List.of("the quick brown fox jumps over the lazy dog".split(" "));
    static final int THREADS = 4, ROUNDS = 10_000;
    static final long WORDS = (long) THREADS * ROUNDS * SENTENCE.size();

    /** THREADS threads each add the SENTENCE's words ROUNDS times; returns the total. */
    static long run(WordTally tally) throws InterruptedException {
        var go = new CountDownLatch(1);
        var workers = new ArrayList<Thread>();
        for (int t = 0; t < THREADS; t++) {
            workers.add(Thread.ofPlatform().name("worker-" + t).start(() -> {
                await(go, 10_000);
                for (int r = 0; r < ROUNDS; r++) SENTENCE.forEach(tally::add);
            }));
        }
        go.countDown();
        for (Thread worker : workers) worker.join();
        return SENTENCE.stream().distinct().mapToLong(tally::count).sum();
    }

    static void lostCounts(int runs) throws InterruptedException {
        System.out.printf("%d threads x %,d sentences of %d words: %,d words%n",
                THREADS, ROUNDS, SENTENCE.size(), WORDS);
        for (int run = 1; run <= runs; run++) {
            long counted = run(new GetThenPutTally());
            System.out.printf("  run %d: counted %,d, lost %,d%n",
                    run, counted, WORDS - counted);
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
// TallyRace.lostCounts(3);

// %% [markdown]
// ## One lost count in slow motion
//
// Counting after the fact shows *that* counts vanish; this replay shows *how*, and
// forces it on every run. Thread A waits in the seam, between its `get` and its `put`,
// for the latch `bIsDone`; the replay's own thread starts B once A has checked, joins
// B, and only then opens it. Both saw "the" absent, both store 1: two adds, count 1.
// If B cannot finish while A is held, the replay throws. The pauses are only for the
// audience: `--speed` scales them and the time limits that guard them.
//
// @diagram race_conditions-check-then-act

// %%
class TallyReplay {
    static long replay(long pauseMillis) throws InterruptedException {
        var limit = Duration.ofMillis(10_000 + 4 * pauseMillis);
        var aHasChecked = new CountDownLatch(1);
        var bIsDone = new CountDownLatch(1);
        var aWasHeld = new AtomicBoolean();
        var tally = new GetThenPutTally(seen -> {
            String me = Thread.currentThread().getName();
            step(pauseMillis, me + ": get(\"the\") returns " + seen);
            if (me.equals("A")) {  // A: checked only, held until B is done
                aHasChecked.countDown();
                TallyRace.await(bIsDone, 2 * limit.toMillis());  // throws if too late
                aWasHeld.set(true);
            }
        });
        Thread a = Thread.ofPlatform().name("A").start(() -> {
            tally.add("the");
            step(pauseMillis, "A: put(\"the\", 1), from its stale check");
        });
        TallyRace.await(aHasChecked, limit.toMillis());
        Thread b = Thread.ofPlatform().name("B").start(() -> {
            tally.add("the");
            step(pauseMillis, "B: put(\"the\", 1)");
        });
        boolean bFinished = b.join(limit);  // while A is still held
        bIsDone.countDown();
        boolean bothEnded = a.join(limit) & b.join(limit);
        if (!bFinished || !aWasHeld.get() || !bothEnded) {
            throw new IllegalStateException("B could not add while A was held");
        }
        System.out.println("two adds of \"the\", count " + tally.count("the"));
        return tally.count("the");
    }

    static void step(long pauseMillis, String what) {
        System.out.println("  " + what);
        try {
            Thread.sleep(pauseMillis);  // pacing for people, not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

// %% [run]
// long theCount = TallyReplay.replay(400);

// %% [markdown]
// ## Fix 1: one lock around the check and the act
//
// The seed's advice, taken literally: hold one lock for the whole sequence. With `add`
// `synchronized`, no thread can run between the `get` and the `put`, and a plain
// `HashMap` is enough, since every access to it, reads included, holds the lock. This
// is the fix when one update touches *several* keys or structures at once. Its cost:
// every thread waits for the same lock, whatever word it counts.

// %%
class LockedTally implements WordTally {
    private final Map<String, Long> counts = new HashMap<>();  // guarded by this

    public synchronized void add(String word) {
        Long seen = counts.get(word);
        counts.put(word, seen == null ? 1L : seen + 1);
    }

    public synchronized long count(String word) { return counts.getOrDefault(word, 0L); }
}

// %% [markdown]
// ## Fix 2: `merge` and `compute`, one step per key
//
// `counts.merge(word, 1L, Long::sum)` does the check and the act in one call: it stores
// 1 if the word is absent, else `Long.sum(old, 1)`, atomically for that key. The table
// is an array of *bins*, each holding the keys that hash to it. Read from JDK 25's
// source: when the word's bin is empty, `merge` puts the new entry there with one
// compare-and-set (CAS), no lock and no call to `Long::sum`; otherwise it locks that one
// bin (`synchronized` on its first entry) while it looks for the key, applies the
// function if the key is there, and else appends the new entry without calling it.
// Threads counting words in different bins take different locks (while the table
// grows, a thread moving a bin locks it too).
// `compute(word, (w, n) -> n == null ? 1L : n + 1)` is the general form (it always
// locks the bin, an empty one through a placeholder entry), and a function returning
// `null` removes the entry. The diagram shows two threads adding "the" to an empty bin.
//
// @diagram race_conditions-merge

// %%
class MergeTally implements WordTally {
    private final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();

    public void add(String word) { counts.merge(word, 1L, Long::sum); }
    public long count(String word) { return counts.getOrDefault(word, 0L); }
}

class ComputeTally implements WordTally {
    private final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();

    public void add(String word) {
        counts.compute(word, (w, n) -> n == null ? 1L : n + 1);
    }
    public long count(String word) { return counts.getOrDefault(word, 0L); }
}

// %% [markdown]
// ## Fix 3: `computeIfAbsent` and an atomic per key
//
// A hot key (here "the") makes every `merge` on it wait for that key's bin.
// `computeIfAbsent(word, w -> new LongAdder())` makes the counter for a word once, and
// hands the same one to every thread; `increment()` then runs on the `LongAdder`
// (see `counter`), outside the map. The two steps are safe together because the adder,
// once in the map, is never replaced. What each method locks, read from JDK 25's
// source ("lock": `synchronized` on the bin's first entry, or on a placeholder put in
// an empty bin; a bin grown into a tree counts as "deeper"):
//
// | method | key absent | key first in its bin | key deeper in its bin |
// |---|---|---|---|
// | `get` | no lock | no lock | no lock |
// | `merge` | empty bin: one CAS; else lock | lock | lock |
// | `compute` | lock | lock | lock |
// | `computeIfAbsent` | lock | no lock | lock |
//
// An `AtomicLong` per key works the same way, and its `incrementAndGet` also returns
// the new count.

// %%
class AdderTally implements WordTally {
    private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();

    public void add(String word) {
        counts.computeIfAbsent(word, w -> new LongAdder()).increment();
    }

    public long count(String word) {
        LongAdder adder = counts.get(word);
        return adder == null ? 0 : adder.sum();
    }
}

// %% [markdown]
// ## Every tally, under the same load
//
// The broken tally once more, then the four fixes, each counting the same 360,000
// words. Every fix counts exactly 360,000 on every run; the broken one usually falls
// short. (The tests check each with Lincheck, a model checker, and under stress; the
// broken one fails Lincheck.)

// %%
class TallyFixes {
    static void exactCounts() throws InterruptedException {
        for (WordTally tally : List.of(new GetThenPutTally(), new LockedTally(),
                new MergeTally(), new ComputeTally(), new AdderTally())) {
            long counted = TallyRace.run(tally);
            System.out.printf("%-16s counted %,d of %,d%n",
                    tally.getClass().getSimpleName(), counted, TallyRace.WORDS);
        }
    }
}

// %% [run]
// TallyFixes.exactCounts();

// %% [markdown]
// ## Which one to use
//
// | you need | use, on a `ConcurrentHashMap` |
// |---|---|
// | a count per key | `merge(key, 1L, Long::sum)` |
// | a count per key, very hot keys | `computeIfAbsent(key, k -> new LongAdder())` |
// | a value made once per key (a cache) | `computeIfAbsent(key, k -> make(k))` |
// | a new value from the old, or removal | `compute` (`null` removes) |
// | one update across several keys or structures | one lock around the whole sequence |
//
// ## Pitfalls
//
// - **Thread-safe calls do not make a thread-safe sequence.** `containsKey` then `put`,
//   `get` then `put`, `isEmpty` then `remove` are all check-then-act. So is
//   `if (n.get() < limit) n.incrementAndGet()` on an `AtomicInteger`: use one call
//   (`updateAndGet`, `accumulateAndGet`) or a `compareAndSet` loop.
// - **`Collections.synchronizedMap` is no better.** It locks each call, not the pair:
//   hold `synchronized (map)` around the whole sequence, as its javadoc asks you to do
//   when iterating.
// - **Keep the functions short.** `merge`, `compute` and `computeIfAbsent` run them
//   with the bin locked, so other updates to that bin wait. Never update the map from
//   inside one: the javadoc forbids it, and it may throw
//   `IllegalStateException("Recursive update")`.
// - **`putIfAbsent` may build a value for nothing**: every caller builds one, and only
//   one is kept. Fine for a cheap value without side effects. The value to use is the
//   one now in the map: what it returns, or yours when it returns `null`.
//   `computeIfAbsent` returns that value directly.
// - **`volatile` is no fix for check-then-act**: it makes each read and write visible,
//   not two of them one step (see `counter` and `visibility`).
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | `with lock: d[k] = d.get(k, 0) + 1` | `LockedTally`: `synchronized` get, put |
// | (the same, without a lock) | `counts.merge(k, 1L, Long::sum)` |
// | `d.setdefault(k, v)` | `counts.computeIfAbsent(k, x -> v)` |
// | `collections.Counter` behind a lock | `ConcurrentHashMap<String, LongAdder>` |
//
// In CPython, `d[k] = d.get(k, 0) + 1` is several bytecodes, and a thread switch
// between the `get` and the store loses an update exactly as here: the seed's rule,
// "always use locks for shared mutable state", is the fix in both languages. Java adds
// maps whose single calls do the whole update, so no lock of yours is needed.
//
// ## Try it
//
// - Run `jbang race_conditions race` a few times, then with `taskset -c 0` in front
//   (Linux: one core): the lost counts change from run to run; one core can lose too.
// - Make `GetThenPutTally.add` `synchronized` and run `fixes replay`: it counts
//   exactly 360,000 too; the replay waits about 10 s, then throws, since B can no
//   longer run between A's `get` and `put`.
// - Run `replay --speed 0.5`: every step waits twice as long, and the count is still 1.
//
// ## Summary
//
// A sequence of thread-safe calls is not thread-safe: between the check and the act
// another thread can act, and one update silently overwrites the other.
//
// Fix it by making the check and the act one step: the map's own `merge`, `compute` or
// `computeIfAbsent`, atomic per key, or one lock around the whole sequence when it
// spans several keys. Show a race by forcing it, as the replay does, never by
// hoping a run happens to hit it. The next lesson, `visibility`, shows the other half of
// sharing state: a write another thread may never see.

// %% [main]
class race_conditions {  // the entry point, script only: `jbang race_conditions --help`
    static final Section[] SECTIONS = {
            new Section("race", "a get-then-put word count, at full speed",
                    speed -> TallyRace.lostCounts(3)),
            new Section("replay", "one lost count in slow motion, forced by two latches",
                    speed -> TallyReplay.replay(Math.round(400 / speed))),
            new Section("fixes", "the broken tally, then four fixes: every count exact",
                    speed -> TallyFixes.exactCounts())};
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
