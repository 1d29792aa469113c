"""`dipsim run` streams its tables, so that memory does not grow with --runs, with the
same tables, summary and (within a stated error) plots as when it held them in memory."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dipsim.analysis.experiments import jobs
from dipsim.analysis.experiments.frames import rounds_frame, runs_frame
from dipsim.analysis.experiments.summary import RunStats
from dipsim.sim import draws
from dipsim.sim import scenario as sc
from dipsim.sim.outcomes import join
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate

from .conftest import SCENARIOS

# --------------------------------------------------------------------------- streaming


def in_memory_tables(scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tables as `dipsim run` made them when it held them in memory: every chunk
    played, the outcomes joined, each table made whole."""
    tables = Tables.from_scenarios([scenario])
    n = scenario.run.runs
    seeds = draws.run_seeds(scenario.run.seed, 0, np.arange(n))
    outcomes, rounds = [], []
    for a in range(0, n, jobs.CHUNK):
        o, r = simulate(tables, seeds[a:a + jobs.CHUNK], rounds=True)
        r["run"] = r["run"] + a
        outcomes.append(o)
        rounds.append(rounds_frame(scenario.name, r))
    return runs_frame(scenario.name, tables, join(outcomes)), pd.concat(rounds, ignore_index=True)


@pytest.mark.parametrize("name", ["baseline", "us_disengages"])
def test_streamed_tables_and_summary_equal_the_in_memory_ones(tmp_path, monkeypatch, name):
    monkeypatch.setattr(jobs, "RUNS_PER_GROUP", 3000)          # several row groups in each file
    monkeypatch.setattr(jobs, "ROUNDS_PER_GROUP", 40_000)
    spec = jobs.with_run_settings(sc.load(SCENARIOS / f"{name}.toml"), 5000, 3)
    result = jobs.simulate_scenario(spec, tmp_path / "streamed")
    runs, rounds = in_memory_tables(spec)
    runs.to_parquet(tmp_path / "runs.parquet", index=False)        # as the in-memory path wrote them
    rounds.to_parquet(tmp_path / "rounds.parquet", index=False)
    for table in ("runs.parquet", "rounds.parquet"):
        streamed, whole = tmp_path / "streamed" / table, tmp_path / table
        assert pq.ParquetFile(streamed).num_row_groups > 1
        pd.testing.assert_frame_equal(pd.read_parquet(streamed), pd.read_parquet(whole))
        # the Arrow types too, but for a list column the in-memory path typed by its
        # content: list<null> when no run had a ratification
        for new, old in zip(pq.read_schema(streamed), pq.read_schema(whole)):
            assert new.name == old.name
            assert new.type == old.type or old.type == pa.list_(pa.null()), new.name
    assert (name == "baseline") == (runs["ratification_attempts"].sum() == 0)

    # the summary gathered chunk by chunk, and read back from the file a few rows at a
    # time (as `dipsim report` does), against the whole table's
    for s in (result.summary(), RunStats.from_parquet(tmp_path / "streamed" / "runs.parquet", batch=777).summary()):
        assert s["runs"] == 5000 and s["treaties"] == runs["treaty"].sum()
        assert s["mean_end_round"] == runs["end_round"].mean()
        pd.testing.assert_series_equal(s["reasons"], runs["reason"].value_counts())
        pd.testing.assert_series_equal(s["treaty_packages"],
                                       runs.loc[runs["treaty"], "package_label"].value_counts().head(5))
        pd.testing.assert_series_equal(s["agreed_packages"],
                                       runs.loc[runs["agreed_package"] >= 0, "agreed_label"].value_counts().head(5))
        for actor, (mean, low, high) in s["utilities"].items():
            values = runs[f"utility_{actor}"]
            half = 1.959963984540054 * values.std(ddof=1) / np.sqrt(len(values))
            assert mean == pytest.approx(values.mean(), abs=1e-12)
            assert (low, high) == pytest.approx((values.mean() - half, values.mean() + half), abs=1e-12)
    if name == "us_disengages":
        assert len(s["agreed_packages"]) and s["treaties"] > 0


def test_round_bands_are_close_to_the_exact_quantiles(tmp_path):
    """The plots' bands come from a t-digest per round and column: every 10%, 50% and
    90% point is within 0.005 of the exact one, or between the exact 1% on either side
    (values piled on one number, such as a public accepting with 1.0)."""
    spec = jobs.with_run_settings(sc.load(SCENARIOS / "us_disengages.toml"), 20_000, 5)
    result = jobs.simulate_scenario(spec, tmp_path / "r")
    columns = [c for c in pq.read_schema(tmp_path / "r" / "rounds.parquet").names
               if "_utility_" in c or "_accepts_" in c or c in ("usa_pressure", "usa_rhetoric")]
    assert len(columns) == 12
    bands = result.round_quantiles(columns)
    rounds = pd.read_parquet(tmp_path / "r" / "rounds.parquet", columns=["round", *columns])
    checked, largest = 0, 0.0
    for c in columns:
        for r, group in rounds.groupby("round")[c]:
            values = group.dropna().to_numpy()
            for q in (0.1, 0.5, 0.9):
                estimate = bands[c].loc[r, q]
                if values.size == 0:
                    assert np.isnan(estimate)
                    continue
                exact = np.quantile(values, q)
                largest = max(largest, abs(estimate - exact))
                near = abs(estimate - exact) <= 0.005
                ranked = np.quantile(values, max(q - 0.01, 0)) <= estimate <= np.quantile(values, min(q + 0.01, 1))
                assert near or ranked, (c, r, q, estimate, exact)
                checked += 1
    assert checked > 500
    print(f"largest difference from the exact quantile: {largest:.2g}")
