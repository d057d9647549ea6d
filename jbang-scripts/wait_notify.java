///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Wait and notify: a bounded buffer by hand, and why `wait` sits in a `while`
//
// `ArrayBlockingQueue` is an array, a lock and two conditions. Build the same buffer on
// an object's own monitor and you meet the rules behind every hand-written wait: test
// the condition again after every wake-up, keep it as state under the lock, and wake
// every waiter unless you are sure that whichever one wakes can use the news.
//
// **You will learn**
// - what `synchronized`, `wait()` and `notifyAll()` do with an object's monitor
// - why `wait()` sits in a `while` loop: with an `if`, a taker gets an item nobody put
// - why a notification that nobody waits for is lost, and the state that makes up for it
// - `notify()` against `notifyAll()`, and why `ArrayBlockingQueue` has two `Condition`s

// %%
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.function.*;
import java.util.stream.*;

final class Monitors {  // the demos' helpers: pacing, and waits that cannot hang
    static void say(long pauseMillis, String what) throws InterruptedException {
        System.out.println("  " + what);
        Thread.sleep(pauseMillis);  // for the audience, not to synchronise
    }

    static void awaitState(Thread t, Thread.State state) {  // polls: no sleep; a limit
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != state && System.nanoTime() < deadline) Thread.yield();
        if (t.getState() != state) throw new IllegalStateException(t.getName());
    }

    static void joinAll(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            if (t.join(Duration.ofSeconds(10))) continue;
            threads.forEach(Thread::interrupt);
            throw new IllegalStateException(t.getName() + " did not finish");
        }
    }
}

// %% [markdown]
// ## The monitor, and a buffer on it
//
// Every Java object has a monitor: a lock, which `synchronized` takes, and a *wait set*.
// `wait()` needs the monitor (else `IllegalMonitorStateException`); it puts the thread
// in the wait set and releases the monitor in one step, and takes the monitor back
// before it returns. `notify()` takes one thread out of the wait set, whichever the JVM
// likes (JLS 17.2.2), `notifyAll()` takes them all, and the woken threads compete for
// the monitor like any other. A notification with nobody in the wait set does nothing,
// and `wait()` may return with no notification at all (a *spurious wake-up*).
//
// The buffer is a ring of slots guarded by its monitor: `take()` waits while it is
// empty, `put()` while it is full, and each wakes the other side with `notifyAll()`.
// `count` is what it *believes* it holds, `slots()` what the slots hold; `afterWake` is
// a hook the demo uses to watch wake-ups (in normal use it does nothing).

// %%
class MonitorBuffer<T> {
    private final Object[] slots;
    private int putAt, takeAt;
    protected int count;
    protected final IntConsumer afterWake;  // sees count after each wake-up

    MonitorBuffer(int capacity, IntConsumer afterWake) {
        this.slots = new Object[capacity];
        this.afterWake = afterWake;
    }

    synchronized void put(T item) throws InterruptedException {
        while (count == slots.length) wait();  // full: wait, and look again when woken
        slots[putAt] = item;
        putAt = (putAt + 1) % slots.length;
        count++;
        notifyAll();  // in the block that changed the state: the order does not matter
    }

    synchronized T take() throws InterruptedException {
        while (count == 0) {  // empty: wait, and look again after every wake-up
            wait();
            afterWake.accept(count);
        }
        return extract();
    }

    @SuppressWarnings("unchecked")
    protected T extract() {  // the caller holds the monitor
        T item = (T) slots[takeAt];
        slots[takeAt] = null;
        takeAt = (takeAt + 1) % slots.length;
        count--;
        notifyAll();
        return item;
    }

    synchronized int count() { return count; }

    synchronized List<Object> slots() {
        return Stream.of(slots).filter(Objects::nonNull).toList();
    }
}

// %% [markdown]
// ## Two takers, one item: `if` around `wait()`
//
// *If* the buffer is empty, wait; then take. It reads naturally, and it is wrong:
// returning from `wait()` proves nothing. The woken taker must win the monitor back, and
// meanwhile a taker that never waited may have entered `take()` and grabbed the item
// (common in real code), or another taker woken by the same `notifyAll()` got there
// first, or the wake-up was spurious. The replay forces the second case: it starts taker
// `A` and waits until its thread is `WAITING` (in `take()`, only `wait()` does that),
// then the same with `B`. Main puts one item, `notifyAll()` wakes both, and once the hook
// has seen both wake up, main puts a second. The JVM does not promise who gets item 1
// (HotSpot usually picks `A`); the outcome does not vary. (In the notebook, "main" is the
// kernel's thread that runs the cell.)
//
// @diagram wait_notify-if-wait

// %%
class IfWaitBuffer<T> extends MonitorBuffer<T> {
    IfWaitBuffer(int capacity, IntConsumer afterWake) { super(capacity, afterWake); }

    @Override
    synchronized T take() throws InterruptedException {
        if (count == 0) {  // BROKEN: tested once, before the wait
            wait();
            afterWake.accept(count);
        }
        return extract();
    }
}

class TwoTakers {
    record Outcome(List<Object> took, int count, List<Object> slots) { }

    static Outcome replay(boolean withIf, long pauseMillis) throws InterruptedException {
        var bothWoke = new CountDownLatch(2);
        IntConsumer hook = count -> {  // runs in take(), once wait() has returned
            String me = Thread.currentThread().getName();
            System.out.printf("  %s wakes up; count = %d%n", me, count);
            bothWoke.countDown();
        };
        MonitorBuffer<Integer> buffer =
                withIf ? new IfWaitBuffer<>(5, hook) : new MonitorBuffer<>(5, hook);
        var took = new Object[2];  // each taker writes its own; main reads after join
        var takers = new ArrayList<Thread>();
        for (String name : List.of("A", "B")) {
            int me = takers.size();
            takers.add(Thread.ofPlatform().name(name).start(() -> {
                try {
                    took[me] = buffer.take();
                    System.out.println("  " + name + "'s take() returns " + took[me]);
                } catch (InterruptedException e) {  // asked to stop: end the thread
                }
            }));
            Monitors.awaitState(takers.getLast(), Thread.State.WAITING);
            Monitors.say(pauseMillis, name + " calls take(): count = 0, so it waits");
        }
        Monitors.say(pauseMillis, "main puts 1, and notifyAll() wakes A and B");
        buffer.put(1);
        if (!bothWoke.await(10, TimeUnit.SECONDS)) {
            takers.forEach(Thread::interrupt);
            throw new IllegalStateException("the takers did not both wake up");
        }
        Monitors.say(pauseMillis, "main puts 2");
        buffer.put(2);
        Monitors.joinAll(takers);
        System.out.printf("A got %s, B got %s; count() = %d; in the slots: %s%n",
                took[0], took[1], buffer.count(), buffer.slots());
        return new Outcome(Arrays.asList(took), buffer.count(), buffer.slots());
    }
}

// %% [run]
// var broken = TwoTakers.replay(true, 500);

// %% [markdown]
// The taker that woke second saw `count = 0` and took anyway: its `take()` returned
// `null`, a value nobody put, with no exception. `count` went to -1, so the second `put`
// made it 0 with item 2 in a slot the next `take()` will never read. The same replay with
// `MonitorBuffer`, whose `while` is the whole fix:

// %% [run]
// var fixed = TwoTakers.replay(false, 500);

// %% [markdown]
// Whoever wakes second sees `count = 0` and waits again; the second `put` wakes it, and
// it takes item 2. In a loop, spurious wake-ups and lost races are harmless.
//
// ## A notification nobody waits for is lost
//
// `notifyAll()` wakes the threads in the wait set *now*; a thread that starts waiting
// a moment later never hears of it. So a waiter must look at state, which the `Doorbell`
// keeps under its monitor: `rung`. `listen()` is the broken waiter: it waits for a
// notification and never looks. `awaitRung()` looks first, and after every wake-up. A
// thread named `ringer` rings and ends; then main, late, tries both.
//
// @diagram wait_notify-missed-ring

// %%
class Doorbell {
    private boolean rung;  // the state every waiter checks; guarded by this

    synchronized void ring(boolean wakeAll) {
        rung = true;  // under the monitor, as is the notify: either order works
        if (wakeAll) notifyAll(); else notify();
    }

    /** BROKEN: waits for a notification, and never looks at the state. */
    synchronized void listen(long limitMillis) throws InterruptedException {
        wait(limitMillis);
    }

    /** Looks at the state first, and again after every wake-up; false at the limit. */
    synchronized boolean awaitRung(long limitMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMillis);
        while (!rung) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return false;
            TimeUnit.NANOSECONDS.timedWait(this, left);  // wait(left), rounded up to 1 ms
        }
        return true;
    }

    /** The ringer rings and leaves; then main listens. Returns listen()'s wait, in ms. */
    static long missed(double speed) throws InterruptedException {
        long limit = Math.round(1_000 / speed);
        var bell = new Doorbell();
        Thread ringer = Thread.ofPlatform().name("ringer").start(() -> bell.ring(true));
        Monitors.joinAll(List.of(ringer));
        System.out.println("ringer rang: rung = true; notifyAll() found nobody waiting");
        long start = System.nanoTime();
        bell.listen(limit);
        long listened = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.printf("  main: listen() waited %d of its %d ms%n", listened, limit);
        start = System.nanoTime();
        boolean rung = bell.awaitRung(limit);
        System.out.printf("  main: awaitRung() returned %s after %d ms%n", rung,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        return listened;
    }
}

// %% [run]
// long listenedMillis = Doorbell.missed(1);

// %% [markdown]
// `listen()` sat out its whole limit for a ring long gone; `awaitRung()` saw `rung` and
// returned at once. Looking *outside* the monitor is the same bug in disguise: between
// `if (!rung)` and a `synchronized` block that calls `wait()`, another thread can ring
// unheard. Test and wait under one monitor, and nobody can ring in between.
//
// ## `notify()` or `notifyAll()`
//
// `notify()` wakes one waiter. Two threads, `W1` and `W2`, wait in `awaitRung()` (main
// waits until both are `TIMED_WAITING`), and main rings once. With `notify()` one of
// them passes and the other stays in the wait set, although `rung` is true, until main
// rings again (barring a spurious wake-up). `notifyAll()`: one ring lets both through.

// %%
class NotifyOne {
    /** Rings once; returns who is still waiting when the window has passed. */
    static List<String> ringOnce(boolean wakeAll, long window)
            throws InterruptedException {
        var bell = new Doorbell();
        var waiters = new ArrayList<Thread>();
        long limit = window + 10_000;  // awaitRung's own limit: far beyond the window
        for (String name : List.of("W1", "W2")) {
            waiters.add(Thread.ofPlatform().name(name).start(() -> {
                try {
                    if (bell.awaitRung(limit)) Monitors.say(0, name + " passes");
                } catch (InterruptedException e) {  // asked to stop: end the thread
                }
            }));
            Monitors.awaitState(waiters.getLast(), Thread.State.TIMED_WAITING);
        }
        System.out.printf("W1 and W2 wait; main rings once, with %s%n",
                wakeAll ? "notifyAll()" : "notify()");
        bell.ring(wakeAll);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(window);
        for (Thread w : waiters) w.join(Duration.ofNanos(deadline - System.nanoTime()));
        var stillWaiting = waiters.stream().filter(Thread::isAlive).map(Thread::getName)
                .toList();
        System.out.printf("  main waits up to %d ms for both; still waiting: %s%n",
                window, stillWaiting);
        if (!stillWaiting.isEmpty()) {
            System.out.println("main rings again");
            bell.ring(wakeAll);
        }
        Monitors.joinAll(waiters);
        return stillWaiting;
    }

    static void both(double speed) throws InterruptedException {
        long window = Math.max(500, Math.round(1_000 / speed));  // a pause, and a limit
        ringOnce(false, window);
        ringOnce(true, window);
    }
}

// %% [run]
// NotifyOne.both(1);

// %% [markdown]
// Which waiter `notify()` picks is the JVM's choice, and where producers and consumers
// share one wait set, that hurts: a consumer's `notify()` meant for a producer can wake
// another consumer, which finds nothing and waits again; the notification is spent, and
// after an unlucky run of such choices every thread waits. So `notifyAll()` is the safe
// default, at a price: every waiter wakes, and most go back to sleep.
//
// The way out is a wait set per kind of waiter: a `ReentrantLock` has one per
// `Condition`. `ArrayBlockingQueue` (lesson `producer_consumer`) has one lock with two:
// putters wait on `notFull`, takers on `notEmpty`, so a `put` can `signal()` one taker
// and never wakes a putter. Write a buffer by hand once; then use the library's.
//
// ## Pitfalls
//
// - **`if` instead of `while` around `wait()`:** a taker gets `null`, an item strands.
// - **Waiting for a notification instead of a state,** or testing the state outside
//   the monitor: the notification can come first, and then it is lost.
// - **`notify()` with different kinds of waiter on one monitor:** the wrong one wakes.
// - **`wait()` on the wrong object:** inside `synchronized (lock)`, a bare `wait()` is
//   `this.wait()`: without `this`'s monitor, `IllegalMonitorStateException`.
// - **`wait(0)` waits forever,** like `wait()`: out of time, stop, as `awaitRung` does.
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | `cv = threading.Condition()`, `with cv:` | any object's monitor, `synchronized (obj)`; or `lock.newCondition()` |
// | `while not ready: cv.wait()`, `cv.wait_for(...)` | `while (!ready) obj.wait();` (or `condition.await()`) |
// | `cv.notify()`, `cv.notify_all()` | `notify()`, `notifyAll()`; `signal()`, `signalAll()` |
// | `RuntimeError` when the lock is not held | `IllegalMonitorStateException` |
//
// The seed's `Queue(maxsize=5)` is built this way: CPython's `queue.Queue` waits in
// loops on `not_empty`, `not_full` and `all_tasks_done`, three conditions, one mutex.
//
// ## Try it
//
// - In `MonitorBuffer.take`, turn the `while` into an `if` and run `jbang wait_notify
//   while`: now the second taker gets `null` too.
// - In `Doorbell.missed`, call `awaitRung(limit)` where it calls `listen(limit)`: both
//   lines now report that main waited about 0 ms.
// - Run `jbang wait_notify notify --speed 0.5`: with `notify()`, one waiter stays in the
//   wait set for two seconds, until main rings again.
//
// ## Summary
//
// Wait in a `while` loop for a condition on state that the monitor guards, change that
// state while holding the monitor, and notify in the same `synchronized` block; prefer
// `notifyAll()` or separate `Condition`s.
//
// `wait()` returns with no promise about the condition, and a notification that nobody
// waits for is lost: the state must carry the news, and the waiter must look at it.

// %% [main]
class wait_notify {  // the entry point, script only: `jbang wait_notify --help`
    static final Section[] SECTIONS = {
            new Section("if", "two takers, one item: with if, a taker gets null",
                    speed -> TwoTakers.replay(true, Math.round(500 / speed))),
            new Section("while", "the same with while: both items arrive",
                    speed -> TwoTakers.replay(false, Math.round(500 / speed))),
            new Section("missed", "a ring before the wait is lost", Doorbell::missed),
            new Section("notify", "notify() wakes one of two waiters", NotifyOne::both)};
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
