///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Shared resource: a lock guard for try-with-resources
//
// Ten workers share one map, `{"count": 0}`: each reads the count, sleeps 10 ms, and
// writes the count plus one. The Python seed guards the map with a `@contextmanager`
// that locks, yields the map and unlocks, and ends at 10; without the lock the workers
// read 0 during each other's sleep and most updates vanish. Java's counterpart is an
// `AutoCloseable` guard used with try-with-resources.
//
// **You will learn**
// - to write a guard whose `close()` unlocks, and use it with try-with-resources
// - what the guard protects (the code inside its block) and what it cannot (a reference
//   to the data that escapes the block)
// - why a thread-safe map does not make a read-sleep-write update safe
// - what holding a lock across a sleep costs the workers that wait

// %%
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.concurrent.locks.*;
import java.util.function.*;
import java.util.stream.*;

// %% [markdown]
// ## The guard
//
// `acquire()` locks and returns a `Guard`; the guard's `close()` unlocks. Written in the
// header of a `try`, the guard is closed when the block ends, whether it completes or
// throws (JLS 14.20.3), so the unlock cannot be forgotten: this is `lock()`, `try`,
// `finally { unlock(); }` from the `counter` lesson, written once, inside the class.
//
// Like the seed, which yields its dict, the guard hands out the live map with `data()`.
// The map is a plain `HashMap`: only the lock keeps two threads out of it at once, and
// the lock also makes each holder see the last holder's writes: the `Lock` interface
// promises the same memory effects as `synchronized`, and JLS 17.4.5 makes an unlock
// *happen-before* every later lock.
// `data()` refuses a closed guard, or a guard used by a thread that does not hold the
// lock; `close()` does nothing the second time.

// %%
class SharedResource {
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Integer> data = new HashMap<>(Map.of("count", 0));

    Guard acquire() {  // the seed's acquire(), up to its yield
        lock.lock();
        return new Guard();
    }

    final class Guard implements AutoCloseable {
        private boolean open = true;  // read and written only with the lock held

        Map<String, Integer> data() {  // the live map, as the seed yields its dict
            if (!lock.isHeldByCurrentThread() || !open) {
                throw new IllegalStateException("guard closed, or not this thread's");
            }
            return data;
        }

        @Override
        public void close() {  // the seed's `finally: self._lock.release()`
            if (lock.isHeldByCurrentThread() && open) {
                open = false;
                lock.unlock();
            }
        }
    }
}

// %% [markdown]
// ## The seed's program
//
// The seed's worker, in two parts so that the next section can reuse the update:
// `update` reads the count, does the work (the seed's `time.sleep(0.01)`), writes the
// count plus one and prints it; `worker` runs the update inside the guard. The
// harness starts ten workers, joins them (with a timeout, so nothing can hang) and
// reports how long they took. `Overlap` wraps the work and counts the workers inside
// it at the same moment, keeping the most.
//
// The picture shows two of the ten workers; which one locks first changes from run to
// run. A worker that calls `acquire()` while another holds the guard waits in `lock()`:
// after a brief spin it parks (`WAITING`) until an `unlock()` wakes it to try again.
//
// @diagram shared_resource-guard

// %%
class Workers {
    static void update(Map<String, Integer> data, int id, Runnable work) {
        int current = data.get("count");
        work.run();  // simulate some processing
        data.put("count", current + 1);
        System.out.printf("Worker %d: count = %d%n", id, data.get("count"));
    }

    static void worker(SharedResource resource, int id, Runnable work) {
        try (var guard = resource.acquire()) {
            update(guard.data(), id, work);
        }
    }

    /** Runs ten workers, each given its id, joins them; returns the milliseconds. */
    static long runTen(IntConsumer worker, Duration pause) throws InterruptedException {
        long started = System.nanoTime();
        var threads = IntStream.range(0, 10).mapToObj(id -> Thread.ofPlatform()
                .name("worker-" + id).start(() -> worker.accept(id))).toList();
        var patience = Duration.ofSeconds(10).plus(pause.multipliedBy(100));
        for (Thread t : threads) {
            if (!t.join(patience)) throw new IllegalStateException(t + " never ended");
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    }

    static final class Overlap {  // counts the workers inside the work at one time
        private final AtomicInteger inside = new AtomicInteger();
        private final AtomicInteger most = new AtomicInteger();

        Runnable around(Runnable work) {
            return () -> {
                most.accumulateAndGet(inside.incrementAndGet(), Math::max);
                try {
                    work.run();
                } finally {
                    inside.decrementAndGet();
                }
            };
        }

        int most() { return most.get(); }
    }

    static Runnable sleep(Duration pause) {
        return () -> {
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }
}

// %% [markdown]
// The run below is the seed's: ten workers, a 10 ms pause. The worker numbers come out
// in any order (whoever gets the lock next goes next; a `ReentrantLock` is not fair),
// but the counts always climb from 1 to 10, because each worker prints while it still
// holds the guard. The last line is the seed's.
//
// The cost shows in the two lines before it. Each worker sleeps with the lock held, so
// never more than one sleeps at a time, and the ten workers take at least ten pauses:
// thread start-up, waking each waiting worker in turn, and the machine's other work
// add the rest. Here that is the price of a correct answer: the write needs the read.

// %%
class SeedProgram {
    static int guarded(Duration pause) throws InterruptedException {
        var resource = new SharedResource();
        var sleeping = new Workers.Overlap();
        long millis = Workers.runTen(id -> Workers.worker(resource, id,
                sleeping.around(Workers.sleep(pause))), pause);
        System.out.println("most workers sleeping at once: " + sleeping.most());
        System.out.printf("ten workers took %d ms; ten pauses alone take %d ms%n",
                millis, pause.multipliedBy(10).toMillis());
        try (var guard = resource.acquire()) {
            int count = guard.data().get("count");
            System.out.println("Final count: " + count);  // the seed's last line
            return count;
        }
    }
}

// %% [run]
// int finalCount = SeedProgram.guarded(Duration.ofMillis(10));

// %% [markdown]
// ## Without the guard
//
// The same ten workers run `update` straight on a shared map, with no guard. The map
// is a `ConcurrentHashMap`, so each `get` and each `put` is thread-safe on its own; the
// update is a `get`, a 10 ms sleep and a `put`, and nothing keeps the other workers
// out between them, so usually most of them read 0 before any of them writes.
//
// @diagram shared_resource-race

// %%
class Unguarded {
    static int race(Duration pause) throws InterruptedException {
        var data = new ConcurrentHashMap<>(Map.of("count", 0));
        var sleeping = new Workers.Overlap();
        Workers.runTen(id -> Workers.update(data, id,
                sleeping.around(Workers.sleep(pause))), pause);
        System.out.println("most workers sleeping at once: " + sleeping.most());
        int count = data.get("count");
        System.out.printf("Final count: %d (%d of 10 updates lost)%n", count, 10 - count);
        return count;
    }
}

// %% [run]
// int raceCount = Unguarded.race(Duration.ofMillis(10));

// %% [markdown]
// Usually most workers print `count = 1`: each wrote 0 + 1 over the others' 0 + 1.
// Like the seed, a worker prints the map's count just after its own `put`, so it may
// print another worker's later write, and the lines need not come in count order.
//
// With no lock, usually several workers sleep at once, where the guarded run never had
// more than one. Two workers asleep together have both read and neither has written,
// so an update is lost: the count could reach 10 only if each worker read after the one
// before it wrote. The final count is small and varies between runs. The tests
// do not count on timing: they hold every worker between its read and its write until
// all ten have read; then all ten sleep at once, and the count is exactly 1.
//
// ## What the guard cannot protect
//
// The lock covers the code between `acquire()` and `close()`, not the map. A reference
// that leaves the block still reaches the map, and nothing checks it. Below, the caller
// keeps the map from one guarded block in `kept`. A worker named `holder` then takes
// the guard and reads the count; while it holds the guard, the caller writes 100
// through `kept`, without the lock, and no error stops it. Then `holder` writes its
// stale 0 + 1, and the 100 is gone. Two latches force this order on every run.
//
// @diagram shared_resource-escape

// %%
class Escape {
    static int show() throws InterruptedException {
        var resource = new SharedResource();
        Map<String, Integer> kept;
        try (var guard = resource.acquire()) {
            kept = guard.data();  // the map leaves the block with this reference
        }
        var holderHasRead = new CountDownLatch(1);
        var keptWritten = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().name("holder").start(() -> {
            try (var guard = resource.acquire()) {
                int current = guard.data().get("count");
                System.out.println("holder: holds the guard, reads count = " + current);
                holderHasRead.countDown();
                await(keptWritten, 10_000);
                guard.data().put("count", current + 1);
                System.out.println("holder: writes count = " + (current + 1));
            }
        });
        await(holderHasRead, 10_000);
        kept.put("count", 100);  // no lock held, and nothing checks
        System.out.println("caller: kept.put(\"count\", 100) accepted, no lock held");
        keptWritten.countDown();
        if (!holder.join(Duration.ofSeconds(10))) throw new IllegalStateException("hung");
        SharedResource.Guard keptGuard;
        try (var guard = resource.acquire()) {
            keptGuard = guard;
            System.out.println("count = " + guard.data().get("count")
                    + ": the write through kept is lost");
        }
        try {
            keptGuard.data();
        } catch (IllegalStateException e) {
            System.out.println("a guard kept past its block: data() throws, \""
                    + e.getMessage() + "\"");
        }
        return kept.get("count");
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
}

// %% [run]
// int escapeCount = Escape.show();

// %% [markdown]
// The guard can catch its own misuse, as the last line shows: a guard kept past its
// block refuses to hand out the map again. It cannot reach into a reference it has
// already handed out. So a guard that must be safe hands out no mutable reference: give
// it methods that read and write under the lock (and check the guard each time), or
// let only a copy, `Map.copyOf(guard.data())`, leave the block.
//
// ## Pitfalls
//
// - **A reference that leaves the block is unguarded.** The map, an iterator over it, a
//   mutable object stored in it: anything mutable that escapes is read and written
//   without the lock. Copy what must leave.
// - **Call `acquire()` in the `try` header.** `var guard = resource.acquire();` on a
//   line of its own, then `try (guard)`, leaves the lock held for good if anything
//   throws in between.
// - **Everything inside the lock runs one thread at a time.** The seed sleeps with the
//   lock held, so ten workers take at least ten pauses. Do slow work that does not
//   depend on the shared data before `acquire()`; when it does depend on it, as here,
//   either hold the lock or compute outside and redo the work if the data changed.
// - **A lock is not a transaction.** When the body throws, `close()` unlocks, but the
//   writes made before the throw stay.
// - **A thread-safe map is not a thread-safe update.** For one key and no slow work,
//   `ConcurrentHashMap.merge("count", 1, Integer::sum)` is atomic; a read, a pause and
//   a write are not.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `self._lock = threading.Lock()` | `new ReentrantLock()` (reentrant, like `threading.RLock`) |
// | `@contextmanager def acquire(self):` | `Guard acquire() { lock.lock(); return new Guard(); }` |
// | `try: yield self._data` / `finally: self._lock.release()` | `guard.data()`; `close()` unlocks |
// | `with resource.acquire() as data:` | `try (var guard = resource.acquire()) { ... }` |
// | `time.sleep(0.01)` | `Thread.sleep(Duration.ofMillis(10))` |
//
// The GIL does not save the seed's worker without the lock either: `time.sleep`
// releases it, so in CPython too the others read while one sleeps. Python's `Lock` is not
// reentrant: a worker that acquires the resource twice deadlocks there, while Java's
// `ReentrantLock` counts a second hold, and each guard releases one.
//
// ## Try it
//
// - Run `jbang shared_resource seed --speed 0.1`: each pause is now 100 ms, and the
//   workers visibly take turns, one line every tenth of a second or so.
// - Run `jbang shared_resource seed race` and compare the lines `most workers sleeping
//   at once`: always 1 with the guard, usually several without it.
// - In `Workers.update`, move `work.run()` below the `put`, then run `race`: the final
//   count is usually 10 now, though the workers still sleep at once. The race is still
//   there, only too narrow to hit often.
//
// ## Summary
//
// An `AutoCloseable` guard in try-with-resources is Java's `with resource.acquire()
// as data:`: it unlocks however the block ends, but it guards only the code inside the
// block, so no mutable reference to the data may leave it.
//
// Without the guard, a read, a pause and a write interleave and updates vanish, even
// on a thread-safe map. With it, the ten updates are exact, and they take at least ten
// pauses, because each worker sleeps with the lock held: keep slow work that does not
// depend on the data out of the lock. A guard can refuse its own use after `close()`,
// but not the use of a reference it has handed out: copy what must leave the block.

// %% [main]
class shared_resource {  // the entry point, script only: `jbang shared_resource --help`
    static final Section[] SECTIONS = {
            new Section("seed", "the seed's ten workers, each inside the guard",
                    speed -> SeedProgram.guarded(Duration.ofNanos((long) (1e7 / speed)))),
            new Section("race", "the same ten workers without the guard: updates lost",
                    speed -> Unguarded.race(Duration.ofNanos((long) (1e7 / speed)))),
            new Section("escape", "a map kept past its block writes without the lock",
                    speed -> Escape.show())};
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
