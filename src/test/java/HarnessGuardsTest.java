import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * The suite's own guards, proven: a test that leaks a thread, hangs, or leaves its
 * thread interrupted fails. Each runs a deliberately bad example test class (nested, so
 * Surefire never runs it on its own) through the JUnit engine.
 */
class HarnessGuardsTest {

    @Test
    void aTestThatLeavesAThreadRunningFails() {
        String failure = onlyFailure(LeaksAThread.class);
        assertTrue(failure.contains("left platform threads running: leaked-worker"), failure);
    }

    @Test
    void aTestThatHangsIsStoppedByTheDefaultTimeout() {
        String failure = onlyFailure(Hangs.class);
        assertTrue(failure.contains(TimeoutException.class.getName()), failure);
    }

    @Test
    void aTestThatLeavesItsThreadInterruptedFails() {
        String failure = onlyFailure(LeavesInterruptFlag.class);
        assertTrue(failure.contains("left its thread interrupted"), failure);
    }

    private static String onlyFailure(Class<?> example) {
        Events tests = EngineTestKit.engine("junit-jupiter")
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .configurationParameter("junit.jupiter.execution.timeout.default", "1 s")
                .selectors(selectClass(example))
                .execute()
                .testEvents();
        tests.assertStatistics(stats -> stats.started(1).failed(1));
        return tests.failed().stream()
                .map(e -> e.getRequiredPayload(org.junit.platform.engine.TestExecutionResult.class))
                .map(r -> r.getThrowable().map(Throwable::toString).orElse(""))
                .findFirst().orElseThrow();
    }

    static class LeaksAThread {
        static final CountDownLatch NEVER = new CountDownLatch(1);

        @Test
        void startsAThreadAndForgetsIt() {
            Thread.ofPlatform().name("leaked-worker").start(() -> {
                try {
                    NEVER.await();
                } catch (InterruptedException e) {
                    // the guard interrupts leaked threads; this one then ends
                }
            });
        }
    }

    static class Hangs {
        @Test
        void waitsForever() throws InterruptedException {
            new CountDownLatch(1).await();
        }
    }

    static class LeavesInterruptFlag {
        @Test
        @Timeout(5)
        void interruptsItself() {
            Thread.currentThread().interrupt();
        }
    }
}
