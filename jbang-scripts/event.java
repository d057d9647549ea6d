///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Event: one thread says "go", every waiting thread wakes up
//
// Some threads cannot start until something has happened: the configuration is loaded,
// the server is listening, the user pressed start. They should sleep, not spin, and
// the moment one thread announces "it happened", all of them must wake, including the
// ones that were slow to arrive. Python has `threading.Event` for this; Java has no
// class of that name. This lesson first builds the event most people write on a first
// try, a bare `Condition` that is signalled but remembers nothing, and makes it lose a
// signal, first by chance and then on purpose. Then it fixes it twice: with
// `CountDownLatch(1)`, the JDK's one-shot event, and with `FlagEvent`, a small
// re-armable event with Python's semantics on a `ReentrantLock` and a `Condition`. It
// ends on why that class waits in a `while` loop, not behind an `if`.
//
// Run it: `jbang event` from the repository root, `jbang jbang-scripts/event.java`,
// or with a bare JDK 25, `java jbang-scripts/event.java`. Try `--help`.

// %%
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

// %% [markdown]
// ## What every event here can do
//
// Each variant below can be `set()` by one thread and awaited by others, with a
// timeout: `await` returns `true` when the event was set and `false` when the time ran
// out. One interface lets the same harness drive them all.

// %%
interface EventGate {
    void set();
    boolean await(long timeout, TimeUnit unit) throws InterruptedException;
}

// %% [markdown]
// ## The naive event: a condition with no memory
//
// A `Condition` lets threads park until another thread signals it, so the first idea
// is to use nothing else: `await` parks on the condition, `set` calls `signalAll()`.
// But a signal is not a state. It wakes the threads that are parked *at that instant*
// and is then forgotten: a thread that reaches `await` a moment after `set()` parks
// and waits for a signal that has already come and gone. The seam before the wait
// does nothing in normal use; the replay below uses it to hold one waiter in exactly
// that gap. `waiting()` counts the threads parked on the condition, so the replay and
// the tests can tell "parked" from "on its way" without guessing with sleeps.

// %%
class SignalOnlyEvent implements EventGate {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition signalled = lock.newCondition();
    private final Runnable beforeWait;  // a seam to force a late arrival; no-op normally

    SignalOnlyEvent() { this(() -> { }); }
    SignalOnlyEvent(Runnable beforeWait) { this.beforeWait = beforeWait; }

    public void set() {
        lock.lock();
        try {
            signalled.signalAll();  // wakes whoever is parked now, remembers nothing
        } finally {
            lock.unlock();
        }
    }

    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        beforeWait.run();  // (set() may run here, and then nobody will wake us)
        lock.lock();
        try {
            return signalled.await(timeout, unit);  // false: the time ran out
        } finally {
            lock.unlock();
        }
    }

    int waiting() {
        lock.lock();
        try {
            return lock.getWaitQueueLength(signalled);
        } finally {
            lock.unlock();
        }
    }
}

// %% [markdown]
// ## Measuring the damage
//
// The harness starts some waiters and calls `set()` straight away, the way a real
// program does when the thing it waits for happens to be quick. Then it waits until
// every waiter has either come back or parked after the signal, where nothing will
// ever wake it, and counts those; a second `set()` wakes them so that the run can end.
// (Counting with timeouts instead would be at the mercy of the machine's load.)
// The same class holds the seed's own demo, `seedRun`, used by the fixes below, and
// the few waiting helpers the whole lesson shares: every wait has a deadline, and a
// missed deadline is an `IllegalStateException` that says what never happened.

// %%
class EventRace {
    static final Duration LONG = Duration.ofSeconds(10);

    /** Starts the waiters, sets the event at once, returns how many it left parked. */
    static int setAtOnce(EventGate event, int waiters) throws InterruptedException {
        var returned = new AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < waiters; i++) {
            threads.add(Thread.ofPlatform().name("waiter-" + i).start(() -> {
                try {
                    if (event.await(LONG.toMillis(), TimeUnit.MILLISECONDS)) {
                        returned.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        event.set();  // no head start: some waiters may not be waiting yet
        // Only an event without state can strand a waiter: one that parks after set()
        // stays parked. Any other waiter must come back on its own (or `until` fails).
        IntSupplier stranded = event instanceof SignalOnlyEvent s ? s::waiting : () -> 0;
        until("every waiter back or parked for good",
                () -> returned.get() + stranded.getAsInt() == waiters);
        int missed = waiters - returned.get();  // not back yet: parked for good
        if (missed > 0) event.set();  // a second signal, to wake the stranded ones
        joinAll(threads);
        return missed;
    }

    static void missedSignals(int waiters, int runs) throws InterruptedException {
        System.out.printf("%d waiters, set() right after starting them%n", waiters);
        int runsThatMissed = 0;
        for (int run = 1; run <= runs; run++) {
            int missed = setAtOnce(new SignalOnlyEvent(), waiters);
            if (missed > 0) runsThatMissed++;
            System.out.printf("  run %d: %d of %d waiters missed the signal%n",
                    run, missed, waiters);
        }
        System.out.printf("  %d of %d runs lost a signal%n", runsThatMissed, runs);
    }

    /** The seed: waiters print, a setter sets after a delay, every waiter must wake. */
    static int seedRun(EventGate event, int waiters, long delayMillis)
            throws InterruptedException {
        var received = new AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < waiters; i++) {
            String name = "waiter-" + i;
            threads.add(Thread.ofPlatform().name(name).start(() -> {
                System.out.println(name + " waiting");
                try {
                    if (!event.await(LONG.toMillis(), TimeUnit.MILLISECONDS)) {
                        throw new IllegalStateException(name + ": never set");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                received.incrementAndGet();
                System.out.println(name + " received");
            }));
        }
        threads.add(Thread.ofPlatform().name("setter").start(() -> {
            pause(delayMillis);
            System.out.println("setter: set()");
            event.set();
        }));
        joinAll(threads);
        System.out.printf("%d of %d waiters received the event; a late await(0 ms): %b%n",
                received.get(), waiters, event.await(0, TimeUnit.MILLISECONDS));
        return received.get();
    }

    static void joinAll(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            if (!t.join(LONG)) {
                throw new IllegalStateException(t.getName() + " runs on after " + LONG);
            }
        }
    }

    /** Polls until {@code done} holds: replays use it to see a thread parked. */
    static void until(String what, BooleanSupplier done) {
        long deadline = System.nanoTime() + LONG.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("stuck: " + what + " never happened");
            }
            Thread.yield();
        }
    }

    static void open(CountDownLatch latch, String what) {
        try {
            if (!latch.await(LONG.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("stuck: " + what + " never happened");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);  // pacing, or the seed's delay: never a handshake
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

// %% [markdown]
// Each run below starts three waiters and sets the event at once. How many miss the
// signal depends on how far each thread got before `set()` ran, so the counts change
// from run to run and machine to machine, and a run may miss nothing at all. In a real
// program there is no second `set()`: a waiter that missed the first hangs forever.

// %% [run]
// EventRace.missedSignals(3, 5);

// %% [markdown]
// ## A missed signal in slow motion
//
// Counting shows *that* signals get lost; this replay shows *how*, and it loses one
// every time. `waiter-0` and `waiter-1` park on the condition (the replay watches
// `waiting()` to be sure). `waiter-2` has started and is about to wait, but the seam
// holds it there. The setter calls `set()`: `signalAll()` wakes the two parked
// threads. Only then does `waiter-2` park, and nothing will ever signal it again: it
// gives up when its timeout runs out. The results are printed by the main thread after
// joining, so their order is fixed; `--speed` changes only the pauses for the audience.
//
// @diagram event-missed-signal

// %%
class MissedSignalReplay {
    /** Two waiters park in time, one comes just after set(); returns how many missed. */
    static int replay(long pauseMillis, long timeoutMillis) throws InterruptedException {
        var lateIsOnItsWay = new CountDownLatch(1);
        var setIsOver = new CountDownLatch(1);
        var event = new SignalOnlyEvent(() -> {
            if (Thread.currentThread().getName().equals("waiter-2")) {
                lateIsOnItsWay.countDown();
                EventRace.open(setIsOver, "set()");  // held before it parks
            }
        });
        var received = new boolean[3];
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < 3; i++) {
            int me = i;
            long timeout = i < 2 ? EventRace.LONG.toMillis() : timeoutMillis;
            threads.add(Thread.ofPlatform().name("waiter-" + i).start(() -> {
                try {
                    received[me] = event.await(timeout, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            if (i < 2) {
                EventRace.until("waiter-" + me + " parks", () -> event.waiting() > me);
                step(pauseMillis, "waiter-" + i + " is parked on the condition");
            }
        }
        EventRace.open(lateIsOnItsWay, "waiter-2 on its way");
        step(pauseMillis, "waiter-2 has started, is about to wait, is not parked yet");
        step(pauseMillis, "setter: set() = signalAll(), with " + event.waiting()
                + " threads parked");
        event.set();
        setIsOver.countDown();
        EventRace.until("waiter-2 parked", () -> event.waiting() == 1);
        step(pauseMillis, "waiter-2 parks now, after the signal: nobody will wake it");
        EventRace.joinAll(threads);
        int missed = 0;
        for (int i = 0; i < 3; i++) {
            if (!received[i]) missed++;
            System.out.println("  waiter-" + i + (received[i] ? " received the event"
                    : " gave up after " + timeoutMillis + " ms: it missed the signal"));
        }
        System.out.printf("released %d of 3, missed %d%n", 3 - missed, missed);
        return missed;
    }

    private static void step(long pauseMillis, String what) {
        System.out.println("  " + what);
        EventRace.pause(pauseMillis);
    }
}

// %% [run]
// int missedInReplay = MissedSignalReplay.replay(250, 100);

// %% [markdown]
// ## Fix 1: `CountDownLatch(1)`, the one-shot event
//
// The cure for a forgotten signal is state that stays. A `CountDownLatch` is a counter
// that threads can wait on until it reaches zero; started at one, it is an event:
// `countDown()` sets it, `await` waits for it, and once open it stays open, so a waiter
// that comes late walks straight through. It is in the JDK, thoroughly tested, and the
// first thing to reach for. Here it is behind the lesson's interface (three lines of
// adapter), running the seed's demo: three waiters print "waiting", a setter sets the
// event after a delay (two seconds in the seed, 0.4 s here, shortened further
// by `--speed`), and every waiter prints "received". The waiters run side by side, so
// the order of their lines varies from run to run.
//
// What it costs: it is one-shot. There is no way to close it again; another round
// needs a new latch, and every waiter must be told about the new one.

// %%
class LatchEvent implements EventGate {
    private final CountDownLatch latch = new CountDownLatch(1);

    public void set() { latch.countDown(); }  // 1 -> 0 once; later calls do nothing
    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        return latch.await(timeout, unit);  // false: the time ran out
    }
    boolean isSet() { return latch.getCount() == 0; }
}

// %% [run]
// int latchReceived = EventRace.seedRun(new LatchEvent(), 3, 400);

// %% [markdown]
// ## Fix 2: `FlagEvent`, a re-armable event on a lock and a condition
//
// Python's `Event` can be cleared and set again, a latch cannot. To get that, keep the
// flag yourself, under a `ReentrantLock`, and park on a `Condition` of that lock. (We
// call it `FlagEvent`, after the flag the naive event lacked; a class `Event` would
// collide with this script's main class `event` on case-insensitive file systems.)
// Three things make it correct:
//
// 1. **The flag.** `set()` raises it under the lock, `await` reads it under the same
//    lock. A waiter that comes late sees it raised and never parks.
// 2. **Check and park as one step.** `await` holds the lock from the check until
//    `Condition.await` parks the thread, which releases the lock atomically. `set()`
//    needs that lock, so it cannot slip into the gap where `SignalOnlyEvent` lost its
//    signal.
// 3. **A `while`, not an `if`.** Coming back from `Condition.await` means "something
//    may have changed", not "the event is set". The `Condition` contract allows a
//    waiter to return with no signal at all (a *spurious wake-up*), and a woken waiter
//    must queue for the lock again before it runs, by which time `clear()` may have
//    run. So it checks again, with the lock held, and parks again if it must.
//
// What does the loop check? `while (!flag)` is the textbook answer, but then `set()`
// followed at once by `clear()` wakes the waiters only to send them back to sleep;
// Python's `wait()` releases every thread that was waiting when `set()` ran. So
// `FlagEvent` counts the `set()` calls, and a waiter stops when the flag is up *or*
// the count has moved since it arrived. `waiting()` and `wakeSpuriously()` are there
// for this lesson's demos and tests.
//
// @diagram event-signal-all

// %%
class FlagEvent implements EventGate {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean flag;  // guarded by lock: the memory SignalOnlyEvent lacks
    private long sets;     // guarded by lock: how many times set() raised the flag

    public void set() {
        lock.lock();
        try {
            if (!flag) {
                flag = true;
                sets++;
                changed.signalAll();  // all waiters, not one: signal() would wake one
            }
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

    boolean isSet() {
        lock.lock();
        try {
            return flag;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until set; returns true, as Python's wait() without a timeout does. */
    boolean await() throws InterruptedException {
        lock.lock();
        try {
            long seen = sets;
            while (!flag && sets == seen) changed.await();  // while: re-check on waking
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** True if set before or during the wait, false if the time ran out first. */
    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        long left = unit.toNanos(timeout);
        lock.lock();
        try {
            long seen = sets;
            while (!flag && sets == seen) {
                if (left <= 0) return false;
                left = changed.awaitNanos(left);  // the time still left
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    int waiting() {
        lock.lock();
        try {
            return lock.getWaitQueueLength(changed);
        } finally {
            lock.unlock();
        }
    }

    /** Wakes the waiters without setting: what a spurious wake-up does. */
    void wakeSpuriously() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}

// %% [markdown]
// The seed's demo again, now with `FlagEvent`: the same three waiters, one setter, and
// again the waiters' lines come in a different order each run.

// %% [run]
// int flagReceived = EventRace.seedRun(new FlagEvent(), 3, 400);

// %% [markdown]
// What a latch cannot do. With nobody setting it, `await` with a timeout returns
// `false` when the time is up; once set, it returns `true` without waiting; `clear()`
// closes it again, and a new waiter parks until the next `set()`. Then the pulse:
// three waiters are parked, and one thread calls `set()` and `clear()` back to back.
// All three still go, as in Python, and the event is closed behind them.

// %%
class FlagEventDemo {
    static void timeoutAndRearm(long timeoutMillis) throws InterruptedException {
        var event = new FlagEvent();
        var ms = TimeUnit.MILLISECONDS;
        System.out.printf("nobody sets it:  await(%d ms) returns %b%n",
                timeoutMillis, event.await(timeoutMillis, ms));
        event.set();
        System.out.printf("after set():     isSet() %b, await(0 ms) returns %b%n",
                event.isSet(), event.await(0, ms));
        event.clear();
        System.out.printf("after clear():   isSet() %b, await(%d ms) returns %b%n",
                event.isSet(), timeoutMillis, event.await(timeoutMillis, ms));
        var got = new boolean[1];
        Thread waiter = Thread.ofPlatform().name("waiter").start(() -> {
            try {
                got[0] = event.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        EventRace.until("the waiter parked", () -> event.waiting() == 1);
        System.out.println("re-armed:        a new waiter is parked, " + event.waiting()
                + " waiting");
        event.set();
        EventRace.joinAll(List.of(waiter));
        System.out.println("set() again:     the waiter's await() returned " + got[0]);
    }

    /** Waiters parked; set() then clear() at once; returns how many were released. */
    static int pulse(int waiters) throws InterruptedException {
        var event = new FlagEvent();
        var released = new AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < waiters; i++) {
            threads.add(Thread.ofPlatform().name("waiter-" + i).start(() -> {
                try {
                    if (event.await(EventRace.LONG.toMillis(), TimeUnit.MILLISECONDS)) {
                        released.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        EventRace.until("all waiters parked", () -> event.waiting() == waiters);
        event.set();
        event.clear();
        EventRace.joinAll(threads);
        System.out.printf("%d parked, then set() and clear() back to back: %d released, "
                + "isSet() %b%n", waiters, released.get(), event.isSet());
        return released.get();
    }
}

// %% [run]
// FlagEventDemo.timeoutAndRearm(100);
// int pulsed = FlagEventDemo.pulse(3);

// %% [markdown]
// ## Why `while`, not `if`
//
// Here is the event with an `if` where `FlagEvent` has its `while`. It is line for
// line how CPython writes `Event.wait`, and there it is correct: each waiter on a
// CPython `Condition` sleeps on a lock of its own that only a notify releases. A Java
// `Condition` may wake a waiter with no signal, and so may `Object.wait()` (both say so
// in their documentation); and a condition that serves several purposes wakes its
// waiters for changes that are not theirs. We cannot make the JVM wake a thread
// spuriously on demand, so `wakeSpuriously()` does what the JVM is allowed to do:
// `signalAll()` without setting anything. The `if` version takes the wake-up for a
// `set()` and lets its waiter through although the event was never set; `FlagEvent`
// checks its flag, finds it down, and parks the waiter again until the real `set()`.

// %%
class IfEvent implements EventGate {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean flag;

    public void set() {
        lock.lock();
        try {
            flag = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean isSet() {
        lock.lock();
        try {
            return flag;
        } finally {
            lock.unlock();
        }
    }

    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        lock.lock();
        try {
            if (!flag) return changed.await(timeout, unit);  // BROKEN: woken is not set
            return true;
        } finally {
            lock.unlock();
        }
    }

    int waiting() {
        lock.lock();
        try {
            return lock.getWaitQueueLength(changed);
        } finally {
            lock.unlock();
        }
    }

    void wakeSpuriously() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}

// %%
class SpuriousWakeUpDemo {
    /** One waiter per event, woken without a set(); returns what IfEvent's returned. */
    static boolean show() throws InterruptedException {
        var broken = new IfEvent();
        var got = new boolean[2];
        Thread first = waiter("if-waiter", broken, got, 0);
        EventRace.until("if-waiter parked", () -> broken.waiting() == 1);
        broken.wakeSpuriously();
        EventRace.joinAll(List.of(first));
        System.out.printf("IfEvent:   woken without set(): await returned %b, "
                + "isSet() %b%n", got[0], broken.isSet());

        var fixed = new FlagEvent();
        Thread second = waiter("flag-waiter", fixed, got, 1);
        EventRace.until("flag-waiter parked", () -> fixed.waiting() == 1);
        fixed.wakeSpuriously();  // moves it off the condition: waiting() is 0 now
        EventRace.until("flag-waiter parked again", () -> fixed.waiting() == 1);
        System.out.printf("FlagEvent: woken without set(): found the flag down, "
                + "parked again (%d waiting)%n", fixed.waiting());
        fixed.set();
        EventRace.joinAll(List.of(second));
        System.out.printf("FlagEvent: then set(): await returned %b%n", got[1]);
        return got[0];
    }

    private static Thread waiter(String name, EventGate event, boolean[] got, int slot) {
        return Thread.ofPlatform().name(name).start(() -> {
            try {
                got[slot] = event.await(EventRace.LONG.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}

// %% [run]
// boolean wentThrough = SpuriousWakeUpDemo.show();

// %% [markdown]
// ## All three, side by side
//
// Both experiments again, on every variant: waiters started and `set()` at once,
// counted as above; and one waiter that arrives after `set()` (in the main thread, with
// a timeout, so that the broken event gives it back). Only the event without a flag
// strands anyone; the two with state cannot, however the threads are scheduled: for
// them the harness simply waits until every waiter is back. (`IfEvent` is not in the
// table: it has a flag, so it never misses a signal; its bug is letting a waiter
// through that should have stayed.)

// %%
record EventVariant(String name, Supplier<EventGate> factory) {
    static final List<EventVariant> ALL = List.of(
            new EventVariant("signal only", SignalOnlyEvent::new),
            new EventVariant("CountDownLatch(1)", LatchEvent::new),
            new EventVariant("FlagEvent", FlagEvent::new));

    static void compare(int waiters, int runs, long timeoutMillis)
            throws InterruptedException {
        System.out.printf("%-18s %-22s %s%n", "variant",
                "set() at once: missed", "late await gets through");
        for (EventVariant v : ALL) {
            int missed = 0;
            for (int run = 0; run < runs; run++) {
                missed += EventRace.setAtOnce(v.factory().get(), waiters);
            }
            EventGate event = v.factory().get();
            event.set();
            boolean late = event.await(timeoutMillis, TimeUnit.MILLISECONDS);
            System.out.printf("%-18s %-22s %s%n", v.name(),
                    missed + " of " + runs * waiters, late ? "yes" : "no");
        }
    }
}

// %% [run]
// EventVariant.compare(3, 5, 100);

// %% [markdown]
// The signal-only count swings from run to run, as above; the zeros do not.
//
// ## Which one to use
//
// | you need | use |
// |---|---|
// | one "go" or "ready" signal that never closes again | `CountDownLatch(1)` |
// | to wait until N things have happened | `CountDownLatch(n)` |
// | the signal to carry a value or an error, or to run callbacks | `CompletableFuture<T>` |
// | set, clear and set again (a pause switch, a "connected" flag) | a flag under a lock, waited on with a `Condition` in a `while` loop (`FlagEvent`) |
// | threads that wait for each other, round after round | `CyclicBarrier`, `Phaser` |
// | to hand data from one thread to another | a `BlockingQueue` |
//
// ## Pitfalls
//
// - **A signal is not a state.** `signal()`, `signalAll()` and `notifyAll()` wake only
//   the threads parked at that moment. Whatever a waiter waits *for* must live in a
//   field, written and read under the lock.
// - **Wait in a loop.** Re-check the state after every wake-up, with the lock held:
//   the wake-up may be spurious, or the state may have changed again before the waiter
//   got the lock back. And decide what the loop checks (see the pulse above).
// - **`signalAll()` for an event.** `signal()` wakes one waiter; the others sleep on.
// - **Hold the lock.** `await` and `signal` without holding the condition's lock throw
//   `IllegalMonitorStateException`; so do `wait` and `notify` outside `synchronized`.
// - **Give up some day.** A wait without a timeout hangs forever if the setter dies
//   first. Wait with a timeout and look at the `boolean` it returns: `false` means the
//   event was not set, and the code after it must not pretend it was.
// - **Interrupts.** `await` throws `InterruptedException` when the waiting thread is
//   interrupted; pass it on, or restore the flag with
//   `Thread.currentThread().interrupt()`. (Python has no way to interrupt a thread
//   that waits on an `Event`.)
// - **A latch is for one round.** Do not "reset" one by swapping in a new latch that
//   some waiters may never see; use a re-armable event or a `Phaser`.
// - **No spinning.** `while (!ready) { }` on a plain field may never see the write and
//   burns a core meanwhile; with `Thread.sleep` in the loop it wakes late. Park instead.
//   (Parking on a `ReentrantLock` condition also frees a virtual thread's carrier.)
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `event = threading.Event()` | `var ready = new CountDownLatch(1);` (one-shot) or `new FlagEvent()` |
// | `event.set()` | `ready.countDown()` / `event.set()` |
// | `event.wait()` | `ready.await()` / `event.await()`, both throw `InterruptedException` |
// | `event.wait(2.0)` returns `False` on timeout | `ready.await(2, TimeUnit.SECONDS)` returns `false` |
// | `event.is_set()` | `ready.getCount() == 0` / `event.isSet()` |
// | `event.clear()` | (a latch cannot) / `event.clear()` |
// | `threading.Condition(lock)`, `cond.wait()`, `cond.notify_all()` | `lock.newCondition()`, `cond.await()`, `cond.signalAll()` |
// | `cond.wait_for(predicate)` | `while (!predicate) cond.await();` |
// | `time.sleep(2)` | `Thread.sleep(Duration.ofSeconds(2))` |
// | `threading.Thread(target=waiter, args=(event, name))` | `Thread.ofPlatform().name(name).start(() -> waiter(event))` |
//
// Related lessons: `barrier` (threads that wait for each other, not for one setter),
// `producer_consumer` (conditions that carry data: `BlockingQueue`), `thread_pool`
// (`Future` and `CompletableFuture`, events that carry a result), `counter`
// (`ReentrantLock` itself).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line;
// a bad option prints one line and exits with status 2.

// %%
class event {
    static final String USAGE = """
            Usage: event [options]
              --waiters N   threads waiting for the event (default 3, as in the seed)
              --runs N      measured runs of the set-at-once race (default 5)
              --speed X     delays and timeouts: 2 = twice as fast, 0.5 = half (default 1)
              --help        print this and exit""";

    record Options(int waiters, int runs, double speed) { }

    public static void main(String[] args) throws InterruptedException {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("event: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        long delay = Math.round(400 / o.speed());    // the setter's delay (seed: 2 s)
        long timeout = Math.round(100 / o.speed());  // when a waiter gives up
        long pause = Math.round(250 / o.speed());    // replay pacing, for the audience
        System.out.println("== The naive event: a condition with no memory ==");
        EventRace.missedSignals(o.waiters(), o.runs());
        System.out.println("\n== A missed signal in slow motion ==");
        MissedSignalReplay.replay(pause, timeout);
        System.out.println("\n== Fix 1: CountDownLatch(1) ==");
        EventRace.seedRun(new LatchEvent(), o.waiters(), delay);
        System.out.println("\n== Fix 2: FlagEvent ==");
        EventRace.seedRun(new FlagEvent(), o.waiters(), delay);
        System.out.println();
        FlagEventDemo.timeoutAndRearm(timeout);
        FlagEventDemo.pulse(o.waiters());
        System.out.println("\n== Why while, not if ==");
        SpuriousWakeUpDemo.show();
        System.out.println("\n== All three, side by side ==");
        EventVariant.compare(o.waiters(), o.runs(), timeout);
    }

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
                count("--waiters", given.getOrDefault("--waiters", "3")),
                count("--runs", given.getOrDefault("--runs", "5")),
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
