import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import support.Scripts;
import support.Threads;

/** What the `deadlock` lesson claims, proven. */
class DeadlockTest {

    static Stream<Arguments> fixes() {
        Supplier<TransferPolicy> ordered = OrderedTransfer::new;
        Supplier<TransferPolicy> backoff = BackoffTransfer::new;
        return Stream.of(Arguments.of("ordered", ordered),
                Arguments.of("back-off", backoff));
    }

    @Test
    @Timeout(30)
    void forcedOppositeTransfersDeadlockAndTheDetectorReportsBoth() throws Exception {
        var one = new LockedAccount(1, 100);
        var two = new LockedAccount(2, 100);
        var naive = new NaiveTransfer(DeadlyEmbrace.forcedSchedule(0, false));
        Thread a = Thread.ofPlatform().name("pay-1-to-2")
                .start(() -> pay(naive, one, two, 10));
        Thread b = Thread.ofPlatform().name("pay-2-to-1")
                .start(() -> pay(naive, two, one, 30));
        try {
            long[] found = DeadlockWatch.lookFor(List.of(a, b), Threads.LONG);
            assertEquals(Set.of(a.threadId(), b.threadId()), ids(found));

            // the cycle: each one waits for a lock the other one owns
            var mx = ManagementFactory.getThreadMXBean();
            ThreadInfo aInfo = mx.getThreadInfo(a.threadId());
            ThreadInfo bInfo = mx.getThreadInfo(b.threadId());
            assertEquals(b.threadId(), aInfo.getLockOwnerId());
            assertEquals(a.threadId(), bInfo.getLockOwnerId());
            assertEquals(Thread.State.WAITING, aInfo.getThreadState());
            var described = String.join("\n", DeadlockWatch.describe(found));
            assertTrue(described.contains("owned by \"pay-2-to-1\""), described);
            assertTrue(described.contains("owned by \"pay-1-to-2\""), described);
        } finally {
            a.interrupt();
            b.interrupt();
            Threads.joinAll(List.of(a, b));
        }
        // a transfer happens completely or not at all, so the money is all there
        assertEquals(200, one.balance() + two.balance());
        assertTrue(Set.of(100L, 130L, 90L).contains(one.balance()), "" + one.balance());
    }

    @Test
    @Timeout(30)
    void theDemoBreaksTheDeadlockByInterruptingOneVictim() throws Exception {
        var policy = new NaiveTransfer(DeadlyEmbrace.forcedSchedule(0, false));
        var outcome = DeadlyEmbrace.run(policy, DeadlyEmbrace.Response.INTERRUPT_ONE);

        assertEquals(Set.copyOf(outcome.threadIds()), ids(outcome.deadlocked()));
        assertEquals(List.of(0, 1), outcome.attempts(), "victim gave up, the other paid");
        assertEquals(130, outcome.balance1());
        assertEquals(70, outcome.balance2());
    }

    @Test
    @Timeout(30)
    void orderedLockingFinishesTheForcedOppositeSchedule() throws Exception {
        var policy = new OrderedTransfer(DeadlyEmbrace.forcedSchedule(0, false));
        var outcome = DeadlyEmbrace.run(policy, DeadlyEmbrace.Response.REPORT);

        assertEquals(0, outcome.deadlocked().length);
        assertEquals(List.of(1, 1), outcome.attempts());
        assertEquals(120, outcome.balance1());
        assertEquals(80, outcome.balance2());
    }

    @Test
    @Timeout(30)
    void backoffFinishesTheForcedScheduleAfterAtLeastOneRetry() throws Exception {
        var policy = new BackoffTransfer(DeadlyEmbrace.forcedSchedule(0, false));
        var outcome = DeadlyEmbrace.run(policy, DeadlyEmbrace.Response.NONE);

        // both held their first lock, so at least one had to let go of it and retry
        int attempts = outcome.attempts().get(0) + outcome.attempts().get(1);
        assertTrue(attempts >= 3, "attempts " + outcome.attempts());
        assertEquals(120, outcome.balance1());
        assertEquals(80, outcome.balance2());
    }

    @Test
    @Timeout(30)
    void theDetectorAlsoReportsThreadsWaitingInATimedTryLock() throws Exception {
        // tryLock waits of 60 s: the detector cannot tell such a cycle from a deadlock
        var policy = new BackoffTransfer(Duration.ofSeconds(60), Duration.ofMillis(1), 2,
                DeadlyEmbrace.forcedSchedule(0, false));
        var outcome = DeadlyEmbrace.run(policy, DeadlyEmbrace.Response.INTERRUPT_ONE);

        assertEquals(Set.copyOf(outcome.threadIds()), ids(outcome.deadlocked()));
        assertEquals(List.of(0, 1), outcome.attempts());
        assertEquals(200, outcome.total());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixes")
    @Timeout(120)
    void fixesFinishManyRandomTransfersBothWaysAndConserveMoney(
            String name, Supplier<TransferPolicy> fix) throws Exception {
        for (int accounts : new int[] {2, 5}) {
            // the detector would report back-off's short tryLock waits too
            boolean watch = name.equals("ordered");
            var r = TransferStress.run(fix.get(), accounts, 8, 10_000, watch);
            assertEquals(0, r.deadlocked(), "a deadlock");
            assertEquals(80_000, r.done(), accounts + " accounts");
            assertEquals(1_000L * accounts, r.totalBefore());
            assertEquals(r.totalBefore(), r.totalAfter(), "money created or destroyed");
        }
    }

    @Test
    @Timeout(60)
    void anAuditHoldingEveryLockInIdOrderIsExactWhileTransfersRun() throws Exception {
        var a = BankAudit.whileTransfersRun(6, 4, 2_000);
        assertEquals(2_000, a.exact().size());
        assertEquals(List.of(6_000L), a.exact().stream().distinct().toList());
        assertEquals(0, a.exactWrong());
        assertEquals(6_000, a.totalAfter());
    }

    @Test
    @Timeout(60)
    void leftToChanceTheNaiveTransferEitherFinishesOrIsCaughtAndConservesMoney()
            throws Exception {
        var r = TransferStress.run(new NaiveTransfer(), 2, 4, 20_000, true);
        assertEquals(r.deadlocked() == 0, r.done() == r.wanted(), "" + r);
        assertEquals(2_000, r.totalAfter());
    }

    @Test
    @Timeout(60)
    void aSynchronizedDeadlockIsFoundButOnlyKillingTheJvmEndsIt() throws Exception {
        var o = UnbreakableDeadlock.inChildJvm(200);
        assertTrue(o.detected(), o.childOutput());
        assertTrue(o.stillBlocked(), o.childOutput());
        assertFalse(o.exitedOnItsOwn(), o.childOutput());
    }

    /**
     * Runs in a child JVM: the first virtual thread starts the JVM's scheduler threads
     * (ForkJoinPool-N-worker-..., VirtualThread-unblocker), platform threads that
     * outlive any test and that NoLeakedThreads would rightly report here.
     */
    static final class VirtualThreadsChild {
        public static void main(String[] args) throws Exception {
            var o = InvisibleDeadlock.run();
            System.out.println("found=" + Arrays.toString(o.mxBeanFound())
                    + " threadInfo=" + o.threadInfoFound()
                    + " allStackTraces=" + o.inAllStackTraces()
                    + " jsonDump=" + o.inJsonDump());
        }
    }

    @Test
    @Timeout(60)
    void theDetectorDoesNotSeeDeadlockedVirtualThreads() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path out = Files.createTempFile("virtual", ".out");
        try {
            String classpath = System.getProperty("java.class.path");
            Process child = new ProcessBuilder(java, "-cp", classpath,
                    VirtualThreadsChild.class.getName())
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!child.waitFor(Threads.LONG.toSeconds() * 3, TimeUnit.SECONDS)) {
                child.destroyForcibly().waitFor();
                throw new AssertionError("child still running: " + Files.readString(out));
            }
            String said = Files.readString(out);
            assertEquals(0, child.exitValue(), said);
            assertEquals("found=null threadInfo=false allStackTraces=false jsonDump=true",
                    said.strip());
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test
    void aTransferMustHoldBothLocks() {
        var one = new LockedAccount(1, 100);
        var two = new LockedAccount(2, 100);
        one.lock.lock();
        try {
            assertThrows(IllegalStateException.class, () -> one.moveTo(two, 10));
        } finally {
            one.lock.unlock();
        }
        assertEquals(100, one.balance());
    }

    @Test
    @Timeout(60)
    void theWholeScriptRunsAndEndsCleanly() throws Exception {
        var r = Scripts.compiled("deadlock", "--speed", "50", "--transfers", "2000",
                "--runs", "2");
        assertEquals(0, r.exitCode(), r.stderr());
        for (String expected : List.of("findDeadlockedThreads() reports 2 threads",
                "both still BLOCKED", "findDeadlockedThreads(): null")) {
            assertTrue(r.stdout().contains(expected), r.stdout());
        }
    }

    @Test
    void optionsDefaultToAShortRun() {
        assertEquals(new deadlock.Options(4, 20_000, 10, 5, 1.0), deadlock.parse());
        assertEquals(7, deadlock.parse("--threads", "7").threads());
        assertEquals(0.25, deadlock.parse("--speed", "0.25").speed());
        assertNull(deadlock.parse("--threads", "7", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--transfers wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> deadlock.parse("--transfers", "0")).getMessage());
        assertEquals("--accounts wants 2 or more, got 1",
                assertThrows(IllegalArgumentException.class,
                        () -> deadlock.parse("--accounts", "1")).getMessage());
        assertEquals("unknown argument '--bogus'",
                assertThrows(IllegalArgumentException.class,
                        () -> deadlock.parse("--bogus", "1")).getMessage());
        assertEquals("--speed needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> deadlock.parse("--speed")).getMessage());
    }

    private static void pay(TransferPolicy policy, LockedAccount from, LockedAccount to,
                            long amount) {
        try {
            policy.transfer(from, to, amount);
        } catch (InterruptedException e) {
            // broken out of the deadlock
        }
    }

    private static Set<Long> ids(long[] ids) {
        return Arrays.stream(ids).boxed().collect(Collectors.toSet());
    }
}
