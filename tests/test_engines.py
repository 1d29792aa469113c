"""The batch engine plays every run exactly as the Mesa model does: outcome, votes and
every round's record, on every shipped scenario and on random mixes of strategies."""

import numpy as np
import pytest

from dipsim.sim import draws
from dipsim.sim import scenario as sc
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate

from .conftest import SCENARIOS, STANDARD, make, random_preferences


def assert_same(a, b):
    oa, ra = a
    ob, rb = b
    for field in ("seeds", "reason", "end_round", "agreed", "attempts", "pressure_total"):
        assert np.array_equal(getattr(oa, field), getattr(ob, field)), field
    assert np.array_equal(oa.pressure_path, ob.pressure_path, equal_nan=True)
    for k in oa.votes:
        assert np.array_equal(oa.votes[k], ob.votes[k]), k
    if ra is not None:
        assert list(ra) == list(rb)
        for k in ra:
            assert np.array_equal(ra[k], rb[k], equal_nan=ra[k].dtype.kind == "f"), k


@pytest.mark.parametrize("name", STANDARD)
def test_batch_equals_mesa_on_shipped_scenarios(name):
    s = sc.load(SCENARIOS / f"{name}.toml")
    seeds = draws.run_seeds(99, 0, np.arange(300))
    assert_same(simulate(s, seeds, engine="mesa"), simulate(s, seeds, engine="batch"))


def test_batch_equals_mesa_on_random_strategies_and_rules(baseline_raw):
    """Every strategy, walk-outs, talks that go on after a failed ratification, several
    openers and deadlines: one table per run, evaluated together by the batch engine."""
    rng = np.random.default_rng(11)
    kinds = ("time_dependent", "zeuthen", "hardliner", "rubinstein")
    scenarios = []
    for i in range(600):
        data = random_preferences(baseline_raw, rng, strategies=(kinds[i % 4], kinds[(i // 4) % 4]))
        for pid in data["parties"]:
            data["parties"][pid]["strategy"]["patience"] = int(rng.integers(0, 6))
            data["parties"][pid]["strategy"]["tolerance"] = float(rng.uniform(0, 0.3))
            data["parties"][pid]["anticipation"]["value"] = float(rng.uniform(0, 1))
            data["parties"][pid]["public"]["volatility"]["value"] = float(rng.uniform(0, 0.1))
            data["parties"][pid]["strategy"]["discount"] = float(rng.uniform(0.5, 1.0))
        data["negotiation"]["after_failed_ratification"] = "continue" if i % 2 else "end"
        data["negotiation"]["opener"] = ("russia", "japan")[int(rng.integers(2))]
        data["negotiation"]["deadline"] = int(rng.integers(3, 40))
        data["outside"]["usa"]["response"]["value"] = float(rng.uniform(0, 10))
        data["parties"]["japan"]["autonomy_growth"]["value"] = float(rng.uniform(0, 0.05))
        scenarios.append(make(data))
    tables = Tables.from_scenarios(scenarios)
    seeds = draws.run_seeds(5, np.arange(tables.runs), np.zeros(tables.runs, np.int64))
    mesa, batch = simulate(tables, seeds, engine="mesa"), simulate(tables, seeds, engine="batch")
    assert_same(mesa, batch)
    # the mix really exercised the paths it claims to
    reasons = set(batch[0].reason.tolist())
    assert {0, 1, 2}.issubset(reasons) and (reasons & {3, 4}) and (reasons & {5, 6, 7})
    assert batch[0].attempts.max() >= 2


def test_batch_results_do_not_depend_on_the_company_a_run_keeps(baseline):
    seeds = draws.run_seeds(3, 0, np.arange(400))
    whole, _ = simulate(baseline, seeds, rounds=False)
    parts = [simulate(baseline, seeds[i : i + 37], rounds=False)[0] for i in range(0, 400, 37)]
    reversed_, _ = simulate(baseline, seeds[::-1], rounds=False)
    assert np.array_equal(whole.reason, np.concatenate([p.reason for p in parts]))
    assert np.array_equal(whole.reason, reversed_.reason[::-1])
    assert np.array_equal(whole.agreed, reversed_.agreed[::-1])


def test_engines_agree_when_talks_go_on_after_failed_ratifications(baseline_raw):
    """The path where a rejected package is struck off while the gains are otherwise
    unchanged (no outside power): any state kept from before the rejection must be
    refreshed in both engines alike. Heterogeneous runs, so that batches differ."""
    rng = np.random.default_rng(21)
    scenarios = []
    for _ in range(400):
        data = random_preferences(baseline_raw, rng, strategies=("time_dependent", "time_dependent"))
        data["outside"]["usa"]["active"] = False
        data["negotiation"].update(after_failed_ratification="continue", deadline=int(rng.integers(10, 60)))
        for pid in data["parties"]:
            data["parties"][pid]["anticipation"]["value"] = float(rng.uniform(0, 1))
        scenarios.append(make(data))
    tables = Tables.from_scenarios(scenarios)
    seeds = draws.run_seeds(8, np.arange(tables.runs), 0)
    mesa, batch = simulate(tables, seeds, engine="mesa"), simulate(tables, seeds, engine="batch")
    assert_same(mesa, batch)
    assert (batch[0].attempts >= 2).sum() > 50  # many runs did go on after a rejection
