"""Negotiations per second for the baseline in one process.

Measures, in one run of this script (the machine is shared and noisy, so compare the
figures with each other rather than across days):
  - the Mesa model, one negotiation per model (the reference engine);
  - the batch engine with the per-round record that `dipsim run` writes, every run in the
    world its seed draws (its uncertain beliefs drawn, its tables made, then played), in
    chunks of runs as `dipsim run` plays them;
  - the same with every run in one world, the scenario's point values (one table for all);
  - the batch engine with outcomes only, one world;
  - the batch engine with the round record, a world per run, on private_reservations
    (Japan's reservation private: Russia's belief read and updated every round), and with
    every mechanism of the talks on at once (private_reservations with two_level's
    ratifiers and failure costs);
  - a strategic USA (strategic_usa: before each run it plays the talks forward under each
    of its 3 options, 8 times, and keeps the best), a world per run with the round record,
    and how its cost grows with the number of options (2, 3 and 5, 8 forward runs each);
  - China and the strategic USA (china: China weighs 2 offers, the USA answers each with
    the best of its 3 options, 4 forward runs per pair), and with 3 offers;
  - the strategic USA with inducements among its options (usa_reassures_japan: 4 options,
    8 forward runs each);
  - tables of more than two: the baseline with 3 and 4 governments at the table (copies
    of Japan's side, a fixture for timing), the trilateral file (the USA at the table,
    240 packages) and its majority rule (Baron and Ferejohn's equilibrium, found by
    backward induction over the rounds before each run).
The last line, ``negotiations_per_second``, is what `dipsim run` does (batch, rounds
recorded, a world per run). Usage: python benchmarks/bench_run.py [--runs N]
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


CHUNK = 2_048  # runs drawn and played together, as analysis.experiments.jobs does


def rate(tables: Tables, seeds: np.ndarray, engine: str, rounds: bool, repeat: int) -> float:
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        simulate(tables, seeds, engine=engine, rounds=rounds)
        best = max(best, seeds.size / (time.perf_counter() - start))
    return best


def worlds_rate(spec, seeds: np.ndarray, repeat: int) -> float:
    """Runs per second when each run draws its world: tables made per chunk, then played."""
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        for a in range(0, seeds.size, CHUNK):
            part = seeds[a : a + CHUNK]
            simulate(Tables.for_seeds(spec, part)[0], part, engine="batch", rounds=True)
        best = max(best, seeds.size / (time.perf_counter() - start))
    return best


def every_mechanism():
    """The baseline with every mechanism of the talks on at once: private_reservations
    (which builds on the baseline, whose stalls, drawn last round, smooth expected alarm
    and conditional values are on) with two_level's ratifiers and failure costs."""
    data = scenario.load(ROOT / "scenarios" / "private_reservations.toml").resolved()
    two_level = scenario.load(ROOT / "scenarios" / "two_level.toml").resolved()
    for pid in ("russia", "japan"):
        for key in ("ratifier", "failure_cost"):
            data["parties"][pid][key] = two_level["parties"][pid][key]
    return scenario.validate(data, file="every mechanism")


def with_options(spec, count: int):
    """strategic_usa with ``count`` options, caps evenly from none to full, at no cost."""
    data = spec.resolved()
    levels = np.linspace(0.0, 1.0, count)
    data["outside"]["usa"]["policy"]["options"] = [
        {"pressure": float(x), "rhetoric": float(x), "cost": 0.0} for x in levels
    ]
    return scenario.validate(data, file=f"{count} options")


def seated(spec, n: int):
    """The scenario with n governments at the table: its own two and copies of its second."""
    data = spec.resolved()
    ids = list(data["parties"])
    for k in range(len(ids), n):
        extra = dict(data["parties"][ids[1]])
        extra["label"] = f"Party {k}"
        data["parties"][f"party{k}"] = extra
    return scenario.validate(data, file=f"{n} at the table")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000, help="runs for the batch engine")
    parser.add_argument("--mesa-runs", type=int, default=300, help="runs for the Mesa model")
    parser.add_argument("--strategic-runs", type=int, default=4_000, help="runs with a strategic USA")
    args = parser.parse_args()
    base = scenario.load(ROOT / "scenarios" / "baseline.toml")
    tables = Tables.from_scenarios([base])
    seeds = draws.run_seeds(base.run.seed, 0, np.arange(args.runs))
    simulate(tables, seeds[:200], engine="batch")  # warm up imports and caches
    worlds_rate(base, seeds[:200], 1)
    mesa = rate(tables, seeds[: args.mesa_runs], "mesa", True, 1)
    worlds = worlds_rate(base, seeds, 3)
    batch_rounds = rate(tables, seeds, "batch", True, 3)
    batch_outcomes = rate(tables, seeds, "batch", False, 3)
    private = scenario.load(ROOT / "scenarios" / "private_reservations.toml")
    worlds_rate(private, seeds[:200], 1)
    private_worlds = worlds_rate(private, seeds, 3)
    every = every_mechanism()
    worlds_rate(every, seeds[:200], 1)
    every_worlds = worlds_rate(every, seeds, 3)
    strategic = scenario.load(ROOT / "scenarios" / "strategic_usa.toml")
    few = seeds[: args.strategic_runs]
    worlds_rate(strategic, seeds[:200], 1)
    strategic_worlds = worlds_rate(strategic, few, 3)
    scaling = {k: worlds_rate(with_options(strategic, k), few, 2) for k in (2, 3, 5)}
    china = scenario.load(ROOT / "scenarios" / "china.toml")
    worlds_rate(china, seeds[:200], 1)
    china_worlds = worlds_rate(china, few, 3)
    three = scenario.load(
        ROOT / "scenarios" / "china.toml",
        ["patron.china.policy.options=[{offer = 0.0}, {offer = 0.5, cost = 0.01}, {offer = 1.0, cost = 0.02}]"],
    )
    china_three = worlds_rate(three, few, 2)
    reassures = scenario.load(ROOT / "scenarios" / "usa_reassures_japan.toml")
    reassures_worlds = worlds_rate(reassures, few, 2)
    at_table = {}
    for n in (3, 4):
        spec = seated(base, n)
        worlds_rate(spec, seeds[:200], 1)
        at_table[n] = worlds_rate(spec, seeds, 2)
    trilateral = scenario.load(ROOT / "scenarios" / "trilateral.toml")
    worlds_rate(trilateral, seeds[:200], 1)
    trilateral_worlds = worlds_rate(trilateral, seeds, 2)
    majority = scenario.load(ROOT / "scenarios" / "trilateral_majority.toml")
    worlds_rate(majority, seeds[:200], 1)
    majority_worlds = worlds_rate(majority, seeds, 2)
    uncertain = len(scenario.uncertain(base))
    print(
        f"baseline: {base.negotiation.deadline}-round deadline, {tables.space.size} packages, "
        f"{uncertain} uncertain numbers drawn per run"
    )
    print(f"mesa_model_negotiations_per_second: {mesa:.0f}   ({args.mesa_runs} runs)")
    print(f"batch_engine_outcomes_only_per_second: {batch_outcomes:.0f}   ({args.runs} runs, one world)")
    print(f"batch_engine_with_rounds_one_world_per_second: {batch_rounds:.0f}   ({args.runs} runs)")
    print(f"batch_engine_with_rounds_a_world_per_run_per_second: {worlds:.0f}   ({args.runs} runs)")
    print(
        f"private_information_a_world_per_run_per_second: {private_worlds:.0f}   ({args.runs} runs of "
        "private_reservations: Japan's reservation private, Russia bargaining on its belief)"
    )
    print(
        f"every_mechanism_a_world_per_run_per_second: {every_worlds:.0f}   ({args.runs} runs: the baseline's stalls, "
        "drawn last round, smooth expected alarm and conditional values, with two_level's ratifiers and failure "
        "costs and private_reservations' private reservation and belief-based Russia)"
    )
    policy = strategic.outside["usa"].policy
    assert policy is not None
    print(
        f"strategic_usa_negotiations_per_second: {strategic_worlds:.0f}   ({few.size} runs of strategic_usa, a world "
        f"per run, rounds recorded: {len(policy.options)} options x {policy.samples} forward runs before each run)"
    )
    for k, r in scaling.items():
        print(
            f"strategic_usa_{k}_options_per_second: {r:.0f}   ({k * policy.samples} forward runs per run; "
            f"{worlds / r:.1f}x the reflex's time)"
        )
    usa, offers = china.outside["usa"].policy, china.patron["china"].policy
    assert usa is not None
    pairs = len(usa.options) * len(offers.options)
    print(
        f"china_negotiations_per_second: {china_worlds:.0f}   ({few.size} runs of china, a world per run, rounds "
        f"recorded: {len(offers.options)} offers x {len(usa.options)} US options x {offers.samples} forward runs "
        f"= {pairs * offers.samples} before each run; {worlds / china_worlds:.1f}x the reflex's time)"
    )
    print(
        f"china_3_offers_per_second: {china_three:.0f}   ({3 * len(usa.options) * offers.samples} forward runs per "
        f"run; {worlds / china_three:.1f}x the reflex's time)"
    )
    carrot = reassures.outside["usa"].policy
    assert carrot is not None
    print(
        f"usa_reassures_japan_per_second: {reassures_worlds:.0f}   ({len(carrot.options)} options, two with an "
        f"inducement, x {carrot.samples} forward runs per run; {worlds / reassures_worlds:.1f}x the reflex's time)"
    )
    for n, r in at_table.items():
        print(f"baseline_{n}_at_the_table_per_second: {r:.0f}   ({args.runs} runs; {worlds / r:.1f}x two's time)")
    print(
        f"trilateral_per_second: {trilateral_worlds:.0f}   ({args.runs} runs of trilateral: 3 at the table, "
        f"240 packages, unanimity)"
    )
    print(
        f"trilateral_majority_per_second: {majority_worlds:.0f}   ({args.runs} runs of trilateral_majority: "
        "the closed rule's equilibrium solved backwards over 27 rounds before each run)"
    )
    print(f"batch_with_rounds_vs_mesa_model: {worlds / mesa:.1f}x")
    print(f"negotiations_per_second: {worlds:.0f}")


if __name__ == "__main__":
    main()
