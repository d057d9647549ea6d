package support;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test that leaves a platform thread running or its own thread interrupted.
 * Registered for every test by auto-detection (see junit-platform.properties).
 *
 * <p>A thread the test started may still be finishing when the test returns, so each
 * new thread gets a grace period to end (joined, not slept on). Threads the JVM or the
 * test engine own are ignored.
 */
public final class NoLeakedThreads implements BeforeEachCallback, AfterEachCallback {
    static final long GRACE_MILLIS = 5_000;
    private static final List<String> INFRASTRUCTURE = List.of(
            "junit-", "ForkJoinPool.commonPool-worker-", "process reaper", "Attach Listener",
            "surefire-", "Common-Cleaner", "Notification Thread", "Signal Dispatcher",
            "VirtualThread-unblocker",
            // the common pool's timer (JDK 25): started by the first orTimeout,
            // completeOnTimeout, delayedExecutor or scope timeout; it lives with the JVM
            "ForkJoinPool.commonPool-delayScheduler",
            // the JDK's I/O pollers: started when a virtual thread first blocks on a socket
            "MasterPoller", "Read-Poller", "Write-Poller");
    private static final ExtensionContext.Namespace NS =
            ExtensionContext.Namespace.create(NoLeakedThreads.class);

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put("before", Set.copyOf(Thread.getAllStackTraces().keySet()));
    }

    @Override
    public void afterEach(ExtensionContext context) throws InterruptedException {
        if (Thread.interrupted()) {  // also clears the flag for the next test
            fail("the test left its thread interrupted");
        }
        @SuppressWarnings("unchecked")
        Set<Thread> before = (Set<Thread>) context.getStore(NS).get("before");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GRACE_MILLIS);
        List<String> leaked = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (before.contains(t) || isInfrastructure(t)) continue;
            long left = deadline - System.nanoTime();
            if (left > 0) t.join(TimeUnit.NANOSECONDS.toMillis(left) + 1);
            if (t.isAlive()) {
                leaked.add(t.getName() + " (" + t.getState() + ")");
                t.interrupt();  // give the next test a clean slate where it can
            }
        }
        if (!leaked.isEmpty()) {
            fail("the test left platform threads running: " + String.join(", ", leaked));
        }
    }

    private static boolean isInfrastructure(Thread t) {
        ThreadGroup group = t.getThreadGroup();  // null once the thread has ended
        if (group != null && group.getName().equals("CarrierThreads")) {
            return true;  // the virtual-thread scheduler's own, kept for the JVM's lifetime
        }
        return INFRASTRUCTURE.stream().anyMatch(t.getName()::startsWith);
    }
}
