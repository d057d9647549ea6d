import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import support.Scripts;

/** What the `completable_future` lesson claims, proven. */
class CompletableFutureTest {

    @Test
    @Timeout(10)
    void theDefaultExecutorIsTheCommonPoolWithProcessorsMinusOneThreads() {
        assertSame(ForkJoinPool.commonPool(), new CompletableFuture<>().defaultExecutor());
        int processors = Runtime.getRuntime().availableProcessors();
        assertEquals(Math.max(1, processors - 1), ForkJoinPool.getCommonPoolParallelism());
    }

    @Test
    @Timeout(20)
    void eachCallbackRunsWhereTheLessonSays() {
        String caller = Thread.currentThread().getName();
        CallbackThreads.demo(20);  // at --speed 20 the timeouts are 25 ms
        List<String> ranOn = List.copyOf(CallbackThreads.ranOn);

        assertEquals(8, ranOn.size(), ranOn.toString());
        assertEquals(List.of("fetcher-0", "fetcher-0"), ranOn.subList(0, 2),
                "thenApply, attached before, runs on the thread that completes the stage");
        assertEquals(ranOn.get(2), ranOn.get(3), "thenApply after thenApplyAsync");
        assertTrue(ranOn.get(2).startsWith("ForkJoinPool.commonPool-worker-"), ranOn.get(2));
        assertEquals(List.of(caller, caller), ranOn.subList(4, 6),
                "on a completed stage, thenApply runs at once on the caller");
        assertEquals(List.of("ForkJoinPool.commonPool-delayScheduler",
                "ForkJoinPool.commonPool-delayScheduler"), ranOn.subList(6, 8),
                "attached before the timer is armed, the callbacks of a timed-out future "
                        + "run on the scheduler thread");
    }

    @Test
    @Timeout(20)
    void brokenFanOutReturnsFourResultsAndNoError() {
        var pages = LostFailure.fireAndForget(0);  // returns normally: nothing thrown

        assertEquals(List.of(0, 1, 2, 4), pages.stream().map(WebPage::id).sorted().toList());
    }

    @Test
    @Timeout(20)
    void fixedFanOutReturnsTheFourGoodPagesInUrlOrder() {
        var pages = LostFailure.observed(0);

        assertEquals(List.of(0, 1, 2, 4), pages.stream().map(WebPage::id).toList());
    }

    @Test
    @Timeout(90)  // longer than support.Scripts' own limit for the child JVM
    void failuresSectionLosesTheFailureThenShowsIt() throws Exception {
        var run = Scripts.compiled("completable_future", "failures", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("", run.stderr(), "no stack trace, no handler output anywhere");
        List<String> lines = run.stdout().lines().toList();
        int broken = lines.indexOf("-- broken: thenAccept, and nobody joins");
        int fixed = lines.indexOf("-- fixed: allOf(...).join(), then handle each");
        assertEquals(List.of("Total results: 4"), lines.subList(broken + 1, fixed),
                "the broken fan-out says nothing about URL 3");
        List<String> report = lines.subList(fixed + 1, lines.size());
        assertEquals(List.of(
                "allOf(...).join() threw: java.lang.IllegalStateException: HTTP 503 from URL 3",
                "Completed URL 0: WebPage[id=0, data=content_0]",
                "Completed URL 1: WebPage[id=1, data=content_1]",
                "Completed URL 2: WebPage[id=2, data=content_2]",
                "URL 3 generated exception: HTTP 503 from URL 3",
                "Completed URL 4: WebPage[id=4, data=content_4]",
                "Total results: 4"), report);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "SUPPLY_ASYNC | not interrupted: went on and SENT THE EMAIL",
            "SUBMIT       | interrupted while waiting; sent no email",
            "COOPERATIVE  | saw the cancel; sent no email"})
    @Timeout(60)
    void cancelTrueStopsTheJobOnlyThroughAFutureTaskOrACheck(CancelRuns.How how,
            String outcome) {
        // cancel(true) comes after the job has started and before the reply; a FutureTask's
        // interrupt may land while the job waits (InterruptedException) or just as the
        // reply does (await returns true, the flag set): the job checks the flag, so the
        // outcome is the same every time.
        for (int i = 0; i < 50; i++) {
            assertEquals(outcome, CancelRuns.run(how, 0), how + ", run " + i);
        }
    }

    @Test
    @Timeout(10)
    void completableFutureCancelInterruptsNobody() throws Exception {
        var job = new ReportJob();
        try (var pool = java.util.concurrent.Executors.newSingleThreadExecutor()) {
            var future = CompletableFuture.supplyAsync(() -> job.run(5_000, () -> false), pool);
            support.Threads.await(job.started);
            assertTrue(future.cancel(true));
            assertTrue(future.isCancelled());
            var dependent = future.thenApply(String::length);
            assertTrue(dependent.isCompletedExceptionally(), "its dependents fail at once");
            assertEquals("never ran", job.outcome, "the job is still waiting");
            job.reply.countDown();
        }
        assertEquals("not interrupted: went on and SENT THE EMAIL", job.outcome);
    }

    @Test
    @Timeout(90)
    void composeSectionEndsWithTheSeedsResult() throws Exception {
        var run = Scripts.compiled("completable_future", "compose", "--speed", "20");
        assertEquals(0, run.exitCode(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertTrue(lines.contains("thenCompose, thenCombine, thenApply: CONTENT_0 + CONTENT_1"),
                run.stdout());
        assertTrue(lines.contains("anyOf: WebPage[id=4, data=content_4]; mirror done: false"),
                run.stdout());
        assertEquals(5, lines.stream().filter(l -> l.startsWith("Completed URL ")).count());
        assertEquals("Total results: 5", lines.getLast());
    }
}
