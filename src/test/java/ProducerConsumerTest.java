import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Threads;

/** What the `producer_consumer` lesson claims, proven. */
class ProducerConsumerTest {

    /** What two takers got, and what the buffer says and holds afterwards. */
    record Forced(List<Integer> took, int count, List<Integer> contents) { }

    /**
     * The lesson's forced scenario, staged by the test itself: A waits in take(), then B
     * does; one put() and its notifyAll() wake both; once both have woken (the seam
     * counts it), a second put().
     */
    private static Forced twoTakersOneItemThenAnother(
            Function<IntConsumer, HandRolledBuffer<Integer>> make) throws Exception {
        var wakeUps = new CountDownLatch(2);
        var buffer = make.apply(count -> wakeUps.countDown());
        var got = new Integer[2];
        var failures = new ConcurrentLinkedQueue<Throwable>();
        Thread a = worker("A", failures, () -> got[0] = buffer.take());
        Threads.awaitBlocked(a);  // nobody else holds the monitor: A is in wait()
        Thread b = worker("B", failures, () -> got[1] = buffer.take());
        Threads.awaitBlocked(b);  // A released the monitor in wait(): B is in wait() too
        buffer.put(1);            // notifyAll() wakes both
        await(wakeUps);
        buffer.put(2);
        Threads.joinAll(List.of(a, b));
        assertTrue(failures.isEmpty(), failures::toString);
        return new Forced(Arrays.asList(got), buffer.count(), buffer.contents());
    }

    @Test
    @Timeout(10)
    void ifWaitBufferHandsOutNullAndStrandsAnItemWhenTwoTakersWake() throws Exception {
        Forced f = twoTakersOneItemThenAnother(hook -> new IfWaitBuffer<>(5, hook));

        assertEquals(1, Collections.frequency(f.took(), null), "one take() returned null");
        assertEquals(1, Collections.frequency(f.took(), 1), "the other got item 1");
        assertEquals(0, f.count(), "count went to -1, then back to 0");
        assertEquals(List.of(2), f.contents(), "item 2 is in a slot nobody will take");
    }

    @Test
    @Timeout(10)
    void whileWaitBufferDeliversBothItemsInTheSameScenario() throws Exception {
        Forced f = twoTakersOneItemThenAnother(hook -> new WhileWaitBuffer<>(5, hook));

        assertEquals(List.of(1, 2), f.took().stream().sorted().toList());
        assertEquals(0, f.count());
        assertEquals(List.of(), f.contents());
    }

    @Test
    @Timeout(10)
    void replayShowsTheIfBufferFailingAndTheWhileBufferNot() throws Exception {
        var broken = WakeUpReplay.replay(hook -> new IfWaitBuffer<>(5, hook), 0);
        assertTrue(broken.took().contains(null), broken.toString());
        assertEquals(List.of(2), broken.stranded());

        var fixed = WakeUpReplay.replay(hook -> new WhileWaitBuffer<>(5, hook), 0);
        assertEquals(List.of(1, 2), fixed.took().stream().sorted().toList());
        assertEquals(List.of(), fixed.stranded());
    }

    @Test
    @Timeout(60)
    void whileWaitBufferHandsEachItemOverExactlyOnceUnderStress() throws Exception {
        int producers = 4;
        int consumers = 4;
        int itemsEach = 10_000;
        var buffer = new WhileWaitBuffer<Integer>(3);
        var failures = new ConcurrentLinkedQueue<Throwable>();
        var received = new ArrayList<List<Integer>>();
        var takers = new ArrayList<Thread>();
        for (int c = 0; c < consumers; c++) {
            var mine = new ArrayList<Integer>();
            received.add(mine);
            takers.add(worker("taker-" + c, failures, () -> {
                for (int v = buffer.take(); v >= 0; v = buffer.take()) mine.add(v);
            }));
        }
        var putters = new ArrayList<Thread>();
        for (int p = 0; p < producers; p++) {
            int first = p * itemsEach;
            putters.add(worker("putter-" + p, failures, () -> {
                for (int i = 0; i < itemsEach; i++) buffer.put(first + i);
            }));
        }
        Threads.joinAll(putters);
        for (int c = 0; c < consumers; c++) buffer.put(-1);  // a pill each
        Threads.joinAll(takers);

        assertTrue(failures.isEmpty(), failures::toString);
        var all = received.stream().flatMap(List::stream).sorted().toList();
        assertEquals(IntStream.range(0, producers * itemsEach).boxed().toList(), all);
        assertEquals(0, buffer.count());
    }

    @Test
    @Timeout(60)
    void blockingQueuePipelineHandsEachItemOverExactlyOnceUnderStress() throws Exception {
        var tally = QueuePipeline.fanOut(4, 4, 25_000, 5, 0);

        assertEquals(100_000, tally.consumed());
        assertEquals(0, tally.duplicates());
        assertEquals(0, tally.missing());
        assertEquals(4, tally.pills());
        assertEquals(100_000, tally.perConsumer().values().stream()
                .mapToInt(Integer::intValue).sum());
    }

    @Test
    @Timeout(10)
    void everyConsumerStopsOnItsOwnPillEvenWithoutWork() throws Exception {
        var queue = new ArrayBlockingQueue<Delivery>(2);
        var producer = new QueuePipeline.Producer("P", queue, List.of(7, 8, 9), 0, false);
        var consumers = IntStream.range(0, 6)
                .mapToObj(c -> new QueuePipeline.Consumer("C" + c, queue, 0, false))
                .toList();
        QueuePipeline.run(queue, List.of(producer), consumers);  // joins them all

        for (var c : consumers) assertTrue(c.ateThePill, c.name + " stopped on a pill");
        assertEquals(List.of(7, 8, 9), consumers.stream().flatMap(c -> c.items.stream())
                .sorted().toList());
        assertTrue(queue.isEmpty(), "six pills, six consumers: none left over");
    }

    @Test
    @Timeout(10)
    void seedRunConsumesTheSquaresInOrder() throws Exception {
        var squares = IntStream.range(0, 10).map(i -> i * i).boxed().toList();
        assertEquals(squares, QueuePipeline.timedRun(10, 5, 0, 0, true));
    }

    @Test
    @Timeout(10)
    void producerBlocksInPutWhileTheQueueIsFull() throws Exception {
        var queue = new ArrayBlockingQueue<Delivery>(5);
        var producer = new QueuePipeline.Producer("P", queue, List.of(0, 1, 2, 3, 4, 5),
                0, false);
        Thread thread = Thread.ofPlatform().name("producer").start(producer);
        Threads.awaitBlocked(thread);  // its only blocking point is put() on a full queue

        assertEquals(Thread.State.WAITING, thread.getState());
        assertEquals(0, queue.remainingCapacity());
        assertEquals(new Delivery.Item(0), queue.poll());  // room for one: put() returns
        Threads.joinAll(List.of(thread));
        assertEquals(List.of(1, 2, 3, 4, 5),
                queue.stream().map(d -> ((Delivery.Item) d).value()).toList());
    }

    @Test
    @Timeout(10)
    void freezeFramesShowTheProducerWaitingUntilItHasPutEverything() throws Exception {
        var frames = FullQueueFrames.freeze(5, 8, 0);

        assertEquals(List.of(
                new FullQueueFrames.Frame(0, 5, 5, Thread.State.WAITING),
                new FullQueueFrames.Frame(1, 6, 5, Thread.State.WAITING),
                new FullQueueFrames.Frame(2, 7, 5, Thread.State.WAITING),
                new FullQueueFrames.Frame(3, 8, 5, Thread.State.TERMINATED)), frames);
    }

    @Test
    @Timeout(10)
    void awaitAllDoneWaitsForTheLastPendingItem() throws Exception {
        var work = new PendingWork();
        work.added();
        work.added();
        work.done();
        var returned = new CountDownLatch(1);
        var failures = new ConcurrentLinkedQueue<Throwable>();
        Thread waiter = worker("waiter", failures, () -> {
            work.awaitAllDone(Threads.LONG);
            returned.countDown();
        });
        Threads.awaitBlocked(waiter);  // parked in the Phaser: one item is pending

        assertEquals(1, returned.getCount(), "returned with an item still pending");
        work.done();
        Threads.joinAll(List.of(waiter));
        assertEquals(0, returned.getCount());
        assertTrue(failures.isEmpty(), failures::toString);
    }

    @Test
    @Timeout(10)
    void awaitAllDoneCanBeCalledAgainForTheNextBatch() throws Exception {
        var work = new PendingWork();
        work.awaitAllDone(Threads.LONG);  // nothing pending: returns at once
        work.added();
        work.done();
        work.awaitAllDone(Threads.LONG);
    }

    @Test
    @Timeout(30)
    void eachBatchIsFullyProcessedWhenAwaitAllDoneReturns() throws Exception {
        assertEquals(List.of(20, 40, 60), PendingWork.batches(3, 3, 20, 5, 0));
    }

    @Test
    @Timeout(10)
    void submitterRunsTheTaskWhenWorkersAndQueueAreFull() throws Exception {
        var gate = new CountDownLatch(1);
        var ranOn = new AtomicReference<Thread>();
        try (var pool = CallerRunsPipeline.boundedPool(2, 5)) {
            try {
                for (int i = 0; i < 7; i++) pool.execute(() -> awaitQuietly(gate));
                assertEquals(5, pool.getQueue().size(), "2 tasks running, 5 queued");
                pool.execute(() -> ranOn.set(Thread.currentThread()));  // no room left
                assertSame(Thread.currentThread(), ranOn.get());
            } finally {
                gate.countDown();
            }
        }
    }

    @Test
    void optionsDefaultToTheSeedsRun() {
        assertEquals(new producer_consumer.Options(10, 5, 3, 3, 20_000, 1.0),
                producer_consumer.parse());
        assertEquals(30, producer_consumer.parse("--items", "30").items());
        assertEquals(0.25, producer_consumer.parse("--speed", "0.25").speed());
        assertNull(producer_consumer.parse("--items", "3", "--help"));
    }

    @Test
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--capacity wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> producer_consumer.parse("--capacity", "0")).getMessage());
        assertEquals("--speed wants a positive number, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> producer_consumer.parse("--speed", "fast")).getMessage());
        assertEquals("unknown argument '--bogus'",
                assertThrows(IllegalArgumentException.class,
                        () -> producer_consumer.parse("--bogus", "1")).getMessage());
        assertEquals("--consumers needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> producer_consumer.parse("--consumers")).getMessage());
    }

    interface Body {
        void run() throws Exception;
    }

    /** A platform thread that records what it throws instead of losing it. */
    private static Thread worker(String name, ConcurrentLinkedQueue<Throwable> failures,
                                 Body body) {
        return Thread.ofPlatform().name(name).start(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                failures.add(t);
            }
        });
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(Threads.LONG.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("latch never opened");
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            await(latch);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
