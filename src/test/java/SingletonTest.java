import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/**
 * What the `singleton` lesson claims and a test can show: the forced races, what each
 * section prints, and what class initialisation guarantees.
 *
 * <p>Not tested: that {@code volatile} publishes the connection safely. On x86 the
 * non-volatile variant practically never fails; catching it needs jcstress on a weakly
 * ordered processor. Here only the field's modifier is checked, structurally.
 *
 * <p>The lazy variants are objects, so each test makes a fresh one. The holder and the
 * enum live in static state, initialised once per class loader, so their tests load a
 * fresh copy of the lesson's classes through a new class loader.
 */
class SingletonTest {
    private static final List<String> EIGHT =
            IntStream.range(0, 8).mapToObj(i -> "asker-" + i).toList();

    /** The seed's double check without its second look: what "Try it" asks the reader to make. */
    static final class OneCheckSingleton implements Supplier<DatabaseConnection> {
        private final Supplier<DatabaseConnection> factory;
        private volatile DatabaseConnection instance;

        OneCheckSingleton(Supplier<DatabaseConnection> factory) { this.factory = factory; }

        @Override
        public DatabaseConnection get() {
            DatabaseConnection result = instance;
            if (result == null) {
                synchronized (this) {
                    if (result == null) instance = result = factory.get();
                }
            }
            return result;
        }
    }

    // --- the broken lazy singleton, forced ---

    @Test
    @Timeout(10)
    void unsafeSingletonHandsTwoCallersTwoInstancesWhenTheirChecksInterleave()
            throws Exception {
        var firstIsOpening = new CountDownLatch(1);
        var secondIsDone = new CountDownLatch(1);
        var opened = new AtomicInteger();
        var singleton = new UnsafeLazySingleton(() -> {
            if (Thread.currentThread().getName().equals("first")) {
                firstIsOpening.countDown();
                Threads.await(secondIsDone);  // hold "first" between its check and write
            }
            opened.incrementAndGet();
            return new DatabaseConnection();
        });
        var got = new AtomicReferenceArray<DatabaseConnection>(2);
        Thread first = Thread.ofPlatform().name("first")
                .start(() -> got.set(0, singleton.get()));
        Threads.await(firstIsOpening);
        Thread second = Thread.ofPlatform().name("second").start(() -> {
            got.set(1, singleton.get());
            secondIsDone.countDown();
        });
        Threads.joinAll(List.of(first, second));

        assertEquals(2, opened.get(), "two callers, two connections opened");
        assertNotSame(got.get(0), got.get(1), "the callers hold different instances");
        assertSame(got.get(0), singleton.get(), "first wrote last: later calls get its");
    }

    @Test
    @Timeout(10)
    void replayWithoutALockOpensTwoConnections() throws Exception {
        assertEquals(2, SingletonReplay.replay("unsafe", UnsafeLazySingleton::new, 0));
    }

    @Test
    @Timeout(10)
    void replayOfTheSeedsDoubleCheckOpensOne() throws Exception {
        assertEquals(1, SingletonReplay.replay("dcl", DoubleCheckedSingleton::new, 0));
    }

    @Test
    @Timeout(10)
    void replayWithoutTheSecondCheckOpensTwo() throws Exception {
        assertEquals(2, SingletonReplay.replay("one check", OneCheckSingleton::new, 0));
    }

    // --- double-checked locking ---

    @Test
    @Timeout(10)
    void doubleCheckedInstanceFieldIsDeclaredVolatile() throws Exception {
        // Structural only: it fails if someone drops the modifier; it does not show why
        // the modifier matters (see the class comment).
        Field instance = DoubleCheckedSingleton.class.getDeclaredField("instance");
        assertTrue(Modifier.isVolatile(instance.getModifiers()));
    }

    @Test
    @Timeout(10)
    void aCallerArrivingDuringCreationWaitsForTheLockAndGetsTheSameInstance()
            throws Exception {
        var firstIsOpening = new CountDownLatch(1);
        var releaseFirst = new CountDownLatch(1);
        var opened = new AtomicInteger();
        var singleton = new DoubleCheckedSingleton(() -> {
            if (Thread.currentThread().getName().equals("first")) {
                firstIsOpening.countDown();
                Threads.await(releaseFirst);  // "first" holds the lock meanwhile
            }
            opened.incrementAndGet();
            return new DatabaseConnection();
        });
        var got = new AtomicReferenceArray<DatabaseConnection>(2);
        Thread first = Thread.ofPlatform().name("first")
                .start(() -> got.set(0, singleton.get()));
        Threads.await(firstIsOpening);
        Thread second = Thread.ofPlatform().name("second")
                .start(() -> got.set(1, singleton.get()));
        try {
            Threads.awaitBlocked(second);
            assertEquals(Thread.State.BLOCKED, second.getState(), "on first's lock");
        } finally {
            releaseFirst.countDown();
            Threads.joinAll(List.of(first, second));
        }
        assertEquals(1, opened.get());
        assertSame(got.get(0), got.get(1));
    }

    @Test
    @Timeout(60)
    void doubleCheckedOpensOneUnderStress() throws Exception {
        for (int round = 0; round < 300; round++) {
            var opened = new AtomicInteger();
            var singleton = new DoubleCheckedSingleton(() -> {
                opened.incrementAndGet();
                Thread.yield();  // a wider window between the first check and the write
                return new DatabaseConnection();
            });
            var got = SingletonSeed.askTogether(singleton, EIGHT);
            assertEquals(1, distinctNonNull(got), "round " + round);
            assertEquals(1, opened.get(), "round " + round);
        }
    }

    @Test
    @Timeout(10)
    void aFailedDoubleCheckedCreationIsRetriedByTheNextCall() {
        var attempts = new AtomicInteger();
        var singleton = new DoubleCheckedSingleton(() -> {
            if (attempts.incrementAndGet() == 1) throw new IllegalStateException("down");
            return new DatabaseConnection();
        });
        assertThrows(IllegalStateException.class, singleton::get);
        DatabaseConnection connection = singleton.get();
        assertSame(connection, singleton.get());
        assertEquals(2, attempts.get());
    }

    // --- what the sections print ---

    @Test
    @Timeout(60)
    void seedSectionEndsWithTheSeedsLinesForOneInstance() throws Exception {
        var run = Scripts.compiled("singleton", "seed");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertEquals("connections opened: 1; all three the same object (==): true",
                lines.get(lines.size() - 4));
        var seedLine = Pattern.compile("Thread Thread-([123]) \\(worker\\): (\\d+)");
        var names = new ArrayList<String>();
        var labels = new HashSet<String>();
        for (String line : lines.subList(lines.size() - 3, lines.size())) {
            var m = seedLine.matcher(line);
            assertTrue(m.matches(), "the seed's kind of line: " + line);
            names.add(m.group(1));
            labels.add(m.group(2));
        }
        assertEquals(List.of("1", "2", "3"), names);
        assertEquals(1, labels.size(), "the same label for all three: " + run.stdout());
    }

    @Test
    @Timeout(60)
    void raceSectionTellsTheSameStoryEveryRun() throws Exception {
        var run = Scripts.compiled("singleton", "race", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("""

                == race: no lock: two connections; double-checked: one (forced)
                unsafe lazy:
                  A found no instance: opens connection 1
                  B found no instance: opens connection 2
                  B has returned its connection; now A writes its own
                  => 2 opened; A and B got the same connection (==): false
                double-checked:
                  A found no instance: opens connection 1
                  B is BLOCKED: A holds the singleton's lock
                  => 1 opened; A and B got the same connection (==): true
                """, run.stdout());
    }

    // --- class initialisation: the holder and the enum, each in a fresh class loader ---

    @Test
    @Timeout(30)
    void constantsInitialiseNothingAndTheHolderWaitsForGet() throws Exception {
        try (var loader = freshLoader()) {
            var run = loader.loadClass("ClassInitDemo").getDeclaredMethod("run");
            run.setAccessible(true);  // package-private, in another class loader
            Object counts = run.invoke(null);
            // URL (a constant): 0; describe(): the eager one; HolderSingleton.describe():
            // still 1; three threads' get(): 2; the enum: 3.
            assertEquals(List.of(0, 1, 1, 2, 3), counts);
        }
    }

    @Test
    @Timeout(60)
    void holderOpensOneWhenManyThreadsAskAtOnce() throws Exception {
        for (int round = 0; round < 20; round++) {
            try (var loader = freshLoader()) {
                var get = loader.loadClass("HolderSingleton").getDeclaredMethod("get");
                get.setAccessible(true);
                assertEquals(0, opened(loader));
                var got = SingletonSeed.askTogether(() -> invoke(() -> get.invoke(null)),
                        EIGHT);
                assertEquals(1, distinctNonNull(got), "round " + round);
                assertEquals(1, opened(loader), "round " + round);
            }
        }
    }

    @Test
    @Timeout(60)
    void enumOpensOneWhenManyThreadsAskAtOnce() throws Exception {
        for (int round = 0; round < 20; round++) {
            try (var loader = freshLoader()) {
                var instance = Class.forName("EnumSingleton", false, loader)
                        .getDeclaredField("INSTANCE");  // reading it initialises the enum
                instance.setAccessible(true);
                assertEquals(0, opened(loader));
                var got = SingletonSeed.askTogether(() -> invoke(() -> instance.get(null)),
                        EIGHT);
                assertEquals(1, distinctNonNull(got), "round " + round);
                assertEquals(1, opened(loader), "round " + round);
            }
        }
    }

    @Test
    @Timeout(10)
    void reflectionCannotMakeASecondEnumInstance() {
        Constructor<?> constructor = EnumSingleton.class.getDeclaredConstructors()[0];
        constructor.setAccessible(true);
        var e = assertThrows(IllegalArgumentException.class,
                () -> constructor.newInstance("COPY", 1));
        assertEquals("Cannot reflectively create enum objects", e.getMessage());
    }

    @Test
    @Timeout(10)
    void deserialisingTheEnumReturnsTheExistingConstant() throws Exception {
        var bytes = new ByteArrayOutputStream();
        try (var out = new ObjectOutputStream(bytes)) {
            out.writeObject(EnumSingleton.INSTANCE);
        }
        try (var in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertSame(EnumSingleton.INSTANCE, in.readObject());
        }
    }

    @Test
    @Timeout(10)
    void aSingletonIsOnePerClassLoader() throws Exception {
        try (var loader = freshLoader()) {
            var get = loader.loadClass("HolderSingleton").getDeclaredMethod("get");
            get.setAccessible(true);
            Object other = get.invoke(null);
            assertSame(other, get.invoke(null), "one instance in that loader");
            assertNotSame(DatabaseConnection.class, other.getClass(),
                    "another class, so not the instance HolderSingleton.get() gives here");
        }
    }

    /** Used by one test only: a class's initialisation is attempted once per loader. */
    static final class FailingHolder {
        static final AtomicInteger ATTEMPTS = new AtomicInteger();
        static final Object INSTANCE = openOrFail();

        private static Object openOrFail() {
            if (ATTEMPTS.incrementAndGet() == 1) throw new IllegalStateException("down");
            return new Object();
        }
    }

    @Test
    @Timeout(10)
    void aFailedClassInitialiserIsNeverRetried() {
        var first = assertThrows(ExceptionInInitializerError.class,
                () -> FailingHolder.class.getDeclaredField("INSTANCE").get(null));
        assertInstanceOf(IllegalStateException.class, first.getCause());
        assertThrows(NoClassDefFoundError.class,
                () -> FailingHolder.class.getDeclaredField("INSTANCE").get(null));
    }

    // --- helpers ---

    /** A new class loader over the lesson's compiled classes: statics never initialised. */
    private static URLClassLoader freshLoader() {
        URL classes = HolderSingleton.class.getProtectionDomain().getCodeSource()
                .getLocation();
        return new URLClassLoader(new URL[] {classes}, ClassLoader.getPlatformClassLoader());
    }

    /** Connections opened by the copy of DatabaseConnection in that loader. */
    private static int opened(ClassLoader loader) throws Exception {
        var opened = Class.forName("DatabaseConnection", true, loader)
                .getDeclaredMethod("opened");
        opened.setAccessible(true);
        return (Integer) opened.invoke(null);
    }

    /** Distinct instances by identity (==), never by equals() or a hash code. */
    private static int distinctNonNull(Collection<?> instances) {
        assertTrue(instances.stream().allMatch(i -> i != null), "a thread got nothing");
        var seen = Collections.newSetFromMap(new IdentityHashMap<Object, Boolean>());
        seen.addAll(instances);
        return seen.size();
    }

    interface Reflective { Object call() throws ReflectiveOperationException; }

    private static Object invoke(Reflective call) {
        try {
            return call.call();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
