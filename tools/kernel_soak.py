"""Starts the Java kernel N times the way JupyterLab does, and checks every channel.

Usage: kernel_soak.py N              (tools/kernel-soak N; make test runs a short soak)

Each start sends kernel_info_request the moment the client connects, with no waiting for
log lines (as JupyterLab and jupyter_client do), then checks, in this order:
  shell      kernel_info_request answered;
  execute    a cell that starts and joins a thread prints what that thread printed;
  heartbeat  a ping on the heartbeat socket comes back;
  control    a request on the control socket is read (see java_kernel.control_answers);
  shutdown   shutdown_request on control ends the kernel by itself with status 0.
Prints a line per failed start (with its log file), then the counts; exits 1 if any failed.

Then it checks what Jupyter's interrupt does to a cell that blocks forever: the README
("Interrupting a cell") says what, and this check fails when the kernel behaves otherwise.
"""
import sys
import tempfile
import time
from pathlib import Path

from java_kernel import KernelStart

SHELL_S = 60       # generous: a second soak or a busy CI machine slows the JVM's start
STEP_S = 10        # each later check, once the kernel answers
THREAD_CELL = ('var t = new Thread(() -> System.out.println("from " + '
               'Thread.currentThread().getName()), "soak"); t.start(); t.join();')


def one_start(n: int) -> tuple[list[str], float, KernelStart]:
    """Returns (failed checks, seconds until the shell answered, the start)."""
    failed = []
    started = time.monotonic()
    with KernelStart(f"soak-{n}") as kernel:
        if not kernel.shell_answers(SHELL_S):
            return ["shell"], time.monotonic() - started, kernel
        ready = time.monotonic() - started
        status, printed = kernel.execute(THREAD_CELL, STEP_S)
        if status != "ok" or printed.strip() != "from soak":
            failed.append(f"execute ({status}, printed {printed.strip()!r})")
        if not kernel.heartbeat_answers(STEP_S):
            failed.append("heartbeat")
        if not kernel.control_answers(STEP_S):
            failed.append("control")
        if not kernel.shutdown(STEP_S):
            failed.append(f"shutdown (exit status {kernel.exit_code})")
    return failed, ready, kernel


# What README.md says the kernel does (with fix 4 of tools/kernel/LoopThread.java): the
# interrupt reaches the blocked code (its finally block runs), the cell ends with its
# reply, and the kernel goes on to run later cells.
README_SAYS = {"the blocked code was interrupted": True,
               "the interrupted cell got its reply": True,
               "a later cell ran": True}


def interrupt_probe() -> dict[str, bool]:
    with tempfile.TemporaryDirectory() as scratch, KernelStart("interrupt") as kernel:
        waiting, left, later = (Path(scratch, name) for name in ("waiting", "left", "later"))
        if not kernel.shell_answers(SHELL_S):
            raise RuntimeError(f"the kernel did not start (log: {kernel.log})")
        kernel.execute("var gate = new CountDownLatch(1);", STEP_S)
        blocked = kernel.client.execute(  # one statement: JShell runs each one separately
            f'{{ java.nio.file.Files.writeString(java.nio.file.Path.of("{waiting}"), "");'
            f'try {{ gate.await(); }} finally {{ java.nio.file.Files.writeString('
            f'java.nio.file.Path.of("{left}"), "left"); }} }}')
        deadline = time.monotonic() + STEP_S
        while not waiting.exists():  # the cell runs, and is about to block for good
            if time.monotonic() > deadline:
                raise RuntimeError("the blocking cell never started")
            time.sleep(0.05)
        kernel.interrupt()
        got_reply = False
        try:
            while not got_reply:
                reply = kernel.client.get_shell_msg(timeout=STEP_S)
                got_reply = reply["parent_header"].get("msg_id") == blocked
        except Exception:  # queue.Empty: no reply within STEP_S
            pass
        kernel.execute(f'java.nio.file.Files.writeString(java.nio.file.Path.of("{later}"), '
                       '"ran");', STEP_S)
        return {"the blocked code was interrupted": left.exists(),
                "the interrupted cell got its reply": got_reply,
                "a later cell ran": later.exists()}


def main(args: list[str]) -> int:
    if len(args) != 1 or not args[0].isdigit() or int(args[0]) < 1:
        print("usage: tools/kernel-soak N   (N kernel starts, N >= 1)", file=sys.stderr)
        return 2
    starts, bad, waits = int(args[0]), 0, []
    began = time.monotonic()
    for n in range(1, starts + 1):
        failed, ready, kernel = one_start(n)
        waits.append(ready)
        if failed:
            bad += 1
            print(f"  start {n}: {', '.join(failed)} failed (log: {kernel.log})", flush=True)
        else:
            kernel.log.unlink()
    waits.sort()
    print(f"kernel-soak: {starts - bad} of {starts} starts had shell, control and heartbeat "
          f"alive and shut down cleanly; shell answered after {waits[len(waits) // 2]:.1f} s "
          f"(median), {waits[-1]:.1f} s (slowest); {time.monotonic() - began:.0f} s in all")
    seen = interrupt_probe()
    for what, value in seen.items():
        print(f"  interrupt: {what}: {'yes' if value else 'no'}")
    if seen != README_SAYS:
        print("kernel-soak: the interrupt no longer behaves as README.md says: update its "
              "'Interrupting a cell' paragraph, and README_SAYS here")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
