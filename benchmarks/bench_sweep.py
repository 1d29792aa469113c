"""Sweep speed: mesa.batch_run against dipsim sweep, and a million-run Sobol sweep.

1. The grid of scenarios/sweeps/pressure_vs_opposition.toml (30 points) with the same
   replicate seeds at every point, run by ``mesa.batch_run`` on the project's Mesa model
   with two processes, and by ``dipsim sweep`` with two workers (batch engine), each
   called in this process; then ``dipsim sweep`` again from the command line, start-up
   included. The script checks that every run of the first ``dipsim sweep`` ends in the
   round it ends in under ``mesa.batch_run``.
2. scenarios/sweeps/sobol_preferences.toml (92 parameters) with the smallest power-of-2
   number of base samples that gives a million runs or more, run by ``dipsim sweep --workers 2`` in a child
   process: wall time, results written, and the peak memory of the whole process tree
   (parent and workers, sampled from /proc every 50 ms).

The last line is ``speedup_vs_mesa_batch_run: X``. The machine is shared: compare the
figures of one run with each other. Usage:
    python benchmarks/bench_sweep.py [--replications 400] [--million-runs 1000000 | --no-million]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

import numpy as np
import tomli_w

ROOT = Path(__file__).resolve().parents[1]
SWEEPS = ROOT / "scenarios" / "sweeps"


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def write_variant(source: Path, folder: Path, **changes) -> Path:
    data = tomllib.loads(source.read_text())
    data["scenario"] = str((source.parent / data["scenario"]).resolve())
    for key, value in changes.items():
        node = data
        *path, last = key.split(".")
        for k in path:
            node = node[k]
        node[last] = value
    out = folder / source.name
    out.write_bytes(tomli_w.dumps(data).encode())
    return out


def mesa_vs_sweep(replications: int, folder: Path) -> float:
    import mesa

    from dipsim.analysis.experiments import sweep_spec
    from dipsim.analysis.experiments.sweep import run_sweep
    from dipsim.sim import draws
    from dipsim.sim.model import NegotiationModel

    spec_file = write_variant(SWEEPS / "pressure_vs_opposition.toml", folder,
                              replications=replications, common_random_numbers=True)
    spec = sweep_spec.load(spec_file)
    pressure, opposition = spec.parameters
    base_effects = list(opposition.base)
    seeds = [int(s) for s in draws.run_seeds(spec.spec.seed, 0, np.arange(replications))]
    parameters = {
        "spec": [spec.base],
        pressure.key: list(pressure.levels),
        "parties.russia.public.effects.territory.values": [[s * b for b in base_effects] for s in opposition.levels],
    }
    runs = spec.runs
    print(f"grid: {spec.points} points x {replications} replications = {runs} runs, the same seeds at every point")

    start = time.perf_counter()
    rows = mesa.batch_run(NegotiationModel, parameters, number_processes=2, rng=seeds,
                          data_collection_period=-1, max_steps=1000, display_progress=False)
    mesa_seconds = time.perf_counter() - start
    print(f"mesa.batch_run, 2 processes: {mesa_seconds:.1f} s, {runs / mesa_seconds:,.0f} runs/s")

    start = time.perf_counter()
    summary = run_sweep(spec, folder / "grid", workers=2)
    sweep_seconds = time.perf_counter() - start
    print(f"dipsim sweep, 2 workers:     {sweep_seconds:.2f} s, {runs / sweep_seconds:,.0f} runs/s "
          f"(run_sweep in this process, like mesa.batch_run; on {summary.played_on})")

    # the same sweep from the command line: a new process that imports Python, pyarrow
    # and numba and loads the compiled engine before it plays
    cmd = [str(Path(sys.executable).parent / "dipsim"), "sweep", str(spec_file), "--out", str(folder / "grid_cli"),
           "--workers", "2"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    cli_seconds = time.perf_counter() - start
    print(f"dipsim sweep from the command line, 2 workers: {cli_seconds:.2f} s with start-up")
    print(f"speedup_from_the_command_line: {mesa_seconds / cli_seconds:.1f}")

    import pyarrow.parquet as pq

    ours = pq.read_table(folder / "grid" / "runs").to_pandas()
    ours["scale"] = ours[opposition.key]
    # what each run's last round shows: when it ended, how (offer, accept or walk away),
    # and the package each side had standing
    ends = {(round(r[pressure.key], 6), round(r["scale"], 6), int(r["seed"])): (int(r["end_round"]), bool(r["treaty"]))
            for _, r in ours.iterrows()}
    same = 0
    for row in rows:
        scale = row["parties.russia.public.effects.territory.values"][1] / base_effects[1] if base_effects[1] else 0.0
        key = (round(row[pressure.key], 6), round(scale, 6), int(row["rng"]))
        end_round, treaty = ends[key]
        accepted = row["action"] == "accept"
        same += end_round == row["round"] and (not treaty or accepted)
    print(f"runs ending alike in both (round, and an acceptance wherever the sweep has a treaty): {same} of {len(rows)}")
    return mesa_seconds / sweep_seconds


def million(target_runs: int, folder: Path) -> None:
    source = SWEEPS / "sobol_preferences.toml"
    parameters = 92
    per_point = parameters + 2                     # second_order = false
    base = 2
    while base * per_point < target_runs:          # Saltelli's N: a power of 2
        base *= 2
    reps = 1
    spec_file = write_variant(source, folder, **{"design.base_samples": base, "replications": reps})
    runs = base * per_point * reps
    out = folder / "sobol"
    cmd = [str(Path(sys.executable).parent / "dipsim"), "sweep", str(spec_file), "--out", str(out), "--workers", "2"]
    print(f"sobol: {parameters} parameters, N = {base}, {reps} replications = {runs:,} runs")
    peak, done = 0, False
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)

    def sample():
        nonlocal peak
        while not done:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    seconds = time.perf_counter() - start
    done = True
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"the sweep failed ({proc.returncode}): {output}")
    size = sum(p.stat().st_size for p in (out / "runs").glob("*.parquet"))
    print(f"sobol sweep, 2 workers: {seconds:.1f} s wall ({runs / seconds:,.0f} runs/s), "
          f"{size / 2**20:.0f} MiB of Parquet written")
    print(f"sobol_million_seconds: {seconds * 1_000_000 / runs:.1f}   (scaled to 1,000,000 runs)")
    print(f"sobol_peak_memory_mib: {peak / 2**20:.0f}   (parent and workers together)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=400,
                        help="per grid point (30 points)")
    parser.add_argument("--million-runs", type=int, default=1_000_000)
    parser.add_argument("--no-million", action="store_true", help="skip the Sobol sweep")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dipsim-bench-"))
    try:
        if not args.no_million:
            million(args.million_runs, folder)
        ratio = mesa_vs_sweep(args.replications, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"speedup_vs_mesa_batch_run: {ratio:.1f}")


if __name__ == "__main__":
    main()
