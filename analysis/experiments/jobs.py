"""The jobs behind the command line: simulate a scenario and write its results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dipsim.analysis.experiments.environment import write_environment
from dipsim.analysis.experiments.frames import (
    ParquetStream,
    list_column_types,
    round_quantiles,
    rounds_frame,
    runs_frame,
)
from dipsim.analysis.experiments.output import write_toml
from dipsim.analysis.experiments.summary import RunStats
from dipsim.sim import draws
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate
from dipsim.sim.scenario import RunSettings, Scenario

CHUNK = 2_048  # runs simulated together: small enough for the CPU caches; results do not depend on it
# Rows per Parquet row group: about 10 MiB of runs and 50 MiB of rounds held before
# they are written (a round's row is about 200 bytes in Arrow).
RUNS_PER_GROUP = 64 * CHUNK
ROUNDS_PER_GROUP = 2**18
RUNS, ROUNDS, SCENARIO = "runs.parquet", "rounds.parquet", "scenario.toml"


@dataclass
class ScenarioResult:
    """A scenario's runs: its tables are in ``folder``, its summary in ``stats``."""

    scenario: Scenario  # resolved, with the seed and number of runs used
    tables: Tables
    stats: RunStats
    folder: Path  # holds runs.parquet and rounds.parquet
    engine: str

    @property
    def actors(self) -> list[str]:
        return self.tables.actors

    def summary(self) -> dict:
        return self.stats.summary()

    def round_quantiles(self, columns: list[str]) -> dict[str, pd.DataFrame]:
        return round_quantiles(self.folder / ROUNDS, columns)

    @classmethod
    def read(cls, folder: Path) -> ScenarioResult:
        """The result a `dipsim run` folder holds."""
        from dipsim.sim import scenario as scenario_mod

        spec = scenario_mod.load(folder / SCENARIO)
        return cls(spec, Tables.from_scenarios([spec]), RunStats.from_parquet(folder / RUNS), folder, "from files")


def with_run_settings(scenario: Scenario, runs: int | None, seed: int | None) -> Scenario:
    settings = RunSettings(
        seed=scenario.run.seed if seed is None else seed,
        runs=scenario.run.runs if runs is None else runs,
    )
    return scenario.model_copy(update={"run": settings})


def simulate_scenario(
    scenario: Scenario,
    folder: Path,
    engine: str = "batch",
    progress: Callable[[int], None] | None = None,
    posterior=None,
) -> ScenarioResult:
    """Play ``scenario.run.runs`` negotiations and write runs.parquet, rounds.parquet and
    scenario.toml into ``folder`` (its plots: presentation.figures.scenario_plots). The
    tables are written a row group at a time as the runs finish, so memory does not grow
    with the number of runs. Run i's seed is a pure function of (scenario.run.seed, i),
    whatever the engine or chunking. With a ``posterior`` (analysis.interpretation.calibration.
    Posterior), each run takes the free beliefs of one of its particles."""
    n = scenario.run.runs
    tables = Tables.from_scenarios([scenario])  # the scenario's point values: labels, plots
    stats = RunStats(tables.actors)
    folder.mkdir(exist_ok=True)
    with (
        ParquetStream(folder / RUNS, RUNS_PER_GROUP, list_column_types(tables)) as runs_file,
        ParquetStream(folder / ROUNDS, ROUNDS_PER_GROUP) as rounds_file,
    ):
        for start in range(0, n, CHUNK):
            seeds = draws.run_seeds(scenario.run.seed, 0, np.arange(start, min(start + CHUNK, n)))
            fitted = posterior.quantiles(seeds) if posterior is not None else None
            worlds, drawn = Tables.for_seeds(scenario, seeds, fitted)  # each run's world, from its seed
            outcomes, rounds = simulate(worlds, seeds, engine=engine, rounds=True, progress=progress)
            rounds["run"] = rounds["run"] + start
            runs = runs_frame(scenario.name, worlds, outcomes, first=start)
            for path, values in drawn.items():  # a column per uncertain belief
                runs[path] = values
            stats.add(runs)
            runs_file.write(runs)
            rounds_file.write(rounds_frame(scenario.name, rounds))
    write_toml(scenario.resolved(), folder / SCENARIO)
    write_environment(folder)
    return ScenarioResult(scenario=scenario, tables=tables, stats=stats, folder=folder, engine=engine)


def write_comparison_table(results: list[ScenarioResult], folder: Path) -> Path:
    """summary.csv: one row per scenario (its plots: presentation.figures.comparison_plots)."""
    from dipsim.analysis.experiments.summary import comparison_table

    comparison_table({r.scenario.name: r.summary() for r in results}).to_csv(folder / "summary.csv", index=False)
    write_environment(folder)
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
    return [folder / "rounds.parquet", folder / "rounds.csv", folder / "scenario.toml", write_environment(folder)]


def expected_utility_text(spec, table: pd.DataFrame) -> str:
    lines = [
        f"{spec.title}: {len(table) - 1} rounds (Bueno de Mesquita's expected utility model)",
        "  round     mean   median  forecast (wins every pairwise vote)",
    ]
    for _, r in table.iterrows():
        lines.append(f"  {int(r['round']):5d}  {r['mean']:7.3f}  {r['median']:7.3f}  {r['forecast']:8.3f}")
    return "\n".join(lines)
