///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Event: one thread says "go", every waiting thread wakes up
//
// Three threads wait until a fourth says "go": the configuration is loaded, the server
// listens, the race starts. Python has `threading.Event` for this; `java.util.concurrent`
// has no `Event` class. A one-shot latch does the job; an event you can clear and set
// again takes a few lines of your own, and one decision: what a `clear()` right after a
// `set()` does to the threads already waiting.
//
// **You will learn**
// - `CountDownLatch(1)`: the JDK's one-shot event, and why a late waiter gets through
// - to build a re-armable event (`set`, `clear`, `await`) on a `Lock` and a `Condition`
// - why it counts its `set()` calls: so that `set()` then `clear()` releases every
//   waiter, as Python's `Event` does
// - to wait with a timeout, and to read what the wait returns

// %%
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.concurrent.locks.*;
import java.util.function.*;
import java.util.stream.*;

// %% [markdown]
// ## The seed's event: `CountDownLatch(1)`
//
// A `CountDownLatch` is a count that threads can wait on until it reaches zero. Started
// at one, it is an event: `countDown()` sets it, `await` waits for it, and once open it
// stays open, so a waiter that comes late goes straight through. What the setter did
// before `countDown()` *happens-before* what a waiter does after a successful `await`:
// everything the setter wrote by then is visible to the waiter.
//
// The seed's demo: three waiters say they wait; a setter sleeps two seconds (`--speed`
// scales it), prints "Setting event" and sets the event; each waiter says it received
// it, in an order that can change from run to run. `Waiters.start`, the lesson's one
// waiter, waits with a timeout (every wait here has one) and says whether the event came.

// %%
class Waiters {
    interface Wait { boolean await() throws InterruptedException; }  // true: it came

    /** The seed's waiter: says it waits, waits, says what came; counts the events. */
    static Thread start(String name, Wait wait, AtomicInteger received) {
        return Thread.ofPlatform().name(name).start(() -> {
            System.out.println(name + " waiting for event");
            try {
                if (wait.await()) {
                    received.incrementAndGet();
                    System.out.println(name + " received event!");
                } else {
                    System.out.println(name + " gave up: the time ran out");
                }
            } catch (InterruptedException e) {  // the thread ends here
                System.out.println(name + " interrupted: it never received the event");
            }
        });
    }

    static void joinAll(List<Thread> threads, long millis) throws InterruptedException {
        for (Thread t : threads) {
            t.join(2 * millis);  // twice the waiters' patience: they give up first
            if (t.isAlive()) throw new IllegalStateException(t.getName() + " is stuck");
        }
    }

    /** Polls until done; after millis, interrupts and joins the threads, and throws. */
    static void until(String what, BooleanSupplier done, long millis,
            List<Thread> threads) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                threads.forEach(Thread::interrupt);
                joinAll(threads, millis);
                throw new IllegalStateException(what + "?");
            }
            Thread.yield();
        }
    }

    static void pause(long millis) {  // pacing, or the seed's sleep: never a handshake
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

// %%
class SeedEvent {
    /** Three waiters, a setter after delayMillis; returns how many received the event. */
    static int run(long delayMillis) throws InterruptedException {
        var event = new CountDownLatch(1);
        long patience = delayMillis + 10_000;  // outlasts the sleep, at any speed
        var received = new AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < 3; i++) {
            threads.add(Waiters.start("Waiter-" + i,
                    () -> event.await(patience, TimeUnit.MILLISECONDS), received));
        }
        threads.add(Thread.ofPlatform().name("setter").start(() -> {
            Waiters.pause(delayMillis);
            System.out.println("Setting event");
            event.countDown();  // 1 -> 0: open, for good
        }));
        Waiters.joinAll(threads, patience);
        return received.get();
    }
}

// %% [run]
// int received = SeedEvent.run(2_000);

// %% [markdown]
// ## An event you can clear: `FlagEvent`
//
// A latch is one-shot: it cannot be closed again. Python's `Event` can be cleared and
// set again. A bare `notifyAll()` is no such event: it wakes the threads waiting at that
// instant, remembers nothing, and a waiter that comes a moment later waits for a signal
// long gone (lesson `wait_notify` shows it). So keep the state yourself: a flag, under a
// `ReentrantLock`, and *park* on a `Condition` of that lock (wait there, off the CPU,
// until a signal or the timeout). Three things make it correct:
//
// 1. **State, not only a signal.** `set()` raises the flag and leaves it up; a waiter
//    that comes late finds it up and never parks. `signalAll()` wakes every waiter.
// 2. **Check and park under one lock.** `await` holds the lock from its check until
//    `awaitNanos` parks the thread and releases the lock, atomically: `set()` needs the
//    lock, so it cannot fall between the check and the park.
// 3. **Look again after every wake-up, in a `while`.** A return from `awaitNanos`
//    proves nothing: the `Condition` contract allows spurious wake-ups (lesson
//    `wait_notify` shows what an `if` costs). The waiter returns `true` if the flag is
//    up, or if `sets`, the number of `set()` calls, moved since it came: then a `set()`
//    happened while it was parked, even if a `clear()` has lowered the flag again.
//    Otherwise it parks for the time still left (`awaitNanos` returns it), or returns
//    `false` when none is left.
//
// A flag under `synchronized`, with `wait` and `notifyAll` in the same loop, is as
// correct; a `Condition` adds a wait that reports the time left, and several per lock.

// %%
class FlagEvent {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean flag;  // guarded by lock: the state a bare notifyAll() lacks
    private long sets;     // guarded by lock: how many times set() ran

    void set() {
        lock.lock();
        try {
            flag = true;
            sets++;
            changed.signalAll();  // every waiter, not one
        } finally {
            lock.unlock();
        }
    }

    void clear() {
        lock.lock();
        try {
            flag = false;
        } finally {
            lock.unlock();
        }
    }

    /** True if the flag is up or a set() comes while it waits; false if time runs out. */
    boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        long left = unit.toNanos(timeout);
        lock.lock();
        try {
            long seen = sets;  // a set() after this releases the waiter, cleared or not
            while (!flag && sets == seen) {  // a loop: check again after every wake-up
                if (left <= 0) return false;
                left = changed.awaitNanos(left);  // parks, lock released; the time left
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    int waiting() {  // for the demo and the tests
        lock.lock();
        try {
            return lock.getWaitQueueLength(changed);
        } finally {
            lock.unlock();
        }
    }
}

// %% [markdown]
// ## `FlagEvent` at work: a timeout, a late waiter, `clear()`
//
// Nobody sets the event at first, so `await` returns `false` when its time is up: read
// that result, it alone says whether the event came. `Waiter-0` parks, and `set()` wakes
// it. `Waiter-1` comes after the `set()`, where a bare `notifyAll()` would strand it, and
// goes straight through: the flag is still up. `clear()` lowers it, and the next `await`
// times out: the event is re-armed. The indented lines come from the demo's thread
// (`main` in the script, the kernel's own thread in the notebook). The lines come in this
// order on every run: that thread waits for each step to finish before the next.
//
// @diagram event-flag

// %%
class FlagEventDemo {
    /** A timeout, a parked waiter, a late one, a clear(); returns how many received. */
    static int show(long pauseMillis) throws InterruptedException {
        var event = new FlagEvent();
        var ms = TimeUnit.MILLISECONDS;
        long patience = 10_000 + 10 * pauseMillis;  // outlasts every pause, at any speed
        Waiters.Wait wait = () -> event.await(patience, ms);
        var received = new AtomicInteger();
        System.out.printf("  nobody set it; await(%d ms) returns %b%n",
                pauseMillis, event.await(pauseMillis, ms));
        Thread early = Waiters.start("Waiter-0", wait, received);
        Waiters.until("Waiter-0 parks", () -> event.waiting() == 1, patience,
                List.of(early));
        Waiters.pause(pauseMillis);
        System.out.println("  set() raises the flag; signalAll() wakes Waiter-0");
        event.set();
        Waiters.joinAll(List.of(early), patience);
        Waiters.pause(pauseMillis);
        System.out.println("  Waiter-1 comes after the set(); the flag is up");
        Waiters.joinAll(List.of(Waiters.start("Waiter-1", wait, received)), patience);
        event.clear();
        System.out.printf("  clear(); await(%d ms) returns %b%n", pauseMillis,
                event.await(pauseMillis, ms));
        return received.get();
    }
}

// %% [run]
// int flagReceived = FlagEventDemo.show(500);

// %% [markdown]
// ## `set()` then `clear()` at once: every parked waiter goes
//
// Three waiters park. The demo's thread calls `set()` and at once `clear()`. Each woken
// waiter needs the lock back before it can return, and `clear()` usually gets it first:
// the waiter finds the flag down again. But `sets` has moved since it came, so it
// returns `true`: all three receive the event, in an order that can change, as with
// Python's `Event`, whose `wait` returns `True` to every thread waiting at the `set()`.
// The flag itself is down, so a thread that calls `await` afterwards waits.
//
// @diagram event-pulse

// %%
class Pulse {
    /** Three waiters park; set() then clear(); returns how many received the event. */
    static int show(long pauseMillis) throws InterruptedException {
        var event = new FlagEvent();
        var ms = TimeUnit.MILLISECONDS;
        long patience = 10_000 + 10 * pauseMillis;  // outlasts every pause, at any speed
        var received = new AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < 3; i++) {
            threads.add(Waiters.start("Waiter-" + i, () -> event.await(patience, ms),
                    received));
        }
        Waiters.until("all three park", () -> event.waiting() == 3, patience, threads);
        Waiters.pause(pauseMillis);
        System.out.println("  all three parked; set(), then at once clear()");
        event.set();
        event.clear();
        Waiters.joinAll(threads, patience);
        System.out.printf("  %d of 3 received it; the flag is down: await(%d ms) returns"
                + " %b%n", received.get(), pauseMillis, event.await(pauseMillis, ms));
        return received.get();
    }
}

// %% [run]
// int pulsed = Pulse.show(500);

// %% [markdown]
// Without `sets` (a `while (!flag)` alone), a waiter that gets the lock back after
// `clear()` finds the flag down, parks again and, here, gives up when its patience runs
// out; which waiters that hits depends on the scheduler. That design is not wrong in
// itself, but it is not Python's `Event`: an event class should say which one it is.
//
// ## Which one to use
//
// | you need | use |
// |---|---|
// | one "go" that never closes again | `CountDownLatch(1)` |
// | to wait until n things have happened | `CountDownLatch(n)` |
// | the "go" to carry a value or an error | `CompletableFuture<T>` (`thread_exceptions`) |
// | set, clear, set again (a pause switch) | `FlagEvent`: a flag, a count, a lock, a `Condition` |
// | threads that wait for each other, round by round | `CyclicBarrier`, `Phaser` |
//
// ## Pitfalls
//
// - **A signal is not a state.** `notifyAll` and `signalAll` wake only the threads
//   waiting at that moment: what a waiter waits *for* must live in a field, read and
//   written under the lock, checked in a loop (lesson `wait_notify`).
// - **Hold the lock.** `wait` or `notify` without the object's monitor, and `await` or
//   `signal` on a `ReentrantLock`'s `Condition` without that lock, throw
//   `IllegalMonitorStateException`.
// - **Give up some day, and read the answer.** A wait without a timeout hangs for good
//   if the setter dies first. A timed `await` returns `false` when the time ran out:
//   the code after it must not act as if the event came.
// - **A pulse:** `set()`, then at once `clear()`. `FlagEvent`, like Python, releases
//   every thread waiting at the `set()`. An event that re-checks only its flag releases
//   only those that get the lock back before `clear()` does, often none.
// - **Interrupts.** `await` throws `InterruptedException` if the waiter is interrupted:
//   pass it on, or end the thread, or set the interrupt status again with
//   `Thread.currentThread().interrupt()`.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `event = threading.Event()` | `new CountDownLatch(1)` (one-shot), `new FlagEvent()` |
// | `event.set()` | `latch.countDown()`, `event.set()` |
// | `event.wait()` | `latch.await()`: it throws `InterruptedException` |
// | `event.wait(2.0)`, `False` on timeout | `latch.await(2, TimeUnit.SECONDS)`, `false` |
// | `event.is_set()` | `latch.getCount() == 0`, `event.await(0, unit)` |
// | `event.clear()` | (a latch cannot), `event.clear()` |
//
// CPython's `Event` is itself a flag and a `Condition` on a lock. Its `wait` checks the
// flag once, then waits once: a notification means "set". `FlagEvent` gets the same
// answer from `sets` and can loop, which `Condition.await` needs.
//
// ## Try it
//
// - Run `jbang event seed` a few times: the three `received event!` lines change order,
//   but always come after `Setting event`.
// - In `SeedEvent.run`, call `event.countDown()` right after creating the latch: every
//   waiter prints `received event!` at once, before `Setting event`: the latch remembers.
// - In `FlagEvent.await`, delete `&& sets == seen` and run `jbang event pulse` a few
//   times: in most runs the waiters park again, give up when their patience (over ten
//   seconds) runs out, and the last line says `0 of 3 received it`.
//
// ## Summary
//
// An event needs state, not only a signal: use `CountDownLatch(1)` for a one-shot "go",
// and for one you can clear, a flag under a lock, awaited on a `Condition` in a loop.
//
// A bare `notifyAll()` wakes only the threads already waiting: a late waiter misses it.
// Check and park under one lock, re-check after every wake-up, count the `set()` calls
// if a `clear()` may follow at once, wait with a timeout, and treat `false` as "the
// event did not come".

// %% [main]
class event {  // the entry point, script only: `jbang event --help`
    static final Section[] SECTIONS = {
            new Section("seed", "the seed: 3 waiters, a setter, a CountDownLatch(1)",
                    speed -> SeedEvent.run(Math.round(2_000 / speed))),
            new Section("flag", "FlagEvent: a timeout, a late waiter, clear() re-arms",
                    speed -> FlagEventDemo.show(Math.round(500 / speed))),
            new Section("pulse", "set() then clear() at once: every parked waiter goes",
                    speed -> Pulse.show(Math.round(500 / speed)))};
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
