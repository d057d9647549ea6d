import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.StructureViolationException;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import support.Scripts;
import support.Threads;

/** What the `scoped_values` lesson claims, proven. */
class ScopedValuesTest {
    static final ScopedValue<String> USER = ScopedServer.USER;

    @Test
    @Timeout(20)
    void threadLocalLeaksTheFailedRequestsUserIntoTheNextOnThePooledThread()
            throws Exception {
        // one pool thread: the three requests run on it in order, every time
        assertEquals(List.of("alice sees /inbox", "failed: /broken failed",
                "alice sees /home"),
                Requests.serve("ThreadLocalServer", ThreadLocalServer::handle, 0));
    }

    @Test
    @Timeout(20)
    void scopedServerServesTheSameDayWithoutALeak() throws Exception {
        assertEquals(List.of("alice sees /inbox", "failed: /broken failed",
                "anonymous sees /home"),
                Requests.serve("ScopedServer", ScopedServer::handle, 0));
    }

    @Test
    @Timeout(10)
    void threadLocalOutlivesAFailedRequestOnTheSameThread() {
        try {
            assertThrows(IllegalStateException.class,
                    () -> ThreadLocalServer.handle(new Request("alice", "/broken")));
            assertEquals("alice", ThreadLocalServer.USER.get());
            assertEquals("alice sees /home",
                    ThreadLocalServer.handle(new Request(null, "/home")));
        } finally {
            ThreadLocalServer.USER.remove();  // this test thread runs other tests too
        }
    }

    @Test
    @Timeout(10)
    void bindingEndsWhenTheCallThrows() {
        assertThrows(IllegalStateException.class,
                () -> ScopedServer.handle(new Request("alice", "/broken")));
        assertEquals("anonymous sees /home", ScopedServer.handle(new Request(null, "/home")));
    }

    @Test
    @Timeout(60)
    void scopedServerNeverServesARequestAsAnotherUserUnderStress() throws Exception {
        var requests = new ArrayList<Request>();
        var replies = new ArrayList<Future<String>>();
        try (var pool = Executors.newFixedThreadPool(4)) {
            for (int i = 0; i < 20_000; i++) {
                var request = new Request(i % 3 == 0 ? null : "user-" + i,
                        i % 5 == 0 ? "/broken" : "/page-" + i);
                requests.add(request);
                replies.add(pool.submit(() -> ScopedServer.handle(request)));
            }
            for (int i = 0; i < requests.size(); i++) {
                Request request = requests.get(i);
                String expected = Objects.requireNonNullElse(request.user(), "anonymous")
                        + " sees " + request.path();
                try {
                    assertEquals(expected, replies.get(i).get(10, TimeUnit.SECONDS));
                } catch (ExecutionException e) {
                    assertEquals("/broken", request.path(), e.getCause().toString());
                }
            }
        }
    }

    @Test
    @Timeout(10)
    void nestedBindingHidesTheOuterOneUntilItsCallReturns() {
        assertEquals(List.of("alice", "admin", "alice", "(unbound)"), Nesting.show());
    }

    @Test
    @Timeout(10)
    void twoThreadsBoundAtTheSameTimeEachReadTheirOwnUser() throws Exception {
        var bothBound = new CountDownLatch(2);
        var seen = new ConcurrentHashMap<String, String>();
        var threads = new ArrayList<Thread>();
        for (String user : List.of("alice", "bob")) {
            threads.add(Thread.ofPlatform().name(user).start(
                    () -> ScopedValue.where(USER, user).run(() -> {
                        bothBound.countDown();
                        Threads.await(bothBound);  // both bindings are live now
                        seen.put(Thread.currentThread().getName(), USER.get());
                    })));
        }
        Threads.joinAll(threads);
        assertEquals(Map.of("alice", "alice", "bob", "bob"), seen);
    }

    @Test
    @Timeout(10)
    void forksInheritTheBindingAndAnExecutorTaskDoesNot() throws Exception {
        List<String> seen = Inheritance.forksAndTask();
        assertEquals(3, seen.size(), seen.toString());
        assertTrue(seen.get(0).startsWith("fork 1") && seen.get(0).endsWith("USER = alice"));
        assertTrue(seen.get(1).startsWith("fork 2") && seen.get(1).endsWith("USER = alice"));
        assertTrue(seen.get(2).startsWith("executor task")
                && seen.get(2).endsWith("USER = (unbound)"), seen.get(2));
        assertFalse(USER.isBound());
    }

    @Test
    @Timeout(10)
    void aForkThatRebindsChangesNothingForItsParent() throws Exception {
        String parentAfter = ScopedValue.where(USER, "alice").call(() -> {
            try (var scope = StructuredTaskScope.<String>open()) {
                var fork = scope.fork(() -> ScopedValue.where(USER, "mallory").call(USER::get));
                scope.join();
                assertEquals("mallory", fork.get());
            }
            return USER.get();
        });
        assertEquals("alice", parentAfter);
    }

    @Test
    @Timeout(10)
    void forkingAfterARebindingThrowsStructureViolation() {
        ScopedValue.where(USER, "alice").run(() -> {
            try (var scope = StructuredTaskScope.<String>open()) {
                assertThrows(StructureViolationException.class, () -> ScopedValue
                        .where(USER, "admin").run(() -> scope.fork(() -> "never runs")));
                scope.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    @Timeout(120)
    void theCopyIsPaidAtForkForEveryForkTheCacheOnlyAtTheRead() throws Exception {
        Map<String, long[]> medians = CostTable.compare(5, 2_000);
        long[] none = medians.get("no context");
        long[] scoped = medians.get("ScopedValue");
        long[] inherited = medians.get("InheritableThreadLocal");
        String table = medians.entrySet().stream()
                .map(e -> e.getKey() + "=" + Arrays.toString(e.getValue())).toList().toString();
        // at fork (the forking thread): the copied map, read or not; nothing for the scoped value
        assertTrue(inherited[0] - Math.max(none[0], scoped[0]) >= 100, table);
        assertTrue(Math.abs(scoped[0] - none[0]) <= 16, table);
        // at the read (all threads): each fork's first read of the scoped value makes its cache
        assertTrue(scoped[1] - Math.max(none[1], inherited[1]) >= 100, table);
        assertTrue(Math.abs(inherited[1] - none[1]) <= 16, table);
        // the cache costs about what the copy costs
        assertTrue(Math.abs((scoped[1] - none[1]) - (inherited[0] - none[0])) <= 40, table);
    }

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void leakSectionShowsTheLeakThenNone() throws Exception {
        var run = Scripts.compiled("scoped_values", "leak", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> homes = run.stdout().lines().filter(l -> l.contains("/home ")).toList();
        assertEquals(List.of("  (none)  /home    -> alice sees /home  <- LEAKED",
                "  (none)  /home    -> anonymous sees /home"), homes, run.stdout());
    }
}
