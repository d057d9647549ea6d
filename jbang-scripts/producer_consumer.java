///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Producer-consumer: a bounded queue, poison pills and back-pressure
//
// One thread makes work and another does it, at different speeds. A queue between
// them lets each side keep its own pace, until one side is faster for long enough:
// then an unbounded queue grows until memory runs out, and a bounded one has to make
// the fast side wait. That wait is *back-pressure*, and it is the point of the pattern.
// Two questions come with it: how do consumers learn that the work is over, and how
// does anyone know that every item has been processed? This lesson first builds the
// buffer by hand with `wait`/`notifyAll` and breaks it with one wrong keyword, then
// uses `ArrayBlockingQueue` with one poison pill per consumer, freezes the producer
// while the queue is full so you can see it wait, counts finished work with a `Phaser`
// (Python's `task_done`/`join`), and ends with the executor that hides the whole
// pattern behind `submit`.
//
// Run it: `jbang producer_consumer` from the repository root,
// `jbang jbang-scripts/producer_consumer.java`, or with a bare JDK 25,
// `java jbang-scripts/producer_consumer.java`. Try `--help`.

// %%
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Phaser;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

// %% [markdown]
// ## Helpers: nothing here may hang
//
// Every demo below starts threads and waits for them. These helpers wait with a limit
// (ten seconds), and when a limit runs out they interrupt whoever is stuck and throw,
// so a bug shows up as a clear exception instead of a frozen terminal.

// %%
final class PipelineThreads {
    static final Duration PATIENCE = Duration.ofSeconds(10);

    private PipelineThreads() { }

    static Thread start(String name, Runnable body) {
        return Thread.ofPlatform().name(name).start(body);
    }

    /** Joins them all within PATIENCE; otherwise interrupts them all and throws. */
    static void joinAll(List<Thread> threads) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        for (Thread t : threads) {
            long left = Math.max(0, deadline - System.nanoTime());
            if (!t.join(Duration.ofNanos(left))) {
                threads.forEach(Thread::interrupt);
                throw new IllegalStateException(t.getName() + " did not finish; it is "
                        + t.getState());
            }
        }
    }

    /** Polls until t waits (in Object.wait, Condition.await, park): no sleeping. */
    static void awaitWaiting(Thread t) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (t.getState() != Thread.State.WAITING) {
            if (t.getState() == Thread.State.TERMINATED || System.nanoTime() > deadline) {
                throw new IllegalStateException(t.getName() + " never waited; it is "
                        + t.getState());
            }
            Thread.yield();
        }
    }

    static void await(CountDownLatch latch, String what) throws InterruptedException {
        if (!latch.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("stuck waiting for " + what);
        }
    }

    /** Simulated work or stage pacing, never synchronisation. */
    static void pause(long millis) {
        if (millis <= 0) return;
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();  // the next blocking call will see it
        }
    }
}

// %% [markdown]
// ## A buffer by hand
//
// Before reaching for the library, build what it replaces: a ring of slots with a
// fixed capacity, guarded by the object's monitor. `take()` must wait while the ring
// is empty, `put()` while it is full, and each side wakes the other with
// `notifyAll()`. This base class holds the ring; the two subclasses below differ only
// in how they wait. `count` is what the buffer *believes* it holds; `contents()` reads
// the slots themselves, for the post-mortem. The `afterWake` seam does nothing in
// normal use; the replay below uses it to see each wake-up (it receives `count`).

// %%
abstract class HandRolledBuffer<T> {
    private final Object[] ring;
    private int putIndex;
    private int takeIndex;
    protected int count;
    protected final IntConsumer afterWake;  // a seam to watch wake-ups; no-op normally

    HandRolledBuffer(int capacity, IntConsumer afterWake) {
        this.ring = new Object[capacity];
        this.afterWake = afterWake;
    }

    abstract void put(T item) throws InterruptedException;

    abstract T take() throws InterruptedException;

    protected boolean isFull() { return count == ring.length; }

    protected void insert(T item) {  // the caller holds the monitor
        ring[putIndex] = item;
        putIndex = (putIndex + 1) % ring.length;
        count++;
    }

    @SuppressWarnings("unchecked")
    protected T extract() {  // the caller holds the monitor
        T item = (T) ring[takeIndex];
        ring[takeIndex] = null;
        takeIndex = (takeIndex + 1) % ring.length;
        count--;
        return item;
    }

    synchronized int count() { return count; }

    @SuppressWarnings("unchecked")
    synchronized List<T> contents() {
        var held = new ArrayList<T>();
        for (Object slot : ring) if (slot != null) held.add((T) slot);
        return held;
    }
}

// %% [markdown]
// ## The broken buffer: `if` around `wait()`
//
// It reads naturally: *if* the buffer is empty, wait; then take. But returning from
// `wait()` proves nothing about the buffer. `notifyAll()` wakes every waiter while
// there may be one item for all of them; another thread may barge in and take the
// item before the woken one gets the monitor back; and the JVM may wake a thread for
// no reason at all (a spurious wake-up, which the specification allows). With `if`,
// the woken thread never looks again.

// %%
class IfWaitBuffer<T> extends HandRolledBuffer<T> {
    IfWaitBuffer(int capacity) { this(capacity, count -> { }); }

    IfWaitBuffer(int capacity, IntConsumer afterWake) { super(capacity, afterWake); }

    synchronized void put(T item) throws InterruptedException {
        if (isFull()) {      // BUG: tested once, before the wait
            wait();
            afterWake.accept(count);
        }
        insert(item);
        notifyAll();
    }

    synchronized T take() throws InterruptedException {
        if (count == 0) {    // BUG: the same
            wait();
            afterWake.accept(count);
        }
        T item = extract();
        notifyAll();
        return item;
    }
}

// %% [markdown]
// ## Forcing the failure: two takers, one item
//
// Waiting for a spurious wake-up would be waiting for luck. `notifyAll()` gives the
// same wake-up on demand. The replay starts taker A, waits until it really waits
// (its thread state is `WAITING`), then does the same with taker B. Only then does
// main put one item, and `notifyAll()` wakes both. The seam counts the two wake-ups;
// main waits for both, then puts a second item. What the takers print after `take()`
// returns can come in either order, and which of them gets the item varies; the
// outcome does not.

// %%
class WakeUpReplay {
    record Outcome(List<Integer> took, int count, List<Integer> stranded) { }

    static Outcome replay(Function<IntConsumer, HandRolledBuffer<Integer>> make,
                          long pauseMillis) throws InterruptedException {
        var bothWoke = new CountDownLatch(2);
        var buffer = make.apply(count -> {  // runs inside take(), after wait() returns
            step(pauseMillis, Thread.currentThread().getName()
                    + " wakes up; count = " + count);
            bothWoke.countDown();
        });
        var got = new Integer[2];  // each taker writes its own slot; main reads it later
        var takers = new ArrayList<Thread>();
        for (int i = 0; i < 2; i++) {
            int me = i;
            String name = i == 0 ? "A" : "B";
            takers.add(PipelineThreads.start(name, () -> {
                try {
                    got[me] = buffer.take();
                    System.out.println("  " + name + "'s take() returns " + got[me]);
                } catch (InterruptedException e) {
                    // asked to stop: end the thread
                }
            }));
            PipelineThreads.awaitWaiting(takers.get(i));
            step(pauseMillis, name + " calls take(): count = 0, so it waits");
        }
        step(pauseMillis, "main puts 1; notifyAll() wakes A and B");
        buffer.put(1);
        PipelineThreads.await(bothWoke, "both takers to wake");
        step(pauseMillis, "main puts 2");
        buffer.put(2);
        PipelineThreads.joinAll(takers);
        var outcome = new Outcome(Arrays.asList(got), buffer.count(), buffer.contents());
        System.out.printf("2 items put; A got %s, B got %s; count() = %d; slots: %s%n",
                got[0], got[1], outcome.count(), outcome.stranded());
        return outcome;
    }

    private static void step(long pauseMillis, String what) {
        System.out.println("  " + what);
        PipelineThreads.pause(pauseMillis);  // pacing for a human, not synchronisation
    }
}

// %% [run]
// var ifOutcome = WakeUpReplay.replay(hook -> new IfWaitBuffer<>(5, hook), 80);

// %% [markdown]
// The second taker woke to a `count` of 0 and took anyway: its `take()` returned
// `null`, a value nobody put, and no exception said so. Worse, `count` went to -1, so
// the second `put` brought it back to 0 with item 2 in a slot: `count()` says the
// buffer is empty, the slots say otherwise. Item 2 is stranded behind the take index:
// the next `take()` waits as if there were nothing, later ones skip its slot, and once
// the ring wraps around a `put` overwrites it. One wrong keyword: a bogus `null` and a
// lost item.
//
// @diagram producer_consumer-if-wait

// %% [markdown]
// ## Fix 1: `while` around `wait()`
//
// Test again after every wake-up, and go back to waiting if the condition still does
// not hold. The loop is the whole fix; it makes spurious wake-ups, stolen items and
// `notifyAll()` herds all harmless. The same replay, with the same forced wake-ups:

// %%
class WhileWaitBuffer<T> extends HandRolledBuffer<T> {
    WhileWaitBuffer(int capacity) { this(capacity, count -> { }); }

    WhileWaitBuffer(int capacity, IntConsumer afterWake) { super(capacity, afterWake); }

    synchronized void put(T item) throws InterruptedException {
        while (isFull()) {   // re-tested after every wake-up
            wait();
            afterWake.accept(count);
        }
        insert(item);
        notifyAll();
    }

    synchronized T take() throws InterruptedException {
        while (count == 0) {
            wait();
            afterWake.accept(count);
        }
        T item = extract();
        notifyAll();
        return item;
    }
}

// %% [run]
// var whileOutcome = WakeUpReplay.replay(hook -> new WhileWaitBuffer<>(5, hook), 80);

// %% [markdown]
// Whoever wakes second sees `count = 0` and waits again; the second `put` wakes it
// once more and it takes item 2. Both items delivered, nothing stranded.
//
// What it costs: `notifyAll()` wakes *every* waiter, producers and consumers alike,
// because they all wait on the one monitor; most of them take the monitor in turn,
// find nothing to do and go back to sleep. `notify()` would wake just one, but maybe
// the wrong kind (see the pitfalls). `ArrayBlockingQueue` solves this with one
// `ReentrantLock` and two `Condition`s, `notEmpty` and `notFull`, so a `put` signals
// one consumer and a `take` one producer. And it is tested, which your own buffer is
// not. Write a buffer by hand to learn how it works, then use the library's.

// %% [markdown]
// ## Fix 2: `ArrayBlockingQueue`, and a pill that cannot be mistaken for an item
//
// Python's seed ends the stream with `None`. A `BlockingQueue` refuses `null` (a
// `NullPointerException` on `put`), precisely because `poll()` uses `null` to mean
// "nothing there". A magic value such as -1 can collide with real data one day. A
// sealed interface says it exactly: a delivery is an `Item` or `Done`, and a `switch`
// over it is checked by the compiler for both cases.

// %%
sealed interface Delivery {
    record Item(int value) implements Delivery { }

    record Done() implements Delivery { }  // the poison pill: one per consumer
}

// %% [markdown]
// A producer puts its values and ends. It tries `offer()` first, which never blocks,
// only to count the times it found the queue full; `put()` alone would do the job,
// since it returns at once while there is room and blocks while there is none. A
// consumer takes until it swallows a pill. The pills are sent by `run`, once every
// producer has been joined: only then is it certain that no item can come after a
// pill. One pill per consumer, because a consumer that took one stops taking.

// %%
class QueuePipeline {
    static final class Producer implements Runnable {
        final String name;
        private final BlockingQueue<Delivery> queue;
        private final List<Integer> values;
        private final long pauseMillis;
        private final boolean verbose;
        int foundFull;           // written by the producer, read by main after join()
        long longestWaitMillis;

        Producer(String name, BlockingQueue<Delivery> queue, List<Integer> values,
                 long pauseMillis, boolean verbose) {
            this.name = name;
            this.queue = queue;
            this.values = values;
            this.pauseMillis = pauseMillis;
            this.verbose = verbose;
        }

        public void run() {
            int capacity = queue.size() + queue.remainingCapacity();
            try {
                for (int value : values) {
                    var item = new Delivery.Item(value);
                    long start = System.nanoTime();
                    boolean full = !queue.offer(item);  // offer() first only to count
                    if (full) queue.put(item);          // blocks until there is room
                    long waited = (System.nanoTime() - start) / 1_000_000;
                    int queued = queue.size();  // a snapshot: print it, never act on it
                    if (full) foundFull++;
                    longestWaitMillis = Math.max(longestWaitMillis, waited);
                    if (verbose) {
                        System.out.printf("produced %2d  queue %d/%d%s%n", value, queued,
                                capacity, full ? "  (was full: put() waited " + waited
                                        + " ms)" : "");
                    }
                    PipelineThreads.pause(pauseMillis);
                }
            } catch (InterruptedException e) {
                // asked to stop: end the thread
            }
        }
    }

    static final class Consumer implements Runnable {
        final String name;
        private final BlockingQueue<Delivery> queue;
        private final long workMillis;
        private final boolean verbose;
        final List<Integer> items = new ArrayList<>();  // read by main after join()
        boolean ateThePill;

        Consumer(String name, BlockingQueue<Delivery> queue, long workMillis,
                 boolean verbose) {
            this.name = name;
            this.queue = queue;
            this.workMillis = workMillis;
            this.verbose = verbose;
        }

        public void run() {
            try {
                while (true) {
                    switch (queue.take()) {
                        case Delivery.Item(int value) -> {
                            items.add(value);
                            if (verbose) {
                                System.out.printf("    consumer %s processed %d%n",
                                        name, value);
                            }
                            PipelineThreads.pause(workMillis);
                        }
                        case Delivery.Done() -> {
                            ateThePill = true;
                            return;
                        }
                    }
                }
            } catch (InterruptedException e) {
                // asked to stop without a pill: end the thread
            }
        }
    }

    /** Runs them all; after the producers end, sends one pill per consumer. */
    static void run(BlockingQueue<Delivery> queue, List<Producer> producers,
                    List<Consumer> consumers) throws InterruptedException {
        var taking = consumers.stream().map(c -> PipelineThreads.start(c.name, c))
                .toList();
        var putting = producers.stream().map(p -> PipelineThreads.start(p.name, p))
                .toList();
        try {
            PipelineThreads.joinAll(putting);
            for (int i = 0; i < consumers.size(); i++) {
                if (!queue.offer(new Delivery.Done(), 10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("no consumer took a pill for 10 s");
                }
            }
        } catch (RuntimeException | InterruptedException e) {
            taking.forEach(Thread::interrupt);  // no pills coming: stop them another way
            throw e;
        } finally {
            PipelineThreads.joinAll(taking);
        }
    }

    /** The seed's shape: one producer of i*i, one slower consumer, a bounded queue. */
    static List<Integer> timedRun(int items, int capacity, long produceMillis,
                                  long consumeMillis, boolean verbose)
            throws InterruptedException {
        var queue = new ArrayBlockingQueue<Delivery>(capacity);
        var values = IntStream.range(0, items).mapToObj(i -> i * i).toList();
        var producer = new Producer("producer", queue, values, produceMillis, verbose);
        var consumer = new Consumer("A", queue, consumeMillis, verbose);
        run(queue, List.of(producer), List.of(consumer));
        System.out.printf("%d produced, one per %d ms; %d consumed at %d ms each; "
                + "in order: %s%n", items, produceMillis, consumer.items.size(),
                consumeMillis, consumer.items.equals(values));
        System.out.printf("%d of %d puts found the queue (capacity %d) full; "
                + "longest wait: %d ms%n", producer.foundFull, items, capacity,
                producer.longestWaitMillis);
        return consumer.items;
    }

    record Tally(int expected, int consumed, int duplicates, int missing, int pills,
                 Map<String, Integer> perConsumer) { }

    /** Several producers of distinct numbers, several consumers; who got what? */
    static Tally fanOut(int producers, int consumers, int itemsEach, int capacity,
                        long workMillis) throws InterruptedException {
        var queue = new ArrayBlockingQueue<Delivery>(capacity);
        var ps = IntStream.range(0, producers).mapToObj(p -> new Producer("P" + (p + 1),
                queue, IntStream.range(0, itemsEach).map(i -> p * itemsEach + i).boxed()
                        .toList(), 0, false)).toList();
        var cs = IntStream.range(0, consumers).mapToObj(c -> new Consumer("C" + (c + 1),
                queue, workMillis, false)).toList();
        run(queue, ps, cs);
        int expected = producers * itemsEach;
        var timesSeen = new int[expected];
        var perConsumer = new TreeMap<String, Integer>();
        int consumed = 0;
        int pills = 0;
        for (Consumer c : cs) {
            for (int value : c.items) timesSeen[value]++;
            consumed += c.items.size();
            perConsumer.put(c.name, c.items.size());
            if (c.ateThePill) pills++;
        }
        int duplicates = 0;
        int missing = 0;
        for (int n : timesSeen) {
            if (n == 0) missing++;
            if (n > 1) duplicates += n - 1;
        }
        var tally = new Tally(expected, consumed, duplicates, missing, pills,
                perConsumer);
        System.out.printf("%d producers x %,d items, %d consumers, queue of %d%n",
                producers, itemsEach, consumers, capacity);
        System.out.printf("  consumed %,d of %,d: %d duplicates, %d missing; "
                + "%d of %d consumers stopped on their pill%n",
                consumed, expected, duplicates, missing, pills, consumers);
        System.out.println("  items per consumer: " + perConsumer);
        return tally;
    }
}

// %% [markdown]
// ### The seed's run
//
// One producer makes ten items (`i * i`), one every 0.1 s; one consumer needs 0.2 s
// for each; the queue holds five. The producer prints how full each `put` left the
// queue, and whether it had to wait; the consumer prints what it processed. Their
// lines interleave differently from run to run.

// %% [run]
// var seedItems = QueuePipeline.timedRun(10, 5, 100, 200, true);

// %% [markdown]
// The producer is twice as fast, so the queue grows by about one item every 0.2 s,
// and at the seed's size the producer is done just as the queue gets full: it may
// never have to wait at all (the summary line above says). Give it more items and it
// must. The same pipeline with 24 items, ten times faster, prints only its summary:

// %% [run]
// var moreItems = QueuePipeline.timedRun(24, 5, 10, 20, false);

// %% [markdown]
// Once the queue is full, every `put()` waits for the consumer to make room, so the
// producer runs at the consumer's pace instead of its own: that is back-pressure.
// Timed output shows it loosely, and the counts change from run to run; the next
// section shows it exactly.
//
// ## Back-pressure, frame by frame
//
// Here main is the consumer and takes nothing at first. The producer fills the queue
// and blocks in `put()`; main waits until the producer thread's state is `WAITING`
// *and* the queue is full, prints the frame, takes one item, and waits for the next
// frame. No sleeps decide anything: each frame is reached by polling thread state.
//
// @diagram producer_consumer-back-pressure

// %%
class FullQueueFrames {
    record Frame(int taken, int put, int queued, Thread.State producer) { }

    static List<Frame> freeze(int capacity, int items, long pauseMillis)
            throws InterruptedException {
        var queue = new ArrayBlockingQueue<Delivery>(capacity);
        var values = IntStream.range(0, items).boxed().toList();
        var producer = new QueuePipeline.Producer("producer", queue, values, 0, false);
        Thread thread = PipelineThreads.start("producer", producer);
        var frames = new ArrayList<Frame>();
        var received = new ArrayList<Integer>();
        try {
            System.out.printf("capacity %d, %d items to put; main takes one per frame%n",
                    capacity, items);
            for (int taken = 0; ; taken++) {
                Thread.State state = settle(thread, queue);
                int queued = queue.size();
                var frame = new Frame(taken, taken + queued, queued, state);
                frames.add(frame);
                System.out.printf("  main has taken %d, producer has put %d, "
                        + "queue %d/%d, producer %s%n",
                        taken, frame.put(), queued, capacity, state);
                if (state == Thread.State.TERMINATED) break;
                PipelineThreads.pause(pauseMillis);
                received.add(((Delivery.Item) queue.take()).value());  // there is one
            }
        } finally {
            thread.interrupt();  // a no-op once it has ended; unsticks it otherwise
            PipelineThreads.joinAll(List.of(thread));
        }
        queue.forEach(d -> received.add(((Delivery.Item) d).value()));
        System.out.printf("all %d items arrived, in order: %s%n",
                received.size(), received.equals(values));
        return frames;
    }

    /** Waits until the producer has ended, or is WAITING in put() with the queue full. */
    private static Thread.State settle(Thread producer, BlockingQueue<?> queue) {
        long deadline = System.nanoTime() + PipelineThreads.PATIENCE.toNanos();
        while (true) {
            Thread.State state = producer.getState();
            if (state == Thread.State.TERMINATED) return state;
            boolean full = queue.remainingCapacity() == 0;
            if (state == Thread.State.WAITING && full) return state;
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the producer never blocked: " + state);
            }
            Thread.yield();
        }
    }
}

// %% [run]
// var frames = FullQueueFrames.freeze(5, 8, 100);

// %% [markdown]
// Every frame but the last shows a full queue and a producer parked inside `put()`:
// it has put exactly as many items as main has taken plus the five in the queue, and
// cannot get ahead. Each `take()` signals the queue's `notFull` condition and lets
// exactly one more `put()` through.
//
// ### Several producers, several consumers, one pill each
//
// Three producers of distinct numbers and three consumers share one queue of five.
// Main joins the producers, then sends three pills; each consumer swallows exactly
// one and stops. The tally checks that every number arrived exactly once. The split
// between consumers varies from run to run; the totals do not. Then the same with
// thousands of items and no simulated work, to stress the hand-offs.

// %% [run]
// var smallTally = QueuePipeline.fanOut(3, 3, 5, 5, 20);
// var stressTally = QueuePipeline.fanOut(3, 3, 20_000, 5, 0);

// %% [markdown]
// ## `task_done()` and `join()`: counting finished work with a `Phaser`
//
// Python's `queue.join()` waits until every item put so far has been matched by a
// `task_done()`, while the consumers stay alive for more. `BlockingQueue` has no such
// count. When the number of items is known up front, a `CountDownLatch(n)` is enough.
// When it is not, use a `Phaser`: it is the JDK's counter of parties that can
// *register* at any time, which is what each new item is. Register before `put()`:
// register after it, and a fast consumer could finish the item and deregister before
// it was ever counted. Arrive-and-deregister when the item is done, in a `finally`, so
// a failed item counts as done too; otherwise one exception leaves the waiter waiting
// for good (the same holds for `task_done()`). The waiter is a party of its own: it
// arrives, then waits for the phase to advance, which happens when the last pending
// item is done. A `Phaser` holds at most 65,535 parties; a bounded queue keeps far
// below that, since at most capacity + consumers + producers items are pending.
//
// If all you need is "everything is done, now stop", you need none of this: the
// pills and `join()` on the consumers already say it. And if the items are independent
// tasks, an executor (next section) counts them for you.

// %%
class PendingWork {
    private final Phaser phaser = new Phaser(1);  // party 1: whoever awaits the work

    /** Call before put(): one more item pending. */
    void added() { phaser.register(); }

    /** Call once per item, when processed or failed. */
    void done() { phaser.arriveAndDeregister(); }

    /** Python's queue.join(): returns once every item added so far is done. One waiter
     *  at a time; after a timeout this object is spent. */
    void awaitAllDone(Duration timeout) throws InterruptedException {
        int phase = phaser.arrive();
        try {
            phaser.awaitAdvanceInterruptibly(phase, timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("items still pending after " + timeout);
        }
    }

    /** Consumers stay alive across batches; main waits for each batch to be done. */
    static List<Integer> batches(int consumers, int batches, int batchSize, int capacity,
                                 long workMillis) throws InterruptedException {
        var queue = new ArrayBlockingQueue<Delivery>(capacity);
        var work = new PendingWork();
        var processed = new AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int c = 1; c <= consumers; c++) {
            threads.add(PipelineThreads.start("C" + c, () -> {
                try {
                    while (true) {
                        switch (queue.take()) {
                            case Delivery.Item _ -> {
                                try {
                                    PipelineThreads.pause(workMillis);
                                    processed.incrementAndGet();
                                } finally {
                                    work.done();  // Python's task_done()
                                }
                            }
                            case Delivery.Done() -> { return; }
                        }
                    }
                } catch (InterruptedException e) {
                    // asked to stop: end the thread
                }
            }));
        }
        var processedAtJoin = new ArrayList<Integer>();
        try {
            for (int b = 1; b <= batches; b++) {
                for (int i = 0; i < batchSize; i++) {
                    work.added();
                    send(queue, new Delivery.Item(i));
                }
                work.awaitAllDone(PipelineThreads.PATIENCE);  // Python's queue.join()
                processedAtJoin.add(processed.get());
                System.out.printf("batch %d: %d items put; awaitAllDone() returned with "
                        + "%d of %d processed; consumers alive: %s%n", b, batchSize,
                        processed.get(), b * batchSize, threads.stream()
                                .allMatch(Thread::isAlive));
            }
            for (int c = 0; c < consumers; c++) send(queue, new Delivery.Done());
        } catch (RuntimeException | InterruptedException e) {
            threads.forEach(Thread::interrupt);
            throw e;
        } finally {
            PipelineThreads.joinAll(threads);
        }
        System.out.println("after the pills, consumers alive: "
                + threads.stream().anyMatch(Thread::isAlive));
        return processedAtJoin;
    }

    /** main never waits without a limit, not even on a full queue. */
    private static void send(BlockingQueue<Delivery> queue, Delivery d)
            throws InterruptedException {
        if (!queue.offer(d, PipelineThreads.PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("the queue stayed full: consumers gone?");
        }
    }
}

// %% [run]
// var processedAtJoin = PendingWork.batches(2, 2, 5, 5, 40);

// %% [markdown]
// Each `awaitAllDone()` returned with the whole batch processed, not just taken off
// the queue (an empty queue only means the items are *in progress*), and the consumers
// were still there for the next batch.
//
// ## Fix 3: let an executor own the queue
//
// A `ThreadPoolExecutor` *is* a producer-consumer: `execute()` puts a task in a
// `BlockingQueue`, worker threads take from it, `shutdown()` plays the pill and
// `close()` (try-with-resources) waits for all of it, `join()` included. What it does
// not give by default is back-pressure: `Executors.newFixedThreadPool` uses an
// unbounded `LinkedBlockingQueue`. Build the pool with a bounded queue instead and
// `CallerRunsPolicy`: when the workers are busy and the queue is full, the thread that
// calls `execute()` runs the task itself, and while it does, it produces nothing.
// The count below varies with timing; the `thread_pool` lesson goes further.

// %%
class CallerRunsPipeline {
    static ThreadPoolExecutor boundedPool(int workers, int capacity) {
        return new ThreadPoolExecutor(workers, workers, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(capacity),
                Thread.ofPlatform().name("pool-worker-", 1).factory(),
                new ThreadPoolExecutor.CallerRunsPolicy());  // full? the caller runs it
    }

    static int demo(int tasks, int workers, int capacity, long workMillis) {
        Thread submitter = Thread.currentThread();
        var ranOnSubmitter = new AtomicInteger();
        try (var pool = boundedPool(workers, capacity)) {
            for (int i = 0; i < tasks; i++) {
                pool.execute(() -> {
                    if (Thread.currentThread() == submitter) {
                        ranOnSubmitter.incrementAndGet();
                    }
                    PipelineThreads.pause(workMillis);
                });
            }
        }  // close(): no new tasks, then wait for every queued and running one
        System.out.printf("%d tasks, %d workers, queue of %d: %d ran on the submitting "
                + "thread, %d on the workers%n", tasks, workers, capacity,
                ranOnSubmitter.get(), tasks - ranOnSubmitter.get());
        return ranOnSubmitter.get();
    }
}

// %% [run]
// int ranOnSubmitter = CallerRunsPipeline.demo(16, 2, 5, 40);

// %% [markdown]
// ## Which one to use
//
// | you need | use |
// |---|---|
// | a bounded hand-off between threads | `ArrayBlockingQueue` (one lock, one array, no node allocated per item) |
// | the same, with busy producers and consumers at once | `LinkedBlockingQueue(capacity)`: separate locks for `put` and `take` |
// | no buffer: the producer waits until a consumer has the item | `SynchronousQueue`, or `LinkedTransferQueue.transfer` |
// | priorities or delays | `PriorityBlockingQueue`, `DelayQueue` (both unbounded: add your own limit) |
// | independent tasks, maybe with results | an `ExecutorService`; bounded queue + `CallerRunsPolicy` for back-pressure |
// | to know a batch is fully processed, consumers staying alive | a `Phaser` (`PendingWork`), or `CountDownLatch(n)` when n is known |
// | the end of the stream | one pill per consumer after all producers are joined, or `shutdown()` for an executor |
// | a buffer of your own | rarely: `while` around `wait()` and `notifyAll()`, or a `Lock` with two `Condition`s |
//
// Consumers that spend their time blocked (in `take()`, or on I/O while processing)
// can be virtual threads (`Thread.ofVirtual()`): a `BlockingQueue` works with them
// unchanged, and thousands of waiting consumers cost almost nothing.
//
// ## Pitfalls
//
// - **`if` instead of `while` around `wait()`.** Shown above: a `null` taken from an
//   empty buffer, a negative count, a stranded item. Python's `Condition.wait()` has
//   the same rule (or use `wait_for(predicate)`, which loops for you).
// - **`notify()` instead of `notifyAll()`** when producers and consumers wait on the
//   same monitor. `notify()` wakes one waiter, maybe of the wrong kind: a consumer's
//   `take()` meant to wake a waiting producer wakes another consumer instead, which
//   finds the buffer empty and waits again. The signal is spent, and with an unlucky
//   sequence every thread ends up waiting. Use `notifyAll()`, or separate `Condition`s.
// - **Pills: one per consumer, after the last item.** Too few and a consumer waits
//   forever; sent before a producer has finished and an item arrives after the pill,
//   unprocessed. Join the producers first, as `QueuePipeline.run` does.
// - **A consumer that dies never eats its pill.** An exception ends its loop; its pill
//   stays in the queue, and once the queue fills, every producer's `put()` blocks for
//   good. Catch per item inside the loop, and give waits that could last forever a
//   limit (`offer(item, timeout, unit)`, `poll(timeout, unit)`).
// - **Unbounded queues hide the problem until memory runs out:** `new
//   LinkedBlockingQueue<>()` and `Executors.newFixedThreadPool` both accept
//   `Integer.MAX_VALUE` items. Give every queue a capacity.
// - **`add()` throws and `offer()` returns `false` on a full queue;** an `offer()`
//   whose result is ignored drops items silently.
// - **`size()` is a snapshot,** already stale when you read it: fine for printing, not
//   for deciding (`if (queue.size() < 5) queue.put(x)` is check-then-act).
// - **Interrupting is the other way to stop** (`shutdownNow()` does it): `put` and
//   `take` throw `InterruptedException`. It abandons queued items; pills let the
//   queue drain first.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `Queue(maxsize=5)` | `new ArrayBlockingQueue<>(5)` |
// | `Queue()` (unbounded) | `new LinkedBlockingQueue<>()` (unbounded too: avoid) |
// | `q.put(item)`, blocking while full | `queue.put(item)`; `offer(item, 10, SECONDS)` to limit the wait |
// | `q.get()` | `queue.take()`; `poll(10, SECONDS)` |
// | `put_nowait` / `get_nowait` (raise `Full` / `Empty`) | `offer(item)` / `poll()` (return `false` / `null`) |
// | `q.put(None)` as the sentinel | `queue.put(new Delivery.Done())`: `null` is refused |
// | `q.task_done()` and `q.join()` | `PendingWork` (a `Phaser`), `CountDownLatch(n)`, or an executor's `close()` |
// | `q.shutdown()` (Python 3.13) | no counterpart on the queue: pills, or an executor's `shutdown()` |
// | `threading.Condition`, `cv.wait()` in a `while` | `synchronized` + `wait()`/`notifyAll()`, or `lock.newCondition()` |
// | `ThreadPoolExecutor(max_workers=2)` | `new ThreadPoolExecutor(2, 2, ..., new ArrayBlockingQueue<>(5), ...)` |
//
// The seed's producer sends the sentinel itself; that only works with one producer
// and one consumer. With several of each, whoever knows that all producers have ended
// (here, main after joining them) sends one pill per consumer.
//
// Related lessons: `counter` (shared state under a lock), `shared_resource` (lock
// guards), `event` (signalling without data), `thread_pool` (executors, which own
// their queue), `barrier` (threads waiting for each other).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line;
// a bad option prints one line and exits with status 2.

// %%
class producer_consumer {
    static final String USAGE = """
            Usage: producer_consumer [options]
              --items N      items the seed's producer makes (default 10)
              --capacity N   capacity of every queue and buffer (default 5)
              --producers N  producers in the fan-out runs (default 3)
              --consumers N  consumers in the fan-out runs, one pill each (default 3)
              --stress N     items per producer in the stress run (default 20000)
              --speed X      delays are divided by X: 2 = twice as fast (default 1)
              --help         print this and exit""";

    record Options(int items, int capacity, int producers, int consumers, int stress,
                   double speed) { }

    public static void main(String[] args) throws InterruptedException {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("producer_consumer: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        double speed = o.speed();
        System.out.println("== The broken buffer: `if` around wait(), two takers ==");
        long replayPause = ms(80, speed);
        WakeUpReplay.replay(hook -> new IfWaitBuffer<>(o.capacity(), hook), replayPause);
        System.out.println("\n== Fix 1: `while` around wait(), the same scenario ==");
        WakeUpReplay.replay(hook -> new WhileWaitBuffer<>(o.capacity(), hook),
                replayPause);
        System.out.println("\n== Fix 2: ArrayBlockingQueue, the seed's run ==");
        QueuePipeline.timedRun(o.items(), o.capacity(), ms(100, speed), ms(200, speed),
                true);
        QueuePipeline.timedRun(24, o.capacity(), ms(10, speed), ms(20, speed), false);
        System.out.println("\n== Back-pressure, frame by frame ==");
        FullQueueFrames.freeze(o.capacity(), o.capacity() + 3, ms(100, speed));
        System.out.println("\n== Several producers, several consumers, one pill each ==");
        int p = o.producers();
        int c = o.consumers();
        QueuePipeline.fanOut(p, c, 5, o.capacity(), ms(20, speed));
        QueuePipeline.fanOut(p, c, o.stress(), o.capacity(), 0);
        System.out.println("\n== task_done() and join(): a Phaser counts the pending ==");
        PendingWork.batches(2, 2, 5, o.capacity(), ms(40, speed));
        System.out.println("\n== Fix 3: an executor with a bounded queue ==");
        CallerRunsPipeline.demo(16, 2, o.capacity(), ms(40, speed));
    }

    static long ms(double millis, double speed) { return Math.round(millis / speed); }

    /** Returns null for --help; throws IllegalArgumentException on a bad argument. */
    static Options parse(String... args) {
        var given = new HashMap<String, String>();
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--help") || flag.equals("-h")) return null;
            if (!USAGE.contains("  " + flag + " ")) {
                throw new IllegalArgumentException("unknown argument '" + flag + "'");
            }
            if (i + 1 == args.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            given.put(flag, args[++i]);
        }
        return new Options(
                count("--items", given.getOrDefault("--items", "10")),
                count("--capacity", given.getOrDefault("--capacity", "5")),
                count("--producers", given.getOrDefault("--producers", "3")),
                count("--consumers", given.getOrDefault("--consumers", "3")),
                count("--stress", given.getOrDefault("--stress", "20000")),
                factor("--speed", given.getOrDefault("--speed", "1")));
    }

    static int count(String flag, String value) {
        try {
            int n = Integer.parseInt(value.replace("_", ""));
            if (n > 0) return n;
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException(flag + " wants a positive whole number, got '"
                + value + "'");
    }

    static double factor(String flag, String value) {
        try {
            double x = Double.parseDouble(value);
            if (x > 0 && Double.isFinite(x)) return x;
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException(flag + " wants a positive number, got '"
                + value + "'");
    }
}
