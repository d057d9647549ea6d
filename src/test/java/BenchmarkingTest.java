package bench;  // the lesson's classes live in package bench: JMH wants a named package

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import support.Scripts;
import support.Scripts.Result;

/**
 * What the `benchmarking` lesson claims, proven: its benchmarks build with JMH's annotation
 * processor, each measures what it says, the `jmh` section runs them all at 1 and 2
 * threads, and its table ranks two counters only when their ranges do not overlap.
 */
class BenchmarkingTest {
    static final String CLASS_PATH = System.getProperty("java.class.path");
    @TempDir  // deleted by JUnit after the class
    static Path classes;  // the script compiled as JBang compiles it: with -proc:full

    @BeforeAll
    @Timeout(120)
    static void compileAsJbangDoes() throws Exception {
        var errors = new ByteArrayOutputStream();
        int status = ToolProvider.getSystemJavaCompiler().run(null, errors, errors,
                "-proc:full", "-cp", CLASS_PATH, "-d", classes.toString(),
                Scripts.script("benchmarking").toString());
        assertEquals(0, status, errors.toString(StandardCharsets.UTF_8));
    }

    @Test
    @Timeout(10)
    void annotationProcessorListsEveryBenchmarkOfThePublicClass() throws Exception {
        String list = Files.readString(classes.resolve("META-INF/BenchmarkList"));
        for (String counter : Stats.COUNTERS) {
            assertTrue(list.contains("bench.jmh_generated.benchmarking_" + counter + "_jmhTest"),
                    counter + " in:\n" + list);
        }
        assertEquals(Stats.COUNTERS.size(), list.lines().count(), list);
    }

    @Test
    @Timeout(10)
    void theStateIsOneInstanceSharedByTheBenchmarkThreads() {
        // @State is @Inherited: JMH reads it from the public class it runs
        assertEquals(Scope.Benchmark, benchmarking.class.getAnnotation(State.class).value());
    }

    @Test
    @Timeout(10)
    void eachBenchmarkIncrementsItsOwnCounterOncePerCallAndReturnsTheCount() {
        var state = new benchmarking();  // what JMH instantiates: one, shared by the threads
        for (long i = 1; i <= 1_000; i++) {
            assertEquals(List.of(i, i, i, i), List.of(state.plain(), state.sync(),
                    state.lock(), state.atomic()), "each returns its new count");
            state.adder();
        }
        assertEquals(List.of(1_000L, 1_000L, 1_000L, 1_000L, 1_000L), List.of(state.plain,
                state.synced, state.locked, state.atomic.get(), state.adder.sum()));
        assertTrue(!state.lock.isLocked(), "lock() always unlocks");
    }

    @Test
    @Timeout(10)
    void planForksTwiceUnlessTheSpeedAsksForASmokeRun() {
        assertEquals(new JmhRun.Plan(2, 5, 5, 300), JmhRun.Plan.forSpeed(1));
        assertEquals(new JmhRun.Plan(2, 5, 5, 300), JmhRun.Plan.forSpeed(0.1));
        assertEquals(new JmhRun.Plan(1, 5, 5, 231), JmhRun.Plan.forSpeed(1.3));
        assertEquals(new JmhRun.Plan(1, 5, 5, 30), JmhRun.Plan.forSpeed(10));
        assertEquals(List.of("-f", "2", "-wi", "5", "-w", "300ms", "-i", "5", "-r", "300ms",
                "-t", "2"), JmhRun.Plan.forSpeed(1).options(2));
        // the notebook's cell gives `jbang benchmarking jmh` 270 s: both JMH runs fit
        assertTrue(2 * JmhRun.Plan.forSpeed(1).limit().toSeconds() < 270);
    }

    @Test
    @Timeout(10)
    void rangesThatOverlapGiveNoVerdict() {
        assertEquals(">", Stats.compare(List.of(5.0, 6.0), List.of(1.0, 4.9)));
        assertEquals("<", Stats.compare(List.of(1.0, 4.9), List.of(5.0, 6.0)));
        assertEquals("~", Stats.compare(List.of(1.0, 5.0), List.of(4.9, 6.0)));
        assertEquals(2.0, Stats.median(List.of(3.0, 1.0, 2.0)));
        assertEquals(2.5, Stats.median(List.of(4.0, 1.0, 3.0, 2.0)));
    }

    @Test
    @Timeout(10)
    void rankingSortsByMedianAndMarksOnlyClearGaps() {
        Map<String, List<Double>> scores = Map.of(
                "plain@2", List.of(100.0, 110.0), "adder@2", List.of(55.0, 70.0),
                "atomic@2", List.of(50.0, 60.0), "lock@2", List.of(11.0, 13.0),
                "sync@2", List.of(10.0, 12.0));
        assertEquals("plain > adder ~ atomic > lock ~ sync", Stats.ranking(scores, 2));
    }

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void naiveSectionShowsWarmUpAndTheJitDeletingTheThrownAwayLoop() throws Exception {
        var run = Scripts.compiled("benchmarking", "naive");
        assertEquals(0, run.exitCode(), run.stderr());
        List<Double> cpu = numbers(run.stdout(),
                "  round \\d: +[\\d.]+ ns on the clock, +([\\d.]+) ns on the CPU");
        assertEquals(NaiveTiming.ROUNDS, cpu.size(), run.stdout());
        assertTrue(cpu.getFirst() > 1.2 * Collections.min(cpu.subList(1, cpu.size())),
                "on the CPU, round 1 (interpreted at first) costs the most:\n" + run.stdout());
        double kept = numbers(run.stdout(), "  results kept: +([\\d.]+) ns per root").getFirst();
        double dropped = numbers(run.stdout(), "  results thrown away: +([\\d.]+) ns per root")
                .getFirst();
        assertTrue(dropped * 10 < kept, "the JIT deleted the thrown-away loop:\n" + run.stdout());
    }

    static List<Double> numbers(String text, String regex) {
        var pattern = java.util.regex.Pattern.compile(regex);
        return text.lines().map(pattern::matcher).filter(java.util.regex.Matcher::matches)
                .map(m -> Double.parseDouble(m.group(1))).toList();
    }

    @Test
    @Timeout(400)
    void jmhSectionMeasuresEveryCounterAtOneAndTwoThreads() throws Exception {
        Result run = Scripts.run(List.of(Scripts.java(), "-cp", classes + File.pathSeparator
                + CLASS_PATH, "bench.benchmarking", "jmh", "--speed", "20"),
                Duration.ofSeconds(360));
        String text = run.stdout() + run.stderr();
        assertEquals(0, run.exitCode(), text);
        List<String> lines = run.stdout().lines().toList();
        assertTrue(lines.get(2).startsWith("1 fork(s) x (5 warm-up + 5 measured"), text);
        assertEquals("(one short fork: a smoke run, not a measurement)", lines.get(3),
                text);
        var forks = new ArrayList<String>();
        for (String counter : Stats.COUNTERS) {
            for (int threads : List.of(1, 2)) {
                String fork = "  %-6s %d thread(s), fork 1 of 1:".formatted(counter,
                        threads);
                forks.addAll(lines.stream().filter(l -> l.startsWith(fork)
                        && l.substring(fork.length()).trim().split(" +").length == 5)
                        .toList());
            }
            assertEquals(1, lines.stream().filter(l -> l.matches(
                    counter + " +[\\d.]+ \\([\\d.]+-[\\d.]+\\) +[\\d.]+ \\([\\d.]+-[\\d.]+\\)"
                    + " +(faster|slower|~)")).count(), counter + " row in:\n" + text);
        }
        assertEquals(10, forks.size(), "a line per counter, thread count and fork:\n" + text);
        for (int threads : List.of(1, 2)) {
            String prefix = "at %d thread(s): ".formatted(threads);
            String ranking = lines.stream().filter(l -> l.startsWith(prefix)).findFirst()
                    .orElseThrow().substring(prefix.length());
            assertEquals(List.copyOf(Stats.COUNTERS), Stream.of(ranking.split(" [>~] "))
                    .sorted(Comparator.comparing(Stats.COUNTERS::indexOf)).toList(), ranking);
        }
    }
}
