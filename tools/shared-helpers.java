// The two helpers a lesson may need, in the one shape every lesson uses, so a reader who
// has met them once recognises them (`make check` compares each lesson's copy, indented
// as a static member of one of its classes, with these; a lesson copies what it needs).

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
