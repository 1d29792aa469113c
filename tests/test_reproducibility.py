"""One seed decides a run: identical data for the same seed, different data for other
seeds, whatever else the process does in between."""

import random

import numpy as np
import pandas as pd

from dipsim.analysis.experiments.jobs import simulate_scenario, with_run_settings
from dipsim.sim import draws
from dipsim.sim.model import NegotiationModel


def played(scenario, folder):
    """The bytes of the tables a run of ``scenario`` writes, and the tables."""
    simulate_scenario(scenario, folder)
    files = [folder / "runs.parquet", folder / "rounds.parquet"]
    return b"".join(f.read_bytes() for f in files), [pd.read_parquet(f) for f in files]


def test_same_seed_identical_parquet_other_seeds_differ(tmp_path, baseline):
    a, _ = played(with_run_settings(baseline, 300, 11), tmp_path / "a")
    np.random.seed(123)  # global random state must not matter
    random.seed(5)
    np.random.random(1000)
    b, (runs_b, rounds_b) = played(with_run_settings(baseline, 300, 11), tmp_path / "b")
    _c, (runs_c, rounds_c) = played(with_run_settings(baseline, 300, 12), tmp_path / "c")
    assert a == b
    assert not runs_b["seed"].equals(runs_c["seed"])
    assert not rounds_b["public_russia_mood"].equals(rounds_c["public_russia_mood"])


def test_interleaved_models_do_not_disturb_each_other(baseline):
    alone = NegotiationModel(baseline, rng=77)
    alone.run()
    m1, m2 = NegotiationModel(baseline, rng=77), NegotiationModel(baseline, rng=78)
    while m1.running or m2.running:
        for m in (m2, m1):
            if m.running:
                m.step()
    pd.testing.assert_frame_equal(
        alone.datacollector.get_model_vars_dataframe(), m1.datacollector.get_model_vars_dataframe()
    )


def test_run_seeds_are_a_pure_function_of_root_point_and_replicate():
    full = draws.run_seeds(9, np.arange(50).repeat(3), np.tile(np.arange(3), 50))
    part = draws.run_seeds(9, np.array([17, 3]), np.array([2, 0]))
    assert part[0] == full[17 * 3 + 2] and part[1] == full[3 * 3 + 0]
    assert len(set(full.tolist())) == full.size
    assert draws.run_seeds(10, np.array([17]), np.array([2]))[0] != part[0]


def test_draws_are_uniform_and_independent_of_batch_size():
    seeds = draws.run_seeds(1, 0, np.arange(20000))
    u = draws.uniform(seeds, 3, 1)
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    assert np.array_equal(u[[5, 999]], draws.uniform(seeds[[5, 999]], 3, 1))
    assert np.corrcoef(u, draws.uniform(seeds, 3, 2))[0, 1] < 0.03
    # a Kolmogorov-Smirnov distance well within chance for 20,000 draws
    ks = np.max(np.abs(np.sort(u) - np.arange(1, u.size + 1) / u.size))
    assert ks < 1.63 / np.sqrt(u.size)
