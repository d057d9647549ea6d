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
// one account, then the other; between the two calls runs a *seam*, a hook that does
// nothing in normal use and lets demos and tests pause a thread at the worst moment. The
// naive transfer locks `from`, then `to`: the obvious code.

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
// asks for account 2. The demo deadlocks, and prints the same lines, on every run.
//
// The demo must end by itself (a notebook cell cannot be interrupted): once each thread
// is parked in the queue of the lock the other holds, it asks the JVM's detector (this
// lesson's second half) once, then interrupts a victim, as a database does. Its
// `lockInterruptibly()` throws `InterruptedException`, its `finally` unlocks account 1,
// and `pay-2-to-1` completes. `main` in the diagram is the demo's thread (in the
// notebook, the kernel's).
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

    static boolean waitsFor(Thread t, Account account) {  // queued, and parked by now
        return account.lock.hasQueuedThread(t) && t.getState() != Thread.State.RUNNABLE;
    }

    static String pay(Transfer t, Account from, Account to, long amount,
                      Consumer<Account> seam) {
        try {
            t.move(from, to, amount, seam);
            return "paid " + amount;
        } catch (InterruptedException e) {
            return "interrupted";  // while waiting for a lock: moved nothing
        }
    }
}

// %%
class Detector {
    static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    /** Asks once; prints each thread it finds, its state, and who owns its lock. */
    static void report(long pauseMillis) {
        long[] found = MX.findDeadlockedThreads();
        if (found == null) found = new long[0];  // null: no deadlock
        System.out.printf("  findDeadlockedThreads() reports %d threads%n", found.length);
        ThreadInfo[] infos = MX.getThreadInfo(found);
        Arrays.sort(infos, Comparator.comparing(ThreadInfo::getThreadName));
        for (ThreadInfo t : infos)
            Stage.step(pauseMillis, "  %s (%s) waits for a lock owned by %s".formatted(
                    t.getThreadName(), t.getThreadState(), t.getLockOwnerName()));
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
        Map<String, Integer> visits = new ConcurrentHashMap<>();
        Consumer<Account> seam = held -> {
            String me = Thread.currentThread().getName();
            int n = visits.merge(me, 1, Integer::sum);  // from 2 on: retries
            if (n == 2) Stage.step(pauseMillis, me + " timed out, backs off, retries");
            if (n > 1) return;  // said once; later retries run freely
            Stage.step(pauseMillis, me + " holds " + held);
            if (me.equals("pay-1-to-2")) {
                aHoldsFirst.countDown();
                Stage.await(bIsWaiting, limit);  // until pay-2-to-1 waits for account 1
                Stage.step(pauseMillis, me + " asks for account 2");
            }
        };
        var said = new String[2];  // each worker writes its own slot; read after join
        var threads = new ArrayList<Thread>();
        try {
            threads.add(Thread.ofPlatform().name("pay-1-to-2")
                    .start(() -> said[0] = Stage.pay(transfer, one, two, 10, seam)));
            Stage.await(aHoldsFirst, limit);
            threads.add(Thread.ofPlatform().name("pay-2-to-1")
                    .start(() -> said[1] = Stage.pay(transfer, two, one, 30, seam)));
            Stage.poll(() -> Stage.waitsFor(threads.get(1), one), limit);
            Stage.step(pauseMillis, "pay-2-to-1 waits for account 1");
            bIsWaiting.countDown();
            if (detect) {  // once each waits for the other's lock, by the locks' queues
                Stage.poll(() -> Stage.waitsFor(threads.get(0), two), limit);
                Detector.report(pauseMillis);
                Stage.step(pauseMillis, "interrupting pay-1-to-2, the victim");
                threads.get(0).interrupt();
            }
            for (Thread t : threads) {
                t.join(limit);
                if (t.isAlive()) throw new IllegalStateException(t.getName() + " stuck");
            }
            System.out.printf("  pay-1-to-2 %s, pay-2-to-1 %s; balances %d + %d = %d%n",
                    said[0], said[1], one.balance(), two.balance(),
                    one.balance() + two.balance());
            return List.of(one.balance(), two.balance());
        } finally {
            for (Thread t : threads) { t.interrupt(); t.join(limit); }  // if one is stuck
        }
    }

    static void naive(long ms) throws Exception { run(new NaiveTransfer(), ms, true); }
}

// %% [run]
// Embrace.naive(400);

// %% [markdown]
// Each thread waits for a lock the other owns: a cycle. The victim moved nothing, the
// other paid, and the total is still 200: a deadlock costs liveness (threads stop making
// progress), not safety (no data is corrupted).
//
// ## Fix 1: one global lock order
//
// If every thread takes locks in one global order (here: lower account id first,
// whichever way the money flows), each waits only for a lock later in the order than all
// it holds, and no cycle can close. Under the same forced schedule, `pay-2-to-1` now
// waits for account 1 holding nothing, and `pay-1-to-2` takes account 2 and finishes. The
// cost: one comparison, and a unique id on all you lock.
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
// When locks cannot be ordered in advance (the second is known only once the first is
// held, as when walking a linked structure, or code you do not control takes them), never
// wait without limit holding a lock. `tryLock(timeout)` gives up on the second lock; the
// transfer unlocks the first too, sleeps a *random* while and retries. Giving up breaks
// the cycle; the randomness keeps two polite threads from retrying in lockstep forever (a
// livelock). `pay-2-to-1` asked first, so it usually times out first (the output says
// who). The price: wasted work, and no promise of success.
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
// to acquire a lock the next one owns: a monitor (`synchronized`) or an *ownable
// synchronizer* such as `ReentrantLock`. It returns their ids (or `null`);
// `getThreadInfo(ids)` gives each one's state and the owner of the lock it waits for (the
// lock's name, an internal `NonfairSync` class and an identity hash, says little). It is
// for troubleshooting, "not for synchronization control": the demos ask it once, after
// the locks' own queues show the deadlock.
//
// It reports waits, not whether they would last forever: below, each transfer waits up to
// a minute in `tryLock`, and it reports both threads (`TIMED_WAITING`), though the
// timeouts would end their waits.

// %% [run]
// Runs.timedWaits(400);

// %% [markdown]
// Finding a deadlock is not ending it. These demos free their threads only because they
// wait in `lockInterruptibly()` or `tryLock`. The detector finds a deadlock in
// `synchronized` or `lock()` too, but nothing the program itself can do ends it: they
// have no timeout, and `interrupt()` only sets a flag (the tests show it).
//
// ## Pitfalls
//
// - **The detector sees platform threads and locks only.** It reports no cycle that
//   includes a virtual thread (for the two above, made virtual: `null`), nor waits in
//   `join()`, `Future.get()` or a queue (a pool task waiting for a task queued behind it
//   in the same pool).
// - **Hidden locks.** Calling code you do not control (a listener) while holding a lock
//   lets it take locks you never see: call out after unlocking ("open calls").
// - **An order that can tie.** If you order objects by `System.identityHashCode`, two
//   may tie: order by unique ids.
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | `with a.lock: with b.lock: ...` | `synchronized (a) { synchronized (b) { ... } }` (here `lockInterruptibly()`, so the demo can free its threads) |
// | "acquire locks in the same order" | lock by a unique id, lower first (`OrderedTransfer`) |
// | `lock.acquire(timeout=0.01)` returns `False` | `lock.tryLock(10, TimeUnit.MILLISECONDS)` returns `false` |
// | `faulthandler.dump_traceback()`, `py-spy dump` | `jcmd <pid> Thread.print`, `findDeadlockedThreads()` |
//
// The GIL does not prevent deadlock: two Python threads deadlock on two `Lock`s as these do.
//
// ## Try it
//
// - Run `jbang deadlock embrace --speed 0.1`; while it reports the deadlock, run `jcmd`
//   to find its pid, then `jcmd <pid> Thread.print`: "Found one Java-level deadlock".
// - In `Embrace.run`, delete the two lines that announce and interrupt the victim, and
//   run `embrace`: after about 14 s, `IllegalStateException: pay-1-to-2 stuck`; its
//   `finally` then interrupts both so that the JVM can exit.
// - In `Embrace.run`, make both threads `Thread.ofVirtual()` and run `embrace`: the same
//   deadlock, but the detector "reports 0 threads"; the interrupt still ends it.
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
