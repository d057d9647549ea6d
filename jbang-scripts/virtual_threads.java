///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Virtual threads: ten thousand blocking tasks, written as plain code
//
// The Python seed advises: "Consider asyncio for I/O-bound concurrency instead of
// threads." The advice exists because an operating-system thread is costly. Each one
// reserves a stack of its own, the kernel has to schedule it, and a server therefore
// keeps a pool of a few hundred of them. When each request spends most of its time
// waiting on a database or a remote service, that pool fills up with threads doing
// nothing but waiting, and new requests queue behind them. asyncio avoids this by
// rewriting the waiting code as coroutines (`async def`, `await`). Java 21 took
// another route: **virtual threads**. They are cheap enough to give every task its own
// thread, and the code stays ordinary blocking code. This lesson runs 10,000 blocking
// tasks on a pool of 200 platform threads, the usual size for a server pool, and then
// on virtual threads. It measures time and memory for both, shows how the same
// sequential code scales unchanged, and shows that `synchronized` no longer pins a
// virtual thread since JDK 24. It ends with how to bound concurrency once threads are
// no longer the thing that limits it.
//
// The `threads` lesson had a first look at `Thread.ofVirtual()`. This lesson covers
// them in more depth.
//
// Run it: `jbang virtual_threads` from the repository root,
// `jbang jbang-scripts/virtual_threads.java`, or with a bare JDK 25,
// `java jbang-scripts/virtual_threads.java`. Try `--help`.

// %%
import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

// %% [markdown]
// ## Waiting, with a limit
//
// Every wait in this lesson has a time limit, so a mistake produces a clear error
// message and never a hang.

// %%
class VirtualWaits {
    static final Duration PATIENCE = Duration.ofSeconds(20);

    static <T> T get(Future<T> future) throws InterruptedException, ExecutionException {
        try {
            return future.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("a task did not finish within "
                    + PATIENCE.toSeconds() + " s", e);
        }
    }

    static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException("waited " + PATIENCE.toSeconds()
                    + " s for a step that never happened");
        }
    }

    static void join(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            if (!t.join(PATIENCE)) {
                throw new IllegalStateException("'" + t.getName()
                        + "' still running after " + PATIENCE.toSeconds() + " s");
            }
        }
    }
}

// %% [markdown]
// ## The task: one blocking call
//
// A task makes one blocking call. `SimulatedIo.fetch` sleeps for d, standing in for a
// database query or an HTTP request, and then returns its answer. To the thread that
// runs it, a sleep and a socket read look the same: the thread cannot continue until
// something outside it happens. `AtOnceGauge` counts how many tasks are inside their
// call at the same moment.

// %%
class SimulatedIo {
    /** One blocking call: waits millis (the "network"), then answers. */
    static String fetch(int id, long millis) throws InterruptedException {
        Thread.sleep(millis);
        return "content_" + id;
    }
}

// %%
class AtOnceGauge {
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger max = new AtomicInteger();

    /** Wraps a task so that the gauge sees it start and end. */
    <T> Callable<T> around(Callable<T> task) {
        return () -> {
            max.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                return task.call();
            } finally {
                running.decrementAndGet();
            }
        };
    }

    int running() { return running.get(); }
    int max() { return max.get(); }
}

// %% [markdown]
// ## The naive version: 10,000 blocking tasks on a pool of 200 threads
//
// A server's request pool commonly has 200 platform threads (Tomcat's default
// `maxThreads`, for example). Each platform thread is
// an operating-system thread for its whole life. While it sleeps in `fetch`, it holds
// that OS thread, and every task behind it waits in the pool's queue. 10,000 tasks on
// 200 threads take 10,000 ÷ 200 = 50 rounds, so the ideal wall time is 50 d, even
// though the tasks do no work at all. That is the ideal the row below prints.
//
// The run measures three things:
//
// - the **wall time**, in units of d, next to its ideal;
// - **at once**: the most tasks that were inside their call at the same moment;
// - **OS threads**: how many platform threads the run added, that is, the JVM's
//   peak count of them during the run (`ThreadMXBean.getPeakThreadCount()`) minus
//   the count before it. Each one has a native stack and a kernel thread behind it,
//   so this count stands in for memory here. A later section weighs them in bytes.
//
// It also counts how many tasks ran on a virtual thread (none, here), and, for
// virtual threads, which carrier threads they used (more on carriers below). The
// default d is 40 ms, so this run takes at least 50 × 40 ms = 2 s. Tasks that block
// for 100 ms would need 5 s; the lesson uses 40 ms to keep the run short.

// %%
class ManyBlockingTasks {
    /** One run: wall and ideal in units of d; how the tasks were spread over threads. */
    record Row(String executor, int tasks, int correct, double wallD, int idealD,
            int atOnce, int osThreadsAdded, int onVirtual, int carriers, int moved) {
        double wallOverIdeal() { return wallD / idealD; }
    }

    static ExecutorService newPool(int threads) {
        return Executors.newFixedThreadPool(threads,
                Thread.ofPlatform().name("pool-", 1).factory());
    }

    /** The carrier a virtual thread is mounted on, read from its toString; "" if none. */
    static String carrierOf(Thread t) {
        String s = t.toString();  // VirtualThread[#42]/runnable@ForkJoinPool-1-worker-2
        int at = s.lastIndexOf('@');
        return t.isVirtual() && at >= 0 ? s.substring(at + 1) : "";
    }

    static Row run(String name, Supplier<ExecutorService> executors, int tasks,
            int idealD, long d) throws InterruptedException, ExecutionException {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        int before = mx.getThreadCount();  // counts platform threads only
        mx.resetPeakThreadCount();
        var gauge = new AtOnceGauge();
        var onVirtual = new AtomicInteger();
        var moved = new AtomicInteger();
        Set<String> carriers = ConcurrentHashMap.newKeySet();
        var futures = new ArrayList<Future<String>>(tasks);
        int correct = 0;
        long start = System.nanoTime();
        try (var executor = executors.get()) {
            for (int i = 0; i < tasks; i++) {
                int id = i;
                futures.add(executor.submit(gauge.around(() -> {
                    Thread me = Thread.currentThread();
                    String mountedOn = carrierOf(me);
                    String answer = SimulatedIo.fetch(id, d);  // blocks for d
                    String resumedOn = carrierOf(me);
                    if (me.isVirtual()) {
                        onVirtual.incrementAndGet();
                        carriers.add(mountedOn);
                        carriers.add(resumedOn);
                        if (!mountedOn.equals(resumedOn)) moved.incrementAndGet();
                    }
                    return answer;
                })));
            }
            for (int i = 0; i < tasks; i++) {
                if (VirtualWaits.get(futures.get(i)).equals("content_" + i)) correct++;
            }
        }  // close(): every thread has ended
        double wallD = (System.nanoTime() - start) / 1e6 / d;
        int added = Math.max(0, mx.getPeakThreadCount() - before);
        return new Row(name, tasks, correct, wallD, idealD, gauge.max(), added,
                onVirtual.get(), carriers.size(), moved.get());
    }

    /** The same tasks on both executors with d = 1 ms, untimed: see the prose. */
    static void warmUp(int tasks, int poolSize) throws Exception {
        run("warm-up", () -> newPool(poolSize), tasks, 1, 1);
        run("warm-up", Executors::newVirtualThreadPerTaskExecutor, tasks, 1, 1);
        System.out.printf("warm-up: %,d tasks of 1 ms on each executor, untimed%n",
                tasks);
    }

    static Row onPool(int tasks, int poolSize, long d) throws Exception {
        String name = "pool of " + poolSize + " platform";
        Row row = run(name, () -> newPool(poolSize), tasks,
                Math.ceilDiv(tasks, poolSize), d);
        print(List.of(row), true);
        return row;
    }

    static Row onVirtualThreads(int tasks, long d) throws Exception {
        Row row = run("virtual thread per task",
                Executors::newVirtualThreadPerTaskExecutor, tasks, 1, d);
        print(List.of(row), true);
        return row;
    }

    static void print(List<Row> rows, boolean details) {
        System.out.printf("%-24s %7s %8s %7s %10s %8s %10s%n", "executor", "tasks",
                "wall", "ideal", "wall/ideal", "at once", "OS threads");
        for (Row r : rows) {
            System.out.printf("%-24s %,7d %6.1f d %5d d %9.2fx %,8d %+10d%n",
                    r.executor(), r.tasks(), r.wallD(), r.idealD(), r.wallOverIdeal(),
                    r.atOnce(), r.osThreadsAdded());
        }
        if (!details) return;
        for (Row r : rows) {
            System.out.printf("  %,d of %,d answers correct, %,d ran on virtual"
                    + " threads%n", r.correct(), r.tasks(), r.onVirtual());
            if (r.onVirtual() > 0) {
                System.out.printf("  %d carriers ran them; %,d woke up on another carrier"
                        + " than the one they fell asleep on%n", r.carriers(), r.moved());
            }
        }
    }

    /** The two runs side by side; returns how many times longer the pool took. */
    static double compare(Row pool, Row virtual) {
        print(List.of(pool, virtual), false);
        double ratio = pool.wallD() / virtual.wallD();
        System.out.printf("the pool took %.1fx as long as the virtual threads%n", ratio);
        return ratio;
    }
}

// %% [markdown]
// Both executors first run the same tasks once, untimed, with d = 1 ms. The first
// 10,000 virtual threads in a JVM are much slower than the next 10,000: the JIT has
// not compiled the code that starts, parks and resumes them yet, and the first use
// starts the virtual-thread scheduler. Without the warm-up, the comparison would
// mostly measure that one-time cost.

// %% [run]
// ManyBlockingTasks.warmUp(10_000, 200);
// var poolRow = ManyBlockingTasks.onPool(10_000, 200, 40);

// %% [markdown]
// Look at **at once**. The pool never had more than its 200 tasks in progress, so the
// wall time lands near its 50 rounds of d, a little above because handing 10,000
// tasks through one queue costs something too. The pool added about 200 OS threads
// to the JVM, and each of them spent nearly all of its time asleep.
//
// @diagram virtual_threads-pool-queue
//
// ## The fix: a virtual thread per task
//
// `Executors.newVirtualThreadPerTaskExecutor()` starts a new virtual thread for every
// task and has no queue. The task is the same, and so is the executor's interface
// (`submit`, `Future`, `close`). A virtual thread is a `java.lang.Thread` whose stack
// the JDK keeps on the heap while it waits. The JDK runs virtual threads on a small
// set of **carrier** threads, a `ForkJoinPool` with one platform thread per core.
//
// When a virtual thread blocks in `sleep`, on a lock, on a queue or on a socket, the
// JDK **unmounts** it: it copies the thread's stack frames to the heap and frees the
// carrier to run another virtual thread. When the wait is over, the thread is
// **mounted** again on whichever carrier is free and continues from where it
// stopped. The run prints how many carriers took part, and how many tasks woke up on
// a different carrier from the one they started on, which shows that their stacks
// really did leave the carrier. (The carrier's name comes from the virtual thread's
// `toString()`. That format is an implementation detail, fine for a demo.)
//
// @diagram virtual_threads-mount-unmount

// %% [run]
// var virtualRow = ManyBlockingTasks.onVirtualThreads(10_000, 40);

// %% [markdown]
// The two runs side by side:

// %% [run]
// double poolVsVirtual = ManyBlockingTasks.compare(poolRow, virtualRow);

// %% [markdown]
// The ideal for virtual threads is one d, because every task can wait at the same
// time. Most of the gap between the virtual row's wall time and that ideal is the
// cost of starting 10,000 threads from one loop. The longer a task blocks, the
// smaller that share becomes. **At once** can stay below 10,000 for the same reason:
// if starting all the threads takes longer than d, the first tasks finish before the
// last ones start. The virtual row adds no OS threads. Its carriers, one per core,
// were started by the warm-up, and all virtual threads in the JVM share them. The
// lines under the virtual row show how many carriers ran its tasks. ThreadMXBean
// does not count
// virtual threads, because they are not OS threads. The ratio on the last line is the
// result that matters, and it depends on the machine, its load and d, so read it from
// your own run. With a small d, such as the 2 ms that `--speed 20` gives, starting a
// thread is no longer cheap next to the wait, and the ratio can even drop below 1.
// Virtual threads pay off when tasks block for a long time compared with the cost of
// starting one, and I/O calls usually do.
//
// ## Why the code stays plain: no coloured functions
//
// asyncio gets its scale by making every function that waits a coroutine. Here is
// a fetch in asyncio style, building a customer profile from two calls in a row:
//
// ```python
// async def fetch_user(user_id):
//     await asyncio.sleep(0.04)          # time.sleep here would stall every task
//     return f"user{user_id}"
//
// async def fetch_orders(user):
//     await asyncio.sleep(0.04)
//     return [f"{user}-order1", f"{user}-order2"]
//
// async def profile(user_id):            # must be async: it awaits
//     user = await fetch_user(user_id)
//     return user, await fetch_orders(user)
//
// async def main():                      # ...and so must every caller, up to run()
//     return await asyncio.gather(*(profile(i) for i in range(10_000)))
//
// profiles = asyncio.run(main())
// ```
//
// Functions come in two colours. An `async` function can only be awaited from
// another `async` function, so the colour spreads up the call chain to
// `asyncio.run`. A plain blocking call inside any of them (`time.sleep`,
// `requests.get`, a database driver without async support) stops the event loop and
// every task on it. Libraries need separate async versions (`aiohttp` instead of
// `requests`, `asyncpg` instead of `psycopg2`).
//
// In Java the same logic is the sequential code you would write for one request.
// `ProfileFetch.profile` below is called once on the main thread and then 10,000
// times on virtual threads, unchanged. It has no `async`, no callbacks and no
// `CompletableFuture` chain. Its exceptions are ordinary exceptions with full stack
// traces, and a debugger steps through it line by line.

// %%
record CustomerProfile(String user, List<String> orders) { }

// %%
class ProfileFetch {
    static String fetchUser(int id, long d) throws InterruptedException {
        Thread.sleep(d);  // the user service
        return "user" + id;
    }

    static List<String> fetchOrders(String user, long d) throws InterruptedException {
        Thread.sleep(d);  // the order service, which needs the user first
        return List.of(user + "-order1", user + "-order2");
    }

    /** Plain blocking code: call, wait, use the answer, call again. */
    static CustomerProfile profile(int id, long d) throws InterruptedException {
        String user = fetchUser(id, d);
        List<String> orders = fetchOrders(user, d);
        return new CustomerProfile(user, orders);
    }

    static List<CustomerProfile> demo(int customers, long d) throws Exception {
        long start = System.nanoTime();
        CustomerProfile one = profile(7, d);  // on this thread, the ordinary way
        double oneD = (System.nanoTime() - start) / 1e6 / d;
        System.out.printf("%-33s wall %5.1f d  (ideal 2 d)%n  %s%n",
                "main thread, 1 profile:", oneD, one);

        var futures = new ArrayList<Future<CustomerProfile>>(customers);
        var profiles = new ArrayList<CustomerProfile>(customers);
        start = System.nanoTime();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < customers; i++) {
                int id = i;
                futures.add(executor.submit(() -> profile(id, d)));  // the same method
            }
            for (var f : futures) profiles.add(VirtualWaits.get(f));
        }
        double allD = (System.nanoTime() - start) / 1e6 / d;
        System.out.printf("%-33s wall %5.1f d  (ideal 2 d)%n  last: %s%n",
                String.format("virtual threads, %,d profiles:", customers), allD,
                profiles.getLast());
        return profiles;
    }
}

// %% [run]
// var profiles = ProfileFetch.demo(10_000, 40);

// %% [markdown]
// One profile takes two waits in a row, 2 d. Ten thousand of them, each on its own
// virtual thread, take about as long as one plus the cost of starting the threads,
// because their waits overlap. Java's answer to "consider asyncio" is therefore to
// keep the threads and make them cheap.
//
// ## What a waiting thread weighs
//
// The `OS threads` column counted threads. This section looks at bytes. The
// experiment starts threads that park on a latch, so that they are all alive and
// blocked at the same moment, and reports two things for each kind:
//
// - **start**: the time to start one thread and see it run, averaged over all of
//   them;
// - **where its stack is, and its size**. A platform thread's stack is native
//   memory outside the heap, reserved in full when the thread starts. Its size is
//   the JVM's `ThreadStackSize` setting (`-Xss`), read through
//   `HotSpotDiagnosticMXBean`, not measured. It is address space: the OS backs it
//   with real memory only as the stack grows, and the kernel keeps its own record
//   of every thread besides. A parked virtual thread has no native stack. Its
//   frames are copied into heap objects sized to what they hold. The figure is
//   measured: how much the heap grew per parked thread, between two full GCs
//   (`System.gc()`), so it includes the `Thread` object and everything else the
//   thread keeps alive.
//
// The platform count is kept at 1,000 by default (`--parked`), because each one is a
// real OS thread on a machine that other programs share. The virtual count is 10,000.

// %%
class ParkedThreadCost {
    /** stackBytes: reserved (platform, from -Xss) or measured on the heap (virtual). */
    record Cost(String kind, int threads, double startMicros, long stackBytes) { }

    static long heapUsedAfterGc() {
        System.gc();  // a full collection, so that only live objects count
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** The JVM's reserved stack per platform thread, in bytes (-Xss); -1 if unknown. */
    static long threadStackSizeBytes() {
        try {
            var hotspot = ManagementFactory.getPlatformMXBean(
                    HotSpotDiagnosticMXBean.class);
            var kb = hotspot.getVMOption("ThreadStackSize").getValue();
            return Long.parseLong(kb) * 1024;  // 0 means "the OS default"
        } catch (RuntimeException e) {
            return -1;  // not a HotSpot JVM
        }
    }

    /** Starts n threads from the builder, all parked on one latch, and weighs them. */
    static Cost park(Thread.Builder builder, int n) throws InterruptedException {
        var release = new CountDownLatch(1);
        var running = new CountDownLatch(n);
        var threads = new ArrayList<Thread>(n);
        boolean virtual = builder instanceof Thread.Builder.OfVirtual;
        long heapBefore = virtual ? heapUsedAfterGc() : 0;
        long start = System.nanoTime();
        try {
            for (int i = 0; i < n; i++) {
                threads.add(builder.start(() -> {
                    running.countDown();
                    try {
                        VirtualWaits.await(release);  // parked until released
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            VirtualWaits.await(running);
            double startMicros = (System.nanoTime() - start) / 1e3 / n;
            long stackBytes = virtual
                    ? (heapUsedAfterGc() - heapBefore) / n  // while all n are parked
                    : threadStackSizeBytes();
            return new Cost(virtual ? "virtual" : "platform", n, startMicros, stackBytes);
        } finally {
            release.countDown();
            VirtualWaits.join(threads);
        }
    }

    static List<Cost> table(int platform, int virtual) throws InterruptedException {
        var costs = List.of(
                park(Thread.ofPlatform().name("parked-", 0), platform),
                park(Thread.ofVirtual().name("parked-", 0), virtual));
        System.out.printf("%-9s %8s %14s   %s%n", "thread", "parked", "start/thread",
                "a waiting thread's stack");
        for (Cost c : costs) {
            String stack = c.kind().equals("virtual")
                    ? String.format("%,13d bytes on the heap (measured)", c.stackBytes())
                    : c.stackBytes() > 0
                    ? String.format("%,13d bytes reserved outside the heap (-Xss)",
                            c.stackBytes())
                    : "   size set by the OS, outside the heap";
            System.out.printf("%-9s %,8d %,11.1f us   %s%n", c.kind(), c.threads(),
                    c.startMicros(), stack);
        }
        System.out.printf("starting a platform thread took %.1fx as long%n",
                costs.get(0).startMicros() / costs.get(1).startMicros());
        return costs;
    }
}

// %% [run]
// var costs = ParkedThreadCost.table(1_000, 10_000);

// %% [markdown]
// A parked virtual thread costs a few heap objects: its `Thread`, its continuation
// and the chunk that holds its frames. A deeper call stack would make the chunk
// bigger. A platform thread costs a native stack of the size printed, plus the
// kernel's thread. Reserved is not the same as used: the OS commits only the pages
// the stack has touched. Still, the reservation is what limits how many threads fit
// in memory and in the OS's limits. Starting a platform thread takes a system call
// and a new kernel thread, and the ratio on the last line shows the difference that
// makes. The figures vary with the run and the machine; the heap figure is a
// difference between two GC snapshots. What holds up is the order of magnitude, and
// that is what lets a program have one virtual thread per request.
//
// ## Pinning, and why `synchronized` no longer pins (JDK 24+)
//
// A virtual thread can only unmount if the JDK can move its frames off the carrier.
// In JDK 21 to 23 it could not do that while the thread held a monitor, that is,
// inside a `synchronized` block or method. A virtual thread that blocked there stayed
// **pinned** to its carrier, and the carrier waited with it. With as many pinned
// threads as carriers (one per core), no other virtual thread could run at all. Real
// applications stalled on this: a JDBC driver or a cache with `synchronized` around
// its I/O could freeze a whole server. The workaround was to replace `synchronized`
// with `ReentrantLock`, and `-Djdk.tracePinnedThreads` printed the offending stacks.
//
// JEP 491 (JDK 24) changed the JVM so that a virtual thread can unmount while holding
// a monitor, and also while it waits in `Object.wait()`. On JDK 25, `synchronized` no
// longer pins. `-Djdk.tracePinnedThreads` has been removed. The JFR event
// `jdk.VirtualThreadPinned` remains for the cases that still pin: blocking while a
// native frame is on the stack (a JNI call, or a Foreign Function upcall that
// blocks), and blocking inside a class initializer (`static { }`) or while waiting
// for another thread to finish one.
//
// @diagram virtual_threads-pinning
//
// The proof below does not depend on timing. It starts 4 × carriers virtual threads.
// Each one enters a `synchronized` block on a monitor of its own and, *inside it*,
// waits at one shared `CyclicBarrier` for all the others. The barrier can only open
// when every thread is inside its block at the same moment. With pinning, only as
// many threads as there are carriers could ever get there, the rest could never run,
// and the barrier would time out.
//
// Pinned carriers behave like a fixed pool with as many platform threads as there
// are carriers: a thread that blocks keeps its worker. The second line runs the
// same tasks on such a pool. Only that many tasks can be inside at once, so the
// barrier cannot open there, however long they wait. They give up after a short
// wait, and the line counts who got through.
//
// The timing then repeats both runs with a sleep of d inside each block instead of
// the barrier. Unpinned, the sleeps overlap and take about 1 d. On the pool, as
// when pinned, they take ⌈threads ÷ carriers⌉ rounds of d. The clock starts only
// once the tasks are running and waiting on a latch, so starting threads is not part
// of either figure.

// %%
class SynchronizedUnpinned {
    /** The virtual-thread scheduler's parallelism: its number of carriers. */
    static int carriers() {
        String set = System.getProperty("jdk.virtualThreadScheduler.parallelism");
        if (set != null) return Integer.parseInt(set);
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * n tasks, each inside a monitor of its own, wait there at one barrier for all n.
     * Returns how many got through: n if all could be blocked inside at once, else 0.
     */
    static int insideTogether(ExecutorService executor, int n, Duration patience)
            throws InterruptedException, ExecutionException {
        var barrier = new CyclicBarrier(n);
        var passed = new AtomicInteger();
        var futures = new ArrayList<Future<?>>();
        for (int i = 0; i < n; i++) {
            Object monitor = new Object();  // one monitor each: no task blocks another
            futures.add(executor.submit(() -> {
                synchronized (monitor) {
                    try {
                        barrier.await(patience.toMillis(), TimeUnit.MILLISECONDS);
                        if (Thread.holdsLock(monitor)) passed.incrementAndGet();
                    } catch (TimeoutException | BrokenBarrierException e) {
                        // not all n could get inside: the barrier never opened
                    }
                }
                return null;
            }));
        }
        for (var f : futures) VirtualWaits.get(f);
        return passed.get();
    }

    /**
     * n tasks, each sleeping d while it holds a monitor of its own. The clock starts
     * once `ready` tasks are running (all n on virtual threads; on a pool, its size),
     * so that starting threads is not part of the measurement.
     */
    static double sleepInsideMonitors(ExecutorService executor, int n, int ready, long d)
            throws InterruptedException, ExecutionException {
        var running = new CountDownLatch(ready);
        var go = new CountDownLatch(1);
        var futures = new ArrayList<Future<?>>();
        long start;
        try {
            for (int i = 0; i < n; i++) {
                Object monitor = new Object();
                futures.add(executor.submit(() -> {
                    running.countDown();
                    VirtualWaits.await(go);
                    synchronized (monitor) {
                        Thread.sleep(d);
                    }
                    return null;
                }));
            }
            VirtualWaits.await(running);
        } finally {
            start = System.nanoTime();
            go.countDown();  // released even if a wait above failed
        }
        for (var f : futures) VirtualWaits.get(f);
        return (System.nanoTime() - start) / 1e6 / d;
    }

    static int demo(long d) throws Exception {
        int carriers = carriers();
        int n = 4 * carriers;
        int virtualIn;
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            virtualIn = insideTogether(executor, n, VirtualWaits.PATIENCE);
        }
        Duration shortWait = Duration.ofMillis(5 * d);  // long enough: nobody else comes
        int pinnedIn;
        try (var executor = ManyBlockingTasks.newPool(carriers)) {
            pinnedIn = insideTogether(executor, n, shortWait);
        }
        System.out.printf("%d tasks, each inside its own synchronized block, wait there"
                + " for all %d:%n", n, n);
        System.out.printf("  %-38s %d of %d got through%n",
                "virtual threads, " + carriers + " carriers", virtualIn, n);
        System.out.printf("  %-38s %d of %d got through (gave up after %d ms)%n",
                carriers + " platform threads (= pinned carriers)", pinnedIn, n,
                shortWait.toMillis());
        double virtualD;
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            virtualD = sleepInsideMonitors(executor, n, n, d);
        }
        double pinnedD;
        try (var executor = ManyBlockingTasks.newPool(carriers)) {
            pinnedD = sleepInsideMonitors(executor, n, carriers, d);
        }
        System.out.printf("%d sleeps of d, each inside synchronized:%n", n);
        System.out.printf("  %-38s wall %4.1f d  (ideal 1 d)%n",
                "virtual threads, JDK 25", virtualD);
        System.out.printf("  %-38s wall %4.1f d  (ideal %d d)%n",
                carriers + " platform threads (= pinned carriers)", pinnedD,
                Math.ceilDiv(n, carriers));
        return virtualIn;
    }
}

// %% [run]
// int together = SynchronizedUnpinned.demo(40);

// %% [markdown]
// Every virtual thread reached the barrier while holding its monitor, so more
// virtual threads than carriers were blocked inside `synchronized` at the same
// moment. The pool that stands in for pinned carriers let none through. The sleeps
// overlapped too: compare the virtual row with its 1 d ideal, and with the rounds the
// pool needs. On JDK 21 to 23, the virtual threads would have fared like the pool.
// So on JDK 24 and later, keep `synchronized` where it is the simplest correct lock
// (the `counter` lesson); there is no longer a reason to replace it for virtual
// threads.
//
// ## Limiting concurrency: a `Semaphore`, not a pool
//
// Unlimited threads do not make a database accept unlimited connections. Often the
// old 200-thread pool was also, by accident, the only thing protecting a downstream
// service. A pool of virtual threads (`newFixedThreadPool(50,
// Thread.ofVirtual().factory())`) would bring back the queue of the first section and
// hide the limit inside the choice of executor. Virtual threads are cheap to create,
// so make a new one for every task. Put the limit where the scarce resource is: a
// `Semaphore` with as many permits as the service can take, acquired around the call
// only. Every task has its own thread, and at most `permits` of them are inside the
// call at once. The others wait on the semaphore, parked and unmounted. The run uses
// 10 tasks per permit, so the ideal is 10 rounds of d.

// %%
class SemaphoreLimit {
    /** Runs the call holding one permit; waits for a permit at most PATIENCE. */
    static <T> T withPermit(Semaphore permits, Callable<T> call) throws Exception {
        if (!permits.tryAcquire(VirtualWaits.PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException("no permit within "
                    + VirtualWaits.PATIENCE.toSeconds() + " s");
        }
        try {
            return call.call();
        } finally {
            permits.release();
        }
    }

    /** A virtual thread per call; the semaphore lets at most its permits in at once. */
    static List<String> fetchAll(List<Callable<String>> calls, Semaphore permits,
            AtOnceGauge gauge) throws Exception {
        var futures = new ArrayList<Future<String>>(calls.size());
        var answers = new ArrayList<String>(calls.size());
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Callable<String> call : calls) {
                Callable<String> counted = gauge.around(call);  // counts who is inside
                futures.add(executor.submit(() -> withPermit(permits, counted)));
            }
            for (var f : futures) answers.add(VirtualWaits.get(f));
        }
        return answers;
    }

    static int demo(int tasks, int permits, long d) throws Exception {
        var gauge = new AtOnceGauge();
        var calls = new ArrayList<Callable<String>>(tasks);
        for (int i = 0; i < tasks; i++) {
            int id = i;
            calls.add(() -> SimulatedIo.fetch(id, d));
        }
        long start = System.nanoTime();
        List<String> answers = fetchAll(calls, new Semaphore(permits), gauge);
        double wallD = (System.nanoTime() - start) / 1e6 / d;
        System.out.printf("%,d tasks, a virtual thread each, Semaphore(%d) around the"
                + " call:%n", tasks, permits);
        System.out.printf("  at most %d inside the call at once; %,d answers;"
                + " wall %.1f d (ideal %d d)%n", gauge.max(), answers.size(), wallD,
                Math.ceilDiv(tasks, permits));
        return gauge.max();
    }
}

// %% [run]
// int atOnce = SemaphoreLimit.demo(500, 50, 40);

// %% [markdown]
// The gauge counts tasks inside the call. It never exceeded the permits, although
// every task had a virtual thread of its own. The wall time is set by the service's
// limit, rounds of d, and no longer by the number of threads.
//
// ## Virtual threads are for waiting, not for computing
//
// Virtual threads make *waiting* cheap. They do not add cores. A CPU-bound task
// occupies its carrier for as long as it computes, and the carriers are only as many
// as the cores, so ten thousand CPU-bound virtual threads finish no sooner than the
// same work on a fixed pool of `availableProcessors()` threads. And the scheduler
// does not time-slice: a virtual thread that computes without blocking keeps its
// carrier until it is done. Every virtual thread that is ready to run, including
// those whose I/O has just completed, waits for it. For computation, use a pool
// sized to the cores or a parallel stream (the `cpu_bound` lesson).
//
// ## Which one to use
//
// | you have | use |
// |---|---|
// | many tasks that mostly wait (HTTP, JDBC, files, queues, sleeps) | `Executors.newVirtualThreadPerTaskExecutor()`, or `Thread.ofVirtual()` |
// | the same, but the service behind them takes at most N at once | virtual threads plus a `Semaphore(N)` around the call |
// | tasks that compute | a fixed pool of `availableProcessors()` platform threads, or parallel streams (`cpu_bound`) |
// | a few long-lived background threads | platform threads (`Thread.ofPlatform()`), named |
// | a lock held across blocking calls, on JDK 24+ | `synchronized` or `ReentrantLock`: neither pins |
// | the same on JDK 21 to 23 | `ReentrantLock`: `synchronized` pins there |
// | a Python program with asyncio | plain blocking Java on virtual threads |
//
// ## Pitfalls
//
// - **Pooling virtual threads.** A fixed pool of virtual threads has the platform
//   pool's queue without its one excuse, the cost of a thread. Create one per task,
//   and bound what is scarce with a `Semaphore`.
// - **Thread-local caches.** A `ThreadLocal` used as a per-thread cache (a
//   formatter, a buffer) was cheap with 200 pooled threads. With one virtual thread
//   per task, it is created 10,000 times and never reused. Share a thread-safe
//   object instead, or pass values down with `ScopedValue` (final in Java 25).
// - **Still pinning on JDK 25.** Blocking with a native frame on the stack, or
//   inside a class initializer, still holds the carrier. Record JFR's
//   `jdk.VirtualThreadPinned` event to find where that happens (`jcmd <pid>
//   JFR.start`, or `-XX:StartFlightRecording`).
// - **Long computations without blocking** keep a carrier to themselves, and a few
//   of them can make every other virtual thread wait. See the section above.
// - **Virtual threads are daemons.** The JVM does not wait for them at exit. Join
//   them, or close their executor (try-with-resources), before `main` returns.
// - **Tools that list threads** may skip virtual ones. `Thread.getAllStackTraces()`
//   does not list them, and `ThreadMXBean.findDeadlockedThreads()` does not see
//   them. Use `jcmd <pid> Thread.dump_to_file -format=json <file>` for a dump that
//   includes virtual threads.
// - **Priorities and `setDaemon(false)` do not apply.** A virtual thread's priority
//   is always `NORM_PRIORITY`, and `setDaemon(false)` throws.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | "Consider asyncio for I/O-bound concurrency instead of threads" | use virtual threads: threads that are cheap |
// | `async def f(): ... await g()` | `void f() { g(); }`: an ordinary method that blocks |
// | `asyncio.run(main())` | `main` itself; no event loop to start |
// | `await asyncio.gather(*(f(i) for i in ids))` | a virtual thread per task: `executor.submit(() -> f(i))`, then `get()` each |
// | `asyncio.Semaphore(50)`, `async with sem:` | `new Semaphore(50)`, `acquire` / `release` in `finally` |
// | `await asyncio.sleep(0.04)` | `Thread.sleep(40)` |
// | `time.sleep()` in a coroutine: stalls the event loop | `Thread.sleep()` on a virtual thread: unmounts it; the carrier runs others |
// | `loop.run_in_executor(None, blocking_call)` | not needed: call it |
// | `ThreadPoolExecutor(max_workers=200)` | `Executors.newFixedThreadPool(200)`, or no pool at all |
//
// An asyncio event loop runs on one thread, so CPU-bound coroutines block each other
// the same way CPU-bound virtual threads block their carriers. The JVM runs as many
// carriers as there are cores, and CPython (with the GIL) runs one thread of Python
// at a time.
//
// Related lessons: `threads` (starting and joining threads, and a first look at
// virtual ones), `thread_pool` (executors, futures, and choosing a pool size),
// `cpu_bound` (computation belongs on the cores, not on virtual threads), `counter`
// (`synchronized`, which no longer pins), `shared_resource` (locks around a shared
// resource).
//
// ## The script's entry point
//
// `main` runs the sections above in order with the options from the command line.
// A bad option prints one line and exits with status 2.

// %%
class virtual_threads {
    static final String USAGE = """
            Usage: virtual_threads [options]
              --tasks N     blocking tasks in the big runs (default 10000)
              --pool N      platform threads in the pool, like a server's (default 200)
              --delay MS    how long each task blocks, d, in ms (default 40)
              --permits N   Semaphore permits: calls allowed at once (default 50)
              --parked N    platform threads parked at once to weigh them (default 1000)
              --speed X     divides every delay: 2 = twice as fast, 0.5 = half (default 1)
              --help        print this and exit""";

    record Options(int tasks, int pool, int delayMillis, int permits, int parked,
            double speed) {
        /** d after --speed, never below 1 ms so that "units of d" stay meaningful. */
        long d() { return Math.max(1, Math.round(delayMillis / speed)); }
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("virtual_threads: " + e.getMessage() + " (try --help)");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        long d = o.d();
        System.out.printf("d = %d ms%n", d);
        System.out.println("\n== The naive version: a pool of platform threads ==");
        ManyBlockingTasks.warmUp(o.tasks(), o.pool());
        var poolRow = ManyBlockingTasks.onPool(o.tasks(), o.pool(), d);
        System.out.println("\n== The fix: a virtual thread per task ==");
        var virtualRow = ManyBlockingTasks.onVirtualThreads(o.tasks(), d);
        System.out.println();
        ManyBlockingTasks.compare(poolRow, virtualRow);
        System.out.println("\n== Why the code stays plain ==");
        ProfileFetch.demo(o.tasks(), d);
        System.out.println("\n== What a waiting thread weighs ==");
        ParkedThreadCost.table(o.parked(), o.tasks());
        System.out.println("\n== Pinning: synchronized no longer pins ==");
        SynchronizedUnpinned.demo(d);
        System.out.println("\n== Limiting concurrency: a Semaphore, not a pool ==");
        SemaphoreLimit.demo(10 * o.permits(), o.permits(), d);
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
                count("--tasks", given.getOrDefault("--tasks", "10000")),
                count("--pool", given.getOrDefault("--pool", "200")),
                count("--delay", given.getOrDefault("--delay", "40")),
                count("--permits", given.getOrDefault("--permits", "50")),
                count("--parked", given.getOrDefault("--parked", "1000")),
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
