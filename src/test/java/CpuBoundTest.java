import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import support.Scripts;
import support.Threads;

/**
 * What the `cpu_bound` lesson claims, proven: every way counts exactly what one thread
 * counts; CPython's threads, with the GIL on, running pure-Python work, keep at most
 * about one core busy, whatever the load, nor run at the same instant (where two Python
 * processes doing the same work, on the same machine at that moment, exceed it); Java's
 * two threads keep more than
 * that busy whenever the other processes leave them two cores (measured, on Linux, from
 * /proc/stat), and run at the same instant even on a busy machine. Tagged to run after
 * the other classes, in the only test JVM (pom.xml): a second test JVM busy alongside
 * leaves the measurements "too busy to tell", and the tests that need them skip.
 */
@Tag("whole-machine")
class CpuBoundTest {
    static final long FROM = Primes.FROM;
    static final int CORES = Runtime.getRuntime().availableProcessors();
    /** Busy cores that threads taking turns on one core cannot reach (time slices, the
     *  GIL hand-over and clock granularity stay far below 0.2 of a core). */
    static final double ONE_CORE_BOUND = 1.2;

    // ---- the work -----------------------------------------------------------------

    @Test
    @Timeout(10)
    void isPrimeAgreesWithAnIndependentTest() {
        for (long start : List.of(-10L, FROM)) {
            for (long n = start; n < start + 3_000; n++) {
                assertEquals(n > 1 && BigInteger.valueOf(n).isProbablePrime(50),
                        Primes.isPrime(n), "n = " + n);
            }
        }
        assertEquals(168, Primes.count(0, 1_000));
    }

    @ParameterizedTest(name = "[{0}, {1}) in {2}")
    @CsvSource({"0, 10, 3", "0, 10, 10", "0, 5, 8", "7, 7, 3", "10000000, 10000100, 3",
            "10000000, 10800000, 4", "-5, 6, 4"})
    @Timeout(10)
    void slicesMeetEndToStartWithSizesWithinOne(long from, long to, int parts) {
        assertEquals(from, Primes.bound(from, to, 0, parts));
        assertEquals(to, Primes.bound(from, to, parts, parts));
        long floor = (to - from) / parts;
        for (int i = 0; i < parts; i++) {
            long size = Primes.bound(from, to, i + 1, parts)
                    - Primes.bound(from, to, i, parts);
            assertTrue(size == floor || size == floor + 1, "slice " + i + ": " + size);
        }
    }

    static Stream<Arguments> sizesAndThreads() {
        var cases = new ArrayList<Arguments>();
        for (long size : List.of(0L, 1L, 7L, 1_000L, 4_999L)) {
            for (int threads : List.of(1, 2, 3, 8))
                cases.add(Arguments.of(size, threads));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} numbers on {1} threads")
    @MethodSource("sizesAndThreads")
    @Timeout(30)
    void everyJavaWayCountsWhatOneThreadCounts(long size, int threads) throws Exception {
        long to = FROM + size;
        long expected = Primes.count(FROM, to);

        assertEquals(expected,
                JavaThreads.count(Thread.ofPlatform(), to, threads).primes());
        assertEquals(expected,
                JavaThreads.count(Thread.ofVirtual(), to, threads).primes());
        assertEquals(expected, JavaThreads.stream(to).primes());
    }

    /**
     * One platform worker's busy cores count its own CPU time, not the process's: while a
     * second thread spins on purpose, the process uses more than 1.3 cores but the worker
     * at most one. Rounds go on for up to 10 s until the process gets that much CPU; on a
     * machine too busy for it in every round, the test is skipped.
     */
    @Test
    @Timeout(60)
    void platformWorkersReportTheirOwnCpuTimeVirtualOnesDoNot() throws Exception {
        var virtual = JavaThreads.count(Thread.ofVirtual(), FROM + 1_000, 2);
        assertTrue(Double.isNaN(virtual.busy()), "" + virtual);

        assumeTrue(CORES >= 2, "one core: the process cannot use more than one");
        var os = (com.sun.management.OperatingSystemMXBean)
                ManagementFactory.getOperatingSystemMXBean();
        JavaThreads.count(Thread.ofPlatform(), FROM + 200_000, 1);  // warm-up for the JIT
        var stop = new CountDownLatch(1);
        Thread spinner = Thread.ofPlatform().start(() -> {
            while (stop.getCount() > 0) Thread.onSpinWait();  // a second busy core
        });
        var crowded = new ArrayList<String>();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < deadline) {
                long cpu = os.getProcessCpuTime(), start = System.nanoTime();
                var one = JavaThreads.count(Thread.ofPlatform(), FROM + 400_000, 1);
                double process = (os.getProcessCpuTime() - cpu)
                        / (double) (System.nanoTime() - start);
                if (process > 1.3) {  // the process's CPU time would show as over 1.3
                    assertTrue(one.busy() > 0 && one.busy() <= 1.05,
                            "the process used %.2f cores; the worker: %s".formatted(
                                    process, one));
                    return;
                }
                crowded.add("%.2f".formatted(process));
            }
        } finally {
            stop.countDown();
            Threads.joinAll(List.of(spinner));
        }
        abort("too busy to tell: the process never used over 1.3 cores: " + crowded);
    }

    // ---- the table ----------------------------------------------------------------

    @Test
    @Timeout(10)
    void spreadIsTheMedianThenTheMinimumAndMaximum() {
        assertEquals("2.00x (1.00-9.00)",
                SpeedTable.spread(Stream.of(9.0, 1.0, 2.0), "x"));
        assertEquals("2.50 (1.00-9.00)",
                SpeedTable.spread(Stream.of(3.0, 9.0, 1.0, 2.0), ""));
        assertEquals("not measured",
                SpeedTable.spread(Stream.of(1.0, Double.NaN), ""));
    }

    @Test
    @Timeout(10)
    void runsThatCountedDifferentPrimesAreRefused() {
        var round = List.of(new TimedRun(5, 1, 1), new TimedRun(4, 1, 1));
        assertThrows(IllegalStateException.class,
                () -> SpeedTable.print(List.of("one", "two"), List.of(round)));
    }

    // ---- the claims -----------------------------------------------------------------

    /** Runs a Python program; its output lines, once it ended with status 0. */
    static List<String> python(String source, String... args) throws Exception {
        var command = new ArrayList<>(List.of("python3", "-c", source));
        command.addAll(List.of(args));
        Process python;
        try {
            python = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            python = abort("no python3 here: " + e.getMessage());
        }
        try {
            List<String> lines = python.inputReader().lines().toList();
            assertEquals(0, python.waitFor(), String.join("\n", lines));
            assertFalse(lines.isEmpty(), "python printed nothing");
            return lines;
        } finally {
            python.destroyForcibly().waitFor();
        }
    }

    /** The lesson's timed_run on two threads, then a control in the same child: the
     *  same count on two processes (forked: -c's functions reach them), per round. */
    static final String PYTHON_CONTROL = GilProgram.SOURCE.substring(0,
            GilProgram.SOURCE.indexOf("lo, hi, threads, rounds")) + """
            import multiprocessing

            def in_process(lo, hi):  # count on the main thread of a pool's process
                results = [None]
                count(lo, hi, results, 0)
                return results[0]

            gil = getattr(sys, "_is_gil_enabled", lambda: True)()
            print("GIL", "on" if gil else "off", flush=True)
            lo, hi, rounds = map(int, sys.argv[1:])
            halves = [(lo, (lo + hi) // 2), ((lo + hi) // 2, hi)]
            with multiprocessing.get_context("fork").Pool(2) as pool:
                for _ in range(rounds):
                    timed_run(lo, hi, 2)  # the lesson's run: "primes wall busy"
                    wall = time.perf_counter()
                    primes, cpu = map(sum, zip(*pool.starmap(in_process, halves)))
                    wall = time.perf_counter() - wall
                    print(primes, f"{wall:.6f} {cpu / wall:.4f}", flush=True)
            """;

    /**
     * Two CPython threads stay under ONE_CORE_BOUND in every round; that proves
     * something only where two processes doing the same work, in the same child, passed
     * it: else the machine was too busy to tell, and the test is skipped with both.
     */
    @Test
    @Timeout(300)
    void cpythonThreadsWithTheGilKeepAtMostAboutOneCoreBusy() throws Exception {
        List<String> lines = python(PYTHON_CONTROL, "" + FROM, "" + (FROM + 20_000), "5");
        assumeTrue(lines.getFirst().equals("GIL on"), "a free-threaded Python: no GIL");
        assertEquals(11, lines.size(), String.join("\n", lines));
        var threads = new ArrayList<TimedRun>();
        var processes = new ArrayList<TimedRun>();
        for (int i = 1; i < lines.size(); i++)
            (i % 2 == 1 ? threads : processes).add(CPython.parse(lines.get(i)));
        long expected = Primes.count(FROM, FROM + 20_000);
        for (var run : lines.subList(1, lines.size()))
            assertEquals(expected, CPython.parse(run).primes(), "same primes: " + run);
        String both = "2 threads: %s; 2 processes: %s".formatted(threads, processes);
        assumeTrue(processes.stream().anyMatch(r -> r.busy() > ONE_CORE_BOUND),
                "too busy to tell: 2 processes never passed %.1f cores; %s"
                        .formatted(ONE_CORE_BOUND, both));
        for (var run : threads) assertTrue(run.busy() < ONE_CORE_BOUND, both);
    }

    /** Cores used by every process on the machine (Linux: /proc/stat's first line). */
    record MachineTicks(long busy, long total) {
        static final Path STAT = Path.of("/proc/stat");

        static MachineTicks now() throws IOException {
            String[] f = Files.readAllLines(STAT).getFirst().split("\\s+");
            long total = 0;  // cpu user nice system idle iowait irq softirq steal ...
            for (int i = 1; i <= 8; i++) total += Long.parseLong(f[i]);
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            return new MachineTicks(total - idle, total);
        }

        /** How many cores were busy on average since `before` (steal time included). */
        double coresBusySince(MachineTicks before) {
            return CORES * (double) (busy - before.busy)
                    / Math.max(1, total - before.total);
        }

        /** Skips a test on a machine where /proc/stat cannot say what else ran. */
        static void assumeReadable() throws IOException {
            assumeTrue(CORES >= 2, "one core: nothing can run in parallel");
            assumeTrue(Files.isReadable(STAT), "no /proc/stat: not Linux");
            long cpus = Files.readAllLines(STAT).stream()
                    .filter(l -> l.matches("cpu\\d+ .*")).count();
            assumeTrue(cpus == CORES, cpus + " CPUs, " + CORES + " of them for this JVM");
        }
    }

    /** In a round where the rest of the machine used under this, 2 cores were free. */
    static final double OTHERS_FREE = 0.4;

    /**
     * Two Java threads computing keep more than ONE_CORE_BOUND cores busy as soon as the
     * other processes leave them two cores. Each round measures what the rest of the
     * machine used meanwhile (everything but the two workers, this JVM's other threads
     * included): a round in which it used under OTHERS_FREE of a core must pass; when
     * every round was crowded, the test is skipped and says how busy the machine was.
     */
    @Test
    @Timeout(300)
    void javaThreadsKeepMoreThanOneCoreBusyWhenOtherProcessesLeaveThemTwo()
            throws Exception {
        MachineTicks.assumeReadable();
        Primes.count(FROM, FROM + 200_000);  // warm-up: the JIT compiles the work
        var crowded = new ArrayList<String>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            var before = MachineTicks.now();
            var run = JavaThreads.count(Thread.ofPlatform(), FROM + 1_600_000, 2);
            double others = MachineTicks.now().coresBusySince(before) - run.busy();
            if (run.busy() > ONE_CORE_BOUND) return;  // two cores at once: it holds
            assertTrue(others >= OTHERS_FREE, "other processes used %.2f cores, yet 2 "
                    .formatted(others) + "Java threads kept only %.2f busy"
                    .formatted(run.busy()));
            crowded.add("%.2f".formatted(others));
        }
        abort("other processes used at least %.1f core in every round: %s"
                .formatted(OTHERS_FREE, crowded));
    }

    // ---- at the same instant: CPU time in a few milliseconds of wall time -----------

    /**
     * A window of wall time short enough that even a busy scheduler now and then runs two
     * workers at once for all of it. Two workers whose CPU clocks advanced by more than
     * TOGETHER times this within one such window ran on two CPUs at the same time (as far
     * as those clocks tell: a hypervisor that charges a thread for time its virtual CPU
     * was stolen, or a kernel that charges it for interrupts, makes them run ahead).
     */
    static final long WINDOW_NANOS = 2_000_000;
    static final double TOGETHER = 1.5;
    static volatile long sink;  // where the primes go, so that the JIT keeps the work

    /** Counts primes in steps of tens of microseconds until `until` (nanoTime), after
     *  each step reading the thread's own CPU clock between two readings of the wall
     *  clock: [before, cpu, after, ...]. Both wall readings are needed: CPU time the
     *  thread uses or is charged for between reading one clock and the other (a GIL
     *  hand-over in CPython, interrupts, time stolen by some hypervisors) would otherwise
     *  be counted in a window it was not spent in. */
    static long[] countUntil(long until, long from) {
        var mx = ManagementFactory.getThreadMXBean();
        long[] readings = new long[3 * 500_000];
        int k = 0;
        long primes = 0;
        for (long n = from; k < readings.length; n += 50) {
            primes += Primes.count(n, n + 50);
            readings[k++] = System.nanoTime();
            readings[k++] = mx.getCurrentThreadCpuTime();
            readings[k++] = System.nanoTime();
            if (readings[k - 1] >= until) break;
        }
        sink = primes;
        return Arrays.copyOf(readings, k);
    }

    /**
     * The most CPU time two workers used together in any window of `window` ns starting
     * at one of a's readings, as a share of the window. Each worker counts only the CPU
     * time between two of its readings taken inside the window (the first one's `before`
     * at or after the window's start, the last one's `after` at or before its end): never
     * more than its CPU clock advanced there. So a share over 1 (beyond the clocks'
     * jitter) means two CPUs at once.
     */
    static double mostTogether(long[] a, long[] b, long window) {
        double most = 0;
        int aLast = 0, bFirst = 0, bLast = 0, na = a.length / 3, nb = b.length / 3;
        for (int i = 0; i < na; i++) {  // reading i: a[3i], a[3i + 1], a[3i + 2]
            long from = a[3 * i], to = from + window;
            aLast = Math.max(aLast, i);
            while (aLast + 1 < na && a[3 * (aLast + 1) + 2] <= to) aLast++;
            while (bFirst < nb && b[3 * bFirst] < from) bFirst++;
            bLast = Math.max(bLast, bFirst);
            while (bLast + 1 < nb && b[3 * (bLast + 1) + 2] <= to) bLast++;
            long cpu = a[3 * aLast + 1] - a[3 * i + 1];
            if (bFirst < nb) cpu += b[3 * bLast + 1] - b[3 * bFirst + 1];
            most = Math.max(most, (double) cpu / window);
        }
        return most;
    }

    static long cpuUsed(long[] readings) {
        return readings[readings.length - 2] - readings[1];
    }

    @Test
    @Timeout(10)
    void mostTogetherCountsOnlyCpuTimeBetweenReadingsInsideTheWindow() {
        long[] a = {0, 0, 0, 5, 5, 5, 10, 10, 10, 20, 12, 20};  // ran for all of [0, 10]
        long[] b = {2, 100, 2, 6, 104, 6, 30, 110, 30};      // ran for 4 of [2, 6]
        assertEquals(1.4, mostTogether(a, b, 10), 1e-9);  // [0, 10]: 10 + 4
        assertEquals(14.0 / 12, mostTogether(a, b, 12), 1e-9);  // b's next: at 30
        assertEquals(0.0, mostTogether(new long[] {0, 0, 0}, b, 1), 1e-9);
        // used CPU between its clocks: its reading 13 may come after the window [0, 10]
        long[] late = {0, 0, 0, 10, 10, 10, 10, 13, 13};
        assertEquals(1.0, mostTogether(late, new long[0], 10), 1e-9);
        long[] ten = {0, 0, 0, 10, 10, 10};
        long[] early = {-1, 100, 1, 10, 110, 10};  // first reading began before [0, 10]
        assertEquals(1.0, mostTogether(ten, early, 10), 1e-9);  // counted from the second
        long[] over = {2, 100, 2, 5, 103, 5, 9, 105, 12};  // last one ended after [0, 10]
        assertEquals(1.3, mostTogether(ten, over, 10), 1e-9);  // counted to the second
    }

    /**
     * Even on a busy machine the scheduler now and then runs both workers at once for a
     * whole window: rounds of three seconds go on for up to a minute, until one shows it.
     * A round without it while other processes left two cores free fails the test.
     */
    @Test
    @Timeout(180)
    void javaThreadsRunAtTheSameInstantEvenOnABusyMachine() throws Exception {
        MachineTicks.assumeReadable();
        Primes.count(FROM, FROM + 200_000);  // warm-up: the JIT compiles the work
        var crowded = new ArrayList<String>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            var before = MachineTicks.now();
            long start = System.nanoTime();
            long until = start + Duration.ofSeconds(3).toNanos();
            var ran = new long[2][];
            Threads.joinAll(List.of(
                    Thread.ofPlatform().start(() -> ran[0] = countUntil(until, FROM)),
                    Thread.ofPlatform().start(
                            () -> ran[1] = countUntil(until, 2 * FROM))));
            double workers = (cpuUsed(ran[0]) + cpuUsed(ran[1]))
                    / (double) (System.nanoTime() - start);
            double others = MachineTicks.now().coresBusySince(before) - workers;
            double together = mostTogether(ran[0], ran[1], WINDOW_NANOS);
            if (together > TOGETHER) return;  // two CPUs at once: in parallel
            assertTrue(others >= OTHERS_FREE, "other processes used %.2f cores, yet 2 "
                    .formatted(others) + "Java threads never ran 2 ms together");
            crowded.add("%.2f (%.2f)".formatted(others, together));
        }
        abort("in a minute, 2 Java threads never ran 2 ms together; other processes "
                + "used at least %.1f core in every round (the most together in 2 ms): %s"
                .formatted(OTHERS_FREE, crowded));
    }

    /** The same readings in two CPython threads, then, as a control, in two processes:
     *  prints "GIL on" or "GIL off", then "worker before cpu after" after each step of
     *  each worker (workers 0 and 1: the threads; 2 and 3: the processes). */
    static final String PYTHON_READINGS = """
            import math, multiprocessing, sys, threading, time

            def count_until(until, n, readings):
                after = 0
                while after < until:
                    all(n % d for d in range(3, math.isqrt(n) + 1, 2))  # tens of µs
                    n += 1
                    before = time.perf_counter_ns()
                    cpu = time.thread_time_ns()
                    after = time.perf_counter_ns()
                    readings.append((before, cpu, after))

            def in_process(until, n):  # on the main thread of a pool's process
                readings = []
                count_until(until, n, readings)
                return readings

            gil = getattr(sys, "_is_gil_enabled", lambda: True)()
            print("GIL", "on" if gil else "off")
            seconds = int(sys.argv[1]) * 1_000_000_000
            with multiprocessing.get_context("fork").Pool(2) as pool:
                until = time.perf_counter_ns() + seconds
                readings = [[], []]
                workers = [threading.Thread(target=count_until,
                                            args=(until, 1_000_001, readings[i]))
                           for i in range(2)]
                for w in workers:
                    w.start()
                for w in workers:
                    w.join()
                until = time.perf_counter_ns() + seconds
                readings += pool.starmap(in_process, [(until, 1_000_001)] * 2)
            for i in range(4):
                for before, cpu, after in readings[i]:
                    print(i, before, cpu, after)
            """;

    /** The counterpart of the Java test, with the same readings and the same threshold:
     *  under the GIL, two CPython threads never compute at the same instant. It proves
     *  something only where two processes, in the same child, passed the threshold: else
     *  the machine was too busy to tell, and the test is skipped with both values. */
    @Test
    @Timeout(120)
    void cpythonThreadsWithTheGilNeverRunAtTheSameInstant() throws Exception {
        List<String> lines = python(PYTHON_READINGS, "6");
        assumeTrue(lines.getFirst().equals("GIL on"), "a free-threaded Python: no GIL");
        var readings = Stream.generate(LongStream::builder).limit(4).toList();
        for (String line : lines.subList(1, lines.size())) {
            long[] f = Stream.of(line.split(" ")).mapToLong(Long::parseLong).toArray();
            readings.get((int) f[0]).add(f[1]).add(f[2]).add(f[3]);
        }
        var w = readings.stream().map(r -> r.build().toArray()).toList();
        for (long[] worker : w)
            assertTrue(worker.length / 3 > 500, "readings: " + worker.length / 3);
        double threads = mostTogether(w.get(0), w.get(1), WINDOW_NANOS);
        double processes = mostTogether(w.get(2), w.get(3), WINDOW_NANOS);
        String both = "most CPU in 2 ms: 2 threads %.2f ms, 2 processes %.2f ms"
                .formatted(threads * 2, processes * 2);
        assumeTrue(processes > TOGETHER, "too busy to tell: " + both);
        assertTrue(threads < TOGETHER, both);
    }

    // ---- what the sections print ------------------------------------------------------

    static String printedBy(Executable demo) throws Throwable {
        var out = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(out, true));
        try {
            demo.execute();
        } finally {
            System.setOut(stdout);
        }
        return out.toString();
    }

    @Test
    @Timeout(60)
    void aFreeThreadedPythonIsReportedAsSuch() throws Throwable {
        Path fake = Files.createTempFile("python", ".sh");  // prints as python3.13t
        try {
            Files.writeString(fake, """
                    #!/bin/sh
                    echo 'Python 3.13.1 (cpython, Py_GIL_DISABLED=1); GIL off'
                    echo '121 0.100000 0.9800'
                    echo '121 0.052000 1.9100'
                    """);
            assertTrue(fake.toFile().setExecutable(true));
            var result = CPython.measure(fake.toString(), 2_000, 2, 1);
            assertFalse(result.gil());
            assertEquals(new TimedRun(121, 0.052, 1.91),
                    result.rounds().getFirst().get(1));

            String printed = printedBy(() -> CPython.demo(fake.toString(), 2_000, 1));
            assertTrue(printed.contains("GIL off: a free-threaded build, so the GIL's "
                    + "one-core limit does not apply here"), printed);
        } finally {
            Files.delete(fake);
        }
    }

    @Test
    @Timeout(30)
    void aMissingPythonSkipsTheSection() throws Throwable {
        String printed = printedBy(() -> CPython.demo("/no/such/python3", 2_000, 1));
        assertTrue(printed.endsWith("/no/such/python3 not found: skipped\n"), printed);
    }

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void javaSectionPrintsEachRoundThenARowPerWayWithTheSameCount() throws Exception {
        var run = Scripts.compiled("cpu_bound", "java", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertEquals(5, lines.stream()
                .filter(l -> l.matches("  round \\d of 5: .*")).count(), run.stdout());
        assertTrue(lines.contains("every run counted %,d primes"
                .formatted(Primes.count(FROM, FROM + 40_000))), run.stdout());
        for (String way : List.of("1 platform thread ", CORES + " platform threads ",
                2 * CORES + " platform threads ", 2 * CORES + " virtual threads ",
                "parallel stream ")) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(way)),
                    way + run.stdout());
        }
    }

    @Test
    @Timeout(90)
    void pythonSectionNamesTheInterpreterAndCountsWhatJavaCounts() throws Exception {
        var run = Scripts.compiled("cpu_bound", "python", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        assumeTrue(!run.stdout().contains("python3 not found"), "no python3 here");
        List<String> lines = run.stdout().lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.matches("Python 3\\..*; GIL (on|off)")),
                run.stdout());
        assertEquals(5, lines.stream()
                .filter(l -> l.matches("  round \\d of 5: .*")).count(), run.stdout());
        assertTrue(lines.contains("every run counted %,d primes"
                .formatted(Primes.count(FROM, FROM + 1_000))), run.stdout());
        assertTrue(lines.stream().anyMatch(
                l -> l.startsWith("CPython, " + CORES + " threads")), run.stdout());
    }
}
