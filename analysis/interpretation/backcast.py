"""Backcast: the model against the direction history took, step by step.

Each scenario in scenarios/history/ stands for a moment (1956, 1960, 2001, 2018, 2020,
2022) and builds on the one before. For each, the model gives the treaty probability
(with its 95% interval). The model's direction against the previous step is up or down
where the two 95% intervals do not overlap, and "same" where they do: simulated
probabilities alone decide it. Beside it, for reading: the most islands in any package
both governments prefer to no treaty (before pressure) and the best gain any treaty
could bring Russia, at the step's point values (arithmetic on the inputs, which decides
nothing). History's direction and islands come from each file's [history] table.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from dipsim.analysis.experiments.summary import wilson
from dipsim.sim import draws
from dipsim.sim import scenario as scenario_mod
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate
from dipsim.sim.strategic import with_fixed_offer


def load_history(folder: Path | None = None) -> list:
    folder = scenario_mod.shipped("history") if folder is None else folder
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise scenario_mod.ScenarioError(str(folder), "", "no history scenarios (*.toml) found")
    specs = [scenario_mod.load(f) for f in files]
    for f, s in zip(files, specs):
        if getattr(s, "history", None) is None:
            raise scenario_mod.ScenarioError(
                str(f), "history", "required in a history scenario (year, event, direction, source)"
            )
    return sorted(specs, key=lambda s: s.history.year)


def measure(spec, runs: int, seed: int, progress: Callable[[int], None] | None = None) -> dict:
    """One history step's runs, each in the world its seed draws; the islands on the table
    and Russia's best gain are read at the step's point values (with a fixed patron's offer
    made, since it is made in every run)."""
    tables = with_fixed_offer(Tables.from_scenarios([spec]))  # a patron's offer made where it is fixed
    outcomes, _ = simulate(spec, draws.run_seeds(seed, 0, np.arange(runs)), rounds=False, progress=progress)
    k = int(outcomes.treaty.sum())
    chance = np.quantile(outcomes.chance, [0.05, 0.5, 0.95])
    lo, hi = wilson(k, runs)
    gains = [p.utility[0] - p.reservation[0] for p in tables.parties]
    both = (gains[0] > 0) & (gains[1] > 0)
    islands = (
        tables.space.choice[:, list(tables.space.issues).index("territory")]
        if "territory" in tables.space.issues
        else None
    )
    return {
        "year": spec.history.year,
        "event": spec.history.event,
        "history_direction": spec.history.direction,
        "history_islands": spec.history.islands,
        "treaty_probability": k / runs,
        "ci_low": lo,
        "ci_high": hi,
        "chance_median": float(chance[1]),
        "chance_p05": float(chance[0]),
        "chance_p95": float(chance[2]),
        "model_islands": float(islands[both].max()) if islands is not None and both.any() else 0.0,
        "russia_best_gain": float(gains[0].max()),
        "mean_end_round": float(outcomes.end_round.mean()),
    }


def direction(previous: dict, current: dict) -> str:
    """Up or down where the treaty probability's 95% intervals do not overlap; else same."""
    if current["ci_low"] > previous["ci_high"]:
        return "up"
    if current["ci_high"] < previous["ci_low"]:
        return "down"
    return "same"


def backcast(
    runs: int = 20_000, seed: int = 1956, folder: Path | None = None, progress: Callable[[int], None] | None = None
) -> pd.DataFrame:
    """The model's steps against history's; ``progress`` is told of runs as they finish."""
    rows = [measure(spec, runs, seed, progress) for spec in load_history(folder)]
    for i, row in enumerate(rows):
        row["model_direction"] = "start" if i == 0 else direction(rows[i - 1], row)
        row["agrees"] = None if i == 0 else row["model_direction"] == row["history_direction"]
        row["islands_agree"] = (
            None if row["history_islands"] is None else row["model_islands"] == row["history_islands"]
        )
    return pd.DataFrame(rows)


def backcast_text(table: pd.DataFrame) -> str:
    lines = ["year  history  model  treaty p (95% CI)       islands hist/model  Russia's best gain  event"]
    for _, r in table.iterrows():
        mark = "" if r["agrees"] is None else ("  agrees" if r["agrees"] else "  DISAGREES")
        hist_isl = "-" if pd.isna(r["history_islands"]) else f"{r['history_islands']:g}"
        lines.append(
            f"{r['year']}  {r['history_direction']:7s}  {r['model_direction']:5s}  "
            f"{r['treaty_probability']:.3f} ({r['ci_low']:.3f}-{r['ci_high']:.3f})  "
            f"{hist_isl:>6s} / {r['model_islands']:g}        {r['russia_best_gain']:+.2f}          {r['event']}{mark}"
        )
    agree = table["agrees"].dropna()
    lines.append(f"directions agreeing with history: {int(agree.sum())} of {len(agree)}")
    return "\n".join(lines)
