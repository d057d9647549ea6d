import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;

/**
 * Every lesson opens in JShell with its classes loaded (tools/bin/lesson-shell), and a
 * section runs there as it does in the script: what a speaker types on stage.
 */
class LessonShellTest {
    private static final String DONE = "lesson-shell: the section ran";

    @Test
    @Timeout(1500)  // each JShell has its own limit (below); this one only guards the loop
    void everyLessonLoadsInJShellAndRunsItsFirstSection() throws Exception {
        List<String> failures = new ArrayList<>();
        try (ExecutorService two = Executors.newFixedThreadPool(2)) {  // 2 cores: 2 JShells
            List<Future<String>> results = new ArrayList<>();
            for (String slug : Scripts.slugs()) results.add(two.submit(() -> problem(slug)));
            for (Future<String> result : results) {
                String problem = result.get();
                if (problem != null) failures.add(problem);
            }
        }
        assertEquals(List.of(), failures);
    }

    /** Null when the lesson loads and its first section runs cleanly; else what went wrong. */
    private static String problem(String slug) throws IOException, InterruptedException {
        String run = Scripts.hasSections(slug) ? slug + ".SECTIONS[0].demo().run(20);\n" : "";
        String input = run + "System.out.println(\"" + DONE + "\");\n/exit\n";
        Path out = Files.createTempFile("jshell-" + slug, ".out");
        try {
            Process shell = new ProcessBuilder(Scripts.ROOT.resolve("tools/bin/lesson-shell")
                    .toString(), slug, "-q").directory(Scripts.ROOT.toFile())
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            shell.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
            shell.getOutputStream().close();
            if (!shell.waitFor(240, TimeUnit.SECONDS)) {
                shell.destroyForcibly().waitFor();
                return slug + ": JShell did not finish within 240 s";
            }
            String text = Files.readString(out);
            // With -q, JShell reports a declaration it cannot load as a bare "Error:".
            boolean errors = text.lines().anyMatch(l -> l.contains("|  Error")
                    || l.startsWith("Error:") || l.contains("|  Exception")
                    || l.contains("|  Caused by"));
            if (shell.exitValue() != 0 || errors || !text.contains(DONE)) {
                return slug + ": exit " + shell.exitValue() + "\n" + text;
            }
            return null;
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
