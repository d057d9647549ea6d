"""Runs lessons at one --speed and reports, for each, its exit status, how long it took
and its longest silence (the most time with nothing printed): a speaker's audience
should never wait more than a few seconds for the next line.

Usage: tools/pace-check SPEED [lesson...]   (default: every lesson in lessons.txt)
Exits 1 if a lesson fails, runs past its limit, or is silent longer than --max-silence
seconds (default 10). Each lesson is compiled once, as JBang would, then run bare.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lessons import ROOT, lessons  # noqa: E402

JAVA_HOME = Path(os.environ["JAVA_HOME"])  # set by tools/pace-check (lib.sh)


def classpath_for(slug: str, scratch: Path) -> str:
    """The lesson compiled into `scratch/slug`, with its //DEPS from JBang if it has any."""
    script = ROOT / "jbang-scripts" / f"{slug}.java"
    deps = ""
    if "\n//DEPS" in script.read_text(encoding="utf-8"):
        deps = subprocess.run([str(ROOT / "tools/bin/jbang"), "info", "classpath",
                               "--deps-only", "--quiet", str(script)], check=True,
                              capture_output=True, text=True).stdout.strip()
    out = scratch / slug
    options = [o for line in script.read_text(encoding="utf-8").splitlines()
               if line.startswith("//COMPILE_OPTIONS ") for o in line.split()[1:]]
    subprocess.run([str(JAVA_HOME / "bin/javac"), "-d", str(out), "--release", "25",
                    "--enable-preview", "-nowarn", *options, "-cp", deps, str(script)],
                   check=True, capture_output=True)
    return f"{out}{os.pathsep}{deps}" if deps else str(out)


def run(slug: str, classpath: str, speed: str, limit: float) -> tuple[str, float, float]:
    """(status, seconds, longest silence in seconds) of one run."""
    main = slug
    for line in (ROOT / "jbang-scripts" / f"{slug}.java").read_text().splitlines():
        if line.startswith("package "):
            main = line[8:line.index(";")].strip() + "." + slug
    started = last = time.monotonic()
    longest = 0.0
    proc = subprocess.Popen([str(JAVA_HOME / "bin/java"), "--enable-preview",
                             "--sun-misc-unsafe-memory-access=allow",
                             "-XX:+EnableDynamicAgentLoading", "-cp", classpath, main,
                             "--speed", speed], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=ROOT)
    timer = threading.Timer(limit, proc.kill)
    timer.start()
    while os.read(proc.stdout.fileno(), 4096):  # any output, a dot too, ends a silence
        now = time.monotonic()
        longest, last = max(longest, now - last), now
    proc.wait()
    timer.cancel()
    longest = max(longest, time.monotonic() - last)
    elapsed = time.monotonic() - started
    status = "ok" if proc.returncode == 0 else (
        "TIMEOUT" if elapsed >= limit else f"FAILED ({proc.returncode})")
    return status, elapsed, longest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("speed")
    parser.add_argument("lessons", nargs="*")
    parser.add_argument("--max-silence", type=float, default=10)
    parser.add_argument("--limit", type=float, default=900, help="seconds per lesson")
    args = parser.parse_args()
    bad = 0
    print(f"{'lesson':24} {'status':12} {'seconds':>8} {'longest silence':>16}")
    with tempfile.TemporaryDirectory() as scratch:
        for slug in args.lessons or [l.slug for l in lessons()]:
            status, seconds, silence = run(slug, classpath_for(slug, Path(scratch)),
                                           args.speed, args.limit)
            flag = "" if silence <= args.max_silence else "  <- too long"
            bad += status != "ok" or bool(flag)
            print(f"{slug:24} {status:12} {seconds:8.1f} {silence:15.1f}s{flag}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
