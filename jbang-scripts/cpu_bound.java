///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # CPU-bound work: Java threads use every core, CPython threads take turns
//
// Some work never waits: it computes. Counting primes, resizing images, parsing a big
// file already in memory. Python's advice is to keep such work off `threading.Thread`,
// because in CPython with the GIL (the global interpreter lock) only one thread runs
// Python bytecode at any moment: four threads computing take turns on one core and
// finish no sooner than one thread would. The JVM has no such lock. Java threads run
// at the same time on different cores, so CPU-bound work split across threads really
// does finish sooner, but only up to the number of cores: past that, threads take
// turns again. This lesson counts primes by trial division on one thread and on many,
// in CPython and in Java, and prints the speedups side by side as ratios: what the
// GIL costs, what one thread per core gains, what a parallel stream gains, and why
// more threads than cores (or virtual threads) gain nothing more.
//
// Run it: `jbang cpu_bound` from the repository root,
// `jbang jbang-scripts/cpu_bound.java`, or with a bare JDK 25,
// `java jbang-scripts/cpu_bound.java`. Try `--help`.

// %%
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.LongStream;

// %% [markdown]
// ## The work: counting primes by trial division
//
// `isPrime` divides `n` by every odd number up to √n: pure arithmetic, no I/O, no
// locks, nothing shared. `countPrimes` tests a range and returns how many primes it
// found. The count is returned and printed, so the JIT compiler cannot decide that
// the loop is useless and drop it (a benchmark whose result goes nowhere may measure
// nothing at all).
//
// To run on several threads, the range is cut into contiguous slices, one per
// thread, whose sizes differ by at most one. The ranges in this lesson start at ten
// million: the cost of testing `n` grows with √n, and across a range that is short
// next to its start, √n hardly changes, so equal slices are equal work.

// %%
class TrialDivision {
    static final long FROM = 10_000_000;

    record Slice(long from, long to) {
        long size() { return to - from; }
        long countPrimes() { return TrialDivision.countPrimes(from, to); }
    }

    static boolean isPrime(long n) {
        if (n < 2) return false;
        if (n % 2 == 0) return n == 2;
        for (long d = 3; d * d <= n; d += 2) {
            if (n % d == 0) return false;
        }
        return true;
    }

    /** How many primes lie in [from, to). */
    static long countPrimes(long from, long to) {
        long primes = 0;
        for (long n = from; n < to; n++) {
            if (isPrime(n)) primes++;
        }
        return primes;
    }

    /** [from, to) in `parts` contiguous slices; the first ones get the remainder. */
    static List<Slice> slices(long from, long to, int parts) {
        if (parts < 1 || to < from) {
            throw new IllegalArgumentException(
                    "cannot cut [" + from + ", " + to + ") into " + parts + " parts");
        }
        long size = (to - from) / parts;
        long extra = (to - from) % parts;
        var slices = new ArrayList<Slice>(parts);
        long start = from;
        for (int i = 0; i < parts; i++) {
            long end = start + size + (i < extra ? 1 : 0);
            slices.add(new Slice(start, end));
            start = end;
        }
        return slices;
    }

    static void demo(long from, long to, int parts) {
        System.out.printf("[%,d, %,d) in %d slices:%n", from, to, parts);
        long total = 0;
        for (Slice s : slices(from, to, parts)) {
            long primes = s.countPrimes();
            total += primes;
            System.out.printf("  [%,d, %,d)  %,d numbers, primes: %,d%n",
                    s.from(), s.to(), s.size(), primes);
        }
        System.out.printf("  slices together: %,d primes; the whole range at once: %,d%n",
                total, countPrimes(from, to));
    }
}

// %% [run]
// long from = TrialDivision.FROM;
// TrialDivision.demo(from, from + 100, 3);

// %% [markdown]
// A hundred numbers do not split evenly in three, so the first slice takes the extra
// one. The slices meet end to start: no number is skipped and none is counted twice
// (the tests check this for many sizes and slice counts).
//
// ## The naive version: CPython threads on CPU-bound work
//
// This is the seed's warning, measured. The Python program below is the same trial
// division, run by `python3` in a child process. It times two ways of counting a
// range, taking turns for a few rounds and keeping the best time of each: one
// `threading.Thread` counting the whole range, and one thread per core counting one
// slice each. It prints the ratio of the two times (above 1 means the threads helped),
// how many cores each way kept busy (the process's CPU time over the wall time), and
// whether the GIL is on: Python 3.13 added an optional free-threaded build (PEP 703)
// in which it can be off, and `sys._is_gil_enabled()` tells which. Older versions
// always have the GIL. CPython is far slower than the JIT at this loop, so it gets a
// shorter range, and Java counts the same range to check that both did the same work.
// If there is no `python3`, the section says so and the lesson goes on;
// `--python python3.13t` compares with a free-threaded build.

// %%
class GilComparison {
    static final String PROGRAM = """
            import sys, threading, time

            def is_prime(n):
                if n < 2:
                    return False
                if n % 2 == 0:
                    return n == 2
                d = 3
                while d * d <= n:
                    if n % d == 0:
                        return False
                    d += 2
                return True

            def count_primes(lo, hi):
                return sum(1 for n in range(lo, hi) if is_prime(n))

            def slices(lo, hi, parts):
                size, extra = divmod(hi - lo, parts)
                bounds = [lo]
                for i in range(parts):
                    bounds.append(bounds[-1] + size + (1 if i < extra else 0))
                return list(zip(bounds, bounds[1:]))

            def on_threads(lo, hi, threads):
                counts = [0] * threads
                def work(i, a, b):
                    counts[i] = count_primes(a, b)
                workers = [threading.Thread(target=work, args=(i, a, b))
                           for i, (a, b) in enumerate(slices(lo, hi, threads))]
                wall, cpu = time.perf_counter(), time.process_time()
                for t in workers:
                    t.start()
                for t in workers:
                    t.join()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                return sum(counts), wall, cpu / wall  # cpu: all threads of the process

            lo, hi, n, rounds = (int(arg) for arg in sys.argv[1:5])
            best, counted = {}, set()  # threads -> (wall, busy) of its fastest round
            for _ in range(rounds):  # 1 thread and n threads take turns
                for threads in (1, n):
                    primes, wall, busy = on_threads(lo, hi, threads)
                    counted.add(primes)
                    if threads not in best or wall < best[threads][0]:
                        best[threads] = (wall, busy)
            assert len(counted) == 1, counted
            gil = getattr(sys, "_is_gil_enabled", lambda: True)()
            print(f"python={sys.version.split()[0]} gil={'on' if gil else 'off'} "
                  f"threads={n} primes={primes} ratio={best[1][0] / best[n][0]:.3f} "
                  f"busy={best[n][1]:.2f} base_busy={best[1][1]:.2f}")
            """;
    static final Duration PATIENCE = Duration.ofSeconds(60);

    sealed interface Outcome {
        /**
         * What the Python program measured, best round of each: ratio = time(1 thread) /
         * time(N threads); busy, baseBusy = CPU time / wall time of the N threads and of
         * the 1 thread, in cores.
         */
        record Measured(String version, boolean gil, int threads, long primes,
                double ratio, double busy, double baseBusy) implements Outcome { }

        record Skipped(String why) implements Outcome {
            String line() { return why + ": skipped"; }
        }
    }

    /** Runs PROGRAM with `python`; never throws for a missing or failing interpreter. */
    static Outcome run(String python, long from, long to, int threads, int rounds)
            throws InterruptedException {
        Path output = tempFile();
        try {
            Process p;
            try {
                p = new ProcessBuilder(python, "-c", PROGRAM, Long.toString(from),
                        Long.toString(to), Integer.toString(threads),
                        Integer.toString(rounds))
                        .redirectErrorStream(true).redirectOutput(output.toFile())
                        .start();
            } catch (IOException e) {
                return new Outcome.Skipped(python + " not found");
            }
            if (!p.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                return new Outcome.Skipped(python + " still running after "
                        + PATIENCE.toSeconds() + " s");
            }
            List<String> lines = Files.readAllLines(output);
            String last = lines.isEmpty() ? "(no output)" : lines.getLast();
            if (p.exitValue() != 0) {
                return new Outcome.Skipped(python + " failed (exit " + p.exitValue()
                        + "): " + last);
            }
            return parseLine(last);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                Files.deleteIfExists(output);
            } catch (IOException e) {
                // a temp file left behind is harmless
            }
        }
    }

    /** Parses "python=3.11.7 gil=on threads=2 primes=495 ratio=0.98 busy=1 ...". */
    static Outcome parseLine(String line) {
        var fields = new HashMap<String, String>();
        for (String pair : line.strip().split("\\s+")) {
            int eq = pair.indexOf('=');
            if (eq > 0) fields.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        try {
            String version = fields.get("python");
            String gil = fields.get("gil");
            if (version == null || !(gil.equals("on") || gil.equals("off"))) {
                throw new IllegalArgumentException(line);
            }
            return new Outcome.Measured(version, gil.equals("on"),
                    Integer.parseInt(fields.get("threads")),
                    Long.parseLong(fields.get("primes")),
                    Double.parseDouble(fields.get("ratio")),
                    Double.parseDouble(fields.get("busy")),
                    Double.parseDouble(fields.get("base_busy")));
        } catch (RuntimeException e) {  // a missing field (null) or a malformed number
            return new Outcome.Skipped("unexpected output '" + line + "'");
        }
    }

    static void compare(String python, long from, long to, int threads, int rounds)
            throws InterruptedException {
        System.out.printf("%s: 1 thread, then %d, counting primes in [%,d, %,d),"
                + " best of %d rounds%n", python, threads, from, to, rounds);
        switch (run(python, from, to, threads, rounds)) {
            case Outcome.Skipped s -> System.out.println("  " + s.line());
            case Outcome.Measured m -> {
                System.out.printf("  CPython %s, GIL %s: %d threads ran %.2fx as fast"
                        + " as 1 (ideal: %dx)%n", m.version(), m.gil() ? "on" : "off",
                        m.threads(), m.ratio(), m.threads());
                System.out.printf("  cores busy: 1 thread %.2f, %d threads %.2f%n",
                        m.baseBusy(), m.threads(), m.busy());
                if (Math.min(m.busy(), m.baseBusy()) < 0.9) {
                    System.out.println("  (under one core: other processes had the rest,"
                            + " so the ratio says little)");
                }
                long java = TrialDivision.countPrimes(from, to);
                System.out.printf("  primes: CPython %,d, Java %,d (%s)%n", m.primes(),
                        java, m.primes() == java ? "the same work" : "DIFFERENT");
            }
        }
    }

    private static Path tempFile() {
        try {
            return Files.createTempFile("cpu_bound-python", ".txt");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

// %% [run]
// int cores = Runtime.getRuntime().availableProcessors();
// GilComparison.compare("python3", from, from + 4_000, cores, 3);

// %% [markdown]
// With the GIL on, the threads gain nothing. On an otherwise idle machine the ratio above
// sits near 1, or a little below it (the threads also pay for handing the lock back and
// forth), and the threads together keep about one core busy, never two. (If the output
// says the process got under one core, other work on the machine skewed the ratio: run it
// again.)
//
// The diagram shows why. A CPython thread must hold the GIL to run bytecode. A thread
// that wants it waits, and after the switch interval (5 ms by default,
// `sys.getswitchinterval()`) asks the holder to let go; then the roles swap. The threads
// interleave but never overlap, so while one computes, the other core has nothing of
// theirs to run. Code that waits for I/O or sleeps releases the GIL, which is why Python
// threads do help I/O-bound work; C extensions such as NumPy release it inside their own
// loops too. Python's usual answer for CPU-bound work is processes (`multiprocessing`,
// `ProcessPoolExecutor`), each with its own interpreter and GIL. Java threads need no
// lock to run: they compute at the same time, one per core.
//
// @diagram cpu_bound-gil-handoff
//
// ## Fix 1: one platform thread per core
//
// Cut the range into one slice per thread, start a platform thread on each, join them
// all, add up their counts. Each thread counts into its own local variable and writes
// its slot of `counts` once, at the end: the threads share nothing while they work,
// and `join` makes every slot visible to the thread that adds them up. The builder is
// a parameter so that the same code runs on virtual threads in the comparison below.
// In application code you would submit the slices to a fixed pool of one thread per
// core instead of starting threads by hand (`thread_pool`); the threads are the same.

// %%
class ThreadedPrimes {
    static final Duration PATIENCE = Duration.ofMinutes(2);

    /** Counts each slice on its own thread; counts[i] belongs to slices.get(i). */
    static long[] countSlices(Thread.Builder builder, List<TrialDivision.Slice> slices)
            throws InterruptedException {
        var counts = new long[slices.size()];  // slot i: thread i writes, main reads
        var workers = new ArrayList<Thread>();
        for (int i = 0; i < slices.size(); i++) {
            int mine = i;
            var slice = slices.get(i);
            workers.add(builder.start(() -> counts[mine] = slice.countPrimes()));
        }
        for (Thread t : workers) {
            if (!t.join(PATIENCE)) {
                throw new IllegalStateException(t.getName() + " still computing after "
                        + PATIENCE.toMinutes() + " min");
            }
        }
        return counts;
    }

    static long onPlatformThreads(long from, long to, int threads)
            throws InterruptedException {
        var slices = TrialDivision.slices(from, to, threads);
        return LongStream.of(countSlices(Thread.ofPlatform().name("primes-", 0), slices))
                .sum();
    }

    static long onVirtualThreads(long from, long to, int threads)
            throws InterruptedException {
        var slices = TrialDivision.slices(from, to, threads);
        return LongStream.of(countSlices(Thread.ofVirtual().name("vprimes-", 0), slices))
                .sum();
    }

    static void demo(long from, long to, int threads) throws InterruptedException {
        var slices = TrialDivision.slices(from, to, threads);
        long[] counts = countSlices(Thread.ofPlatform().name("primes-", 0), slices);
        for (int i = 0; i < slices.size(); i++) {  // printed by main, after the joins
            System.out.printf("  primes-%d counted %,d primes in [%,d, %,d)%n", i,
                    counts[i], slices.get(i).from(), slices.get(i).to());
        }
        long together = LongStream.of(counts).sum();
        System.out.printf("  %d threads together: %,d primes; one thread: %,d%n",
                threads, together, TrialDivision.countPrimes(from, to));
    }
}

// %% [run]
// ThreadedPrimes.demo(from, from + 150_000, cores);

// %% [markdown]
// The threads print nothing themselves: `main` prints every line after the joins, in
// slice order. Their sum matches the one-thread count. How much sooner it arrives is
// measured below, with every other way, in one table. The diagram shows what to
// expect on two cores: one thread leaves a core idle, two threads keep both busy.
//
// @diagram cpu_bound-two-cores
//
// ## Fix 2: a parallel stream
//
// `LongStream.range(from, to).parallel()` does the splitting for you. It runs on the
// JVM's common `ForkJoinPool`, which cuts the range in halves, and the halves in
// halves, into small tasks; a worker with nothing to do steals tasks from a busy one,
// so the load evens out even when the parts cost different amounts. The common pool
// has one worker fewer than there are cores (`availableProcessors() - 1`), because
// the thread that calls the terminal operation (`count()` here) works on the stream
// too. The demo counts how many numbers each thread tested. Which threads took part,
// and how they shared the range, vary from run to run.

// %%
class StreamPrimes {
    static long count(long from, long to) {
        return LongStream.range(from, to).parallel()
                .filter(TrialDivision::isPrime)
                .count();
    }

    static void demo(long from, long to) {
        var tested = new ConcurrentHashMap<String, LongAdder>();
        long primes = LongStream.range(from, to).parallel()
                .filter(n -> {
                    String me = Thread.currentThread().getName();
                    tested.computeIfAbsent(me, k -> new LongAdder()).increment();
                    return TrialDivision.isPrime(n);
                })
                .count();
        System.out.printf("  cores: %d; common pool parallelism: %d, plus the caller%n",
                Runtime.getRuntime().availableProcessors(),
                ForkJoinPool.getCommonPoolParallelism());
        new TreeMap<>(tested).forEach((name, n) ->
                System.out.printf("  %-34s tested %,d numbers%n", name, n.sum()));
        System.out.printf("  parallel stream: %,d primes; one thread: %,d%n", primes,
                TrialDivision.countPrimes(from, to));
    }
}

// %% [run]
// StreamPrimes.demo(from, from + 150_000);

// %% [markdown]
// ## All of them, side by side
//
// The same range, counted every way in one run: one platform thread (the baseline),
// one per core, one more than the cores, twice the cores, twice the cores as virtual
// threads, and the parallel stream. A warm-up comes first, then every way runs once
// untimed, so the JIT has compiled the work before anything is timed. Then the ways
// take turns, round after round, and each keeps its fastest time: a neighbour process
// that takes a core for a moment spoils one round, not the result. The speedup is the
// one-thread time divided by the way's time. The ideal is the number of threads that
// can compute at once: at most one per core. `cores busy` is the CPU time the JVM used
// divided by the wall time: how many cores the way really kept busy (the JVM's CPU
// clock ticks coarsely, so very short runs print "too short"). The `primes` column
// shows that every way did the same work. (The `profiling` lesson measures with JMH,
// the tool for numbers you publish.)

// %%
class CpuSpeedup {
    @FunctionalInterface
    interface Counting {
        long count(long from, long to) throws InterruptedException;
    }

    record Way(String name, int threads, int ideal, Counting counting) { }

    /** speedup: one thread's time / this way's; busy: process CPU time / wall time. */
    record Row(String name, int threads, int ideal, long primes, double speedup,
            double busy) { }

    static List<Way> ways(int cores) {
        var ways = new ArrayList<Way>();
        for (int n : new LinkedHashSet<>(List.of(1, cores, cores + 1, 2 * cores))) {
            ways.add(new Way("platform threads", n, Math.min(n, cores),
                    (from, to) -> ThreadedPrimes.onPlatformThreads(from, to, n)));
        }
        int virtual = 2 * cores;  // their scheduler runs about one per core at a time
        ways.add(new Way("virtual threads", virtual, Math.min(virtual, cores),
                (from, to) -> ThreadedPrimes.onVirtualThreads(from, to, virtual)));
        int stream = ForkJoinPool.getCommonPoolParallelism() + 1;  // + the caller
        ways.add(new Way("parallel stream", stream, Math.min(stream, cores),
                StreamPrimes::count));
        return ways;
    }

    static final int WARM_UP_NUMBERS = 30_000;  // enough for the JIT to compile isPrime

    /**
     * A warm-up, then `rounds` timed rounds of every way in turn. Each way keeps its
     * best time; its CPU use is summed over all its rounds (the CPU clock is coarse).
     */
    static List<Row> measure(List<Way> ways, long from, long to, int rounds)
            throws InterruptedException {
        TrialDivision.countPrimes(from, from + WARM_UP_NUMBERS);
        for (Way w : ways) w.counting().count(from, to);  // and every way's own code
        var best = new long[ways.size()];
        var wallSum = new long[ways.size()];
        var cpuSum = new long[ways.size()];
        var primes = new long[ways.size()];
        Arrays.fill(best, Long.MAX_VALUE);
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < ways.size(); i++) {
                long cpu = processCpuNanos();
                long start = System.nanoTime();
                primes[i] = ways.get(i).counting().count(from, to);
                long wall = Math.max(1, System.nanoTime() - start);
                best[i] = Math.min(best[i], wall);
                wallSum[i] += wall;
                cpuSum[i] += processCpuNanos() - cpu;
                if (primes[i] != primes[0]) {
                    throw new IllegalStateException(ways.get(i).name() + " counted "
                            + primes[i] + " primes, one thread " + primes[0]);
                }
            }
        }
        var rows = new ArrayList<Row>();
        for (int i = 0; i < ways.size(); i++) {
            Way w = ways.get(i);
            boolean tellable = wallSum[i] >= BUSY_MIN_NANOS && cpuSum[i] >= 0;
            rows.add(new Row(w.name(), w.threads(), w.ideal(), primes[i],
                    (double) best[0] / best[i],
                    tellable ? (double) cpuSum[i] / wallSum[i] : Double.NaN));
        }
        return rows;
    }

    static final long BUSY_MIN_NANOS = 100_000_000;  // the CPU clock ticks every 10 ms

    /** CPU time used by every thread of this JVM so far; negative if unknown. */
    static long processCpuNanos() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun
                ? sun.getProcessCpuTime() : -1;
    }

    /** Amdahl's law, S = 1 / ((1 - p) + p / n), solved for p. */
    static double parallelFraction(double speedup, int cores) {
        return (1 - 1 / speedup) / (1 - 1.0 / cores);
    }

    static void table(long from, long to, int rounds) throws InterruptedException {
        int cores = Runtime.getRuntime().availableProcessors();
        var rows = measure(ways(cores), from, to, rounds);
        System.out.printf("primes in [%,d, %,d), %d cores, best of %d rounds%n",
                from, to, cores, rounds);
        System.out.printf("%-17s %7s %8s %9s %6s %11s%n",
                "way", "threads", "primes", "speedup", "ideal", "cores busy");
        for (Row r : rows) {
            String busy = Double.isNaN(r.busy()) ? "too short"
                    : "%.2f".formatted(r.busy());
            System.out.printf("%-17s %7d %,8d %8.2fx %5dx %11s%n", r.name(),
                    r.threads(), r.primes(), r.speedup(), r.ideal(), busy);
        }
        if (cores < 2) {
            System.out.println("one core: nothing can run in parallel here");
            return;
        }
        Row perCore = rows.stream()
                .filter(r -> r.name().equals("platform threads") && r.threads() == cores)
                .findFirst().orElseThrow();
        double s = perCore.speedup();
        if (s >= cores) {
            System.out.printf("Amdahl: %d threads reached the ideal %dx: no serial part"
                    + " shows at this size%n", cores, cores);
        } else if (s <= 1) {
            System.out.printf("Amdahl: %d threads gained nothing this time (%.2fx)%n",
                    cores, s);
        } else {
            System.out.printf("Amdahl: %.2fx on %d cores means about %.0f%% of the"
                    + " one-thread time ran in parallel%n",
                    s, cores, 100 * parallelFraction(s, cores));
        }
        double alone = rows.getFirst().busy();
        if (alone < 0.9 || perCore.busy() < 0.9 * cores) {  // false for NaN: too short
            System.out.printf("but the machine was busy: 1 thread kept %.2f cores busy,"
                    + " %d threads %.2f;%nother processes had the rest, so these ratios"
                    + " say more about the machine than about Java%n",
                    alone, cores, perCore.busy());
        }
    }
}

// %% [run]
// CpuSpeedup.table(from, from + 150_000, 3);

// %% [markdown]
// Read the rows against each other. On a machine with nothing else to do, one thread
// per core comes close to the ideal and keeps about every core busy, and the parallel
// stream does as well, while the CPython threads above kept about one core busy and
// gained nothing. When the `cores busy` of the one-per-core row falls short of the core
// count, other processes had the rest of the CPU, and the line under the table says
// so. The table is one run; the ratios move from run to run, so read the pattern, not
// the decimals.
//
// **Amdahl's law** says why even the best row stays a little under the ideal. If a
// fraction p of the one-thread time can be spread over n cores and the rest cannot,
// the best speedup is 1 / ((1 − p) + p / n): the parallel part shrinks, the serial part
// stays. The serial part here is small (cutting the range, starting the threads,
// joining them, adding the counts) but not zero, and the line under the table turns
// the measured speedup back into the p it implies. Add what no formula sees: other
// processes on the same cores, and a CPU that may clock one busy core higher than two.
// With p = 0.95, no number of cores can ever give more than 20x; that is why the serial
// part matters more as cores are added.
//
// **More threads than cores** gain nothing: compare the rows with one more thread than
// cores and with twice the cores to the row with one per core. Two cores run two
// threads at a time; a third thread only waits for its turn, and the operating system
// pays to switch between them. **Virtual threads** do not add cores either: the JVM
// runs them on a pool of carrier threads about as large as the core count, so their
// row is no better than one per core. They pay off when threads *wait*, not when they
// compute (the `virtual_threads` lesson). For CPU-bound work, size the pool to the
// cores.
//
// ## Which one to use
//
// | the work | use |
// |---|---|
// | CPU-bound, over a range or a collection | a parallel stream (`.parallel()`) |
// | CPU-bound, in parts you cut yourself | a fixed pool of `availableProcessors()` platform threads |
// | CPU-bound, recursive divide and conquer | `ForkJoinPool` with `RecursiveTask` |
// | CPU-bound, beside request handling on the same JVM | a pool smaller than the cores, so requests still get a core |
// | mostly waiting (I/O, sleeps, queues) | virtual threads (`virtual_threads`) |
// | small work, microseconds | one thread: splitting and joining cost more than they save |
//
// ## Pitfalls
//
// - **More threads than cores is not faster**, as the table shows. A pool of hundreds
//   of threads for CPU work only adds switching, a stack per thread, and cache misses.
// - **A CPU-bound virtual thread holds its carrier.** The JVM does not take the
//   carrier back from a virtual thread that computes without blocking, so long
//   computations on virtual threads can keep the waiting ones from running.
// - **Uneven slices waste cores.** The slowest thread sets the wall time. Cut
//   [2, 20,000,000) in two halves and the upper half costs more, because each test
//   divides up to √n. Use many small tasks that idle workers can take (a parallel
//   stream does), or cut by cost, not by count.
// - **Sharing while computing serialises the threads.** An `AtomicLong` bumped for
//   every prime, or a `synchronized` counter, makes the threads queue on one variable
//   (`counter`). Count in a local variable and combine once at the end, as here.
// - **The common pool is shared.** Every parallel stream, and every
//   `CompletableFuture.supplyAsync` without an executor, runs on it. A task that blocks
//   in it (I/O, a lock, `sleep`) holds a worker that everyone else needs: keep blocking
//   work out of parallel streams.
// - **`availableProcessors()` is not the number of physical cores.** It counts hardware
//   threads (two per core with SMT, "hyper-threading"), honours a container's CPU limit,
//   and may change while the JVM runs. Two hardware threads of one core do not compute
//   twice as fast.
// - **Measuring misleads easily.** Without a warm-up the first way timed also pays for
//   the JIT; without using the result the JIT may drop the work; on a busy machine more
//   threads may simply take a bigger share of the CPU from other processes. Compare in
//   one run, keep the best of several rounds, and use JMH (`profiling`) for real numbers.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `threading.Thread` for CPU-bound work: no faster with the GIL | `Thread.ofPlatform()`, one per core: really parallel |
// | `ProcessPoolExecutor(max_workers=os.cpu_count())`, `multiprocessing.Pool` | `Executors.newFixedThreadPool(cores)` or a parallel stream: threads share memory, nothing is pickled |
// | `os.cpu_count()` | `Runtime.getRuntime().availableProcessors()` |
// | `sum(1 for n in range(lo, hi) if is_prime(n))` | `LongStream.range(lo, hi).parallel().filter(TrialDivision::isPrime).count()` |
// | `sys._is_gil_enabled()` (3.13+), the free-threaded build (PEP 703) | no GIL, in every JVM |
// | `sys.setswitchinterval(0.005)` | (nothing to hand over: the OS schedules threads on all cores) |
// | `threading.Thread` for I/O-bound work | virtual threads (`virtual_threads`) |
//
// "Python threads don't help CPU-bound work" is a statement about CPython with the
// GIL. Its free-threaded build, and the JVM, run threads on all cores at once; and
// then threads that share data need locks or atomics for real (`counter`,
// `race_conditions`), because nothing serialises them any more.
//
// Related lessons: `threads` (starting and joining threads), `thread_pool` (sizing a
// pool, fixed pools), `virtual_threads` (threads for work that waits), `counter`
// (what goes wrong when parallel threads share a variable), `profiling` (JMH, and
// measuring properly).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line.
// `--speed` divides the amount of work (there are no delays in this lesson), so
// `--speed 20` counts a twentieth of the numbers; a bad option prints one line and
// exits with status 2.

// %%
class cpu_bound {
    static final String USAGE = """
            Usage: cpu_bound [options]
              --numbers N         numbers Java tests for primality (default 150000)
              --python-numbers N  numbers CPython tests, slower (default 4000)
              --rounds N          timed rounds of each way, the best is kept (default 3)
              --python CMD        the Python to compare with (default python3)
              --speed X           divides the work: 20 = a twentieth (default 1)
              --help              print this and exit""";

    record Options(int numbers, int pythonNumbers, int rounds, String python,
            double speed) {
        /** A work size divided by --speed, at least 1. */
        long scaled(int n) { return Math.max(1, Math.round(n / speed)); }
    }

    public static void main(String[] args) throws InterruptedException {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("cpu_bound: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        int cores = Runtime.getRuntime().availableProcessors();
        long from = TrialDivision.FROM;
        long to = from + o.scaled(o.numbers());
        System.out.println("== The work ==");
        TrialDivision.demo(from, from + 100, 3);
        System.out.println("\n== The naive version: CPython threads ==");
        long pythonTo = from + o.scaled(o.pythonNumbers());
        GilComparison.compare(o.python(), from, pythonTo, cores, o.rounds());
        System.out.println("\n== Fix 1: one platform thread per core ==");
        ThreadedPrimes.demo(from, to, cores);
        System.out.println("\n== Fix 2: a parallel stream ==");
        StreamPrimes.demo(from, to);
        System.out.println("\n== All of them, side by side ==");
        CpuSpeedup.table(from, to, o.rounds());
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
                count("--numbers", given.getOrDefault("--numbers", "150000")),
                count("--python-numbers",
                        given.getOrDefault("--python-numbers", "4000")),
                count("--rounds", given.getOrDefault("--rounds", "3")),
                command("--python", given.getOrDefault("--python", "python3")),
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

    static String command(String flag, String value) {
        if (value.isBlank()) {
            throw new IllegalArgumentException(flag + " wants a command, got '"
                    + value + "'");
        }
        return value;
    }
}
