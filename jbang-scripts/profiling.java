///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Profiling: measure first, then ask JFR where threads wait
//
// Four threads posting to a ledger take as long as one, and no error says why. JDK
// Flight Recorder, built into the JDK, records which threads wait for a lock, for how
// long and on which line: you find the cause instead of guessing it.
//
// **You will learn**
// - to measure before and after adding threads, and what a lower bound tells you
// - to record JFR events from Java code (`RecordingStream`) and from the command line
// - that on platform threads `synchronized` waits are `jdk.JavaMonitorEnter` events and
//   `ReentrantLock` waits `jdk.ThreadPark` events, and which tools see only the first
// - to find the line that holds a lock too long, and move the slow work out of it

// %%
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.locks.*;
import java.util.function.*;
import java.util.stream.*;
import jdk.jfr.consumer.*;

// %% [markdown]
// ## The program: an audit ledger
//
// Each post writes its line to slow storage (a 2 ms sleep here) and appends it to a
// list, the shared state. `postHoldingMonitor` and `postHoldingLock` hold a lock during
// the write; `postThenLock`, the fix, writes first and locks only to append.

// %%
class ContendedLedger {
    private final List<String> lines = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Duration write;  // how long the slow storage takes per line

    ContendedLedger(Duration write) { this.write = write; }

    synchronized void postHoldingMonitor(String line) {
        slowWrite();  // monitor held: every other poster waits
        lines.add(line);
    }

    void postHoldingLock(String line) {
        lock.lock();
        try {
            slowWrite();  // the same mistake, with a ReentrantLock
            lines.add(line);
        } finally {
            lock.unlock();
        }
    }

    void postThenLock(String line) {
        slowWrite();  // the fix: the slow write first, no lock held
        synchronized (this) {
            lines.add(line);
        }
    }

    private void slowWrite() {
        try {
            Thread.sleep(write);  // stands in for slow storage
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();  // keep the flag; the post goes on
        }
    }

    synchronized int size() { return lines.size(); }
    ReentrantLock lock() { return lock; }
}

// %% [markdown]
// ## Measure first
//
// Time the program with one thread, then with more. `Posters.run` shares 100 posts
// among 1, 2 or 4 threads (`poster-1`, ...); `table` prints the median and range of five
// runs. With the write inside the monitor the threads take turns: 100 writes of 2 ms
// take at least 200 ms however many threads share them. Outside, writes overlap.
//
// @diagram profiling-queue

// %%
class Posters {
    static Duration run(int threads, int posts, BiConsumer<ContendedLedger, String> post,
            Duration write) throws InterruptedException {
        var ledger = new ContendedLedger(write);
        var workers = new ArrayList<Thread>();
        long start = System.nanoTime();
        for (int t = 1; t <= threads; t++) {
            workers.add(Thread.ofPlatform().name("poster-" + t).start(() -> {
                for (int i = 0; i < posts / threads; i++) post.accept(ledger, "line");
            }));
        }
        for (Thread w : workers) w.join(Duration.ofSeconds(30));  // then the count tells
        var took = Duration.ofNanos(System.nanoTime() - start);
        if (ledger.size() != posts) throw new IllegalStateException("posts went missing");
        return took;
    }

    static String medianAndRange(int rounds, Callable<Duration> run) throws Exception {
        var millis = new ArrayList<Long>();
        for (int r = 0; r < rounds; r++) millis.add(run.call().toMillis());
        Collections.sort(millis);
        return "%d (%d-%d)".formatted(millis.get(rounds / 2), millis.getFirst(),
                millis.getLast());
    }

    static void table(int posts, Duration write, int rounds) throws Exception {
        System.out.printf("%d posts, each write %d ms: median (min-max) of %d runs, ms%n",
                posts, write.toMillis(), rounds);
        System.out.printf("%-8s %-28s %s%n", "threads", "write inside synchronized",
                "write outside (the fix)");
        for (int threads : List.of(1, 2, 4)) {
            String inside = medianAndRange(rounds, () -> run(threads, posts,
                    ContendedLedger::postHoldingMonitor, write));
            String outside = medianAndRange(rounds, () -> run(threads, posts,
                    ContendedLedger::postThenLock, write));
            System.out.printf("%-8d %-28s %s%n", threads, inside, outside);
        }
    }
}

// %% [run]
// Posters.table(100, Duration.ofMillis(2), 5);

// %% [markdown]
// The left column never drops below 200 ms; the right one falls as threads are added
// (less on a busy machine). In a real program the cause hides among hundreds of locks.
//
// ## Where do threads wait? Ask JFR
//
// JDK Flight Recorder (JFR) records events inside the JVM, cheaply enough for
// production. Two events cover lock waits, each with its duration and the thread's stack:
// - `jdk.JavaMonitorEnter`: a thread had to wait to enter a `synchronized` block or
//   method; `monitorClass` names the monitor's class.
// - `jdk.ThreadPark`: a thread parked (`LockSupport.park`: it sleeps until another
//   thread unparks it), as a waiting `ReentrantLock` and most of `java.util.concurrent`
//   do; `parkedClass` names what it parked for.
//
// Both are for platform threads: on JDK 25 a virtual thread that unmounts to wait
// records neither. `JfrWaits.record` runs work under a `RecordingStream` with both
// events at threshold zero and keeps each event of the threads it watches as a `Wait`:
// what it waited on, how long, and the first stack frame in our code, not the JDK's.

// %%
record Wait(String event, String thread, Duration duration, String on, String site) { }

class JfrWaits {
    interface Work { void run() throws Exception; }

    static List<Wait> record(String threadPrefix, Work work) throws Exception {
        var waits = new ConcurrentLinkedQueue<Wait>();
        try (var stream = new RecordingStream()) {
            for (String event : List.of("jdk.JavaMonitorEnter", "jdk.ThreadPark")) {
                stream.enable(event).withThreshold(Duration.ZERO).withStackTrace();
                stream.onEvent(event, e -> {
                    var thread = e.getThread();
                    String who = thread == null ? null : thread.getJavaName();
                    if (who != null && who.startsWith(threadPrefix)) {
                        waits.add(new Wait(event, who, e.getDuration(), on(e), site(e)));
                    }
                });
            }
            stream.startAsync();
            work.run();
            stream.stop();  // returns once every event went through onEvent
        }
        return List.copyOf(waits);
    }

    static String on(RecordedEvent e) {  // the monitor's class, or what it parked for
        String field = e.hasField("monitorClass") ? "monitorClass" : "parkedClass";
        return e.getClass(field) == null ? "-" : simple(e.getClass(field).getName());
    }

    static String site(RecordedEvent e) {  // the first frame of ours, not the JDK's
        return e.getStackTrace() == null ? "-" : e.getStackTrace().getFrames().stream()
                .filter(f -> !f.getMethod().getType().getName().matches("j(ava|dk)\\..+"))
                .map(f -> simple(f.getMethod().getType().getName()) + "."
                        + f.getMethod().getName() + " line " + f.getLineNumber())
                .findFirst().orElse("-");
    }

    static String simple(String className) {  // no package, no JShell "$JShell$12$"
        return className.substring(className.lastIndexOf('.') + 1)
                .replaceFirst("^\\$JShell\\$\\d+\\$", "");
    }
}

// %% [markdown]
// ## One wait of each kind, in slow motion
//
// We force one wait of each kind. `main` holds the ledger's monitor, starts `poster-1`
// (`postHoldingMonitor`), waits until it is `BLOCKED`, pauses and lets go; then holds
// the ledger's lock, starts `poster-2` (`postHoldingLock`), waits until it is parked in
// the lock's queue, pauses and unlocks. Every run records one monitor enter and at least
// one park. Each wait lasts about one pause, a pause for the audience (`--speed`).
//
// @diagram profiling-jfr-handoff

// %%
class SlowMotion {
    static List<Wait> replay(long pauseMillis) throws Exception {
        var ledger = new ContendedLedger(Duration.ZERO);
        String me = Thread.currentThread().getName();  // main, in the script
        List<Wait> waits = JfrWaits.record("poster-", () -> {
            Thread poster;
            synchronized (ledger) {  // the monitor postHoldingMonitor needs
                poster = Thread.ofPlatform().name("poster-1")
                        .start(() -> ledger.postHoldingMonitor("late"));
                awaitUntil(() -> poster.getState() == Thread.State.BLOCKED);
                step(pauseMillis, me + " has the monitor: poster-1 " + poster.getState());
                System.out.println("  " + me + " lets go of the monitor");
            }
            poster.join(Duration.ofSeconds(10));
            ReentrantLock lock = ledger.lock();
            lock.lock();  // the lock postHoldingLock needs
            var second = Thread.ofPlatform().name("poster-2")
                    .start(() -> ledger.postHoldingLock("late"));
            try {
                awaitUntil(() -> lock.hasQueuedThread(second)
                        && second.getState() == Thread.State.WAITING);
                step(pauseMillis, me + " has the lock: poster-2 " + second.getState());
                System.out.println("  " + me + " unlocks");
            } finally {
                lock.unlock();
            }
            second.join(Duration.ofSeconds(10));
        });
        System.out.println("what JFR recorded for poster-1 and poster-2:");
        for (Wait w : waits) {
            System.out.printf("  %-20s %s %4d ms on %s%n    at %s%n", w.event(),
                    w.thread(), w.duration().toMillis(), w.on(), w.site());
        }
        return waits;
    }

    static void awaitUntil(BooleanSupplier done) throws InterruptedException {  // polls
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean() && System.nanoTime() < deadline) Thread.sleep(1);
        if (!done.getAsBoolean()) throw new IllegalStateException("no wait within 10 s");
    }

    static void step(long pauseMillis, String what) throws InterruptedException {
        System.out.println("  " + what);
        Thread.sleep(pauseMillis);  // pacing for people, not synchronisation
    }
}

// %% [run]
// var forced = SlowMotion.replay(300);

// %% [markdown]
// The monitor enter names the ledger's class; the park names `ReentrantLock$NonfairSync`,
// the lock's synchronizer. The park names our line `lock.lock()`, the monitor enter the
// first line of the `synchronized` method's body: entering the method asked for the lock.
// (In the notebook lines count within the cell, and the kernel's thread replaces `main`.)
//
// ## JFR on the real run
//
// Now each way to post under its own recording: `poster-1` to `poster-4` share 100
// posts; `RealRun.compare` counts the events, sums their durations, names their sites.

// %%
class RealRun {
    static Map<String, List<Wait>> compare(int threads, int posts, Duration write)
            throws Exception {
        var ways = new LinkedHashMap<String, BiConsumer<ContendedLedger, String>>();
        ways.put("write inside synchronized", ContendedLedger::postHoldingMonitor);
        ways.put("write inside ReentrantLock", ContendedLedger::postHoldingLock);
        ways.put("write outside (the fix)", ContendedLedger::postThenLock);
        var byWay = new LinkedHashMap<String, List<Wait>>();
        System.out.printf("threads: %d, posts: %d, each write %d ms; JFR recorded:%n",
                threads, posts, write.toMillis());
        System.out.printf("%50s %22s%n", "jdk.JavaMonitorEnter", "jdk.ThreadPark");
        for (var way : ways.entrySet()) {
            var waits = JfrWaits.record("poster-",
                    () -> Posters.run(threads, posts, way.getValue(), write));
            byWay.put(way.getKey(), waits);
            System.out.printf("%-27s %s %s%n", way.getKey(),
                    total(waits, "jdk.JavaMonitorEnter"), total(waits, "jdk.ThreadPark"));
        }
        System.out.println("where they waited (the first frame in our code), how often:");
        byWay.forEach((way, waits) -> waits.stream()
                .collect(Collectors.groupingBy(Wait::site, Collectors.counting()))
                .forEach((at, n) -> System.out.printf("  %-26s %s x%d%n", way, at, n)));
        return byWay;
    }

    static String total(List<Wait> waits, String event) {
        var these = waits.stream().filter(w -> w.event().equals(event)).toList();
        long micros = these.stream().mapToLong(w -> w.duration().toNanos() / 1000).sum();
        return "%4d waits %8.1f ms".formatted(these.size(), micros / 1000.0);
    }
}

// %% [run]
// var byWay = RealRun.compare(4, 100, Duration.ofMillis(2));

// %% [markdown]
// The monitor version records only monitor enters, the `ReentrantLock` version only
// parks. The rows count differently: JFR records a monitor enter only when the thread
// blocks (not one won by spinning), and one `lock()` can park more than once (the lock is
// unfair: the unlocking poster often retakes it). Times are summed over all 4 threads.
//
// ## The same from the command line
//
// JFR records any Java program, unchanged (`jcmd <pid> JFR.start` for a running one):
//
// ```
// java -XX:StartFlightRecording:filename=app.jfr,settings=profile -jar app.jar
// jfr print --events jdk.JavaMonitorEnter,jdk.ThreadPark app.jfr
// jfr view contention-by-site app.jfr
// ```
//
// `jfr view contention-by-site` (and `-by-thread`, `-by-class`) reads only monitor
// enters: `ReentrantLock` waits, being parks, never appear; `jfr view latencies-by-type`
// counts both, and `jfr print` shows each park's `parkedClass` and stack. Both events
// keep only waits of 20 ms or more (`settings=default`), 10 ms with `settings=profile`.
//
// ## Pitfalls
//
// - **Thresholds hide many short waits.** A thousand 1 ms waits cost a second and show
//   nothing at 10 ms: while you investigate, add `locking-threshold=0ms` to the options
//   of `-XX:StartFlightRecording` (`java -XX:StartFlightRecording:help` lists them).
// - **A park is not always a lock.** Queues, latches, idle pool threads and the carriers
//   of virtual threads (`ForkJoinPool-1-worker-*`) park too: read `parkedClass` and the
//   stack before blaming a lock. Waiting for a core is no lock event at all.
//
// ## From Python
//
// | Python (the seed: "profile first") | Java |
// |---|---|
// | `time.perf_counter()` around the code | `System.nanoTime()` around the code |
// | `cProfile`, `py-spy` | JFR (`-XX:StartFlightRecording`, `jdk.jfr`), `jcmd` |
// | (no lock-wait events) | `jdk.JavaMonitorEnter`, `jdk.ThreadPark` |
// | `timeit` on one function | JMH: see the `benchmarking` lesson |
//
// ## Try it
//
// - Run `jbang profiling record` twice: the counts and times change, which row has
//   which event does not.
// - In the `record` section's call `RealRun.compare(4, ...)`, pass 1 and run `record`
//   again: no thread has anyone to wait for, and both lock rows record no waits.
// - Run `jbang profiling forced --speed 0.3`: the waits last longer, as the pauses do.
//
// ## Summary
//
// Measure before and after adding threads, and when threads do not help, let JFR show
// which lock they wait for and on which line.
//
// On platform threads `synchronized` waits are `jdk.JavaMonitorEnter` events and
// `ReentrantLock` waits `jdk.ThreadPark` events; the `contention-by-*` views read only
// the first. The usual cure: hold a lock for the shared state only, never for slow work.

// %% [main]
class profiling {  // the entry point, script only: `jbang profiling --help`
    static final Section[] SECTIONS = {
            new Section("measure", "100 posts on 1, 2 and 4 threads, before and after",
                    speed -> Posters.table(100, Duration.ofMillis(2), 5)),
            new Section("forced", "a monitor wait and a lock wait, as JFR records them",
                    speed -> SlowMotion.replay(Math.round(400 / speed))),
            new Section("record", "JFR on 4 posters: which lock, how long, which line",
                    speed -> RealRun.compare(4, 100, Duration.ofMillis(2)))};
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
