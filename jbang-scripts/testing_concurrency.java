///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DEPS org.openjdk.jcstress:jcstress-core:0.16 org.jetbrains.lincheck:lincheck:3.7
//DEPS org.ow2.asm:asm:9.9.1 org.ow2.asm:asm-commons:9.9.1 org.ow2.asm:asm-tree:9.9.1
//DEPS org.ow2.asm:asm-util:9.9.1 org.ow2.asm:asm-analysis:9.9.1
//COMPILE_OPTIONS -processor org.openjdk.jcstress.infra.processors.JCStressTestProcessor
//RUNTIME_OPTIONS -XX:+EnableDynamicAgentLoading --sun-misc-unsafe-memory-access=allow -Xshare:off
package jmm;  // jcstress wants its tests in a named package

import static org.openjdk.jcstress.annotations.Expect.*;  // the notebook has neither tool
import org.jetbrains.lincheck.datastructures.*;
import org.openjdk.jcstress.annotations.*;
import org.openjdk.jcstress.infra.results.*;

// %% [markdown]
// # Testing concurrent code: jcstress and Lincheck, not luck
//
// A race test that passes has proved nothing: the bad interleaving may simply not have
// happened this time. This lesson runs a broken counter's test until it passes, then
// uses the two tools built for the job: jcstress, which runs a tiny test billions of
// times and tables every outcome, and Lincheck, which model-checks a data structure.
//
// **You will learn**
// - why a passing race test proves nothing, and what a latch-forced test proves
// - to write jcstress tests (actors, outcomes, grading) and read their tables
// - what "not observed" means on x86: allowed by the JMM, just not seen here
// - to model-check a concurrent class with Lincheck and read the interleaving it prints

// %%
import java.nio.file.*;
import java.time.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.function.*;
import java.util.regex.*;
import java.util.stream.*;

// %% [markdown]
// ## A race test that passes
//
// `RacyCounter.increment()` is `count++`: a read, an add and a write, which two threads
// can interleave (see `counter`). The naive test lets 5 threads add 1,000 each and
// checks the total; we run it ten times. Most runs pass: once compiled, a thousand
// increments take microseconds, and a thread is often done before the next one starts.
// A green run means "the race did not happen this time".

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
// the others, nor about what the JIT or the CPU may reorder. The tools below do.

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
// ## jcstress: every outcome, counted and graded
//
// jcstress (OpenJDK's concurrency stress tests) runs a test's `@Actor` methods at once
// on threads of their own, on a fresh `@State` object, millions of times, in forked
// JVMs; an `@Arbiter` may read the state after them. Each run's result (`I_Result`,
// `II_Result`...) is an *outcome*, like `1, 0`: jcstress counts each, and grades it by
// the `@Outcome` annotations: `ACCEPTABLE`, `ACCEPTABLE_INTERESTING` (allowed, worth a
// look) or `FORBIDDEN` (seen once, the test fails).
//
// @diagram testing_concurrency-jcstress
//
// A plain or `volatile` `x++` may lose an increment (the JMM allows it); an
// `AtomicInteger` must not. Message passing: the writer sets `x`, then `y`; the reader
// reads `y`, then `x`; `1, 0` means it saw them out of order. With plain fields nothing
// orders them. x86 keeps loads in order, and stores, but the JIT may reorder the reads
// (see jcstress's `BasicJMM_06_Causality`). With `y` volatile, `y == 1` implies `x == 1`.

// %% [show]
class LostUpdate {  // each @JCStressTest class is one test; its actors run at once
    @JCStressTest @State
    @Outcome(id = "2", expect = ACCEPTABLE, desc = "both increments")
    @Outcome(id = "1", expect = ACCEPTABLE_INTERESTING, desc = "an increment lost")
    public static class Plain {
        int x;
        @Actor public void actor1() { x++; }  @Actor public void actor2() { x++; }
        @Arbiter public void arbiter(I_Result r) { r.r1 = x; }  // after both actors
    }

    @JCStressTest @State
    @Outcome(id = "2", expect = ACCEPTABLE, desc = "both increments")
    @Outcome(id = "1", expect = ACCEPTABLE_INTERESTING, desc = "an increment lost")
    public static class Volatile {
        volatile int x;
        @Actor public void actor1() { x++; }  @Actor public void actor2() { x++; }
        @Arbiter public void arbiter(I_Result r) { r.r1 = x; }
    }

    @JCStressTest @State
    @Outcome(id = "2", expect = ACCEPTABLE, desc = "both increments")
    @Outcome(id = "1", expect = FORBIDDEN, desc = "an increment lost")
    public static class Atomic {
        final AtomicInteger x = new AtomicInteger();
        @Actor public void actor1() { x.incrementAndGet(); }
        @Actor public void actor2() { x.incrementAndGet(); }
        @Arbiter public void arbiter(I_Result r) { r.r1 = x.get(); }
    }
}

class MessagePassing {
    @JCStressTest @State
    @Outcome(id = {"0, 0", "0, 1", "1, 1"}, expect = ACCEPTABLE, desc = "in order")
    @Outcome(id = "1, 0", expect = ACCEPTABLE_INTERESTING, desc = "y seen, x not")
    public static class Plain {
        int x, y;
        @Actor public void writer() { x = 1; y = 1; }
        @Actor public void reader(II_Result r) { r.r1 = y; r.r2 = x; }
    }

    @JCStressTest @State
    @Outcome(id = {"0, 0", "0, 1", "1, 1"}, expect = ACCEPTABLE, desc = "in order")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "y seen, x not")
    public static class Volatile {
        int x;
        volatile int y;  // x = 1 happens-before a read of y that sees 1
        @Actor public void writer() { x = 1; y = 1; }
        @Actor public void reader(II_Result r) { r.r1 = y; r.r2 = x; }
    }
}

// %% [markdown]
// Publication through a racy field (after `BasicJMM_08_Finals`): one actor stores a new
// `Pair` in a plain field, the other reads its fields (`-1, -1`: no `Pair` yet). The
// JIT may store the reference before the constructor's writes, so a reader may see a
// `Pair` partly built; with `final` fields, JLS §17.5 forbids that. The stale flag
// (see `visibility`) uses `Mode.Termination`: the actor spins until it sees `stop`;
// jcstress then calls `@Signal`, which sets it, and records whether the actor ended.

// %% [show]
class Publication {
    static class Pair { int a, b; Pair(int v) { a = v; b = a + v; } }
    static class FinalPair { final int a, b; FinalPair(int v) { a = v; b = a + v; } }

    @JCStressTest @State
    @Outcome(id = {"-1, -1", "1, 2"}, expect = ACCEPTABLE, desc = "none yet, or whole")
    @Outcome(expect = ACCEPTABLE_INTERESTING, desc = "partly built")
    public static class Plain {
        int v = 1;  // a field, not a constant: the values are computed at run time
        Pair p;
        @Actor public void publish() { p = new Pair(v); }
        @Actor public void read(II_Result r) {
            Pair seen = p;
            r.r1 = seen == null ? -1 : seen.a;  // -1: not published yet
            r.r2 = seen == null ? -1 : seen.b;
        }
    }

    @JCStressTest @State
    @Outcome(id = {"-1, -1", "1, 2"}, expect = ACCEPTABLE, desc = "none yet, or whole")
    @Outcome(expect = FORBIDDEN, desc = "partly built")
    public static class Final {
        int v = 1;
        FinalPair p;
        @Actor public void publish() { p = new FinalPair(v); }
        @Actor public void read(II_Result r) {
            FinalPair seen = p;
            r.r1 = seen == null ? -1 : seen.a;  // -1: not published yet
            r.r2 = seen == null ? -1 : seen.b;
        }
    }
}

class SpinFlag {
    @JCStressTest(Mode.Termination) @State
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "saw the flag")
    @Outcome(id = "STALE", expect = ACCEPTABLE_INTERESTING, desc = "never saw it")
    public static class Plain {
        boolean stop;
        @Actor public void spinner() { while (!stop) { } }  // may test a copy forever
        @Signal public void signal() { stop = true; }
    }

    @JCStressTest(Mode.Termination) @State
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "saw the flag")
    @Outcome(id = "STALE", expect = FORBIDDEN, desc = "never saw it")
    public static class Volatile {
        volatile boolean stop;
        @Actor public void spinner() { while (!stop) { } }
        @Signal public void signal() { stop = true; }
    }
}

// %% [markdown]
// ## Running jcstress
//
// `Jcstress.tables` runs `org.openjdk.jcstress.Main` on this script's class path (the
// `-processor` line on top generates the tests' harness) in about a minute: one fork a
// test, 3 iterations of 300 ms, and C2's randomized instruction scheduling
// (`-XX:+StressGCM`...), which shakes out reorderings sooner. (`make stress` runs
// jcstress's `quick` mode.) The notebook cannot compile jcstress tests: it runs JBang.

// %%
class Jcstress {
    static final String JVM = "--sun-misc-unsafe-memory-access=allow "
            + "--enable-native-access=ALL-UNNAMED -XX:+UnlockDiagnosticVMOptions "
            + "-XX:+StressLCM -XX:+StressGCM -XX:+StressIGVN -XX:+StressCCP";
    static final Pattern TEST = Pattern.compile("\\.+ \\[(\\w+)\\] jmm\\.(\\S+)");

    static int tables(double speed) throws Exception {
        long millis = Math.round(300 / Math.max(1, speed));  // above 1: a smoke run
        var command = List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), JVM.split(" ")[0], JVM.split(" ")[1], "-cp",
                System.getProperty("java.class.path"), "org.openjdk.jcstress.Main",
                "-v", "-f", "1", "-iters", "3", "-time", "" + millis, "-sc", "false",
                "-jvmArgs", JVM);
        var name = new AtomicReference<String>();
        return run(command, Duration.ofSeconds(300), line -> {  // a table as it comes
            Matcher test = TEST.matcher(line);
            if (line.startsWith("RUN RESULTS")) name.set("");  // then a summary: done
            if (name.get() != null && name.get().isEmpty()) return;
            if (test.matches()) name.set(test.group(2) + "  [" + test.group(1) + "]");
            else if (name.get() != null && line.trim().startsWith("RESULT ")) {
                System.out.println(name.get() + "\n" + line.substring(2));
            } else if (name.get() != null && line.matches(" +\\S.* (Acc|Int|For).*")) {
                System.out.println(line.substring(2));
            }
        });
    }

    /** Runs `command` in a new folder, each line to `eachLine`; ends it after `limit`. */
    static int run(List<String> command, Duration limit, Consumer<String> eachLine)
            throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .directory(Files.createTempDirectory("run").toFile()).start();
        Thread reader = Thread.ofPlatform().daemon().start(
                () -> process.inputReader().lines().forEach(eachLine));
        try {
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("not done within " + limit);
            }
            reader.join(limit);
            return process.exitValue();
        } finally {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor();
        }
    }
}

// %% [run]
// var script = Path.of("../jbang-scripts/testing_concurrency.java").toAbsolutePath();
// var jbang = Path.of("../tools/bin/jbang").toAbsolutePath().toString();
// int status = Jcstress.run(List.of(jbang, script.toString(), "jcstress"),
//         Duration.ofSeconds(300), System.out::println);

// %% [markdown]
// ## Reading the tables
//
// `[OK]`: no `FORBIDDEN` outcome seen (one would make it `[FAILED]`). Plain and volatile
// `x++` lose increments, a few percent of the samples; the atomic never does. The plain
// message passing showed `1, 0` in this run, rarely (a shorter run may miss it); the
// volatile one never. `STALE` (the spinner never saw the plain flag) shows in few of
// the trials, or none: in most, the signal comes before C2 compiles the loop. No
// partly built `Pair` appeared: jcstress's own x86 table shows
// about 1 in 10,000 samples, and ARM, which also reorders stores, far more.
//
// So a missing outcome was *not observed*, on this CPU and JIT, in this many samples.
// It is not *forbidden*: the JMM allows the partly built `Pair`. Only `FORBIDDEN` is a
// promise, and jcstress can look for a broken one, never prove that it holds.
//
// ## Lincheck: model checking a data structure
//
// Lincheck runs small scenarios of a class's `@Operation` methods on two or three
// threads under a *model checker*, which may switch threads at each shared-memory
// access, and explores those interleavings systematically. After each it asks: could
// these results come from running the operations one at a time, in an order that keeps
// each thread's own? If not, the class is not *linearizable*, and Lincheck prints the
// interleaving. It finds atomicity bugs, not reorderings (jcstress's job).
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

    static void both() {
        for (Class<?> model : List.of(Broken.class, Fixed.class)) {
            String report = check(model);
            System.out.println(model.getSimpleName() + ": " + (report.isEmpty()
                    ? "no bad interleaving found" : "not linearizable"));
            Report.print(report);
        }
    }
}

// %%
class Report {
    static void print(String report) {
        int trace = report.indexOf("Detailed trace:");
        for (String line : report.substring(0, trace < 0 ? 0 : trace).lines().toList()) {
            var cells = Stream.of(line.split("\\|")).skip(1).map(String::stripTrailing)
                    .map(c -> c.length() > 1 ? c.substring(1) : "").toList();
            if (line.startsWith("| -")) System.out.println("  " + "-".repeat(40));
            else if (line.startsWith("All operations above")) System.out.println(
                    "(the operations above a line happen before those below it)");
            else if (cells.size() < 2) System.out.println(line);
            else if (cells.stream().noneMatch(c -> c.startsWith("-") || c.startsWith(
                    "      "))) {  // no rule, nothing deeper than the map's calls
                System.out.println("  %-36s %s".formatted(cells.get(0), cells.get(1)));
            }
        }
    }
}

// %% [run]
// int lincheck = Jcstress.run(List.of(jbang, script.toString(), "lincheck"),
//         Duration.ofSeconds(300), System.out::println);

// %% [markdown]
// The broken count fails on every run, the `merge` count passes. (`Report.print` keeps
// Lincheck's scenario and interleaving, down to the map's `get` and `put`.)
//
// ## Pitfalls
//
// - **A green stress test is weak evidence.** Force the interleaving, or use a tool.
// - **Not observed is not forbidden.** Grade outcomes by the JMM, not by one machine.
//
// ## From Python
//
// | Python | Java |
// |---|---|
// | a `threading` test, run again and again | jcstress: outcomes counted, graded |
// | `sys.setswitchinterval` to provoke switches | Lincheck: switches chosen, explored |
//
// ## Try it
//
// - Run `jbang testing_concurrency naive` a few times: how many of the ten runs pass
//   changes from run to run; the forced race loses its count every time.
// - In `LostUpdate.Atomic`, make `x` a plain `int` with `x++` (keep `FORBIDDEN`) and run
//   `jbang testing_concurrency jcstress`: that test now ends `[FAILED]`.
//
// ## Summary
//
// Prove concurrent code with tools that hunt for the bad case: jcstress counts every
// outcome of a tiny test over millions of runs, Lincheck walks the interleavings.
//
// A passing race test shows only that the race did not happen that time; a latch
// proves the one interleaving it forces. An outcome jcstress did not see is not thereby
// forbidden; Lincheck prints the interleaving that breaks a structure, every run.

// %% [main]
class testing_concurrency {  // the entry point, script only: `--help`
    static final Section[] SECTIONS = {
            new Section("naive", "a race test ten times; then a race forced by latches",
                    speed -> { RacyCounter.tenRuns(); ForcedInterleaving.lostCount(); }),
            new Section("jcstress", "the jcstress tests, about a minute",
                    speed -> Jcstress.tables(speed)),
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
