"""Negotiations per second for the baseline in one process.

Measures, in one run of this script (the machine is shared and noisy, so compare the
figures with each other rather than across days):
  - the Mesa model, one negotiation per model (the reference engine);
  - the batch engine with the per-round record that `dipsim run` writes;
  - the batch engine with outcomes only.
The last line, ``negotiations_per_second``, is the engine `dipsim run` uses (batch,
with rounds recorded). Usage: python benchmarks/bench_run.py [--runs N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from dipsim.sim import draws, scenario
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate

ROOT = Path(__file__).resolve().parents[1]


def rate(tables: Tables, seeds: np.ndarray, engine: str, rounds: bool, repeat: int) -> float:
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        simulate(tables, seeds, engine=engine, rounds=rounds)
        best = max(best, seeds.size / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000, help="runs for the batch engine")
    parser.add_argument("--mesa-runs", type=int, default=300, help="runs for the Mesa model")
    args = parser.parse_args()
    base = scenario.load(ROOT / "scenarios" / "baseline.toml")
    tables = Tables.from_scenarios([base])
    seeds = draws.run_seeds(base.run.seed, 0, np.arange(args.runs))
    simulate(tables, seeds[:200], engine="batch")  # warm up imports and caches
    mesa = rate(tables, seeds[: args.mesa_runs], "mesa", True, 1)
    batch_rounds = rate(tables, seeds, "batch", True, 3)
    batch_outcomes = rate(tables, seeds, "batch", False, 3)
    print(f"baseline: {base.negotiation.deadline}-round deadline, {tables.space.size} packages")
    print(f"mesa_model_negotiations_per_second: {mesa:.0f}   ({args.mesa_runs} runs)")
    print(f"batch_engine_outcomes_only_per_second: {batch_outcomes:.0f}   ({args.runs} runs)")
    print(f"batch_engine_with_rounds_per_second: {batch_rounds:.0f}   ({args.runs} runs)")
    print(f"batch_with_rounds_vs_mesa_model: {batch_rounds / mesa:.1f}x")
    print(f"negotiations_per_second: {batch_rounds:.0f}")


if __name__ == "__main__":
    main()
