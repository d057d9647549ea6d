import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `shared_resource` lesson claims, proven. */
class SharedResourceTest {

    @Test
    @Timeout(10)
    void guardKeepsASecondWorkerWaitingWhileTheFirstIsBetweenReadAndWrite()
            throws Exception {
        var resource = new SharedResource();
        var firstIsInside = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var secondGotIn = new AtomicBoolean();
        Thread first = Thread.ofPlatform().name("first").start(() ->
                Workers.worker(resource, 0, () -> {
                    firstIsInside.countDown();
                    Threads.await(release);  // "first" holds the guard, between read and write
                }));
        Threads.await(firstIsInside);
        Thread second = Thread.ofPlatform().name("second").start(() ->
                Workers.worker(resource, 1, () -> secondGotIn.set(true)));
        Threads.awaitBlocked(second);  // parked in lock.lock(); throws if "second" ended
        assertFalse(secondGotIn.get(), "the second worker got in while the guard was held");
        release.countDown();
        Threads.joinAll(List.of(first, second));

        assertTrue(secondGotIn.get());
        assertEquals(2, countOf(resource), "the second read the first's write: none lost");
    }

    @Test
    @Timeout(30)
    void unguardedWorkersAllPauseAtOnceAndLoseAllButOneUpdateWhenAllReadFirst()
            throws Exception {
        var data = new ConcurrentHashMap<>(Map.of("count", 0));
        var allHaveRead = new CountDownLatch(10);  // each worker waits here, after its read
        var pausing = new Workers.Overlap();
        Workers.runTen(id -> Workers.update(data, id, pausing.around(() -> {
            allHaveRead.countDown();
            Threads.await(allHaveRead);
        })), Duration.ZERO);

        assertEquals(10, pausing.most(), "all ten inside the work at once");
        assertEquals(1, data.get("count"), "ten updates, nine lost");
    }

    @Test
    @Timeout(30)
    void guardedWorkersSleepOneAtATimeSoTenTakeAtLeastTenPauses() throws Exception {
        var resource = new SharedResource();
        var pause = Duration.ofMillis(20);
        var sleeping = new Workers.Overlap();
        long millis = Workers.runTen(id -> Workers.worker(resource, id,
                sleeping.around(Workers.sleep(pause))), pause);

        assertEquals(1, sleeping.most(), "never two workers sleeping at once");
        assertTrue(millis >= 10 * pause.toMillis(), millis + " ms for ten pauses");
        assertEquals(10, countOf(resource));
    }

    @Test
    @Timeout(60)
    void seedSectionCountsOneToTenInOrderAndEndsWithTheSeedsLine() throws Exception {
        var run = Scripts.compiled("shared_resource", "seed");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertEquals("Final count: 10", lines.getLast());
        assertTrue(lines.contains("most workers sleeping at once: 1"), run.stdout());
        var ids = new ArrayList<Integer>();
        var counts = new ArrayList<Integer>();
        Pattern worker = Pattern.compile("Worker (\\d): count = (\\d+)");
        for (String line : lines) {
            Matcher m = worker.matcher(line);
            if (m.matches()) {
                ids.add(Integer.parseInt(m.group(1)));
                counts.add(Integer.parseInt(m.group(2)));
            }
        }
        assertEquals(IntStream.rangeClosed(1, 10).boxed().toList(), counts, run.stdout());
        assertEquals(IntStream.range(0, 10).boxed().toList(), ids.stream().sorted().toList());
    }

    @Test
    @Timeout(30)
    void mapKeptPastItsBlockWritesWhileAnotherThreadHoldsTheGuardAndTheWriteIsLost()
            throws Exception {
        assertEquals(1, Escape.show(), "100 written through kept, then overwritten");
    }

    @Test
    @Timeout(60)
    void escapeSectionShowsTheLostWriteAndAKeptGuardRefusingData() throws Exception {
        var run = Scripts.compiled("shared_resource", "escape");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertTrue(lines.contains("count = 1: the write through kept is lost"), run.stdout());
        assertTrue(lines.getLast().startsWith("a guard kept past its block: data() throws"),
                run.stdout());
    }

    @Test
    @Timeout(10)
    void closedGuardRefusesDataAndASecondCloseKeepsTheOuterHold() throws Exception {
        var resource = new SharedResource();
        Thread waiter;
        try (var outer = resource.acquire()) {
            var inner = resource.acquire();  // reentrant: Python's Lock would deadlock here
            inner.data().put("count", 7);
            inner.close();
            inner.close();  // a no-op: it must not release the outer hold
            assertThrows(IllegalStateException.class, inner::data);

            waiter = Thread.ofPlatform().name("waiter").start(() -> countOf(resource));
            Threads.awaitBlocked(waiter);  // the outer guard still holds the lock
            assertEquals(7, outer.data().get("count"));
        }
        Threads.joinAll(List.of(waiter));
    }

    @Test
    @Timeout(10)
    void guardUsedOrClosedByAnotherThreadIsRefusedAndStaysHeld() throws Exception {
        var resource = new SharedResource();
        var refused = new AtomicReference<Exception>();
        try (var guard = resource.acquire()) {
            Thread other = Thread.ofPlatform().name("other").start(() -> {
                guard.close();  // not its hold: does nothing
                try {
                    guard.data();
                } catch (Exception e) {
                    refused.set(e);
                }
            });
            Threads.joinAll(List.of(other));
            guard.data().put("count", 1);  // still open, still this thread's
        }
        assertInstanceOf(IllegalStateException.class, refused.get());
        assertEquals(1, countOf(resource));
    }

    @Test
    @Timeout(20)
    void bodyThatThrowsStillUnlocksButItsWritesStay() throws Exception {
        var resource = new SharedResource();
        assertThrows(IllegalArgumentException.class, () -> {
            try (var guard = resource.acquire()) {
                guard.data().put("count", 41);
                throw new IllegalArgumentException("bad input");
            }
        });
        var seen = new AtomicInteger(-1);
        // Another thread: this one could re-enter a lock it still held. If the lock were
        // still held, "other" would wait for ever and joinAll would fail.
        Thread other = Thread.ofPlatform().name("other").start(
                () -> seen.set(countOf(resource)));
        Threads.joinAll(List.of(other));

        assertEquals(41, seen.get(), "unlocked, and no rollback");
    }

    @Test
    @Timeout(60)
    void guardedReadThenWriteIsExactUnderStress() throws Exception {
        var resource = new SharedResource();
        var threads = IntStream.range(0, 4).mapToObj(i -> Thread.ofPlatform().start(() -> {
            for (int n = 0; n < 100_000; n++) {
                try (var guard = resource.acquire()) {
                    int current = guard.data().get("count");
                    guard.data().put("count", current + 1);
                }
            }
        })).toList();
        Threads.joinAll(threads);

        assertEquals(400_000, countOf(resource));
    }

    private static int countOf(SharedResource resource) {
        try (var guard = resource.acquire()) {
            return guard.data().get("count");
        }
    }
}
