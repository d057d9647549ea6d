import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import support.Scripts;
import support.Scripts.Result;

/** The command-line contract every lesson script keeps (tools/entry-point.java). */
class ScriptsTest {

    static List<String> lessons() throws Exception {
        return Scripts.slugs();
    }

    /** Lessons in the v2 format: their entry point lists named sections. */
    static List<String> sectioned() throws Exception {
        return Scripts.slugs().stream().filter(Scripts::hasSections).toList();
    }

    @ParameterizedTest
    @MethodSource("lessons")
    void helpPrintsUsageAndExitsZero(String slug) throws Exception {
        Result r = Scripts.compiled(slug, "--help");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().lines().findFirst().orElse("").contains(slug), r.stdout());
    }

    @ParameterizedTest
    @MethodSource("lessons")
    void badArgumentsPrintOneLineAndExitTwo(String slug) throws Exception {
        for (List<String> bad : List.of(List.of("--no-such-flag", "1"), List.of("--speed", "fast"),
                List.of("--speed"))) {
            Result r = Scripts.compiled(slug, bad.toArray(String[]::new));
            assertEquals(2, r.exitCode(), bad + ": " + r.stdout() + r.stderr());
            assertEquals(1, r.stderr().lines().count(), bad + ": " + r.stderr());
            assertTrue(r.stderr().startsWith(slug + ": "), r.stderr());
        }
    }

    @ParameterizedTest
    @MethodSource("sectioned")
    void listShowsEachSectionOnOneLine(String slug) throws Exception {
        Result r = Scripts.compiled(slug, "--list");
        assertEquals(0, r.exitCode(), r.stderr());
        List<String> names = Scripts.sections(slug);
        for (String name : names) {
            assertEquals(1, r.stdout().lines().filter(l -> l.startsWith("  " + name + " "))
                    .count(), name + " in:\n" + r.stdout());
        }
        assertEquals(names.size() + 1, r.stdout().lines().count(), r.stdout());
    }

    @ParameterizedTest
    @MethodSource("sectioned")
    void aNamedSectionRunsAloneAndStepNeverWaitsOnAPipe(String slug) throws Exception {
        String last = Scripts.sections(slug).getLast();
        Result r = Scripts.compiled(slug, last, "--step", "--speed", "20");
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
        Result r = Scripts.sourceMode(List.of("-XX:TieredStopAtLevel=1"), slug, "--help");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().lines().findFirst().orElse("").contains(slug), r.stdout());
    }
}
