///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Barrier: nobody goes on until everyone has arrived
//
// Four workers each compute a part of a round, and the next phase needs all four parts.
// A worker that finishes early and goes straight on reads a round that is not done yet,
// and nothing warns it. A barrier holds every worker at the end of the phase until the
// last one arrives, then lets them all go together.
//
// **You will learn**
// - `CyclicBarrier(4, action)`: how it trips, where the barrier action runs, and what
//   `await()` returns (it counts down, unlike CPython's)
// - what goes wrong without a barrier: a worker runs ahead into the next phase
// - to reuse one barrier round after round
// - how one timeout or one interrupt breaks a barrier for every other party
// - when a `Phaser` fits better: parties that leave (or join) between rounds

// %%
import java.util.*;
import java.util.concurrent.*;
import java.util.stream.*;
import static java.util.concurrent.TimeUnit.*;

/** Named workers, pauses that --speed scales (BarrierSeed's only get shorter), and
 *  waits that outlast the pauses. */
class Pace {
    interface Job { void run(int id) throws Exception; }
    static void pause(long millis, double speed) throws InterruptedException {
        Thread.sleep(Math.round(millis / speed));
    }
    static long patience(double speed) { return Math.round(10_000 / Math.min(speed, 1)); }

    static Thread worker(int id, Job job) {
        return Thread.ofPlatform().name("worker-" + id).start(() -> {
            try {
                job.run(id);
            } catch (Exception e) {  // a bug in a demo: say so in its own output
                System.out.println("  worker-" + id + " failed: " + e);
            }
        });
    }

    static List<Thread> start(int workers, Job job) {
        return IntStream.range(0, workers).mapToObj(id -> worker(id, job)).toList();
    }

    static void joinAll(List<Thread> threads, double speed) throws InterruptedException {
        for (Thread t : threads) {
            t.join(2 * patience(speed));
            if (t.isAlive()) throw new IllegalStateException(t.getName() + " is stuck");
        }
    }
}

// %% [markdown]
// ## The seed's four workers meet at a `CyclicBarrier`
//
// `new CyclicBarrier(4, action)` is a meeting point for four *parties*. Each worker
// calls `await()` when its work is done. The first three to arrive are *parked* there:
// they wait, using no CPU. The fourth, the last to arrive, runs the *barrier action* in
// its own thread, and only then are all four released: the barrier *trips*. `await()`
// returns the arrival index: 3 to the first to arrive, then 2 and 1, and 0 to the last,
// the one that ran the action. (The seed's barrier has no action: this one prints.)
//
// As in the seed, each worker works a random 1 to 3 seconds (`--speed 2` halves that;
// slower speeds keep it), so the order of the lines, and the worker that runs the
// action, change from run to run. Every run shows all four "waiting" lines before the
// action's line, and the action's line before every "passed" line.
//
// @diagram barrier-trip

// %%
class BarrierSeed {
    static void meet(double speed) throws InterruptedException {
        var barrier = new CyclicBarrier(4, () -> System.out.println("Barrier action in "
                + Thread.currentThread().getName() + ", the last to arrive"));
        double[] secs = ThreadLocalRandom.current().doubles(4, 1, 3)  // below speed 1,
                .map(s -> s / Math.max(speed, 1)).toArray();          // the seed's 1-3 s
        Pace.joinAll(Pace.start(4, id -> {
            System.out.printf(Locale.ROOT, "Worker %d working for %.1fs%n", id, secs[id]);
            Thread.sleep(Math.round(secs[id] * 1000));
            System.out.printf("Worker %d waiting at barrier%n", id);
            try {
                barrier.await(Pace.patience(speed), MILLISECONDS);
                System.out.printf("Worker %d passed barrier%n", id);
            } catch (BrokenBarrierException | TimeoutException e) {
                System.out.printf("Worker %d: barrier broken%n", id);
            }
        }), speed);
    }
}

// %% [run]
// BarrierSeed.meet(1);

// %% [markdown]
// ## Without a barrier: a worker runs ahead
//
// Now the work comes in rounds of two phases. In phase 1 each worker computes its part
// (worker *i*'s part is *i* + 1) and writes it to `parts`; in phase 2 it adds up all
// four parts: the right total is 10. With no barrier between the phases, nothing stops
// a worker that is done with phase 1 from reading parts that are not written yet. It
// reads 0 for them, and its total is too small, with no error.
//
// Who runs ahead is down to timing, so this demo forces one order, the same on every
// run: a latch holds each worker in phase 1 until the one before it has finished. Worker
// 0 reads 1 part of 4, worker 1 two, worker 2 three; only worker 3, the last, sees all.
//
// @diagram barrier-run-ahead

// %%
class Rounds {
    static final int WORKERS = 4, TOTAL = 10;  // worker i's part is i + 1
    interface Work { void phaseOne(int worker, int round) throws Exception; }

    final int[][] parts, totals, indexes;  // [round][worker]
    final CyclicBarrier barrier;           // null: no barrier between the phases
    private int round;                     // the action's count of rounds

    Rounds(int rounds, boolean withBarrier, boolean print) {
        parts = new int[rounds][WORKERS]; totals = new int[rounds][WORKERS];
        indexes = new int[rounds][WORKERS];
        barrier = !withBarrier ? null : new CyclicBarrier(WORKERS, () -> {
            int total = IntStream.of(parts[round++]).sum();  // the round just done
            if (print) System.out.printf("  round %d: total %d, action in %s%n", round,
                    total, Thread.currentThread().getName());
        });
    }

    /** One worker: each round, phase 1 writes its part, phase 2 adds up all four. */
    void work(int me, Work work, long patience) throws Exception {
        for (int r = 0; r < parts.length; r++) {
            work.phaseOne(me, r);  // computing its part takes a while
            parts[r][me] = me + 1;
            if (barrier != null) indexes[r][me] = barrier.await(patience, MILLISECONDS);
            totals[r][me] = IntStream.of(parts[r]).sum();  // phase 2 needs every part
        }
    }

    static int[] runAhead(double speed) throws Exception {
        var rounds = new Rounds(1, false, false);
        var turn = Stream.generate(() -> new CountDownLatch(1)).limit(WORKERS).toList();
        long patience = Pace.patience(speed);
        var workers = Pace.start(WORKERS, me -> rounds.work(me, (w, r) -> {
            turn.get(w).await(patience, MILLISECONDS);  // forces the order
            Pace.pause(400, speed);
        }, patience));
        for (int w = 0; w < WORKERS; w++) {
            turn.get(w).countDown();  // worker w may finish phase 1, and read the total
            Pace.joinAll(List.of(workers.get(w)), speed);
            int total = rounds.totals[0][w];
            System.out.printf("  worker-%d wrote part %d, then read a total of %2d: %s%n",
                    w, w + 1, total, total == TOTAL ? "right" : "WRONG, and no error");
        }
        return rounds.totals[0];
    }
}

// %% [run]
// int[] totalsRead = Rounds.runAhead(1);

// %% [markdown]
// ## One barrier, every round
//
// The fix is one call in `Rounds.work`: `barrier.await()` between the phases. A
// `CyclicBarrier` is *cyclic*: when it trips it starts a new *generation*, so one
// object serves every round. Here the workers work a random time each round, and the
// barrier action prints the round's total once, in the last worker to arrive, before
// anyone goes on. Then each round lists what `await()` returned to each worker: 3, 2, 1
// and 0 in some order, and the 0 went to the worker that ran the action. (The tests
// force the arrivals one at a time: the first to arrive gets 3, the last 0.)
//
// The barrier also orders memory: what a party did before `await()` happens-before the
// barrier action, which happens-before every party's return from `await()`. So after
// the barrier every worker sees every part of the plain array `parts`, and the action's
// plain `round` counter is safe. Without a barrier (and without the demo's latches),
// reading `parts` is a data race: a worker may miss even a part already written.

// %%
class EveryRound {
    static Rounds run(double speed) throws Exception {
        var rounds = new Rounds(3, true, true);
        Pace.joinAll(Pace.start(4, me -> rounds.work(me, (w, r) -> Pace.pause(
                ThreadLocalRandom.current().nextLong(100, 500), speed),
                Pace.patience(speed))), speed);
        for (int r = 0; r < 3; r++) {
            int[] index = rounds.indexes[r];  // worker w's arrival index in round r
            System.out.printf("  round %d, await() returned: %s%n", r + 1,
                    IntStream.range(0, 4).mapToObj(w -> "worker-" + w + " " + index[w])
                            .collect(Collectors.joining(", ")));
        }
        boolean right = Stream.of(rounds.totals).flatMapToInt(IntStream::of)
                .allMatch(total -> total == Rounds.TOTAL);
        System.out.println("  every worker read a total of 10 in every round: " + right);
        return rounds;
    }
}

// %% [run]
// Rounds threeRounds = EveryRound.run(1);

// %% [markdown]
// ## A broken barrier: one failure stops everyone
//
// A barrier is all or nothing. If one party's `await(timeout, unit)` runs out, or a
// waiting party is interrupted, the barrier *breaks*. That party gets `TimeoutException`
// or `InterruptedException`; every other waiting party gets `BrokenBarrierException`
// (`InterruptedException` if it too was interrupted), as does every later arrival, at
// once: nobody waits for a lost round. The barrier stays broken until `reset()`.
//
// The demo forces the order: workers 0, 1 and 2 arrive one after another (`parked`
// polls `getNumberWaiting()`, meant for debugging and assertions, only to stage this),
// and worker 3 comes when they are done. First worker 2 gives up after `giveUp`; then,
// on a new barrier, the demo interrupts worker 1. `BarrierBreak.await` names how each
// wait ended, and sets the interrupt flag again.
//
// @diagram barrier-broken

// %%
class BarrierBreak {
    static String await(CyclicBarrier barrier, long millis) {
        try {
            return "passed, index " + barrier.await(millis, MILLISECONDS);
        } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            return e.getClass().getSimpleName();
        }
    }

    static List<String> run(boolean interrupt, double speed) throws Exception {
        var barrier = new CyclicBarrier(4);
        long patience = Pace.patience(speed), giveUp = Math.round(500 / speed);
        var ended = new String[4];
        var threads = new ArrayList<Thread>();
        int parked = 0;
        for (int id = 0; id < 3; id++) {
            long wait = id == 2 && !interrupt ? giveUp : patience;
            threads.add(Pace.worker(id, me -> ended[me] = await(barrier, wait)));
            if (wait == patience) parked = parked(barrier, id + 1, patience);
        }
        System.out.printf("  %d parked; worker-%s; worker-3 is late%n", parked,
                interrupt ? "1 is interrupted" : "2 gives up after " + giveUp + " ms");
        if (interrupt) {
            Pace.pause(500, speed);
            threads.get(1).interrupt();
        }
        Pace.joinAll(threads, speed);
        var late = Pace.worker(3, me -> ended[me] = await(barrier, patience));
        Pace.joinAll(List.of(late), speed);
        for (int i = 0; i < 4; i++) System.out.printf("  worker-%d: %s%n", i, ended[i]);
        System.out.println("  isBroken(): " + barrier.isBroken());
        return List.of(ended);
    }

    static int parked(CyclicBarrier barrier, int n, long patience) throws Exception {
        for (long ms = 0; barrier.getNumberWaiting() < n; ms++, Thread.sleep(1))
            if (ms > patience) throw new TimeoutException(n + " not parked in time");
        return barrier.getNumberWaiting();
    }
}

// %% [run]
// List<String> timedOut = BarrierBreak.run(false, 1);
// List<String> interrupted = BarrierBreak.run(true, 1);

// %% [markdown]
// ## When the parties change: `Phaser`
//
// A `CyclicBarrier` has the same number of parties all its life. A `Phaser` is a
// reusable barrier whose parties can change: `register()` adds one, and
// `arriveAndDeregister()` arrives one last time and leaves, without waiting. Its
// `onAdvance(phase, registeredParties)` plays the barrier action; `true` ends the phaser.
// `arriveAndAwaitAdvance()` has no timeout, so the workers call `arrive()`, which returns
// the phase they arrived in, then `awaitAdvanceInterruptibly(phase, timeout, unit)`.
// Worker 3 has only two rounds of work: its `arriveAndDeregister()` is its arrival in
// round 2, so round 2 already ends with 3 registered. A `CyclicBarrier(4)` would hold the
// other three in round 3 until a timeout broke it; the phaser goes on. (One thread
// waiting once for n others fits a `CountDownLatch(n)`: see the `event` lesson.)

// %%
class PhaserLeave {
    static List<Integer> run(double speed) throws Exception {
        var registered = new ArrayList<Integer>();  // after each round
        var phaser = new Phaser(4) {
            protected boolean onAdvance(int phase, int parties) {
                registered.add(parties);
                System.out.printf("  round %d done, %d registered%n", phase + 1, parties);
                return phase == 2;  // after round 3: true ends the phaser
            }
        };
        long patience = Pace.patience(speed);
        Pace.joinAll(Pace.start(4, me -> {
            for (int r = 0; r < 3; r++) {
                Pace.pause(ThreadLocalRandom.current().nextLong(100, 500), speed);
                if (me == 3 && r == 1) {
                    System.out.printf("  worker-3 arrives for round %d, leaves%n", r + 1);
                    phaser.arriveAndDeregister();
                    return;
                }
                phaser.awaitAdvanceInterruptibly(phaser.arrive(), patience, MILLISECONDS);
            }
        }), speed);
        return registered;
    }
}

// %% [run]
// List<Integer> registered = PhaserLeave.run(1);

// %% [markdown]
// ## Pitfalls
//
// - **Fewer threads than parties never trips.** Four parties submitted to a pool of
//   three threads wait forever: the fourth never gets a thread. Wait with a timeout.
// - **Breaking is for everyone, and it lasts.** Another `await()` only throws again;
//   `reset()` mends it but breaks any wait in progress: a new barrier is simpler.
// - **The barrier action runs while every other party waits.** Keep it short. If it
//   throws, the exception goes up in the last party and the barrier breaks.
// - **A `Phaser` timeout breaks nothing.** `awaitAdvanceInterruptibly` throws
//   `TimeoutException` to that waiter alone, and the phaser goes on.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `threading.Barrier(4, action=f)` | `new CyclicBarrier(4, f)` |
// | `barrier.wait()`, `wait(timeout=2)` | `await()`, `await(2, SECONDS)` |
// | `BrokenBarrierError` | `BrokenBarrierException` (checked) |
// | `random.uniform(1, 3)`, `time.sleep(t)` | `ThreadLocalRandom`, `Thread.sleep(ms)` |
// | `reset()`, `abort()` | `reset()`; no `abort()` (see below) |
//
// Python's `wait()` gives each thread a different number from 0 to parties − 1; CPython
// counts up, 0 to the first to arrive. Java's `await()` counts down: `getParties() - 1`
// to the first, 0 to the last, which runs the action. A Python party whose own wait
// times out gets `BrokenBarrierError` like the others; Java's gets `TimeoutException`.
// Python's `abort()` breaks the barrier for waiting and future parties; Java has none:
// interrupting a waiting party (or one that times out) breaks it for the others.
//
// ## Try it
//
// - Run `jbang barrier rounds` a few times: who arrives when is down to timing, so the
//   3, 2, 1 and 0 move between workers, but the 0 is always the action's worker.
// - In `PhaserLeave.run`, make worker 3 leave at `r == 0`: three parties are
//   registered from round 1 on.
// - In `EveryRound.run`, make it `new Rounds(3, false, true)`: no barrier, no action, no
//   `await()` (its lines show only 0s), and the last line says `false`.
//
// ## Summary
//
// A `CyclicBarrier` holds each party at `await()` until all have arrived, runs the
// barrier action in the last to arrive, then lets them all go, round after round.
//
// Without a barrier, a worker that finishes early runs into the next phase and reads
// unfinished work, silently. One timeout or one interrupt breaks the barrier for every
// other party, which gets `BrokenBarrierException`. Java's arrival index counts down
// where CPython's counts up. When parties come and go between rounds, use a `Phaser`.

// %% [main]
class barrier {  // the entry point, script only: `jbang barrier --help`
    static final Section[] SECTIONS = {
            new Section("seed", "the seed's 4 workers at a barrier", BarrierSeed::meet),
            new Section("runahead", "no barrier: a worker runs ahead", Rounds::runAhead),
            new Section("rounds", "one barrier for every round", EveryRound::run),
            new Section("broken", "a timeout, then an interrupt, breaks it", speed -> {
                    BarrierBreak.run(false, speed); BarrierBreak.run(true, speed); }),
            new Section("phaser", "a worker leaves, a Phaser goes on", PhaserLeave::run)};
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
