import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Threads;

/** What the `thread_pool` lesson claims, proven. */
class ThreadPoolTest {

    @Test
    @Timeout(10)
    void allFiveResultsArriveInSubmissionOrder() throws Exception {
        List<FetchResult> results;
        try (var pool = PoolRounds.newPool(3)) {
            results = PoolRounds.fetchAll(pool, FetchTask.batch(5, 1, FetchTask.NO_SEAM));
        }
        assertEquals(IntStream.range(0, 5)
                .mapToObj(i -> new FetchResult(i, "content_" + i)).toList(), results);
    }

    @Test
    @Timeout(30)
    void aThousandTasksAllArriveOnExactlyThreeWorkers() throws Exception {
        Set<String> workers = ConcurrentHashMap.newKeySet();
        var gauge = new ConcurrencyGauge();
        List<FetchResult> results;
        try (var pool = PoolRounds.newPool(3)) {
            var tasks = FetchTask.batch(1_000, 0,
                    id -> workers.add(Thread.currentThread().getName()));
            var gauged = tasks.stream().map(gauge::around).toList();
            results = PoolRounds.fetchAll(pool, gauged);
        }
        assertEquals(IntStream.range(0, 1_000).boxed().toList(),
                results.stream().map(FetchResult::id).toList());
        assertEquals(Set.of("worker-1", "worker-2", "worker-3"), workers);
        assertTrue(gauge.max() <= 3, "ran at once: " + gauge.max());
    }

    @Test
    @Timeout(10)
    void atMostThreeTasksRunConcurrentlyAndTheRestWaitInTheQueue() throws Exception {
        var started = new CountDownLatch(3);
        var release = new CountDownLatch(1);
        var gauge = new ConcurrencyGauge();
        var futures = new ArrayList<Future<FetchResult>>();
        try (var pool = PoolRounds.newPool(3)) {
            try {
                for (var task : FetchTask.batch(5, 0, id -> {
                    started.countDown();
                    await(release);  // hold every task that starts
                })) {
                    futures.add(pool.submit(gauge.around(task)));
                }
                await(started);
                // three run and are held; the other two cannot start
                assertEquals(3, gauge.running());
                assertEquals(2, ((ThreadPoolExecutor) pool).getQueue().size());
                assertEquals(3, ((ThreadPoolExecutor) pool).getActiveCount());
            } finally {
                release.countDown();
            }
            for (var future : futures) PoolWaits.get(future);
        }
        assertEquals(3, gauge.max());
        assertEquals(0, gauge.running());
    }

    @Test
    @Timeout(10)
    void completionServiceYieldsResultsInCompletionOrder() throws Exception {
        // Each task waits for its own gate; the test opens one gate at a time, in this
        // order, and only after the previous result was handed over.
        List<Integer> finishOrder = List.of(3, 0, 4, 2, 1);
        var gates = gates(5);
        var tasks = FetchTask.batch(5, 0, id -> await(gates.get(id)));
        var handedOver = new ArrayList<Integer>();
        gates.get(finishOrder.getFirst()).countDown();
        List<FetchResult> results;
        try (var pool = PoolRounds.newPool(5)) {
            try {
                results = CompletionOrder.asCompleted(pool, tasks, r -> {
                    handedOver.add(r.id());
                    if (handedOver.size() < finishOrder.size()) {
                        gates.get(finishOrder.get(handedOver.size())).countDown();
                    }
                });
            } finally {
                gates.forEach(CountDownLatch::countDown);  // before close() waits
            }
        }
        assertEquals(finishOrder, handedOver);
        assertEquals(finishOrder, results.stream().map(FetchResult::id).toList());
    }

    @Test
    @Timeout(10)
    void completionOrderHoldsOnThreeWorkersWithTasksStillQueued() throws Exception {
        // url 3 and url 4 start only when a worker comes free; the order still holds
        List<Integer> finishOrder = List.of(2, 0, 3, 4, 1);
        var gates = gates(5);
        var tasks = FetchTask.batch(5, 0, id -> await(gates.get(id)));
        var handedOver = new ArrayList<Integer>();
        gates.get(finishOrder.getFirst()).countDown();
        try (var pool = PoolRounds.newPool(3)) {
            try {
                CompletionOrder.asCompleted(pool, tasks, r -> {
                    handedOver.add(r.id());
                    if (handedOver.size() < finishOrder.size()) {
                        gates.get(finishOrder.get(handedOver.size())).countDown();
                    }
                });
            } finally {
                gates.forEach(CountDownLatch::countDown);
            }
        }
        assertEquals(finishOrder, handedOver);
    }

    @Test
    @Timeout(10)
    void invokeAllReturnsFuturesInSubmissionOrderNotFinishOrder() throws Exception {
        // A chain of gates makes the tasks finish in the order 2, 1, 0, 4, 3: each task,
        // as it finishes, opens the gate of the next one.
        List<Integer> chain = List.of(2, 1, 0, 4, 3);
        var gates = gates(5);
        Queue<Integer> finished = new ConcurrentLinkedQueue<>();
        var tasks = FetchTask.batch(5, 0, id -> {
            await(gates.get(id));
            finished.add(id);
            int next = chain.indexOf(id) + 1;
            if (next < chain.size()) gates.get(chain.get(next)).countDown();
        });
        gates.get(chain.getFirst()).countDown();
        List<Future<FetchResult>> futures;
        try (var pool = PoolRounds.newPool(3)) {
            try {
                futures = InvokeAllBatch.fetchAll(pool, tasks);
            } finally {
                gates.forEach(CountDownLatch::countDown);
            }
        }
        assertEquals(chain, List.copyOf(finished));
        assertTrue(futures.stream().allMatch(Future::isDone));
        assertEquals(List.of(0, 1, 2, 3, 4),
                futures.stream().map(f -> f.resultNow().id()).toList());
    }

    @Test
    @Timeout(10)
    void aTasksExceptionSurfacesAtGetAsExecutionExceptionWithTheOriginalCause()
            throws Exception {
        var refused = new IOException("connection refused fetching url 3");
        try (var pool = PoolRounds.newPool(3)) {
            Future<FetchResult> ok = pool.submit(new FetchTask(2, 0));
            Future<FetchResult> failed = pool.submit(new FetchTask(3, 0, id -> {
                throw refused;
            }));
            var e = assertThrows(ExecutionException.class,
                    () -> failed.get(10, TimeUnit.SECONDS));
            assertSame(refused, e.getCause());
            assertEquals(Future.State.FAILED, failed.state());
            assertSame(refused, failed.exceptionNow());
            assertEquals(new FetchResult(2, "content_2"), PoolWaits.get(ok));
        }
    }

    @Test
    @Timeout(10)
    void theLessonsFailingFetchThrowsACheckedIOException() throws Exception {
        try (var pool = PoolRounds.newPool(3)) {
            var failed = pool.submit(FetchTask.failing(3, 0));
            var e = assertThrows(ExecutionException.class, () -> PoolWaits.get(failed));
            assertInstanceOf(IOException.class, e.getCause());
            assertEquals("connection refused fetching url 3", e.getCause().getMessage());
        }
    }

    @Test
    @Timeout(10)
    void closeWaitsForARunningTask() throws Exception {
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var pool = PoolRounds.newPool(3);
        Thread closer = null;
        try {
            Future<FetchResult> held = pool.submit(new FetchTask(0, 0, id -> {
                started.countDown();
                await(release);
            }));
            await(started);
            closer = Thread.ofPlatform().name("closer").start(pool::close);
            Threads.awaitBlocked(closer);  // inside close(), waiting for the task
            assertTrue(closer.isAlive());
            assertTrue(pool.isShutdown());
            assertFalse(pool.isTerminated());
            assertFalse(held.isDone());
            assertThrows(RejectedExecutionException.class,
                    () -> pool.submit(new FetchTask(9, 0)));

            release.countDown();
            Threads.joinAll(List.of(closer));
            assertTrue(pool.isTerminated());
            assertEquals(new FetchResult(0, "content_0"), held.resultNow());
        } finally {
            release.countDown();
            if (closer != null) Threads.joinAll(List.of(closer));
            pool.close();
        }
    }

    @Test
    @Timeout(10)
    void closingWithCloseRunsEveryTask() throws Exception {
        var o = PoolClosing.close("close()", 5, 3, 1);
        assertEquals(List.of(5L, 0L, 0L, 0),
                List.of(o.ok(), o.failed(), o.notDone(), o.neverRan()));
    }

    @Test
    @Timeout(10)
    void shutdownReturnsAtOnceButTheQueuedTasksStillRun() throws Exception {
        var o = PoolClosing.close("shutdown()", 5, 3, 1);
        assertEquals(List.of(5L, 0L, 0L, 0),
                List.of(o.ok(), o.failed(), o.notDone(), o.neverRan()));
    }

    @Test
    @Timeout(30)
    void shutdownNowInterruptsTheRunningAndDropsTheQueued() throws Exception {
        // d = 10 s: the running fetches cannot end on their own before the interrupt
        var o = PoolClosing.close("shutdownNow()", 5, 3, 10_000);
        assertEquals(List.of(0L, 3L, 2L, 2),
                List.of(o.ok(), o.failed(), o.notDone(), o.neverRan()));
    }

    @Test
    @Timeout(10)
    void wallTimeMeasurementReportsARatio() throws Exception {
        var row = PoolSizing.measure("3 workers", 3, () -> PoolRounds.newPool(3), 5, 1);
        assertEquals(5, row.tasks());
        assertEquals(2, row.idealD(), "ceil(5 / 3) rounds");
        double wall = row.wallD();
        assertTrue(wall > 0 && Double.isFinite(wall), "wall: " + wall);
        int atOnce = row.maxAtOnce();
        assertTrue(atOnce >= 1 && atOnce <= 3, "at once: " + atOnce);
        assertEquals(1, PoolSizing.measure("virtual", 5,
                Executors::newVirtualThreadPerTaskExecutor, 5, 1).idealD());
    }

    @Test
    @Timeout(30)
    void everyDemoRunsToTheEnd() throws Exception {
        SequentialFetch.demo(5, 1);
        PoolRounds.demo(5, 3, 1);
        CompletionOrder.inSubmissionOrder(1);
        CompletionOrder.inCompletionOrder(1);
        InvokeAllBatch.demo(1);
        FetchFailures.forgotten(1);
        FetchFailures.asCompleted(1);
        PoolClosing.compare(5, 3, 1);
        PoolSizing.table(5, 3, 1);
    }

    @Test
    void optionsDefaultToTheSeedsRun() {
        assertEquals(new thread_pool.Options(5, 3, 100, 1.0), thread_pool.parse());
        assertEquals(100, thread_pool.parse().d());
        assertEquals(7, thread_pool.parse("--workers", "7").workers());
        assertEquals(9, thread_pool.parse("--tasks", "9").tasks());
        assertEquals(5, thread_pool.parse("--speed", "20").d());
        assertEquals(1, thread_pool.parse("--speed", "1000").d(), "d is at least 1 ms");
        assertEquals(400, thread_pool.parse("--speed", "0.25").d());
        assertEquals(1000, thread_pool.parse("--delay", "1000").d());
        assertNull(thread_pool.parse("--workers", "7", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--workers wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> thread_pool.parse("--workers", "0")).getMessage());
        assertEquals("unknown argument '--bogus'",
                assertThrows(IllegalArgumentException.class,
                        () -> thread_pool.parse("--bogus", "1")).getMessage());
        assertEquals("--delay needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> thread_pool.parse("--delay")).getMessage());
        assertEquals("--speed wants a positive number, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> thread_pool.parse("--speed", "fast")).getMessage());
    }

    private static List<CountDownLatch> gates(int n) {
        return IntStream.range(0, n).mapToObj(i -> new CountDownLatch(1)).toList();
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(Threads.LONG.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("latch never opened");
        }
    }
}
