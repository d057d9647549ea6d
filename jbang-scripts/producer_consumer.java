///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Producer-consumer: a bounded queue, a poison pill and back-pressure
//
// One thread makes work and another does it, each at its own pace. A bounded queue
// between them absorbs the difference, and when the fast side gets too far ahead it
// makes that side wait: the wait is back-pressure, and it is the point of the pattern.
//
// **You will learn**
// - `ArrayBlockingQueue`: `put` waits while the queue is full, `take` while it is empty
// - to end the stream with a poison pill of its own type, since queues refuse `null`
// - back-pressure: a full queue holds the producer to the consumer's pace
// - what stands in for Python's `task_done()` and `join()`

// %%
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.stream.*;

// %% [markdown]
// ## A pill the queue cannot mistake for an item
//
// The seed ends its stream with `None`, a *poison pill*: not work, but a value that
// tells the consumer to stop. A `BlockingQueue` refuses `null` (`put` and `offer` throw
// `NullPointerException`), because `poll()` returns `null` to mean "nothing there". A
// magic number such as -1 can collide with real data one day. A sealed interface says
// it exactly: a delivery is an `Item` or `Done`, nothing else, and the compiler checks
// that a `switch` over it, like consumer `A`'s below, handles both.

// %%
sealed interface Delivery {
    record Item(int value) implements Delivery { }
    record Done() implements Delivery { }  // the poison pill
}

// %% [markdown]
// ## The seed's run
//
// The producer puts `i * i` for `i` from 0 to 9, one every 0.1 s, then the pill; the
// consumer, thread `A`, needs 0.2 s for each item and stops at the pill; the queue holds
// five. `put` returns at once while there is room and waits while there is none;
// `take` waits while the queue is empty. Both threads print as they go, so their lines
// can interleave differently from run to run (`A` may print an item before the producer
// does, which prints after `put` returns). `A`, half as fast, falls behind: the lines
// after `Produced: 81` are it catching up, and the last is `Consumer A processed: 81`.

// %%
final class QueuePacing {
    static long ms(long millis, double speed) { return Math.round(millis / speed); }

    /** How long to wait for a demo whose pauses add up to pausedMillis at speed 1. */
    static Duration guard(long pausedMillis, double speed) {
        return Duration.ofMillis(10_000 + ms(pausedMillis, speed));
    }

    /** Joins them all within the guard; otherwise interrupts them all and throws. */
    static void joinAll(Duration guard, List<Thread> threads)
            throws InterruptedException {
        long deadline = System.nanoTime() + guard.toNanos();
        for (Thread t : threads) {
            if (!t.join(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
                threads.forEach(Thread::interrupt);
                for (Thread each : threads) each.join(Duration.ofSeconds(10));
                throw new IllegalStateException(t.getName() + " is stuck");
            }
        }
    }

    /** put(), but main never waits without a limit, not even on a full queue. */
    static <T> void send(BlockingQueue<T> queue, T item, Duration guard)
            throws InterruptedException {
        if (!queue.offer(item, guard.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("the queue stayed full: consumers gone?");
        }
    }
}

// %%
class SeedPipeline {
    static void nullRefused() {  // what the queue says to the seed's None
        try { new ArrayBlockingQueue<Integer>(1).offer(null); }
        catch (NullPointerException e) { System.out.println("queue.offer(null): " + e); }
    }

    static void run(double speed) throws InterruptedException {
        var queue = new ArrayBlockingQueue<Delivery>(5);  // Queue(maxsize=5)
        Thread producer = Thread.ofPlatform().name("producer").start(() -> {
            try {
                for (int i = 0; i < 10; i++) {
                    queue.put(new Delivery.Item(i * i));  // waits while the queue is full
                    System.out.println("Produced: " + i * i);
                    Thread.sleep(QueuePacing.ms(100, speed));
                }
                queue.put(new Delivery.Done());  // the seed's q.put(None)
            } catch (InterruptedException e) {  // asked to stop: end the thread
            }
        });
        Thread consumer = Thread.ofPlatform().name("A").start(() -> {
            try {
                while (true) {
                    switch (queue.take()) {  // without either case: a compile error
                        case Delivery.Item(int item) -> {
                            System.out.println("Consumer A processed: " + item);
                            Thread.sleep(QueuePacing.ms(200, speed));
                        }
                        case Delivery.Done() -> { return; }  // the pill: stop
                    }
                }
            } catch (InterruptedException e) {  // asked to stop: end the thread
            }
        });
        QueuePacing.joinAll(QueuePacing.guard(2_000, speed), List.of(producer, consumer));
    }
}

// %% [run]
// SeedPipeline.nullRefused();
// SeedPipeline.run(1);

// %% [markdown]
// ## Back-pressure, frame by frame
//
// In the seed the queue fills only near the end, so its producer waits little, if at
// all. To watch back-pressure itself, main (in the notebook, the kernel's thread) plays
// the consumer and takes nothing at first, while the producer does nothing but `put`
// eight numbers into a queue of five. Main waits for each frame by polling, not
// sleeping: the frame is ready when the producer has ended, or when the queue is full
// and the producer is `WAITING`. A full queue means the producer's next `put` cannot
// finish; `WAITING` means it has parked there (it calls nothing but `put`). Then main
// prints the frame, pauses and takes one number.
//
// @diagram producer_consumer-back-pressure

// %%
class BackPressureFrames {
    record Frame(int taken, int queued, Thread.State producer) { }

    static List<Frame> freeze(int capacity, int items, long pauseMillis)
            throws InterruptedException {
        var queue = new ArrayBlockingQueue<Integer>(capacity);
        Thread producer = Thread.ofPlatform().name("producer").start(() -> {
            try {
                for (int i = 0; i < items; i++) queue.put(i);  // nothing but put()
            } catch (InterruptedException e) {  // asked to stop: end the thread
            }
        });
        var frames = new ArrayList<Frame>();
        var received = new ArrayList<Integer>();
        System.out.printf("%d numbers to put, queue of %d; main takes one a frame%n",
                items, capacity);
        try {
            for (int taken = 0; ; taken++) {
                Thread.State state = settle(producer, queue);
                frames.add(new Frame(taken, queue.size(), state));
                boolean done = state == Thread.State.TERMINATED;
                String shown = done ? "TERMINATED" : "WAITING in put()";
                System.out.printf("  main has taken %d, queue %d/%d, producer %s%n",
                        taken, queue.size(), capacity, shown);
                if (done) break;
                Thread.sleep(pauseMillis);   // for the audience, not to synchronise
                received.add(queue.take());  // the queue is full: take() returns at once
            }
        } finally {
            QueuePacing.joinAll(Duration.ofSeconds(10), List.of(producer));
        }
        received.addAll(queue);
        System.out.printf("all %d numbers arrived, in order: %s%n", received.size(),
                received.equals(IntStream.range(0, items).boxed().toList()));
        return frames;
    }

    /** Polls until the producer has ended, or the queue is full and it is parked. */
    static Thread.State settle(Thread producer, ArrayBlockingQueue<?> queue) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (Thread.State s; (s = producer.getState()) != Thread.State.TERMINATED; ) {
            if (queue.remainingCapacity() == 0 && s == Thread.State.WAITING) return s;
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("producer never blocked in put()");
            }
            Thread.yield();
        }
        return Thread.State.TERMINATED;
    }
}

// %% [run]
// var frames = BackPressureFrames.freeze(5, 8, 400);

// %% [markdown]
// Every frame but the last shows a full queue and a producer parked inside `put`: it has
// put exactly what main has taken plus five, and cannot get ahead. Each `take` signals
// the queue's `notFull` condition and lets one more `put` through, so the producer runs
// at the consumer's pace. The `wait_notify` lesson builds such a queue by hand.
//
// ## `task_done()` and `join()`
//
// The seed calls `q.task_done()` after each item but never `q.join()`, which is what
// reads those calls; it waits with `thread.join()`, and so does Java: a consumer that
// stopped on its pill has done everything. To wait for a batch while consumers stay
// alive, main needs what `q.join()` reads: a count of unfinished items that it can wait
// on. `BlockingQueue` keeps none, so `PendingWork` does, on a monitor, as CPython's
// queue does (lesson `wait_notify` explains the loop). Count each item before `put`:
// after it, a fast consumer could finish the item first, and the count could reach
// zero and release a waiter while another item is pending (or, with none pending,
// `done()` throws, as `task_done()` raises `ValueError`). Count it done in a `finally`,
// so a failed item counts too. Two consumers here, so two pills at the end.

// %%
class PendingWork {  // Python's unfinished_tasks and all_tasks_done, on a monitor
    private int pending;  // items added and not yet done; guarded by this

    synchronized void added() { pending++; }  // before put(): one more item pending

    synchronized void done() {  // Python's task_done()
        if (pending == 0) throw new IllegalStateException("done() without added()");
        if (--pending == 0) notifyAll();
    }

    /** Python's q.join(): returns once no item added so far is pending. */
    synchronized void awaitAllDone(Duration limit)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (pending > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) throw new TimeoutException(pending + " items still pending");
            TimeUnit.NANOSECONDS.timedWait(this, left);  // this.wait(), at most left
        }
    }
}

// %%
class PendingBatches {
    /** Consumers stay alive across batches; main waits for each batch to be done. */
    static List<Integer> run(int consumers, int batches, int size, double speed)
            throws Exception {
        var queue = new ArrayBlockingQueue<Delivery>(5);
        var work = new PendingWork();
        var processed = new AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int c = 1; c <= consumers; c++) {
            threads.add(Thread.ofPlatform().name("C" + c).start(() -> {
                try {
                    while (queue.take() instanceof Delivery.Item _) {  // Done: stop
                        try {
                            Thread.sleep(QueuePacing.ms(100, speed));  // the work
                            processed.incrementAndGet();
                        } catch (RuntimeException e) {  // one item failed: go on
                            System.out.println("an item failed: " + e);
                        } finally {
                            work.done();  // done, even if it failed
                        }
                    }
                } catch (InterruptedException e) {  // asked to stop: end the thread
                }
            }));
        }
        var guard = QueuePacing.guard(100L * batches * size, speed);
        var processedAtJoin = new ArrayList<Integer>();
        try {
            for (int b = 1; b <= batches; b++) {
                for (int i = 0; i < size; i++) {
                    work.added();  // before put(), never after
                    QueuePacing.send(queue, new Delivery.Item(i), guard);
                }
                work.awaitAllDone(guard);
                processedAtJoin.add(processed.get());
                System.out.printf("batch %d: %d put, then awaitAllDone(): %d processed, "
                        + "consumers alive: %s%n", b, size, processed.get(),
                        threads.stream().allMatch(Thread::isAlive));
            }
            for (int c = 0; c < consumers; c++) {
                QueuePacing.send(queue, new Delivery.Done(), guard);  // one pill each
            }
        } catch (Exception e) {
            threads.forEach(Thread::interrupt);  // no pills coming: stop them another way
            throw e;
        } finally {
            QueuePacing.joinAll(guard, threads);
        }
        System.out.println("pills sent, one each: consumers alive: "
                + threads.stream().anyMatch(Thread::isAlive));
        return processedAtJoin;
    }
}

// %% [run]
// var processedAtJoin = PendingBatches.run(2, 2, 4, 1);

// %% [markdown]
// Each `awaitAllDone()` returned with its batch processed, not merely taken off the
// queue (an empty queue means only that the last items are in progress), and the
// consumers stayed for the next batch. When the number of items is known beforehand, a
// `CountDownLatch(n)` does the same job with less machinery.
//
// ## An executor is this pattern, packaged
//
// A `ThreadPoolExecutor` has a `BlockingQueue` and worker threads that take from it;
// `shutdown()` plays the pill and `close()` waits for the workers. Not every task goes
// through the queue: workers start lazily, and while the pool has fewer than
// `corePoolSize`, `execute()` starts a new one with the task in hand, even if others are
// idle. Then it `offer`s tasks to the queue, which never waits; when the queue is full
// it starts workers up to `maximumPoolSize`, then rejects. So with the JDK's rejection
// policies a pool never blocks its submitter: for back-pressure give it a bounded queue
// and `CallerRunsPolicy` (`executor_lifecycle`); `newFixedThreadPool`'s is unbounded.
//
// ## Pitfalls
//
// - **Pills: one per consumer, after the last item.** Too few, and a consumer waits
//   forever; too early, and an item arrives after the pill, unprocessed. With several
//   producers, join them all, then send the pills.
// - **A consumer that dies never eats its pill**, and once the queue fills, every `put`
//   waits for good. Catch failures per item inside the loop, and give waits that could
//   last forever a limit: `offer(item, timeout, unit)`, `poll(timeout, unit)`.
// - **Unbounded queues hide the problem until memory runs out.** `new
//   LinkedBlockingQueue<>()` holds up to `Integer.MAX_VALUE` items: give it a capacity.
// - **`offer(item)` returns `false` on a full queue** (and `add` throws); ignore the
//   result and items vanish silently.
// - **`size()` is already stale when you read it:** print it, never decide on it
//   (`if (queue.size() < 5) queue.put(x)` is check-then-act).
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `Queue(maxsize=5)` | `new ArrayBlockingQueue<>(5)` |
// | `q.put(item)`, `q.get()` | `queue.put(item)`, `queue.take()` |
// | `put_nowait` / `get_nowait` (raise `Full` / `Empty`) | `offer(item)` / `poll()` (return `false` / `null`) |
// | `q.put(None)` as the sentinel | `queue.put(new Delivery.Done())`: `null` is refused |
// | `q.task_done()`, `q.join()` | `join()` on the consumers; `PendingWork`'s count or a `CountDownLatch`; an executor's `close()` |
// | `q.shutdown()` (Python 3.13) | none on the queue: pills, or an executor's `shutdown()` |
//
// The seed's producer sends the pill itself, which works with one producer and one
// consumer. With more, whoever knows that every producer has ended sends one pill per
// consumer.
//
// ## Try it
//
// - Run `jbang producer_consumer seed --speed 4` a few times: the lines often
//   interleave differently, and the last is always `Consumer A processed: 81`.
// - In `SeedPipeline.run`, make the consumer's pause 50 ms: now it is the consumer that
//   waits, in `take()`, the lines come in pairs (either order), and the run takes about
//   half as long.
// - In the entry point, give the `frames` section 12 items instead of 8: seven frames
//   with a full queue and a waiting producer, then the last.
//
// ## Summary
//
// A bounded `BlockingQueue` lets a producer and a consumer each keep its own pace until
// the queue fills, and then makes the producer wait: that is back-pressure.
//
// End the stream with a pill of its own type, one per consumer, sent after the last
// item. Wait for the end by joining the consumers; to wait for a batch while they stay
// alive, count the pending items and wait for zero. A thread pool is the same pattern
// packaged, but it rejects instead of waiting unless you give it a policy.

// %% [main]
class producer_consumer {  // the entry point: `jbang producer_consumer --help`
    static final Section[] SECTIONS = {
            new Section("seed", "the seed's run: producer, consumer A, a queue of five",
                    speed -> { SeedPipeline.nullRefused(); SeedPipeline.run(speed); }),
            new Section("frames", "back-pressure, frame by frame: the producer waits",
                    speed -> BackPressureFrames.freeze(5, 8, QueuePacing.ms(400, speed))),
            new Section("batches", "task_done() and join(): main waits for pending work",
                    speed -> PendingBatches.run(2, 2, 4, speed))};
    // From here on the same in every lesson (tools/entry-point.java).
    record Section(String name, String about, Demo demo) { }
    interface Demo { void run(double speed) throws Exception; }

    public static void main(String[] args) throws Exception {
        var chosen = new ArrayList<Section>();
        double speed = 1;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i], next = i + 1 < args.length ? args[i + 1] : "";
            var named = Stream.of(SECTIONS).filter(s -> s.name().equals(arg)).findAny();
            if (named.isPresent()) chosen.add(named.get());
            else if (arg.equals("--speed") && next.matches("\\d*\\.?\\d+"))
                speed = Math.clamp(Double.parseDouble(args[++i]), 0.1, 20);
            else if (!arg.equals("--step")) usage(arg.matches("--help|--list"), arg);
        }
        boolean step = List.of(args).contains("--step") && System.console() != null;
        for (Section s : chosen.isEmpty() ? List.of(SECTIONS) : chosen) {
            if (step) System.console().readLine("%n[Enter] %s ", s.name());
            System.out.printf("%n== %s: %s%n", s.name(), s.about());
            s.demo().run(speed);
        }
    }

    static void usage(boolean asked, String arg) {  // --help; or a bad argument, status 2
        String name = Section.class.getEnclosingClass().getSimpleName();
        if (!asked) System.err.printf("%s: bad argument '%s' (try --help)%n", name, arg);
        else System.out.printf("jbang %s [section...] [--speed 0.1-20] [--step]%n%s",
                name, Stream.of(SECTIONS).map(s -> "  %-8s %s%n".formatted(s.name(),
                        s.about())).collect(Collectors.joining()));
        System.exit(asked ? 0 : 2);
    }
}
