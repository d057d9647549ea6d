package support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waiting on threads without sleeping: helpers in the style of the JSR166 TCK. */
public final class Threads {
    public static final Duration LONG = Duration.ofSeconds(10);

    private Threads() { }

    /**
     * Waits for the latch to open, at most {@link #LONG}; throws AssertionError if it does
     * not (a step of the test never happened). Unchecked, so it can be called from a
     * worker's lambda; an interrupt is kept (the flag set again) and reported the same way.
     */
    public static void await(CountDownLatch latch) {
        try {
            if (!latch.await(LONG.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("a latch never opened within " + LONG);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for a latch", e);
        }
    }

    /**
     * Polls until {@code t} is in one of {@code states} (e.g. WAITING: parked in wait()
     * or park(), not merely BLOCKED on the way into a monitor); throws if it ends first.
     */
    public static void awaitState(Thread t, Thread.State... states) throws TimeoutException {
        var wanted = java.util.EnumSet.copyOf(List.of(states));
        long deadline = System.nanoTime() + LONG.toNanos();
        while (!wanted.contains(t.getState())) {
            if (t.getState() == Thread.State.TERMINATED) {
                throw new IllegalStateException(t.getName() + " ended");
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(t.getName() + " never reached " + wanted
                        + "; state " + t.getState());
            }
            Thread.yield();
        }
    }

    /** Polls until {@code t} is parked, blocked on a monitor or in a timed wait. */
    public static void awaitBlocked(Thread t) throws TimeoutException {
        long deadline = System.nanoTime() + LONG.toNanos();
        while (true) {
            switch (t.getState()) {
                case BLOCKED, WAITING, TIMED_WAITING -> { return; }
                case TERMINATED -> throw new IllegalStateException(t.getName() + " ended");
                default -> { }
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(t.getName() + " never blocked; state " + t.getState());
            }
            Thread.yield();
        }
    }

    /** Joins every thread within {@link #LONG}; fails if one is still running. */
    public static void joinAll(List<Thread> threads) throws InterruptedException, TimeoutException {
        List<String> stuck = new ArrayList<>();
        for (Thread t : threads) {
            if (!t.join(LONG)) stuck.add(t.getName());
        }
        if (!stuck.isEmpty()) throw new TimeoutException("threads did not finish: " + stuck);
    }
}
