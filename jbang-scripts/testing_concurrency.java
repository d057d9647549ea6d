///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DEPS org.jetbrains.lincheck:lincheck:3.7
//DEPS org.ow2.asm:asm:9.9.1 org.ow2.asm:asm-commons:9.9.1 org.ow2.asm:asm-tree:9.9.1
//DEPS org.ow2.asm:asm-util:9.9.1 org.ow2.asm:asm-analysis:9.9.1
//RUNTIME_OPTIONS -XX:+EnableDynamicAgentLoading --sun-misc-unsafe-memory-access=allow -Xshare:off
import org.jetbrains.lincheck.datastructures.*;  // the notebook's kernel has no Lincheck

// %% [markdown]
// # Testing concurrent code: latches and Lincheck, not luck
//
// A race test that passes proves nothing: the bad interleaving may simply not have
// happened this time. This lesson runs a broken counter's test until it passes, forces
// the race with latches, then lets Lincheck search the interleavings for us.
//
// **You will learn**
// - why a passing race test proves nothing
// - to force one interleaving with latches and a seam, and what that does not prove
// - to model-check a concurrent class with Lincheck and read the interleaving it prints
// - where jcstress takes over: reorderings and visibility (the `jcstress` lesson)

// %%
import java.nio.file.*;
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.function.*;
import java.util.stream.*;

// %% [markdown]
// ## A race test that passes
//
// `RacyCounter.increment()` is `count++`: a read, an add and a write, which two threads
// can interleave (see `counter`). The naive test lets 5 threads add 1,000 each and
// checks the total; we run it ten times. On a 2-core machine most, often all ten,
// pass: a thousand increments take microseconds, less than starting the next thread,
// so the threads seldom overlap. A green run means "the race did not happen this
// time": the `counter` lesson shows this counter losing updates, and the next section
// forces the same kind of race, a read then a write, in a word count.

// %%
class RacyCounter {
    int count;
    void increment() { count++; }  // a read, an add, a write

    /** The naive test, ten times: 5 threads add 1,000 each; a run passes if none lost. */
    static long tenRuns() throws Exception {
        var verdicts = new ArrayList<String>();
        for (int run = 0; run < 10; run++) {
            var counter = new RacyCounter();
            Runnable adds = () -> {
                for (int i = 0; i < 1_000; i++) counter.increment();
            };
            var workers = Stream.generate(() -> Thread.ofPlatform().start(adds)).limit(5)
                    .toList();
            for (Thread worker : workers) worker.join();  // join: their writes are seen
            verdicts.add(counter.count == 5_000 ? "pass" : "FAIL");
        }
        long passed = verdicts.stream().filter("pass"::equals).count();
        System.out.println("5 threads x 1,000 increments: " + String.join(" ", verdicts));
        System.out.println(passed + " of 10 runs of a broken counter's test passed");
        return passed;
    }
}

// %% [run]
// long passed = RacyCounter.tenRuns();

// %% [markdown]
// ## Forcing one interleaving with latches
//
// This collection's tests force the bad interleaving instead. The word count of
// `race_conditions` does a `get`, then a `put`, on a `ConcurrentHashMap`; a *seam*
// between them (a hook, a no-op in normal use) lets a test hold thread A after its
// `get` while B adds, then let A `put` its stale count: two adds, count 1, every run.
// The limit: it proves the one interleaving its author thought of, and nothing about
// the others, nor about what the JIT or the CPU may reorder. Lincheck searches the
// interleavings; jcstress (the next lesson) hunts reorderings and stale reads.
// Below, `main` is the thread that calls `lostCount` (in the notebook, the kernel's
// own thread): it starts A, waits until A has checked, runs B to its end, lets A go.
//
// @diagram testing_concurrency-forced

// %%
class CheckThenActCount {
    final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();
    final Consumer<Long> afterGet;  // the seam: where a test may hold a thread
    CheckThenActCount(Consumer<Long> afterGet) { this.afterGet = afterGet; }
    void add(String word) {
        Long seen = counts.get(word);                    // check
        afterGet.accept(seen);
        counts.put(word, seen == null ? 1L : seen + 1);  // act, on a stale check
    }
    long count(String word) { return counts.getOrDefault(word, 0L); }
}

class ForcedInterleaving {
    static long lostCount() throws InterruptedException {
        var aHasChecked = new CountDownLatch(1);
        var bIsDone = new CountDownLatch(1);
        var count = new CheckThenActCount(seen -> {
            if (!Thread.currentThread().getName().equals("A")) return;
            aHasChecked.countDown();
            await(bIsDone, 10_000);  // A holds its stale check until B is done
        });
        Thread a = Thread.ofPlatform().name("A").start(() -> count.add("the"));
        await(aHasChecked, 10_000);
        Thread.ofPlatform().name("B").start(() -> count.add("the")).join();
        bIsDone.countDown();
        a.join();
        System.out.println("A and B each add \"the\" once; count: " + count.count("the"));
        return count.count("the");
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
// long forced = ForcedInterleaving.lostCount();

// %% [markdown]
// ## Lincheck: model checking a data structure
//
// Lincheck runs scenarios of up to 5 of a class's `@Operation` calls on each of 2
// threads (its defaults) under a *model checker*, which may switch threads at each
// shared-memory access. It tries up to 1,000 interleavings per scenario, fewest thread
// switches first, drawing its choices from a fixed seed: the same code gives the same
// scenarios, interleavings and report every run. A pass means none of those broke the
// class, not that none can. After each run it asks: could these results come from the
// operations one at a time, in an order that keeps each thread's own order and puts an
// operation that ended before another began ahead of it? If not, the class is not
// *linearizable*; Lincheck drops calls from the scenario while it still fails (here
// down to one `add` on each thread, then `count()`) and prints it and its interleaving.
// It finds atomicity bugs, not reorderings (the `jcstress` lesson's job).
// The notebook's kernel has no Lincheck: its cell runs this script's `lincheck`
// section through JBang. `Report.dotted` prints a dot for every 2 s of a search (the
// fixed count's takes many seconds); `Report.print` trims the report to 80 columns.
//
// @diagram testing_concurrency-lincheck

// %% [show]
class TallyModels {  // what Lincheck drives: a fresh instance for each scenario
    public static class Broken {
        final CheckThenActCount counts = new CheckThenActCount(seen -> { });
        @Operation public void add() { counts.add("the"); }
        @Operation public long count() { return counts.count("the"); }
    }

    public static class Fixed {  // merge: the check and the act, one atomic step
        final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();
        @Operation public void add() { counts.merge("the", 1L, Long::sum); }
        @Operation public long count() { return counts.getOrDefault("the", 0L); }
    }

    /** Lincheck's report if it finds a bad interleaving, else "". */
    static String check(Class<?> model) {
        try {
            new ModelCheckingOptions().iterations(20).invocationsPerIteration(1_000)
                    .check(model);
            return "";
        } catch (AssertionError failure) {
            return failure.getMessage();
        }
    }

    static void both() throws InterruptedException {
        for (Class<?> model : List.of(Broken.class, Fixed.class)) {
            System.out.append(model.getSimpleName()).append(": searching").flush();
            String report = Report.dotted(() -> check(model));  // a dot every 2 s
            System.out.println(" -> " + (report.isEmpty() ? "no bad interleaving found"
                    : "not linearizable"));
            Report.print(report);
        }
    }
}

// %%
class Report {  // dots while Lincheck searches; its interleaving, in 80 columns
    /** `work`'s result; meanwhile a dot every 2 s, so a long search shows it is alive. */
    static String dotted(Supplier<String> work) throws InterruptedException {
        Thread dots = Thread.ofPlatform().daemon().start(() -> {
            try {
                for (int n = 1; ; n++) {
                    Thread.sleep(2_000);
                    System.out.append(n % 40 == 0 ? ".\n" : ".").flush();  // 80 columns
                }
            } catch (InterruptedException done) { }  // the work has ended
        });
        try {
            return work.get();
        } finally {
            dots.interrupt();
            dots.join(Duration.ofSeconds(5));
        }
    }

    static void print(String report) {
        int trace = report.indexOf("Detailed trace:");
        for (String line : report.substring(0, trace < 0 ? 0 : trace).lines().toList()) {
            var cells = Stream.of(line.split("\\|")).skip(1).map(String::stripTrailing)
                    .map(c -> c.length() > 1 ? c.substring(1) : "")
                    .map(c -> c.strip().matches("Thread \\d") ? c.strip() : c).toList();
            if (line.startsWith("| -")) System.out.println("  " + "-".repeat(40));
            else if (line.startsWith("All operations above")) System.out.println(
                    "(the operations above a line happen before those below it)");
            else if (cells.size() < 2) System.out.println(line);
            else if (cells.stream().noneMatch(c -> c.startsWith("-")
                    || c.startsWith("      ") && !c.strip().equals("switch"))) {
                // no rule; nothing deeper than the map's calls, but Lincheck's switches
                System.out.println("  %-36s %s".formatted(cells.get(0), cells.get(1)));
            }
        }
    }
}

// %%
class SectionRun {
    /** Runs `command`, printing each line it prints; ends it after `limit`. */
    static int run(List<String> command, Duration limit) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        Thread reader = Thread.ofPlatform().daemon().start(
                () -> process.inputReader().lines().filter(l -> !l.startsWith("[jbang]"))
                        .forEach(System.out::println));
        try {
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("not done within " + limit);
            }
            reader.join(limit);
            return process.exitValue();
        } finally {  // JBang's build is a child; the handle's kill leaves the pipe open
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.toHandle().destroyForcibly(); process.waitFor();
        }
    }
}

// %% [run]
// var script = Path.of("../jbang-scripts/testing_concurrency.java").toAbsolutePath();
// var jbang = Path.of("../tools/bin/jbang").toAbsolutePath().toString();
// int status = SectionRun.run(List.of(jbang, script.toString(), "lincheck"),
//         Duration.ofSeconds(270));
// if (status != 0) throw new IllegalStateException("lincheck section: exit " + status);

// %% [markdown]
// The broken count fails, the `merge` count passes. Lincheck prints each call once,
// where it begins, with the result it eventually returned. Thread 2's `add` reads
// `null`, passes the seam (`afterGet.accept(null)`, a no-op here) and calls `put`. The
// `switch`, indented under `put`, came inside it, before its write: Thread 1's whole
// `add` ran there and stored 1. Then Thread 2's `put` finished, replacing that 1 (its
// `: 1`) with its stale 1; `result: void` is its `add` returning, and `count()` gives 1
// after two adds. A switch anywhere between the `get` and the write loses the same add.
//
// ## Pitfalls
//
// - **A green stress test proves nothing.** Force the interleaving, or use a tool.
// - **A seam must cost next to nothing.** A no-op hook; never a sleep left in the code.
// - **Lincheck checks atomicity, not the memory model.** Reorderings: `jcstress`.
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | a `threading` race test, run again and again | proves nothing: force it |
// | an `Event` holding a thread inside a test | a `CountDownLatch` and a seam |
// | `sys.setswitchinterval` to provoke switches | Lincheck: switches chosen, explored |
//
// ## Try it
//
// - Run `jbang testing_concurrency naive` a few times: how many of the ten runs pass
//   changes from run to run; the forced race ends at count 1 every time.
// - In `TallyModels.Fixed.add`, write `counts.put("the", count() + 1)` and run
//   `jbang testing_concurrency lincheck`: `Fixed` is now not linearizable either.
//
// ## Summary
//
// A passing race test proves nothing: force the interleaving you fear with latches, and
// let Lincheck search the ones you did not think of.
//
// A latch proves the one interleaving it forces; Lincheck's seeded search finds and
// prints the same breaking interleaving every run, but its pass is no proof. Neither
// sees what the JIT or the CPU reorders: for that, jcstress counts every outcome of a
// tiny race (the `jcstress` lesson).

// %% [main]
class testing_concurrency {  // the entry point, script only: `--help`
    static final Section[] SECTIONS = {
            new Section("naive", "a race test ten times; then a race forced by latches",
                    speed -> { RacyCounter.tenRuns(); ForcedInterleaving.lostCount(); }),
            new Section("lincheck", "Lincheck on the broken and the fixed word count",
                    speed -> TallyModels.both())};
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
