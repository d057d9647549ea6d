import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.Phaser;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import support.Scripts;
import support.Threads;

/** What the `barrier` lesson claims, proven. */
class BarrierTest {
    static final long LONG = Threads.LONG.toMillis();

    /** Failures inside worker threads, rethrown by the test thread (JSR166 TCK style). */
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();

    // -- the seed's meeting -------------------------------------------------------------

    @Test
    @Timeout(60)
    void seedSectionPrintsTheSeedsLinesInTheOrderTheBarrierForces() throws Exception {
        var run = Scripts.compiled("barrier", "seed", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("", run.stderr());
        List<String> lines = run.stdout().lines().filter(l -> !l.isBlank()).toList();
        var working = Pattern.compile("Worker [0-3] working for (\\d\\.\\d)s");
        var waiting = Pattern.compile("Worker [0-3] waiting at barrier");
        var passed = Pattern.compile("Worker [0-3] passed barrier");
        int action = indexOf(lines, Pattern.compile("Barrier action in worker-[0-3], .*"));
        assertEquals(4, count(lines, working), run.stdout());
        for (double seconds : workingSeconds(lines)) {  // 1 to 3 s, at --speed 20
            assertTrue(seconds >= 0.05 && seconds <= 0.15, run.stdout());
        }
        for (int i = 0; i < lines.size(); i++) {  // every waiting, then the action, then passed
            if (waiting.matcher(lines.get(i)).matches()) assertTrue(i < action, run.stdout());
            if (passed.matcher(lines.get(i)).matches()) assertTrue(i > action, run.stdout());
        }
        assertEquals(4, count(lines, waiting), run.stdout());
        assertEquals(4, count(lines, passed), run.stdout());
        assertTrue(passed.matcher(lines.getLast()).matches(), "last line: " + lines.getLast());
    }

    @ParameterizedTest(name = "--speed {0}")
    @ValueSource(strings = {"0.1", "0.25"})
    @Timeout(60)
    void seedSectionAtASlowSpeedEndsWithTheSeedsLine(String speed) throws Exception {
        var run = Scripts.compiled("barrier", "seed", "--speed", speed);
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("", run.stderr());
        List<String> lines = run.stdout().strip().lines().toList();
        assertTrue(lines.getLast().matches("Worker [0-3] passed barrier"), run.stdout());
        List<Double> seconds = workingSeconds(lines);  // slow speeds keep the seed's 1-3 s
        assertEquals(4, seconds.size(), run.stdout());
        seconds.forEach(s -> assertTrue(s >= 1.0 && s <= 3.0, run.stdout()));
    }

    @Test
    @Timeout(60)
    void everySectionAtFullSpeedFitsA40By80Screen() throws Exception {
        var run = Scripts.compiled("barrier", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("", run.stderr());
        List<String> sections = List.of(run.stdout().split("\n(?=== )")).stream()
                .filter(s -> !s.isBlank()).toList();
        assertEquals(5, sections.size(), run.stdout());
        for (String section : sections) {
            assertTrue(section.strip().lines().count() <= 40, section);
            section.lines().forEach(line -> assertTrue(line.length() <= 80, line));
        }
        assertFalse(run.stdout().contains("failed"), run.stdout());
    }

    // -- CyclicBarrier --------------------------------------------------------------------

    @Test
    @Timeout(10)
    void nobodyPassesUntilTheFourthPartyArrives() throws Exception {
        var barrier = new CyclicBarrier(4);
        var passed = new AtomicInteger();
        var fourthMayArrive = new CountDownLatch(1);
        var threads = new ArrayList<Thread>();
        for (int p = 0; p < 3; p++) {  // one at a time: each parks before the next starts
            threads.add(start("party-" + p, () -> {
                barrier.await(LONG, MILLISECONDS);
                passed.incrementAndGet();
            }));
            Threads.awaitBlocked(threads.get(p));
            assertEquals(p + 1, barrier.getNumberWaiting());
        }
        Thread fourth = start("party-3", () -> {
            Threads.await(fourthMayArrive);
            barrier.await(LONG, MILLISECONDS);
            passed.incrementAndGet();
        });
        threads.add(fourth);
        Threads.awaitBlocked(fourth);  // held by its latch, not at the barrier

        assertEquals(3, barrier.getNumberWaiting());
        assertEquals(0, passed.get(), "a party passed with only three arrived");

        fourthMayArrive.countDown();
        Threads.joinAll(threads);
        assertNoFailures();
        assertEquals(4, passed.get());
        assertFalse(barrier.isBroken());
    }

    @Test
    @Timeout(10)
    void awaitCountsDownAndTheLastToArriveRunsTheActionBeforeAnyoneGoes() throws Exception {
        var actionStarted = new CountDownLatch(1);
        var actionMayEnd = new CountDownLatch(1);
        var actionThread = new AtomicReference<Thread>();
        var returned = new AtomicInteger();
        var barrier = new CyclicBarrier(4, () -> {
            actionThread.set(Thread.currentThread());
            actionStarted.countDown();
            Threads.await(actionMayEnd);  // hold the action while the test looks
        });
        var index = new AtomicReferenceArray<Integer>(4);
        var threads = new ArrayList<Thread>();
        for (int p = 0; p < 4; p++) {  // arrivals forced in order: party p is the (p+1)th
            int me = p;
            threads.add(start("party-" + me, () -> {
                index.set(me, barrier.await(LONG, MILLISECONDS));
                returned.incrementAndGet();
            }));
            if (p < 3) {
                Threads.awaitBlocked(threads.get(p));
                assertEquals(p + 1, barrier.getNumberWaiting());
            }
        }
        Threads.await(actionStarted);
        assertSame(threads.get(3), actionThread.get(), "the action runs in the last");
        assertEquals(0, returned.get(), "a party returned while the action was running");

        actionMayEnd.countDown();
        Threads.joinAll(threads);
        assertNoFailures();
        assertEquals(List.of(3, 2, 1, 0), List.of(index.get(0), index.get(1), index.get(2),
                index.get(3)), "Java's arrival index counts down: 3 to the first, 0 to the last");
    }

    @Test
    @Timeout(10)
    void withoutABarrierEachWorkerReadsOnlyThePartsWrittenBeforeIt() throws Exception {
        assertArrayEquals(new int[] {1, 3, 6, 10}, Rounds.runAhead(20));
    }

    @Test
    @Timeout(60)
    void withTheBarrierEveryWorkerReadsTheFullTotalEveryRoundUnderStress() throws Exception {
        int count = 200;  // scheduler-bound: a few seconds on a loaded 2-core machine
        var rounds = new Rounds(count, true, false);
        Rounds.Work jitter = (worker, round) -> {
            if (worker == 1) return;  // worker-1 never works: it always tries to run ahead
            for (int i = ThreadLocalRandom.current().nextInt(3); i > 0; i--) Thread.yield();
        };
        var threads = new ArrayList<Thread>();
        for (int w = 0; w < 4; w++) {
            int me = w;
            threads.add(start("worker-" + me, () -> rounds.work(me, jitter, LONG)));
        }
        Threads.joinAll(threads);
        assertNoFailures();

        for (int r = 0; r < count; r++) {
            for (int w = 0; w < 4; w++) {
                assertEquals(Rounds.TOTAL, rounds.totals[r][w], "round " + r + " worker " + w);
            }
            assertArrayEquals(new int[] {0, 1, 2, 3},
                    IntStream.of(rounds.indexes[r]).sorted().toArray(), "round " + r);
        }
    }

    @Test
    @Timeout(20)
    void everyRoundDemoReusesOneBarrierAndGetsEveryTotalRight() throws Exception {
        Rounds rounds = EveryRound.run(20);
        for (int r = 0; r < 3; r++) {
            assertArrayEquals(new int[] {10, 10, 10, 10}, rounds.totals[r]);
            assertArrayEquals(new int[] {0, 1, 2, 3},
                    IntStream.of(rounds.indexes[r]).sorted().toArray());
        }
        assertFalse(rounds.barrier.isBroken());
    }

    @Test
    @Timeout(60)
    void roundsSectionGivesTheZeroToTheWorkerThatRanTheAction() throws Exception {
        var run = Scripts.compiled("barrier", "rounds", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("", run.stderr());
        var action = Pattern.compile("  round ([123]): total 10, action in (worker-[0-3])");
        var returned = Pattern.compile("  round ([123]), await\\(\\) returned: "
                + "worker-0 (\\d), worker-1 (\\d), worker-2 (\\d), worker-3 (\\d)");
        var actionIn = new ArrayList<String>();
        var zeroTo = new ArrayList<String>();
        for (String line : run.stdout().lines().toList()) {
            var a = action.matcher(line);
            if (a.matches()) actionIn.add(a.group(1) + " " + a.group(2));
            var m = returned.matcher(line);
            if (!m.matches()) continue;
            int[] index = IntStream.rangeClosed(2, 5).map(g -> Integer.parseInt(m.group(g)))
                    .toArray();
            assertArrayEquals(new int[] {0, 1, 2, 3}, IntStream.of(index).sorted().toArray(),
                    line);
            int last = IntStream.range(0, 4).filter(w -> index[w] == 0).findFirst().getAsInt();
            zeroTo.add(m.group(1) + " worker-" + last);
        }
        assertEquals(List.of("1", "2", "3"), actionIn.stream().map(a -> a.split(" ")[0])
                .toList(), run.stdout());
        assertEquals(actionIn, zeroTo, "the 0 goes to the action's worker: " + run.stdout());
        assertTrue(run.stdout().strip().endsWith("in every round: true"), run.stdout());
    }

    // -- broken barriers ------------------------------------------------------------------

    @Test
    @Timeout(20)
    void aTimeoutBreaksTheBarrierForEveryPartyAndForLateOnes() throws Exception {
        assertEquals(List.of("BrokenBarrierException", "BrokenBarrierException",
                        "TimeoutException", "BrokenBarrierException"),
                BarrierBreak.run(false, 20));
    }

    @Test
    @Timeout(20)
    void anInterruptBreaksTheBarrierForEveryOtherParty() throws Exception {
        assertEquals(List.of("BrokenBarrierException", "InterruptedException",
                        "BrokenBarrierException", "BrokenBarrierException"),
                BarrierBreak.run(true, 20));
    }

    @Test
    @Timeout(60)
    void brokenSectionAtStageSpeedRunsToTheEnd() throws Exception {
        var run = Scripts.compiled("barrier", "broken", "--speed", "0.25");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("", run.stderr());
        assertTrue(run.stdout().contains("  2 parked; worker-2 gives up after 2000 ms;"),
                run.stdout());
        assertTrue(run.stdout().contains("  3 parked; worker-1 is interrupted;"), run.stdout());
        assertEquals(2, run.stdout().lines().filter(l -> l.equals("  isBroken(): true"))
                .count(), run.stdout());
    }

    @Test
    @Timeout(10)
    void theInterruptedPartyKeepsItsInterruptFlag() throws Exception {
        var barrier = new CyclicBarrier(2);
        var ending = new AtomicReference<String>();
        var flagAfter = new AtomicReference<Boolean>();
        Thread victim = start("victim", () -> {
            ending.set(BarrierBreak.await(barrier, LONG));
            flagAfter.set(Thread.currentThread().isInterrupted());
        });
        Threads.awaitBlocked(victim);
        assertEquals(1, barrier.getNumberWaiting());
        victim.interrupt();
        Threads.joinAll(List.of(victim));
        assertNoFailures();
        assertEquals("InterruptedException", ending.get());
        assertTrue(flagAfter.get(), "InterruptedException was swallowed");
        assertTrue(barrier.isBroken());
    }

    @Test
    @Timeout(10)
    void aBarrierActionThatThrowsBreaksTheBarrier() throws Exception {
        var barrier = new CyclicBarrier(2, () -> {
            throw new IllegalStateException("action failed");
        });
        var first = new AtomicReference<String>();
        Thread waiting = start("first", () -> first.set(BarrierBreak.await(barrier, LONG)));
        Threads.awaitBlocked(waiting);
        assertEquals(1, barrier.getNumberWaiting());

        var e = assertThrows(IllegalStateException.class,
                () -> barrier.await(LONG, MILLISECONDS));  // the last to arrive runs it
        assertEquals("action failed", e.getMessage());
        Threads.joinAll(List.of(waiting));
        assertNoFailures();
        assertEquals("BrokenBarrierException", first.get());
        assertTrue(barrier.isBroken());
    }

    @Test
    @Timeout(10)
    void resetBreaksAWaitInProgressAndMendsTheBarrier() throws Exception {
        var barrier = new CyclicBarrier(2);
        var ending = new AtomicReference<String>();
        Thread waiting = start("waiting", () -> ending.set(BarrierBreak.await(barrier, LONG)));
        Threads.awaitBlocked(waiting);
        assertEquals(1, barrier.getNumberWaiting());
        barrier.reset();
        Threads.joinAll(List.of(waiting));
        assertEquals("BrokenBarrierException", ending.get());
        assertFalse(barrier.isBroken(), "reset() mends it");

        var again = new AtomicReference<String>();
        Thread other = start("other", () -> again.set(BarrierBreak.await(barrier, LONG)));
        Threads.awaitBlocked(other);
        assertEquals(1, barrier.getNumberWaiting());
        assertEquals("passed, index 0", BarrierBreak.await(barrier, LONG));  // the last
        Threads.joinAll(List.of(other));
        assertNoFailures();
        assertEquals("passed, index 1", again.get(), "the first of two to arrive gets 1");
    }

    @Test
    @Timeout(10)
    void fourPartiesOnAPoolOfThreeThreadsNeverMeet() throws Exception {
        var barrier = new CyclicBarrier(4);
        var started = new AtomicInteger();
        var ended = new ConcurrentLinkedQueue<String>();
        var poolThreads = new CopyOnWriteArrayList<Thread>();
        ThreadFactory factory = task -> {
            Thread t = Thread.ofPlatform().name("three-" + poolThreads.size()).unstarted(task);
            poolThreads.add(t);
            return t;
        };
        var pool = (ThreadPoolExecutor) Executors.newFixedThreadPool(3, factory);
        try (pool) {
            try {
                for (int p = 0; p < 4; p++) {
                    long wait = p < 3 ? LONG : 0;  // the fourth, when it runs at last
                    pool.execute(() -> {
                        started.incrementAndGet();
                        ended.add(BarrierBreak.await(barrier, wait));
                    });
                    if (p < 3) {  // one at a time: each parks before the next comes
                        Threads.awaitBlocked(poolThreads.get(p));
                        assertEquals(p + 1, barrier.getNumberWaiting());
                    }
                }
                assertEquals(1, pool.getQueue().size(), "the fourth waits for a thread");
                assertEquals(3, started.get());
            } finally {
                barrier.reset();  // what a timeout would do: the three get out, broken
            }
        }  // the fourth gets a thread at last, and meets no one
        assertEquals(4, started.get());
        assertEquals(3, ended.stream().filter("BrokenBarrierException"::equals).count());
        assertTrue(ended.contains("TimeoutException"), ended.toString());
    }

    // -- Phaser ---------------------------------------------------------------------------

    @Test
    @Timeout(20)
    void aPhaserGoesOnWithTheWorkersThatStay() throws Exception {
        assertEquals(List.of(4, 3, 3), PhaserLeave.run(20));
    }

    @Test
    @Timeout(60)
    void phaserSectionShowsWorker3sLastArrivalEndingRound2() throws Exception {
        var run = Scripts.compiled("barrier", "phaser", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals(List.of("round 1 done, 4 registered", "worker-3 arrives for round 2, leaves",
                        "round 2 done, 3 registered", "round 3 done, 3 registered"),
                run.stdout().lines().filter(l -> l.startsWith("  ")).map(String::strip).toList());
    }

    @Test
    @Timeout(10)
    void aPhaserTimeoutLeavesItIntactButABarrierTimeoutBreaksIt() throws Exception {
        var phaser = new Phaser(2);
        int phase = phaser.arrive();
        assertThrows(TimeoutException.class,
                () -> phaser.awaitAdvanceInterruptibly(phase, 10, MILLISECONDS));
        assertFalse(phaser.isTerminated());
        phaser.arrive();  // the other party: the phase advances as if nothing happened
        assertEquals(1, phaser.getPhase());

        var barrier = new CyclicBarrier(2);
        assertEquals("TimeoutException", BarrierBreak.await(barrier, 10));
        assertTrue(barrier.isBroken());
        assertEquals("BrokenBarrierException", BarrierBreak.await(barrier, LONG));
    }

    // -- helpers ------------------------------------------------------------------------

    interface Job { void run() throws Exception; }

    private Thread start(String name, Job job) {
        return Thread.ofPlatform().name(name).start(() -> {
            try {
                job.run();
            } catch (Throwable e) {
                failures.add(e);
            }
        });
    }

    private void assertNoFailures() {
        Throwable first = failures.peek();
        if (first != null) throw new AssertionError("a worker thread failed", first);
    }

    private static List<Double> workingSeconds(List<String> lines) {
        var working = Pattern.compile("Worker [0-3] working for (\\d+\\.\\d)s");
        return lines.stream().map(working::matcher).filter(m -> m.matches())
                .map(m -> Double.parseDouble(m.group(1))).toList();
    }

    private static int count(List<String> lines, Pattern p) {
        return (int) lines.stream().filter(l -> p.matcher(l).matches()).count();
    }

    private static int indexOf(List<String> lines, Pattern p) {
        for (int i = 0; i < lines.size(); i++) if (p.matcher(lines.get(i)).matches()) return i;
        throw new AssertionError("no line matches " + p + " in " + lines);
    }
}
