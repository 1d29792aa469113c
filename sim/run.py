"""The entry points: play one negotiation, or many with either engine.

``play(scenario, seed)`` returns the finished Mesa model of one run (the reference,
with its DataCollector). ``simulate`` plays many runs of one scenario with the Mesa
model or with the batch engine; both return the same columns, run for run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import batch
from .model import NegotiationModel
from .outcomes import Outcomes, concat, empty_votes
from .preferences import Tables
from .scenario import Scenario
from .strategic import choose

ENGINES = ("batch", "mesa")


def play(scenario: Scenario | Tables, seed: int) -> NegotiationModel:
    """Play one negotiation in the Mesa model and return the finished model (in the
    world its seed draws, where the scenario has uncertain beliefs)."""
    tables = (
        scenario if isinstance(scenario, Tables) else Tables.for_seeds(scenario, np.array([seed], dtype=np.uint64))[0]
    )
    model = NegotiationModel(tables=tables, rng=int(seed))
    model.run()
    return model


def simulate(
    scenario: Scenario | Tables,
    seeds: np.ndarray,
    engine: str = "batch",
    rounds: bool = True,
    progress: Callable[[int], None] | None = None,
) -> tuple[Outcomes, dict[str, np.ndarray] | None]:
    """Play one negotiation per seed. Returns the outcomes and, if asked, the per-round
    record (columns ``run``, ``round`` and those of sim.protocol.round_columns). Given a
    scenario, each run plays in the world its seed draws (Tables.for_seeds)."""
    seeds = np.asarray(seeds, dtype=np.uint64)
    tables = scenario if isinstance(scenario, Tables) else Tables.for_seeds(scenario, seeds)[0]
    if engine == "batch":
        return batch.simulate(tables, seeds, rounds=rounds, progress=progress)
    if engine != "mesa":
        raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    return _simulate_mesa(tables, seeds, rounds, progress)


def _simulate_mesa(tables: Tables, seeds: np.ndarray, rounds: bool, progress) -> tuple[Outcomes, dict | None]:
    n = seeds.shape[0]
    tables, chosen = choose(tables, seeds)  # the outside powers' choices, made as the batch engine makes them
    horizon = tables.horizon
    ends: dict[str, np.ndarray] = {
        name: np.zeros(n, np.int64) for name in ("reason", "end_round", "package", "attempts")
    }
    ends.update({name: np.zeros(n) for name in ("chance", "pressure_total")})
    path = np.full((n, horizon), np.nan)
    votes, collected = [], []
    for i, seed in enumerate(seeds):
        model = play(tables if tables.runs == 1 else tables.select(np.array([i])), int(seed))
        for name, column in ends.items():
            column[i] = getattr(model.state, name)
        path[i, : len(model.pressure_path)] = model.pressure_path
        if model.ratifications:
            ids = tables.party_ids
            votes.append(
                {
                    "run": np.full(len(model.ratifications), i),
                    "round": np.array([v["round"] for v in model.ratifications]),
                    "package": np.array([v["package"] for v in model.ratifications]),
                    "probability": np.array([[v[f"probability_{p}"] for p in ids] for v in model.ratifications]),
                    "passed": np.array([[v[f"passed_{p}"] for p in ids] for v in model.ratifications]),
                }
            )
        if rounds:
            data = model.datacollector.model_vars
            collected.append({"run": np.full(len(data["round"]), i), **{k: np.array(v) for k, v in data.items()}})
        if progress:
            progress(1)
    outcomes = Outcomes(
        seeds=seeds,
        reason=ends["reason"],
        end_round=ends["end_round"],
        agreed=ends["package"],
        attempts=ends["attempts"],
        chance=ends["chance"],
        pressure_total=ends["pressure_total"],
        pressure_path=path,
        votes=concat(votes, empty_votes(len(tables.party_ids))),
        policy=chosen.outside,
        backing=chosen.patron,
    )
    if not rounds:
        return outcomes, None
    return outcomes, {k: np.concatenate([c[k] for c in collected]) for k in collected[0]}
