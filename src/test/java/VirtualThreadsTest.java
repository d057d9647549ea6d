import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Threads;

/** What the `virtual_threads` lesson claims, proven without timing anything. */
class VirtualThreadsTest {

    @Test
    @Timeout(60)
    void tenThousandVirtualTasksAllCompleteWithTheRightAnswers() throws Exception {
        var row = ManyBlockingTasks.run("virtual", Executors::newVirtualThreadPerTaskExecutor,
                10_000, 1, 1);
        assertEquals(10_000, row.correct(), "every answer is content_<id> for its id");
        assertEquals(10_000, row.onVirtual(), "every task ran on a virtual thread");
    }

    @Test
    @Timeout(60)
    void poolTasksRunOnPlatformThreadsAndAnswerCorrectly() throws Exception {
        var row = ManyBlockingTasks.run("pool", () -> ManyBlockingTasks.newPool(8),
                400, 50, 1);
        assertEquals(400, row.correct());
        assertEquals(0, row.onVirtual());
        assertTrue(row.atOnce() >= 1 && row.atOnce() <= 8, "at once: " + row.atOnce());
    }

    /** The first poolSize tasks are held until all of them run: max is exactly poolSize. */
    @Test
    @Timeout(30)
    void poolNeverRunsMoreThanItsSizeAtOnce() throws Exception {
        int poolSize = 8;
        var gauge = new AtOnceGauge();
        var allRunning = new CountDownLatch(poolSize);
        var release = new CountDownLatch(1);
        var futures = new ArrayList<Future<Integer>>();
        try (var pool = ManyBlockingTasks.newPool(poolSize)) {
            try {
                for (int i = 0; i < 5 * poolSize; i++) {
                    int id = i;
                    futures.add(pool.submit(gauge.around(() -> {
                        allRunning.countDown();
                        await(release);  // hold the workers until the test has looked
                        return id;
                    })));
                }
                await(allRunning);
                assertEquals(poolSize, gauge.running(), "every worker busy, the rest queued");
            } finally {
                release.countDown();  // before close(), which waits for the tasks
            }
            for (int i = 0; i < futures.size(); i++) {
                assertEquals(i, futures.get(i).get(10, TimeUnit.SECONDS));
            }
        }
        assertEquals(poolSize, gauge.max());
    }

    @Test
    @Timeout(30)
    void virtualThreadsAreVirtualAndDaemons() throws Exception {
        var threads = ConcurrentHashMap.<Thread>newKeySet();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 100; i++) {
                executor.submit(() -> threads.add(Thread.currentThread()));
            }
        }
        assertEquals(100, threads.size(), "a new thread per task: none reused");
        for (Thread t : threads) {
            assertTrue(t.isVirtual(), t.toString());
            assertTrue(t.isDaemon(), t.toString());
        }
        Thread unstarted = Thread.ofVirtual().unstarted(() -> { });
        assertThrows(IllegalArgumentException.class, () -> unstarted.setDaemon(false));
    }

    @Test
    @Timeout(30)
    void aRunningVirtualThreadNamesItsCarrier() throws Exception {
        var carriers = ConcurrentHashMap.<String>newKeySet();
        var t = Thread.ofVirtual().start(() -> carriers.add(
                ManyBlockingTasks.carrierOf(Thread.currentThread())));
        Threads.joinAll(List.of(t));
        assertFalse(carriers.iterator().next().isEmpty(), "a running virtual thread "
                + "names its carrier");
        assertEquals("", ManyBlockingTasks.carrierOf(Thread.currentThread()),
                "a platform thread has no carrier");
    }

    /**
     * The key claim. Each of 4 x cores virtual threads holds its own monitor and, inside
     * it, waits for all the others at one barrier. If a thread blocked inside
     * synchronized pinned its carrier (JDK 21-23), only as many threads as carriers
     * could ever get there: the barrier would time out.
     */
    @Test
    @Timeout(60)
    void moreVirtualThreadsThanCarriersBlockInsideSynchronizedAtOnce() throws Exception {
        int n = 4 * Runtime.getRuntime().availableProcessors();
        assertTrue(n > SynchronizedUnpinned.carriers());
        var barrier = new CyclicBarrier(n);
        var passed = new AtomicInteger();
        var failures = new ConcurrentHashMap<String, Throwable>();
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < n; i++) {
            Object monitor = new Object();
            threads.add(Thread.ofVirtual().name("inside-", i).start(() -> {
                synchronized (monitor) {
                    try {
                        barrier.await(Threads.LONG.toSeconds(), TimeUnit.SECONDS);
                        assertTrue(Thread.holdsLock(monitor));
                        passed.incrementAndGet();
                    } catch (TimeoutException | BrokenBarrierException | AssertionError e) {
                        failures.put(Thread.currentThread().getName(), e);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        failures.put(Thread.currentThread().getName(), e);
                    }
                }
            }));
        }
        Threads.joinAll(threads);
        assertEquals(List.of(), List.copyOf(failures.keySet()), "failed: " + failures);
        assertEquals(n, passed.get());
    }

    @Test
    @Timeout(60)
    void theLessonsSynchronizedProofLetsEveryVirtualThreadIn() throws Exception {
        int n = 4 * Runtime.getRuntime().availableProcessors();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            assertEquals(n, SynchronizedUnpinned.insideTogether(executor, n, Threads.LONG));
        }
    }

    /** The proof has teeth: on carriers that cannot let go (a pool), nobody gets through. */
    @Test
    @Timeout(60)
    void onPinnedCarriersTheBarrierCannotOpen() throws Exception {
        int carriers = SynchronizedUnpinned.carriers();
        int n = 4 * carriers;
        try (var pool = ManyBlockingTasks.newPool(carriers)) {
            assertEquals(0, SynchronizedUnpinned.insideTogether(pool, n,
                    Duration.ofMillis(200)));
        }
    }

    /** Holds the first `permits` callers inside the call: max is exactly permits. */
    @Test
    @Timeout(30)
    void semaphoreLetsExactlyItsPermitsIntoTheCall() throws Exception {
        int permits = 5;
        int tasks = 10 * permits;
        var gauge = new AtOnceGauge();
        var allInside = new CountDownLatch(permits);
        var release = new CountDownLatch(1);
        var calls = new ArrayList<Callable<String>>();
        var seenWhileHeld = new AtomicInteger(-1);
        for (int i = 0; i < tasks; i++) {
            int id = i;
            calls.add(() -> {
                allInside.countDown();
                await(release);
                return "answer_" + id;
            });
        }
        Thread looker = Thread.ofPlatform().name("looker").start(() -> {
            try {
                await(allInside);
                seenWhileHeld.set(gauge.running());
            } finally {
                release.countDown();
            }
        });
        List<String> answers;
        try {
            answers = SemaphoreLimit.fetchAll(calls, new Semaphore(permits), gauge);
        } finally {
            release.countDown();
            Threads.joinAll(List.of(looker));
        }
        assertEquals(permits, seenWhileHeld.get(), "the others wait for a permit");
        assertEquals(permits, gauge.max());
        assertEquals(IntStream.range(0, tasks).mapToObj(i -> "answer_" + i).toList(), answers);
    }

    @Test
    @Timeout(30)
    void semaphoreDemoNeverExceedsItsPermits() throws Exception {
        int max = SemaphoreLimit.demo(40, 4, 1);
        assertTrue(max >= 1 && max <= 4, "at once: " + max);
    }

    @Test
    @Timeout(30)
    void withPermitReleasesThePermitWhenTheCallFails() throws Exception {
        var permits = new Semaphore(1);
        assertThrows(IllegalStateException.class, () -> SemaphoreLimit.withPermit(permits,
                () -> { throw new IllegalStateException("boom"); }));
        assertEquals(1, permits.availablePermits());
    }

    @Test
    @Timeout(60)
    void measurementRunsAndReportsARatio() throws Exception {
        var pool = ManyBlockingTasks.onPool(200, 10, 1);
        var virtual = ManyBlockingTasks.onVirtualThreads(200, 1);
        assertEquals(20, pool.idealD());
        assertEquals(1, virtual.idealD());
        assertTrue(pool.atOnce() >= 1 && pool.atOnce() <= 10, "at once: " + pool.atOnce());
        double ratio = ManyBlockingTasks.compare(pool, virtual);
        assertTrue(Double.isFinite(ratio) && ratio > 0, "ratio " + ratio);
        assertEquals(pool.wallD() / virtual.wallD(), ratio, 1e-9);
    }

    @Test
    @Timeout(60)
    void profilesAreTheSameCodeOnEveryVirtualThread() throws Exception {
        var profiles = ProfileFetch.demo(300, 1);
        assertEquals(300, profiles.size());
        for (int i = 0; i < profiles.size(); i++) {
            assertEquals(new CustomerProfile("user" + i,
                    List.of("user" + i + "-order1", "user" + i + "-order2")), profiles.get(i));
        }
    }

    @Test
    @Timeout(60)
    void parkedThreadCostsAreMeasuredForBothKinds() throws Exception {
        var costs = ParkedThreadCost.table(50, 500);
        assertEquals(List.of("platform", "virtual"), costs.stream().map(c -> c.kind()).toList());
        assertEquals(50, costs.get(0).threads());
        assertEquals(500, costs.get(1).threads());
        assertTrue(costs.get(0).startMicros() > 0 && costs.get(1).startMicros() > 0);
    }

    @Test
    @Timeout(60)
    void pinningDemoRunsAndEveryThreadGetsIn() throws Exception {
        assertEquals(4 * SynchronizedUnpinned.carriers(), SynchronizedUnpinned.demo(1));
    }

    @Test
    void optionsDefaultToTenThousandTasksOnAPoolOf200() {
        assertEquals(new virtual_threads.Options(10_000, 200, 40, 50, 1_000, 1.0),
                virtual_threads.parse());
        assertEquals(500, virtual_threads.parse("--tasks", "500").tasks());
        assertEquals(2, virtual_threads.parse("--speed", "20").d());
        assertEquals(1, virtual_threads.parse("--speed", "1000").d(), "d never drops to 0");
        assertNull(virtual_threads.parse("--pool", "7", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--pool wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> virtual_threads.parse("--pool", "0")).getMessage());
        assertEquals("unknown argument '--threads'",
                assertThrows(IllegalArgumentException.class,
                        () -> virtual_threads.parse("--threads", "1")).getMessage());
        assertEquals("--speed wants a positive number, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> virtual_threads.parse("--speed", "fast")).getMessage());
        assertEquals("--delay needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> virtual_threads.parse("--delay")).getMessage());
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
