package support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a lesson script in a child JVM, the way a reader would, and captures what it says. */
public final class Scripts {
    public static final Path ROOT = Path.of("").toAbsolutePath();
    private static final long TIMEOUT_SECONDS = 60;

    public record Result(int exitCode, String stdout, String stderr) { }

    private Scripts() { }

    /** Every lesson slug, in lessons.txt order (skipping comments and "[Group]" lines). */
    public static List<String> slugs() throws IOException {
        return Files.readAllLines(ROOT.resolve("lessons.txt")).stream()
                .map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#") && !line.startsWith("["))
                .toList();
    }

    /** Whether the lesson's entry point lists named sections (tools/entry-point.java). */
    public static boolean hasSections(String slug) {
        try {
            Class.forName(mainClass(slug)).getDeclaredField("SECTIONS");
            return true;
        } catch (ReflectiveOperationException | IOException e) {
            return false;
        }
    }

    /** The entry point's class name: the slug, in the script's package if it has one. */
    public static String mainClass(String slug) throws IOException {
        return Files.readAllLines(script(slug)).stream()
                .filter(line -> line.startsWith("package "))
                .map(line -> line.substring(8, line.indexOf(';')).strip() + "." + slug)
                .findFirst().orElse(slug);
    }

    /** The names of the lesson's sections, in order. */
    public static List<String> sections(String slug)
            throws ReflectiveOperationException, IOException {
        var field = Class.forName(mainClass(slug)).getDeclaredField("SECTIONS");
        field.setAccessible(true);
        var names = new ArrayList<String>();
        for (Object section : (Object[]) field.get(null)) {
            var name = section.getClass().getMethod("name");  // of a package-private record
            name.setAccessible(true);
            names.add((String) name.invoke(section));
        }
        return names;
    }

    public static Path script(String slug) {
        return ROOT.resolve("jbang-scripts").resolve(slug + ".java");
    }

    /** Whether the script needs JBang (//DEPS) or runs with a bare JDK as well. */
    public static boolean needsJbang(String slug) throws IOException {
        return Files.readAllLines(script(slug)).stream().anyMatch(l -> l.startsWith("//DEPS"));
    }

    /** Whether the script uses preview features (JBang's //PREVIEW). */
    public static boolean usesPreview(String slug) throws IOException {
        return Files.readAllLines(script(slug)).stream().anyMatch(l -> l.strip().equals("//PREVIEW"));
    }

    /** {@code java <script> args}: the JDK's source-file mode, no JBang. */
    public static Result sourceMode(String slug, String... args) throws Exception {
        return sourceMode(List.of(), slug, args);
    }

    /** The same, with JVM options before the script. */
    public static Result sourceMode(List<String> jvmOptions, String slug, String... args)
            throws Exception {
        List<String> command = new ArrayList<>(List.of(java()));
        command.addAll(jvmOptions);
        if (usesPreview(slug)) command.addAll(List.of("--enable-preview", "--source", "25"));
        command.add(script(slug).toString());
        command.addAll(List.of(args));
        return run(command, Duration.ofSeconds(TIMEOUT_SECONDS));
    }

    /** {@code java -cp <test classpath> <slug> args}: the compiled script, quick to start. */
    public static Result compiled(String slug, String... args) throws Exception {
        return compiled(Duration.ofSeconds(TIMEOUT_SECONDS), List.of(), slug, args);
    }

    /** The same, with JVM options (before the class) and the caller's own time limit. */
    public static Result compiled(Duration limit, List<String> jvmOptions, String slug,
            String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(java(), "--enable-preview"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass(slug)));
        command.addAll(List.of(args));
        return run(command, limit);
    }

    /** This JDK's `java` launcher, the one the tests run on. */
    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Runs `command` in the project's folder; kills it, and the JVMs it started, if it is
     *  still running when `limit` or the test's own @Timeout ends the wait. */
    public static Result run(List<String> command, Duration limit) throws Exception {
        Path out = Files.createTempFile("script", ".out");
        Path err = Files.createTempFile("script", ".err");
        Process p = null;
        try {
            p = new ProcessBuilder(command).directory(ROOT.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                String cp = System.getProperty("java.class.path");
                var shown = command.stream().map(a -> a.equals(cp) ? "<class path>" : a)
                        .toList();
                throw new AssertionError("timed out after " + limit + ": " + shown);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            if (p != null && p.isAlive()) {  // its limit, or the test's @Timeout, passed
                var forks = p.descendants().toList();  // JMH's, say, listed before the
                p.destroyForcibly();                   // kill: then it can start no more
                forks.forEach(ProcessHandle::destroyForcibly);
                p.waitFor(10, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
