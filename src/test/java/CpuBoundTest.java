import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import support.Scripts;

/**
 * What the `cpu_bound` lesson claims, proven: every way counts exactly what one thread
 * counts; CPython's threads, with the GIL on, never keep more than about one core busy,
 * whatever the load; Java's two threads keep more than that busy when two cores are free.
 */
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
            long size = Primes.bound(from, to, i + 1, parts) - Primes.bound(from, to, i, parts);
            assertTrue(size == floor || size == floor + 1, "slice " + i + ": " + size);
        }
    }

    static Stream<Arguments> sizesAndThreads() {
        var cases = new ArrayList<Arguments>();
        for (long size : List.of(0L, 1L, 7L, 1_000L, 4_999L)) {
            for (int threads : List.of(1, 2, 3, 8)) cases.add(Arguments.of(size, threads));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} numbers on {1} threads")
    @MethodSource("sizesAndThreads")
    @Timeout(30)
    void everyJavaWayCountsWhatOneThreadCounts(long size, int threads) throws Exception {
        long to = FROM + size;
        long expected = Primes.count(FROM, to);

        assertEquals(expected, JavaThreads.count(Thread.ofPlatform(), to, threads).primes());
        assertEquals(expected, JavaThreads.count(Thread.ofVirtual(), to, threads).primes());
        assertEquals(expected, JavaThreads.stream(to).primes());
    }

    @Test
    @Timeout(30)
    void platformWorkersReportTheirCpuTimeVirtualOnesDoNot() throws Exception {
        var platform = JavaThreads.count(Thread.ofPlatform(), FROM + 100_000, 2);
        assertTrue(platform.busy() > 0 && platform.busy() <= CORES + 0.1, "" + platform);

        var virtual = JavaThreads.count(Thread.ofVirtual(), FROM + 1_000, 2);
        assertTrue(Double.isNaN(virtual.busy()), "" + virtual);
    }

    // ---- the table ----------------------------------------------------------------

    @Test
    void spreadIsTheMedianThenTheMinimumAndMaximum() {
        assertEquals("2.00x (1.00-9.00)", SpeedTable.spread(Stream.of(9.0, 1.0, 2.0), "x"));
        assertEquals("2.50 (1.00-9.00)", SpeedTable.spread(Stream.of(3.0, 9.0, 1.0, 2.0), ""));
        assertEquals("not measured", SpeedTable.spread(Stream.of(1.0, Double.NaN), ""));
    }

    @Test
    void runsThatCountedDifferentPrimesAreRefused() {
        var round = List.of(new TimedRun(5, 1, 1), new TimedRun(4, 1, 1));
        assertThrows(IllegalStateException.class,
                () -> SpeedTable.print(List.of("one", "two"), List.of(round)));
    }

    // ---- the claims -----------------------------------------------------------------

    @Test
    @Timeout(300)
    void cpythonThreadsWithTheGilKeepAtMostAboutOneCoreBusy() throws Exception {
        CPython.Result result;
        try {
            result = CPython.measure("python3", 20_000, 2, 5);
        } catch (IOException e) {
            result = abort("no python3 here: " + e.getMessage());
        }
        assumeTrue(result.gil(), "a free-threaded Python: the GIL claim does not apply");
        long expected = Primes.count(FROM, FROM + 20_000);
        for (var round : result.rounds()) {
            var twoThreads = round.get(1);
            assertEquals(expected, round.get(0).primes(), "CPython counted the same primes");
            assertEquals(expected, twoThreads.primes());
            assertTrue(twoThreads.busy() < ONE_CORE_BOUND, "2 CPython threads: " + twoThreads);
        }
    }

    /** Holds on a free machine; on a loaded one the JVM may never get two cores at once,
     *  so it is skipped when the load average shows another core's worth of work. */
    @Test
    @Timeout(300)
    void javaThreadsKeepMoreThanOneCoreBusyWhenTwoAreFree() throws Exception {
        assumeTrue(CORES >= 2, "one core: nothing can run in parallel");
        Primes.count(FROM, FROM + 100_000);  // warm-up
        double best = 0;
        for (int round = 0; round < 10 && best <= ONE_CORE_BOUND; round++) {
            best = Math.max(best, JavaThreads.count(Thread.ofPlatform(), FROM + 400_000, 2)
                    .busy());
        }
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        assumeTrue(best > ONE_CORE_BOUND || (load >= 0 && load < CORES - 1),
                "a busy machine: load average %.1f on %d cores; 2 threads got %.2f cores"
                        .formatted(load, CORES, best));
        assertTrue(best > ONE_CORE_BOUND, "2 Java threads, at best, kept busy " + best);
    }

    @Test
    @Timeout(60)
    void aFreeThreadedPythonIsReportedAsSuch() throws Exception {
        Path fake = Files.createTempFile("python", ".sh");  // prints what python3.13t would
        try {
            Files.writeString(fake, """
                    #!/bin/sh
                    echo 'Python 3.13.1 experimental free-threading build (main); GIL off'
                    echo '121 0.100000 0.9800'
                    echo '121 0.052000 1.9100'
                    """);
            assertTrue(fake.toFile().setExecutable(true));
            var result = CPython.measure(fake.toString(), 2_000, 2, 1);
            assertEquals(false, result.gil());
            assertEquals(new TimedRun(121, 0.052, 1.91), result.rounds().getFirst().get(1));
        } finally {
            Files.delete(fake);
        }
    }

    // ---- the sections -------------------------------------------------------------

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void javaSectionPrintsEachRoundThenARowPerWayWithTheSameCount() throws Exception {
        var run = Scripts.compiled("cpu_bound", "java", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertEquals(5, lines.stream().filter(l -> l.matches("  round \\d of 5: .*")).count(),
                run.stdout());
        assertTrue(lines.contains("every run counted %,d primes"
                .formatted(Primes.count(FROM, FROM + 40_000))), run.stdout());
        for (String way : List.of("1 platform thread ", CORES + " platform threads ",
                2 * CORES + " platform threads ", 2 * CORES + " virtual threads ",
                "parallel stream ")) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(way)), way + run.stdout());
        }
        assertTrue(lines.stream().anyMatch(l -> l.matches(
                "1 platform thread +1\\.00x \\(1\\.00-1\\.00\\) +\\d\\.\\d\\d \\(.*")),
                run.stdout());
    }

    @Test
    @Timeout(90)
    void pythonSectionNamesTheInterpreterAndCountsTheSamePrimes() throws Exception {
        var run = Scripts.compiled("cpu_bound", "python", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        assumeTrue(!run.stdout().contains("python3 not found"), "no python3 here");
        List<String> lines = run.stdout().lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.matches("Python 3\\..*; GIL (on|off)")),
                run.stdout());
        assertEquals(5, lines.stream().filter(l -> l.matches("  round \\d of 5: .*")).count(),
                run.stdout());
        assertTrue(lines.contains("every run counted %,d primes"
                .formatted(Primes.count(FROM, FROM + 2_000))), run.stdout());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("CPython, " + CORES + " threads")),
                run.stdout());
    }
}
