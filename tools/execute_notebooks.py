"""Executes notebooks on the Java kernel registered as `java`; a cell that fails fails the run.

Usage: execute_notebooks.py [--in-place] [NOTEBOOK...]   (default: every lesson notebook)
Without --in-place the executed copies are thrown away (make test only proves they run);
with it they are saved with their outputs (make notebooks).
"""
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CELL_TIMEOUT_S = 300     # one cell; the lessons' own timeouts are far shorter
STARTUP_TIMEOUT_S = 240  # a JVM kernel can take minutes to start on a loaded 2-core machine
ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / ".tools" / "logs"  # a JVM kernel can take over a minute on a loaded 2-core machine


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


def execute(path: Path, in_place: bool) -> str | None:
    """Returns None on success, else one line saying what failed."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="java", timeout=CELL_TIMEOUT_S,
                            startup_timeout=STARTUP_TIMEOUT_S, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    log = LOGS / f"kernel-{path.stem}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        with log.open("w") as kernel_stderr:  # the kernel logs every message it handles
            client.execute(stderr=kernel_stderr)
    except Exception as e:  # a failing cell, a timeout, or a kernel that died or never started
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
