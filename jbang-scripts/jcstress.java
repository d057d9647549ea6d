///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DEPS org.openjdk.jcstress:jcstress-core:0.16
//COMPILE_OPTIONS -processor org.openjdk.jcstress.infra.processors.JCStressTestProcessor
//RUNTIME_OPTIONS --sun-misc-unsafe-memory-access=allow
package jmm;  // jcstress wants its tests in a named package

import static org.openjdk.jcstress.annotations.Expect.*;  // the notebook has no jcstress
import org.openjdk.jcstress.annotations.*;
import org.openjdk.jcstress.infra.results.*;

// %% [markdown]
// # jcstress: every outcome of a race, counted and graded
//
// A lost update, a message read out of order, a half-built object, a flag never seen:
// the Java Memory Model allows them all; a machine shows some often, some rarely, some
// never. jcstress runs a tiny test millions of times on racing threads and tables every
// outcome it saw, graded by what the test says the JMM allows.
//
// **You will learn**
// - to write a jcstress test: actors, an arbiter, outcomes and their grades
// - five cases: lost update, message passing, publication, store buffering, stop flag
// - to read jcstress's tables, and which outcomes a fix must forbid
// - what "not observed" means on x86: allowed by the JMM, just not seen here

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
// ## A jcstress test
//
// A class marked `@JCStressTest` and `@State` is one test. jcstress makes a fresh
// instance, runs each `@Actor` method once on a thread of its own, all at once, then
// the `@Arbiter` if there is one. What they write into the result (`I_Result`: one
// `int`, `II_Result`: two) is an *outcome*, like `1` or `1, 0`. It repeats that
// millions of times in forked JVMs, counts each outcome, and grades it by the
// `@Outcome` annotations: `ACCEPTABLE`, `ACCEPTABLE_INTERESTING` (allowed, worth a look)
// or `FORBIDDEN` (seen once, the test fails). (Why `count++` can lose an update: see
// `counter`; `testing_concurrency` tells why a plain stress test proves little.)
//
// `JcstressRun.tables` runs `org.openjdk.jcstress.Main` on this script's class path
// (the `-processor` line on top generates each test's harness) for the tests whose
// name matches: 3 forks per test, three 300 ms iterations each, on 2 CPUs. Each fork
// compiles the test afresh with C2 (HotSpot's optimizing JIT compiler) in a random
// instruction schedule (`-XX:+StressGCM`...), which shakes reorderings out sooner.
// At the end it prints each test's table, summed over its forks. Nothing is paced:
// `--speed` up to 10 runs it all; above 10 (`make run` uses 20), one short fork a test
// (tables may show nothing interesting). `make stress` runs more forks (README). Only
// JBang's build (the `-processor` line) makes harnesses: the notebook runs sections.

// %%
class JcstressRun {
    static final String JVM = "--sun-misc-unsafe-memory-access=allow "
            + "--enable-native-access=ALL-UNNAMED -XX:+UnlockDiagnosticVMOptions "
            + "-XX:+StressLCM -XX:+StressGCM -XX:+StressIGVN -XX:+StressCCP";
    static final Pattern TEST = Pattern.compile("\\.+ \\[(\\w+)\\] jmm\\.(\\S+)");

    /** Runs the tests whose name matches `tests`; prints each test's table. */
    static int tables(double speed, String tests) throws Exception {
        boolean built = ClassLoader.getSystemResource("META-INF/TestList") != null;
        if (!built) System.out.println("no tests: only a script built by JBang has them");
        if (!built) return 0;  // in JShell, say
        boolean smoke = speed > 10;  // make run: one short fork a test
        String forks = smoke ? "1" : "3", iters = forks, millis = smoke ? "100" : "300";
        System.out.printf("each test: %s fork(s) x %s x %s ms + start-up; a dot per fork,"
                + " then tables%n", forks, iters, millis);
        var command = List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), JVM.split(" ")[0], JVM.split(" ")[1], "-cp",
                System.getProperty("java.class.path"), "org.openjdk.jcstress.Main",
                "-v", "-t", tests, "-f", forks, "-iters", iters, "-time", millis,
                "-c", "2", "-sc", "false", "-jvmArgs", JVM);
        var name = new AtomicReference<String>();  // null until the summary
        return run(command, Duration.ofSeconds(240), line -> {
            Matcher test = TEST.matcher(line);
            if (line.startsWith("RUN RESULTS")) System.out.println();  // ends the dots
            if (line.startsWith("RUN RESULTS")) name.set("");  // one table a test
            if (name.get() == null && test.matches()) System.out.append('.').flush();
            if (name.get() == null) return;  // before it: a dot as each fork ends
            if (test.matches()) name.set(test.group(2) + "  [" + test.group(1) + "]");
            else if (!name.get().isEmpty() && line.trim().startsWith("RESULT ")) {
                System.out.println(name.get() + "\n" + line.substring(2));
            } else if (!name.get().isEmpty() && line.matches(" +\\S.* (Acc|Int|For).*")) {
                System.out.println(line.substring(2));
            }
        });
    }

    /** Runs `command` in a new folder, each line to `eachLine`; ends it after `limit`. */
    static int run(List<String> command, Duration limit, Consumer<String> eachLine)
            throws Exception {
        Path folder = Files.createTempDirectory("run");  // jcstress's files; deleted
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .directory(folder.toFile()).start();
        Thread reader = Thread.ofPlatform().daemon().start(
                () -> process.inputReader().lines().forEach(eachLine));
        try {
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("not done within " + limit);
            }
            reader.join(limit);
            return process.exitValue();
        } finally {  // the handle's kill: Process's also closes the pipe being read
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.toHandle().destroyForcibly(); process.waitFor();
            reader.join(Duration.ofSeconds(5));
            try (Stream<Path> files = Files.walk(folder)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}

// %% [markdown]
// ## Lost update
//
// @diagram jcstress-actors
//
// Two actors each do `x++` once; the arbiter reads `x`. `1` means one increment was
// lost: allowed for a plain `int` and for a `volatile` one (volatile makes each read
// and write visible, not the read-add-write atomic); forbidden for an `AtomicInteger`.

// %% [show]
class LostUpdate {  // each nested @JCStressTest class is one test
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

// %% [run]
// var script = Path.of("../jbang-scripts/jcstress.java").toAbsolutePath().toString();
// var jbang = Path.of("../tools/bin/jbang").toAbsolutePath().toString();
// int status = JcstressRun.run(List.of(jbang, script, "lost"),
//         Duration.ofSeconds(270), System.out::println);
// if (status != 0) throw new IllegalStateException("jbang jcstress lost: exit " + status);

// %% [markdown]
// Each table lists an outcome, how many samples showed it, its share, and its grade.
// `[OK]`: no `FORBIDDEN` outcome was seen (one would make it `[FAILED]`). At the
// default speed, plain and volatile `x++` lose increments, a share that varies widely
// from run to run; the `AtomicInteger` never does.
//
// ## Message passing
//
// The writer sets `x = 1`, then `y = 1`; the reader reads `y`, then `x`. `1, 0` means it
// saw the second write and not the first. With plain fields nothing orders them: the
// JIT may reorder either pair (x86 itself keeps stores in order, and loads; see
// jcstress's sample `BasicJMM_06_Causality`). With `y` volatile, the write of `y`
// synchronizes-with a read of `y` that sees it (JLS 17.4.4), so the write of `x`
// happens-before that read and the read of `x` after it (17.4.5): `1, 0` is forbidden.

// %% [show]
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
        int x; volatile int y;  // x = 1 happens-before a read of y that sees 1
        @Actor public void writer() { x = 1; y = 1; }
        @Actor public void reader(II_Result r) { r.r1 = y; r.r2 = x; }
    }
}

// %% [markdown]
// ## Racy publication
//
// One actor stores a new `Pair` in a plain field; the other reads the field, then the
// `Pair`'s fields (`-1, -1`: no `Pair` yet). Nothing orders the constructor's writes
// before the store of the reference, so the reader may see a `Pair` partly built
// (after jcstress's `BasicJMM_08_Finals`). With `final` fields, if the constructor
// does not let `this` escape, JLS 17.5 promises a reader that sees the reference the
// values the constructor wrote: forbidden.

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

// %% [markdown]
// ## Store buffering
//
// Each actor stores to one field, then loads the other (jcstress's
// `BasicJMM_07_Consensus`). `0, 0` means each load missed the other's store: x86 does
// this itself, as a store waits in the core's store buffer while a later load of
// another field goes ahead. With both fields volatile, the four accesses fall in one
// synchronization order that keeps each thread's program order (JLS 17.4.4); the
// other thread's load comes after whichever store is first, and sees it: forbidden.

// %% [show]
class StoreBuffering {
    @JCStressTest @State
    @Outcome(id = {"0, 1", "1, 0", "1, 1"}, expect = ACCEPTABLE, desc = "in some order")
    @Outcome(id = "0, 0", expect = ACCEPTABLE_INTERESTING, desc = "both stores missed")
    public static class Plain {
        int x, y;
        @Actor public void actor1(II_Result r) { x = 1; r.r1 = y; }
        @Actor public void actor2(II_Result r) { y = 1; r.r2 = x; }
    }
    @JCStressTest @State
    @Outcome(id = {"0, 1", "1, 0", "1, 1"}, expect = ACCEPTABLE, desc = "in some order")
    @Outcome(id = "0, 0", expect = FORBIDDEN, desc = "both stores missed")
    public static class Volatile {
        volatile int x, y;  // one order for all four accesses
        @Actor public void actor1(II_Result r) { x = 1; r.r1 = y; }
        @Actor public void actor2(II_Result r) { y = 1; r.r2 = x; }
    }
}

// %% [run]
// status = JcstressRun.run(List.of(jbang, script, "order"),
//         Duration.ofSeconds(270), System.out::println);
// if (status != 0) throw new IllegalStateException("jbang jcstress order: exit " + status);

// %% [markdown]
// At the default speed the plain store buffering shows `0, 0`, the volatile one never;
// the plain message passing shows `1, 0` in some runs, not in others, the volatile one
// never. jcstress's sample (four fields, each computed from the one before) shows
// partly built objects on x86_64, through the JIT alone; our `Pair` may show none.
//
// ## A stop flag
//
// The stale flag of `visibility`, in jcstress's `Mode.Termination`: the actor spins
// until it sees `stop`, set by the `@Signal` method; the outcome is `TERMINATED` or
// `STALE`. The JIT may read a plain field once and test that copy forever; each read
// of a `volatile` field sees the last write before it in the one synchronization
// order all volatile accesses share (JLS 17.4.4).

// %% [show]
class StopFlag {
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

// %% [run]
// status = JcstressRun.run(List.of(jbang, script, "stop"),
//         Duration.ofSeconds(270), System.out::println);
// if (status != 0) throw new IllegalStateException("jbang jcstress stop: exit " + status);

// %% [markdown]
// `Mode.Termination` counts trials, not samples. A trial whose actor still spins 30 s
// after the signal is `STALE`: jcstress ends that fork (the thread cannot be stopped),
// so `STALE` counts hung forks and its share means nothing. The plain flag hangs when
// the JIT hoists the read of `stop` out of the loop; the volatile one ends every trial.
//
// ## What "not observed" means
//
// A missing outcome was *not observed* (on this CPU, with this JIT, in this many
// samples), not *forbidden*. x86 keeps stores in order, and loads; only a load may pass
// an earlier store to another address (store buffering). So here only the JIT reorders
// message passing or publication; ARM and POWER do in hardware too. Only `FORBIDDEN`
// is a promise: jcstress can catch it broken, never prove that it holds.
//
// ## Pitfalls
//
// - **Not observed is not forbidden**: grade an outcome by the JMM, not by one machine.
// - **Two actors on two cores.** jcstress runs a test only if it has a CPU for each
//   actor: on a 2-core machine, tests of three or four actors are skipped.
//
// ## From Python
//
// | Python (CPython) | Java |
// |---|---|
// | `x += 1` can lose updates | `x++` (even on a `volatile` field); use `AtomicInteger` |
// | a loop rereads a plain attribute each time | a plain field may be read once: `volatile` |
// | a test rerun many times, hoping to hit it | jcstress: outcomes counted and graded |
//
// ## Try it
//
// - In `LostUpdate.Atomic`, make `x` a plain `int` with `x++` (keep `FORBIDDEN`) and
//   run `jbang jcstress lost`: that test now ends `[FAILED]`.
// - In `StoreBuffering.Volatile`, drop `volatile` and run `jbang jcstress order`:
//   the `0, 0` it now shows makes that test `[FAILED]`.
//
// ## Summary
//
// jcstress shows what the JMM allows by counting every outcome of a tiny race over
// millions of runs; an outcome it did not see is not thereby forbidden. The broken
// variants' interesting outcomes (a lost increment, `1, 0`, a half-built object, `0, 0`,
// a flag never seen) are allowed; the fixes (`AtomicInteger`, `volatile`, `final`)
// forbid them, and a `FORBIDDEN` outcome seen once fails the test.

// %% [main]
class jcstress {  // the entry point, script only: `--help`
    static final Section[] SECTIONS = {
            new Section("lost", "lost update: plain, volatile, atomic x++",
                    speed -> JcstressRun.tables(speed, "LostUpdate")),
            new Section("order", "message passing, publication, store buffering",
                    speed -> JcstressRun.tables(speed, "Message|Publication|Store")),
            new Section("stop", "stop flag: plain, volatile (a hung fork: 30 s)",
                    speed -> JcstressRun.tables(speed, "StopFlag"))};
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
