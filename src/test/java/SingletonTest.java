import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import support.Threads;

/**
 * What the `singleton` lesson claims, proven.
 *
 * <p>The lazy variants are objects, so every test makes a fresh one. The holder idiom and
 * the enum live in static state, so their tests load a fresh copy of the lesson's classes
 * through a new class loader: a new copy has never been initialized.
 */
class SingletonTest {
    private static final int STRESS_THREADS = 8;

    /** Makes a fresh lazy singleton from a factory: SynchronizedSingleton::new, ... */
    interface Lazy extends
            Function<Supplier<DatabaseConnection>, Supplier<DatabaseConnection>> { }

    static Stream<Arguments> lockingSingletons() {
        return Stream.of(
                Arguments.of("synchronized", (Lazy) SynchronizedSingleton::new),
                Arguments.of("double-checked", (Lazy) DoubleCheckedSingleton::new));
    }

    static Stream<Arguments> correctVariants() {
        return SingletonVariant.CORRECT.stream().map(v -> Arguments.of(v.name(), v));
    }

    // --- the broken ones, forced ---

    @Test
    @Timeout(10)
    void unsafeSingletonOpensTwoConnectionsWhenTwoChecksInterleave() throws Exception {
        var firstIsOpening = new CountDownLatch(1);
        var secondIsDone = new CountDownLatch(1);
        var opened = new AtomicInteger();
        var singleton = new UnsafeLazySingleton(() -> {
            if (Thread.currentThread().getName().equals("first")) {
                firstIsOpening.countDown();
                await(secondIsDone);  // hold "first" between its check and its write
            }
            opened.incrementAndGet();
            return new DatabaseConnection(Duration.ZERO);
        });
        var got = new AtomicReferenceArray<DatabaseConnection>(2);
        Thread first = Thread.ofPlatform().name("first")
                .start(() -> got.set(0, singleton.get()));
        await(firstIsOpening);
        Thread second = Thread.ofPlatform().name("second").start(() -> {
            got.set(1, singleton.get());
            secondIsDone.countDown();
        });
        Threads.joinAll(List.of(first, second));

        assertEquals(2, opened.get(), "two callers, two connections opened");
        assertNotSame(got.get(0), got.get(1), "the callers hold different instances");
        assertSame(got.get(0), singleton.get(), "the last write won: first's");
    }

    @Test
    @Timeout(10)
    void slowMotionReplayEndsWithTwoConnections() {
        assertEquals(2, SingletonReplay.twoInstances(0));
    }

    @Test
    @Timeout(10)
    void lockingAfterOneCheckStillOpensASecondConnection() throws Exception {
        LockRace race = secondWaitsForTheLock(CheckThenLockSingleton::new);
        assertEquals(2, race.opened(), "the waiter opened a second connection");
        // What "first" returns is itself a race (it re-reads the field after unlocking),
        // but "second" wrote last: its connection is the one every later call gets.
        assertSame(race.second(), race.later());
    }

    @Test
    @Timeout(10)
    void secondCheckReplayOpensTwoWithOneCheckAndOneWithTwo() {
        assertEquals(2, SingletonReplay.secondCheck("1", CheckThenLockSingleton::new, 0));
        assertEquals(1, SingletonReplay.secondCheck("2", DoubleCheckedSingleton::new, 0));
    }

    // --- the locking fixes ---

    @ParameterizedTest(name = "{0}")
    @MethodSource("lockingSingletons")
    @Timeout(10)
    void aCallerArrivingDuringCreationWaitsAndGetsTheSameInstance(String name,
            Lazy make) throws Exception {
        LockRace race = secondWaitsForTheLock(make);
        assertEquals(1, race.opened());
        assertSame(race.first(), race.second());
        assertSame(race.first(), race.later());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lockingSingletons")
    @Timeout(60)
    void oneInstanceUnderStress(String name, Lazy make) {
        for (int round = 0; round < 200; round++) {
            var opened = new AtomicInteger();
            var singleton = make.apply(() -> {
                opened.incrementAndGet();
                Thread.yield();  // a wider window between the check and the write
                return new DatabaseConnection(Duration.ZERO);
            });
            var got = SingletonRace.askTogether(singleton, STRESS_THREADS, false);
            assertEquals(1, SingletonRace.distinct(got), "round " + round);
            assertEquals(1, opened.get(), "round " + round);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lockingSingletons")
    @Timeout(10)
    void aFailedCreationIsRetriedByTheNextCall(String name, Lazy make) {
        var attempts = new AtomicInteger();
        var singleton = make.apply(() -> {
            if (attempts.incrementAndGet() == 1) throw new IllegalStateException("no");
            return new DatabaseConnection(Duration.ZERO);
        });
        assertThrows(IllegalStateException.class, singleton::get);
        DatabaseConnection connection = singleton.get();
        assertSame(connection, singleton.get());
        assertEquals(2, attempts.get());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("correctVariants")
    @Timeout(10)
    void seedRunHandsEveryThreadTheSameInstance(String name, SingletonVariant variant) {
        var singleton = variant.fresh(() -> new DatabaseConnection(Duration.ZERO));
        var got = SingletonRace.askTogether(singleton, 3, false);
        assertEquals(1, SingletonRace.distinct(got));
    }

    // --- the holder idiom and the enum, each in a fresh class loader ---

    @Test
    @Timeout(10)
    void holderOpensNothingUntilTheFirstGet() throws Exception {
        try (var loader = freshLoader()) {
            Class<?> holder = Class.forName("HolderSingleton", true, loader);
            assertNotSame(HolderSingleton.class, holder, "a fresh copy of the class");
            assertEquals(0, opened(loader), "outer class initialized, none opened");
            call(holder, "describe");
            assertEquals(0, opened(loader), "using the outer class opens nothing");
            Object first = call(holder, "get");
            assertEquals(1, opened(loader), "the first get() opens the connection");
            assertSame(first, call(holder, "get"));
            assertEquals(1, opened(loader));
        }
    }

    @Test
    @Timeout(60)
    void holderInitializesOnceWhenManyThreadsAskAtOnce() throws Exception {
        for (int round = 0; round < 20; round++) {
            try (var loader = freshLoader()) {
                Class<?> holder = loader.loadClass("HolderSingleton");
                Method get = accessible(holder.getDeclaredMethod("get"));
                assertEquals(0, opened(loader));
                var got = SingletonRace.askTogether(() -> invoke(get), STRESS_THREADS,
                        false);
                assertEquals(1, SingletonRace.distinct(got), "round " + round);
                assertEquals(1, opened(loader), "round " + round);
            }
        }
    }

    @Test
    @Timeout(60)
    void enumInitializesOnceWhenManyThreadsAskAtOnce() throws Exception {
        for (int round = 0; round < 20; round++) {
            try (var loader = freshLoader()) {
                Class<?> enumClass = Class.forName("EnumSingleton", false, loader);
                assertEquals(0, opened(loader));
                var got = SingletonRace.askTogether(
                        () -> enumClass.getEnumConstants()[0], STRESS_THREADS, false);
                assertEquals(1, SingletonRace.distinct(got), "round " + round);
                assertEquals(1, opened(loader), "round " + round);
            }
        }
    }

    @Test
    @Timeout(10)
    void aSingletonIsOnePerClassLoader() throws Exception {
        try (var loader = freshLoader()) {
            Object other = call(loader.loadClass("HolderSingleton"), "get");
            assertNotSame(HolderSingleton.get(), other);
            assertNotSame(DatabaseConnection.class, other.getClass(), "another class");
        }
    }

    @Test
    @Timeout(10)
    void reflectionCannotMakeASecondEnumInstance() {
        Constructor<?> constructor = EnumSingleton.class.getDeclaredConstructors()[0];
        constructor.setAccessible(true);
        var e = assertThrows(IllegalArgumentException.class,
                () -> constructor.newInstance("SECOND", 1));
        assertEquals("Cannot reflectively create enum objects", e.getMessage());
    }

    /** Used by one test only: a class's initialization is attempted once per JVM. */
    static final class FailingHolder {
        static final AtomicInteger ATTEMPTS = new AtomicInteger();
        static final Object INSTANCE = openOrFail();

        private static Object openOrFail() {
            if (ATTEMPTS.incrementAndGet() == 1) throw new IllegalStateException("no");
            return new Object();
        }
    }

    @Test
    @Timeout(10)
    void aFailedClassInitializerIsNeverRetried() {
        var first = assertThrows(ExceptionInInitializerError.class,
                () -> read(FailingHolder.class));
        assertInstanceOf(IllegalStateException.class, first.getCause());
        assertThrows(NoClassDefFoundError.class, () -> read(FailingHolder.class));
        assertThrows(NoClassDefFoundError.class, () -> read(FailingHolder.class));
    }

    // --- the command line ---

    @Test
    @Timeout(10)
    void optionsDefaultToTheSeedsRun() {
        assertEquals(new singleton.Options(3, 10, 1_000_000, 1.0), singleton.parse());
        assertEquals(8, singleton.parse("--threads", "8").threads());
        assertEquals(2_000, singleton.parse("--calls", "2_000").calls());
        assertEquals(0.25, singleton.parse("--speed", "0.25").speed());
        assertNull(singleton.parse("--runs", "3", "--help"));
    }

    @Test
    @Timeout(10)
    void badOptionsAreRejectedWithTheReason() {
        assertEquals("--threads wants a positive whole number, got '0'",
                assertThrows(IllegalArgumentException.class,
                        () -> singleton.parse("--threads", "0")).getMessage());
        assertEquals("--speed wants a positive number, got 'fast'",
                assertThrows(IllegalArgumentException.class,
                        () -> singleton.parse("--speed", "fast")).getMessage());
        assertEquals("unknown argument '--bogus'",
                assertThrows(IllegalArgumentException.class,
                        () -> singleton.parse("--bogus", "1")).getMessage());
        assertEquals("--runs needs a value",
                assertThrows(IllegalArgumentException.class,
                        () -> singleton.parse("--runs")).getMessage());
    }

    // --- helpers ---

    /** Connections opened; what "first" and "second" got; what a later get() returns. */
    record LockRace(int opened, DatabaseConnection first, DatabaseConnection second,
            DatabaseConnection later) { }

    /**
     * Holds "first" inside the factory, and so inside any lock get() takes, until
     * "second" is blocked on a monitor that "first" owns; then lets "first" finish.
     */
    private static LockRace secondWaitsForTheLock(Lazy make) throws Exception {
        var got = new AtomicReferenceArray<DatabaseConnection>(2);
        var firstIsOpening = new CountDownLatch(1);
        var releaseFirst = new CountDownLatch(1);
        var opened = new AtomicInteger();
        var singleton = make.apply(() -> {
            if (Thread.currentThread().getName().equals("first")) {
                firstIsOpening.countDown();
                await(releaseFirst);
            }
            opened.incrementAndGet();
            return new DatabaseConnection(Duration.ZERO);
        });
        Thread first = Thread.ofPlatform().name("first")
                .start(() -> got.set(0, singleton.get()));
        Thread second = null;
        try {
            await(firstIsOpening);
            second = Thread.ofPlatform().name("second")
                    .start(() -> got.set(1, singleton.get()));
            awaitBlockedBy(second, first);  // second is past its first check, if any
        } finally {
            releaseFirst.countDown();
            Threads.joinAll(second == null ? List.of(first) : List.of(first, second));
        }
        return new LockRace(opened.get(), got.get(0), got.get(1), singleton.get());
    }

    /** Polls until waiter is BLOCKED entering a monitor that owner holds. */
    private static void awaitBlockedBy(Thread waiter, Thread owner)
            throws TimeoutException {
        var threads = ManagementFactory.getThreadMXBean();
        long deadline = System.nanoTime() + Threads.LONG.toNanos();
        while (true) {
            ThreadInfo info = threads.getThreadInfo(waiter.threadId());
            if (info != null && info.getThreadState() == Thread.State.BLOCKED
                    && info.getLockOwnerId() == owner.threadId()) {
                return;
            }
            if (!waiter.isAlive()) throw new IllegalStateException(waiter + " ended");
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(waiter.getName() + " never blocked on "
                        + owner.getName() + "'s lock; state " + waiter.getState());
            }
            Thread.yield();
        }
    }

    /** A new class loader over the lesson's compiled classes: fresh statics. */
    private static URLClassLoader freshLoader() {
        URL classes = HolderSingleton.class.getProtectionDomain().getCodeSource()
                .getLocation();
        return new URLClassLoader(new URL[] {classes},
                ClassLoader.getPlatformClassLoader());
    }

    private static int opened(ClassLoader loader) throws Exception {
        Class<?> connection = Class.forName("DatabaseConnection", true, loader);
        return (Integer) call(connection, "opened");
    }

    private static Object call(Class<?> type, String staticMethod) throws Exception {
        return accessible(type.getDeclaredMethod(staticMethod)).invoke(null);
    }

    private static Method accessible(Method m) {
        m.setAccessible(true);  // package-private, and in another class loader
        return m;
    }

    private static Object invoke(Method staticMethod) {
        try {
            return staticMethod.invoke(null);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object read(Class<?> type) throws ReflectiveOperationException {
        return type.getDeclaredField("INSTANCE").get(null);
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(Threads.LONG.toSeconds(), TimeUnit.SECONDS)) {
                throw new AssertionError("latch never opened");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
