/*
 * A corrected copy of one class of rapaio-jupyter-kernel 3.0.1, the Java kernel that
 * runs this project's notebooks. tools/lib.sh (ensure_kernel) compiles it and puts it
 * ahead of the unmodified kernel jar on the kernel's class path, so it replaces the
 * jar's class of the same name. The kernel's heartbeat, shell and control channels each
 * poll their socket in a LoopThread.
 *
 * What it fixes (the jar's source is unchanged through 3.0.4):
 *  1. The jar's start() calls super.start() and only then sets running = true, while
 *     run() is "while (running)". A new thread that checks the flag first ends its loop
 *     at once: the channel is dead though its socket is bound. With all three dead the
 *     kernel exits; with control dead, shutdown and interrupt requests are never read.
 *     Here the flag is true before the thread starts.
 *  2. The jar lets an exception in a loop body end the thread. Channels.connect binds
 *     the sockets (which starts the loops) before it registers the message handlers, so
 *     a request that arrives at once (jupyter_client and JupyterLab send
 *     kernel_info_request as soon as they connect) meets no handler map, and the
 *     NullPointerException kills the shell thread. Here the loop logs the exception and
 *     goes on; that one early request goes unanswered, and the client sends it again
 *     (both clients repeat kernel_info_request until it is answered).
 *  3. After a shutdown request the jar's kernel does not exit: its loops end, but the
 *     idle worker of the cached pool that ran the last cell is a non-daemon thread and
 *     lives on for a minute, so Jupyter kills the kernel after waiting five seconds.
 *     Here the last loop to end after shutdown() ends the JVM, with status 0.
 *
 * Delete this file, and the class path entry in tools/lib.sh, once a kernel release on
 * Maven Central sets the flag before starting the thread and registers its handlers
 * before binding (check LoopThread.start and Channels.connect); tools/kernel-soak then
 * shows whether the release starts every time on its own.
 */
package org.rapaio.jupyter.kernel.channels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

public final class LoopThread extends Thread {

    private static final Logger LOGGER = Logger.getLogger(LoopThread.class.getSimpleName());

    private static final AtomicInteger LOOPS_RUNNING = new AtomicInteger();
    private static volatile boolean shutdownRequested;

    private volatile boolean running = true;  // fix 1: set before the thread can look
    private final long sleep;
    private final Runnable loopBody;

    public LoopThread(String name, long sleep, Runnable loopBody) {
        super(name);
        this.sleep = sleep;
        this.loopBody = loopBody;
    }

    @Override
    public synchronized void start() {
        LOOPS_RUNNING.incrementAndGet();
        super.start();
    }

    @Override
    public void run() {
        try {
            loop();
        } finally {
            if (LOOPS_RUNNING.decrementAndGet() == 0 && shutdownRequested) {
                System.exit(0);  // fix 3: the kernel was asked to end, and its loops have
            }
        }
    }

    private void loop() {
        while (running) {
            try {
                loopBody.run();
            } catch (RuntimeException e) {  // fix 2: one bad message must not end the loop
                if (!running) return;       // the channel is closing: its socket is gone
                LOGGER.severe(getName() + " survived " + e);
            }
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                running = false;
                return;
            }
        }
    }

    public void shutdown() {
        shutdownRequested = true;
        running = false;
    }
}
