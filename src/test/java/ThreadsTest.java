import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Threads;

/** What the `threads` lesson claims, proven. */
class ThreadsTest {

    @Test
    @Timeout(10)
    void withoutJoinMainSeesNoResultsAndAfterJoinItSeesThemAll() throws Exception {
        assertEquals(new ForgottenJoin.Seen(0, 3, 3), ForgottenJoin.demo(3));
    }

    @Test
    @Timeout(10)
    void joinWithATimeoutKeepsReturningFalseWhileTheWorkerIsHeld() throws Exception {
        var release = new CountDownLatch(1);
        Thread held = Thread.ofPlatform().name("held").start(() -> await(release));
        try {
            for (int i = 0; i < 3; i++) {
                assertFalse(held.join(Duration.ofMillis(20)), "join returned while held");
                assertTrue(held.isAlive());
            }
        } finally {
            release.countDown();
        }
        assertTrue(held.join(Threads.LONG), "join after release");
        assertFalse(held.isAlive());
    }

    @Test
    @Timeout(10)
    void joinTimeoutDemoTimesOutWhileHeldAndSucceedsAfterRelease() throws Exception {
        assertEquals(new JoinTimeout.Joins(false, true), JoinTimeout.demo(20));
    }

    @Test
    @Timeout(10)
    void seedWorkersAreNamedT0ToT2AndArePlatformThreads() throws Exception {
        List<Thread> workers = SeedWorkers.start(3, 0);
        Threads.joinAll(workers);
        assertEquals(List.of("T0", "T1", "T2"),
                workers.stream().map(Thread::getName).toList());
        for (Thread t : workers) {
            assertFalse(t.isVirtual(), t.getName());
            assertFalse(t.isDaemon(), t.getName());
        }
    }

    @Test
    @Timeout(10)
    void anInterruptedSeedWorkerStopsSleepingAndKeepsTheFlag() throws Exception {
        var flagAfterWork = new AtomicBoolean();
        Thread worker = Thread.ofPlatform().name("sleeper").start(() -> {
            SeedWorkers.work(TimeUnit.MINUTES.toMillis(5));  // far past the timeout
            flagAfterWork.set(Thread.currentThread().isInterrupted());
        });
        Threads.awaitBlocked(worker);
        worker.interrupt();
        Threads.joinAll(List.of(worker));
        assertTrue(flagAfterWork.get(), "work() swallowed the interrupt");
    }

    @Test
    @Timeout(10)
    void virtualWorkersAreVirtualDaemonsAndOnlyTheBuiltOnesHaveNames() throws Exception {
        List<Thread> workers = VirtualWorkers.start(3, 0);
        Threads.joinAll(workers);
        assertEquals(List.of("V0", "V1", "V2", ""),
                workers.stream().map(Thread::getName).toList());
        for (Thread t : workers) {
            assertTrue(t.isVirtual(), t.getName());
            assertTrue(t.isDaemon(), t.getName());
        }
        Thread v = Thread.ofVirtual().unstarted(() -> { });
        assertThrows(IllegalArgumentException.class, () -> v.setDaemon(false));
    }

    @Test
    @Timeout(10)
    void interruptStopsABlockedWorkerThatRestoresTheFlag() throws Exception {
        var worker = new JobWorker(JobWorker.OnInterrupt.RESTORE);
        Thread thread = Thread.ofPlatform().name("restorer").start(worker);
        Threads.awaitBlocked(thread);  // waiting in poll() for a job
        thread.interrupt();
        assertTrue(thread.join(Threads.LONG), "the interrupt did not stop it");
        assertEquals("interrupt", worker.endedBy());
        assertEquals(0, worker.caughtInterrupt.getCount(), "never saw the exception");
        assertEquals(0, worker.jobsDone());
    }

    @Test
    @Timeout(10)
    void aSwallowedInterruptIsLostAndTheWorkerCarriesOn() throws Exception {
        var worker = new JobWorker(JobWorker.OnInterrupt.SWALLOW);
        Thread thread = Thread.ofPlatform().name("swallower").start(worker);
        try {
            Threads.awaitBlocked(thread);
            thread.interrupt();
            await(worker.caughtInterrupt);
            Threads.awaitBlocked(thread);  // back in poll(), waiting for the next job
            assertTrue(thread.isAlive());
            assertFalse(thread.isInterrupted(), "the flag should be cleared and lost");
            assertFalse(thread.join(Duration.ofMillis(20)), "ended without a STOP job");
            worker.submit("job 1");
            worker.submit("job 2");
        } finally {
            worker.submit(JobWorker.STOP);
        }
        Threads.joinAll(List.of(thread));
        assertEquals("STOP job", worker.endedBy());
        assertEquals(2, worker.jobsDone());
    }

    @Test
    @Timeout(30)
    void jobWorkerDemosEndTheSameWayEveryTime() throws Exception {
        var swallow = JobWorker.OnInterrupt.SWALLOW;
        var restore = JobWorker.OnInterrupt.RESTORE;
        for (int i = 0; i < 50; i++) {
            var swallowed = JobWorker.demo(swallow);
            var restored = JobWorker.demo(restore);
            assertEquals(new JobWorker.Stop(swallow, 2, "STOP job"), swallowed);
            assertEquals(new JobWorker.Stop(restore, 0, "interrupt"), restored);
        }
    }

    @Test
    @Timeout(10)
    void jobWorkerDoesEveryJobUntilTheStopJob() throws Exception {
        var worker = new JobWorker(JobWorker.OnInterrupt.RESTORE);
        Thread thread = Thread.ofPlatform().name("jobs").start(worker);
        for (int i = 0; i < 1_000; i++) worker.submit("job " + i);
        worker.submit(JobWorker.STOP);
        Threads.joinAll(List.of(thread));
        assertEquals(1_000, worker.jobsDone());
        assertEquals("STOP job", worker.endedBy());
    }

    @Test
    @Timeout(30)
    void aCrunchingWorkerStopsWhenInterrupted() {
        // Cruncher.demo throws IllegalStateException if the cruncher ignores the flag.
        for (int i = 0; i < 20; i++) assertDoesNotThrow(() -> Cruncher.demo(0));
    }

    @Test
    void optionsDefaultToTheSeedsRun() {
        assertEquals(new threads.Options(3, 1_000, 1.0), threads.parse());
        assertEquals(5, threads.parse("--workers", "5").workers());
        assertEquals(250, threads.parse("--delay", "250").delayMillis());
        assertEquals(0.25, threads.parse("--speed", "0.25").speed());
        assertEquals(50, threads.parse("--speed", "20").scaled(1_000));
        assertNull(threads.parse("--workers", "5", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--workers wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> threads.parse("--workers", "0")).getMessage());
        assertEquals("--speed wants a positive number, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> threads.parse("--speed", "fast")).getMessage());
        assertEquals("unknown argument '--bogus'",
                assertThrows(IllegalArgumentException.class,
                        () -> threads.parse("--bogus", "1")).getMessage());
        assertEquals("--delay needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> threads.parse("--delay")).getMessage());
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(Threads.LONG.toSeconds(), TimeUnit.SECONDS)) {
                throw new AssertionError("latch never opened");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
