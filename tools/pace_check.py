"""Runs lessons through JBang at one --speed and reports, for each, its exit status, how
long it took and its longest silence (the most time with nothing printed): an audience
should never wait more than a few seconds for the next line, more only in proportion
when the speaker slows a lesson down (a one-second pause at --speed 0.1 lasts 10 s).

Usage: tools/pace-check SPEED [lesson...]   (default: every lesson in lessons.txt)
Exits 1 if a lesson fails, runs past --limit, or stays silent longer than --max-silence
seconds (default 5) divided by SPEED when SPEED is below 1.
"""
import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lessons import ROOT, lessons  # noqa: E402

JBANG = os.environ["JBANG"]  # set by tools/pace-check (lib.sh's jbang_cmd)


def run(slug: str, speed: str, limit: float) -> tuple[str, float, float]:
    """(status, seconds, longest silence in seconds) of one run, as a speaker runs it."""
    started = last = time.monotonic()
    longest = 0.0
    # A session of its own: on timeout the lesson and every JVM it started are killed.
    proc = subprocess.Popen([JBANG, str(ROOT / "jbang-scripts" / f"{slug}.java"),
                             "--speed", speed], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    timer = threading.Timer(limit, os.killpg, (proc.pid, signal.SIGKILL))
    timer.daemon = True
    timer.start()
    try:
        while os.read(proc.stdout.fileno(), 4096):  # any output, a dot too, ends a silence
            now = time.monotonic()
            longest, last = max(longest, now - last), now
        proc.wait()
    finally:
        timer.cancel()
    longest = max(longest, time.monotonic() - last)
    elapsed = time.monotonic() - started
    status = "ok" if proc.returncode == 0 else (
        "TIMEOUT" if elapsed >= limit else f"FAILED ({proc.returncode})")
    return status, elapsed, longest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("speed", type=float)
    parser.add_argument("lessons", nargs="*")
    parser.add_argument("--max-silence", type=float, default=5, help="seconds at speed 1")
    parser.add_argument("--limit", type=float, default=900, help="seconds per lesson")
    args = parser.parse_args()
    allowed = args.max_silence / min(args.speed, 1)
    print(f"{'lesson':24} {'status':12} {'seconds':>8} {'longest silence':>16}"
          f"   (allowed: {allowed:.0f} s)")
    bad = 0
    for slug in args.lessons or [lesson.slug for lesson in lessons()]:
        status, seconds, silence = run(slug, str(args.speed), args.limit)
        flag = "" if silence <= allowed else "  <- too long"
        bad += status != "ok" or bool(flag)
        print(f"{slug:24} {status:12} {seconds:8.1f} {silence:15.1f}s{flag}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
