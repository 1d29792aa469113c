"""Peak memory and time of `dipsim run` as --runs grows.

Runs ``dipsim run baseline --runs N`` in a child process for each N and prints its wall
time, its peak resident memory (the kernel's own figure for that child, from
os.wait4) and the size of what it wrote. The output folder is a temporary one, removed
afterwards. Usage:
    python benchmarks/bench_memory.py [--runs 200000 2000000] [--scenario baseline]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIPSIM = str(Path(sys.executable).parent / "dipsim")


def measure(scenario: str, runs: int, folder: Path) -> tuple[float, int, int]:
    """(seconds, peak resident bytes, bytes written) of one `dipsim run`."""
    out = folder / f"run-{runs}"
    cmd = [DIPSIM, "run", scenario, "--runs", str(runs), "--out", str(out)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not the largest so far
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"dipsim run --runs {runs} failed ({proc.returncode}): {proc.stderr.read().decode()}")
    written = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    shutil.rmtree(out)
    return seconds, usage.ru_maxrss * 1024, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[200_000, 2_000_000])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temporary folder)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dipsim-bench-memory-", dir=args.dir))
    try:
        for runs in args.runs:
            seconds, peak, written = measure(args.scenario, runs, folder)
            print(
                f"dipsim run {args.scenario} --runs {runs:,}: {seconds:.1f} s ({runs / seconds:,.0f} runs/s), "
                f"peak resident memory {peak / 2**20:,.0f} MiB, {written / 2**20:,.0f} MiB written"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
