import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
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
            // Full AND WAITING: its sixth put() cannot finish, and it has parked there.
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
    void awaitAllDoneLetsTwoWaitersThroughOnceTheLastPendingItemIsDone() throws Exception {
        var work = new PendingWork();
        work.added();
        work.added();
        work.done();
        var failures = new ConcurrentLinkedQueue<Throwable>();
        var waiters = new ArrayList<Thread>();
        try {
            for (String name : List.of("W1", "W2")) {
                waiters.add(Thread.ofPlatform().name(name).start(() -> {
                    try {
                        work.awaitAllDone(Threads.LONG);
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                }));
                Threads.awaitState(waiters.getLast(), Thread.State.TIMED_WAITING);
            }
            assertTrue(waiters.stream().allMatch(Thread::isAlive), "one item is pending");
            work.done();
            Threads.joinAll(waiters);
        } finally {
            waiters.forEach(Thread::interrupt);  // a no-op once they have ended
        }
        assertTrue(failures.isEmpty(), failures::toString);
    }

    @Test
    @Timeout(10)
    void awaitAllDoneGivesUpAtItsLimitAndCanWaitAgainAfterwards() throws Exception {
        var work = new PendingWork();
        work.added();
        assertThrows(TimeoutException.class, () -> work.awaitAllDone(Duration.ofMillis(50)));
        assertThrows(TimeoutException.class, () -> work.awaitAllDone(Duration.ofMillis(50)));
        work.done();
        work.awaitAllDone(Duration.ZERO);  // nothing pending: returns, no TimeoutException
    }

    @Test
    @Timeout(10)
    void countingAnItemAfterItsPutMisleadsTheCount() throws Exception {
        var work = new PendingWork();
        // A consumer's done() before main's added(), with nothing pending: refused.
        assertThrows(IllegalStateException.class, work::done);
        // With item 1 pending, item 2 is put but not yet counted; a consumer finishes it.
        work.added();  // item 1
        work.done();   // item 2's done(), before its added()
        work.awaitAllDone(Duration.ZERO);  // returns at once though item 1 is pending
        work.added();  // item 2's added(), too late
        assertThrows(TimeoutException.class, () -> work.awaitAllDone(Duration.ZERO));
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
