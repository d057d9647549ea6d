///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Barrier: nobody goes on until everyone has arrived
//
// Some work comes in rounds. Four workers each compute their share of round 1, and
// round 2 reads what all four wrote. A worker that finishes early must not start the
// next round before the slowest has finished this one, and nothing in the language
// stops it: it simply reads a half-written round and computes a wrong number, with no
// error. `join()` would make everyone wait, but only once, and it ends the threads. A
// *barrier* is a meeting point that a fixed number of threads (its *parties*) reach
// over and over: each waits there until all have arrived, then all go on together.
// This lesson lets workers run ahead without one and counts the damage, then uses
// Java's `CyclicBarrier`: its barrier action, its reuse round after round, the two ways
// it breaks (a timeout and an interrupt), how `reset()` mends it, and finally `Phaser`,
// for when parties join or leave along the way.
//
// Run it: `jbang barrier` from the repository root, `jbang jbang-scripts/barrier.java`,
// or with a bare JDK 25, `java jbang-scripts/barrier.java`. Try `--help`.

// %%
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static java.util.concurrent.TimeUnit.SECONDS;

// %% [markdown]
// ## Workers, rounds and a seeded plan
//
// Every worker below does some "work" per round. In the demos the work is a sleep of a
// random length, uniform between a low and a high bound (the seed's workers took 1 to
// 3 seconds). The lengths are drawn up front, on the main thread, from a `Random` with
// a fixed seed, so every run gets the same plan and `--seed` picks another.
// (`ThreadLocalRandom` would be the choice inside workers, but it cannot be seeded.)
// The tests pass other work: latches that hold one worker back, or none at all.
//
// `BarrierCrew` starts named platform threads, joins them all with a deadline and
// rethrows the first failure, so no demo can hang or fail silently.

// %%
/** One worker's share of one round: the demos sleep, the tests wait on latches. */
interface RoundWork {
    void work(int worker, int round) throws InterruptedException;

    /** millis[worker][round - 1], uniform in [from, to], drawn from a seeded Random. */
    static long[][] plan(long seed, int workers, int rounds, long from, long to) {
        var random = new Random(seed);
        var millis = new long[workers][rounds];
        for (long[] row : millis) {
            for (int r = 0; r < rounds; r++) row[r] = random.nextLong(from, to + 1);
        }
        return millis;
    }

    static RoundWork sleeping(long[][] millis) {
        return (worker, round) -> Thread.sleep(millis[worker][round - 1]);
    }
}

// %%
/** Starts named platform threads, joins them with a deadline, rethrows a failure. */
class BarrierCrew {
    static final Duration PATIENCE = Duration.ofSeconds(10);  // the longest wait anywhere

    interface Job { void run() throws Exception; }

    private final List<Thread> threads = new ArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    Thread start(String name, Job job) {
        Thread t = Thread.ofPlatform().name(name).start(() -> {
            try {
                job.run();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        });
        threads.add(t);
        return t;
    }

    void joinAll() throws InterruptedException {
        for (Thread t : threads) {
            if (!t.join(PATIENCE)) {
                throw new IllegalStateException(t.getName() + " did not end in time");
            }
        }
        Throwable e = failure.get();
        if (e != null) throw new IllegalStateException("a worker failed: " + e, e);
    }

    /** Polls until n parties wait inside barrier.await(); never sleeps, never hangs. */
    static void awaitWaiting(CyclicBarrier barrier, int n) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (barrier.getNumberWaiting() < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + barrier.getNumberWaiting()
                        + " of " + n + " parties ever waited");
            }
            Thread.yield();
        }
    }
}

// %% [markdown]
// ## The computation: Pascal's triangle on a ring
//
// Four cells sit on a ring, one worker per cell. Row 0 is `[1, 0, 0, 0]`; in each
// round every cell adds its left neighbour's value from the previous row to its own,
// so the rows are Pascal's triangle: `[1, 1, 0, 0]`, `[1, 2, 1, 0]`, `[1, 3, 3, 1]`
// (from round 4 on, the ring wraps around). A worker's `step` reads the two values it
// needs from the previous row, works on them for a while, then writes its cell of the
// new row. So round `r` must not start until all of row `r - 1` is written: that is
// the job for a barrier. `step` also counts *early reads*: reads of the left
// neighbour's cell before that neighbour had finished the previous round. The right
// answer is the same steps done by one thread, in order.

// %%
class PascalRing {
    static final int CELLS = 4;  // one worker per cell: the barrier's four parties

    record Result(int earlyReads, int reads, int[] lastRow, int[] expected,
                  long wallMillis, long idleMillis) {
        boolean right() { return Arrays.equals(lastRow, expected); }
    }

    static final RoundWork NO_WORK = (cell, round) -> { };

    private final int[][] rows;  // rows[round][cell]; row 0 is the input
    private final AtomicIntegerArray finished = new AtomicIntegerArray(CELLS);
    private final AtomicInteger earlyReads = new AtomicInteger();
    private int roundsComplete;  // written only by the barrier action, one at a time

    PascalRing(int rounds) {
        rows = new int[rounds + 1][CELLS];
        rows[0][0] = 1;
    }

    /** Cell `cell`'s share of round `round`: read row round - 1, work, write. */
    void step(int cell, int round, RoundWork work) throws InterruptedException {
        int left = (cell + CELLS - 1) % CELLS;
        if (finished.get(left) < round - 1) earlyReads.incrementAndGet();  // left lags
        int value = rows[round - 1][cell] + rows[round - 1][left];
        work.work(cell, round);  // computing takes a while
        rows[round][cell] = value;
        finished.set(cell, round);
    }

    static int[] expected(int rounds) throws InterruptedException {
        var ring = new PascalRing(rounds);
        for (int round = 1; round <= rounds; round++) {
            for (int cell = 0; cell < CELLS; cell++) ring.step(cell, round, NO_WORK);
        }
        return ring.rows[rounds];
    }

    private Result result(long startNanos, long idleNanos) throws InterruptedException {
        int rounds = rows.length - 1;
        return new Result(earlyReads.get(), CELLS * rounds, rows[rounds].clone(),
                expected(rounds), (System.nanoTime() - startNanos) / 1_000_000,
                idleNanos / 1_000_000);
    }

    // -- without a barrier ------------------------------------------------------------

    static Result withoutBarrier(int rounds, RoundWork work) throws InterruptedException {
        var ring = new PascalRing(rounds);
        var crew = new BarrierCrew();
        long start = System.nanoTime();
        for (int c = 0; c < CELLS; c++) {
            int cell = c;
            crew.start("cell-" + cell, () -> {
                for (int round = 1; round <= rounds; round++) {
                    ring.step(cell, round, work);  // nothing stops it from running ahead
                }
            });
        }
        crew.joinAll();
        return ring.result(start, 0);
    }

    // -- with a barrier: the action closes each round --------------------------------

    static Result withBarrier(int rounds, RoundWork work, PrintStream out)
            throws InterruptedException {
        var ring = new PascalRing(rounds);
        var idle = new LongAdder();
        var barrier = new CyclicBarrier(CELLS, () -> ring.roundComplete(out));
        var crew = new BarrierCrew();
        long start = System.nanoTime();
        for (int c = 0; c < CELLS; c++) {
            int cell = c;
            crew.start("cell-" + cell, () -> {
                for (int round = 1; round <= rounds; round++) {
                    ring.step(cell, round, work);
                    long arrived = System.nanoTime();
                    barrier.await(BarrierCrew.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
                    idle.add(System.nanoTime() - arrived);
                }
            });
        }
        crew.joinAll();
        return ring.result(start, idle.sum());
    }

    /** The barrier action: runs once per round, in the last cell to arrive. */
    private void roundComplete(PrintStream out) {
        int round = ++roundsComplete;
        out.printf("  round %d complete: %s (barrier action, in %s)%n",
                round, Arrays.toString(rows[round]), Thread.currentThread().getName());
    }

    // -- the demos ---------------------------------------------------------------------

    static long[][] plan(int rounds, long seed, double speed) {
        // a twentieth of the seed's 1 to 3 s, so that several rounds fit in a short run
        return RoundWork.plan(seed, CELLS, rounds, Math.round(50 / speed),
                Math.round(150 / speed));
    }

    static void demoWithoutBarrier(int rounds, long seed, double speed)
            throws InterruptedException {
        long[][] plan = plan(rounds, seed, speed);
        for (int cell = 0; cell < CELLS; cell++) {
            System.out.printf("  cell %d works %s ms in rounds 1 to %d%n",
                    cell, Arrays.toString(plan[cell]), rounds);
        }
        report(withoutBarrier(rounds, RoundWork.sleeping(plan)));
    }

    static void demoWithBarrier(int rounds, long seed, double speed)
            throws InterruptedException {
        Result r = withBarrier(rounds, RoundWork.sleeping(plan(rounds, seed, speed)),
                System.out);
        report(r);
        System.out.printf("  cells idle at the barrier: %,d ms of %,d ms (4 x wall)%n",
                r.idleMillis(), CELLS * r.wallMillis());
    }

    static void report(Result r) {
        System.out.printf("  early reads: %d of %d%n", r.earlyReads(), r.reads());
        System.out.printf("  row %d: %s, expected %s: %s%n", r.reads() / CELLS,
                Arrays.toString(r.lastRow()), Arrays.toString(r.expected()),
                r.right() ? "right" : "WRONG");
        System.out.printf("  wall time: %,d ms%n", r.wallMillis());
    }
}

// %% [markdown]
// ## Without a barrier: workers run ahead
//
// Each cell's worker loops over the rounds on its own: read, work, write, next round.
// The plan printed first says how long each cell works in each round. A cell that is
// ahead of its left neighbour starts the next round and reads the neighbour's cell of
// a row the neighbour has not written yet. That cell still holds Java's default 0, so
// the sum comes out too small: no exception, no warning, just a wrong number that
// every later round builds on. The output counts the early reads and compares the last
// row with the right one. How many reads are early depends on the plan (`--seed`) and
// a little on timing; the tests force a cell to run ahead with latches, so there it
// happens every time.

// %% [run]
// PascalRing.demoWithoutBarrier(3, 42, 1.0);

// %% [markdown]
// Here is the smallest case of what went wrong: the fast cell 1 reads cell 0's entry
// of row 1 before cell 0 has written it.
//
// @diagram barrier-run-ahead

// %% [markdown]
// ## Fix: `CyclicBarrier`
//
// `new CyclicBarrier(4, action)` is a meeting point for four parties. Each calls
// `await()`; the first three block; the fourth, the last to arrive, runs the
// *barrier action* in its own thread, then all four return together. `await()`
// returns the arrival index: 3 for the first to arrive, 0 for the last. The JDK
// promises an order in memory too: whatever a party did before `await()` happens-before
// the action, and the action happens-before every party's return. So after the
// barrier, every party sees everything every other party wrote before it.
//
// This is the seed's run: four workers, each working a random 1 to 3 seconds (divided
// by `--speed`), then meeting at the barrier. The workers print as they go, so the
// order of their lines varies from run to run; the plan does not, because of the
// seed. Look for which worker arrived 4th: the action ran in that same thread.
//
// @diagram barrier-trip

// %%
class BarrierMeeting {
    record Result(String actionThread, String lastToArrive, int passed) { }

    static Result meet(long seed, double speed) throws InterruptedException {
        int parties = 4;
        var random = new Random(seed);
        var actionThread = new AtomicReference<String>();
        var lastToArrive = new AtomicReference<String>();
        var passed = new AtomicInteger();
        var barrier = new CyclicBarrier(parties, () -> {
            actionThread.set(Thread.currentThread().getName());
            System.out.printf("  barrier action, in %s: all %d are here%n",
                    actionThread.get(), parties);
        });
        var crew = new BarrierCrew();
        for (int w = 0; w < parties; w++) {
            int id = w;
            long millis = Math.round(random.nextLong(1_000, 3_001) / speed);
            crew.start("worker-" + id, () -> {
                System.out.printf("  worker-%d works for %,d ms%n", id, millis);
                Thread.sleep(millis);
                System.out.printf("  worker-%d waits at the barrier%n", id);
                int index = barrier.await(BarrierCrew.PATIENCE.toSeconds(), SECONDS);
                if (index == 0) lastToArrive.set(Thread.currentThread().getName());
                passed.incrementAndGet();
                System.out.printf("  worker-%d passed, arrival index %d (arrived #%d)%n",
                        id, index, parties - index);
            });
        }
        crew.joinAll();
        System.out.printf("  %d of %d passed; action ran in %s; last to arrive: %s%n",
                passed.get(), parties, actionThread.get(), lastToArrive.get());
        return new Result(actionThread.get(), lastToArrive.get(), passed.get());
    }
}

// %% [run]
// BarrierMeeting.Result meeting = BarrierMeeting.meet(42, 1.0);

// %% [markdown]
// ## One barrier, every round
//
// A `CyclicBarrier` is *cyclic*: once it trips, it resets itself for the next
// *generation*, so the same object serves every round. Now each cell awaits the
// barrier after writing its cell, and the barrier action, which runs once per round
// before anyone is released, prints the finished row. A plain `int` round counter is
// safe in the action: each action happens-before the next round's action. Same plan
// as before (same seed); the "round complete" lines come out in order, because each
// round's action runs before any cell can start the next round.
//
// The fix has a price: every round now lasts as long as its slowest cell, while the
// others sit idle at the barrier. The last line measures that idle time.

// %% [run]
// PascalRing.demoWithBarrier(3, 42, 1.0);

// %% [markdown]
// ## When the barrier breaks
//
// A barrier is all or nothing. If one party gives up (its `await(timeout)` expires)
// or is interrupted while it waits, the barrier *breaks*: that party gets
// `TimeoutException` or `InterruptedException`, every other waiting party gets
// `BrokenBarrierException`, and so does every party that arrives later, at once,
// until someone calls `reset()`. Nobody is left waiting forever for a round that can
// no longer happen. `BarrierEnding` turns each way a wait can end into a value, so
// the demos can print them from the main thread, in party order, after joining.
//
// @diagram barrier-broken

// %%
/** How one party's barrier.await() ended. */
enum BarrierEnding {
    PASSED, TIMED_OUT, BROKEN, INTERRUPTED;

    /** Waits at the barrier for up to `millis`, and says how the wait ended. */
    static BarrierEnding await(CyclicBarrier barrier, long millis) {
        try {
            barrier.await(millis, TimeUnit.MILLISECONDS);
            return PASSED;
        } catch (TimeoutException e) {
            return TIMED_OUT;
        } catch (BrokenBarrierException e) {
            return BROKEN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();  // keep the flag for the thread's owner
            return INTERRUPTED;
        }
    }

    String shown() {
        return switch (this) {
            case PASSED -> "passed";
            case TIMED_OUT -> "TimeoutException";
            case BROKEN -> "BrokenBarrierException";
            case INTERRUPTED -> "InterruptedException";
        };
    }
}

// %% [markdown]
// ### One party times out
//
// A realistic way to get there: four parties submitted to a pool of only three
// threads. Parties 0, 1 and 2 start and wait; party 3 sits in the pool's queue until a
// thread is free, and no thread will be free until the barrier trips, which needs
// party 3. Party 2 waits with a short timeout and gives up; that breaks the barrier,
// parties 0 and 1 are released with `BrokenBarrierException`, a pool thread is free at
// last, and party 3 runs only to find the barrier already broken. Without any timeout
// parties 0 to 2 would wait forever and party 3 would never start. The outcome is the
// same on every run: nothing here depends on timing but party 2's own timeout.

// %%
class BarrierBreak {
    static final int PARTIES = 4;
    static final long PATIENT = BarrierCrew.PATIENCE.toMillis();

    static List<BarrierEnding> timeout(long impatientMillis) throws InterruptedException {
        var barrier = new CyclicBarrier(PARTIES);
        var endings = new ArrayList<BarrierEnding>();
        // a pool one thread short of the party count
        try (ExecutorService pool = Executors.newFixedThreadPool(PARTIES - 1)) {
            var futures = new ArrayList<Future<BarrierEnding>>();
            for (int p = 0; p < PARTIES; p++) {
                long wait = p == 2 ? impatientMillis : PATIENT;
                futures.add(pool.submit(() -> BarrierEnding.await(barrier, wait)));
            }
            for (var f : futures) endings.add(get(f));
        }
        report(endings, barrier);
        return endings;
    }

    static List<BarrierEnding> interrupt(int victim) throws InterruptedException {
        var barrier = new CyclicBarrier(PARTIES);
        var endings = new BarrierEnding[PARTIES];  // slot p: party p's; join publishes it
        var crew = new BarrierCrew();
        var waiting = new ArrayList<Thread>();
        for (int p = 0; p < PARTIES - 1; p++) {
            int me = p;
            waiting.add(crew.start("party-" + me,
                    () -> endings[me] = BarrierEnding.await(barrier, PATIENT)));
        }
        BarrierCrew.awaitWaiting(barrier, PARTIES - 1);  // three in await(), one to go
        waiting.get(victim).interrupt();
        crew.joinAll();
        endings[PARTIES - 1] = BarrierEnding.await(barrier, PATIENT);  // late party: us
        report(Arrays.asList(endings), barrier);
        return Arrays.asList(endings);
    }

    static List<BarrierEnding> resetAndReuse(long shortMillis)
            throws InterruptedException {
        var barrier = new CyclicBarrier(PARTIES);
        var endings = new ArrayList<BarrierEnding>();
        endings.add(BarrierEnding.await(barrier, shortMillis));
        System.out.printf("  a lone party waits %,d ms: %s; isBroken() = %b%n",
                shortMillis, endings.get(0).shown(), barrier.isBroken());
        endings.add(BarrierEnding.await(barrier, PATIENT));
        System.out.printf("  the next party to arrive: %s, at once%n",
                endings.get(1).shown());

        barrier.reset();
        System.out.printf("  reset(); isBroken() = %b%n", barrier.isBroken());

        var crew = new BarrierCrew();
        var two = new BarrierEnding[2];
        for (int p = 0; p < 2; p++) {
            int me = p;
            crew.start("early-" + me,
                    () -> two[me] = BarrierEnding.await(barrier, PATIENT));
        }
        BarrierCrew.awaitWaiting(barrier, 2);
        barrier.reset();  // with parties waiting: they are broken out of their wait
        crew.joinAll();
        endings.addAll(List.of(two));
        System.out.printf("  reset() while 2 parties wait: %s; isBroken() = %b%n",
                tally(List.of(two)), barrier.isBroken());

        var full = new BarrierEnding[PARTIES];
        var all = new BarrierCrew();
        for (int p = 0; p < PARTIES; p++) {
            int me = p;
            all.start("party-" + me,
                    () -> full[me] = BarrierEnding.await(barrier, PATIENT));
        }
        all.joinAll();
        endings.addAll(List.of(full));
        System.out.printf("  then %d parties on the same barrier: %s%n",
                PARTIES, tally(List.of(full)));
        return endings;
    }

    static void report(List<BarrierEnding> endings, CyclicBarrier barrier) {
        for (int p = 0; p < endings.size(); p++) {
            System.out.printf("  party %d: %s%n", p, endings.get(p).shown());
        }
        System.out.printf("  in all: %s; isBroken() = %b%n",
                tally(endings), barrier.isBroken());
    }

    static String tally(List<BarrierEnding> endings) {
        var counts = new EnumMap<BarrierEnding, Integer>(BarrierEnding.class);
        for (var e : endings) counts.merge(e, 1, Integer::sum);
        var parts = new ArrayList<String>();
        counts.forEach((e, n) -> parts.add(n + " " + e.shown()));
        return String.join(", ", parts);
    }

    private static BarrierEnding get(Future<BarrierEnding> f)
            throws InterruptedException {
        try {
            return f.get(2 * PATIENT, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("a party failed or never ended", e);
        }
    }
}

// %% [run]
// List<BarrierEnding> timedOut = BarrierBreak.timeout(300);

// %% [markdown]
// ### One waiting party is interrupted
//
// Three parties wait; the fourth has not come yet. The main thread first makes sure
// all three really are inside `await()` (it polls `getNumberWaiting()` until it says
// 3), then interrupts party 1. Party 1 gets `InterruptedException` (and, as it should,
// restores its interrupt flag), parties 0 and 2 get `BrokenBarrierException`, and the
// main thread, arriving as the late fourth party, gets one too, at once.

// %% [run]
// List<BarrierEnding> interrupted = BarrierBreak.interrupt(1);

// %% [markdown]
// ### `reset()`
//
// A broken barrier stays broken: every `await()` throws at once. `reset()` starts a
// fresh generation. But calling it while parties are waiting breaks *their* wait: they
// get `BrokenBarrierException`, and the barrier is ready again. So reset a barrier
// only when you know nobody is waiting at it, or, simpler, make a new one.

// %% [run]
// List<BarrierEnding> afterReset = BarrierBreak.resetAndReuse(100);

// %% [markdown]
// ## When a `Phaser` fits better
//
// A `CyclicBarrier` has a fixed number of parties for its whole life. A `Phaser` is a
// reusable barrier whose parties can change between phases: `register()` adds one,
// `arriveAndDeregister()` arrives for the last time and leaves. Its
// `onAdvance(phase, registeredParties)` plays the barrier action's part, and its
// return value decides whether the phaser terminates. `arrive()` does not wait at
// all (useful for a party that only signals), and `awaitAdvanceInterruptibly(phase,
// timeout, unit)` waits with a deadline.
//
// Here worker 3 has only two rounds' worth of work: it arrives for round 2 and leaves.
// With a `CyclicBarrier(4)` the other three would wait for it in round 3 forever (or
// until their timeout broke the barrier); the phaser simply counts three parties from
// then on.

// %%
class PhaserRounds {
    static final int WORKERS = 4;

    /** Rounds of four workers; worker 3 leaves after `leaveAfter`. Parties per round. */
    static List<Integer> run(int rounds, int leaveAfter, RoundWork work, PrintStream out)
            throws InterruptedException {
        var tookPart = new AtomicIntegerArray(rounds + 1);
        var phaser = new Phaser(WORKERS) {
            @Override
            protected boolean onAdvance(int phase, int registeredParties) {
                int round = phase + 1;
                boolean last = round == rounds || registeredParties == 0;
                out.printf("  round %d complete: %d took part; %s%n",
                        round, tookPart.get(round),
                        last ? "that was the last round" : registeredParties + " go on");
                return last;  // true terminates the phaser
            }
        };
        var crew = new BarrierCrew();
        for (int w = 0; w < WORKERS; w++) {
            int me = w;
            crew.start("worker-" + me, () -> {
                for (int round = 1; round <= rounds; round++) {
                    work.work(me, round);
                    tookPart.incrementAndGet(round);
                    if (me == WORKERS - 1 && round == leaveAfter) {
                        phaser.arriveAndDeregister();  // arrive for good; never wait
                        return;
                    }
                    int phase = phaser.arrive();
                    phaser.awaitAdvanceInterruptibly(phase,
                            BarrierCrew.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
                }
            });
        }
        crew.joinAll();
        var parties = new ArrayList<Integer>();
        for (int round = 1; round <= rounds; round++) parties.add(tookPart.get(round));
        return parties;
    }

    static void demo(int rounds, long seed, double speed) throws InterruptedException {
        var plan = RoundWork.plan(seed, WORKERS, rounds, Math.round(50 / speed),
                Math.round(150 / speed));
        var parties = run(rounds, 2, RoundWork.sleeping(plan), System.out);
        System.out.printf("  parties per round: %s%n", parties);
    }
}

// %% [run]
// PhaserRounds.demo(3, 42, 1.0);

// %% [markdown]
// ## Which one to use
//
// | you need | use |
// |---|---|
// | a fixed group of threads to meet, round after round | `CyclicBarrier`, with a barrier action to close each round |
// | one thread to wait until N others are done, once | `CountDownLatch`, or `join()`, or closing an `ExecutorService` |
// | parties that join or leave between rounds | `Phaser` (`register`, `arriveAndDeregister`) |
// | to signal arrival without waiting, or thousands of parties | `Phaser` (`arrive`; tiered phasers) |
// | a wait that must not break the others when it gives up | `Phaser.awaitAdvanceInterruptibly(phase, timeout, unit)` |
//
// ## Pitfalls
//
// - **Fewer threads than parties waits forever.** Four barrier parties on a pool of
//   three threads never meet, as the timeout demo shows. Give each party its own
//   thread (a virtual thread per task is cheap), and wait with a timeout.
// - **Breaking is for everyone.** One timeout or one interrupt breaks the barrier for
//   all parties, including those still on their way. Catch `BrokenBarrierException`
//   and decide what the whole group does next; do not retry the same `await()`.
// - **A `CyclicBarrier` timeout breaks the barrier; a `Phaser` timeout does not.**
//   `Phaser.awaitAdvanceInterruptibly` throws `TimeoutException` to the waiter alone
//   and the phase goes on without harm (the tests check both).
// - **`reset()` with parties waiting breaks their wait.** Prefer a new barrier.
// - **The barrier action runs in a worker's thread, while all the others wait.** Keep
//   it short. If it throws, the barrier breaks: the exception goes up in the last
//   thread to arrive and every other party gets `BrokenBarrierException`.
// - **Do not swallow `InterruptedException`.** Restore the flag
//   (`Thread.currentThread().interrupt()`) or rethrow, as `BarrierEnding` does.
// - **Printing from workers interleaves.** Print the results from the main thread
//   after joining, when the order matters.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `threading.Barrier(4)` | `new CyclicBarrier(4)` |
// | `threading.Barrier(4, action=f)` | `new CyclicBarrier(4, f)`: runs in the last thread to arrive |
// | `barrier.wait()` returns a distinct int per thread | `await()` returns the arrival index: 3 for the first to arrive, 0 for the last |
// | `barrier.wait(timeout=2)` breaks the barrier on timeout | `await(2, SECONDS)`: `TimeoutException`, and the barrier breaks, the same |
// | `threading.BrokenBarrierError` | `BrokenBarrierException` (checked) |
// | `barrier.reset()` | `reset()` |
// | `barrier.abort()` | no such method: interrupt a waiter, or `reset()` (which leaves it usable) |
// | `n_waiting`, `parties`, `broken` | `getNumberWaiting()`, `getParties()`, `isBroken()` |
// | `random.uniform(1, 3)` | a seeded `new Random(seed).nextLong(1_000, 3_001)` ms |
// | (nothing) | `Phaser`: parties register and deregister between phases |
//
// Related lessons: `counter` (its race starts every thread at a `CyclicBarrier`),
// `event` (one-shot signals such as `CountDownLatch`), `threads` (starting, joining,
// interrupting), `thread_pool` (executors and their sizes), `deadlock` (waits that
// never end).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line;
// a bad option prints one line and exits with status 2.

// %%
class barrier {
    static final String USAGE = """
            Usage: barrier [options]
              --rounds N      rounds of the Pascal ring and the Phaser demo (default 3)
              --seed N        seed of the random work times (default 42)
              --speed X       divides work and timeouts: 2 = twice as fast (default 1)
              --help          print this and exit""";

    record Options(int rounds, int seed, double speed) { }

    public static void main(String[] args) throws InterruptedException {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("barrier: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        System.out.println("== Without a barrier: workers run ahead ==");
        PascalRing.demoWithoutBarrier(o.rounds(), o.seed(), o.speed());
        System.out.println("\n== CyclicBarrier: the seed's four workers ==");
        BarrierMeeting.meet(o.seed(), o.speed());
        System.out.println("\n== One barrier, every round ==");
        PascalRing.demoWithBarrier(o.rounds(), o.seed(), o.speed());
        System.out.println("\n== Broken: one party times out ==");
        BarrierBreak.timeout(Math.round(300 / o.speed()));
        System.out.println("\n== Broken: one waiting party is interrupted ==");
        BarrierBreak.interrupt(1);
        System.out.println("\n== reset() ==");
        BarrierBreak.resetAndReuse(Math.round(100 / o.speed()));
        System.out.println("\n== Phaser: worker 3 leaves after round 2 ==");
        PhaserRounds.demo(o.rounds(), o.seed(), o.speed());
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
                count("--rounds", given.getOrDefault("--rounds", "3")),
                count("--seed", given.getOrDefault("--seed", "42")),
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
