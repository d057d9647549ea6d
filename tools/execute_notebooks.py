"""Executes notebooks on the Java kernel registered as `java`; a cell that fails fails the run.

Usage: execute_notebooks.py [--in-place] [NOTEBOOK...]   (default: every lesson notebook)
Without --in-place the executed copies are thrown away (make test only proves they run);
with it they are saved with their outputs (make notebooks).
"""
import asyncio
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CELL_TIMEOUT_S = 300     # one cell; the lessons' own timeouts are far shorter
STARTUP_TIMEOUT_S = 60   # one start attempt; an idle machine needs a few seconds
READY_AFTER_BIND_S = 20  # a healthy kernel answers within a second of binding
START_ATTEMPTS = 8  # about one start in four fails; eight in a row is vanishingly rare
ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / ".tools" / "logs"


def coalesce_streams(nb) -> None:
    """Joins consecutive stream outputs: the kernel sends each print() piece separately."""
    for cell in nb.cells:
        merged = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (previous is not None and output.get("output_type") == "stream"
                    and previous.get("output_type") == "stream"
                    and previous.get("name") == output.get("name")):
                previous["text"] += output["text"]
            else:
                merged.append(output)
        if cell.cell_type == "code":
            cell.outputs = merged


class JavaKernelClient(NotebookClient):
    """Starts rapaio-jupyter-kernel 3.0.1, whose start-up sometimes goes wrong.

    About one start in four, on this project's machines, the kernel binds its five
    sockets and then never answers on its shell socket, or dies right after binding
    (and a request that arrives before its handlers are registered kills its shell
    thread: NPE in Channels.getHandler). A healthy kernel answers within a second of binding. So:
    wait until its log shows all five sockets bound, give it a moment, then allow it
    READY_AFTER_BIND_S to answer; if it does not, the caller starts a fresh kernel.
    """
    kernel_log: Path

    async def async_start_new_kernel_client(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.kernel_log.read_text(errors="replace").count("Binding") >= 5:
                self.startup_timeout = READY_AFTER_BIND_S
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        return await super().async_start_new_kernel_client()


def run_kernel(path: Path) -> nbformat.NotebookNode:
    """Executes a fresh copy of the notebook; raises on a failing cell or a dead kernel."""
    nb = nbformat.read(path, as_version=4)
    client = JavaKernelClient(nb, kernel_name="java", timeout=CELL_TIMEOUT_S,
                              startup_timeout=STARTUP_TIMEOUT_S, record_timing=False,
                              resources={"metadata": {"path": str(path.parent)}})
    client.kernel_log = LOGS / f"kernel-{path.parent.parent.name}-{path.stem}-{time.time_ns()}.log"
    client.kernel_log.parent.mkdir(parents=True, exist_ok=True)
    with client.kernel_log.open("w") as kernel_stderr:  # the kernel logs each message
        client.execute(stderr=kernel_stderr)
    return nb


def execute(path: Path, in_place: bool) -> str | None:
    """Returns None on success, else one line saying what failed."""
    try:
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                nb = run_kernel(path)
                break
            except RuntimeError as e:
                # No cell ran: the kernel never answered (see JavaKernelClient).
                # Start it afresh; a failing cell is never retried.
                start_failure = ("Kernel didn't respond" in str(e)
                                 or "Kernel died before replying" in str(e))
                if not start_failure or attempt == START_ATTEMPTS:
                    raise
                print(f"  {path.name}: the kernel did not start; starting it again", flush=True)
    except Exception as e:  # a failing cell, a timeout, or a kernel that died
        summary = str(e).strip().splitlines()
        return f"{path.name}: {type(e).__name__}: {summary[-1] if summary else ''}"
    for n, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"{path.name}: cell {n} raised {output.get('ename')}"
    if in_place:
        coalesce_streams(nb)
        nbformat.write(nb, path)
    return None


def main(args: list[str]) -> int:
    in_place = "--in-place" in args
    paths = [Path(a) for a in args if a != "--in-place"] or sorted(
        p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if p.name != "00_index.ipynb")
    failures = 0
    for path in paths:
        started = time.monotonic()
        failure = execute(path, in_place)
        status = "ok" if failure is None else "FAILED"
        print(f"{path.name:32} {status:7} {time.monotonic() - started:5.1f}s", flush=True)
        if failure:
            failures += 1
            print(f"  {failure}", file=sys.stderr)
    print(f"notebooks: {len(paths) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
