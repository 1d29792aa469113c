"""Worlds: the quantiles a run draws for its uncertain beliefs, and the distributions they
are read through (sim.worlds)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dipsim.sim import draws, worlds

from .conftest import point_scenario

SEEDS = draws.run_seeds(7, 0, np.arange(20_000))


def test_a_quantile_is_a_function_of_the_run_seed_and_the_key_path():
    q = worlds.quantiles_of(SEEDS[:100], ["a.value", "b.value"])
    again = worlds.quantiles_of(SEEDS[:100][::-1], ["b.value", "a.value"])
    assert np.array_equal(q, again[::-1, ::-1])  # whatever order, whatever else is drawn
    assert not np.array_equal(q[:, 0], q[:, 1])
    assert ((q > 0) & (q < 1)).all()


def test_quantiles_are_uniform_and_independent_across_beliefs():
    q = worlds.quantiles_of(SEEDS, ["x", "y"])
    n = len(SEEDS)
    # mean 1/2 and variance 1/12 within 5 standard errors
    assert abs(q.mean(axis=0) - 0.5).max() < 5 * np.sqrt(1 / 12 / n)
    counts = np.histogram(q[:, 0], bins=20, range=(0, 1))[0]
    chi2 = ((counts - n / 20) ** 2 / (n / 20)).sum()
    assert chi2 < 43.8  # chi-square, 19 d.f., 0.999 quantile
    assert abs(np.corrcoef(q[:, 0], q[:, 1])[0, 1]) < 5 / np.sqrt(n)


@pytest.mark.parametrize(
    "kind, params",
    [
        ("uniform", dict(value=0.5, low=0.2, high=0.9)),
        ("triangular", dict(value=0.3, low=0.1, high=0.9)),
        ("triangular", dict(value=0.1, low=0.1, high=0.5)),  # mode at an end
        ("beta", dict(value=0.74, n=1600)),  # Levada 2018: 74% of 1,600
        ("beta", dict(value=0.10, n=50)),
        ("normal", dict(value=0.63, sd=0.05, low=-1.0, high=2.0)),
        ("normal", dict(value=0.9, sd=0.2, low=0.0, high=1.0)),  # truncated hard on one side
    ],
)
def test_draws_have_the_distributions_closed_form_mean_and_variance(kind, params):
    u = worlds.quantiles_of(SEEDS, ["belief"])[:, 0]
    x = worlds.inverse_cdf(kind, u, **params)
    mean, var = worlds.moments(kind, **params)
    n = len(x)
    assert abs(x.mean() - mean) < 5 * np.sqrt(var / n)
    # the sample variance's standard error: sqrt((mu4 - var^2) / n), mu4 the fourth central moment
    mu4 = ((x - mean) ** 4).mean()
    assert abs(x.var() - var) < 5 * np.sqrt((mu4 - var**2) / n)
    lo, hi = params.get("low", 0.0), params.get("high", 1.0)
    assert (x >= lo).all() and (x <= hi).all()


def test_a_fixed_belief_and_a_zero_width_one_take_their_value():
    u = np.array([0.001, 0.5, 0.999])
    assert (worlds.inverse_cdf("fixed", u, 0.4) == 0.4).all()
    assert (worlds.inverse_cdf("triangular", u, 0.4, low=0.4, high=0.4) == 0.4).all()
    assert (worlds.inverse_cdf("normal", u, 0.4, sd=0.0, low=0.0, high=1.0) == 0.4).all()


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["uniform", "triangular", "normal", "beta"]),
    a=st.floats(-1, 2),
    b=st.floats(-1, 2),
    c=st.floats(-1, 2),
    sd=st.floats(1e-6, 10),
    n=st.integers(1, 100_000),
    u=st.floats(0, 1),
)
def test_no_quantile_leaves_the_range(kind, a, b, c, sd, n, u):
    """Whatever parameters a valid file can hold (low <= value <= high), every quantile
    lies within [low, high] (a beta's within [0, 1])."""
    low, value, high = sorted([a, b, c])
    if kind == "beta":
        value, low, high = min(max(value, 0.0), 1.0), 0.0, 1.0
    x = worlds.inverse_cdf(kind, np.array([u]), value, low=low, high=high, sd=sd, n=n)[0]
    assert low <= x <= high


# --------------------------------------------------------------------------- worlds in the engines


def same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


UNCERTAIN = [
    'parties.japan.utility.reservation.dist="triangular"',
    "parties.japan.utility.reservation.low=0.50",
    "parties.japan.utility.reservation.high=0.70",
    'parties.russia.public.base.dist="beta"',
    "parties.russia.public.base.n=200",
    'outside.usa.response.dist="uniform"',
    "outside.usa.response.low=0",
    "outside.usa.response.high=10",
    'parties.russia.public.effects.territory.dist="normal"',
    "parties.russia.public.effects.territory.sd=[0, 0.05, 0.05, 0.05, 0.05]",
]


def test_each_run_plays_its_own_world_the_same_in_both_engines():
    from dipsim.sim.preferences import Tables
    from dipsim.sim.run import play, simulate

    spec = point_scenario("baseline", UNCERTAIN)
    seeds = draws.run_seeds(3, 0, np.arange(40))
    tables, drawn = Tables.for_seeds(spec, seeds)
    assert set(drawn) == {
        "parties.japan.utility.reservation.value",
        "parties.russia.public.base.value",
        "outside.usa.response.value",
        *(f"parties.russia.public.effects.territory.values.{k}" for k in range(1, 5)),
    }
    assert tables.runs == 40 and np.array_equal(
        tables.parties[1].reservation, drawn["parties.japan.utility.reservation.value"]
    )
    batch, b_rounds = simulate(spec, seeds, engine="batch")
    mesa, m_rounds = simulate(spec, seeds, engine="mesa")
    for field in ("reason", "end_round", "agreed", "chance", "pressure_total"):
        assert same(getattr(batch, field), getattr(mesa, field)), field
    for column in b_rounds:
        assert same(b_rounds[column], m_rounds[column]), column
    # one run alone draws the world it draws among many
    model = play(spec, int(seeds[7]))
    assert model.state.reason == batch.reason[7] and model.state.chance == batch.chance[7]
    assert len(set(batch.chance.round(12))) > 5  # the worlds differ, and so do their chances


def test_fixed_or_zero_width_distributions_are_todays_scenario():
    from dipsim.sim import scenario as sc
    from dipsim.sim.preferences import Tables
    from dipsim.sim.run import simulate

    plain = point_scenario("baseline")
    pinned = point_scenario(
        "baseline",
        [
            'parties.japan.utility.reservation.dist="fixed"',
            'parties.russia.public.effects.territory.dist="uniform"',
            "parties.russia.public.effects.territory.low=[0.0, -0.60, -0.68, -0.75, -0.80]",
            "parties.russia.public.effects.territory.high=[0.0, -0.60, -0.68, -0.75, -0.80]",
        ],
    )
    assert sc.uncertain(pinned) == []
    seeds = draws.run_seeds(5, 0, np.arange(300))
    assert Tables.for_seeds(pinned, seeds)[0].runs == 1
    a, ra = simulate(plain, seeds)
    b, rb = simulate(pinned, seeds)
    assert all(same(ra[c], rb[c]) for c in ra) and same(a.chance, b.chance)


# --------------------------------------------------------------------------- checks against closed forms


def test_one_uncertain_public_gives_the_closed_form_mean_chance():
    """Only the Russian public's base acceptance is uncertain, uniform on [0.75, 0.95];
    the governments ignore ratification (anticipation 0) and the USA stays out, so every
    world agrees the same package and its chance of a treaty is the product of the two
    publics' acceptances (threshold 0.5 and margin 0.5 make the chance the share
    accepting), each moved by its mood (mean 0, independent of the world). Its mean over
    worlds is then (E[base] + Russia's effects) x (Japan's acceptance), by hand."""
    from dipsim.sim.run import simulate

    spec = point_scenario(
        "us_disengages",
        [
            "parties.russia.anticipation.value=0",
            "parties.japan.anticipation.value=0",
            "negotiation.deadline_spread=0",
            'parties.russia.public.base.dist="uniform"',
            "parties.russia.public.base.low=0.75",
            "parties.russia.public.base.high=0.95",
        ],
    )
    seeds = draws.run_seeds(11, 0, np.arange(6000))
    out, _ = simulate(spec, seeds, rounds=False)
    agreed = set(out.agreed.tolist())
    assert len(agreed) == 1 and -1 not in agreed  # the same package in every world
    terms = spec_terms(spec, agreed.pop())
    russia, japan = spec.parties["russia"].public, spec.parties["japan"].public
    effect = sum(russia.effects[i].values[o] for i, o in terms.items() if i in russia.effects)
    accept_japan = japan.base.value + sum(japan.effects[i].values[o] for i, o in terms.items() if i in japan.effects)
    expected = ((0.75 + 0.95) / 2 + effect) * accept_japan
    se = out.chance.std(ddof=1) / np.sqrt(out.chance.size)
    assert abs(out.chance.mean() - expected) < 4 * se, (out.chance.mean(), expected, se)
    assert out.chance.std() > 0.01  # the worlds do differ


def spec_terms(spec, package: int) -> dict[str, int]:
    """The option each issue takes in a package (packages run over the issues' options,
    the last issue fastest)."""
    counts = [len(i.options) for i in spec.issues.values()]
    terms = {}
    for issue, k in zip(reversed(list(spec.issues)), reversed(counts)):
        package, terms[issue] = divmod(package, k)
    return terms


def test_treaties_split_into_worlds_and_votes_by_the_law_of_total_variance():
    """Given its world a run's treaty is a vote with the world's chance c, so over runs
    Var(treaty) = E[c (1 - c)] + Var(c): the mean treaty rate equals the mean chance
    (within the Monte Carlo error), and the two parts add up to the whole."""
    from dipsim.sim import scenario as sc
    from dipsim.sim.run import simulate

    spec = sc.load("japan_accepts_1956")  # with the ranges its file gives
    out, _ = simulate(spec, draws.run_seeds(17, 0, np.arange(8000)), rounds=False)
    t, c = out.treaty.astype(float), out.chance
    n = t.size
    assert abs(t.mean() - c.mean()) < 4 * t.std(ddof=1) / np.sqrt(n)
    within, between = (c * (1 - c)).mean(), c.var()
    assert between > 0 and within > 0
    var_t = t.var()
    # the sampling error of a Bernoulli variance p (1 - p) is about |1 - 2p| sqrt(p (1 - p) / n)
    p = t.mean()
    assert abs(var_t - (within + between)) < 4 * abs(1 - 2 * p) * np.sqrt(p * (1 - p) / n) + 1e-12


def test_common_random_numbers_give_two_scenarios_the_same_world_for_a_shared_belief():
    from dipsim.sim import scenario as sc
    from dipsim.sim.preferences import Tables

    seeds = draws.run_seeds(2018, 0, np.arange(500))
    base, other = sc.load("baseline"), sc.load("us_disengages")
    a, b = Tables.for_seeds(base, seeds)[1], Tables.for_seeds(other, seeds)[1]
    alike = {x.path for x in sc.uncertain(base)} & {x.path for x in sc.uncertain(other)}
    alike = {
        p
        for p in alike
        if next(x for x in sc.uncertain(base) if x.path == p) == next(x for x in sc.uncertain(other) if x.path == p)
    }
    assert len(alike) > 30 and all(np.array_equal(a[k], b[k]) for k in alike)
    a = Tables.for_seeds(point_scenario("baseline", UNCERTAIN), seeds)[1]
    # the same quantile of a belief the two scenarios give different distributions
    wider = Tables.for_seeds(point_scenario("baseline", [*UNCERTAIN, "outside.usa.response.high=20"]), seeds)[1]
    u = (a["outside.usa.response.value"] - 0) / 10
    assert np.allclose((wider["outside.usa.response.value"] - 0) / 20, u)


# --------------------------------------------------------------------------- what a user sees


def test_runs_tables_carry_each_world_and_summaries_its_spread(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    import pandas as pd

    from dipsim.sim import scenario as sc

    dipsim = str(Path(sys.executable).parent / "dipsim")

    def compare(out, *extra):
        done = subprocess.run(
            [
                dipsim,
                "compare",
                "baseline",
                "us_disengages",
                "--runs",
                "400",
                "--out",
                str(out),
                "--json",
                "--quiet",
                *extra,
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    doc = compare(tmp_path / "crn")
    base = pd.read_parquet(tmp_path / "crn" / "baseline" / "runs.parquet")
    other = pd.read_parquet(tmp_path / "crn" / "us_disengages" / "runs.parquet")
    drawn = [c for c in base.columns if "." in c]
    assert "parties.japan.utility.reservation.value" in drawn and len(drawn) == len(sc.uncertain(sc.load("baseline")))
    shared = [c for c in drawn if c in other.columns and c.startswith("parties.japan.utility.")]
    assert shared and base[shared].equals(other[shared])  # common random numbers: the same worlds
    worlds = doc["scenarios"][1]["worlds"]
    assert 0 <= worlds["chance_interval"][0] <= worlds["chance_median"] <= worlds["chance_interval"][1]
    assert worlds["chance_interval"][1] > 0.05
    assert abs(worlds["chance_mean"] - other["treaty_chance"].mean()) < 1e-12
    lists = {c.rpartition(".values.")[0] + ".values" if ".values." in c else c for c in other.columns if "." in c}
    assert {d["belief"] for d in worlds["doubts"]} == lists  # a list's entries share its quantile: one row each
    summary = pd.read_csv(tmp_path / "crn" / "summary.csv").set_index("scenario")
    agreed = (base["reason"] == "treaty") | base["reason"].str.startswith("ratification failed")
    assert summary.loc["baseline", "worlds_without_deal"] == (~agreed).mean()
    assert summary.loc["baseline", "worlds_without_deal"] == (base["ratification_attempts"] == 0).mean()
    independent = compare(tmp_path / "own", "--no-crn")
    seeds = [s["seed"] for s in independent["scenarios"]]
    assert seeds[0] != seeds[1]
    mine = pd.read_parquet(tmp_path / "own" / "baseline" / "runs.parquet")
    assert not mine[shared].equals(base[shared])
    assert (tmp_path / "crn" / "baseline" / "doubts.png").exists()


def test_a_scenario_whose_beliefs_are_all_fixed_writes_todays_files_byte_for_byte(tmp_path):
    """The baseline with no distributions (its point values), and the same with some of its
    beliefs saying "fixed": the same files, byte for byte, and no column of drawn values."""
    import subprocess
    import sys
    from pathlib import Path

    import tomli_w

    from dipsim.sim import scenario as sc

    from .conftest import point

    dipsim = str(Path(sys.executable).parent / "dipsim")
    point_file = tmp_path / "point.toml"
    point_file.write_bytes(tomli_w.dumps(point(sc.load("baseline").resolved())).encode())
    fixed = ['parties.japan.utility.reservation.dist="fixed"', 'outside.usa.response.dist="fixed"']
    for name, sets in (("plain", []), ("fixed", fixed)):
        args = [a for s in sets for a in ("--set", s)]
        done = subprocess.run(
            [dipsim, "run", str(point_file), "--runs", "300", "--out", str(tmp_path / name), "--quiet", *args],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    for table in ("runs.parquet", "rounds.parquet"):
        assert (tmp_path / "plain" / table).read_bytes() == (tmp_path / "fixed" / table).read_bytes()
    assert not (tmp_path / "plain" / "doubts.png").exists()


def test_a_number_set_is_fixed_and_its_source_says_it_was_drawn():
    from dipsim.sim import scenario as sc

    spec = point_scenario(
        "baseline",
        [*UNCERTAIN, "parties.japan.utility.reservation=0.45", "parties.russia.public.effects.territory.values.2=-0.9"],
    )
    r = spec.parties["japan"].utility.reservation
    assert r.value == 0.45 and r.dist is None and "triangular distribution, now fixed" in r.source
    paths = {x.path for x in sc.uncertain(spec)}
    assert "parties.japan.utility.reservation.value" not in paths
    assert "parties.russia.public.effects.territory.values.2" not in paths
    assert "parties.russia.public.effects.territory.values.1" in paths  # its neighbours stay uncertain
    beta = ['parties.japan.utility.issues.economy.dist="beta"', "parties.japan.utility.issues.economy.n=100"]
    with pytest.raises(sc.ScenarioError, match="drawn together"):
        point_scenario("baseline", [*beta, "parties.japan.utility.issues.economy.values.1=0.5"])
    whole = point_scenario("baseline", [*beta, "parties.japan.utility.issues.economy.values=[0, 0.5, 0.7, 1]"])
    assert whole.parties["japan"].utility.issues["economy"].dist is None
