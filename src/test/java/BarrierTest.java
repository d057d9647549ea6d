import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Phaser;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import support.Threads;

/** What the `barrier` lesson claims, proven. */
class BarrierTest {
    static final long LONG = Threads.LONG.toMillis();
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    /** Failures inside worker threads, rethrown by the test thread (JSR166 TCK style). */
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();

    // -- without a barrier ------------------------------------------------------------

    @Test
    @Timeout(10)
    void withoutABarrierACellThatRunsAheadReadsCellsNotYetWritten() throws Exception {
        int rounds = 3;
        var othersMayGo = new CountDownLatch(1);
        RoundWork cellOneRunsAhead = (cell, round) -> {
            if (cell == 1 && round == rounds) othersMayGo.countDown();  // after its reads
            if (cell != 1 && round == 1) await(othersMayGo);  // before their first write
        };

        PascalRing.Result r = PascalRing.withoutBarrier(rounds, cellOneRunsAhead);

        assertTrue(r.earlyReads() >= rounds - 1, "early reads: " + r.earlyReads());
        assertEquals(3, r.expected()[1]);
        assertEquals(1, r.lastRow()[1], "cell 1 read 0 for cell 0 in rounds 2 and 3");
        assertFalse(r.right());
    }

    // -- CyclicBarrier ------------------------------------------------------------------

    @Test
    @Timeout(10)
    void nobodyPassesUntilTheFourthPartyArrives() throws Exception {
        var gate = new CyclicBarrier(4);
        var endings = new AtomicReferenceArray<BarrierEnding>(4);
        var fourthMayArrive = new CountDownLatch(1);
        var threads = new ArrayList<Thread>();
        for (int p = 0; p < 3; p++) {
            int me = p;
            threads.add(start("party-" + me,
                    () -> endings.set(me, BarrierEnding.await(gate, LONG))));
        }
        for (Thread t : threads) Threads.awaitBlocked(t);
        BarrierCrew.awaitWaiting(gate, 3);
        Thread fourth = start("party-3", () -> {
            await(fourthMayArrive);
            endings.set(3, BarrierEnding.await(gate, LONG));
        });
        threads.add(fourth);
        Threads.awaitBlocked(fourth);  // held by the latch, not at the barrier

        assertEquals(3, gate.getNumberWaiting());
        for (int p = 0; p < 4; p++) assertNull(endings.get(p), "party " + p + " passed");

        fourthMayArrive.countDown();
        Threads.joinAll(threads);
        assertNoFailures();
        for (int p = 0; p < 4; p++) assertEquals(BarrierEnding.PASSED, endings.get(p));
        assertEquals(0, gate.getNumberWaiting());
        assertFalse(gate.isBroken());
    }

    @Test
    @Timeout(10)
    void barrierActionRunsInTheLastArrivalBeforeAnyoneIsReleased() throws Exception {
        var actionStarted = new CountDownLatch(1);
        var actionMayEnd = new CountDownLatch(1);
        var actionThread = new AtomicReference<Thread>();
        var indexZeroThread = new AtomicReference<Thread>();
        var actions = new AtomicInteger();
        var passed = new AtomicInteger();
        var gate = new CyclicBarrier(4, () -> {
            actions.incrementAndGet();
            actionThread.set(Thread.currentThread());
            actionStarted.countDown();
            try {
                await(actionMayEnd);  // keep the action running
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        BarrierCrew.Job party = () -> {
            int index = gate.await(LONG, MILLISECONDS);
            if (index == 0) indexZeroThread.set(Thread.currentThread());
            passed.incrementAndGet();
        };
        var threads = new ArrayList<Thread>();
        for (int p = 0; p < 3; p++) threads.add(start("party-" + p, party));
        BarrierCrew.awaitWaiting(gate, 3);
        Thread last = start("last", party);
        threads.add(last);

        await(actionStarted);
        assertSame(last, actionThread.get(), "the action runs in the last to arrive");
        assertEquals(0, passed.get(), "a party got through while the action was running");

        actionMayEnd.countDown();
        Threads.joinAll(threads);
        assertNoFailures();
        assertEquals(4, passed.get());
        assertEquals(1, actions.get());
        assertSame(last, indexZeroThread.get(), "await() returns 0 to the last");
    }

    @Test
    @Timeout(60)
    void oneBarrierServesManyGenerationsWithOneActionEachUnderStress() throws Exception {
        int generations = 5_000;
        var actions = new AtomicInteger();
        var gate = new CyclicBarrier(4, actions::incrementAndGet);
        var indices = new AtomicIntegerArray(generations);  // one bit per arrival index
        var wrongActionCounts = new AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int p = 0; p < 4; p++) {
            threads.add(start("party-" + p, () -> {
                for (int g = 0; g < generations; g++) {
                    int index = gate.await(LONG, MILLISECONDS);
                    // this generation's action has run, and the next one cannot have yet
                    if (actions.get() != g + 1) wrongActionCounts.incrementAndGet();
                    int bit = 1 << index;
                    indices.getAndUpdate(g, seen -> seen | bit);
                }
            }));
        }
        Threads.joinAll(threads);
        assertNoFailures();

        assertEquals(generations, actions.get());
        assertEquals(0, wrongActionCounts.get());
        for (int g = 0; g < generations; g++) {
            assertEquals(0b1111, indices.get(g), "arrival indices of generation " + g);
        }
    }

    @Test
    @Timeout(60)
    void withABarrierTheRingIsExactEveryRoundUnderStress() throws Exception {
        RoundWork jitter = (cell, round) -> {
            if (cell == 1) return;  // cell 1 never works: it always tries to run ahead
            int yields = ThreadLocalRandom.current().nextInt(3);
            for (int i = 0; i < yields; i++) Thread.yield();
        };
        for (int run = 0; run < 200; run++) {
            PascalRing.Result r = PascalRing.withBarrier(12, jitter, QUIET);
            assertEquals(0, r.earlyReads(), "run " + run);
            assertEquals(Arrays.toString(r.expected()), Arrays.toString(r.lastRow()));
        }
    }

    @Test
    @Timeout(10)
    void theSeedsMeetingRunsTheActionInTheLastToArrive() throws Exception {
        BarrierMeeting.Result r = BarrierMeeting.meet(42, 1_000);
        assertEquals(4, r.passed());
        assertEquals(r.lastToArrive(), r.actionThread());
    }

    // -- broken barriers ----------------------------------------------------------------

    @Test
    @Timeout(20)
    void aTimeoutBreaksTheBarrierForEveryParty() throws Exception {
        assertEquals(List.of(BarrierEnding.BROKEN, BarrierEnding.BROKEN,
                        BarrierEnding.TIMED_OUT, BarrierEnding.BROKEN),
                BarrierBreak.timeout(50));
    }

    @ParameterizedTest(name = "victim {0}")
    @ValueSource(ints = {0, 1, 2})
    @Timeout(20)
    void interruptingOneWaiterBreaksTheBarrierForAllOthers(int victim) throws Exception {
        var expected = new ArrayList<>(List.of(BarrierEnding.BROKEN, BarrierEnding.BROKEN,
                BarrierEnding.BROKEN, BarrierEnding.BROKEN));
        expected.set(victim, BarrierEnding.INTERRUPTED);
        assertEquals(expected, BarrierBreak.interrupt(victim));
    }

    @Test
    @Timeout(10)
    void theInterruptedPartyKeepsItsInterruptFlag() throws Exception {
        var gate = new CyclicBarrier(2);
        var ending = new AtomicReference<BarrierEnding>();
        var flagAfter = new AtomicReference<Boolean>();
        Thread victim = start("victim", () -> {
            ending.set(BarrierEnding.await(gate, LONG));
            flagAfter.set(Thread.currentThread().isInterrupted());
        });
        BarrierCrew.awaitWaiting(gate, 1);
        victim.interrupt();
        Threads.joinAll(List.of(victim));
        assertNoFailures();
        assertEquals(BarrierEnding.INTERRUPTED, ending.get());
        assertTrue(flagAfter.get(), "InterruptedException was swallowed");
        assertTrue(gate.isBroken());
    }

    @Test
    @Timeout(10)
    void aBarrierActionThatThrowsBreaksTheBarrier() throws Exception {
        var gate = new CyclicBarrier(2, () -> {
            throw new IllegalStateException("action failed");
        });
        var first = new AtomicReference<BarrierEnding>();
        Thread waiting = start("first", () -> first.set(BarrierEnding.await(gate, LONG)));
        BarrierCrew.awaitWaiting(gate, 1);

        var e = assertThrows(IllegalStateException.class,
                () -> gate.await(LONG, MILLISECONDS));  // last to arrive: runs it
        assertEquals("action failed", e.getMessage());
        Threads.joinAll(List.of(waiting));
        assertNoFailures();
        assertEquals(BarrierEnding.BROKEN, first.get());
        assertTrue(gate.isBroken());
    }

    @Test
    @Timeout(20)
    void resetBreaksWaitersAndMakesTheBarrierUsableAgain() throws Exception {
        var b = BarrierEnding.BROKEN;
        var p = BarrierEnding.PASSED;
        assertEquals(List.of(BarrierEnding.TIMED_OUT, b, b, b, p, p, p, p),
                BarrierBreak.resetAndReuse(20));
    }

    // -- Phaser -------------------------------------------------------------------------

    @Test
    @Timeout(10)
    void phaserDeregistrationLetsTheRemainingPartiesAdvance() throws Exception {
        var phaser = new Phaser(4);
        var stayers = new ArrayList<Thread>();
        for (int p = 0; p < 3; p++) {
            stayers.add(start("stayer-" + p, () -> {
                for (int round = 0; round < 2; round++) {
                    phaser.awaitAdvanceInterruptibly(phaser.arrive(), LONG, MILLISECONDS);
                }
            }));
        }
        eventually(() -> phaser.getArrivedParties() == 3);
        for (Thread t : stayers) Threads.awaitBlocked(t);
        assertEquals(0, phaser.getPhase(), "advanced without the fourth party");

        phaser.arriveAndDeregister();  // the fourth arrives once more and leaves

        Threads.joinAll(stayers);  // round 2 needed only the three that stayed
        assertNoFailures();
        assertEquals(2, phaser.getPhase());
        assertEquals(3, phaser.getRegisteredParties());
    }

    @Test
    @Timeout(10)
    void phaserRoundsCountThePartiesThatStayed() throws Exception {
        RoundWork none = PascalRing.NO_WORK;
        assertEquals(List.of(4, 4, 3, 3), PhaserRounds.run(4, 2, none, QUIET));
        assertEquals(List.of(4, 4, 4), PhaserRounds.run(3, 5, none, QUIET));
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

        var gate = new CyclicBarrier(2);
        assertEquals(BarrierEnding.TIMED_OUT, BarrierEnding.await(gate, 10));
        assertTrue(gate.isBroken());
        assertEquals(BarrierEnding.BROKEN, BarrierEnding.await(gate, LONG));
    }

    // -- the command line ---------------------------------------------------------------

    @Test
    void optionsDefaultToTheSeedsRun() {
        assertEquals(new barrier.Options(3, 42, 1.0), barrier.parse());
        assertEquals(5, barrier.parse("--rounds", "5").rounds());
        assertEquals(7, barrier.parse("--seed", "7").seed());
        assertEquals(0.25, barrier.parse("--speed", "0.25").speed());
        assertNull(barrier.parse("--rounds", "5", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--rounds wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> barrier.parse("--rounds", "0")).getMessage());
        assertEquals("--speed wants a positive number, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> barrier.parse("--speed", "fast")).getMessage());
        assertEquals("unknown argument '--parties'",
                assertThrows(IllegalArgumentException.class,
                        () -> barrier.parse("--parties", "4")).getMessage());
        assertEquals("--seed needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> barrier.parse("--seed")).getMessage());
    }

    // -- helpers ------------------------------------------------------------------------

    private Thread start(String name, BarrierCrew.Job job) {
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

    private static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(LONG, MILLISECONDS)) throw new AssertionError("latch shut");
    }

    private static void eventually(BooleanSupplier condition) throws TimeoutException {
        long deadline = System.nanoTime() + Threads.LONG.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new TimeoutException("never true");
            Thread.yield();
        }
    }
}
