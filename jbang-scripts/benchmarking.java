///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DEPS org.openjdk.jmh:jmh-core:1.37
//DEPS org.openjdk.jmh:jmh-generator-annprocess:1.37
//COMPILE_OPTIONS -proc:full
package bench;  // JMH wants its benchmarks in a named package

import org.openjdk.jmh.annotations.*;  // here, before the cells: the notebook has no JMH

// %% [markdown]
// # Benchmarking: measure a counter's cost with JMH, not a stopwatch
//
// What does a lock cost; does a second thread speed a counter up? A `nanoTime()` loop
// times the warm-up of the JIT (the just-in-time compiler: hot bytecode to machine code)
// or code it deleted. JMH, OpenJDK's benchmark harness, avoids both.
//
// **You will learn**
// - why a hand-timed loop misleads: JIT warm-up and dead-code elimination
// - to write JMH benchmarks (`@State`, `@Benchmark`) and run them from a JBang script
// - to read the results: medians and ranges, and when a difference is no difference
// - why a second thread can slow a shared counter, and why a loaded machine can hide it

// %%
import java.lang.management.*;
import java.nio.file.*;
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.concurrent.locks.*;
import java.util.function.*;
import java.util.regex.*;
import java.util.stream.*;

// %% [markdown]
// ## The naive way: a stopwatch around a loop
//
// Read the clock, call the code many times, read the clock, divide: `rounds` does that
// five times on one `AtomicLong`, and reads this thread's CPU time too, which stops while
// the thread waits for a core. The loop starts interpreted; the JIT compiles it.
//
// `deadCode` times a square-root loop twice, both compiled first: once its results are
// summed and kept, once thrown away: the JIT sees that nothing uses them, and deletes it.

// %%
class NaiveTiming {
    static final int ROUNDS = 5, CALLS = 200_000, ROOTS = 1_000_000;
    static volatile double sink;  // where a kept result goes, so that it stays alive

    static void rounds() {
        var counter = new AtomicLong();
        var cpu = ManagementFactory.getThreadMXBean();  // this thread's own CPU time
        System.out.printf("%,d AtomicLong increments, timed %d times in a row:%n",
                CALLS, ROUNDS);
        for (int r = 1; r <= ROUNDS; r++) {
            long start = System.nanoTime(), cpuStart = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < CALLS; i++) counter.incrementAndGet();
            double wall = (double) (System.nanoTime() - start) / CALLS;
            double onCpu = (double) (cpu.getCurrentThreadCpuTime() - cpuStart) / CALLS;
            System.out.printf("  round %d: %7.2f ns on the clock, %7.2f ns on the CPU%n",
                    r, wall, onCpu);
        }
    }

    static double kept(int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.sqrt(i);
        return sum;
    }

    static void dropped(int n) {
        for (int i = 0; i < n; i++) Math.sqrt(i);  // the result is never used: dead code
    }

    static void deadCode() {
        for (int warm = 0; warm < 30; warm++) {  // let the JIT compile both loops first
            sink = kept(ROOTS);
            dropped(ROOTS);
        }
        long start = System.nanoTime();
        sink = kept(ROOTS);
        long keptNanos = System.nanoTime() - start;
        start = System.nanoTime();
        dropped(ROOTS);
        long droppedNanos = System.nanoTime() - start;
        System.out.printf("%,d square roots, compiled, then timed once each:%n"
                + "  results kept:        %7.3f ns per root%n"
                + "  results thrown away: %7.3f ns per root%n", ROOTS,
                keptNanos / (double) ROOTS, droppedNanos / (double) ROOTS);
    }
}

// %% [run]
// NaiveTiming.rounds();
// NaiveTiming.deadCode();

// %% [markdown]
// On the clock, rounds jump with the load. On the CPU, round 1 costs more than the best
// later round: it starts interpreted. The thrown-away loop costs next to nothing.
//
// ## The benchmarks
//
// JMH (`org.openjdk.jmh`) knows these traps. It calls each `@Benchmark` method in a
// loop it generates, times and stops, and passes what the method returns to a
// `Blackhole`, which the JIT cannot prove unused. State lives in a `@State` class:
// `Scope.Benchmark` shares one instance among the benchmark threads.
//
// JMH's annotation processor generates the harness, which JShell cannot run: the
// notebook only shows this code. JMH wants a named package (`package bench`) and a public
// `@State` class: the entry point, `benchmarking extends CounterBenchmarks`. Each fork
// makes its own instance of it; `main` does not run there.

// %% [show]
@State(Scope.Benchmark)                // one instance, shared by every benchmark thread
@BenchmarkMode(Mode.Throughput)        // the score: calls per time unit, threads summed
@OutputTimeUnit(TimeUnit.MICROSECONDS)
abstract class CounterBenchmarks {     // JMH runs these as `benchmarking`, at the bottom
    final ReentrantLock lock = new ReentrantLock();
    final AtomicLong atomic = new AtomicLong();
    final LongAdder adder = new LongAdder();
    long plain, synced, locked;        // each written by one benchmark only

    // Each returns its new count: JMH hands it to a Blackhole, so it is not dead code.
    @Benchmark public long plain() { return ++plain; }  // no coordination: loses counts
    @Benchmark public synchronized long sync() { return ++synced; }
    @Benchmark public long atomic() { return atomic.incrementAndGet(); }
    @Benchmark public void adder() { adder.increment(); }  // writes a shared cell

    @Benchmark public long lock() {
        lock.lock();
        try {
            return ++locked;
        } finally {
            lock.unlock();
        }
    }
}

// %% [markdown]
// ## Running JMH
//
// `jbang benchmarking` compiles the script with JMH's annotation processor
// (`//COMPILE_OPTIONS -proc:full`: since JDK 23 javac runs processors only when asked).
// The `jmh` section runs `java -cp <this JVM's class path> org.openjdk.jmh.Main`, with 1
// thread, then 2. For each benchmark JMH starts two fresh JVMs, *forks*, one after the
// other; each runs 5 warm-up iterations (not printed), then 5 measured ones, of 300 ms.
// A `--speed` above 1 shortens them to one fork: the output calls that a smoke run.
//
// @diagram benchmarking-jmh-run

// %%
class JmhRun {
    record Plan(int forks, int warmups, int iterations, long millis) {
        static Plan forSpeed(double speed) {  // above 1: shorter, 1 fork, a smoke run
            long millis = Math.round(300 / Math.max(1, speed));
            return new Plan(speed > 1 ? 1 : 2, 5, 5, millis);
        }

        List<String> options(int threads) {
            return List.of("-f", "" + forks, "-wi", "" + warmups, "-w", millis + "ms",
                    "-i", "" + iterations, "-r", millis + "ms", "-t", "" + threads);
        }

        Duration limit() {  // 5 benchmarks; a fork: its iterations, 8 s for the rest
            long forkMillis = (warmups + iterations) * millis + 8_000;
            return Duration.ofMillis(10_000 + 5 * forks * forkMillis);  // 120 s at most
        }
    }

    /** Runs `command`, its lines to `eachLine`; ends it and its forks after `limit`. */
    static int child(List<String> command, Duration limit, Consumer<String> eachLine)
            throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        Thread reader = Thread.ofPlatform().daemon().start(
                () -> process.inputReader().lines().forEach(eachLine));
        try {
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("not done within " + limit);
            }
            reader.join(limit);
            return process.exitValue();
        } finally {  // the handle's kill: Process's also closes the pipe being read
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.toHandle().destroyForcibly(); process.waitFor();
        }
    }
}

// %% [markdown]
// `Results.measure` reads JMH's lines as they come (`Iteration 1: 12.345 ops/us`, us:
// microseconds) and prints each score, a line per fork. `Stats.table` prints medians and
// ranges, and what the ranges support: `a > b` only when every iteration of `a` beat
// every one of `b`; `a ~ b` when they overlap, which is no verdict.

// %%
class Stats {
    static final List<String> COUNTERS = List.of("plain", "sync", "lock", "atomic",
            "adder");

    static void table(Map<String, List<Double>> scores) {
        System.out.println("increments per us (microsecond), threads summed:"
                + " median (min-max)");
        System.out.printf("%-7s %-24s %-24s %s%n", "", "1 thread", "2 threads", "2 vs 1");
        for (String c : COUNTERS) {
            List<Double> one = scores.get(c + "@1"), two = scores.get(c + "@2");
            System.out.printf("%-7s %-24s %-24s %s%n", c, summary(one), summary(two),
                    Map.of(">", "faster", "<", "slower", "~", "~")
                            .get(compare(two, one)));
        }
        for (int threads : List.of(1, 2)) {
            System.out.printf("at %d thread(s): %s%n", threads, ranking(scores, threads));
        }
        System.out.println("(a > b: every iteration of a beat every one of b;"
                + " a ~ b: the ranges overlap)");
    }

    static double median(List<Double> scores) {
        var sorted = scores.stream().sorted().toList();
        return (sorted.get((sorted.size() - 1) / 2) + sorted.get(sorted.size() / 2)) / 2;
    }

    static String summary(List<Double> scores) {
        return "%.1f (%.1f-%.1f)".formatted(median(scores), Collections.min(scores),
                Collections.max(scores));
    }

    /** ">" when every score of a beat every score of b, "<" the other way, else "~". */
    static String compare(List<Double> a, List<Double> b) {
        if (Collections.min(a) > Collections.max(b)) return ">";
        return Collections.max(a) < Collections.min(b) ? "<" : "~";
    }

    /** The counters by median, highest first, each neighbour joined by `compare`. */
    static String ranking(Map<String, List<Double>> scores, int threads) {
        Function<String, List<Double>> of = c -> scores.get(c + "@" + threads);
        var ranked = COUNTERS.stream()
                .sorted(Comparator.comparingDouble(c -> -median(of.apply(c)))).toList();
        var text = new StringBuilder(ranked.getFirst());
        for (int i = 1; i < ranked.size(); i++) {
            String sign = compare(of.apply(ranked.get(i - 1)), of.apply(ranked.get(i)));
            text.append(" ").append(sign).append(" ").append(ranked.get(i));
        }
        return text.toString();
    }
}

// %%
class Results {
    static final Pattern SCORE = Pattern.compile("Iteration +\\d+: ([\\d.]+) ops/us");
    static final String SMOKE_RUN = "(one short fork: a smoke run, not a measurement)\n";

    static Map<String, List<Double>> measure(JmhRun.Plan plan, String classPath)
            throws Exception {
        if (ClassLoader.getSystemResource("META-INF/BenchmarkList") == null) {
            System.out.println("no benchmarks compiled: run it with jbang");
            return Map.of();
        }
        var os = ManagementFactory.getOperatingSystemMXBean();
        System.out.printf("%d fork(s) x (%d warm-up + %d measured iterations of %d ms),"
                + " %d cores, load %.1f%n%s", plan.forks(), plan.warmups(),
                plan.iterations(), plan.millis(), os.getAvailableProcessors(),
                os.getSystemLoadAverage(), plan.forks() > 1 ? "" : SMOKE_RUN);
        var scores = new HashMap<String, List<Double>>();  // e.g. "lock@2" -> its scores
        for (int threads : List.of(1, 2)) {
            var command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Duser.language=en",  // scores as 1.5, not 1,5
                    "--sun-misc-unsafe-memory-access=allow",  // JMH uses sun.misc.Unsafe
                    "-cp", classPath, "org.openjdk.jmh.Main", "bench.benchmarking"));
            command.addAll(plan.options(threads));
            var output = new ArrayList<String>();
            var benchmark = new AtomicReference<String>();
            var fork = new ArrayList<Double>();
            int status = JmhRun.child(command, plan.limit(), line -> {  // a reader thread
                output.add(line);
                Matcher score = SCORE.matcher(line);
                if (line.startsWith("# Benchmark: ")) {
                    benchmark.set(line.substring(line.lastIndexOf('.') + 1));
                }
                if (line.startsWith("# Fork: ")) {  // "# Fork: 1 of 2"
                    fork.clear();
                    System.out.printf("  %-6s %d thread(s), fork %s:", benchmark, threads,
                            line.substring(8));
                }
                if (!score.matches()) return;
                fork.add(Double.parseDouble(score.group(1)));
                scores.computeIfAbsent(benchmark + "@" + threads, k -> new ArrayList<>())
                        .add(fork.getLast());
                System.out.printf("%8.1f%s", fork.getLast(),
                        fork.size() == plan.iterations() ? "\n" : "");
                System.out.flush();  // each score as it comes: progress for the audience
            });  // child() joined the reader: what it wrote is visible here
            int from = Math.max(0, output.size() - 10);  // JMH's last words
            if (status != 0) throw new IllegalStateException("JMH failed:\n"
                    + String.join("\n", output.subList(from, output.size())));
        }
        Stats.table(scores);
        return scores;
    }
}

// %% [markdown]
// The notebook cannot compile JMH code: this cell runs `jbang benchmarking jmh` (from
// `notebooks/`, hence `../`), about two minutes, and ends it and its JVMs after 270 s.

// %% [run]
// int status = JmhRun.child(List.of("../tools/bin/jbang",
//         "../jbang-scripts/benchmarking.java", "jmh"), Duration.ofSeconds(270),
//         System.out::println);
// if (status != 0) throw new IllegalStateException("jbang benchmarking: exit " + status);

// %% [markdown]
// ## Reading the numbers
//
// First read the line above the scores: the cores, and the load (threads running or
// waiting for a core, a one-minute average). Then:
//
// - **Forks can disagree.** Each JVM may compile and lay out the code differently:
//   one fork is one sample (`JMHSample_13_RunToRun`).
// - **`plain` is fast and wrong.** At 2 threads it loses increments (the `counter`
//   lesson proves it); its score is the speed of losing them.
// - **2 threads, 2 cores: one cache line.** Each write moves the counter's cache line
//   to the writing core, so one thread's progress is the other's cache miss; "slower"
//   in the last column means the second thread cut the total. `LongAdder` is designed
//   to spread contending threads over cells of their own.
// - **A busy machine hides all this.** With the load above the core count, the threads
//   seldom run at once; scores scatter, verdicts turn `~`. Measure on a quiet machine.
//
// ## Pitfalls
//
// - **A loop inside a benchmark** lets the JIT merge calls (`JMHSample_11_Loops`).
// - **Dead code, constant folding.** Return what you compute (`JMHSample_08_DeadCode`)
//   and read inputs from `@State` fields, not constants (`JMHSample_10_ConstantFold`).
// - **The wrong scope.** `Scope.Benchmark` measures contention, `Scope.Thread` none;
//   pick the one that asks your question (`JMHSample_03_States`).
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | `timeit.timeit(stmt, number=n)` | JMH: forks, warm-up, measured iterations |
// | `time.perf_counter()` around code | `System.nanoTime()`: the same caveats, plus the JIT |
//
// ## Try it
//
// - Run `jbang benchmarking naive` three times: the clock column changes with the load,
//   round 1 stays dearer on the CPU, and the thrown-away loop stays near zero.
// - Change `Scope.Benchmark` to `Scope.Thread`, run `jbang benchmarking jmh --speed 5`:
//   each thread has its own counters; with two idle cores expect `2 vs 1` to say
//   `faster` for the safe ones, while a loaded machine can leave it at `~`.
//
// ## Summary
//
// Measure with JMH, in several forks after warm-up, and believe a difference only when
// the ranges do not overlap.
//
// A stopwatch times the JIT and the machine's load as well as your code, or code the JIT
// deleted. On one counter, a second thread can cut the total; `LongAdder` is designed to
// spread that contention over cells, and whether it shows depends on free cores.

// %% [main]
public class benchmarking extends CounterBenchmarks {  // public: JMH runs it. `--help`
    static final Section[] SECTIONS = {
            new Section("naive", "a stopwatch around a loop: JIT warm-up and dead code",
                    speed -> { NaiveTiming.rounds(); NaiveTiming.deadCode(); }),
            new Section("jmh", "JMH: five counters at 1 and 2 threads, forked, warmed up",
                    speed -> Results.measure(JmhRun.Plan.forSpeed(speed),
                            System.getProperty("java.class.path")))};
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
