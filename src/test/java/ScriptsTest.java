import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import support.Scripts;
import support.Scripts.Result;

/** The command-line contract every lesson script keeps. */
class ScriptsTest {

    static List<String> lessons() throws Exception {
        return Scripts.slugs();
    }

    @ParameterizedTest
    @MethodSource("lessons")
    void helpPrintsUsageAndExitsZero(String slug) throws Exception {
        Result r = Scripts.compiled(slug, "--help");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().startsWith("Usage: " + slug), r.stdout());
    }

    @ParameterizedTest
    @MethodSource("lessons")
    void badArgumentsPrintOneLineAndExitTwo(String slug) throws Exception {
        for (List<String> bad : List.of(List.of("--no-such-flag", "1"), List.of("--speed", "fast"))) {
            Result r = Scripts.compiled(slug, bad.toArray(String[]::new));
            assertEquals(2, r.exitCode(), bad + ": " + r.stdout() + r.stderr());
            assertEquals(1, r.stderr().lines().count(), bad + ": " + r.stderr());
            assertTrue(r.stderr().startsWith(slug + ": "), r.stderr());
        }
    }

    /** The same parser rejects these too; checked in-process, which is much quicker. */
    @ParameterizedTest
    @MethodSource("lessons")
    void parseRejectsANegativeSpeedAndAMissingValue(String slug) throws Exception {
        Method parse = Class.forName(slug).getDeclaredMethod("parse", String[].class);
        for (String[] bad : List.of(new String[] {"--speed", "-1"}, new String[] {"--speed"})) {
            var thrown = assertThrows(InvocationTargetException.class,
                    () -> parse.invoke(null, (Object) bad));
            assertInstanceOf(IllegalArgumentException.class, thrown.getCause(),
                    String.join(" ", bad));
        }
    }

    /** Someone on stage with only a JDK can still run every lesson without //DEPS. */
    @ParameterizedTest
    @MethodSource("lessons")
    void runsWithABareJdkInSourceFileMode(String slug) throws Exception {
        assumeFalse(Scripts.needsJbang(slug), "needs JBang for its //DEPS");
        Result r = Scripts.sourceMode(slug, "--help");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().startsWith("Usage: " + slug), r.stdout());
    }
}
