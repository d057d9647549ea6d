"""Executes notebooks on the Java kernel registered as `java`; a cell that fails fails the run.

Usage: execute_notebooks.py [--in-place] [NOTEBOOK...]   (default: every lesson notebook)
Without --in-place the executed copies are thrown away (make test only proves they run),
two notebooks at a time, on a kernel JVM with C1 alone (QUICK_JVM); with it they are
saved with their outputs (make notebooks), one at a time, full JIT, so that the outputs
readers see come from a run with the machine to itself.
Each notebook gets a fresh kernel, started in the notebook's folder as Jupyter does.
"""
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from java_kernel import ROOT, KernelStart

CELL_TIMEOUT_S = 300   # one cell; the longest, benchmarking's JMH run, takes 65-120 s on 2 cores
BIND_TIMEOUT_S = 60    # the JVM's start, to its five sockets bound: slow on a busy machine
ANSWER_S = 5           # then shell and control answer within this, or the start failed
START_ATTEMPTS = 3     # with tools/kernel/LoopThread.java a failed start should not happen
# Copies thrown away (make test) come from a kernel JVM with C1 alone: the cells run in
# the kernel's own JVM, and much of its CPU time is C2 compiling JShell's javac. No cell
# there needs C2 to run or to end: the one demo that depends on the JIT tier
# (visibility's stale flag) runs in a child JVM of its own, as do JMH, Lincheck and
# jcstress, all with the full JIT. So `make notebooks`, whose outputs are committed, is
# the only run of the kernel JVM with C2, as readers run it.
QUICK_JVM = ("-XX:TieredStopAtLevel=1",)


class KernelDidNotStart(Exception):
    pass


def started_kernel(path: Path, kernel_name: str,
                   jvm_options: tuple[str, ...]) -> KernelStart:
    """A kernel whose shell and control channels both answered; else KernelDidNotStart."""
    kernel = KernelStart(f"{path.parent.parent.name}-{path.stem}", cwd=path.parent,
                         kernel_name=kernel_name, jvm_options=jvm_options)
    kernel.start()
    deadline = time.monotonic() + BIND_TIMEOUT_S
    while not kernel.bound() and time.monotonic() < deadline and kernel.manager.is_alive():
        time.sleep(0.05)
    if kernel.bound() and kernel.shell_answers(ANSWER_S) and kernel.control_answers(ANSWER_S):
        return kernel
    kernel.close()
    raise KernelDidNotStart(f"see {kernel.log}")


def execute(path: Path, jvm_options: tuple[str, ...]) -> nbformat.NotebookNode:
    """Runs every code cell of a fresh copy; raises on a failing or overlong cell."""
    nb = nbformat.read(path, as_version=4)
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            kernel = started_kernel(path, nb.metadata.kernelspec.name, jvm_options)
            break
        except KernelDidNotStart as e:
            if attempt == START_ATTEMPTS:
                raise
            print(f"  {path.name}: the kernel did not answer ({e}); starting another", flush=True)
    try:
        for n, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            reply, cell.outputs = kernel.run_cell(cell.source, CELL_TIMEOUT_S)
            cell.execution_count = reply.get("execution_count")
            if reply["status"] != "ok" or any(o.output_type == "error" for o in cell.outputs):
                error = next((o for o in cell.outputs if o.output_type == "error"), None)
                detail = f"{error.ename}: {error.evalue}" if error else reply["status"]
                raise RuntimeError(f"cell {n} failed: {detail}")
        kernel.shutdown(seconds=10)
    finally:
        kernel.close()
    kernel.log.unlink()  # kept only when something went wrong
    return nb


def coalesce_streams(nb) -> None:
    """Joins consecutive stream outputs: the kernel sends each print() piece separately."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for output in cell.outputs:
            previous = merged[-1] if merged else None
            if (previous is not None and output.output_type == "stream"
                    and previous.output_type == "stream" and previous.name == output.name):
                previous.text += output.text
            else:
                merged.append(output)
        cell.outputs = merged


def run_one(path: Path, in_place: bool) -> bool:
    """Executes one notebook, prints one line about it; True if it ran cleanly."""
    started = time.monotonic()
    try:
        nb = execute(path, () if in_place else QUICK_JVM)
    except Exception as e:  # a failing cell, a timeout, or a kernel that never answered
        print(f"  {path.name}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        ok = False
    else:
        if in_place:
            coalesce_streams(nb)
            nbformat.write(nb, path)
        ok = True
    print(f"{path.name:32} {'ok' if ok else 'FAILED':7} {time.monotonic() - started:5.1f}s",
          flush=True)
    return ok


def main(args: list[str]) -> int:
    in_place = "--in-place" in args
    # Last lesson first: the heaviest (jcstress, testing, benchmarking) sit late in the
    # list, and two workers finish together only when the long notebooks start early.
    paths = [Path(a) for a in args if a != "--in-place"] or sorted(
        (p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
         if p.name != "00_index.ipynb"), reverse=not in_place)
    with ThreadPoolExecutor(max_workers=1 if in_place else 2) as pool:
        results = list(pool.map(lambda path: run_one(path, in_place), paths))
    failures = results.count(False)
    print(f"notebooks: {len(paths) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
