import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import support.Scripts;
import support.Scripts.Result;

/**
 * The command-line contract every lesson script keeps (tools/entry-point.java). The
 * argument handling is text `make check` holds identical in every lesson, so each kind of
 * bad argument is tried on one lesson and one bad argument on each; what differs from
 * lesson to lesson (the class, its sections' names) is tried on every one. Each
 * launch has 60 s (Scripts.compiled) unless said; each test more, so the launch's own
 * limit fires first.
 */
@Timeout(90)
class ScriptsTest {
    /** No lesson code runs before the usage line: C1 alone starts these in less CPU. */
    private static final List<String> QUICK_JVM = List.of("-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC");

    static List<String> lessons() throws Exception {
        return Scripts.slugs();
    }

    /** Lessons in the v2 format: their entry point lists named sections. */
    static List<String> sectioned() throws Exception {
        return Scripts.slugs().stream().filter(Scripts::hasSections).toList();
    }

    private static Result quick(String slug, String... args) throws Exception {
        return Scripts.compiled(Duration.ofSeconds(60), QUICK_JVM, slug, args);
    }

    @ParameterizedTest
    @MethodSource("lessons")
    void helpPrintsUsageAndEachSectionOnOneLine(String slug) throws Exception {
        Result r = quick(slug, "--help");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().lines().findFirst().orElse("").contains(slug), r.stdout());
        if (!Scripts.hasSections(slug)) return;
        List<String> names = Scripts.sections(slug);
        for (String name : names) {
            assertEquals(1, r.stdout().lines().filter(l -> l.startsWith("  " + name + " "))
                    .count(), name + " in:\n" + r.stdout());
        }
        assertEquals(names.size() + 1, r.stdout().lines().count(), r.stdout());
    }

    @ParameterizedTest
    @MethodSource("lessons")
    void aBadArgumentPrintsOneLineAndExitsTwo(String slug) throws Exception {
        assertRejected(slug, "--no-such-flag", "1");
    }

    @Test
    @Timeout(300)  // five launches, each with its own 60 s limit
    void everyKindOfBadArgumentIsRejectedAndListIsHelp() throws Exception {
        String slug = Scripts.slugs().getFirst();
        assertRejected(slug, "--speed", "fast");
        assertRejected(slug, "--speed");
        assertRejected(slug, "no-such-section");
        assertEquals(quick(slug, "--help"), quick(slug, "--list"));
    }

    private static void assertRejected(String slug, String... bad) throws Exception {
        Result r = quick(slug, bad);
        String what = List.of(bad) + ": " + r.stdout() + r.stderr();
        assertEquals(2, r.exitCode(), what);
        assertEquals(1, r.stderr().lines().count(), what);
        assertTrue(r.stderr().startsWith(slug + ": "), what);
        assertEquals("", r.stdout(), what);
    }

    /** Naming a section and `--step` are handled by the shared text: one lesson shows it
     *  (`make run` runs every section of every lesson through JBang). */
    @Test
    void aNamedSectionRunsAloneAndStepNeverWaitsOnAPipe() throws Exception {
        String slug = sectioned().getFirst(), last = Scripts.sections(slug).getLast();
        Result r = Scripts.compiled(Duration.ofSeconds(60), List.of(), slug, last, "--step",
                "--speed", "20");
        assertEquals(0, r.exitCode(), r.stderr());
        List<String> banners = r.stdout().lines().filter(l -> l.startsWith("== ")).toList();
        assertEquals(List.of("== " + last + ":"),
                banners.stream().map(b -> b.substring(0, b.indexOf(':') + 1)).toList());
    }

    /**
     * Someone on stage with only a JDK can still run every lesson without //DEPS. Compiling
     * in memory is most of this launch; C1 alone does it in about half the CPU time, and
     * the JIT tier changes nothing about whether the file compiles and answers --help.
     */
    @ParameterizedTest
    @MethodSource("lessons")
    void runsWithABareJdkInSourceFileMode(String slug) throws Exception {
        assumeFalse(Scripts.needsJbang(slug), "needs JBang for its //DEPS");
        Result r = Scripts.sourceMode(QUICK_JVM, slug, "--help");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().lines().findFirst().orElse("").contains(slug), r.stdout());
    }
}
