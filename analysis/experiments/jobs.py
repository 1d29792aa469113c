"""The jobs behind the command line: simulate a scenario and write its results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dipsim.sim import draws
from dipsim.sim.outcomes import Outcomes, join
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate
from dipsim.sim.scenario import RunSettings, Scenario

from dipsim.analysis.experiments.frames import rounds_frame, runs_frame
from dipsim.analysis.experiments.output import write_toml
from dipsim.analysis.experiments.summary import summarise

CHUNK = 2_048   # runs simulated together: small enough for the CPU caches; results do not depend on it


@dataclass
class ScenarioResult:
    scenario: Scenario          # resolved, with the seed and number of runs used
    tables: Tables
    outcomes: Outcomes
    runs: pd.DataFrame
    rounds: pd.DataFrame
    engine: str

    @property
    def actors(self) -> list[str]:
        return [*self.tables.party_ids, *([self.tables.outside_id] if self.tables.outside_id else [])]

    def summary(self) -> dict:
        return summarise(self.runs, self.actors)


def with_run_settings(scenario: Scenario, runs: int | None, seed: int | None) -> Scenario:
    settings = RunSettings(
        seed=scenario.run.seed if seed is None else seed,
        runs=scenario.run.runs if runs is None else runs,
    )
    return scenario.model_copy(update={"run": settings})


def simulate_scenario(scenario: Scenario, engine: str = "batch",
                      progress: Callable[[int], None] | None = None) -> ScenarioResult:
    """Play ``scenario.run.runs`` negotiations; run i's seed is a pure function of
    (scenario.run.seed, i), whatever the engine or chunking."""
    n = scenario.run.runs
    seeds = draws.run_seeds(scenario.run.seed, 0, np.arange(n))
    tables = Tables.from_scenarios([scenario])
    parts, round_parts = [], []
    for start in range(0, n, CHUNK):
        outcomes, rounds = simulate(tables, seeds[start:start + CHUNK], engine=engine, rounds=True,
                                    progress=progress)
        rounds["run"] = rounds["run"] + start
        parts.append(outcomes)
        round_parts.append(rounds_frame(scenario.name, rounds))
    outcomes = join(parts)
    return ScenarioResult(
        scenario=scenario,
        tables=tables,
        outcomes=outcomes,
        runs=runs_frame(scenario.name, tables, outcomes),
        rounds=pd.concat(round_parts, ignore_index=True),
        engine=engine,
    )


def write_tables(result: ScenarioResult, folder: Path) -> list[Path]:
    """runs.parquet, rounds.parquet and scenario.toml of one scenario (its plots:
    dipsim.analysis.presentation.figures.scenario_plots)."""
    folder.mkdir(exist_ok=True)
    result.runs.to_parquet(folder / "runs.parquet", index=False)
    result.rounds.to_parquet(folder / "rounds.parquet", index=False)
    write_toml(result.scenario.resolved(), folder / "scenario.toml")
    return [folder / "runs.parquet", folder / "rounds.parquet", folder / "scenario.toml"]


def write_comparison_table(results: list[ScenarioResult], folder: Path) -> Path:
    """summary.csv: one row per scenario (its plots: presentation.figures.comparison_plots)."""
    from dipsim.analysis.experiments.summary import comparison_table

    comparison_table({r.scenario.name: r.summary() for r in results}).to_csv(folder / "summary.csv", index=False)
    return folder / "summary.csv"


# --------------------------------------------------------------------------- expected utility


def run_expected_utility(spec) -> pd.DataFrame:
    """Play Bueno de Mesquita's model for a scenario; the table of rounds."""
    from dipsim.sim.eu_model import ExpectedUtilityModel

    model = ExpectedUtilityModel(spec, rng=spec.run.seed)
    model.run()
    return model.table()


def write_expected_utility_tables(spec, table: pd.DataFrame, folder: Path) -> list[Path]:
    """rounds.parquet, rounds.csv and scenario.toml of an expected utility run (its plot:
    presentation.figures.expected_utility_plots)."""
    folder.mkdir(exist_ok=True)
    table.to_parquet(folder / "rounds.parquet", index=False)
    table.to_csv(folder / "rounds.csv", index=False)
    write_toml(spec.resolved(), folder / "scenario.toml")
    return [folder / "rounds.parquet", folder / "rounds.csv", folder / "scenario.toml"]


def expected_utility_text(spec, table: pd.DataFrame) -> str:
    lines = [f"{spec.title}: {len(table) - 1} rounds (Bueno de Mesquita's expected utility model)",
             "  round     mean   median  forecast (wins every pairwise vote)"]
    for _, r in table.iterrows():
        lines.append(f"  {int(r['round']):5d}  {r['mean']:7.3f}  {r['median']:7.3f}  {r['forecast']:8.3f}")
    return "\n".join(lines)
