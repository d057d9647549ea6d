import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What the `cpu_bound` lesson claims, proven: results and behaviour, never timings. */
class CpuBoundTest {
    static final long FROM = TrialDivision.FROM;

    // ---- the work -----------------------------------------------------------------

    @Test
    @Timeout(10)
    void trialDivisionAgreesWithAnIndependentPrimalityTest() {
        for (long start : List.of(0L, FROM)) {
            for (long n = start; n < start + 3_000; n++) {
                assertEquals(BigInteger.valueOf(n).isProbablePrime(50),
                        TrialDivision.isPrime(n), "n = " + n);
            }
        }
        assertEquals(25, TrialDivision.countPrimes(0, 100));
        assertEquals(168, TrialDivision.countPrimes(0, 1_000));
        assertEquals(0, TrialDivision.countPrimes(FROM, FROM));
    }

    static Stream<Arguments> splits() {
        return Stream.of(
                Arguments.of(0L, 10L, 3),         // 4 + 3 + 3
                Arguments.of(0L, 10L, 10),        // one number each
                Arguments.of(0L, 5L, 8),          // more slices than numbers
                Arguments.of(7L, 7L, 3),          // an empty range
                Arguments.of(0L, 1L, 1),
                Arguments.of(FROM, FROM + 100, 3),
                Arguments.of(FROM, FROM + 1_001, 7),
                Arguments.of(FROM, FROM + 100_000, 2),
                Arguments.of(-5L, 6L, 4));
    }

    @ParameterizedTest(name = "[{0}, {1}) in {2}")
    @MethodSource("splits")
    @Timeout(10)
    void slicesCoverTheRangeExactlyOnce(long from, long to, int parts) {
        List<TrialDivision.Slice> slices = TrialDivision.slices(from, to, parts);

        assertEquals(parts, slices.size());
        assertEquals(from, slices.getFirst().from());
        assertEquals(to, slices.getLast().to());
        var covered = new int[(int) (to - from)];
        long smallest = Long.MAX_VALUE;
        long largest = Long.MIN_VALUE;
        for (int i = 0; i < slices.size(); i++) {
            var s = slices.get(i);
            if (i > 0) assertEquals(slices.get(i - 1).to(), s.from(), "gap or overlap at " + i);
            assertTrue(s.size() >= 0, s.toString());
            for (long n = s.from(); n < s.to(); n++) covered[(int) (n - from)]++;
            smallest = Math.min(smallest, s.size());
            largest = Math.max(largest, s.size());
        }
        for (int i = 0; i < covered.length; i++) {
            assertEquals(1, covered[i], "number " + (from + i) + " covered " + covered[i]);
        }
        assertTrue(largest - smallest <= 1, "sizes from " + smallest + " to " + largest);
    }

    @Test
    void impossibleSlicingIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> TrialDivision.slices(0, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> TrialDivision.slices(10, 0, 2));
    }

    // ---- every parallel way computes the sequential answer -------------------------

    static Stream<Arguments> sizesAndThreads() {
        var cases = new ArrayList<Arguments>();
        for (long size : List.of(0L, 1L, 2L, 7L, 1_000L, 4_999L)) {
            for (int threads : List.of(1, 2, 3, 5, 8)) cases.add(Arguments.of(size, threads));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} numbers on {1} threads")
    @MethodSource("sizesAndThreads")
    @Timeout(20)
    void everyParallelWayCountsWhatOneThreadCounts(long size, int threads) throws Exception {
        long expected = TrialDivision.countPrimes(FROM, FROM + size);

        assertEquals(expected, ThreadedPrimes.onPlatformThreads(FROM, FROM + size, threads));
        assertEquals(expected, ThreadedPrimes.onVirtualThreads(FROM, FROM + size, threads));
        assertEquals(expected, StreamPrimes.count(FROM, FROM + size));
    }

    @Test
    @Timeout(60)
    void manyThreadsStillCountExactly() throws Exception {
        long to = FROM + 20_000;
        long expected = TrialDivision.countPrimes(FROM, to);
        for (int run = 0; run < 5; run++) {
            assertEquals(expected, ThreadedPrimes.onPlatformThreads(FROM, to, 64));
            assertEquals(expected, ThreadedPrimes.onVirtualThreads(FROM, to, 256));
            assertEquals(expected, StreamPrimes.count(FROM, to));
        }
    }

    @Test
    @Timeout(10)
    void eachSliceIsCountedIntoItsOwnSlotAndEveryThreadIsJoined() throws Exception {
        var slices = TrialDivision.slices(FROM, FROM + 30_001, 4);

        long[] counts = ThreadedPrimes.countSlices(Thread.ofPlatform().name("slice-", 0),
                slices);

        for (int i = 0; i < slices.size(); i++) {
            assertEquals(slices.get(i).countPrimes(), counts[i], "slot " + i);
        }
        var stillAlive = Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName).filter(name -> name.startsWith("slice-")).toList();
        assertEquals(List.of(), stillAlive, "countSlices returned before joining");
    }

    // ---- the measurement --------------------------------------------------------------

    @Test
    void waysAreOnePerCoreOneMoreTwiceAsManyVirtualAndTheStream() {
        int pool = ForkJoinPool.getCommonPoolParallelism() + 1;
        var two = CpuSpeedup.ways(2);
        assertEquals(List.of(1, 2, 3, 4, 4, pool),
                two.stream().map(CpuSpeedup.Way::threads).toList());
        assertEquals(List.of(1, 2, 2, 2, 2, Math.min(pool, 2)),
                two.stream().map(CpuSpeedup.Way::ideal).toList());
        var one = CpuSpeedup.ways(1);  // 1, 1, 2, 2 platform threads: no duplicate rows
        assertEquals(List.of(1, 2, 2, pool),
                one.stream().map(CpuSpeedup.Way::threads).toList());
        assertEquals(List.of(1, 1, 1, 1), one.stream().map(CpuSpeedup.Way::ideal).toList());
    }

    @Test
    @Timeout(60)
    void measurementRunsToCompletionWithAFinitePositiveRatioPerWay() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        var ways = CpuSpeedup.ways(cores);
        long to = FROM + 2_000;

        var rows = CpuSpeedup.measure(ways, FROM, to, 2);

        assertEquals(ways.size(), rows.size());
        assertEquals(1.0, rows.getFirst().speedup(), "the baseline against itself");
        long expected = TrialDivision.countPrimes(FROM, to);
        for (int i = 0; i < rows.size(); i++) {
            var row = rows.get(i);
            assertEquals(ways.get(i).name(), row.name());
            assertEquals(expected, row.primes(), row.name());
            assertTrue(Double.isFinite(row.speedup()) && row.speedup() > 0,
                    row.name() + ": " + row.speedup());
            assertTrue(Double.isNaN(row.busy()) || row.busy() >= 0,
                    row.name() + " busy: " + row.busy());
        }
    }

    @Test
    @Timeout(60)
    void theTablePrintsWithoutFailing() throws Exception {
        CpuSpeedup.table(FROM, FROM + 1_000, 1);
    }

    @Test
    void amdahlsLawSolvedForTheParallelFraction() {
        assertEquals(1.0, CpuSpeedup.parallelFraction(2.0, 2), 1e-9);
        assertEquals(0.0, CpuSpeedup.parallelFraction(1.0, 2), 1e-9);
        assertEquals(0.5, CpuSpeedup.parallelFraction(1.6, 4), 1e-9);  // 1 / (0.5 + 0.5/4)
    }

    // ---- CPython --------------------------------------------------------------------

    @Test
    @Timeout(120)
    void cpythonReportsAParsedRatioForTheSameWork() throws Exception {
        assumeTrue(startsAndExitsZero("python3", "--version"), "no python3 here");
        long to = FROM + 300;

        var outcome = GilComparison.run("python3", FROM, to, 2, 2);

        var m = assertInstanceOf(GilComparison.Outcome.Measured.class, outcome);
        assertEquals(TrialDivision.countPrimes(FROM, to), m.primes(), "the same work");
        assertEquals(2, m.threads());
        assertTrue(Double.isFinite(m.ratio()) && m.ratio() > 0, "ratio " + m.ratio());
        assertTrue(Double.isFinite(m.busy()) && m.busy() >= 0, "busy " + m.busy());
        assertTrue(Double.isFinite(m.baseBusy()) && m.baseBusy() >= 0, "" + m.baseBusy());
        String[] version = m.version().split("\\.");
        if (Integer.parseInt(version[0]) == 3 && Integer.parseInt(version[1]) < 13) {
            assertTrue(m.gil(), "before 3.13 every CPython has the GIL: " + m.version());
        }
    }

    @Test
    @Timeout(20)
    void aMissingInterpreterIsSkippedNotFailed() throws Exception {
        String missing = "no-such-python-for-cpu_bound";

        var outcome = GilComparison.run(missing, FROM, FROM + 10, 2, 1);

        var skipped = assertInstanceOf(GilComparison.Outcome.Skipped.class, outcome);
        assertEquals(missing + " not found: skipped", skipped.line());
        GilComparison.compare(missing, FROM, FROM + 10, 2, 1);  // prints it, no throw
    }

    @Test
    @Timeout(60)
    void anInterpreterThatFailsIsSkippedWithItsExitCode() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();

        var outcome = GilComparison.run(java, FROM, FROM + 10, 2, 1);  // `java -c`: error

        var skipped = assertInstanceOf(GilComparison.Outcome.Skipped.class, outcome);
        assertTrue(skipped.why().startsWith(java + " failed (exit 1): "), skipped.why());
    }

    @Test
    void pythonsLineIsParsed() {
        assertEquals(
                new GilComparison.Outcome.Measured("3.13.1", false, 4, 614, 3.5, 3.9, 1.0),
                GilComparison.parseLine("python=3.13.1 gil=off threads=4 primes=614"
                        + " ratio=3.500 busy=3.90 base_busy=1.00\n"));
        for (String bad : List.of("", "Traceback (most recent call last):",
                "python=3.11.7 gil=on threads=2 primes=614 ratio=0.98 busy=1.0",  // no base
                "python=3.11.7 gil=maybe threads=2 primes=614 ratio=0.98 busy=1 base_busy=1",
                "python=3.11.7 gil=on threads=two primes=614 ratio=0.98 busy=1 base_busy=1")) {
            var skipped = assertInstanceOf(GilComparison.Outcome.Skipped.class,
                    GilComparison.parseLine(bad), bad);
            assertTrue(skipped.why().startsWith("unexpected output"), skipped.why());
        }
    }

    // ---- options ----------------------------------------------------------------------

    @Test
    void optionsDefaultAndSpeedDividesTheWork() {
        assertEquals(new cpu_bound.Options(150_000, 4_000, 3, "python3", 1.0),
                cpu_bound.parse());
        var fast = cpu_bound.parse("--speed", "20");
        assertEquals(7_500, fast.scaled(fast.numbers()));
        assertEquals(200, fast.scaled(fast.pythonNumbers()));
        assertEquals(1, cpu_bound.parse("--speed", "1e9").scaled(100_000), "at least 1");
        assertEquals(400_000, cpu_bound.parse("--speed", "0.25").scaled(100_000));
        assertEquals("python3.13t", cpu_bound.parse("--python", "python3.13t").python());
        assertEquals(5, cpu_bound.parse("--rounds", "5").rounds());
        assertEquals(1_000, cpu_bound.parse("--python-numbers", "1_000").pythonNumbers());
        assertNull(cpu_bound.parse("--numbers", "7", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--rounds wants a positive whole number, got '0'", rejected("--rounds", "0"));
        assertEquals("--python wants a command, got ' '", rejected("--python", " "));
        assertEquals("--speed wants a positive number, got 'NaN'", rejected("--speed", "NaN"));
        assertEquals("unknown argument '--threads'", rejected("--threads", "2"));
        assertEquals("--numbers needs a value", rejected("--numbers"));
    }

    private static String rejected(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> cpu_bound.parse(args))
                .getMessage();
    }

    private static boolean startsAndExitsZero(String... command) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                return false;
            }
            return p.exitValue() == 0;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
