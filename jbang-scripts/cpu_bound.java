///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # CPU-bound work: Java threads use every core, CPython threads take turns
//
// Work that only computes finishes sooner on two threads only if two cores run them at
// once. CPython's GIL lets one thread at a time run Python bytecode, so its threads take
// turns; the JVM has no such lock. We count primes on CPython threads and on Java
// threads, and measure how many cores each kept busy.
//
// **You will learn**
// - why CPython threads keep one core busy at most on pure-Python work (the GIL's turns)
// - to split CPU-bound work over one platform thread per core, or a parallel stream
// - why more threads than cores, or virtual threads, add no cores
// - to read a timing fairly: medians of several rounds, their spread, workers' CPU time

// %%
import java.io.*;
import java.lang.management.*;
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.stream.*;

// %% [markdown]
// ## The work, and how it is timed
//
// `isPrime` tries every odd divisor up to √n: arithmetic only. Each thread counts one
// slice (`bound`); from ten million on, √n hardly changes, so equal slices are equal
// work. A run records its wall time and its workers' busy cores: their own CPU time
// (`ThreadMXBean`, `time.thread_time()` in Python) over the wall time. Each way runs once
// per round, for five rounds; the table shows the median and the spread (min-max) of a
// speed-up: one thread's time over the way's time in the same round.

// %%
class Primes {
    static final long FROM = 10_000_000;

    static boolean isPrime(long n) {
        if (n % 2 == 0) return n == 2;
        for (long d = 3; d * d <= n; d += 2) {
            if (n % d == 0) return false;
        }
        return n > 1;
    }

    static long count(long from, long to) {
        long primes = 0;
        for (long n = from; n < to; n++) if (isPrime(n)) primes++;
        return primes;
    }

    static long scaled(long numbers, double speed) {  // --speed 20: a twentieth of them
        return Math.round(numbers / Math.max(1, speed));
    }

    /** Where slice i of `parts` starts: slice i is [bound(i), bound(i + 1)). */
    static long bound(long from, long to, int i, int parts) {
        return from + (to - from) * i / parts;
    }
}

// %%
record TimedRun(long primes, double seconds, double busy) { }  // busy: NaN if unknown

class SpeedTable {
    /** Runs every way once per round, printing each time as it comes in. */
    static List<List<TimedRun>> rounds(int rounds, List<Callable<TimedRun>> ways)
            throws Exception {
        var result = new ArrayList<List<TimedRun>>();
        for (int round = 1; round <= rounds; round++) {
            System.out.printf("  round %d of %d:", round, rounds);
            var runs = new ArrayList<TimedRun>();
            for (var way : ways) {  // each time at once, before the line is done:
                runs.add(way.call());
                System.out.printf("  %.2f s", runs.getLast().seconds()).flush();
            }
            System.out.println();
            result.add(runs);
        }
        return result;
    }

    /** Per way: median (min-max) of its speed-up over way 0 and of its busy cores. */
    static void print(List<String> ways, List<List<TimedRun>> rounds) {
        long primes = rounds.getFirst().getFirst().primes();
        if (rounds.stream().flatMap(List::stream).anyMatch(r -> r.primes() != primes))
            throw new IllegalStateException("two runs counted different primes");
        System.out.printf("%-22s %-19s busy cores%n", "median (min-max)", "speed-up");
        for (int w = 0; w < ways.size(); w++) {
            int way = w;
            var ups = rounds.stream().map(r -> r.get(0).seconds() / r.get(way).seconds());
            System.out.printf("%-22s %-19s %s%n", ways.get(w), spread(ups, "x"),
                    spread(rounds.stream().map(r -> r.get(way).busy()), ""));
        }
        System.out.printf("every run counted %,d primes%n", primes);
        if (median(rounds.stream().map(r -> r.get(0).busy()).sorted().toList()) < 0.9)
            System.out.println("(the 1-thread run got under 0.9 of a core: CPU busy)");
    }

    static String spread(Stream<Double> values, String unit) {
        List<Double> v = values.sorted().toList();  // a NaN sorts last
        if (v.getLast().isNaN()) return "not measured";
        return "%.2f%s (%.2f-%.2f)".formatted(median(v), unit, v.getFirst(), v.getLast());
    }

    static double median(List<Double> sorted) {
        return (sorted.get((sorted.size() - 1) / 2) + sorted.get(sorted.size() / 2)) / 2;
    }
}

// %% [markdown]
// ## The naive version: CPython threads on CPU-bound work
//
// The seed's warning, measured: this Python program, run by `python3` in a child process,
// counts primes the same way, each round on one `threading.Thread`, then on one per core.
// CPython is far slower than the JIT, so it counts a fortieth of Java's range.

// %%
class GilProgram {
    static final String SOURCE = """
            import math, platform, sys, sysconfig, threading, time

            def is_prime(n):  # as isPrime: every odd divisor up to the square root
                if n % 2 == 0:
                    return n == 2
                return n > 1 and all(n % d for d in range(3, math.isqrt(n) + 1, 2))

            def count(lo, hi, results, i):  # worker i: its primes and its own CPU time
                cpu = time.thread_time()
                primes = sum(1 for n in range(lo, hi) if is_prime(n))
                results[i] = (primes, time.thread_time() - cpu)

            def timed_run(lo, hi, threads):
                results = [None] * threads
                bounds = [lo + (hi - lo) * i // threads for i in range(threads + 1)]
                workers = [threading.Thread(target=count, name=f"worker-{i}",
                                            args=(bounds[i], bounds[i + 1], results, i))
                           for i in range(threads)]
                wall = time.perf_counter()
                for w in workers:
                    w.start()
                for w in workers:
                    w.join()
                wall = time.perf_counter() - wall
                primes, cpu = map(sum, zip(*results))
                print(primes, f"{wall:.6f} {cpu / wall:.4f}", flush=True)

            lo, hi, threads, rounds = map(int, sys.argv[1:])
            gil = getattr(sys, "_is_gil_enabled", lambda: True)()  # added in 3.13
            flag = sysconfig.get_config_var("Py_GIL_DISABLED")  # 1: free-threaded
            print(f"Python {platform.python_version()} ({sys.implementation.name}, "
                  f"Py_GIL_DISABLED={flag}); GIL {'on' if gil else 'off'}", flush=True)
            for _ in range(rounds):
                timed_run(lo, hi, 1)
                timed_run(lo, hi, threads)
            """;
}

// %%
class CPython {
    record Result(boolean gil, List<List<TimedRun>> rounds) { }

    /** Runs GilProgram, printing each time as its line comes in. */
    static Result measure(String python, long numbers, int threads, int rounds)
            throws Exception {
        Process child = new ProcessBuilder(python, "-c", GilProgram.SOURCE,
                "" + Primes.FROM, "" + (Primes.FROM + numbers), "" + threads, "" + rounds)
                .redirectErrorStream(true).start();
        var lines = new LinkedBlockingQueue<String>();
        Thread reader = Thread.ofPlatform().name("python-output").start(() -> {
            try {
                child.inputReader().lines().forEach(lines::add);
            } catch (UncheckedIOException e) {  // closed by destroyForcibly() below
            }
            lines.add("(python ended)");
        });
        try {
            String version = next(lines);  // "Python 3.11.2 (cpython, ...); GIL on"
            if (!version.startsWith("Python ")) throw new IllegalStateException(version);
            System.out.println(version);
            Callable<TimedRun> run = () -> parse(next(lines));  // 1 thread, then threads
            return new Result(version.endsWith("GIL on"),
                    SpeedTable.rounds(rounds, List.of(run, run)));
        } finally {
            child.destroyForcibly().waitFor();  // it has ended already, unless it failed
            reader.join();
        }
    }

    static String next(BlockingQueue<String> lines) throws InterruptedException {
        return Optional.ofNullable(lines.poll(60, TimeUnit.SECONDS))  // a run: seconds
                .orElseThrow(() -> new IllegalStateException("python silent for 60 s"));
    }

    static TimedRun parse(String line) {  // "primes seconds busy"
        var f = Stream.of(line.split(" ")).mapToDouble(Double::parseDouble).toArray();
        return new TimedRun((long) f[0], f[1], f[2]);
    }

    static void demo(String python, long numbers, int rounds) throws Exception {
        int threads = Runtime.getRuntime().availableProcessors();
        System.out.printf("%s: primes in [%,d, %,d) on 1 thread, then %d%n", python,
                Primes.FROM, Primes.FROM + numbers, threads);
        try {
            var result = measure(python, numbers, threads, rounds);
            SpeedTable.print(List.of("CPython, 1 thread", "CPython, %d threads"
                    .formatted(threads)), result.rounds());
            if (!result.gil()) System.out.println("GIL off: a free-threaded build, so "
                    + "the GIL's one-core limit does not apply here");
        } catch (IOException e) {
            System.out.println(python + " not found: skipped");
        }
    }
}

// %% [markdown]
// The line that starts with `Python` names the interpreter. (A free-threaded build, PEP
// 703, may have the GIL off: its threads run in parallel, and the section says so.)
// While they run Python code, CPython's workers keep at most about one core busy, free
// machine or loaded, as only the thread holding the GIL runs bytecode (the tests check
// it against two processes doing the same work). On a free machine the speed-up is at
// most about 1. On a loaded one it measures the CPU share each run won: two threads
// taking turns may win more than one, so it may exceed 1, from more of one core.
//
// The diagram shows the hand-over. A thread that wants the GIL waits; if the holder has
// not let go within the switch interval (5 ms, `sys.getswitchinterval()`), the waiter
// sets a flag that the holder checks now and then (at a call, a loop's jump back): it
// drops the GIL. In Python code the threads interleave. Blocking I/O, `time.sleep` and C
// code that releases the GIL (zlib, NumPy...) let others run: pure-Python CPU work takes
// processes.
//
// @diagram cpu_bound-gil-handoff

// %% [run]
// CPython.demo("python3", 20_000, 5);

// %% [markdown]
// ## The fix: Java threads, one per core
//
// The JVM has no GIL: Java threads run at the same time on different cores. `count`
// starts one thread per slice and joins them all. Each worker writes its slot of
// `primes` once, at the end, and `join` makes every slot visible to the caller (JLS
// 17.4.5). In an application, use a pool of `availableProcessors()` threads
// (`thread_pool`) or a parallel stream (the common `ForkJoinPool` splits the range).

// %%
class JavaThreads {
    /** Counts [FROM, to) on `threads` threads, one slice each, and times it. */
    static TimedRun count(Thread.Builder builder, long to, int threads)
            throws InterruptedException {
        var mx = ManagementFactory.getThreadMXBean();
        var primes = new long[threads];  // slot i: worker i writes, the caller reads
        var cpu = new long[threads];
        var workers = new ArrayList<Thread>();
        long start = System.nanoTime();
        for (int i = 0; i < threads; i++) {
            int me = i;
            long lo = Primes.bound(Primes.FROM, to, i, threads);
            long hi = Primes.bound(Primes.FROM, to, i + 1, threads);
            workers.add(builder.start(() -> {
                long before = mx.getCurrentThreadCpuTime();  // virtual thread: -1
                primes[me] = Primes.count(lo, hi);
                cpu[me] = before < 0 ? -1 : mx.getCurrentThreadCpuTime() - before;
            }));
        }
        for (Thread w : workers)
            if (!w.join(Duration.ofMinutes(2))) throw new IllegalStateException("stuck");
        double wall = System.nanoTime() - start;
        double busy = LongStream.of(cpu).anyMatch(c -> c < 0) ? Double.NaN
                : LongStream.of(cpu).sum() / wall;
        return new TimedRun(LongStream.of(primes).sum(), wall / 1e9, busy);
    }

    static TimedRun stream(long to) {
        long start = System.nanoTime();
        long primes = LongStream.range(Primes.FROM, to).parallel()
                .filter(Primes::isPrime).count();
        return new TimedRun(primes, (System.nanoTime() - start) / 1e9, Double.NaN);
    }

    static void table(long numbers, int rounds) throws Exception {
        long to = Primes.FROM + numbers;
        int n = Runtime.getRuntime().availableProcessors();
        var ways = new LinkedHashMap<String, Callable<TimedRun>>();
        for (int threads : new LinkedHashSet<>(List.of(1, n, 2 * n))) {
            ways.put(threads + " platform thread" + (threads == 1 ? "" : "s"),
                    () -> count(Thread.ofPlatform().name("primes-", 0), to, threads));
        }
        ways.put(2 * n + " virtual threads",
                () -> count(Thread.ofVirtual().name("primes-", 0), to, 2 * n));
        ways.put("parallel stream", () -> stream(to));
        System.out.printf("Java %s, %d cores: primes in [%,d, %,d)%n", Runtime.version(),
                n, Primes.FROM, to);
        Primes.count(Primes.FROM, Primes.FROM + 100_000);  // warm-up: the JIT compiles it
        var results = SpeedTable.rounds(rounds, List.copyOf(ways.values()));
        SpeedTable.print(List.copyOf(ways.keySet()), results);
    }
}

// %% [markdown]
// On two free cores, `primes-0` and `primes-1` count their halves at the same time. (In
// the notebook, `main` is the kernel's own thread.)
//
// @diagram cpu_bound-two-cores

// %% [run]
// JavaThreads.table(800_000, 5);

// %% [markdown]
// Read the busy cores of `1 platform thread` first: the share of a core one thread got.
// Every way does the same work in about the same CPU time, so in a round its speed-up is
// about its busy cores over that share. On free cores, two platform threads (or the
// stream) give up to about 2x, with close to two cores busy where CPython's kept one.
// Virtual threads (`ThreadMXBean` does not time them) and the stream are "not measured".
//
// On a loaded machine the line under the table says so. On a busy machine a speed-up
// measures how much of the CPU more threads won from other programs. It can exceed the
// number of cores; only the busy-cores column counts cores, and Java's may stay near 1
// too when other programs hold the CPUs: a loaded run can look like CPython's, or the
// wrong way round. The tests tell them apart: even on a busy machine two Java threads
// now and then (usually within seconds) use over 1.5 ms of CPU in one 2 ms window,
// which two CPython threads never do, while two Python processes do.
//
// ## Pitfalls
//
// - **More threads than cores add no cores.** Twice as many platform threads, or virtual
//   threads (they run on as many platform threads as there are cores), do no better on
//   free cores; on a loaded machine they may win more CPU from other programs.
// - **A computing virtual thread keeps its platform thread**: the JVM does not preempt
//   it, so long computations keep other virtual threads waiting.
// - **Uneven slices waste cores.** The slowest sets the wall time: cut many small tasks.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `threading.Thread` for CPU work: takes turns under the GIL | `Thread.ofPlatform()`, one per core: in parallel |
// | `ProcessPoolExecutor`, `multiprocessing.Pool` | a pool of `availableProcessors()` threads (it honours a container's CPU limit), or a parallel stream |
// | `time.thread_time()` | `ThreadMXBean.getCurrentThreadCpuTime()` |
// | `threading.Thread` for I/O-bound work | virtual threads (`virtual_threads`) |
//
// ## Try it
//
// - Run `taskset -c 0 jbang cpu_bound java` (Linux): `availableProcessors()` is then 1,
//   the table has 1 and 2 threads, and no row keeps more than one core busy (the
//   speed-up may still exceed 1: a share, not a core).
// - Put a free-threaded `python3.13t` for `"python3"` in the entry point and run `jbang
//   cpu_bound python`: it says GIL off, and on free cores its threads pass one busy core.
//
// ## Summary
//
// CPU-bound work gets faster on threads only when they compute at the same time on
// different cores: Java's threads do, up to the free cores, while CPython's threads take
// turns under the GIL.
//
// In Java, use one platform thread per core, a pool of that size or a parallel stream;
// more threads, or virtual threads, add no cores. Under the GIL, the workers' CPU time
// on pure-Python work adds up to at most about one core, whatever the load.

// %% [main]
class cpu_bound {  // the entry point, script only: `jbang cpu_bound --help`
    static final Section[] SECTIONS = {
            new Section("python", "CPython threads on CPU-bound work: they take turns",
                    speed -> CPython.demo("python3", Primes.scaled(20_000, speed), 5)),
            new Section("java", "the same work on Java threads, every core at once",
                    speed -> JavaThreads.table(Primes.scaled(800_000, speed), 5))};
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
