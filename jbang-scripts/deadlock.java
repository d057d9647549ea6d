///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Deadlock: take locks in one order, and find the deadlocks you missed
//
// A bank transfer locks two accounts. When one thread pays from account 1 to account 2
// while another pays from 2 to 1, each can take its first lock and then wait for the
// other's forever: no exception, no message, no CPU used. This lesson forces that
// deadlock, finds it with the JVM's own detector, breaks it, and makes it impossible.
//
// **You will learn**
// - how two transfers in opposite directions deadlock, and how to force it on every run
// - the fixes: one global lock order, or `tryLock` with a timeout and a random back-off
// - to find a deadlock with `ThreadMXBean.findDeadlockedThreads()`, and what it misses
// - why a deadlock in `lockInterruptibly()` can be broken, and one in `synchronized` not

// %%
import java.lang.management.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.locks.*;
import java.util.function.*;
import java.util.stream.*;

// %% [markdown]
// ## Two accounts, one transfer
//
// Each account guards its balance with its own `ReentrantLock`. `Transfer.inBoth` locks
// one account, then the other, and between the two calls a *seam*: a hook that does
// nothing in normal use, which demos and tests use to pause a thread at the worst
// moment. The naive transfer locks `from`, then `to`: the obvious code.

// %%
class Account {
    final int id;
    final ReentrantLock lock = new ReentrantLock();
    private long balance;  // guarded by lock

    Account(int id, long balance) { this.id = id; this.balance = balance; }

    long balance() { lock.lock(); try { return balance; } finally { lock.unlock(); } }

    void moveTo(Account to, long amount) {  // the caller holds both accounts' locks
        balance -= amount;
        to.balance += amount;
    }

    public String toString() { return "account " + id; }
}

interface Transfer {  // `seam` runs while the transfer holds its first lock only
    void move(Account from, Account to, long amount, Consumer<Account> seam)
            throws InterruptedException;

    static void inBoth(Account first, Account second, Consumer<Account> seam,
                       Runnable action) throws InterruptedException {
        first.lock.lockInterruptibly();
        try {
            seam.accept(first);  // another thread may lock `second` now
            second.lock.lockInterruptibly();
            try { action.run(); } finally { second.lock.unlock(); }
        } finally {
            first.lock.unlock();
        }
    }
}

class NaiveTransfer implements Transfer {  // broken: from, then to
    public void move(Account from, Account to, long amount, Consumer<Account> seam)
            throws InterruptedException {
        Transfer.inBoth(from, to, seam, () -> from.moveTo(to, amount));
    }
}

// %% [markdown]
// ## The deadly embrace, forced
//
// `pay-1-to-2` moves 10 from account 1 to account 2; `pay-2-to-1` moves 30 back. They
// deadlock only if both take their first lock before either takes its second, which
// chance rarely delivers, so latches force it: `pay-1-to-2` locks account 1 and waits
// in the seam until `pay-2-to-1` has locked account 2 and queued for account 1; then it
// asks for account 2. The demo deadlocks on every run.
//
// The notebook's kernel cannot interrupt a cell, so the demo must end by itself: it
// polls the JVM's detector (this lesson's second half) until it reports both threads,
// then interrupts one victim, as a database does. Its `lockInterruptibly()` throws
// `InterruptedException`, its `finally` unlocks account 1, and `pay-2-to-1` completes.
// The latches fix the order of the steps: only the identity hashes (`@...`) change from
// run to run. `main` in the diagram is the demo's thread (in the notebook, the kernel's).
//
// @diagram deadlock-deadly-embrace

// %%
class Stage {  // pacing for people, and the waits that force a schedule
    static void step(long pauseMillis, String what) {
        System.out.println("  " + what);
        try {
            Thread.sleep(pauseMillis);  // pacing, not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for a step that must happen; gives up (an error) after `limitMillis`. */
    static void await(CountDownLatch latch, long limitMillis) {
        try {
            if (!latch.await(limitMillis, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("no step within " + limitMillis + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a step", e);
        }
    }

    /** Polls until `done`; gives up (an error) after `limitMillis`. */
    static void poll(BooleanSupplier done, long limitMillis) throws InterruptedException {
        long deadline = System.nanoTime() + limitMillis * 1_000_000;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("timeout");
            Thread.sleep(1);  // polling
        }
    }

    static boolean pay(Transfer t, Account from, Account to, long amount,
                       Consumer<Account> seam) {
        try {
            t.move(from, to, amount, seam);
            return true;
        } catch (InterruptedException e) {
            return false;  // interrupted while waiting for a lock: moved nothing
        }
    }
}

// %%
class Detector {
    static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    /** Whether findDeadlockedThreads() reports all `threads`, each parked by now. */
    static boolean deadlocked(List<Thread> threads) {
        long[] found = MX.findDeadlockedThreads();  // null: no deadlock at all
        return found != null && threads.stream().allMatch(t -> LongStream.of(found)
                .anyMatch(id -> id == t.threadId())
                && t.getState() != Thread.State.RUNNABLE);  // not just about to park
    }

    /** Prints, for each thread, the lock it waits for and that lock's owner. */
    static void describe(List<Thread> threads, long pauseMillis) {
        System.out.println("  findDeadlockedThreads() reports:");
        long[] ids = threads.stream().mapToLong(Thread::threadId).toArray();
        for (ThreadInfo info : MX.getThreadInfo(ids)) {
            String lock = info.getLockName().replaceAll("^.*\\.", "");  // no package
            Stage.step(pauseMillis, "  %s waits for %s, owned by %s".formatted(
                    info.getThreadName(), lock, info.getLockOwnerName()));
        }
    }
}

// %%
class Embrace {
    /** Two opposite transfers, forced to hold their first locks at once; the balances. */
    static List<Long> run(Transfer transfer, long pauseMillis, boolean detect)
            throws InterruptedException {
        var one = new Account(1, 100);
        var two = new Account(2, 100);
        var aHoldsFirst = new CountDownLatch(1);
        var bIsWaiting = new CountDownLatch(1);
        long limit = 10_000 + 10 * pauseMillis;  // for steps that include paced pauses
        Set<Thread> narrated = ConcurrentHashMap.newKeySet();
        Consumer<Account> seam = held -> {
            if (!narrated.add(Thread.currentThread())) return;  // a retry runs freely
            String me = Thread.currentThread().getName();
            Stage.step(pauseMillis, me + " holds " + held);
            if (me.equals("pay-1-to-2")) {
                aHoldsFirst.countDown();
                Stage.await(bIsWaiting, limit);  // until pay-2-to-1 waits for account 1
                Stage.step(pauseMillis, me + " asks for account 2");
            }
        };
        var paid = new boolean[2];  // each worker writes its own slot; read after join
        var threads = new ArrayList<Thread>();
        try {
            threads.add(Thread.ofPlatform().name("pay-1-to-2")
                    .start(() -> paid[0] = Stage.pay(transfer, one, two, 10, seam)));
            Stage.await(aHoldsFirst, limit);
            threads.add(Thread.ofPlatform().name("pay-2-to-1")
                    .start(() -> paid[1] = Stage.pay(transfer, two, one, 30, seam)));
            Stage.poll(() -> one.lock.hasQueuedThread(threads.get(1)), limit);
            Stage.step(pauseMillis, "pay-2-to-1 waits for account 1");
            bIsWaiting.countDown();
            if (detect) {
                Stage.poll(() -> Detector.deadlocked(threads), limit);
                Detector.describe(threads, pauseMillis);
                Stage.step(pauseMillis, "interrupting pay-1-to-2, the victim");
                threads.get(0).interrupt();
            }
            for (Thread t : threads) {
                t.join(limit);
                if (t.isAlive()) throw new IllegalStateException(t.getName() + " stuck");
            }
            System.out.printf("  pay-1-to-2 %s, pay-2-to-1 %s; balances %d + %d = %d%n",
                    paid[0] ? "paid 10" : "gave up", paid[1] ? "paid 30" : "gave up",
                    one.balance(), two.balance(), one.balance() + two.balance());
            return List.of(one.balance(), two.balance());
        } finally {
            for (Thread t : threads) { t.interrupt(); t.join(limit); }  // if one is stuck
        }
    }

    static void naive(long pauseMillis) throws InterruptedException {
        run(new NaiveTransfer(), pauseMillis, true);
    }
}

// %% [run]
// Embrace.naive(400);

// %% [markdown]
// Each thread waits for a lock the other owns: a cycle. The victim moved nothing, the
// other paid, and the total is still 200: a deadlock costs liveness, not safety.
//
// ## Fix 1: one global lock order
//
// A deadlock is a cycle of threads, each waiting for a lock the next one holds. If all
// take locks in one global order (here: lower account id first, whichever way the money
// flows), a thread only waits for a lock later in the order than all it holds, and no
// cycle can close. Under the same forced schedule, `pay-2-to-1` now waits for account 1
// holding nothing, and `pay-1-to-2` takes account 2 and finishes. It costs one comparison
// at run time; it needs a total order on what you lock (a unique id), applied everywhere.
//
// @diagram deadlock-ordered-locking

// %%
class OrderedTransfer implements Transfer {  // lower id first, whichever way money flows
    public void move(Account from, Account to, long amount, Consumer<Account> seam)
            throws InterruptedException {
        Runnable action = () -> from.moveTo(to, amount);
        if (from.id < to.id) Transfer.inBoth(from, to, seam, action);
        else Transfer.inBoth(to, from, seam, action);
    }
}

// %% [markdown]
// ## Fix 2: `tryLock` with a timeout, back off, retry
//
// When no order can be agreed (locks chosen at run time, or in code you do not control),
// never wait without limit while holding a lock. `tryLock(timeout)` gives up on the
// second lock; the transfer unlocks the first too, sleeps a *random* while and retries:
// giving up breaks the cycle, and the randomness keeps two polite threads from retrying
// in lockstep forever (a livelock). Here `pay-2-to-1` asked first, so its wait usually
// ends first and `pay-1-to-2` gets account 2; whoever gives up, both transfers finish.
// The price: wasted work on collisions, and no promise of success (hence the limit).
//
// @diagram deadlock-backoff

// %%
record BackoffTransfer(long tryMillis) implements Transfer {
    public void move(Account from, Account to, long amount, Consumer<Account> seam)
            throws InterruptedException {
        for (int attempt = 1; attempt <= 1_000; attempt++) {
            if (from.lock.tryLock(tryMillis, TimeUnit.MILLISECONDS)) {
                try {
                    seam.accept(from);
                    if (to.lock.tryLock(tryMillis, TimeUnit.MILLISECONDS)) {
                        try { from.moveTo(to, amount); } finally { to.lock.unlock(); }
                        return;
                    }
                } finally {
                    from.lock.unlock();  // give up both: the other transfer can finish
                }
            }
            Thread.sleep(ThreadLocalRandom.current().nextLong(1, tryMillis + 2));
        }
        throw new IllegalStateException("no transfer after 1,000 attempts");
    }
}

class Runs {  // the forced schedule again: with the fixes; with the detector watching
    static void fixes(long pauseMillis) throws InterruptedException {
        System.out.println("ordered, lower id first:");
        Embrace.run(new OrderedTransfer(), pauseMillis, false);
        System.out.println("tryLock, back off, retry:");
        Embrace.run(new BackoffTransfer(2 * pauseMillis + 200), pauseMillis, false);
    }

    static void timedWaits(long pauseMillis) throws InterruptedException {
        Embrace.run(new BackoffTransfer(60_000), pauseMillis, true);  // waits of a minute
    }
}

// %% [run]
// Runs.fixes(400);

// %% [markdown]
// Both fixes finish that schedule at 120 + 80 = 200 (the tests also stress each one).
//
// ## Finding a deadlock
//
// `ThreadMXBean.findDeadlockedThreads()` finds cycles of platform threads, each waiting
// to acquire a lock the next one owns: monitors (`synchronized`) or *ownable
// synchronizers* such as `ReentrantLock`. It returns their ids, or `null` if there is
// none; `getThreadInfo(ids)` tells the lock each waits for (`getLockName()`: class and
// identity hash) and its owner. `jcmd <pid> Thread.print` (or `jstack`) reports the same
// ("Found one Java-level deadlock"). It is for troubleshooting, and may be expensive.
//
// It reports what threads wait for now, not whether they would wait forever: below, the
// back-off transfer waits up to a minute in each `tryLock`, and the detector reports a
// deadlock that the timeouts would end (the demo interrupts its victim instead).

// %% [run]
// Runs.timedWaits(400);

// %% [markdown]
// Finding a deadlock is not ending it. These demos free their threads only because they
// wait in `lockInterruptibly()` or `tryLock`. A thread blocked entering `synchronized`,
// or in `lock()`, has no timeout, and `interrupt()` only sets its flag: it waits on. The
// detector finds such a deadlock too, but only ending the JVM ends it (the tests show it).
//
// ## Pitfalls
//
// - **The detector sees platform threads and locks only.** For two virtual threads
//   deadlocked as above, `findDeadlockedThreads()` returns `null`; and it never sees
//   waits in `join()`, `Future.get()` or a queue (a task waiting for one behind it).
// - **Hidden locks.** Calling code you do not control (a listener) while holding a lock
//   lets it take locks you never see: call out after unlocking ("open calls").
// - **An order that can tie.** Two objects may share an `identityHashCode`: use ids.
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | `with a.lock: with b.lock: ...` | `lockInterruptibly()`, `try`, `finally { unlock(); }`, nested (`inBoth`) |
// | "acquire locks in the same order" | lock by a unique id, lower first (`OrderedTransfer`) |
// | `lock.acquire(timeout=0.01)` returns `False` | `lock.tryLock(10, TimeUnit.MILLISECONDS)` returns `false` |
// | `faulthandler.dump_traceback()`, `py-spy dump` | `jcmd <pid> Thread.print`, `findDeadlockedThreads()` |
//
// The GIL does not prevent deadlock: two Python threads deadlock on two `Lock`s as these do.
//
// ## Try it
//
// - Run `jbang deadlock embrace --speed 0.1`; while it reports the deadlock, run `jcmd`
//   (it lists Java processes), then `jcmd <pid> Thread.print`: "Found one Java-level
//   deadlock", with both threads and the lock each waits for.
// - In `Embrace.run`, delete `threads.get(0).interrupt();` and run `embrace`: nothing
//   moves until the demo gives up ("pay-1-to-2 stuck") and interrupts both.
// - In `Embrace.run`, make both threads `Thread.ofVirtual()` and run `embrace`: the
//   same deadlock, but the detector never reports it, and the demo times out.
//
// ## Summary
//
// Two threads that take the same two locks in opposite orders can each hold one and
// wait for the other forever, so take every set of locks in one global order.
//
// Where no order is possible, `tryLock` with a timeout lets a thread give up, release
// what it holds and retry after a random back-off. `findDeadlockedThreads()` finds
// deadlocked platform threads; only those waiting interruptibly can then be freed.

// %% [main]
class deadlock {  // the entry point, script only: `jbang deadlock --help`
    static final Section[] SECTIONS = {
            new Section("embrace", "opposite transfers forced to deadlock, found, broken",
                    speed -> Embrace.naive(Math.round(400 / speed))),
            new Section("fixes", "the same schedule with ordered locks, then tryLock",
                    speed -> Runs.fixes(Math.round(400 / speed))),
            new Section("detect", "tryLock waits of a minute look deadlocked too",
                    speed -> Runs.timedWaits(Math.round(400 / speed)))};
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
