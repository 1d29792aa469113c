"""Backcast: the model against the direction history took, step by step.

Each scenario in scenarios/history/ stands for a moment (1956, 1960, 2001, 2018, 2020,
2022) and builds on the one before. For each, the model gives: the treaty probability
(with its 95% interval), the most islands in any package both governments prefer to no
treaty (before pressure), and the best gain any treaty could bring Russia. The model's
direction against the previous step is, in this order: the change in treaty probability
where the two 95% intervals do not overlap; else the change in the islands on the table;
else the change in Russia's best gain (more than 0.01); else "same". History's direction
and islands come from each file's [history] table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim import draws, scenario as scenario_mod
from sim.preferences import Tables
from sim.run import simulate

from .summary import wilson

HISTORY = Path("scenarios") / "history"
GAIN_STEP = 0.01


def load_history(folder: Path = HISTORY) -> list:
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise scenario_mod.ScenarioError(str(folder), "", "no history scenarios (*.toml) found")
    specs = [scenario_mod.load(f) for f in files]
    for f, s in zip(files, specs):
        if getattr(s, "history", None) is None:
            raise scenario_mod.ScenarioError(str(f), "history", "required in a history scenario (year, event, direction, source)")
    return sorted(specs, key=lambda s: s.history.year)


def measure(spec, runs: int, seed: int) -> dict:
    tables = Tables.from_scenarios([spec])
    outcomes, _ = simulate(tables, draws.run_seeds(seed, 0, np.arange(runs)), rounds=False)
    k = int(outcomes.treaty.sum())
    lo, hi = wilson(k, runs)
    gains = [p.utility[0] - p.reservation[0] for p in tables.parties]
    both = (gains[0] > 0) & (gains[1] > 0)
    islands = tables.space.choice[:, list(tables.space.issues).index("territory")] if "territory" in tables.space.issues else None
    return {
        "year": spec.history.year,
        "event": spec.history.event,
        "history_direction": spec.history.direction,
        "history_islands": spec.history.islands,
        "treaty_probability": k / runs,
        "ci_low": lo,
        "ci_high": hi,
        "model_islands": float(islands[both].max()) if islands is not None and both.any() else 0.0,
        "russia_best_gain": float(gains[0].max()),
        "mean_end_round": float(outcomes.end_round.mean()),
    }


def direction(previous: dict, current: dict) -> str:
    if current["ci_low"] > previous["ci_high"]:
        return "up"
    if current["ci_high"] < previous["ci_low"]:
        return "down"
    if current["model_islands"] != previous["model_islands"]:
        return "up" if current["model_islands"] > previous["model_islands"] else "down"
    change = current["russia_best_gain"] - previous["russia_best_gain"]
    if change > GAIN_STEP:
        return "up"
    if change < -GAIN_STEP:
        return "down"
    return "same"


def backcast(runs: int = 20_000, seed: int = 1956, folder: Path = HISTORY) -> pd.DataFrame:
    rows = [measure(spec, runs, seed) for spec in load_history(folder)]
    for i, row in enumerate(rows):
        row["model_direction"] = "start" if i == 0 else direction(rows[i - 1], row)
        row["agrees"] = None if i == 0 else row["model_direction"] == row["history_direction"]
        row["islands_agree"] = None if row["history_islands"] is None else row["model_islands"] == row["history_islands"]
    return pd.DataFrame(rows)


def backcast_text(table: pd.DataFrame) -> str:
    lines = ["year  history  model  treaty p (95% CI)       islands hist/model  Russia's best gain  event"]
    for _, r in table.iterrows():
        mark = "" if r["agrees"] is None else ("  agrees" if r["agrees"] else "  DISAGREES")
        hist_isl = "-" if pd.isna(r["history_islands"]) else f"{r['history_islands']:g}"
        lines.append(f"{r['year']}  {r['history_direction']:7s}  {r['model_direction']:5s}  "
                     f"{r['treaty_probability']:.3f} ({r['ci_low']:.3f}-{r['ci_high']:.3f})  "
                     f"{hist_isl:>6s} / {r['model_islands']:g}        {r['russia_best_gain']:+.2f}          {r['event']}{mark}")
    agree = table["agrees"].dropna()
    lines.append(f"directions agreeing with history: {int(agree.sum())} of {len(agree)}")
    return "\n".join(lines)


def backcast_plot(table: pd.DataFrame, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import OUTCOME, _save

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    x = np.arange(len(table))
    ax = axes[0]
    p = table["treaty_probability"].to_numpy()
    err = [np.maximum(0, p - table["ci_low"]), np.maximum(0, table["ci_high"] - p)]
    ax.errorbar(x, p, yerr=err, fmt="o-", color=OUTCOME, capsize=4, label="model: treaty probability (95% CI)")
    arrows = {"up": "\u2191", "down": "\u2193", "same": "=", "start": "\u2022"}
    top = max(0.05, float(table["ci_high"].max()) * 1.45)
    for i, r in table.iterrows():
        colour = "#000000" if r["agrees"] in (True, None) else "#CC79A7"
        ax.text(i, top * 0.97, f"history {arrows[r['history_direction']]}\nmodel {arrows[r['model_direction']]}",
                ha="center", va="top", fontsize=8, color=colour)
    ax.set_xticks(x, table["year"].astype(str))
    ax.set_ylim(0, top)
    ax.set_xlabel("year")
    ax.set_ylabel("probability of a ratified treaty")
    ax.legend(fontsize=8, loc="center left")
    ax.grid(alpha=0.3)
    ax.set_title("Treaty prospects: directions (black agrees, purple disagrees)")
    ax = axes[1]
    ax.plot(x, table["history_islands"], "s--", color="#CC79A7", ms=13, mfc="none", mew=2, label="history: islands on offer")
    ax.plot(x, table["model_islands"], "o-", color=OUTCOME, label="model: most islands in a package both accept")
    ax.set_xticks(x, table["year"].astype(str))
    ax.set_ylim(-0.2, 4.2)
    ax.set_xlabel("year")
    ax.set_ylabel("islands (0 none, 2 the 1956 formula, 4 all)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("Islands on the table")
    fig.suptitle("Backcast: the model against history, 1956-2022")
    return _save(fig, path)
