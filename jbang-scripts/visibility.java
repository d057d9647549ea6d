///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+

// %% [markdown]
// # Visibility: writes another thread may never see, and the edges that make them seen
//
// One thread sets `stop = true`, and a loop in another thread that tests `stop` may
// never end: no exception, no warning, the loop just keeps seeing `false`. The Java
// Memory Model allows it, and HotSpot's optimizing compiler does it, as a child JVM
// shows below.
//
// **You will learn**
// - why a loop may never see another thread's write to a plain field, and on which JVMs
// - what `volatile` guarantees, and what it does not
// - happens-before edges: `start`, `join`, locks, `volatile`, concurrent collections
// - safe publication: handing an object to another thread with all its fields

// %%
import java.io.*;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.function.*;
import java.util.stream.*;

// %% [markdown]
// ## The stale flag
//
// The simplest way to stop a worker: a `boolean` field it tests on every turn of its
// loop, which another thread sets to `true`. The JVM first interprets bytecode; its
// just-in-time (JIT) compilers, C1 (fast) and C2 (optimizing), turn hot methods into
// machine code. In the program below, the `spinner` first runs its loop method 20,000
// times with a small limit, so that the JIT compiles it, then enters it for good.
// `main` waits for that (the `warm` latch), then until the spinner's stack shows it in
// the loop (so it has read the flag), sets the flag, and waits `patience` ms for it to
// end. The first argument picks a plain or a `volatile` flag. The program is a compact
// source file (JDK 25): fields, methods and a `void main` with no class written around
// them; `java Child.java` names that class `Child`, after the file.

// %%
class StopFlagChild {
    static final String SOURCE = """
// java Child.java plain|volatile <patience in ms>
import com.sun.management.*;
import java.lang.management.*;

static boolean plainStop;              // the bug: a plain field
static volatile boolean volatileStop;  // the fix

static long spinPlain(long limit) {
    long turns = 0;
    while (!plainStop && turns < limit) turns++;
    return turns;
}

static long spinVolatile(long limit) {
    long turns = 0;
    while (!volatileStop && turns < limit) turns++;
    return turns;
}

void main(String[] args) throws Exception {
    boolean plain = args[0].equals("plain");
    System.out.println("JIT compiler: " + jit());
    var warm = new CountDownLatch(1);
    Thread spinner = Thread.ofPlatform().name("spinner").start(() -> {
        for (int i = 0; i < 20_000; i++) {  // until the JIT has compiled the loop
            if (plain) spinPlain(1_000); else spinVolatile(1_000);
        }
        warm.countDown();  // then a limit never reached (146 years at 1 GHz):
        if (plain) spinPlain(1L << 62); else spinVolatile(1L << 62);
    });
    if (!warm.await(60, TimeUnit.SECONDS)) throw new IllegalStateException();
    String loop = plain ? "spinPlain" : "spinVolatile";  // once in it, it has read
    while (!loop.equals(spinner.getStackTrace()[0].getMethodName())) Thread.yield();
    System.out.println("spinner in " + loop + "; main sets the flag to true");
    if (plain) plainStop = true; else volatileStop = true;
    spinner.join(Long.parseLong(args[1]));  // the patience, in ms
    System.out.println(spinner.isAlive()
            ? "spinner still running " + args[1] + " ms later" : "spinner stopped");
}  // main returns; a spinner still running keeps this JVM alive

static String jit() {  // which compiler makes this JVM's hot code
    var vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    if (System.getProperty("java.vm.info").contains("interpreted")) return "none";
    if (option(vm, "UseJVMCICompiler").equals("true")) return "Graal (JVMCI)";
    if (option(vm, "TieredCompilation").equals("false")) return "C2";
    String top = option(vm, "TieredStopAtLevel");
    return top.equals("4") ? "C2" : "no C2: TieredStopAtLevel=" + top;
}

static String option(HotSpotDiagnosticMXBean vm, String name) {  // "" if none
    try { return vm.getVMOption(name).getValue(); }
    catch (IllegalArgumentException e) { return ""; }
}
""";
}

// %% [markdown]
// ## Running it in a child JVM
//
// In the lesson's own JVM, a spinner that never stops would spin until that JVM ends:
// Java cannot kill a thread, and this loop ignores interrupts. So `ChildJvm` runs the
// program in the JDK's source-file mode, and destroys the process when done. With
// `BackgroundCompilation` off for `Child::spin*`, the thread that triggers a
// compilation of a `spin` method waits for it, so after the warm-up the loop is
// compiled code, however busy the machine (`quiet` stops the JVM from echoing that
// command). `relay` prints the child's lines as they come, and a line when it has been
// quiet for 2 s (compiling `Child.java` takes seconds); then `FlagDemo.run` waits to
// see if the child JVM ends by itself.
//
// @diagram visibility-stale-flag

// %%
class StaleFlag {
    /** A small program run in a JVM of its own (`java <jvmOptions> Child.java args`). */
    record ChildJvm(Process process, List<String> output, Thread reader)
            implements AutoCloseable {
        static ChildJvm start(String source, List<String> jvmOptions, String... args)
                throws IOException {
            Path file = Files.createTempDirectory("child").resolve("Child.java");
            Files.writeString(file, source);  // deleted on exit: file first, then folder
            for (Path p : List.of(file.getParent(), file)) p.toFile().deleteOnExit();
            var command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"),
                    "bin", "java").toString(), file.toString()));
            command.addAll(1, jvmOptions);  // before the program's file
            command.addAll(List.of(args));
            var process = new ProcessBuilder(command).redirectErrorStream(true).start();
            List<String> output = new CopyOnWriteArrayList<>();
            Thread reader = Thread.ofPlatform().daemon().start(
                    () -> process.inputReader().lines().forEach(output::add));
            return new ChildJvm(process, output, reader);
        }

        /** Whether the child exited by itself within `limitMillis`. */
        boolean exitsWithin(long limitMillis) throws InterruptedException {
            boolean exited = process.waitFor(limitMillis, TimeUnit.MILLISECONDS);
            if (exited) reader.join(limitMillis);
            return exited;
        }

        @Override
        public void close() throws InterruptedException {  // never leaves a JVM behind
            process.toHandle().destroyForcibly();  // the pipe then ends by itself: reader
            process.waitFor();                     // reads to its end, no "Stream closed"
            reader.join();
        }
    }

    /** Prints the child's lines as they come, until one starts with `last`. */
    static String relay(ChildJvm child, String last, long limitMillis)
            throws InterruptedException {
        long start = System.nanoTime(), said = start;  // the last time we printed
        for (int shown = 0; ; Thread.sleep(20)) {
            boolean ended = !child.reader().isAlive();  // then all its output is here
            for (List<String> lines = child.output(); shown < lines.size(); shown++) {
                System.out.println("  child: " + lines.get(shown));
                said = System.nanoTime();
                if (lines.get(shown).startsWith(last)) return lines.get(shown);
            }
            if (ended || System.nanoTime() - start > limitMillis * 1_000_000)
                throw new IllegalStateException("no line '" + last + "...'");
            if (System.nanoTime() - said > 2_000_000_000L) {  // never silent for long
                System.out.println("  (waiting for the child JVM)");
                said = System.nanoTime();
            }
        }
    }
}

// %%
class FlagDemo {
    static final List<String> OPTIONS = List.of("-XX:CompileCommand=quiet",
            "-XX:CompileCommand=BackgroundCompilation,Child::spin*,false");

    record Outcome(List<String> output, boolean stopped, boolean exited) { }

    static Outcome run(String flag, double speed) throws Exception {
        long patience = Math.round(1_000 / speed);
        System.out.printf("$ java %s \\%n    %s \\%n    Child.java %s %d%n",
                OPTIONS.get(0), OPTIONS.get(1), flag, patience);
        try (var child = StaleFlag.ChildJvm.start(StopFlagChild.SOURCE, OPTIONS,
                flag, String.valueOf(patience))) {
            String verdict = StaleFlag.relay(child, "spinner s", 60_000 + 2 * patience);
            boolean stopped = verdict.equals("spinner stopped");
            long wait = Math.min(patience, 2_000);  // a JVM with no thread left ends
            boolean exited = child.exitsWithin(stopped ? 10_000 : wait);
            System.out.println(exited ? "the child JVM exited by itself"
                    : "the child JVM is still up " + wait + " ms later: destroyed");
            return new Outcome(List.copyOf(child.output()), stopped, exited);
        }
    }
}

// %% [run]
// var plain = FlagDemo.run("plain", 1);

// %% [markdown]
// ## Why it never stops, and where
//
// Nothing in the loop writes `plainStop` or synchronizes with another thread, so the
// compiler may read the field once, before the loop, and test that copy ever after.
// JLS §17.3 gives this very example: the compiler "is free to read the field
// `this.done` just once", and the loop may never end. The Java Memory Model *allows*
// the stale read; it does not *require* it. What you see depends on the JIT:
//
// - **HotSpot with C2** (OpenJDK builds such as Temurin, by default, or with
//   `-XX:-TieredCompilation`): C2 hoists the read out of the loop, and the child, whose
//   loop normally runs only once C2 has compiled it, keeps spinning.
// - **`-Xint`** (the interpreter only): every turn reads the field, and the loop ends.
//   So does a loop not yet compiled: the bug hides from short tests and debuggers.
// - **C1 alone** (`-XX:TieredStopAtLevel=1` to `3`): at level 1 it hoists the read
//   too; at level 3, which adds profiling, the loop ends. **Graal**, other JVMs: each
//   may or may not hoist it. The tests skip the stale flag unless the child says `C2`.
//
// ## The fix: `volatile`
//
// Each turn's read of a `volatile` field is its own synchronization action (JLS
// §17.4.2), ordered with `main`'s write (§17.4.4), so the JIT may not hoist it out of
// the loop; and a volatile write *happens-before* every read that sees it (§17.4.5).
// The spinner sees `true` and ends, with all `main` wrote before:
//
// @diagram visibility-volatile-flag

// %% [run]
// var fixed = FlagDemo.run("volatile", 1);

// %% [markdown]
// `AtomicBoolean` gives the same guarantee, plus `compareAndSet`; `interrupt()` (see
// `threads`) also wakes a thread blocked in `sleep`, `wait` or `take`. But `volatile`
// is no lock: `count++` on a volatile field still loses updates (see `counter`).
//
// ## Happens-before: the edges
//
// A thread is guaranteed to see another thread's write only if the write
// *happens-before* the read (JLS §17.4.5). In one thread, each action happens-before
// the next (program order); the relation is transitive; and between threads:
//
// | edge | all the first thread did before... | ...is seen by the other after |
// |---|---|---|
// | `start` | `t.start()` | `t` begins |
// | `join` | `t` ends | `t.join()` returns |
// | lock | unlocking a monitor or a `Lock` | a later lock of the same one |
// | `volatile` | a write to a volatile field | a read that sees that write |
// | concurrent collection | putting an object in (`put`) | reading or removing it |
//
// The `java.util.concurrent` docs list more (submitting a task happens-before it runs;
// `countDown()` before `await()` returns). Below, an `Order` with plain fields (neither
// `volatile` nor `final`) is handed from one thread to another over each edge; the
// diagram follows the volatile one.
//
// @diagram visibility-happens-before

// %%
class Order {  // plain fields: guaranteed whole in another thread only over an edge
    String item;
    int quantity;
    Order(String item, int quantity) { this.item = item; this.quantity = quantity; }
    public String toString() { return quantity + " x " + item; }
}

class HandOffs {
    static volatile Order published;          // the volatile edge
    static Order guarded;                     // guarded by LOCK: the lock edge
    static final Object LOCK = new Object();

    static void all() throws Exception {
        published = null; synchronized (LOCK) { guarded = null; }  // forget earlier runs
        var order = new Order("tea", 2);  // main writes it, then starts the thread
        Thread.ofPlatform().start(() -> say("start", "the thread sees " + order)).join();
        var made = new Order[1];
        Thread.ofPlatform().start(() -> made[0] = new Order("cake", 1)).join();
        say("join", "the caller sees " + made[0]);
        Thread reader = Thread.ofPlatform().start(
                () -> say("volatile", "the reader sees " + poll(() -> published)));
        published = new Order("jam", 3);
        reader.join();
        reader = Thread.ofPlatform().start(() -> say("lock", "the reader sees "
                + poll(() -> { synchronized (LOCK) { return guarded; } })));
        synchronized (LOCK) { guarded = new Order("bread", 4); }
        reader.join();
        var queue = new ArrayBlockingQueue<Order>(1);
        reader = Thread.ofPlatform().start(
                () -> say("queue", "the reader sees " + poll(queue::poll)));
        queue.put(new Order("milk", 5));
        reader.join();
    }

    static void say(String e, String s) { System.out.printf("%-9s %s%n", e + ":", s); }

    /** Reads until it gets an object; gives up (an error) after ten seconds. */
    static Order poll(Supplier<Order> read) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Order got = read.get(); ; got = read.get(), Thread.onSpinWait()) {
            if (got != null) return got;
            if (System.nanoTime() > deadline) throw new IllegalStateException("nothing");
        }
    }
}

// %% [run]
// HandOffs.all();

// %% [markdown]
// Every run prints these lines; handed over through a plain field instead, the orders
// would usually arrive whole too, on x86 at least. That is the trap: the edges are what
// the JMM *promises*, on every CPU; the stale flag is what can happen without one. For
// an object seen half built, see the unsafe-publication diagram in `singleton`.
//
// ## Safe publication
//
// *Publishing* an object means storing a reference to it where another thread can
// read it. Published over an edge (a `volatile` field, an `AtomicReference`, a field
// guarded by a lock both threads take, a concurrent collection, `start`, a static
// initializer), the object is seen as its constructor left it. Published through a
// plain field (a *data race*), the reader may see the reference with default values
// (`null`, `0`) in its fields, or never see it at all, like the flag. But a `final`
// field is seen as the constructor set it by any thread that sees the reference (JLS
// §17.5), unless the constructor let `this` escape: immutable objects (all fields
// `final`, as in records) are whole wherever they are seen.

// ## Pitfalls
//
// - **`Thread.sleep` or `Thread.yield` in the loop fix nothing**: they have no
//   synchronization semantics (JLS §17.3). A `System.out.println` in the loop often
//   hides the hang (it takes a lock), until someone deletes it.
// - **Plain `long` and `double` may tear**: a reader may see half of a write
//   (JLS §17.7); `volatile` ones never tear.
//
// ## From Python
//
// | Python (the seed) | Java |
// |---|---|
// | `threading.Event()`: `set()`, `is_set()` | `volatile boolean`, `interrupt()` |
// | `queue.Queue`: `put`, `get` | `BlockingQueue`: `put`, `take` (an edge) |
// | `t.start()`, `t.join()` | the same, and each is an edge |
//
// CPython looks an attribute up again on every turn of a loop, so a plain attribute
// works as a stop flag there in practice; Java's JIT may read it once.
//
// ## Try it
//
// - Run `JAVA_TOOL_OPTIONS=-Xint jbang visibility stale` (slower: every JVM runs
//   interpreted): the child inherits it, says `JIT compiler: none`; its spinner stops.
// - With `JAVA_TOOL_OPTIONS=-XX:TieredStopAtLevel=1` (C1 only) the child says `no C2`,
//   and still runs (C1 hoists too); with `TieredStopAtLevel=3` it stops.
//
// ## Summary
//
// A thread is guaranteed to see another thread's write only over a happens-before
// edge; without one, a loop may test a stale copy of a plain field forever.
//
// HotSpot's JIT (C2, and C1 at level 1) does that to a hot loop on a plain flag; the
// interpreter does not, so the bug hides from short tests. In jcstress (lesson
// `jcstress`) a loop on a plain flag stayed stale in some trials, a `volatile` one never.
// Make such a flag `volatile` (or an `AtomicBoolean`, or use interruption); hand objects
// over through `start`, `join`, a lock, a `volatile` field or a concurrent collection;
// and prefer immutable objects.

// %% [main]
class visibility {  // the entry point, script only: `jbang visibility --help`
    static final Section[] SECTIONS = {
            new Section("stale", "a plain stop flag, in a child JVM",
                    speed -> FlagDemo.run("plain", speed)),
            new Section("volatile", "the same child with a volatile flag",
                    speed -> FlagDemo.run("volatile", speed)),
            new Section("handoff", "an object handed over each happens-before edge",
                    speed -> HandOffs.all())};
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
