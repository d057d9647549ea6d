///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Deadlock: take locks in the same order
//
// A bank transfer must change two accounts at once, so it locks both. Thread one pays
// from account 1 to account 2: it locks 1, then 2. Thread two pays the other way: it
// locks 2, then 1. If each gets its first lock before either gets its second, each
// now waits for a lock the other holds, and neither will ever let go. No exception, no
// message, no CPU used: two threads, and everything that later needs those accounts,
// stop for good. This lesson forces that deadlock on purpose, finds it with the JVM's
// own detector, breaks it, and then prevents it two ways: one global lock order, and
// `tryLock` with a timeout and a random back-off.
//
// Run it: `jbang deadlock` from the repository root, `jbang jbang-scripts/deadlock.java`,
// or with a bare JDK 25, `java jbang-scripts/deadlock.java`. Try `--help`.

// %%
import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static java.util.stream.Collectors.toSet;

// %% [markdown]
// ## Accounts, and one way to move money between them
//
// Each account has its own `ReentrantLock` guarding its balance, and a unique `id`
// that the first fix will need. `moveTo` is the transfer itself: the caller must hold
// both accounts' locks, and it checks that it does. (This bank lets balances go
// negative: the lesson is about locks, not overdrafts.)

// %%
class LockedAccount {
    final int id;
    final ReentrantLock lock = new ReentrantLock();
    private long balance;  // guarded by lock

    LockedAccount(int id, long balance) {
        this.id = id;
        this.balance = balance;
    }

    long balance() {
        lock.lock();
        try {
            return balance;
        } finally {
            lock.unlock();
        }
    }

    /** The caller holds both locks, so no thread ever sees the money in flight. */
    void moveTo(LockedAccount to, long amount) {
        if (!lock.isHeldByCurrentThread() || !to.lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("a transfer must hold both accounts' locks");
        }
        balance -= amount;
        to.balance += amount;
    }

    long balanceWhileLocked() {  // for an audit that already holds the lock
        if (!lock.isHeldByCurrentThread()) throw new IllegalStateException("lock first");
        return balance;
    }

    @Override public String toString() { return "account " + id; }
}

// %% [markdown]
// Every way of locking two accounts below implements one interface. `transfer` returns
// how many attempts it took (1, unless it had to back off and retry). The seam is
// called while a transfer holds its first lock and not yet its second: it does nothing
// in normal use, and lets the demos and the tests pause a thread at exactly the worst
// moment, as `counter`'s replay did.

// %%
@FunctionalInterface
interface FirstLockSeam {
    FirstLockSeam NONE = first -> { };

    void holding(LockedAccount first) throws InterruptedException;
}

interface TransferPolicy {
    String name();

    int transfer(LockedAccount from, LockedAccount to, long amount)
            throws InterruptedException;
}

// %% [markdown]
// ## The broken transfer: lock `from`, then `to`
//
// The obvious code. Correct on its own, and correct for any number of threads as long
// as their transfers never form a cycle; it deadlocks as soon as two transfers run in
// opposite directions and interleave badly. (Opposite directions are the smallest
// cycle, not the only one: 1→2, 2→3 and 3→1 at once can deadlock three threads with
// no two of them opposed.) It uses `lockInterruptibly()`, not `lock()`, for one
// reason only: so that the demo can break its own deadlock and end cleanly.

// %%
class NaiveTransfer implements TransferPolicy {
    private final FirstLockSeam seam;

    NaiveTransfer() { this(FirstLockSeam.NONE); }
    NaiveTransfer(FirstLockSeam seam) { this.seam = seam; }

    public String name() { return "naive (from, then to)"; }

    public int transfer(LockedAccount from, LockedAccount to, long amount)
            throws InterruptedException {
        from.lock.lockInterruptibly();
        try {
            seam.holding(from);               // the other thread may lock `to` here
            to.lock.lockInterruptibly();
            try {
                from.moveTo(to, amount);
                return 1;
            } finally {
                to.lock.unlock();
            }
        } finally {
            from.lock.unlock();
        }
    }
}

// %% [markdown]
// ## Finding a deadlock: `ThreadMXBean`
//
// The JVM can find a deadlock for you. `ThreadMXBean.findDeadlockedThreads()` looks
// for cycles of threads each waiting for a lock another one in the cycle owns, both
// `synchronized` monitors and "ownable synchronizers" such as `ReentrantLock`, and
// returns their ids (or `null` when there are none). `getThreadInfo` then says, for
// each, which lock it waits for (`getLockName()`) and who owns it
// (`getLockOwnerName()`). This is what `jstack` and `jcmd <pid> Thread.print` report
// as "Found one Java-level deadlock". The watcher below polls it, with a deadline.

// %%
class DeadlockWatch {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    /** One look: which of these threads are deadlocked right now (maybe none). */
    static long[] among(Set<Long> ids) {
        long[] all = MX.findDeadlockedThreads();
        if (all == null) return new long[0];
        return Arrays.stream(all).filter(ids::contains).toArray();
    }

    /**
     * Polls until all these threads are deadlocked and returns their ids; returns none
     * if one of them ends first; fails after the timeout.
     */
    static long[] lookFor(List<Thread> threads, Duration timeout)
            throws InterruptedException {
        Set<Long> ids = threads.stream().map(Thread::threadId).collect(toSet());
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long[] found = among(ids);
            if (found.length == ids.size()) return found;
            if (threads.stream().anyMatch(t -> !t.isAlive())) return new long[0];
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no deadlock found among " + threads);
            }
            Thread.sleep(1);  // polling the detector, not synchronising
        }
    }

    /** The cycle, two lines per thread: what it holds; what it waits for, and whose. */
    static List<String> describe(long[] ids) {
        var lines = new ArrayList<String>();
        for (ThreadInfo info : MX.getThreadInfo(ids, true, true)) {
            if (info == null) continue;  // it ended meanwhile
            var held = Stream.concat(Arrays.stream(info.getLockedMonitors()),
                    Arrays.stream(info.getLockedSynchronizers()))
                    .map(lock -> shortName(lock.toString()))
                    .collect(Collectors.joining(", "));
            lines.add("\"%s\" holds %s".formatted(info.getThreadName(), held));
            lines.add("    and waits for %s, owned by \"%s\"".formatted(
                    shortName(info.getLockName()), info.getLockOwnerName()));
        }
        return lines;
    }

    /** "java.util.concurrent.locks.ReentrantLock$NonfairSync@1b6d" minus the package. */
    static String shortName(String lockName) {
        return lockName.substring(lockName.lastIndexOf('.', lockName.indexOf('@')) + 1);
    }
}

// %% [markdown]
// ## The deadly embrace, forced
//
// Left to chance, a deadlock may take thousands of transfers to show up, or never
// show up in testing at all. So the seam forces it: on its first attempt, a thread
// that holds its first lock waits until the other thread holds *its* first lock too
// (or is queued on ours, which can only happen once the locks are ordered). Then both
// go for their second lock. With the naive transfer, that is a deadlock every time.
//
// The demo starts `pay-1-to-2` (moving 10) and `pay-2-to-1` (moving 30), polls the
// detector until it reports both, and prints the cycle. Then it breaks the cycle the
// way a database does: it picks a victim, `pay-1-to-2`, and interrupts it alone. Its
// `lockInterruptibly()` throws `InterruptedException`, the `finally` unlocks account
// 1, and `pay-2-to-1`, which was waiting for exactly that lock, completes. Both
// threads are joined. The "holds" lines are printed by the workers, so their order
// varies from run to run.

// %%
class DeadlyEmbrace {
    enum Response { NONE, REPORT, INTERRUPT_ONE }

    /** attempts: per thread, how many attempts its transfer took; 0 if it gave up. */
    record Outcome(List<Long> threadIds, long[] deadlocked, List<Integer> attempts,
                   long balance1, long balance2) {
        long total() { return balance1 + balance2; }
    }

    /** On its first attempt, a thread holding its first lock waits for the other's. */
    static FirstLockSeam forcedSchedule(long pauseMillis, boolean narrate) {
        var holdingFirst = new CountDownLatch(2);
        Set<Thread> forced = ConcurrentHashMap.newKeySet();
        return first -> {
            if (!forced.add(Thread.currentThread())) return;  // a retry: run freely
            if (narrate) {
                String me = Thread.currentThread().getName();
                System.out.printf("  %s holds %s%n", me, first);
            }
            holdingFirst.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            // the other thread holds its first lock too, or it is queued on ours
            while (!holdingFirst.await(1, TimeUnit.MILLISECONDS)
                    && !first.lock.hasQueuedThreads()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("forced schedule stuck");
                }
            }
            Thread.sleep(pauseMillis);  // pacing for a human audience only
        };
    }

    /** Two transfers in opposite directions; the policy's seam sets the schedule. */
    static Outcome run(TransferPolicy policy, Response response)
            throws InterruptedException {
        var one = new LockedAccount(1, 100);
        var two = new LockedAccount(2, 100);
        var attempts = new int[2];  // each thread writes its own slot; read after join
        var threads = List.of(
                start("pay-1-to-2", policy, one, two, 10, attempts, 0),
                start("pay-2-to-1", policy, two, one, 30, attempts, 1));
        long[] deadlocked = new long[0];
        try {
            if (response != Response.NONE) {
                deadlocked = DeadlockWatch.lookFor(threads, Duration.ofSeconds(10));
                if (deadlocked.length == 0 && response == Response.INTERRUPT_ONE) {
                    throw new IllegalStateException("a transfer finished: no deadlock");
                }
                System.out.printf("  findDeadlockedThreads() reports %d threads%n",
                        deadlocked.length);
                for (String line : DeadlockWatch.describe(deadlocked)) {
                    System.out.println("    " + line);
                }
            }
            if (response == Response.INTERRUPT_ONE) {
                System.out.println("  interrupting pay-1-to-2 only: the victim");
                threads.get(0).interrupt();
            }
            for (Thread t : threads) {
                if (!t.join(Duration.ofSeconds(10))) {
                    throw new IllegalStateException(t.getName() + " never finished");
                }
            }
        } finally {
            threads.forEach(Thread::interrupt);  // no-op for finished threads
            for (Thread t : threads) t.join(Duration.ofSeconds(10));
        }
        return new Outcome(threads.stream().map(Thread::threadId).toList(), deadlocked,
                List.of(attempts[0], attempts[1]), one.balance(), two.balance());
    }

    private static Thread start(String name, TransferPolicy policy, LockedAccount from,
                                LockedAccount to, long amount, int[] attempts, int slot) {
        return Thread.ofPlatform().name(name).start(() -> {
            try {
                attempts[slot] = policy.transfer(from, to, amount);
            } catch (InterruptedException e) {
                attempts[slot] = 0;  // gave up
            }
        });
    }

    static void naive(long pauseMillis) throws InterruptedException {
        var policy = new NaiveTransfer(forcedSchedule(pauseMillis, true));
        report(run(policy, Response.INTERRUPT_ONE));
    }

    static void report(Outcome o) {
        var names = List.of("pay-1-to-2 moved 10", "pay-2-to-1 moved 30");
        for (int i = 0; i < 2; i++) {
            int n = o.attempts().get(i);
            System.out.println("  " + (n == 0
                    ? names.get(i).replace("moved", "gave up: interrupted, never moved")
                    : names.get(i) + " in " + n + (n == 1 ? " attempt" : " attempts")));
        }
        System.out.printf("  balances %d + %d = %d (started with 100 + 100 = 200)%n",
                o.balance1(), o.balance2(), o.total());
    }
}

// %% [run]
// DeadlyEmbrace.naive(300);

// %% [markdown]
// Each thread holds one lock and waits for the lock the other holds, and the detector
// names both, with the lock each is stuck on and its owner. The identity hashes show
// the cycle: what one thread holds, the other waits for. The victim's transfer never
// happened and the other one did, and the total is still 200: a deadlock costs
// liveness, not safety. Each transfer moves money only while it holds both locks, so
// it happens completely or not at all. (Interrupting *both* would also end it, but
// then whether the second one completes depends on which interrupt lands first.)

// %% [markdown]
// ## Left to chance
//
// Forcing proves that it *can* happen. How often does it happen by itself? Below,
// several threads make random transfers between just two accounts, so half of them go
// each way, with no seam at all. The main thread joins them while asking the detector
// every few milliseconds; when it reports a deadlock, it interrupts every worker and
// joins them. Whether a run freezes, and after how many transfers, varies from run to
// run and machine to machine: what matters is that it can, without warning.

// %%
class TransferStress {
    record Report(String policy, long wanted, long done, long totalBefore,
                  long totalAfter, long retries, int deadlocked, long nanos) { }

    static List<LockedAccount> bank(int accounts) {
        var bank = new ArrayList<LockedAccount>();
        for (int id = 1; id <= accounts; id++) bank.add(new LockedAccount(id, 1_000));
        return bank;
    }

    /**
     * {@code threads} threads each make {@code transfers} random transfers among
     * {@code accounts} accounts. If {@code watch}, the main thread asks the detector
     * every few milliseconds and breaks a deadlock by interrupting every worker.
     */
    static Report run(TransferPolicy policy, int accounts, int threads, int transfers,
                      boolean watch) throws InterruptedException {
        var bank = bank(accounts);
        long totalBefore = 1_000L * accounts;
        var done = new LongAdder();
        var retries = new LongAdder();
        var workers = new ArrayList<Thread>();
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().name("teller-" + t).start(() -> {
                var random = ThreadLocalRandom.current();
                try {
                    for (int i = 0; i < transfers; i++) {
                        int from = random.nextInt(accounts);
                        int to = (from + 1 + random.nextInt(accounts - 1)) % accounts;
                        int attempts = policy.transfer(bank.get(from), bank.get(to),
                                1 + random.nextInt(100));
                        done.increment();
                        retries.add(attempts - 1);
                    }
                } catch (InterruptedException e) {
                    // the watcher broke a deadlock: stop
                }
            }));
        }
        Set<Long> ids = workers.stream().map(Thread::threadId).collect(toSet());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long nextLook = 0;
        int deadlocked = 0;
        watching:
        for (Thread w : workers) {
            while (!w.join(Duration.ofMillis(2))) {
                if (watch && System.nanoTime() > nextLook) {
                    deadlocked = DeadlockWatch.among(ids).length;
                    if (deadlocked > 0) break watching;
                    nextLook = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
                }
                if (System.nanoTime() > deadline) break watching;
            }
        }
        long nanos = System.nanoTime() - start;
        workers.forEach(Thread::interrupt);  // a no-op for workers that have finished
        for (Thread w : workers) {
            if (!w.join(Duration.ofSeconds(10))) {
                throw new IllegalStateException(w.getName() + " ignored its interrupt");
            }
        }
        if (deadlocked == 0 && done.sum() < (long) threads * transfers) {
            throw new IllegalStateException("stress run over 60 s: " + policy.name());
        }
        return new Report(policy.name(), (long) threads * transfers, done.sum(),
                totalBefore, total(bank), retries.sum(), deadlocked, nanos);
    }

    /** Only once every worker is joined: join() makes their writes visible. */
    static long total(List<LockedAccount> bank) {
        return bank.stream().mapToLong(LockedAccount::balance).sum();
    }

    static void leftToChance(int threads, int transfers, int runs)
            throws InterruptedException {
        System.out.printf("%d threads x %,d naive transfers between 2 accounts%n",
                threads, transfers);
        int froze = 0;
        for (int run = 1; run <= runs; run++) {
            Report r = run(new NaiveTransfer(), 2, threads, transfers, true);
            if (r.deadlocked() > 0) froze++;
            System.out.printf("  run %d: %s; total %,d -> %,d%n", run,
                    r.deadlocked() > 0
                            ? "deadlocked after %,d of %,d transfers (%d reported)"
                              .formatted(r.done(), r.wanted(), r.deadlocked())
                            : "all %,d transfers done".formatted(r.done()),
                    r.totalBefore(), r.totalAfter());
        }
        System.out.printf("  %d of %d runs deadlocked%n", froze, runs);
    }
}

// %% [run]
// TransferStress.leftToChance(4, 20_000, 5);

// %% [markdown]
// A run that deadlocks stops at some arbitrary count; the threads that are not in the
// cycle soon pile up behind it, waiting for one of its two accounts. With two accounts
// only two threads can be in the cycle, so when the detector reports three, it is
// counting a thread stuck behind the cycle too. Even the frozen runs end with the
// money intact: the threads were interrupted while *waiting* for a lock, never halfway
// through a transfer.
//
// Forced or left to chance, it is the same deadly embrace: each thread holds one lock
// and waits for the other's.
//
// @diagram deadlock-deadly-embrace
//
// ## A `synchronized` deadlock cannot be broken
//
// The demo could break its deadlock only because `lockInterruptibly()` answers an
// interrupt. A thread blocked entering a `synchronized` block does not: `interrupt()`
// just sets its flag, and it stays `BLOCKED` for the life of the JVM. There is no
// timeout either. The detector still finds such a cycle (it sees monitors too), but
// finding is all anyone can do: the only way out is to end the process.
//
// Showing that in this JVM would strand two threads here for good (in the notebook,
// for the kernel's lifetime). So the demo writes a small program to a temporary file
// and runs it in a child JVM (`java File.java`). The child forces the same embrace with
// `synchronized`, finds it, interrupts both threads, waits a little, and lets `main`
// return. Its JVM does not exit: two non-daemon threads are still alive. The parent
// gives it a grace period, then kills it with `destroyForcibly()`.

// %%
class UnbreakableDeadlock {
    record Outcome(String childOutput, boolean exitedOnItsOwn, long aliveAfterMain) {
        boolean detected() { return childOutput.contains("Deadlocked threads: 2"); }
        boolean stillBlocked() { return childOutput.contains("both still BLOCKED"); }
    }

    static final String CHILD = """
            import java.lang.management.ManagementFactory;
            import java.lang.management.ThreadInfo;
            import java.time.Duration;
            import java.util.concurrent.CountDownLatch;
            import java.util.concurrent.TimeUnit;

            public class SynchronizedEmbrace {
                static final class Account { long balance = 100; }

                public static void main(String[] args) throws Exception {
                    long joinMillis = Long.parseLong(args[0]);
                    var one = new Account();
                    var two = new Account();
                    var first = new CountDownLatch(2);
                    Thread a = new Thread(() -> pay(one, two, first), "pay-1-to-2");
                    Thread b = new Thread(() -> pay(two, one, first), "pay-2-to-1");
                    a.start();
                    b.start();
                    var mx = ManagementFactory.getThreadMXBean();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    long[] ids;
                    while ((ids = mx.findDeadlockedThreads()) == null) {
                        if (System.nanoTime() > deadline) System.exit(1);
                        Thread.sleep(1);
                    }
                    System.out.println("Deadlocked threads: " + ids.length);
                    for (ThreadInfo info : mx.getThreadInfo(ids, true, false)) {
                        System.out.printf("  %s waits for %s, owned by %s%n",
                                info.getThreadName(), info.getLockName(),
                                info.getLockOwnerName());
                    }
                    a.interrupt();
                    b.interrupt();
                    a.join(Duration.ofMillis(joinMillis));
                    b.join(Duration.ofMillis(joinMillis));
                    if (a.getState() == Thread.State.BLOCKED
                            && b.getState() == Thread.State.BLOCKED) {
                        System.out.println("interrupted both, joined " + joinMillis
                                + " ms each: both still BLOCKED");
                    }
                    System.out.println("main returns");
                }

                static void pay(Account from, Account to, CountDownLatch holdingFirst) {
                    synchronized (from) {
                        holdingFirst.countDown();
                        try {
                            holdingFirst.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            return;
                        }
                        synchronized (to) {  // BLOCKED here for good
                            from.balance -= 10;
                            to.balance += 10;
                        }
                    }
                }
            }
            """;

    static Outcome inChildJvm(long graceMillis) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("deadlock");
        Path source = dir.resolve("SynchronizedEmbrace.java");
        Path out = dir.resolve("out.txt");
        Files.writeString(source, CHILD);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // C1 only and the serial GC: a quicker start for a JVM that lives a second
        Process child = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC", source.toString(), "" + graceMillis)
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(out).contains("main returns") && child.isAlive()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the child never reached its end");
                }
                Thread.sleep(5);  // polling the child's output file
            }
            long mainReturned = System.nanoTime();
            boolean exited = child.waitFor(graceMillis, TimeUnit.MILLISECONDS);
            long alive = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - mainReturned);
            String said = Files.readString(out, StandardCharsets.UTF_8);
            return new Outcome(said, exited, alive);
        } finally {
            child.destroyForcibly();
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the child survived destroyForcibly()");
            }
            Files.deleteIfExists(source);
            Files.deleteIfExists(out);
            Files.deleteIfExists(dir);
        }
    }

    static void demo(long graceMillis) throws IOException, InterruptedException {
        Outcome o = inChildJvm(graceMillis);
        o.childOutput().lines().forEach(line -> System.out.println("  child | " + line));
        System.out.println(o.exitedOnItsOwn()
                ? "  the child JVM exited by itself (unexpected)"
                : "  its main had returned, but %d ms later the JVM was still running: "
                  .formatted(o.aliveAfterMain())
                  + "killed with destroyForcibly()");
    }
}

// %% [run]
// UnbreakableDeadlock.demo(500);

// %% [markdown]
// That is the strongest reason to prefer `ReentrantLock` where a deadlock is possible
// at all: `lockInterruptibly()` and `tryLock(timeout)` give a stuck thread a way out;
// `synchronized` has none. Better still, make the deadlock impossible.
//
// ## Fix 1: one global lock order
//
// A cycle of waiting threads needs two threads to take the same two locks in opposite
// orders. Take them in one agreed order everywhere, and no cycle can form: here, lower
// account id first, whichever way the money flows. Both transfers now start with
// account 1; the second one waits there holding nothing, so the first can take account
// 2, finish, and unlock both.
//
// @diagram deadlock-ordered-locking
//
// It costs nothing at run time: the same two locks, in a different order. What it
// needs is a total order on everything you lock (ids here) and discipline: every code
// path that takes two of these locks must use the order. The order belongs in one
// place, as here, not in every caller.

// %%
class OrderedTransfer implements TransferPolicy {
    private final FirstLockSeam seam;

    OrderedTransfer() { this(FirstLockSeam.NONE); }
    OrderedTransfer(FirstLockSeam seam) { this.seam = seam; }

    public String name() { return "ordered (lower id first)"; }

    public int transfer(LockedAccount from, LockedAccount to, long amount)
            throws InterruptedException {
        LockedAccount first = from.id < to.id ? from : to;
        LockedAccount second = first == from ? to : from;
        first.lock.lockInterruptibly();
        try {
            seam.holding(first);
            second.lock.lockInterruptibly();
            try {
                from.moveTo(to, amount);  // the money still flows from -> to
                return 1;
            } finally {
                second.lock.unlock();
            }
        } finally {
            first.lock.unlock();
        }
    }
}

// %% [markdown]
// The same forced schedule as before, and the same stress, now with ordered locking.
// The forced run's "holds" lines show both transfers taking account 1 first (whichever
// way they pay), and the detector, polled until both are done, never reports them.


// %%
class OrderedDemo {
    static void forced(long pauseMillis) throws InterruptedException {
        var policy = new OrderedTransfer(DeadlyEmbrace.forcedSchedule(pauseMillis, true));
        DeadlyEmbrace.report(DeadlyEmbrace.run(policy, DeadlyEmbrace.Response.REPORT));
    }

    static void stress(int accounts, int threads, int transfers)
            throws InterruptedException {
        var r = TransferStress.run(new OrderedTransfer(), accounts, threads, transfers,
                true);
        System.out.printf("ordered: %d threads x %,d random transfers, %d accounts%n",
                threads, transfers, accounts);
        System.out.printf("  transfers done: %,d of %,d; deadlocks: %d%n",
                r.done(), r.wanted(), r.deadlocked());
        System.out.printf("  total money: %,d before, %,d after%n",
                r.totalBefore(), r.totalAfter());
    }
}

// %% [run]
// OrderedDemo.forced(300);
// OrderedDemo.stress(10, 4, 20_000);

// %% [markdown]
// ### Why the total must come out exact
//
// Money in this bank is conserved by construction: a transfer subtracts an amount
// from one balance and adds the same amount to another, and it does both while holding
// both accounts' locks. No thread can see one half without the other, so the sum of
// all balances never changes; an interrupted transfer never got both locks and changed
// nothing. That makes the total a sharp test: one lost update, one transfer applied
// twice or half-applied, and it is off, so the tests check it to the unit, not
// approximately.
//
// *When* you add it up matters as much. After every worker is joined, plain reads are
// enough (`join` is a happens-before edge). While transfers are running, you must hold
// every account's lock at once: one more multi-lock operation, so it must use the same
// order (here, `lockedTotal` locks in id order, and so cannot deadlock with the
// transfers). Reading the balances one lock at a time gives correct balances of
// different moments: a transfer can move money from an account the audit has not read
// yet to one it already has (it vanishes from the sum) or the other way round (it is
// counted twice). Below, the main thread audits the bank both ways, a fixed number of
// times, while tellers keep transferring.

// %%
class BankAudit {
    record Audits(long expected, List<Long> exact, List<Long> loose, long transfers,
                  long totalAfter) {
        long exactWrong() { return exact.stream().filter(t -> t != expected).count(); }
        long looseWrong() { return loose.stream().filter(t -> t != expected).count(); }
    }

    /** An exact snapshot: every lock, in the same id order the transfers use. */
    static long lockedTotal(List<LockedAccount> bank) throws InterruptedException {
        var sorted = bank.stream()
                .sorted((a, b) -> Integer.compare(a.id, b.id)).toList();
        int locked = 0;
        try {
            for (LockedAccount a : sorted) {
                a.lock.lockInterruptibly();
                locked++;
            }
            long total = 0;
            for (LockedAccount a : sorted) total += a.balanceWhileLocked();
            return total;
        } finally {
            for (int i = locked - 1; i >= 0; i--) sorted.get(i).lock.unlock();
        }
    }

    /** One lock at a time: each balance is right, their sum may never have existed. */
    static long looseTotal(List<LockedAccount> bank) {
        long total = 0;
        for (LockedAccount a : bank) total += a.balance();
        return total;
    }

    /**
     * While {@code threads} threads keep making ordered transfers, adds up the balances
     * {@code audits} times both ways, then stops and joins the workers.
     */
    static Audits whileTransfersRun(int accounts, int threads, int audits)
            throws InterruptedException {
        var bank = TransferStress.bank(accounts);
        var stop = new AtomicBoolean();
        var transfers = new LongAdder();
        var ordered = new OrderedTransfer();
        var workers = new ArrayList<Thread>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().name("teller-" + t).start(() -> {
                var random = ThreadLocalRandom.current();
                try {
                    while (!stop.get()) {
                        int from = random.nextInt(accounts);
                        int to = (from + 1 + random.nextInt(accounts - 1)) % accounts;
                        long amount = 1 + random.nextInt(100);
                        ordered.transfer(bank.get(from), bank.get(to), amount);
                        transfers.increment();
                    }
                } catch (InterruptedException e) {
                    // stopped
                }
            }));
        }
        var exact = new ArrayList<Long>();
        var loose = new ArrayList<Long>();
        try {
            for (int i = 0; i < audits; i++) {
                exact.add(lockedTotal(bank));
                loose.add(looseTotal(bank));
            }
        } finally {
            stop.set(true);
            for (Thread w : workers) {
                if (!w.join(Duration.ofSeconds(10))) {
                    throw new IllegalStateException(w.getName() + " never stopped");
                }
            }
        }
        return new Audits(1_000L * accounts, exact, loose, transfers.sum(),
                TransferStress.total(bank));
    }

    static void demo(int accounts, int threads, int audits) throws InterruptedException {
        var a = whileTransfersRun(accounts, threads, audits);
        var loose = a.loose().stream().mapToLong(Long::longValue).summaryStatistics();
        System.out.printf("%,d audits while %d threads made %,d ordered transfers%n",
                audits, threads, a.transfers());
        System.out.printf("  holding every lock, in id order: %,d wrong%n",
                a.exactWrong());
        System.out.printf("  one lock at a time: %,d wrong, totals seen %,d to %,d%n",
                a.looseWrong(), loose.getMin(), loose.getMax());
        System.out.printf("  total money: %,d before, %,d after%n",
                a.expected(), a.totalAfter());
    }
}

// %% [run]
// BankAudit.demo(10, 4, 2_000);

// %% [markdown]
// Not one exact audit was off, and none can be. The loose audit locked every account
// it read and can still add up a total that never existed, by any amount: how often
// that happens varies a lot from run to run (some runs see none at all, which is how
// such a bug survives testing), and the range shows how far off it got. Locking each
// piece is not locking the whole: a sum over several accounts needs all their locks at
// once.
//
// ## Fix 2: `tryLock` with a timeout, back off, retry
//
// Sometimes there is no order to agree on: the locks are chosen at run time, belong to
// code you do not control, or one path must lock in "the wrong" order. Then do not
// wait forever: `tryLock(timeout)` gives up on the second lock, the transfer releases
// the first one too, sleeps for a *random* while and tries again. Giving up breaks the
// cycle; the randomness keeps two polite threads from backing off and retrying in
// lockstep forever (a livelock).
//
// @diagram deadlock-backoff
//
// It costs a retry loop, wasted work, and a delay whenever two transfers collide, and
// it cannot promise that a given transfer ever succeeds, so it needs an attempt limit
// (here it throws after `maxAttempts`).

// %%
class BackoffTransfer implements TransferPolicy {
    private final Duration tryFor;
    private final Duration maxBackoff;
    private final int maxAttempts;
    private final FirstLockSeam seam;

    BackoffTransfer() { this(FirstLockSeam.NONE); }

    BackoffTransfer(FirstLockSeam seam) {
        this(Duration.ofMillis(1), Duration.ofMillis(2), 10_000, seam);
    }

    BackoffTransfer(Duration tryFor, Duration maxBackoff, int maxAttempts,
                    FirstLockSeam seam) {
        this.tryFor = tryFor;
        this.maxBackoff = maxBackoff;
        this.maxAttempts = maxAttempts;
        this.seam = seam;
    }

    public String name() { return "tryLock + back-off"; }

    public int transfer(LockedAccount from, LockedAccount to, long amount)
            throws InterruptedException {
        long wait = tryFor.toNanos();
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            if (from.lock.tryLock(wait, TimeUnit.NANOSECONDS)) {
                try {
                    seam.holding(from);
                    if (to.lock.tryLock(wait, TimeUnit.NANOSECONDS)) {
                        try {
                            from.moveTo(to, amount);
                            return attempt;
                        } finally {
                            to.lock.unlock();
                        }
                    }
                } finally {
                    from.lock.unlock();  // give up both, so the other thread can finish
                }
            }
            long backoff = ThreadLocalRandom.current().nextLong(1, maxBackoff.toNanos());
            Thread.sleep(Duration.ofNanos(backoff));
        }
        throw new IllegalStateException("no transfer after " + maxAttempts + " attempts");
    }
}

// %% [markdown]
// The forced schedule again, with generous timeouts this time (`tryLock` waits up to
// 200 ms, back-offs up to 50 ms) so that you can watch it unfold. Both transfers hold
// their first lock and wait for their second, and the detector *reports them as
// deadlocked*: a thread in a timed `tryLock` is waiting for a lock like any other, and
// the detector takes a snapshot; it cannot know the wait will end. The demo leaves
// them alone, and they untangle themselves. The first one to time out lets go of its
// lock and backs off; the other usually gets that lock before its own wait runs out
// and finishes, and the first one succeeds on a retry ("attempts" in the output).
// If both time out together, both back off, and the random back-off decides who goes
// first.
//
// The stress run uses the defaults (1 ms waits, back-offs up to 2 ms), and for the
// same reason does not watch the detector: it would cry wolf at every collision.

// %%
class BackoffDemo {
    static void forced(long pauseMillis) throws InterruptedException {
        // long waits, so the detector has time to look; long back-offs, so one retry wins
        var policy = new BackoffTransfer(Duration.ofMillis(200), Duration.ofMillis(50),
                100, DeadlyEmbrace.forcedSchedule(pauseMillis, true));
        DeadlyEmbrace.report(DeadlyEmbrace.run(policy, DeadlyEmbrace.Response.REPORT));
    }

    static void stress(int accounts, int threads, int transfers)
            throws InterruptedException {
        var r = TransferStress.run(new BackoffTransfer(), accounts, threads, transfers,
                false);
        System.out.printf("back-off: %d threads x %,d random transfers, %d accounts%n",
                threads, transfers, accounts);
        System.out.printf("  transfers done: %,d of %,d; retries: %,d%n",
                r.done(), r.wanted(), r.retries());
        System.out.printf("  total money: %,d before, %,d after%n",
                r.totalBefore(), r.totalAfter());
    }
}

// %% [run]
// BackoffDemo.forced(300);
// BackoffDemo.stress(10, 4, 20_000);

// %% [markdown]
// ## What each costs
//
// Both fixes on the same workload in one process, timed side by side after a warm-up
// round and reported as a ratio to the ordered version, with only 4 accounts so that
// transfers collide often. The costs are different in kind. Ordered locking never
// wastes work: a transfer that finds its first lock taken waits its turn.
// Back-off wastes a timed-out `tryLock` and a sleep on every collision, and retries;
// on the other hand a backing-off thread is asleep, not queued, and leaves the lock
// and the CPU to the others, so it is not automatically the slower one. The table
// shows what this machine did; the ratio swings from run to run on a loaded 2-core
// machine, so read it as a rough order, not a result to quote.

// %%
class FixCosts {
    static void compare(int accounts, int threads, int transfers)
            throws InterruptedException {
        var fixes = List.<TransferPolicy>of(new OrderedTransfer(), new BackoffTransfer());
        var reports = new ArrayList<TransferStress.Report>();
        for (int round = 0; round < 2; round++) {  // round 0 warms up
            reports.clear();
            for (TransferPolicy p : fixes) {
                var r = TransferStress.run(p, accounts, threads, transfers, false);
                reports.add(r);
            }
        }
        System.out.printf("%d threads x %,d transfers among %d accounts%n",
                threads, transfers, accounts);
        System.out.printf("%-26s %12s %10s %12s %16s%n",
                "policy", "done", "retries", "total after", "time vs ordered");
        for (var r : reports) {
            double ratio = (double) r.nanos() / reports.get(0).nanos();
            System.out.printf("%-26s %,12d %,10d %,12d %15.1fx%n", r.policy(), r.done(),
                    r.retries(), r.totalAfter(), ratio);
        }
    }
}

// %% [run]
// FixCosts.compare(4, 4, 20_000);

// %% [markdown]
// ## Which one to use
//
// | situation | use |
// |---|---|
// | you take several locks and can name an order (ids, keys, a rank per lock) | a global lock order |
// | the set of locks is only known at run time | sort them by that order, then lock |
// | no order is possible, or a caller must be able to give up | `tryLock(timeout)`, release everything, random back-off, retry (with a limit) |
// | operations are short and rarely concurrent | one coarser lock for all accounts: no order needed, less parallelism |
// | the thread might get stuck and must be stoppable | `ReentrantLock.lockInterruptibly()`, never `synchronized` |
// | you suspect a deadlock in a running JVM | `jcmd <pid> Thread.print` / `jstack`, or `ThreadMXBean.findDeadlockedThreads()` |
//
// ## Pitfalls
//
// - **Ordering by something that can tie.** `System.identityHashCode` is a tempting
//   order for objects without ids, but two objects can share a hash code. Break ties
//   with one extra lock that is taken first when the hashes are equal (the "tie-breaking
//   lock" of *Java Concurrency in Practice*), or give every lockable object a unique id.
// - **Hidden locks.** The deadlock need not be in your code: calling a listener, a
//   callback or any "alien" method while holding a lock lets it take locks you never
//   see. Call out only after releasing your locks ("open calls"). Library classes do it
//   too: `Collections.synchronizedList(a).addAll(b)` holds `a`'s lock while it reads
//   `b`, which takes `b`'s lock, so `a.addAll(b)` against `b.addAll(a)` can deadlock.
// - **Waiting is not only locking.** A thread that `join`s, `get()`s a future or takes
//   from a queue while holding a lock can close a cycle with no second lock at all; so
//   can a task waiting for another task queued behind it on the same single-thread
//   pool (`thread_pool`). The MXBean only sees locks.
// - **`synchronized` cannot be interrupted or timed out.** Once in a monitor deadlock,
//   those threads are gone for the life of the JVM (see the child JVM above).
// - **The detector does not see virtual threads.** `findDeadlockedThreads()` and
//   `getThreadInfo` cover platform threads only, and `Thread.getAllStackTraces()` does
//   not list virtual threads. Below, two virtual threads are deadlocked for certain (each
//   is queued on the lock the other holds), and the MXBean reports nothing. The HotSpot
//   thread dump (`jcmd <pid> Thread.dump_to_file -format=json <file>`, or
//   `HotSpotDiagnosticMXBean.dumpThreads`) does list them and the lock each is parked
//   on, but finding the cycle is then up to you.

// %%
class InvisibleDeadlock {
    record Outcome(long[] mxBeanFound, boolean inAllStackTraces, boolean threadInfoFound,
                   boolean inJsonDump) { }

    static Outcome run() throws InterruptedException, IOException {
        var one = new LockedAccount(1, 100);
        var two = new LockedAccount(2, 100);
        var naive = new NaiveTransfer(DeadlyEmbrace.forcedSchedule(0, false));
        Thread a = Thread.ofVirtual().name("virtual-1-to-2")
                .start(() -> pay(naive, one, two));
        Thread b = Thread.ofVirtual().name("virtual-2-to-1")
                .start(() -> pay(naive, two, one));
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            // the cycle, seen from the locks: each is queued on the one the other holds
            while (!(one.lock.hasQueuedThread(b) && two.lock.hasQueuedThread(a))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no virtual-thread deadlock");
                }
                Thread.sleep(1);  // polling the locks' queues
            }
            var mx = ManagementFactory.getThreadMXBean();
            long[] found = mx.findDeadlockedThreads();
            var all = Thread.getAllStackTraces();
            boolean info = mx.getThreadInfo(a.threadId()) != null;
            return new Outcome(found, all.containsKey(a) || all.containsKey(b), info,
                    jsonDumpMentions(a.getName(), b.getName()));
        } finally {
            a.interrupt();
            b.interrupt();
            for (Thread t : List.of(a, b)) {
                if (!t.join(Duration.ofSeconds(10))) {
                    throw new IllegalStateException(t.getName() + " ignored interrupt");
                }
            }
        }
    }

    private static void pay(TransferPolicy policy, LockedAccount from, LockedAccount to) {
        try {
            policy.transfer(from, to, 10);
        } catch (InterruptedException e) {
            // broken out of the deadlock: done
        }
    }

    private static boolean jsonDumpMentions(String... names) throws IOException {
        Path dir = Files.createTempDirectory("deadlock");
        Path dump = dir.resolve("threads.json");  // dumpThreads refuses to overwrite
        try {
            var json = HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON;
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .dumpThreads(dump.toString(), json);
            String text = Files.readString(dump);
            return Arrays.stream(names).allMatch(n -> text.contains("\"" + n + "\""));
        } finally {
            Files.deleteIfExists(dump);
            Files.deleteIfExists(dir);
        }
    }

    static void demo() throws InterruptedException, IOException {
        Outcome o = run();
        System.out.println("two virtual threads, each queued on the other's lock");
        System.out.println("  findDeadlockedThreads(): "
                + Arrays.toString(o.mxBeanFound()));
        System.out.println("  getThreadInfo(id) finds them: " + o.threadInfoFound());
        System.out.println("  getAllStackTraces() lists them: " + o.inAllStackTraces());
        System.out.println("  HotSpot's JSON thread dump lists them: " + o.inJsonDump());
        System.out.println("  interrupted and joined both");
    }
}

// %% [run]
// InvisibleDeadlock.demo();

// %% [markdown]
// ## From Python
//
// | Python (the seed's advice) | Java |
// |---|---|
// | `lock = threading.Lock()` | `final ReentrantLock lock = new ReentrantLock();` |
// | `with a.lock: with b.lock: ...` | `a.lock.lockInterruptibly(); try { b.lock.lockInterruptibly(); try { ... } finally { b.lock.unlock(); } } finally { a.lock.unlock(); }` |
// | "acquire locks in the same order": `for l in sorted(locks, key=...)` | sort by a unique id, lock in that order, unlock in reverse |
// | `lock.acquire(timeout=0.01)` returns `False` | `lock.tryLock(10, TimeUnit.MILLISECONDS)` returns `false` |
// | `time.sleep(random.uniform(0, 0.002))` back-off | `Thread.sleep(Duration.ofNanos(ThreadLocalRandom.current().nextLong(...)))` |
// | `faulthandler.dump_traceback()`, `py-spy dump` | `jcmd <pid> Thread.print`, `ThreadMXBean.findDeadlockedThreads()` |
// | (no way to interrupt a thread stuck in `acquire()`) | `thread.interrupt()` ends `lockInterruptibly()`; not `synchronized` |
//
// The seed's advice holds unchanged: a deadlock is about the order of lock
// acquisitions, not about the language. The GIL does not prevent it either: two Python
// threads deadlock on two `Lock`s exactly as these do. What Java adds is a built-in
// detector for platform threads and locks that can be given up on.
//
// Related lessons: `counter` (one lock, no deadlock possible), `shared_resource`
// (a lock guard with try-with-resources), `thread_pool` (a task waiting on a task in
// the same pool), `race_conditions` (check-then-act: too little locking, where this
// lesson is about locking in the wrong order).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line;
// a bad option prints one line and exits with status 2.

// %%
class deadlock {
    static final String USAGE = """
            Usage: deadlock [options]
              --threads N     threads in the stress runs (default 4)
              --transfers N   transfers per thread in the stress runs (default 20000)
              --accounts N    accounts in the stress runs of the fixes (default 10)
              --runs N        unforced runs of the naive transfer (default 5)
              --speed X       pacing: 2 = twice as fast, 0.5 = half (default 1)
              --help          print this and exit""";

    record Options(int threads, int transfers, int accounts, int runs, double speed) { }

    public static void main(String[] args) throws InterruptedException, IOException {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("deadlock: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        long pause = Math.round(300 / o.speed());
        System.out.println("== The deadly embrace, forced ==");
        DeadlyEmbrace.naive(pause);
        System.out.println("\n== Left to chance ==");
        TransferStress.leftToChance(o.threads(), o.transfers(), o.runs());
        System.out.println("\n== A synchronized deadlock cannot be broken ==");
        UnbreakableDeadlock.demo(Math.round(500 / o.speed()));
        System.out.println("\n== Fix 1: one global lock order ==");
        OrderedDemo.forced(pause);
        OrderedDemo.stress(o.accounts(), o.threads(), o.transfers());
        BankAudit.demo(o.accounts(), o.threads(), 2_000);
        System.out.println("\n== Fix 2: tryLock, back off, retry ==");
        BackoffDemo.forced(pause);
        BackoffDemo.stress(o.accounts(), o.threads(), o.transfers());
        System.out.println("\n== What each costs ==");
        FixCosts.compare(4, o.threads(), o.transfers());
        System.out.println("\n== The detector does not see virtual threads ==");
        InvisibleDeadlock.demo();
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
        int accounts = count("--accounts", given.getOrDefault("--accounts", "10"));
        if (accounts < 2) {
            throw new IllegalArgumentException("--accounts wants 2 or more, got "
                    + accounts);
        }
        return new Options(
                count("--threads", given.getOrDefault("--threads", "4")),
                count("--transfers", given.getOrDefault("--transfers", "20000")),
                accounts,
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
