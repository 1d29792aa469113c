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
3. With ``--pools`` (and then only this): the same Sobol' sweep from the command line with one worker, two
   threads and two worker processes (runs/s, start-up included); the costs that
   analysis.experiments.sweep.choose_pool rests on, measured here (a run's time on one
   core, the share of it that holds Python's lock, a worker process's start-up); and
   what those costs predict for more cores. The predictions are the rule's arithmetic,
   not measurements: this machine has two cores.

The last line is ``speedup_vs_mesa_batch_run: X``. The machine is shared: compare the
figures of one run with each other. Usage:
    python benchmarks/bench_sweep.py [--replications 400] [--million-runs 1000000 | --no-million]
                                     [--pools [--pool-runs 1000000]]
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

    spec_file = write_variant(
        SWEEPS / "pressure_vs_opposition.toml", folder, replications=replications, common_random_numbers=True
    )
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
    rows = mesa.batch_run(
        NegotiationModel,
        parameters,
        number_processes=2,
        rng=seeds,
        data_collection_period=-1,
        max_steps=1000,
        display_progress=False,
    )
    mesa_seconds = time.perf_counter() - start
    print(f"mesa.batch_run, 2 processes: {mesa_seconds:.1f} s, {runs / mesa_seconds:,.0f} runs/s")

    start = time.perf_counter()
    summary = run_sweep(spec, folder / "grid", workers=2)
    sweep_seconds = time.perf_counter() - start
    print(
        f"dipsim sweep, 2 workers:     {sweep_seconds:.2f} s, {runs / sweep_seconds:,.0f} runs/s "
        f"(run_sweep in this process, like mesa.batch_run; on {summary.played_on})"
    )

    # the same sweep from the command line: a new process that imports Python, pyarrow
    # and numba and loads the compiled engine before it plays
    cmd = [
        str(Path(sys.executable).parent / "dipsim"),
        "sweep",
        str(spec_file),
        "--out",
        str(folder / "grid_cli"),
        "--workers",
        "2",
    ]
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
    ends = {
        (round(r[pressure.key], 6), round(r["scale"], 6), int(r["seed"])): (int(r["end_round"]), bool(r["treaty"]))
        for _, r in ours.iterrows()
    }
    same = 0
    for row in rows:
        scale = row["parties.russia.public.effects.territory.values"][1] / base_effects[1] if base_effects[1] else 0.0
        key = (round(row[pressure.key], 6), round(scale, 6), int(row["rng"]))
        end_round, treaty = ends[key]
        accepted = row["action"] == "accept"
        same += end_round == row["round"] and (not treaty or accepted)
    print(
        f"runs ending alike in both (round, and an acceptance wherever the sweep has a treaty): {same} of {len(rows)}"
    )
    return mesa_seconds / sweep_seconds


def sobol_variant(target_runs: int, folder: Path) -> tuple[Path, int]:
    """sobol_preferences.toml with the smallest power-of-2 number of base samples that
    gives ``target_runs`` runs or more; the file and its number of runs."""
    parameters = 92
    per_point = parameters + 2  # second_order = false
    base = 2
    while base * per_point < target_runs:  # Saltelli's N: a power of 2
        base *= 2
    spec_file = write_variant(
        SWEEPS / "sobol_preferences.toml", folder, **{"design.base_samples": base, "replications": 1}
    )
    print(f"sobol: {parameters} parameters, N = {base}, 1 replication = {base * per_point:,} runs")
    return spec_file, base * per_point


def million(target_runs: int, folder: Path) -> None:
    spec_file, runs = sobol_variant(target_runs, folder)
    out = folder / "sobol"
    cmd = [str(Path(sys.executable).parent / "dipsim"), "sweep", str(spec_file), "--out", str(out), "--workers", "2"]
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
    print(
        f"sobol sweep, 2 workers: {seconds:.1f} s wall ({runs / seconds:,.0f} runs/s), "
        f"{size / 2**20:.0f} MiB of Parquet written"
    )
    print(f"sobol_million_seconds: {seconds * 1_000_000 / runs:.1f}   (scaled to 1,000,000 runs)")
    print(f"sobol_peak_memory_mib: {peak / 2**20:.0f}   (parent and workers together)")


def pools(target_runs: int, folder: Path) -> None:
    import re

    from dipsim.analysis.experiments import sweep as sweep_mod

    spec_file, runs = sobol_variant(target_runs, folder)
    dipsim = str(Path(sys.executable).parent / "dipsim")
    for label, options in (
        ("1 worker (this process)", ["--workers", "1"]),
        ("2 threads", ["--workers", "2", "--pool", "threads"]),
        ("2 worker processes", ["--workers", "2", "--pool", "processes"]),
    ):
        out = folder / "pool"
        start = time.perf_counter()
        done = subprocess.run(
            [dipsim, "sweep", str(spec_file), "--out", str(out), *options],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        seconds = time.perf_counter() - start
        played = float(re.search(r"runs in ([0-9.]+) s", done.stdout).group(1))
        print(
            f"  {label:24s} {runs / seconds:9,.0f} runs/s from the command line ({seconds:.1f} s); "
            f"{runs / played:9,.0f} runs/s playing ({played:.1f} s)"
        )
        shutil.rmtree(out)

    run_seconds, python_share = run_costs(spec_file, folder)
    start_seconds = process_start(spec_file)
    print(
        f"measured here: a run {run_seconds * 1e6:.1f} us on one core, {python_share:.0%} of it holding Python's lock; "
        f"a worker process starts in {start_seconds:.2f} s"
    )
    print(
        f"the rule's constants: {sweep_mod.RUN_SECONDS * 1e6:.1f} us, {sweep_mod.PYTHON_SHARE:.0%}, "
        f"{sweep_mod.PROCESS_START_SECONDS:.2f} s"
    )
    print(
        f"predicted by the rule's constants (not measured: this machine has {os.cpu_count()} cores), "
        f"{runs:,} runs, one worker per core:"
    )
    for cores in (1, 2, 4, 8, 16, 64):
        threads = sweep_mod.predicted_seconds("threads", cores, runs)
        processes = sweep_mod.predicted_seconds("processes", cores, runs)
        print(
            f"  {cores:3d} cores: threads {runs / threads:10,.0f} runs/s, processes {runs / processes:10,.0f} runs/s"
            f" -> auto: {sweep_mod.choose_pool(cores, runs, cores)}"
        )
    print(
        "auto chooses processes from (runs to play): "
        + ", ".join(
            f"{w} workers {crossover(w):,}" if crossover(w) else f"{w} workers never" for w in (2, 3, 4, 8, 16, 64)
        )
    )


def crossover(workers: int) -> int | None:
    """The fewest runs for which choose_pool picks processes with ``workers`` cores."""
    from dipsim.analysis.experiments.sweep import choose_pool

    if choose_pool(workers, 10**12, workers) == "threads":
        return None
    low, high = 1, 10**12
    while low < high:
        mid = (low + high) // 2
        low, high = (mid + 1, high) if choose_pool(workers, mid, workers) == "threads" else (low, mid)
    return low


def run_costs(spec_file: Path, folder: Path, chunks: int = 20) -> tuple[float, float]:
    """A sweep run's time on one core, all of it (its design row, the negotiation, its
    Arrow row, its share of a Parquet part), and the share of it that holds Python's
    lock: all but the compiled negotiation and the Parquet writer, which release it.
    Some chunks played in this process as a worker plays them."""
    import pyarrow.parquet as pq

    from dipsim.analysis.experiments import sweep_spec
    from dipsim.analysis.experiments.design import Design
    from dipsim.analysis.experiments.sweep import PARTS, chunk_points, chunk_size, play_part
    from dipsim.sim import protocol

    spec = sweep_spec.load(spec_file)
    size, design, out = chunk_size(spec, 2), Design(spec), folder / "costs"
    (out / PARTS).mkdir(parents=True)
    released = [0.0]

    def timed(real):
        def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                released[0] += time.perf_counter() - start

        return call

    def chunk(i: int) -> None:
        a, b = i * size, (i + 1) * size
        play_part(spec, out, i, a, b, design.base_rows(chunk_points(spec, a, b)))

    chunk(0)  # load the engine
    play, write = protocol.play, pq.write_table
    protocol.play, pq.write_table = timed(play), timed(write)
    try:
        start = time.perf_counter()
        for i in range(1, chunks + 1):
            chunk(i)
        total = time.perf_counter() - start
    finally:
        protocol.play, pq.write_table = play, write
    shutil.rmtree(out)
    return total / (chunks * size), 1 - released[0] / total


def process_start(spec_file: Path, repeat: int = 3) -> float:
    """Seconds for a new worker process to be ready to play (spawned, the engine loaded)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from dipsim.analysis.experiments import sweep_spec
    from dipsim.analysis.experiments.sweep import warm_up

    spec = sweep_spec.load(spec_file)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            pool.submit(warm_up, spec).result()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=400, help="per grid point (30 points)")
    parser.add_argument("--million-runs", type=int, default=1_000_000)
    parser.add_argument("--no-million", action="store_true", help="skip the Sobol sweep")
    parser.add_argument("--pools", action="store_true", help="compare threads and worker processes")
    parser.add_argument("--pool-runs", type=int, default=1_000_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dipsim-bench-"))
    try:
        if args.pools:
            pools(args.pool_runs, folder)
            return
        if not args.no_million:
            million(args.million_runs, folder)
        ratio = mesa_vs_sweep(args.replications, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"speedup_vs_mesa_batch_run: {ratio:.1f}")


if __name__ == "__main__":
    main()
