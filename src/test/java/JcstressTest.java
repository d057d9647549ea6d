package jmm;  // the lesson's classes live in package jmm: jcstress wants a named package

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import support.Scripts;

/**
 * What the `jcstress` lesson claims, proven: its tests build with jcstress's annotation
 * processor (as JBang and stress/pom.xml build them), each fix accepts what its broken
 * variant accepts and forbids what it finds interesting, and a section prints each test's graded table.
 * (The long runs are `make stress`; the lesson quotes no hit rate.)
 */
class JcstressTest {
    static final String CLASS_PATH = System.getProperty("java.class.path");
    static final String UNSAFE = "--sun-misc-unsafe-memory-access=allow";  // jcstress's
    static final List<List<Class<?>>> PAIRS = List.of(
            List.of(LostUpdate.Plain.class, LostUpdate.Atomic.class),
            List.of(LostUpdate.Volatile.class, LostUpdate.Atomic.class),
            List.of(MessagePassing.Plain.class, MessagePassing.Volatile.class),
            List.of(Publication.Plain.class, Publication.Final.class),
            List.of(StoreBuffering.Plain.class, StoreBuffering.Volatile.class),
            List.of(StopFlag.Plain.class, StopFlag.Volatile.class));
    @TempDir  // deleted by JUnit after the class
    static Path classes;  // the script compiled as JBang compiles it: with the processor

    @BeforeAll
    @Timeout(120)
    static void compileAsJbangDoes() {
        compileWithJcstress(Scripts.script("jcstress"), classes);
    }

    /** javac with jcstress's annotation processor, which writes each test's harness. */
    static void compileWithJcstress(Path source, Path into) {
        var errors = new ByteArrayOutputStream();
        int status = ToolProvider.getSystemJavaCompiler().run(null, errors, errors,
                "-processor", "org.openjdk.jcstress.infra.processors.JCStressTestProcessor",
                "-cp", CLASS_PATH, "-d", into.toString(), source.toString());
        assertEquals(0, status, errors.toString(StandardCharsets.UTF_8));
    }

    @Test
    @Timeout(10)
    void theProcessorListsExactlyTheElevenTestsTheLessonShows() throws Exception {
        List<String> listed = Files.readAllLines(classes.resolve("META-INF/TestList"))
                .stream().map(l -> l.replaceFirst("^JCTEST\\d+S(jmm\\.[\\w.]+?)\\d+S.*", "$1"))
                .sorted().toList();
        List<String> shown = PAIRS.stream().flatMap(List::stream).distinct()
                .map(c -> c.getName().replace('$', '.')).sorted().toList();
        assertEquals(11, shown.size());
        assertEquals(shown, listed);
    }

    @Test
    @Timeout(10)
    void eachFixAcceptsWhatItsBrokenVariantAcceptsAndForbidsWhatItFindsInteresting() {
        for (var pair : PAIRS) {
            Class<?> broken = pair.get(0), fixed = pair.get(1);
            assertTrue(broken.isAnnotationPresent(JCStressTest.class), broken.getName());
            assertTrue(fixed.isAnnotationPresent(JCStressTest.class), fixed.getName());
            for (Outcome interesting : outcomes(broken, Expect.ACCEPTABLE_INTERESTING)) {
                assertTrue(Stream.of(fixed.getAnnotationsByType(Outcome.class)).anyMatch(
                        o -> o.expect() == Expect.FORBIDDEN
                                && List.of(o.id()).equals(List.of(interesting.id()))),
                        broken.getName() + " " + List.of(interesting.id()));
            }
            assertEquals(ids(broken, Expect.ACCEPTABLE), ids(fixed, Expect.ACCEPTABLE),
                    broken.getName() + " and " + fixed.getName() + " accept the same");
            assertFalse(outcomes(broken, Expect.ACCEPTABLE_INTERESTING).isEmpty());
            assertTrue(outcomes(fixed, Expect.ACCEPTABLE_INTERESTING).isEmpty());
        }
    }

    private static java.util.Set<String> ids(Class<?> test, Expect grade) {
        return outcomes(test, grade).stream().flatMap(o -> Stream.of(o.id()))
                .collect(java.util.stream.Collectors.toSet());
    }

    private static List<Outcome> outcomes(Class<?> test, Expect grade) {
        return Stream.of(test.getAnnotationsByType(Outcome.class))
                .filter(o -> o.expect() == grade).toList();
    }

    /**
     * The lesson's promise that a FORBIDDEN outcome seen once fails a test, on a test
     * whose thousandth sample in a fork, and no other, is forbidden: nothing left to chance.
     */
    @Test
    @Timeout(180)
    void oneForbiddenSampleFailsTheTest(@TempDir Path dir) throws Exception {
        Path source = Files.writeString(dir.resolve("OnceForbidden.java"), """
                package jmm;
                import java.util.concurrent.atomic.AtomicLong;
                import org.openjdk.jcstress.annotations.*;
                import org.openjdk.jcstress.infra.results.I_Result;
                @JCStressTest @State
                @Outcome(id = "0", expect = Expect.ACCEPTABLE, desc = "every other")
                @Outcome(id = "1", expect = Expect.FORBIDDEN, desc = "the 1,000th")
                public class OnceForbidden {
                    static final AtomicLong CALLS = new AtomicLong();  // one fork's
                    @Actor public void actor(I_Result r) {
                        r.r1 = CALLS.incrementAndGet() == 1_000 ? 1 : 0;
                    }
                }
                """);
        compileWithJcstress(source, dir);
        Run run = run(Scripts.java(), UNSAFE, "-cp", dir + File.pathSeparator + CLASS_PATH,
                "org.openjdk.jcstress.Main", "-v", "-t", "OnceForbidden", "-f", "1",
                "-iters", "1", "-time", "100", "-c", "2", "-sc", "false",
                "-jvmArgs", UNSAFE);  // these options only: one VM mode, one fork
        assertTrue(run.lines().anyMatch(l -> l.matches(
                "\\.+ \\[FAILED\\] jmm\\.OnceForbidden")), run.text());
        assertTrue(run.lines().anyMatch(l -> l.matches(
                " +1 +1 +\\S+ +Forbidden +the 1,000th")), run.text());
    }

    @Test
    @Timeout(300)
    void lostSectionPrintsADotPerForkThenEachTestsGradedTable() throws Exception {
        Run run = run(Scripts.java(), UNSAFE, "-cp", classes + File.pathSeparator + CLASS_PATH,
                "jmm.jcstress", "lost", "--speed", "20");
        assertEquals(0, run.status(), run.text());
        List<String> lines = run.lines().toList();
        assertTrue(lines.contains("..."), "one fork for each of 3 tests\n" + run.text());
        for (String test : List.of("Plain", "Volatile", "Atomic")) {
            assertTrue(lines.contains("LostUpdate." + test + "  [OK]"), run.text());
        }
        assertEquals(3, lines.stream().filter(l -> l.startsWith("RESULT ")).count(),
                run.text());
        assertTrue(lines.stream().anyMatch(l -> l.matches(
                " +1 +0 +0\\.00% +Forbidden +an increment lost")), run.text());
        assertEquals(2, lines.stream().filter(l -> l.matches(
                " +1 +[\\d,]+ +\\S+ +Interesting +an increment lost")).count(), run.text());
        assertTrue(lines.stream().allMatch(l -> l.length() <= 80), run.text());
    }

    /** What a command printed, and its status: run by the lesson's JcstressRun.run. */
    private record Run(int status, String text) {
        Stream<String> lines() { return text.lines(); }
    }

    private static Run run(String... command) throws Exception {
        var text = new StringBuffer();  // filled by run's reader thread, which run joins
        int status = JcstressRun.run(List.of(command), Duration.ofSeconds(240),
                line -> text.append(line).append('\n'));
        return new Run(status, text.toString());
    }
}
