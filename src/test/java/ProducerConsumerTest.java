import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `producer_consumer` lesson claims, proven. */
class ProducerConsumerTest {
    private static final List<Integer> SQUARES =
            IntStream.range(0, 10).map(i -> i * i).boxed().toList();

    @Test
    @Timeout(60)
    void seedSectionEndsWithTheSeedsLastLine() throws Exception {
        var run = Scripts.compiled("producer_consumer", "seed");  // default speed
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertEquals("Consumer A processed: 81", lines.getLast(), run.stdout());
        assertEquals(SQUARES, numbersAfter("Produced: ", lines), "produced in order");
        assertEquals(SQUARES, numbersAfter("Consumer A processed: ", lines), "consumed");
        assertTrue(lines.contains("queue.offer(null): java.lang.NullPointerException"));
    }

    @Test
    @Timeout(10)
    void queueRefusesNullSoThePillIsARecordOfItsOwn() {
        var queue = new ArrayBlockingQueue<Delivery>(1);
        assertThrows(NullPointerException.class, () -> queue.put(null));
        assertTrue(queue.offer(new Delivery.Done()));
    }

    @Test
    @Timeout(10)
    void producerStaysInPutWhileTheQueueIsFull() throws Exception {
        var queue = new ArrayBlockingQueue<Integer>(5);
        Thread producer = Thread.ofPlatform().name("producer").start(() -> {
            try {
                for (int i = 0; i <= 5; i++) queue.put(i);
            } catch (InterruptedException e) {
                // asked to stop: end the thread
            }
        });
        try {
            // Full AND parked with put() on the stack: not just any WAITING state.
            assertEquals(Thread.State.WAITING, BackPressureFrames.settle(producer, queue));
            assertTrue(producer.isAlive(), "still holding its sixth number");
            assertEquals(List.of(0, 1, 2, 3, 4), List.copyOf(queue));
            assertEquals(0, queue.take());  // room for one: put(5) returns
            Threads.joinAll(List.of(producer));
        } finally {
            producer.interrupt();  // a no-op once it has ended
        }
        assertEquals(List.of(1, 2, 3, 4, 5), List.copyOf(queue));
    }

    @Test
    @Timeout(10)
    void parkedInPutIsNotFooledByAThreadWaitingElsewhere() throws Exception {
        var queue = new ArrayBlockingQueue<Integer>(1);
        Thread taker = Thread.ofPlatform().name("taker").start(() -> {
            try {
                queue.take();
            } catch (InterruptedException e) {
                // asked to stop: end the thread
            }
        });
        try {
            Threads.awaitBlocked(taker);  // parked in take(): the queue is empty
            assertEquals(Thread.State.WAITING, taker.getState());
            assertFalse(BackPressureFrames.parkedInPut(taker));
            assertTrue(queue.offer(1));
            Threads.joinAll(List.of(taker));
        } finally {
            taker.interrupt();
        }
    }

    @Test
    @Timeout(10)
    void framesShowTheProducerHeldToMainsPace() throws Exception {
        var waiting = Thread.State.WAITING;
        assertEquals(List.of(
                new BackPressureFrames.Frame(0, 5, waiting),
                new BackPressureFrames.Frame(1, 5, waiting),
                new BackPressureFrames.Frame(2, 5, waiting),
                new BackPressureFrames.Frame(3, 5, Thread.State.TERMINATED)),
                BackPressureFrames.freeze(5, 8, 0));
    }

    @Test
    @Timeout(10)
    void awaitAllDoneWaitsForTheLastPendingItem() throws Exception {
        var work = new PendingWork();
        work.added();
        work.added();
        work.done();
        var failures = new ConcurrentLinkedQueue<Throwable>();
        Thread waiter = Thread.ofPlatform().name("waiter").start(() -> {
            try {
                work.awaitAllDone(Threads.LONG);
            } catch (Throwable t) {
                failures.add(t);
            }
        });
        Threads.awaitBlocked(waiter);  // parked in the Phaser: one item is pending
        assertTrue(waiter.isAlive(), "returned with an item still pending");
        work.done();
        Threads.joinAll(List.of(waiter));
        assertTrue(failures.isEmpty(), failures::toString);
    }

    @Test
    @Timeout(10)
    void awaitAllDoneGivesUpAtItsLimitWhileWorkIsPending() {
        var work = new PendingWork();
        work.added();
        assertThrows(TimeoutException.class, () -> work.awaitAllDone(Duration.ofMillis(50)));
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
    @Timeout(10)
    void batchesSectionProcessesEveryBatchBeforeAwaitAllDoneReturns() throws Exception {
        assertEquals(List.of(4, 8), PendingBatches.run(2, 2, 4, 20));
    }

    @Test
    @Timeout(60)
    void everyBatchIsFullyProcessedAndEveryConsumerEatsItsPillUnderStress()
            throws Exception {
        // No pauses at this speed; run() joins every consumer, or throws.
        var expected = IntStream.rangeClosed(1, 10).map(b -> b * 2_000).boxed().toList();
        assertEquals(expected, PendingBatches.run(4, 10, 2_000, 1e9));
    }

    private static List<Integer> numbersAfter(String prefix, List<String> lines) {
        return lines.stream().filter(l -> l.startsWith(prefix))
                .map(l -> Integer.parseInt(l.substring(prefix.length()))).toList();
    }
}
