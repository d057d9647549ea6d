import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.FailedException;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `structured_concurrency` lesson claims, proven. */
class StructuredConcurrencyTest {

    /** A `Fetch` that remembers the thread that ran `fetchOrder`. */
    static class RecordingFetch extends Fetch {
        volatile Thread orderThread;

        RecordingFetch() { super(0); }

        @Override
        String fetchOrder() throws InterruptedException {
            orderThread = Thread.currentThread();
            return super.fetchOrder();
        }
    }

    @Test
    @Timeout(30)
    void executorLeavesTheSiblingRunningAfterTheCallerGaveUp() throws Exception {
        var fetch = new RecordingFetch();
        try (var pool = Executors.newCachedThreadPool()) {
            var failure = assertThrows(ExecutionException.class,
                    () -> LeakyFanOut.handle(pool, fetch));
            assertEquals("user service down", failure.getCause().getMessage());

            assertTrue(fetch.orderRunning(), "fetchOrder outlives the call that forked it");
            assertTrue(fetch.orderThread.isAlive());
            assertFalse(fetch.orderInterrupted, "nothing cancelled it");

            fetch.release.countDown();  // it now runs to completion, for nobody
            Threads.await(fetch.orderEnded);
            assertFalse(fetch.orderInterrupted, "it ran to the end, not interrupted");
        }
    }

    @Test
    @Timeout(30)
    void leakSectionReportsTheSiblingStillRunning() throws Exception {
        assertTrue(LeakyFanOut.demo(0));
    }

    /**
     * A seam: a `fetchOrder` that, once interrupted, ends only when the test opens
     * `mayEnd`. So it is still running when `join` returns, and only `close()` can wait
     * for it.
     */
    static class SlowToStopFetch extends Fetch {
        final CountDownLatch interrupted = new CountDownLatch(1);
        final CountDownLatch mayEnd = new CountDownLatch(1);

        SlowToStopFetch() { super(0); }

        @Override
        String fetchOrder() throws InterruptedException {
            try {
                orderStarted.countDown();
                if (!release.await(Threads.LONG.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new IllegalStateException("never interrupted");
                }
                return "order 42";
            } catch (InterruptedException e) {
                orderInterrupted = true;
                interrupted.countDown();
                Threads.await(mayEnd);  // still running after the interrupt, on purpose
                throw e;
            } finally {
                orderEnded.countDown();
            }
        }

        /** Opens `mayEnd` once `owner` is inside the scope's close(); keeps a failure. */
        Thread releaseWhenInClose(Thread owner, AtomicReference<Throwable> failure) {
            return Thread.ofPlatform().name("releaser").start(() -> {
                try {
                    Threads.await(interrupted);
                    awaitInClose(owner);
                } catch (Throwable t) {
                    failure.set(t);
                } finally {
                    mayEnd.countDown();
                }
            });
        }
    }

    /** Polls (no sleep) until `owner`'s stack shows it inside StructuredTaskScope close. */
    static void awaitInClose(Thread owner) throws TimeoutException {
        long deadline = System.nanoTime() + Threads.LONG.toNanos();
        while (Arrays.stream(owner.getStackTrace()).noneMatch(f -> f.getMethodName()
                .equals("close") && f.getClassName().contains("StructuredTaskScope"))) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("the owner never entered the scope's close()");
            }
            Thread.yield();
        }
    }

    @Test
    @Timeout(30)
    void joinReturnsOnceCancelledWhileTheInterruptedForkStillRuns() throws Exception {
        var fetch = new SlowToStopFetch();
        var failure = new AtomicReference<Throwable>();
        Thread releaser = fetch.releaseWhenInClose(Thread.currentThread(), failure);
        try {
            try (var scope = StructuredTaskScope.open()) {
                scope.fork(fetch::findUser);
                scope.fork(fetch::fetchOrder);
                assertThrows(FailedException.class, scope::join);
                // the interrupt is sent before join wakes up, but may not be seen yet
                assertTrue(fetch.orderRunning(), "join did not wait for fetchOrder to end");
            }  // close(): the releaser sees us here and lets fetchOrder end
            assertFalse(fetch.orderRunning(), "close() waited for fetchOrder to end");
            assertTrue(fetch.orderInterrupted, "the scope interrupted fetchOrder");
        } finally {
            fetch.mayEnd.countDown();
            Threads.joinAll(List.of(releaser));
        }
        assertNull(failure.get(), () -> "releaser: " + failure.get());
    }

    @Test
    @Timeout(30)
    void handleReturnsOnlyAfterCloseWaitedForTheInterruptedFork() throws Exception {
        var fetch = new SlowToStopFetch();
        var failure = new AtomicReference<Throwable>();
        Thread releaser = fetch.releaseWhenInClose(Thread.currentThread(), failure);
        try {
            assertThrows(FailedException.class, () -> ScopedFanOut.handle(fetch));
            assertFalse(fetch.orderRunning(), "handle's close() waited for fetchOrder");
            assertTrue(fetch.orderInterrupted);
        } finally {
            fetch.mayEnd.countDown();
            Threads.joinAll(List.of(releaser));
        }
        assertNull(failure.get(), () -> "releaser: " + failure.get());
    }

    @Test
    @Timeout(30)
    void scopeInterruptsTheSiblingAndFailsWithTheFirstFailure() throws Exception {
        var fetch = new RecordingFetch();
        var failure = assertThrows(FailedException.class, () -> ScopedFanOut.handle(fetch));
        assertInstanceOf(IllegalStateException.class, failure.getCause());
        assertEquals("user service down", failure.getCause().getMessage());

        assertTrue(fetch.orderInterrupted, "the scope interrupted fetchOrder");
        assertFalse(fetch.orderRunning(), "fetchOrder ended inside the block");
        assertNotNull(fetch.orderThread);
        assertFalse(fetch.orderThread.isAlive(), "its thread ended before close returned");
        assertEquals(1, fetch.release.getCount(), "nobody released it: the interrupt did");
    }

    @Test
    @Timeout(30)
    void scopeSectionReportsTheSiblingInterruptedAndEnded() throws Exception {
        assertTrue(ScopedFanOut.demo(0));
    }

    @Test
    @Timeout(30)
    void closeWithoutJoinInterruptsTheForkWaitsForItAndThrows() throws Exception {
        var fetch = new RecordingFetch();
        var scope = StructuredTaskScope.open();
        scope.fork(fetch::fetchOrder);
        Threads.await(fetch.orderStarted);
        assertThrows(IllegalStateException.class, scope::close, "owner did not join");
        assertTrue(fetch.orderInterrupted);
        assertFalse(fetch.orderThread.isAlive(), "close waited for the fork's thread");
    }

    @Test
    @Timeout(60)
    void joinersGiveTheirDocumentedOutcomes() throws Exception {
        List<String> lines = JoinerPolicies.demo(1_000);  // a timeout of one second
        assertEquals(List.of(
                "allSuccessfulOrThrow: [1, 4, 9]",
                "anySuccessfulResultOrThrow: mirror-3, interrupted [mirror-1]",
                "awaitAll: SUCCESS ok, FAILED boom",
                "withTimeout(1000 ms): join threw TimeoutException, interrupted [slow]"),
                lines);
    }

    @Test
    @Timeout(30)
    void threadDumpShowsTheTreeOfScopes() throws Exception {
        List<String> tree = TaskTree.demo(0);
        String text = String.join("\n", tree);
        long me = Thread.currentThread().threadId();

        var handle = Pattern.compile("\"container\": \"(handle/[^\"]+)\",\n"
                + " *\"parent\": \"[^\"]+\",\n *\"owner\": \"" + me + "\"").matcher(text);
        assertTrue(handle.find(), "scope handle, owned by the caller:\n" + text);
        var handle2 = Pattern.compile("\"tid\": \"(\\d+)\",\n *\"name\": \"handle-2\"")
                .matcher(text);
        assertTrue(handle2.find(), text);
        var nested = Pattern.compile("\"container\": \"fetchOrder/[^\"]+\",\n *\"parent\": \""
                + Pattern.quote(handle.group(1)) + "\",\n *\"owner\": \"" + handle2.group(1)
                + "\"").matcher(text);
        assertTrue(nested.find(), "fetchOrder's scope under handle, owned by handle-2");
        for (String fork : List.of("handle-1", "handle-2", "fetchOrder-1", "fetchOrder-2")) {
            assertTrue(text.contains("\"name\": \"" + fork + "\""), fork + " in\n" + text);
        }
        assertEquals(2, tree.stream().filter(l -> l.contains("\"container\"")).count());
    }

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void everySectionRunsAtFullSpeedWithinEightyColumns() throws Exception {
        var run = Scripts.compiled("structured_concurrency", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertTrue(lines.contains("  after handle returned, fetchOrder still running: true"),
                run.stdout());
        assertTrue(lines.contains("  after handle returned, fetchOrder still running: "
                + "false, interrupted: true"), run.stdout());
        assertTrue(lines.stream().allMatch(l -> l.length() <= 80), run.stdout());
    }
}
