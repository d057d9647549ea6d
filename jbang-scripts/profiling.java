///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DEPS org.openjdk.jmh:jmh-core:1.37
//DEPS org.openjdk.jmh:jmh-generator-annprocess:1.37

// %% [markdown]
// # Profiling: measure before you thread, with JMH and JFR
//
// Threads are not free: every lock, atomic and hand-off costs something, and the cost
// changes with the number of threads and cores. So before adding threads, or a
// cleverer lock, measure, and measure with tools that do not lie. This lesson first
// shows how a hand-written `System.nanoTime()` loop lies, then measures the five
// counters of the `counter` lesson properly with **JMH**, the JDK team's benchmark
// harness, and finally asks **JFR**, the JDK's flight recorder, *where* threads wait
// for a lock: which monitor, how long, and from which line.
//
// Run it: `jbang profiling` from the repository root (JBang fetches JMH from Maven
// Central; see `//DEPS` above), or `jbang jbang-scripts/profiling.java`. The default
// run is the careful one and takes about a minute; `--speed 20` is the quick one.
// With a bare JDK (`java jbang-scripts/profiling.java`) everything but JMH runs.
// Try `--help`.

// %%
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

// %% [markdown]
// ## What we measure: five hit counters
//
// The counters of the `counter` lesson, as a web server's hit counter would write them:
// `run()` counts one hit, `total()` reads the count. The unsafe one loses hits under
// contention (the `counter` lesson proves it); it stays here as the baseline of what
// no coordination at all costs. They are `Runnable` on purpose: the JMH benchmark
// below lives in another package and sees them only through a JDK interface.

// %%
interface HitCounter extends Runnable {
    /** Counts one hit. */
    void run();

    long total();
}

// %%
final class PlainHits implements HitCounter {
    private long hits;  // no coordination: loses hits when threads overlap

    public void run() { hits++; }
    public long total() { return hits; }
}

// %%
final class SyncHits implements HitCounter {
    private long hits;

    public synchronized void run() { hits++; }
    public synchronized long total() { return hits; }
}

// %%
final class LockHits implements HitCounter {
    private final ReentrantLock lock = new ReentrantLock();
    private long hits;

    public void run() {
        lock.lock();
        try {
            hits++;
        } finally {
            lock.unlock();
        }
    }

    public long total() {
        lock.lock();
        try {
            return hits;
        } finally {
            lock.unlock();
        }
    }
}

// %%
final class AtomicHits implements HitCounter {
    private final AtomicLong hits = new AtomicLong();

    public void run() { hits.incrementAndGet(); }
    public long total() { return hits.get(); }
}

// %%
final class AdderHits implements HitCounter {
    private final LongAdder hits = new LongAdder();

    public void run() { hits.increment(); }
    public long total() { return hits.sum(); }
}

// %% [markdown]
// ## The naive way: a `System.nanoTime()` loop
//
// The obvious measurement: read the clock, call the code a few hundred thousand times,
// read the clock again, divide. `rounds` does exactly that, five times in a row, on the
// same `AtomicHits`. Nothing changes between the rounds but the JVM itself: the first
// round starts in the bytecode interpreter and pays for the JIT compiling the loop
// while it runs; later rounds run compiled code. One round alone, whichever, is not
// "the cost of an atomic increment".
//
// `deadCode` is the second lie. The same square-root loop twice: once its result is
// summed and returned, once it is thrown away. Once the JIT has compiled them, it
// sees that nothing uses the thrown-away results and deletes the whole loop, so the
// "free" loop measures nothing at all. A benchmark must consume what it computes.

// %%
class NaiveTiming {
    static volatile double sink;  // where kept results go, so they stay alive

    static void rounds(int rounds, int calls) {
        var hits = new AtomicHits();
        var nanosPerCall = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < calls; i++) hits.run();
            nanosPerCall[r] = (double) (System.nanoTime() - start) / calls;
        }
        double last = nanosPerCall[rounds - 1];
        System.out.printf("one AtomicLong increment, timed %d times in a row"
                + " (%,d calls each):%n", rounds, calls);
        for (int r = 0; r < rounds; r++) {
            System.out.printf("  round %d: %6.2f ns per call, %5.1fx the last round%n",
                    r + 1, nanosPerCall[r], nanosPerCall[r] / last);
        }
    }

    static double kept(int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.sqrt(i);
        return sum;
    }

    static void dropped(int n) {
        for (int i = 0; i < n; i++) Math.sqrt(i);  // result unused: dead code
    }

    static void deadCode(int n) {
        for (int warm = 0; warm < 30; warm++) {  // let the JIT compile both first
            sink = kept(n);
            dropped(n);
        }
        long start = System.nanoTime();
        sink = kept(n);
        long keptNanos = System.nanoTime() - start;
        start = System.nanoTime();
        dropped(n);
        long droppedNanos = Math.max(1, System.nanoTime() - start);
        System.out.printf("%,d square roots, compiled, then timed once each:%n", n);
        System.out.printf("  result summed and kept: %8.3f ns per root%n",
                (double) keptNanos / n);
        System.out.printf("  result thrown away:     %8.3f ns per root"
                + " (the kept loop took %.0fx as long)%n",
                (double) droppedNanos / n, (double) keptNanos / droppedNanos);
    }
}

// %% [run]
// NaiveTiming.rounds(5, 200_000);
// NaiveTiming.deadCode(1_000_000);

// %% [markdown]
// The rounds do not agree: the first one usually pays for the JIT, and on a busy
// machine the later ones scatter too. And the "free" loop is not free: it is gone.
// Neither is a property of the code; both are the JVM at work. Add threads and it gets
// worse: thread start-up, which thread the OS runs first, and other programs on the
// machine all land inside the timed region.
//
// ## The fix for measuring: JMH
//
// JMH (Java Microbenchmark Harness, `org.openjdk.jmh`) knows these traps. For each
// benchmark it starts a fresh JVM (a *fork*), so one benchmark's JIT profile cannot
// spoil the next; runs *warm-up* iterations and throws their results away; runs
// *measurement* iterations; and reports a mean with an error bar (a 99.9% confidence
// interval). It feeds every returned value to a `Blackhole`, so no result is dead, and
// it starts all benchmark threads together and stops them together.
//
// @diagram profiling-jmh-run
//
// One snag for a script: JMH generates its harness code with an annotation processor,
// and refuses a benchmark class in the unnamed package ("Benchmark class should have
// package other than default"). A JBang script, a JShell cell and this collection's
// Maven build all live in the unnamed package. So the benchmark is written here as
// source text in a package of its own, `profiling.bench`; `JmhLab` compiles it at run
// time with the JDK's compiler API and JMH's annotation processor (from `//DEPS`), and
// runs it in a child JVM. Its methods call the five counters above, found by name.
//
// The benchmark state has `Scope.Benchmark`: one instance shared by all threads, so
// with two threads both hammer the same counter. `main` at the bottom of the
// benchmark is JMH's Runner API: one run per thread count, then JMH's own result
// table on standard output and the scores in a file for `JmhLab` to read back.

// %%
class HitsBenchSource {
    static final String CLASS = "profiling.bench.HitsBench";
    static final String JAVA = """
        package profiling.bench;

        import java.io.PrintWriter;
        import java.nio.file.Path;
        import java.util.ArrayList;
        import java.util.List;
        import java.util.Locale;
        import java.util.concurrent.TimeUnit;
        import org.openjdk.jmh.annotations.*;
        import org.openjdk.jmh.results.RunResult;
        import org.openjdk.jmh.results.format.ResultFormatFactory;
        import org.openjdk.jmh.results.format.ResultFormatType;
        import org.openjdk.jmh.runner.Runner;
        import org.openjdk.jmh.runner.options.OptionsBuilder;
        import org.openjdk.jmh.runner.options.TimeValue;
        import org.openjdk.jmh.runner.options.VerboseMode;

        @State(Scope.Benchmark)              // one instance, shared by every thread
        @BenchmarkMode(Mode.Throughput)
        @OutputTimeUnit(TimeUnit.MICROSECONDS)
        public class HitsBench {
            Runnable plain, sync, lock, atomic, adder;

            @Setup(Level.Trial)              // fresh counters for every benchmark run
            public void setUp() throws ReflectiveOperationException {
                plain = counter("PlainHits");
                sync = counter("SyncHits");
                lock = counter("LockHits");
                atomic = counter("AtomicHits");
                adder = counter("AdderHits");
            }

            // The lesson's classes live in the unnamed package: found by name.
            static Runnable counter(String name) throws ReflectiveOperationException {
                var constructor = Class.forName(name).getDeclaredConstructor();
                constructor.setAccessible(true);
                return (Runnable) constructor.newInstance();
            }

            // Each increment writes shared memory, so none is dead code.
            @Benchmark public void plain() { plain.run(); }
            @Benchmark public void sync() { sync.run(); }
            @Benchmark public void lock() { lock.run(); }
            @Benchmark public void atomic() { atomic.run(); }
            @Benchmark public void adder() { adder.run(); }

            /** args: scoresFile forks warmups measurements iterationMillis threads... */
            public static void main(String[] args) throws Exception {
                Locale.setDefault(Locale.ROOT);  // JMH formats numbers by locale
                List<RunResult> all = new ArrayList<>();
                for (int i = 5; i < args.length; i++) {
                    var iteration = TimeValue.milliseconds(Long.parseLong(args[4]));
                    var results = new Runner(new OptionsBuilder()
                            .include(HitsBench.class.getName())
                            .forks(Integer.parseInt(args[1]))
                            .warmupIterations(Integer.parseInt(args[2]))
                            .warmupTime(iteration)
                            .measurementIterations(Integer.parseInt(args[3]))
                            .measurementTime(iteration)
                            .threads(Integer.parseInt(args[i]))
                            .shouldFailOnError(true)  // else a failure just goes missing
                            .verbosity(VerboseMode.SILENT)
                            .build()).run();
                    System.out.println("threads: " + args[i]);  // not in JMH's table
                    ResultFormatFactory.getInstance(ResultFormatType.TEXT, System.out)
                            .writeOut(results);
                    all.addAll(results);
                }
                try (var out = new PrintWriter(Path.of(args[0]).toFile(), "UTF-8")) {
                    for (RunResult r : all) {
                        var score = r.getPrimaryResult();
                        String name = r.getParams().getBenchmark();
                        out.printf("%s\\t%d\\t%s\\t%s\\t%s%n",
                                name.substring(name.lastIndexOf('.') + 1),
                                r.getParams().getThreads(), score.getScore(),
                                score.getScoreError(), score.getScoreUnit());
                    }
                }
            }
        }
        """;
}

// %% [markdown]
// `JmhLab` does the plumbing. `compile` runs `javac -proc:full` on that source: since
// JDK 23 javac runs annotation processors only when asked, and `-proc:full` asks. The
// processor writes the generated harness classes and `META-INF/BenchmarkList` next to
// the benchmark. Compiling takes seconds, so `compiled` keeps the result in the temp
// folder, named after a hash of the source: the next run with the same source reuses
// it. `run` starts `java -cp <compiled>:<this JVM's class path> HitsBench ...` with a
// timeout, prints JMH's table and reads the scores back.
//
// How long it measures is the `Plan`. The careful plan forks one JVM per benchmark:
// ten of them (five counters, at one thread and at two), each with 2 warm-up and 5
// measured iterations of 400 ms: about a minute. The quick plan (`--speed` of 10 or
// more) shortens the iterations and does not fork: all ten benchmarks share one JVM,
// so their JIT profiles mix. JMH warns against exactly that; the quick numbers are for
// smoke tests and slides, not for decisions.

// %%
class JmhLab {
    record Plan(int forks, int warmups, int measurements, long iterationMillis,
                List<Integer> threads) {
        /** 2 warm-up + 5 measured iterations of 400/speed ms; speed >= 10: no fork. */
        static Plan forSpeed(double speed, int threads) {
            long millis = Math.max(10, Math.round(400 / speed));
            var counts = threads == 1 ? List.of(1) : List.of(1, threads);
            return new Plan(speed >= 10 ? 0 : 1, 2, 5, millis, counts);
        }
    }

    /** One JMH result: ops/us summed over all threads, and its 99.9% error. */
    record Score(String benchmark, int threads, double opsPerMicro, double error) { }

    static final Duration PATIENCE = Duration.ofMinutes(10);

    /** Whether JMH is on this JVM's class path (JBang and Maven put it there). */
    static boolean available() {
        try {
            Class.forName("org.openjdk.jmh.runner.Runner", false,
                    JmhLab.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** Compiles the benchmark with JMH's annotation processor into {@code dir}. */
    static Path compile(Path dir, String classPath) throws IOException {
        Path source = dir.resolve("src/profiling/bench/HitsBench.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, HitsBenchSource.JAVA);
        var errors = new ByteArrayOutputStream();
        int status = ToolProvider.getSystemJavaCompiler().run(null, errors, errors,
                "-proc:full", "-nowarn", "-cp", classPath,
                "-d", dir.resolve("classes").toString(), source.toString());
        if (status != 0) {
            String why = errors.toString(StandardCharsets.UTF_8).lines().findFirst()
                    .orElse("");
            throw new IllegalStateException("javac could not compile the benchmark"
                    + " (is JMH on the class path?): " + why);
        }
        return dir.resolve("classes");
    }

    /** {@link #compile}, once per version of the source, kept in the temp folder. */
    static Path compiled(String classPath) throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Path cache = tmp.resolve("profiling-jmh-" + sha256(HitsBenchSource.JAVA));
        if (Files.exists(cache.resolve("classes/META-INF/BenchmarkList"))) {
            return cache.resolve("classes");
        }
        Path fresh = Files.createTempDirectory(tmp, "profiling-jmh-new-");
        try {
            compile(fresh, classPath);
            Files.move(fresh, cache, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            // another run got there first: use its copy
        } finally {
            if (Files.exists(fresh)) deleteTree(fresh);
        }
        return cache.resolve("classes");
    }

    /** Runs every benchmark at every thread count of the plan in a child JVM. */
    static List<Score> run(Path classes, String classPath, Plan plan, Duration patience)
            throws IOException, InterruptedException {
        Path scores = Files.createTempFile("profiling-scores", ".tsv");
        Path out = Files.createTempFile("profiling-jmh", ".out");
        Path err = Files.createTempFile("profiling-jmh", ".err");
        try {
            var command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--sun-misc-unsafe-memory-access=allow",  // JMH uses sun.misc.Unsafe
                    "-cp", classes + File.pathSeparator + classPath,
                    HitsBenchSource.CLASS, scores.toString(), "" + plan.forks(),
                    "" + plan.warmups(), "" + plan.measurements(),
                    "" + plan.iterationMillis()));
            plan.threads().forEach(t -> command.add("" + t));
            Process child = new ProcessBuilder(command)
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!child.waitFor(patience.toMillis(), TimeUnit.MILLISECONDS)) {
                child.descendants().forEach(ProcessHandle::destroyForcibly);  // JMH forks
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException("JMH did not finish within " + patience);
            }
            if (child.exitValue() != 0) {
                throw new IllegalStateException("JMH failed (exit " + child.exitValue()
                        + "): " + lastLine(Files.readString(err)));
            }
            System.out.print(Files.readString(out));
            return Files.readAllLines(scores).stream()
                    .map(line -> line.split("\t"))
                    .map(f -> new Score(f[0], Integer.parseInt(f[1]),
                            Double.parseDouble(f[2]), Double.parseDouble(f[3])))
                    .toList();
        } finally {
            for (Path p : List.of(scores, out, err)) Files.deleteIfExists(p);
        }
    }

    /** Compiles (or reuses), runs, and prints the ratios: what `main` calls. */
    static List<Score> measure(Plan plan, String classPath)
            throws IOException, InterruptedException {
        System.out.printf("JMH on %d cores, load average %.1f%nplan: %d fork(s),"
                + " %d warm-up + %d measured iterations of %d ms, threads %s%n",
                Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                plan.forks(), plan.warmups(), plan.measurements(), plan.iterationMillis(),
                plan.threads());
        var scores = run(compiled(classPath), classPath, plan, PATIENCE);
        printRatios(scores, plan.threads());
        return scores;
    }

    static final Map<String, String> LABELS = labels();

    private static Map<String, String> labels() {
        var labels = new LinkedHashMap<String, String>();
        labels.put("plain", "unsafe plain field");
        labels.put("sync", "synchronized");
        labels.put("lock", "ReentrantLock");
        labels.put("atomic", "AtomicLong");
        labels.put("adder", "LongAdder");
        return labels;
    }

    /** Each score against AtomicLong at 1 thread, and each counter's own scaling. */
    static void printRatios(List<Score> scores, List<Integer> threads) {
        var byKey = new HashMap<String, Score>();
        for (Score s : scores) byKey.put(s.benchmark() + "@" + s.threads(), s);
        Score base = byKey.get("atomic@1");
        int most = threads.getLast();
        System.out.printf("%nratios of those scores (higher is faster)%n");
        System.out.printf("%-19s %13s %13s %9s %13s%n", "counter", "1 thread",
                most + " threads", most + "t / 1t", "widest error");
        for (var label : LABELS.entrySet()) {
            Score one = byKey.get(label.getKey() + "@1");
            Score many = byKey.get(label.getKey() + "@" + most);
            double error = Math.max(one.error() / one.opsPerMicro(),
                    many.error() / many.opsPerMicro());
            System.out.printf("%-19s %12.2fx %12.2fx %8.2fx %13s%n",
                    label.getValue(), one.opsPerMicro() / base.opsPerMicro(),
                    many.opsPerMicro() / base.opsPerMicro(),
                    many.opsPerMicro() / one.opsPerMicro(),
                    Double.isNaN(error) ? "n/a" : Math.round(100 * error) + " %");
        }
        System.out.println("(1 thread, " + most + " threads: throughput as a multiple of"
                + " AtomicLong's at 1 thread;\n widest error: JMH's error of the two"
                + " scores, as a share of the score)");
    }

    /** For a notebook: the class path of this script as JBang builds it (with JMH). */
    static String classPathFromJbang(Path jbang, Path script)
            throws IOException, InterruptedException {
        jbang(jbang.toString(), "build", script.toString());  // info does not build
        String classPath = lastLine(jbang(jbang.toString(), "info", "classpath",
                script.toString()));  // JBang's progress lines come first
        String first = classPath.split(File.pathSeparator)[0];
        if (!Files.exists(Path.of(first))) {
            throw new IllegalStateException("JBang built no " + first);
        }
        return classPath;
    }

    private static String jbang(String... command)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("profiling-jbang", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            if (!p.waitFor(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException(String.join(" ", command)
                        + ": timed out");
            }
            String text = Files.readString(out);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: "
                        + lastLine(text));
            }
            return text;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static String lastLine(String text) {
        var lines = text.strip().lines().toList();
        return lines.isEmpty() ? "(no output)" : lines.getLast();
    }

    private static String sha256(String text) {
        try {
            var digest = MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}

// %% [markdown]
// In the notebook, JShell cannot read `//DEPS`, so JMH is not on its class path. The
// cell asks JBang for the class path it resolved for this script (JMH's jars and the
// script itself, compiled: the benchmark's child JVM loads the counters from there),
// then calls the same `measure` that `main` calls, with the quick plan. The kernel
// runs in the `notebooks/` folder, hence the `../`. Before you read the ratios,
// read the first line (how many cores, how busy they were) and the error column.

// %% [run]
// String jmhClassPath = JmhLab.classPathFromJbang(Path.of("../tools/bin/jbang"),
//         Path.of("../jbang-scripts/profiling.java"));
// var scores = JmhLab.measure(JmhLab.Plan.forSpeed(20, 2), jmhClassPath);

// %% [markdown]
// ## What the numbers mean on this machine
//
// Read the ratio table, not the raw scores: the raw scores above change with the
// machine, the load on it and the JDK, while which counter is faster than which, and
// by roughly how much, holds much better. And read the error column: JMH's error is
// a 99.9% interval, and when it is as wide as the score itself, the score says little.
//
// - **1 thread**: nobody contends. A lock or an atomic still costs an atomic
//   instruction per increment, which is what separates them from the plain field.
// - **2 threads on 2 cores**: both threads write the same cache line, so it bounces
//   between the cores on every increment; one thread's progress is the other's
//   cache miss. A counter whose "2t / 1t" column is below 1 did less total work with
//   two threads than with one: adding a thread made it slower. `LongAdder` spreads
//   contending threads over separate cells, each on a cache line of its own, which is
//   why it can scale.
// - **The plain field** is fast and wrong: with two threads it loses hits, and the
//   number JMH prints is the speed of losing them.
// - **More threads than cores** measures the scheduler, not the counter. This
//   machine's core count is printed on the first line of the run.
// - **A busy machine hides contention.** The first line also prints the load average:
//   roughly how many threads were running or waiting to run, averaged over the last
//   minute. When it is well above the core count, other programs hold the cores, the
//   two benchmark threads seldom run at the same moment, and what you measure is the
//   queue for the CPU. The errors then grow and the ratios drift; measure again on a
//   quiet machine before you decide anything.
//
// ## Where do threads wait? Ask JFR
//
// JMH tells you how fast; it cannot tell you where, in a real program, threads stand
// still. JDK Flight Recorder can, at a cost low enough for production. It is built
// into the JVM, and `jdk.jfr` starts and reads a recording from Java code. Two events
// matter for locks: `jdk.JavaMonitorEnter` is written when a thread had to *wait* to
// enter a `synchronized` block or method (with the monitor's class and the waiting
// thread's stack), and `jdk.ThreadPark` when a thread parks, which is how a waiting
// `ReentrantLock` (and most of `java.util.concurrent`) blocks. By default both are
// recorded only for waits over 20 ms; a threshold of zero records every one.
//
// The program to profile is an audit ledger with a classic mistake: `postHoldingMonitor`
// holds the ledger's monitor while it writes the line to slow storage (simulated by
// a sleep), so every other poster waits for the write. `postHoldingLock` makes the same
// mistake with a `ReentrantLock`; `postThenLock` is the fix: write first, lock only to
// append.

// %%
class ContendedLedger {
    private final List<String> lines = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Duration write;  // simulated slow storage

    ContendedLedger(Duration write) { this.write = write; }

    synchronized void postHoldingMonitor(String line) throws InterruptedException {
        Thread.sleep(write);  // everyone else waits for this
        lines.add(line);
    }

    void postHoldingLock(String line) throws InterruptedException {
        lock.lock();
        try {
            Thread.sleep(write);
            lines.add(line);
        } finally {
            lock.unlock();
        }
    }

    void postThenLock(String line) throws InterruptedException {
        Thread.sleep(write);  // the slow part, outside the lock
        synchronized (this) {
            lines.add(line);
        }
    }

    synchronized int size() { return lines.size(); }

    ReentrantLock lock() { return lock; }  // for the forced demo
}

// %% [markdown]
// `JfrLocks.recordDuring` starts a `Recording` with both events at threshold zero and
// with stack traces, runs some work, stops, dumps the recording to a temp file and
// reads it back with `RecordingFile.readAllEvents`. `summarise` keeps the events of
// the threads whose names start with a given prefix and counts them, adds up how long
// they waited, names the class waited on most, and counts the first frame of each
// stack that is not JDK code: the line in *our* code where the thread stood still.
//
// First the slow motion, forced with no luck involved: the main thread holds the
// ledger's monitor, starts a thread that calls `postHoldingMonitor`, waits until that
// thread is `BLOCKED` on that very monitor (`ThreadMXBean` names the object a thread
// waits for), and lets go. Then the same with the ledger's `ReentrantLock`, whose
// `hasQueuedThread` says when the other thread is in its queue.
// JFR must record exactly one monitor enter and at least one park.
//
// @diagram profiling-jfr-handoff

// %%
class JfrLocks {
    static final String MONITOR_ENTER = "jdk.JavaMonitorEnter";
    static final String PARK = "jdk.ThreadPark";

    /** What JFR saw on the threads with one name prefix. */
    record Summary(long monitorEnters, Duration blocked, String monitorClass,
                   long parks, Duration parked, String parkedClass,
                   Map<String, Long> topFrames) { }

    interface Work {
        void run() throws Exception;
    }

    /** Runs {@code work} under a recording of every lock wait; returns its events. */
    static List<RecordedEvent> recordDuring(Work work) throws Exception {
        Path file = Files.createTempFile("profiling", ".jfr");
        try (var recording = new Recording()) {
            recording.enable(MONITOR_ENTER).withThreshold(Duration.ZERO).withStackTrace();
            recording.enable(PARK).withThreshold(Duration.ZERO).withStackTrace();
            recording.start();
            work.run();
            recording.stop();
            recording.dump(file);
            return RecordingFile.readAllEvents(file);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    static Summary summarise(List<RecordedEvent> events, String threadPrefix) {
        long enters = 0, parks = 0;
        Duration blocked = Duration.ZERO, parked = Duration.ZERO;
        var monitors = new HashMap<String, Long>();
        var parkedOn = new HashMap<String, Long>();
        var frames = new HashMap<String, Long>();
        for (RecordedEvent e : events) {
            if (e.getThread() == null || e.getThread().getJavaName() == null
                    || !e.getThread().getJavaName().startsWith(threadPrefix)) continue;
            String type = e.getEventType().getName();
            if (type.equals(MONITOR_ENTER)) {
                enters++;
                blocked = blocked.plus(e.getDuration());
                monitors.merge(className(e, "monitorClass"), 1L, Long::sum);
            } else if (type.equals(PARK)) {
                parks++;
                parked = parked.plus(e.getDuration());
                parkedOn.merge(className(e, "parkedClass"), 1L, Long::sum);
            } else {
                continue;
            }
            frames.merge(firstFrameOfOurs(e), 1L, Long::sum);
        }
        return new Summary(enters, blocked, mostCommon(monitors), parks, parked,
                mostCommon(parkedOn), top(frames, 3));
    }

    /** One forced monitor wait and one forced lock wait, in slow motion. */
    static Summary forced() throws Exception {
        var ledger = new ContendedLedger(Duration.ZERO);
        var events = recordDuring(() -> {
            Thread waiter;
            synchronized (ledger) {  // the monitor postHoldingMonitor needs
                waiter = start("forced-monitor", () -> ledger.postHoldingMonitor("late"));
                awaitWaitingOn(waiter, ledger);
            }
            join(waiter);
            ledger.lock().lock();
            try {
                waiter = start("forced-lock", () -> ledger.postHoldingLock("late"));
                awaitWaitingOn(waiter, ledger.lock());
            } finally {
                ledger.lock().unlock();
            }
            join(waiter);
        });
        Summary s = summarise(events, "forced-");
        System.out.println("forced: one thread waits for the monitor, one for the lock");
        print(s);
        return s;
    }

    /** The three ways to post, each from {@code threads} threads, in one recording. */
    static Map<String, Summary> compare(int threads, int posts, Duration write)
            throws Exception {
        var ways = new LinkedHashMap<String, Way>();
        ways.put("synchronized, slow write inside", ContendedLedger::postHoldingMonitor);
        ways.put("ReentrantLock, slow write inside", ContendedLedger::postHoldingLock);
        ways.put("synchronized, slow write outside", ContendedLedger::postThenLock);
        var ledgers = new ArrayList<ContendedLedger>();
        var events = recordDuring(() -> {
            int n = 0;
            for (Way way : ways.values()) {
                var ledger = new ContendedLedger(write);
                ledgers.add(ledger);
                var workers = new ArrayList<Thread>();
                for (int t = 0; t < threads; t++) {
                    workers.add(start("way" + n + "-poster-" + t, () -> {
                        for (int i = 0; i < posts; i++) way.post(ledger, "entry " + i);
                    }));
                }
                for (Thread w : workers) join(w);
                n++;
            }
        });
        System.out.printf("%d threads x %d posts, each write %.2f ms:%n",
                threads, posts, write.toNanos() / 1e6);
        var summaries = new LinkedHashMap<String, Summary>();
        int n = 0;
        for (String name : ways.keySet()) {
            summaries.put(name, summarise(events, "way" + n + "-"));
            if (ledgers.get(n).size() != threads * posts) {
                throw new IllegalStateException(name + ": posts went missing");
            }
            n++;
        }
        System.out.printf("%-33s %14s %10s %7s %10s%n",
                "way to post", "monitor enters", "blocked", "parks", "parked");
        summaries.forEach((name, s) -> System.out.printf(
                "%-33s %,14d %7.1f ms %,7d %7.1f ms%n", name, s.monitorEnters(),
                millis(s.blocked()), s.parks(), millis(s.parked())));
        for (var entry : summaries.entrySet()) {
            Summary s = entry.getValue();
            if (s.monitorEnters() + s.parks() == 0) continue;
            System.out.println(entry.getKey() + ": waited on " + s.monitorClass()
                    + " / parked on " + s.parkedClass() + "; top frames:");
            s.topFrames().forEach((frame, count) ->
                    System.out.printf("  %,6d  %s%n", count, frame));
        }
        return summaries;
    }

    interface Way {
        void post(ContendedLedger ledger, String line) throws InterruptedException;
    }

    static void print(Summary s) {
        System.out.printf("  %-21s %d event(s), %.2f ms blocked, monitor class %s%n",
                MONITOR_ENTER + ":", s.monitorEnters(), millis(s.blocked()),
                s.monitorClass());
        System.out.printf("  %-21s %d event(s), %.2f ms parked, parked on %s%n",
                PARK + ":", s.parks(), millis(s.parked()), s.parkedClass());
        s.topFrames().forEach((frame, count) ->
                System.out.printf("  %,6d  %s%n", count, frame));
    }

    private static String className(RecordedEvent e, String field) {
        var recorded = e.hasField(field) ? e.getClass(field) : null;
        return recorded == null ? "-" : simple(recorded.getName());
    }

    /** The first frame outside the JDK: where our code asked for the lock. */
    private static String firstFrameOfOurs(RecordedEvent e) {
        if (e.getStackTrace() == null) return "(no stack)";
        for (RecordedFrame f : e.getStackTrace().getFrames()) {
            String type = f.getMethod().getType().getName();
            if (type.startsWith("java.") || type.startsWith("jdk.")
                    || type.startsWith("sun.")) continue;
            return simple(type) + "." + f.getMethod().getName()
                    + " line " + f.getLineNumber();
        }
        return "(JDK code only)";
    }

    /** The name without its package, and without JShell's "$JShell$12$" prefix. */
    static String simple(String className) {
        return className.substring(className.lastIndexOf('.') + 1)
                .replaceFirst("^\\$JShell\\$\\w+\\$", "");
    }

    private static String mostCommon(Map<String, Long> counts) {
        return counts.entrySet().stream().max(Map.Entry.comparingByValue())
                .map(Map.Entry::getKey).orElse("-");
    }

    private static Map<String, Long> top(Map<String, Long> counts, int n) {
        var top = new LinkedHashMap<String, Long>();
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(n)
                .forEach(e -> top.put(e.getKey(), e.getValue()));
        return top;
    }

    private static double millis(Duration d) { return d.toNanos() / 1e6; }

    private static Thread start(String name, Work work) {
        return Thread.ofPlatform().name(name).start(() -> {
            try {
                work.run();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** Polls until {@code t} waits for this monitor or lock; never sleeps to sync. */
    static void awaitWaitingOn(Thread t, Object monitorOrLock) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!waitingOn(t, monitorOrLock)) {
            if (System.nanoTime() > deadline || !t.isAlive()) {
                throw new IllegalStateException(t.getName() + " never blocked");
            }
            Thread.onSpinWait();
        }
    }

    static boolean waitingOn(Thread t, Object monitorOrLock) {
        if (monitorOrLock instanceof ReentrantLock lock) {
            return lock.hasQueuedThread(t) && t.getState() == Thread.State.WAITING;
        }
        var info = ManagementFactory.getThreadMXBean().getThreadInfo(t.threadId());
        return info != null && info.getThreadState() == Thread.State.BLOCKED
                && info.getLockInfo() != null  // and blocked on this very object:
                && info.getLockInfo().getIdentityHashCode()
                        == System.identityHashCode(monitorOrLock);
    }

    private static void join(Thread t) throws InterruptedException {
        if (!t.join(Duration.ofSeconds(30))) {
            throw new IllegalStateException(t.getName() + " did not finish");
        }
    }
}

// %% [run]
// var forced = JfrLocks.forced();

// %% [markdown]
// Now the real run: every way to post, from several threads at once, in one recording.
// Which thread waits, and how often, varies from run to run; what does not vary is
// which way of posting makes threads wait, and where. The frames point at the line
// that asked for the monitor or the lock.

// %% [run]
// var byWay = JfrLocks.compare(2, 20, Duration.ofMillis(2));

// %% [markdown]
// With the write inside the monitor, the posters queue up behind it and JFR counts
// the waits as monitor enters; with the same mistake made with a `ReentrantLock`, the
// waits show up as parks on the lock's `NonfairSync` instead, and a tool that looks
// only at monitors would miss them. Moving the write out of the lock removes nearly
// all the waiting, without a single extra thread.
//
// The same recording from the command line, for any Java program:
//
// ```
// java -XX:StartFlightRecording:filename=app.jfr,settings=profile -jar app.jar
// jfr summary app.jfr
// jfr print --events jdk.JavaMonitorEnter,jdk.ThreadPark app.jfr
// jfr view contention-by-site app.jfr
// ```
//
// (`settings=profile` records monitor enters over 10 ms; JDK Mission Control opens
// the same file in a GUI.)
//
// ## Which tool for which question
//
// | question | tool |
// |---|---|
// | is A faster than B, in isolation, and by how much | JMH, several forks |
// | how does it scale from 1 to N threads | JMH with `threads(n)` (or `@Threads`) |
// | where does my running program spend time, or wait for locks | JFR (`jdk.jfr`, `-XX:StartFlightRecording`, `jfr`) |
// | is a thread stuck right now | `jcmd <pid> Thread.print`, `ThreadMXBean` (see `deadlock`) |
// | how long did this one request take | `System.nanoTime()` around it, in production metrics |
// | CPU flame graphs with native frames | async-profiler (outside the JDK) |
//
// ## Pitfalls
//
// - **One `nanoTime` loop is not a measurement.** The first rounds above run
//   interpreted code while the JIT compiles. The JMH samples show the rest:
//   `JMHSample_11_Loops` (a loop around the measured code lets the JIT unroll and
//   merge its iterations), `JMHSample_12_Forking` (JIT profiles leak between
//   benchmarks that share a JVM, which is why the quick plan's numbers are only
//   indicative), `JMHSample_13_RunToRun` (one fork differs from the next: use
//   several), `JMHSample_17_SyncIterations` (threads must start and stop together).
// - **Dead code.** A result nobody uses may never be computed
//   (`JMHSample_08_DeadCode`): return it from the `@Benchmark` method or feed it to a
//   `Blackhole` (`JMHSample_09_Blackholes`).
// - **Constant folding.** Inputs the JIT can see as constants are computed once, at
//   compile time (`JMHSample_10_ConstantFold`): read inputs from `@State` fields.
// - **Shared or per-thread state.** `Scope.Benchmark` shares one instance between
//   threads (contention, as here); `Scope.Thread` gives each thread its own (no
//   contention). Pick the one that matches the question. Two "separate" fields can
//   still share a cache line (`JMHSample_22_FalseSharing`).
// - **Few cores, wide error bars.** On 2 cores, two benchmark threads leave nothing
//   for the OS, the JIT and the GC; JMH's error bars widen and other programs on the
//   machine land in the numbers. Compare ratios from one run, re-run, and distrust a
//   difference smaller than its error.
// - **Default JFR thresholds hide short waits.** `jdk.JavaMonitorEnter` defaults to
//   20 ms; thousands of 1 ms waits add up and show nothing. Lower the threshold while
//   you investigate; zero is fine for a short recording, costly for a long one.
// - **A `ReentrantLock` is not a monitor.** Its waits are `jdk.ThreadPark` events.
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | `timeit.timeit(stmt, number=n)` | JMH: forks, warm-up, error bars, `Blackhole` |
// | `time.perf_counter()` around code | `System.nanoTime()` around code (same caveats, plus the JIT) |
// | `cProfile` / `profile` | JFR (`-XX:StartFlightRecording`, `jdk.jfr`), async-profiler |
// | `py-spy dump --pid` | `jcmd <pid> Thread.print` |
// | (no lock contention events) | `jdk.JavaMonitorEnter`, `jdk.ThreadPark` |
//
// The seed's advice, "profile first: threading adds overhead and complexity", holds in
// both languages; in Java the JIT adds one more reason not to trust a stopwatch, and
// the JDK ships the tools to do better.
//
// Related lessons: `counter` (the five counters and why the plain one is wrong),
// `cpu_bound` (when threads do speed a computation up), `deadlock` (thread dumps and
// `ThreadMXBean`), `virtual_threads` (what blocking costs there).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line;
// a bad option prints one line and exits with status 2.

// %%
class profiling {
    static final String USAGE = """
            Usage: profiling [options]
              --threads N   contending threads in JMH and JFR (default 2); JMH runs 1 too
              --part P      what to run: all, naive, jmh or jfr (default all)
              --speed X     pace (default 1). JMH iterations last 400/X ms (at least 10).
                            X < 10: one fresh JVM per benchmark, about a minute at X = 1.
                            X >= 10: quick mode, no forks, a few seconds; indicative only.
                            JFR's simulated slow write lasts 2/X ms.
              --help        print this and exit
            JMH needs the //DEPS: run with jbang. With a bare JDK, JMH is skipped.""";

    record Options(int threads, String part, double speed) { }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("profiling: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        boolean all = o.part().equals("all");
        if (all || o.part().equals("naive")) {
            System.out.println("== The naive way: a System.nanoTime() loop ==");
            NaiveTiming.rounds(5, 200_000);
            NaiveTiming.deadCode(1_000_000);
        }
        if (all || o.part().equals("jmh")) {
            System.out.println("\n== The fix for measuring: JMH ==");
            if (JmhLab.available()) {
                JmhLab.measure(JmhLab.Plan.forSpeed(o.speed(), o.threads()),
                        System.getProperty("java.class.path"));
            } else {
                System.out.println("JMH is not on the class path: run with jbang");
            }
        }
        if (all || o.part().equals("jfr")) {
            System.out.println("\n== Where do threads wait? Ask JFR ==");
            JfrLocks.forced();
            System.out.println();
            long writeMicros = Math.max(1, Math.round(2_000 / o.speed()));
            JfrLocks.compare(o.threads(), 20, Duration.ofNanos(writeMicros * 1_000));
        }
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
        String part = given.getOrDefault("--part", "all");
        if (!List.of("all", "naive", "jmh", "jfr").contains(part)) {
            throw new IllegalArgumentException(
                    "--part wants all, naive, jmh or jfr, got '" + part + "'");
        }
        return new Options(
                count("--threads", given.getOrDefault("--threads", "2")),
                part,
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
