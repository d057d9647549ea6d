import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `thread_pool` lesson claims, proven. */
class ThreadPoolTest {
    private static final long LIMIT = Threads.LONG.toMillis();

    private static List<CountDownLatch> latches(int n) {
        return IntStream.range(0, n).mapToObj(i -> new CountDownLatch(1)).toList();
    }

    private static String completed(int urlId) {
        return "Completed URL %d: {'id': %d, 'data': 'content_%d'}".formatted(urlId, urlId,
                urlId);
    }

    @Test
    @Timeout(30)
    void seedSectionPrintsTheSeedsLinesAndEndsWithItsTotal() throws Exception {
        var run = Scripts.compiled("thread_pool", "seed", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertEquals("Total results: 5", lines.getLast());
        assertEquals(IntStream.range(0, 5).mapToObj(ThreadPoolTest::completed).sorted()
                        .toList(),
                lines.stream().filter(l -> l.startsWith("Completed URL")).sorted().toList());
    }

    @Test
    @Timeout(10)
    void completionServiceHandsOverEachResultAsItsFetchEnds() throws Exception {
        // One gate open at a time: the next opens only once the last result was printed,
        // so the fetches end in exactly this order.
        List<Integer> endOrder = List.of(2, 1, 4, 3, 0);
        var gates = latches(5);
        var lines = new ArrayList<String>();
        gates.get(endOrder.getFirst()).countDown();
        List<UrlData> results;
        try {
            results = SeedPool.fetchAll(id -> () -> {
                Threads.await(gates.get(id));
                return UrlFetch.fetchData(id, 0);
            }, LIMIT, line -> {
                lines.add(line);
                if (lines.size() < endOrder.size()) {
                    gates.get(endOrder.get(lines.size())).countDown();
                }
            });
        } finally {
            gates.forEach(CountDownLatch::countDown);
        }
        var expected = new ArrayList<>(endOrder.stream().map(ThreadPoolTest::completed)
                .toList());
        expected.add("Total results: 5");
        assertEquals(expected, lines);
        assertEquals(endOrder, results.stream().map(UrlData::id).toList());
    }

    @Test
    @Timeout(10)
    void getInSubmissionOrderWaitsForUrl0ThoughTheOthersEnded() throws Exception {
        List<Integer> endOrder = List.of(2, 1, 4, 3, 0);  // url 0 last, the others before
        var gates = latches(5);
        var ended = latches(5);
        Queue<String> lines = new ConcurrentLinkedQueue<>();
        IntFunction<Callable<UrlData>> fetch = id -> () -> {
            Threads.await(gates.get(id));
            try {
                return UrlFetch.fetchData(id, 0);
            } finally {
                ended.get(id).countDown();
            }
        };
        Thread caller = Thread.ofPlatform().name("caller").start(() -> {
            try {
                PoolOrder.inSubmissionOrder(fetch, LIMIT, lines::add);
            } catch (Exception e) {
                lines.add("failed: " + e);
            }
        });
        try {
            for (int id : endOrder.subList(0, 4)) {
                gates.get(id).countDown();
                Threads.await(ended.get(id));
            }
            assertTrue(lines.isEmpty(), "printed before url 0 ended: " + lines);
            gates.get(0).countDown();
        } finally {
            gates.forEach(CountDownLatch::countDown);
            Threads.joinAll(List.of(caller));
        }
        assertEquals(IntStream.range(0, 5).mapToObj(ThreadPoolTest::completed).toList(),
                List.copyOf(lines));
    }

    @Test
    @Timeout(10)
    void theFirstThreeSubmitsStartAWorkerEachAndOnlyThenTasksQueue() throws Exception {
        var release = new CountDownLatch(1);
        Callable<String> held = () -> {
            Threads.await(release);
            return Thread.currentThread().getName();
        };
        var futures = new ArrayList<Future<String>>();
        var seen = new ArrayList<List<Integer>>();  // workers, queued after each submit
        try (var pool = PoolRounds.newPool(3)) {
            try {
                assertEquals(0, pool.getPoolSize(), "no worker before the first task");
                for (int i = 0; i < 5; i++) {
                    futures.add(pool.submit(held));
                    seen.add(List.of(pool.getPoolSize(), pool.getQueue().size()));
                }
            } finally {
                release.countDown();
            }
            for (var future : futures) future.get(LIMIT, TimeUnit.MILLISECONDS);
        }
        assertEquals(List.of(List.of(1, 0), List.of(2, 0), List.of(3, 0), List.of(3, 1),
                List.of(3, 2)), seen);
        assertEquals(List.of("worker-1", "worker-2", "worker-3"),
                futures.subList(0, 3).stream().map(Future::resultNow).toList());
    }

    @Test
    @Timeout(10)
    void belowThreeWorkersASubmitStartsANewOneEvenIfAnotherIsIdle() throws Exception {
        Callable<Thread> whereAmI = Thread::currentThread;
        try (var pool = PoolRounds.newPool(3)) {
            Thread first = pool.submit(whereAmI).get(LIMIT, TimeUnit.MILLISECONDS);
            assertEquals("worker-1", first.getName());
            Threads.awaitBlocked(first);  // idle: back in the queue's take(), waiting
            assertEquals(0, pool.getActiveCount());
            Thread second = pool.submit(whereAmI).get(LIMIT, TimeUnit.MILLISECONDS);
            assertEquals("worker-2", second.getName(), "a new worker, though worker-1 idles");
            assertEquals(2, pool.getPoolSize());
        }
    }

    @Test
    @Timeout(10)
    void atMostThreeRunAtOnceAndAQueuedFetchStartsOnlyWhenOneEnds() throws Exception {
        var gates = latches(5);
        var started = latches(5);
        var running = new AtomicInteger();
        var most = new AtomicInteger();
        var ranOn = new String[5];
        var futures = new ArrayList<Future<UrlData>>();
        try (var pool = PoolRounds.newPool(3)) {
            try {
                for (int urlId = 0; urlId < 5; urlId++) {
                    int id = urlId;
                    futures.add(pool.submit(() -> {
                        most.accumulateAndGet(running.incrementAndGet(), Math::max);
                        ranOn[id] = Thread.currentThread().getName();
                        started.get(id).countDown();
                        Threads.await(gates.get(id));
                        running.decrementAndGet();
                        return UrlFetch.fetchData(id, 0);
                    }));
                }
                for (int id = 0; id < 3; id++) Threads.await(started.get(id));
                assertEquals(3, running.get());
                assertEquals(2, pool.getQueue().size(), "urls 3 and 4 wait in the queue");
                assertEquals(1, started.get(3).getCount());

                gates.get(0).countDown();  // url 0 ends: its worker takes url 3
                Threads.await(started.get(3));
                assertEquals(3, running.get());
                assertEquals(1, pool.getQueue().size());
                gates.get(1).countDown();  // url 1 ends: its worker takes url 4
                Threads.await(started.get(4));
                assertEquals(3, running.get());
            } finally {
                gates.forEach(CountDownLatch::countDown);
            }
            for (var future : futures) future.get(LIMIT, TimeUnit.MILLISECONDS);
        }
        assertEquals(3, most.get());
        assertEquals(List.of("worker-1", "worker-2", "worker-3", "worker-1", "worker-2"),
                List.of(ranOn));
    }

    @Test
    @Timeout(10)
    void aForgottenFailureIsStoredInItsFutureAndGetRethrowsIt() throws Exception {
        List<Future<UrlData>> futures = FetchFailures.submitAndForget(0);
        assertEquals(List.of(Future.State.SUCCESS, Future.State.SUCCESS, Future.State.SUCCESS,
                Future.State.FAILED, Future.State.SUCCESS),
                futures.stream().map(Future::state).toList());
        var e = assertThrows(ExecutionException.class, () -> futures.get(3).get());
        assertInstanceOf(IOException.class, e.getCause());
        assertEquals("connection refused: url 3", e.getCause().getMessage());
        assertSame(e.getCause(), futures.get(3).exceptionNow());
    }

    @Test
    @Timeout(10)
    void theSeedsLoopReportsTheFailureAndCountsFourResults() throws Exception {
        var lines = new ArrayList<String>();
        var results = SeedPool.fetchAll(id -> FetchFailures.fetchOrRefuse(id, 0), LIMIT,
                lines::add);
        assertEquals(List.of(0, 1, 2, 4), results.stream().map(UrlData::id).sorted().toList());
        assertTrue(lines.contains("URL 3 generated exception: connection refused: url 3"),
                lines.toString());
        assertEquals("Total results: 4", lines.getLast());
    }

    @Test
    @Timeout(10)
    void closeWaitsForARunningTask() throws Exception {
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var pool = SeedPool.newPool(3);
        Thread closer = null;
        try {
            Future<UrlData> held = pool.submit(() -> {
                started.countDown();
                Threads.await(release);
                return UrlFetch.fetchData(0, 0);
            });
            Threads.await(started);
            closer = Thread.ofPlatform().name("closer").start(pool::close);
            Threads.awaitBlocked(closer);  // inside close(), waiting for the task
            assertTrue(closer.isAlive());
            assertTrue(pool.isShutdown());
            assertFalse(pool.isTerminated());
            assertThrows(RejectedExecutionException.class,
                    () -> pool.submit(() -> UrlFetch.fetchData(9, 0)));

            release.countDown();
            Threads.joinAll(List.of(closer));
            assertTrue(pool.isTerminated());
            assertEquals(new UrlData(0, "content_0"), held.resultNow());
        } finally {
            release.countDown();
            if (closer != null) Threads.joinAll(List.of(closer));
            pool.close();
        }
    }

    @Test
    @Timeout(10)
    void shutdownNowHandsBackQueuedFuturesThatNeverCompleteUntilCancelled()
            throws Exception {
        var started = new CountDownLatch(3);
        var futures = new ArrayList<Future<UrlData>>();
        List<Runnable> neverStarted;
        try (var pool = PoolRounds.newPool(3)) {
            for (int urlId = 0; urlId < 5; urlId++) {
                int id = urlId;
                futures.add(pool.submit(() -> {
                    started.countDown();
                    return UrlFetch.fetchData(id, 60_000);  // ends only if interrupted
                }));
            }
            Threads.await(started);
            neverStarted = pool.shutdownNow();
            assertTrue(pool.awaitTermination(LIMIT, TimeUnit.MILLISECONDS));
        }
        assertEquals(2, neverStarted.size());
        assertSame(futures.get(3), neverStarted.get(0), "the very future submit returned");
        assertSame(futures.get(4), neverStarted.get(1));
        for (var running : futures.subList(0, 3)) {
            assertInstanceOf(InterruptedException.class, running.exceptionNow());
        }
        for (var queued : futures.subList(3, 5)) {
            assertFalse(queued.isDone());
            assertThrows(TimeoutException.class, () -> queued.get(50, TimeUnit.MILLISECONDS));
            assertTrue(queued.cancel(false));
            assertThrows(CancellationException.class, queued::get);
        }
    }

    @Test
    @Timeout(10)
    void newFixedThreadPoolIsTheThreadPoolExecutorThatPoolRoundsBuilds() {
        try (var fixed = SeedPool.newPool(3); var built = PoolRounds.newPool(3)) {
            for (var pool : List.of(assertInstanceOf(ThreadPoolExecutor.class, fixed), built)) {
                assertEquals(3, pool.getCorePoolSize());
                assertEquals(3, pool.getMaximumPoolSize());
                assertInstanceOf(LinkedBlockingQueue.class, pool.getQueue());
                assertEquals(Integer.MAX_VALUE, pool.getQueue().remainingCapacity());
                assertEquals(0, pool.getPoolSize(), "no worker before the first task");
            }
        }
    }

    @Test
    @Timeout(10)
    void roundsCountsHoldBecauseNoFetchStartsBeforeTheFifthSubmit() throws Exception {
        var started = latches(5);
        var lines = new ArrayList<String>();
        var unstartedAtLastSubmit = new ArrayList<Long>();
        PoolRounds.rounds(id -> () -> {
            started.get(id).countDown();
            return UrlFetch.fetchData(id, 0);
        }, LIMIT, line -> {
            lines.add(line);
            if (line.startsWith("submit url 0:")) {
                // Without allIn, worker-1 would start url 0's fetch at once: give it time
                // to show (a wait that must time out; it never decides a passing run).
                try {
                    started.get(0).await(200, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
            if (line.startsWith("submit url 4:")) {
                started.forEach(latch -> unstartedAtLastSubmit.add(latch.getCount()));
            }
        });
        assertEquals(List.of(1L, 1L, 1L, 1L, 1L), unstartedAtLastSubmit,
                "a fetch started before the fifth submit");
        assertEquals(List.of("new pool: workers 0", "submit url 0: workers 1, queued 0",
                "submit url 1: workers 2, queued 0", "submit url 2: workers 3, queued 0",
                "submit url 3: workers 3, queued 1", "submit url 4: workers 3, queued 2"),
                lines.subList(0, 6));
        Map<Integer, String> ranOn = new HashMap<>();
        var ran = Pattern.compile(" *[0-9.]+ s  url (\\d) started on (worker-\\d) at [0-9.]+ s");
        for (String line : lines.subList(6, lines.size())) {
            var m = ran.matcher(line);
            assertTrue(m.matches(), line);
            assertEquals(null, ranOn.put(Integer.parseInt(m.group(1)), m.group(2)), line);
        }
        assertEquals(5, ranOn.size(), lines.toString());
        assertEquals(List.of("worker-1", "worker-2", "worker-3"),
                List.of(ranOn.get(0), ranOn.get(1), ranOn.get(2)));
        var workers = List.of("worker-1", "worker-2", "worker-3");  // no fourth worker
        assertTrue(workers.contains(ranOn.get(3)) && workers.contains(ranOn.get(4)));
    }

    /** url 0 ends only when interrupted (or after ten minutes); the others at once. */
    private static Callable<UrlData> url0Stuck(int id) {
        return () -> UrlFetch.fetchData(id, id == 0 ? 600_000 : 0);
    }

    private static final long STUCK_LIMIT = 200;  // ms; close() alone would wait 600 s

    @Test
    @Timeout(5)
    void aStuckFetchFailsTheSeedLoopWithinItsLimitInsteadOfHangingInClose() {
        var lines = new ArrayList<String>();
        assertThrows(IllegalStateException.class,
                () -> SeedPool.fetchAll(ThreadPoolTest::url0Stuck, STUCK_LIMIT, lines::add));
        assertEquals(IntStream.range(1, 5).mapToObj(ThreadPoolTest::completed).sorted()
                .toList(), lines.stream().sorted().toList());
    }

    @Test
    @Timeout(5)
    void aStuckFetchFailsGetInSubmissionOrderInsteadOfHangingInClose() {
        var lines = new ArrayList<String>();
        assertThrows(IllegalStateException.class, () -> PoolOrder.inSubmissionOrder(
                ThreadPoolTest::url0Stuck, STUCK_LIMIT, lines::add));
        assertEquals(List.of(), lines, "url 0 comes first in submission order");
    }

    @Test
    @Timeout(5)
    void aStuckFetchFailsTheRoundsDemoInsteadOfHangingInClose() {
        var lines = new ArrayList<String>();
        assertThrows(IllegalStateException.class, () -> PoolRounds.rounds(
                ThreadPoolTest::url0Stuck, STUCK_LIMIT, lines::add));
        assertEquals(6 + 4, lines.size(), "the six counts and four results: " + lines);
    }

    @Test
    @Timeout(10)
    void shutdownThenCancellingTheQueuedFuturesIsPythonsCancelFutures() throws Exception {
        var started = new CountDownLatch(3);
        var release = new CountDownLatch(1);
        var futures = new ArrayList<Future<UrlData>>();
        try (var pool = PoolRounds.newPool(3)) {
            try {
                for (int urlId = 0; urlId < 5; urlId++) {
                    int id = urlId;
                    futures.add(pool.submit(() -> {
                        started.countDown();
                        Threads.await(release);
                        return UrlFetch.fetchData(id, 0);
                    }));
                }
                Threads.await(started);  // urls 0, 1, 2 run; urls 3 and 4 are queued
                pool.shutdown();
                pool.getQueue().forEach(r -> ((Future<?>) r).cancel(false));
            } finally {
                release.countDown();
            }
        }
        assertEquals(List.of(Future.State.SUCCESS, Future.State.SUCCESS, Future.State.SUCCESS,
                Future.State.CANCELLED, Future.State.CANCELLED),
                futures.stream().map(Future::state).toList());
    }

    @Test
    @Timeout(30)
    void failureSectionClosesSilentlyThenTheSeedsLoopReportsUrl3() throws Exception {
        var run = Scripts.compiled("thread_pool", "failure", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("", run.stderr(), "a forgotten failure prints nothing");
        List<String> lines = run.stdout().lines().toList();
        int closed = lines.indexOf("closed, nothing printed; the futures' states:");
        assertTrue(closed > 0, run.stdout());
        assertEquals("  [SUCCESS, SUCCESS, SUCCESS, FAILED, SUCCESS]", lines.get(closed + 1));
        assertTrue(lines.contains("URL 3 generated exception: connection refused: url 3"));
        assertEquals("Total results: 4", lines.getLast());
    }
}
