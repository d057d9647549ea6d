import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import support.Scripts;
import support.Threads;

/** What the `deadlock` lesson claims, proven. */
class DeadlockTest {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    /**
     * pay-1-to-2 and pay-2-to-1, each made to hold its first lock (the latch opens only
     * when both do) before it asks for its second: the deadly embrace, every time.
     */
    private record Embraced(Account one, Account two, Thread a, Thread b,
                            CountDownLatch bothAsk) {
        static Embraced start(Transfer transfer, Thread.Builder builder) {
            var one = new Account(1, 100);
            var two = new Account(2, 100);
            var bothHoldFirst = new CountDownLatch(2);
            var bothAsk = new CountDownLatch(2);
            Consumer<Account> seam = held -> {
                bothHoldFirst.countDown();
                Threads.await(bothHoldFirst);
                bothAsk.countDown();  // what it does next: ask for its second lock
            };
            Thread a = builder.name("pay-1-to-2").start(() -> pay(transfer, one, two, 10, seam));
            Thread b = builder.name("pay-2-to-1").start(() -> pay(transfer, two, one, 30, seam));
            return new Embraced(one, two, a, b, bothAsk);
        }

        /**
         * Until each thread is parked (in `state`) on the lock that the other one holds:
         * once past the seam, the only place either can park is in that lock's queue.
         */
        void awaitEachParkedOnTheOthersLock(Thread.State state) throws Exception {
            Threads.await(bothAsk);
            Threads.awaitState(a, state);
            Threads.awaitState(b, state);
            assertTrue(two.lock.hasQueuedThread(a), "pay-1-to-2 queued for account 2");
            assertTrue(one.lock.hasQueuedThread(b), "pay-2-to-1 queued for account 1");
        }

        /** Interrupts both (each is waiting interruptibly) and joins them. */
        void end() throws Exception {
            a.interrupt();
            b.interrupt();
            Threads.joinAll(List.of(a, b));
        }

        private static void pay(Transfer t, Account from, Account to, long amount,
                                Consumer<Account> seam) {
            try {
                t.move(from, to, amount, seam);
            } catch (InterruptedException e) {
                // freed from the deadlock: done
            }
        }
    }

    /** The ids findDeadlockedThreads() reports (it returns null for none). */
    private static Set<Long> deadlocked() {
        long[] found = MX.findDeadlockedThreads();
        return found == null ? Set.of() : LongStream.of(found).boxed().collect(Collectors.toSet());
    }

    private static long lockOwner(Thread waiter) {
        return MX.getThreadInfo(waiter.threadId()).getLockOwnerId();
    }

    @Test
    @Timeout(30)
    void oppositeNaiveTransfersDeadlockEachWaitingForTheOthersLock() throws Exception {
        var e = Embraced.start(new NaiveTransfer(), Thread.ofPlatform());
        try {
            e.awaitEachParkedOnTheOthersLock(Thread.State.WAITING);
            assertEquals(Set.of(e.a().threadId(), e.b().threadId()), deadlocked());
            assertEquals(e.b().threadId(), lockOwner(e.a()), "pay-1-to-2 waits for b's lock");
            assertEquals(e.a().threadId(), lockOwner(e.b()), "pay-2-to-1 waits for a's lock");
        } finally {
            e.end();
        }
    }

    @Test
    @Timeout(30)
    void interruptingTheVictimEndsTheDeadlockAndTheOtherTransferCompletes() throws Exception {
        assertEquals(List.of(130L, 70L), Embrace.run(new NaiveTransfer(), 0, true));
    }

    @Test
    @Timeout(30)
    void orderedLockingFinishesTheScheduleThatDeadlocksTheNaiveTransfer() throws Exception {
        assertEquals(List.of(120L, 80L), Embrace.run(new OrderedTransfer(), 0, false));
    }

    @Test
    @Timeout(30)
    void backoffFinishesTheScheduleThatDeadlocksTheNaiveTransfer() throws Exception {
        assertEquals(List.of(120L, 80L), Embrace.run(new BackoffTransfer(200), 0, false));
    }

    static Stream<Arguments> fixes() {
        return Stream.of(Arguments.of("ordered", new OrderedTransfer()),
                Arguments.of("back-off", new BackoffTransfer(1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixes")
    @Timeout(60)
    void fixDoesEveryRandomTransferAndConservesMoney(String name, Transfer fix)
            throws Exception {
        var bank = IntStream.rangeClosed(1, 3).mapToObj(id -> new Account(id, 1_000)).toList();
        var done = new LongAdder();
        var start = new CountDownLatch(1);
        var workers = new ArrayList<Thread>();
        for (int w = 0; w < 8; w++) {
            workers.add(Thread.ofPlatform().name("teller-" + w).start(() -> {
                Threads.await(start);
                var random = ThreadLocalRandom.current();
                for (int i = 0; i < 25_000; i++) {
                    int from = random.nextInt(3);
                    int to = (from + 1 + random.nextInt(2)) % 3;  // both ways, any pair
                    try {
                        fix.move(bank.get(from), bank.get(to), 1 + random.nextInt(100),
                                held -> { });
                    } catch (InterruptedException e) {
                        return;
                    }
                    done.increment();
                }
            }));
        }
        start.countDown();
        Threads.joinAll(workers);
        assertEquals(8 * 25_000, done.sum(), "transfers done");
        assertEquals(3_000, bank.stream().mapToLong(Account::balance).sum(), "total money");
    }

    @Test
    @Timeout(30)
    void theDetectorReportsACycleOfTimedTryLockWaits() throws Exception {
        var e = Embraced.start(new BackoffTransfer(60_000), Thread.ofPlatform());
        try {
            // each waits in tryLock(60 s), TIMED_WAITING: a wait with an end, yet reported
            e.awaitEachParkedOnTheOthersLock(Thread.State.TIMED_WAITING);
            assertEquals(Set.of(e.a().threadId(), e.b().threadId()), deadlocked());
        } finally {
            e.end();
        }
    }

    @Test
    @Timeout(30)
    void theDetectorDoesNotFindDeadlockedVirtualThreads() throws Exception {
        var e = Embraced.start(new NaiveTransfer(), Thread.ofVirtual());
        try {
            e.awaitEachParkedOnTheOthersLock(Thread.State.WAITING);  // by the locks' queues
            assertNull(MX.findDeadlockedThreads(), "findDeadlockedThreads()");
        } finally {
            e.end();
        }
    }

    /**
     * The same embrace in a JVM of its own, with `synchronized` or `lock()`: it prints
     * what the detector found, interrupts both threads, gives pay-1-to-2 args[1] ms to
     * end, prints both threads' states, and exits (its deadlocked threads never would).
     */
    public static final class UnbreakableChild {
        record Account(ReentrantLock lock) { }

        public static void main(String[] args) throws Exception {
            var one = new Account(new ReentrantLock());
            var two = new Account(new ReentrantLock());
            var bothHoldFirst = new CountDownLatch(2);
            boolean monitors = args[0].equals("synchronized");
            Thread a = new Thread(() -> pay(monitors, one, two, bothHoldFirst), "pay-1-to-2");
            Thread b = new Thread(() -> pay(monitors, two, one, bothHoldFirst), "pay-2-to-1");
            a.start();
            b.start();
            var mx = ManagementFactory.getThreadMXBean();
            long[] found;
            while ((found = mx.findDeadlockedThreads()) == null) Thread.sleep(1);  // polls
            System.out.println("found " + found.length);
            a.interrupt();
            b.interrupt();
            a.join(Long.parseLong(args[1]));
            System.out.println("interrupted: " + a.getState() + " " + b.getState());
            System.exit(0);
        }

        static void pay(boolean monitors, Account from, Account to, CountDownLatch both) {
            if (monitors) {
                synchronized (from) {
                    both.countDown();
                    awaitQuietly(both);
                    synchronized (to) { System.out.println("never printed"); }
                }
            } else {
                from.lock().lock();
                both.countDown();
                awaitQuietly(both);
                to.lock().lock();
                System.out.println("never printed");
            }
        }

        static void awaitQuietly(CountDownLatch latch) {
            try {
                latch.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Runs UnbreakableChild; its output, once it has exited. */
    private static List<String> runUnbreakableChild(String kind) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path out = Files.createTempFile("unbreakable", ".out");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                UnbreakableChild.class.getName(), kind, "500")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            assertTrue(child.waitFor(Threads.LONG.toMillis() * 3, TimeUnit.MILLISECONDS),
                    "the child never finished: " + Files.readAllLines(out));
            assertEquals(0, child.exitValue(), Files.readAllLines(out).toString());
            return Files.readAllLines(out);
        } finally {
            child.destroyForcibly().waitFor();
            Files.deleteIfExists(out);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"synchronized", "lock()"})
    @Timeout(60)
    void theDetectorFindsADeadlockIn(String kind) throws Exception {
        assertEquals("found 2", runUnbreakableChild(kind).getFirst());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"synchronized", "lock()"})
    @Timeout(60)
    void anInterruptDoesNotFreeAThreadDeadlockedIn(String kind) throws Exception {
        String waiting = kind.equals("synchronized") ? "BLOCKED" : "WAITING";
        assertEquals("interrupted: " + waiting + " " + waiting,
                runUnbreakableChild(kind).getLast());
    }

    /** `embrace` with lockInterruptibly(), `detect` with tryLock(1 minute): the same story,
     *  but `detect`'s threads are in timed waits. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"embrace, WAITING", "detect, TIMED_WAITING"})
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void sectionShowsTheForcedDeadlockFoundAndBroken(String section, String state)
            throws Exception {
        var run = Scripts.compiled("deadlock", section, "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        var lines = run.stdout().lines().filter(l -> l.startsWith("  ")).toList();
        assertEquals(List.of(
                "  pay-1-to-2 holds account 1",
                "  pay-2-to-1 holds account 2",
                "  pay-2-to-1 waits for account 1",
                "  pay-1-to-2 asks for account 2",
                "  findDeadlockedThreads() reports 2 threads",
                "    pay-1-to-2 (" + state + ") waits for a lock owned by pay-2-to-1",
                "    pay-2-to-1 (" + state + ") waits for a lock owned by pay-1-to-2",
                "  interrupting pay-1-to-2, the victim",
                "  pay-1-to-2 interrupted, pay-2-to-1 paid 30; balances 130 + 70 = 200"), lines);
    }

    @Test
    @Timeout(90)
    void fixesSectionEndsBothForcedRunsWithBothTransfersDone() throws Exception {
        var run = Scripts.compiled("deadlock", "fixes", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals(2, run.stdout().lines().filter(l -> l.equals(
                "  pay-1-to-2 paid 10, pay-2-to-1 paid 30; balances 120 + 80 = 200")).count(),
                run.stdout());
        // the back-off run: at least one thread (usually pay-2-to-1) timed out and retried
        assertTrue(run.stdout().lines().anyMatch(l -> l.matches(
                "  pay-(1-to-2|2-to-1) timed out, backs off, retries")), run.stdout());
    }
}
