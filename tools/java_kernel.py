"""The Java kernel (rapaio-jupyter-kernel, registered as `java` by tools/lib.sh), as the
notebook executor and the soak test start and probe it.

The kernel logs every message it handles to its standard error, which we keep in a file
per start under .tools/logs/. Its control channel sends its replies on the shell socket
(all but interrupt_reply: see tools/kernel/LoopThread.java), so the proof that a loop
handled a request is the "idle" status the kernel publishes for it on iopub.
"""
import gc
import queue
import time
from pathlib import Path

import nbformat
import zmq
import zmq.asyncio
from jupyter_client import KernelManager

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / ".tools" / "logs"
CHANNELS = ("Shell", "Control", "Heartbeat", "IOPub", "Stdin")


class KernelStart:
    """One kernel process with its client and its log; a context manager that always
    shuts it down (cleanly if it can, else by force) and closes every socket."""

    def __init__(self, label: str, cwd: Path = ROOT, kernel_name: str = "java",
                 jvm_options: tuple[str, ...] = ()):
        LOGS.mkdir(parents=True, exist_ok=True)
        self.cwd = cwd
        self.log = LOGS / f"kernel-{label}-{time.time_ns()}.log"
        self.manager = KernelManager(kernel_name=kernel_name)
        argv = self.manager.kernel_spec.argv  # this manager's copy: kernel.json is untouched
        argv[1:1] = jvm_options
        self.client = None
        self.exit_code = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *_):
        self.close()

    def start(self) -> "KernelStart":
        with self.log.open("w") as stderr:  # the kernel keeps its own copy of the handle
            self.manager.start_kernel(stderr=stderr, cwd=str(self.cwd))
        # Our own zmq context, closed by close(): a client left to close its own at
        # interpreter exit prints "Exception ignored in ... __del__" tracebacks.
        self.context = zmq.asyncio.Context()
        self.client = self.manager.client(context=self.context)
        self.client.start_channels()
        return self

    def close(self) -> None:
        try:
            if self.manager.is_alive():
                self.manager.shutdown_kernel(now=True)  # kills it
        finally:
            self.client.stop_channels()
            self.manager.cleanup_resources()
            self.context.destroy(linger=0)
            self.client = None  # collected now, not at interpreter exit (see start)
            gc.collect()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def bound(self) -> bool:
        """Whether the kernel has bound all five sockets (its log says so)."""
        text = self.log_text()
        return all(f"[{c}Channel]: Binding" in text for c in CHANNELS)

    def shell_answers(self, seconds: float) -> bool:
        """Sends kernel_info_request at once and again each second, as JupyterLab does,
        until one is answered; then one more, and waits until it is handled: the shell
        loop handles its requests in turn, so it is then idle (see control_answers)."""
        try:
            self.client.wait_for_ready(timeout=seconds)
        except RuntimeError:
            return False
        return self._handled(self.client.shell_channel, seconds)

    def control_answers(self, seconds: float) -> bool:
        """Sends kernel_info_request on control; True once the control loop has handled it.
        The kernel keeps one "current request" for its shell and control loops together:
        a request on one loop while the other is busy can get the other's replies (a cell
        got this probe's kernel_info reply as its own). So call this only while the shell
        loop is idle, as it is after shell_answers or a cell's reply."""
        return self._handled(self.client.control_channel, seconds)

    def _handled(self, channel, seconds: float) -> bool:
        """Sends kernel_info_request on `channel`; True once the kernel has published
        "idle" for it, the last thing its loop does with a request."""
        request = self.client.session.msg("kernel_info_request")
        channel.send(request)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                msg = self.client.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if (msg["parent_header"].get("msg_id") == request["header"]["msg_id"]
                    and msg["msg_type"] == "status"
                    and msg["content"]["execution_state"] == "idle"):
                return True
        return False

    def heartbeat_answers(self, seconds: float) -> bool:
        """A ping on the heartbeat socket must come back unchanged."""
        info = self.manager.get_connection_info()
        socket = zmq.Context.instance().socket(zmq.REQ)
        socket.setsockopt(zmq.LINGER, 0)
        try:
            socket.connect(f"{info['transport']}://{info['ip']}:{info['hb_port']}")
            socket.send(b"ping")
            return bool(socket.poll(int(seconds * 1000))) and socket.recv() == b"ping"
        finally:
            socket.close()

    def run_cell(self, code: str, seconds: float) -> tuple[dict, list]:
        """Runs one cell; returns its execute_reply content and its outputs as notebook
        outputs. Raises TimeoutError if the cell has not finished within `seconds`."""
        msg_id = self.client.execute(code, allow_stdin=False)
        deadline = time.monotonic() + seconds
        outputs = []

        def next_message(get):
            left = deadline - time.monotonic()
            try:
                return get(timeout=max(0.01, left))
            except queue.Empty:
                raise TimeoutError(f"the cell did not finish within {seconds:.0f} s") from None

        while True:
            msg = next_message(self.client.get_iopub_msg)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind in ("stream", "display_data", "execute_result", "error"):
                outputs.append(nbformat.v4.output_from_msg(msg))
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                break
        while True:
            reply = next_message(self.client.get_shell_msg)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"], outputs

    def execute(self, code: str, seconds: float) -> tuple[str, str]:
        """Runs one cell; returns (reply status, what it printed on standard output)."""
        reply, outputs = self.run_cell(code, seconds)
        printed = "".join(o.get("text", "") for o in outputs
                          if o.output_type == "stream" and o.name == "stdout")
        return reply["status"], printed

    def shutdown(self, seconds: float) -> bool:
        """Sends shutdown_request on control; True if the kernel then ended by itself
        with status 0 within `seconds` (close() kills it otherwise)."""
        self.manager.request_shutdown()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            code = self.manager.provisioner.process.poll()
            if code is not None:
                self.exit_code = code
                return code == 0
            time.sleep(0.05)
        return False

    def interrupt(self) -> None:
        """Jupyter's interrupt: with interrupt_mode "message", an interrupt_request on control."""
        self.manager.interrupt_kernel()
