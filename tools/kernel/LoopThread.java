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
 *  4. Jupyter's interrupt (interrupt_request on control) left the kernel unusable: the
 *     jar's JavaEngine.interrupt() cancels the running snippet but then calls
 *     RapaioExecutionControl.stop() (directly and through JShell.stop()), which shuts its
 *     executor down for good; each later cell is rejected by it, and JShell's Eval
 *     swallows that (an InternalException) as an "ok" cell that ran nothing. And the
 *     control loop sets Channels' one message id (shared with the shell loop) to the
 *     interrupt's and runs the shell's pending after-actions, so the interrupted cell's
 *     execute_reply goes out as a reply to the interrupt_request, which no client waits
 *     for (and the jar sends its interrupt_reply on the shell socket, not on control).
 *     Here the control loop reads its socket itself and answers interrupt_request on
 *     its own: RapaioExecutionControl.interrupt() alone (Future.cancel(true) on the
 *     running snippet: its thread is interrupted and the cell ends with an
 *     EvaluationInterruptedException reply), then interrupt_reply on the control socket,
 *     touching neither the message id nor the after-actions; it publishes no busy and
 *     idle status for the interrupt (the jar did; Jupyter's clients do not wait for
 *     them). Other control requests run as in the jar. It reaches three private fields of
 *     the jar (Channels.control, JavaEngine.controlProvider and executionId); without
 *     them it keeps the jar's loop.
 *
 * Delete this file, and the class path entry in tools/lib.sh, once a kernel release on
 * Maven Central sets the flag before starting the thread, registers its handlers
 * before binding (check LoopThread.start and Channels.connect) and interrupts without
 * stopping (JavaEngine.interrupt, RapaioKernel.handleInterruptRequest,
 * ControlChannel.bind); tools/kernel-soak then shows
 * whether the release starts, and survives an interrupt, every time on its own.
 */
package org.rapaio.jupyter.kernel.channels;

import java.lang.reflect.Field;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

import org.rapaio.jupyter.kernel.MainApp;
import org.rapaio.jupyter.kernel.core.java.JavaEngine;
import org.rapaio.jupyter.kernel.core.java.RapaioExecutionControl;
import org.rapaio.jupyter.kernel.core.java.RapaioExecutionControlProvider;
import org.rapaio.jupyter.kernel.message.Message;
import org.rapaio.jupyter.kernel.message.MessageType;
import org.rapaio.jupyter.kernel.message.messages.ControlInterruptReply;
import org.rapaio.org.zeromq.ZMQ;  // the jar relocates jeromq

public final class LoopThread extends Thread {

    private static final Logger LOGGER = Logger.getLogger(LoopThread.class.getSimpleName());

    private static final AtomicInteger LOOPS_RUNNING = new AtomicInteger();
    private static volatile boolean shutdownRequested;

    private static final Logger CONTROL_LOG =
            Logger.getLogger(ControlChannel.class.getSimpleName());  // as the jar logs

    private volatile boolean running = true;  // fix 1: set before the thread can look
    private final long sleep;
    private final Runnable loopBody;

    // fix 4, for the control channel's loop only (each is used by its thread alone)
    private final Runnable jarBody;           // runs if the jar's fields are missing
    private boolean useJarControl;
    private Channels channels;
    private ControlChannel control;
    private ZMQ.Poller poller;
    private RapaioExecutionControl execution;

    public LoopThread(String name, long sleep, Runnable loopBody) {
        super(name);
        this.sleep = sleep;
        this.jarBody = loopBody;
        // fix 4: the control channel's loop (a lambda in ControlChannel.bind, so a
        // nestmate of ControlChannel) gives way to controlStep, which answers
        // interrupt_request itself
        this.loopBody = loopBody.getClass().getNestHost() == ControlChannel.class
                ? this::controlStep : loopBody;
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

    // Fix 4: the control channel's loop body. Only this thread uses the control socket.

    private void controlStep() {
        if (useJarControl) {
            jarBody.run();
            return;
        }
        if (control == null) {  // once, when the kernel has connected
            Channels channels = MainApp.kernel.channels();
            if (channels == null || !handlersRegistered(channels)) {
                return;  // Channels.connect binds first: requests wait in the socket
            }
            if (!resolveControl(channels)) {
                useJarControl = true;
                return;
            }
        }
        if (poller.poll(0) <= 0) {
            return;
        }
        Message<?> message = control.readMessage();
        if (message == null) {
            return;  // the channel is closed
        }
        var type = message.header().type();
        if (type == MessageType.CONTROL_INTERRUPT_REQUEST) {
            CONTROL_LOG.info(control.logPrefix + "Handling message: " + type.name());
            execution.interrupt();  // cancels the running snippet; stops nothing
            control.sendMessage(new Message<>(message.getId(),
                    MessageType.CONTROL_INTERRUPT_REPLY, new ControlInterruptReply()));
            return;
        }
        handleAsTheJarDoes(message);
    }

    /** What the jar's loop (ControlChannel.bind) does with a control request. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private void handleAsTheJarDoes(Message<?> message) {
        var type = message.header().type();
        MessageHandler handler = channels.getHandler(type);
        if (handler == null) {
            CONTROL_LOG.severe(control.logPrefix + "Unhandled message: " + type.name());
            return;
        }
        CONTROL_LOG.info(control.logPrefix + "Handling message: " + type.name());
        channels.setMsgId(message.getId());
        try {
            handler.handle(message);
        } catch (Exception e) {
            CONTROL_LOG.severe(control.logPrefix + "Exception handling " + type.name() + ". "
                    + e.getClass().getSimpleName() + ": " + e.getLocalizedMessage());
        } finally {
            channels.runAfterActions();
        }
        if (channels.isMarkedForShutdown()) {
            CONTROL_LOG.info(getName() + " shutting down connection marked for shutdown.");
            channels.close();
        }
    }

    private static boolean handlersRegistered(Channels channels) {
        try {
            // the last one Channels.connect puts in its (plain, unguarded) map
            return channels.getHandler(MessageType.SHELL_COMM_INFO_REQUEST) != null;
        } catch (NullPointerException e) {  // Channels.handlers is not set yet
            return false;
        }
    }

    private boolean resolveControl(Channels channels) {
        try {
            JavaEngine engine = MainApp.kernel.javaEngine();
            var provider = (RapaioExecutionControlProvider)
                    field(JavaEngine.class, "controlProvider").get(engine);
            var executionId = (String) field(JavaEngine.class, "executionId").get(engine);
            execution = provider.getRegisteredControl(executionId);
            var channel = (ControlChannel) field(Channels.class, "control").get(channels);
            if (execution == null || channel == null) {
                throw new IllegalStateException("no execution control or control channel");
            }
            poller = channel.ctx.poller(1);
            poller.register(channel.socket, ZMQ.Poller.POLLIN);
            this.channels = channels;
            control = channel;  // last: from now on, controlStep reads the socket
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            CONTROL_LOG.severe("LoopThread keeps the jar's control loop (an interrupt leaves "
                    + "the kernel unusable): " + e);
            return false;
        }
    }

    private static Field field(Class<?> owner, String name) throws NoSuchFieldException {
        Field field = owner.getDeclaredField(name);
        field.setAccessible(true);
        return field;
    }
}
