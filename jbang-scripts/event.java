///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Event: one thread says "go", every waiting thread wakes up
//
// Three threads wait until a fourth says "go": the configuration is loaded, the server
// listens, the race starts. Python has `threading.Event` for this; Java has no class of
// that name, and the event most people write first, a bare `notifyAll()`, strands any
// thread that starts waiting too late.
//
// **You will learn**
// - `CountDownLatch(1)`: the JDK's one-shot event, and why a late waiter gets through
// - why `notifyAll()` with no flag behind it loses the signal for a late waiter
// - to build a re-armable event (`set`, `clear`, `await`) on a `Lock` and a `Condition`
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
// before `countDown()` *happens-before* what a waiter does after a successful `await`.
//
// The seed's demo: three waiters say they wait; a setter sleeps two seconds (`--speed`
// scales it), prints "Setting event" and sets the event; each waiter says it received
// it, in an order that changes from run to run. `Waiters.start`, the lesson's one waiter,
// waits with a timeout (every wait here has one) and says whether the event came.

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

    static void pause(long millis) {  // pacing, or the seed's sleep: never a handshake
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

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
// ## The event most people write first: `notifyAll()` and nothing else
//
// Inside `synchronized (x)`, `x.wait()` parks a thread and `x.notifyAll()` wakes every
// thread parked there. So the first idea is an event with no field at all: `await`
// calls `wait()`, `set` calls `notifyAll()`. But a notification is not a state: it wakes
// the threads inside `wait()` at that instant, and nothing remembers it. A waiter that
// starts late, or is only scheduled late, waits for a signal that has come and gone.
// And `wait()` returns nothing, so a waiter cannot tell a notification from a timeout
// or a *spurious wake-up* (a return with no notification, which `Object.wait` allows).
// The counter `waiting` is no part of the event: the replay reads it.

// %%
class NotifyEvent {  // BROKEN: a notifyAll() with no flag behind it
    private int waiting;  // threads inside wait(), for the replay: not the event's state

    synchronized void set() { notifyAll(); }  // wakes the threads waiting now; no others

    /** Returns after a notifyAll(), a timeout or a spurious wake-up: it cannot tell. */
    synchronized void await(long millis) throws InterruptedException {
        waiting++;
        try {
            wait(millis);  // releases the monitor while parked
        } finally {
            waiting--;
        }
    }

    synchronized int waiting() { return waiting; }
}

// %% [markdown]
// ## A missed signal, forced
//
// `Waiter-0` and `Waiter-1` start and wait. The demo's thread (`main` in the script, the
// kernel's thread in the notebook; its lines are indented) watches `waiting()` until
// both are inside `wait()`, then calls `set()`: both wake. Only then does `Waiter-2`
// start, as a slow thread would, and it waits for a `notifyAll()` that is over. Nothing
// will wake it: a real program hangs, or times out although the event did happen. Here
// `main` interrupts it, to end the demo. The order is forced, so every run loses the
// signal; only the first two waiters' lines may swap. The waiters' `Wait` returns `true`
// after any wake-up: `wait()` gives it nothing else to go on.
//
// @diagram event-missed-signal

// %%
class MissedSignal {
    /** Two waiters wait, set(), then a third comes; returns how many missed the event. */
    static int replay(long pauseMillis) throws InterruptedException {
        var event = new NotifyEvent();
        long patience = 10_000 + 10 * pauseMillis;  // outlasts every pause, at any speed
        Waiters.Wait wait = () -> {
            event.await(patience);
            return true;  // wait() says nothing: any wake-up is taken for the event
        };
        var received = new AtomicInteger();
        var early = List.of(Waiters.start("Waiter-0", wait, received),
                Waiters.start("Waiter-1", wait, received));
        until("Waiter-0 and Waiter-1 wait", () -> event.waiting() == 2);
        Waiters.pause(pauseMillis);
        System.out.println("  both are in wait(); set() calls notifyAll()");
        event.set();
        Waiters.joinAll(early, patience);
        Waiters.pause(pauseMillis);
        Thread late = Waiters.start("Waiter-2", wait, received);  // after the set()
        until("Waiter-2 waits", () -> event.waiting() == 1);
        System.out.println("  Waiter-2 is in wait(), after the only notifyAll()");
        Waiters.pause(2 * pauseMillis);  // nothing wakes it
        System.out.println("  nothing woke it; interrupting it to end the demo");
        late.interrupt();
        Waiters.joinAll(List.of(late), patience);
        System.out.printf("%d of 3 waiters received the event%n", received.get());
        return 3 - received.get();
    }

    static void until(String what, BooleanSupplier done) {  // polls, for at most 10 s
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new IllegalStateException(what + "?");
            Thread.yield();
        }
    }
}

// %% [run]
// int missed = MissedSignal.replay(400);

// %% [markdown]
// ## The fix that can be cleared: `FlagEvent`
//
// A latch is one-shot: it cannot be closed again. Python's `Event` can be cleared and
// set again. For that, keep the flag yourself, under a `ReentrantLock`, and park on a
// `Condition` of that lock. Three things make it correct:
//
// 1. **State, not only a signal.** `set()` raises the flag and leaves it up; a waiter
//    that comes late finds it up and never parks. `signalAll()` wakes every waiter.
// 2. **Check and park under one lock.** `await` holds the lock from its check until
//    `awaitNanos` parks the thread and releases the lock, atomically: `set()` needs the
//    lock, so it cannot fall between the check and the park.
// 3. **A `while`, not an `if`.** Coming back from `awaitNanos` means "look again": the
//    `Condition` contract allows spurious wake-ups, and `clear()` may run before a woken
//    waiter has the lock back. So it checks the flag again and parks for the time still
//    left (`awaitNanos` returns it), or returns `false` when none is left.
//
// A flag under `synchronized`, with `wait` and `notifyAll` in the same loop, is as
// correct; a `Condition` adds a wait that reports the time left, and several per lock.
// (Not `Event`: on a disk that ignores case it would clash with the entry point `event`.)

// %%
class FlagEvent {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean flag;  // guarded by lock: the memory NotifyEvent lacks

    void set() {
        lock.lock();
        try {
            flag = true;
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

    /** True once set (at once if it is); false if the time runs out first. */
    boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        long left = unit.toNanos(timeout);
        lock.lock();
        try {
            while (!flag) {  // a loop: check again after every wake-up
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
// it. `Waiter-1` comes after the `set()`, where `Waiter-2` was stranded above, and goes
// straight through: the flag is still up. `clear()` lowers it, and the next `await`
// times out: the event is re-armed. The lines come in this order on every run: the
// demo's thread waits for each step to finish before it starts the next.
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
        MissedSignal.until("Waiter-0 parks", () -> event.waiting() == 1);
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
// int flagReceived = FlagEventDemo.show(400);

// %% [markdown]
// ## Which one to use
//
// | you need | use |
// |---|---|
// | one "go" that never closes again | `CountDownLatch(1)` |
// | to wait until n things have happened | `CountDownLatch(n)` |
// | the "go" to carry a value or an error | `CompletableFuture<T>` (`thread_pool`) |
// | set, clear, set again (a pause switch) | `FlagEvent`: a flag, a lock, a `Condition` |
// | threads that wait for each other, round by round | `CyclicBarrier`, `Phaser` |
//
// ## Pitfalls
//
// - **A signal is not a state.** `notifyAll` and `signalAll` wake only the threads
//   waiting at that moment (`notify` and `signal`: only one of them). What a waiter
//   waits *for* must live in a field, read and written under the lock, checked in a loop.
// - **Hold the lock.** `wait` or `notify` without the object's monitor, and `await` or
//   `signal` without the condition's lock, throw `IllegalMonitorStateException`.
// - **Give up some day, and read the answer.** A wait without a timeout hangs for good
//   if the setter dies first. A timed `await` returns `false` when the time ran out:
//   the code after it must not act as if the event came.
// - **A pulse is not an event.** `set()` at once followed by `clear()` releases only the
//   waiters that get the lock back before `clear()` does, possibly none: the others
//   find the flag down and park again. (Python's `wait` checks its flag once, with an
//   `if`, and returns `True` to every thread notified by the `set()`.)
// - **Interrupts.** `await` throws `InterruptedException` if the waiter is interrupted:
//   pass it on, or end the thread, or restore the flag with `interrupt()`.
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
// CPython's `Event` is itself a flag and a `Condition` on a lock, like `FlagEvent`.
//
// ## Try it
//
// - Run `jbang event seed` a few times: the three `received event!` lines change order,
//   but always come after `Setting event`.
// - In `SeedEvent.run`, call `event.countDown()` right after creating the latch: every
//   waiter prints `received event!` at once, before `Setting event`: the latch remembers.
// - In `FlagEventDemo.show`, move `event.clear()` up, before `Waiter-1` starts: now
//   `Waiter-1` parks, and when its patience (over ten seconds) runs out, it gives up.
//
// ## Summary
//
// An event needs state, not only a signal: use `CountDownLatch(1)` for a one-shot "go",
// and for one you can clear, a flag under a lock, awaited on a `Condition` in a loop.
//
// A bare `notifyAll()` wakes only the threads already waiting: a late waiter misses it
// and hangs. Check and park under one lock, re-check after every wake-up, wait with a
// timeout, and treat `false` as "the event did not come".

// %% [main]
class event {  // the entry point, script only: `jbang event --help`
    static final Section[] SECTIONS = {
            new Section("seed", "the seed: 3 waiters, a setter, a CountDownLatch(1)",
                    speed -> SeedEvent.run(Math.round(2_000 / speed))),
            new Section("missed", "notifyAll() with no flag: a late waiter is stranded",
                    speed -> MissedSignal.replay(Math.round(500 / speed))),
            new Section("flag", "FlagEvent: a timeout, a late waiter, clear() re-arms",
                    speed -> FlagEventDemo.show(Math.round(500 / speed)))};
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
