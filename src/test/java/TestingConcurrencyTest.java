import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `testing_concurrency` lesson claims, proven. */
class TestingConcurrencyTest {

    @Test
    @Timeout(10)
    void latchesForceTheLostCountEveryTime() throws Exception {
        assertEquals(1, ForcedInterleaving.lostCount());
    }

    @Test
    @Timeout(10)
    void theSeamHoldsTheFirstThreadBetweenItsCheckAndItsAct() throws Exception {
        var firstHasChecked = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var count = new CheckThenActCount(seen -> {
            if (Thread.currentThread().getName().equals("first")) {
                firstHasChecked.countDown();
                Threads.await(release);
            }
        });
        Thread first = Thread.ofPlatform().name("first").start(() -> count.add("w"));
        Threads.await(firstHasChecked);
        Threads.awaitBlocked(first);  // parked in the seam: checked, not yet put
        assertEquals(0, count.count("w"), "first has not put yet");
        Thread second = Thread.ofPlatform().name("second").start(() -> count.add("w"));
        Threads.joinAll(List.of(second));
        assertEquals(1, count.count("w"), "second's add is in");
        assertTrue(first.isAlive(), "first is still held between its get and its put");
        release.countDown();
        Threads.joinAll(List.of(first));
        assertEquals(1, count.count("w"), "first put its stale 1: two adds, one lost");
    }

    /**
     * Lincheck's verdicts, through the section that prints them (Lincheck runs once: the
     * fixed count's search is 20 scenarios of up to 1,000 interleavings, the costliest
     * check in the suite). Model checking finds the broken count's interleaving on every
     * run: its search is seeded, not timed.
     */
    @Test
    @Timeout(600)  // seconds alone; minutes when the machine is loaded
    void lincheckFailsTheBrokenCountWithItsInterleavingAndPassesTheFixedOne()
            throws Exception {
        var run = Scripts.compiled(Duration.ofSeconds(540), List.of(
                "-XX:+EnableDynamicAgentLoading", "--sun-misc-unsafe-memory-access=allow",
                "-Xshare:off"), "testing_concurrency", "lincheck");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        // a dot for each 2 s of search, a new line after 40 (a slow machine's search)
        assertTrue(run.stdout().matches("(?s).*\nBroken: searching[.\n]* -> not "
                + "linearizable\n.*"), run.stdout());
        assertTrue(run.stdout().matches("(?s).*\nFixed: searching[.\n]* -> no bad "
                + "interleaving found\n.*"), run.stdout());
        assertTrue(lines.contains("= Invalid execution results ="), run.stdout());
        assertTrue(lines.stream().anyMatch(l -> l.contains("counts.get(\"the\"): null")),
                run.stdout());
        assertTrue(lines.stream().anyMatch(l -> l.contains("counts.put(\"the\", 1)")),
                run.stdout());
        assertTrue(lines.stream().allMatch(l -> l.length() <= 80), run.stdout());
    }

    @Test
    @Timeout(90)  // the child JVM gets 60 s (Scripts.compiled)
    void naiveSectionReportsHowManyRunsPassed() throws Exception {
        var run = Scripts.compiled("testing_concurrency", "naive");
        assertEquals(0, run.exitCode(), run.stderr());
        assertTrue(run.stdout().lines().anyMatch(
                l -> l.matches("\\d+ of 10 runs of a broken counter's test passed")));
        assertTrue(run.stdout().contains("A and B each add \"the\" once; count: 1"));
    }
}
