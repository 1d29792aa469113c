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
    assert np.array_equal(q, again[::-1, ::-1])          # whatever order, whatever else is drawn
    assert not np.array_equal(q[:, 0], q[:, 1])
    assert ((q > 0) & (q < 1)).all()


def test_quantiles_are_uniform_and_independent_across_beliefs():
    q = worlds.quantiles_of(SEEDS, ["x", "y"])
    n = len(SEEDS)
    # mean 1/2 and variance 1/12 within 5 standard errors
    assert abs(q.mean(axis=0) - 0.5).max() < 5 * np.sqrt(1 / 12 / n)
    counts = np.histogram(q[:, 0], bins=20, range=(0, 1))[0]
    chi2 = ((counts - n / 20) ** 2 / (n / 20)).sum()
    assert chi2 < 43.8                                   # chi-square, 19 d.f., 0.999 quantile
    assert abs(np.corrcoef(q[:, 0], q[:, 1])[0, 1]) < 5 / np.sqrt(n)


@pytest.mark.parametrize("kind, params", [
    ("uniform", dict(value=0.5, low=0.2, high=0.9)),
    ("triangular", dict(value=0.3, low=0.1, high=0.9)),
    ("triangular", dict(value=0.1, low=0.1, high=0.5)),          # mode at an end
    ("beta", dict(value=0.74, n=1600)),                          # Levada 2018: 74% of 1,600
    ("beta", dict(value=0.10, n=50)),
    ("normal", dict(value=0.63, sd=0.05, low=-1.0, high=2.0)),
    ("normal", dict(value=0.9, sd=0.2, low=0.0, high=1.0)),      # truncated hard on one side
])
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
@given(kind=st.sampled_from(["uniform", "triangular", "normal", "beta"]),
       a=st.floats(-1, 2), b=st.floats(-1, 2), c=st.floats(-1, 2),
       sd=st.floats(1e-6, 10), n=st.integers(1, 100_000),
       u=st.floats(0, 1))
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
    'parties.japan.utility.reservation.dist="triangular"', "parties.japan.utility.reservation.low=0.50",
    "parties.japan.utility.reservation.high=0.70",
    'parties.russia.public.base.dist="beta"', "parties.russia.public.base.n=200",
    'outside.usa.response.dist="uniform"', "outside.usa.response.low=0", "outside.usa.response.high=10",
    'parties.russia.public.effects.territory.dist="normal"',
    "parties.russia.public.effects.territory.sd=[0, 0.05, 0.05, 0.05, 0.05]",
]


def test_each_run_plays_its_own_world_the_same_in_both_engines():
    from dipsim.sim import scenario as sc
    from dipsim.sim.preferences import Tables
    from dipsim.sim.run import play, simulate

    spec = point_scenario("baseline", UNCERTAIN)
    seeds = draws.run_seeds(3, 0, np.arange(40))
    tables, drawn = Tables.for_seeds(spec, seeds)
    assert set(drawn) == {"parties.japan.utility.reservation.value", "parties.russia.public.base.value",
                          "outside.usa.response.value",
                          *(f"parties.russia.public.effects.territory.values.{k}" for k in range(1, 5))}
    assert tables.runs == 40 and np.array_equal(tables.parties[1].reservation, drawn["parties.japan.utility.reservation.value"])
    batch, b_rounds = simulate(spec, seeds, engine="batch")
    mesa, m_rounds = simulate(spec, seeds, engine="mesa")
    for field in ("reason", "end_round", "agreed", "chance", "pressure_total"):
        assert same(getattr(batch, field), getattr(mesa, field)), field
    for column in b_rounds:
        assert same(b_rounds[column], m_rounds[column]), column
    # one run alone draws the world it draws among many
    model = play(spec, int(seeds[7]))
    assert model.state.reason == batch.reason[7] and model.state.chance == batch.chance[7]
    assert len(set(batch.chance.round(12))) > 5          # the worlds differ, and so do their chances


def test_fixed_or_zero_width_distributions_are_todays_scenario():
    from dipsim.sim import scenario as sc
    from dipsim.sim.preferences import Tables
    from dipsim.sim.run import simulate

    plain = point_scenario("baseline")
    pinned = point_scenario("baseline", ['parties.japan.utility.reservation.dist="fixed"',
                                'parties.russia.public.effects.territory.dist="uniform"',
                                "parties.russia.public.effects.territory.low=[0.0, -0.60, -0.68, -0.75, -0.80]",
                                "parties.russia.public.effects.territory.high=[0.0, -0.60, -0.68, -0.75, -0.80]"])
    assert sc.uncertain(pinned) == []
    seeds = draws.run_seeds(5, 0, np.arange(300))
    assert Tables.for_seeds(pinned, seeds)[0].runs == 1
    a, ra = simulate(plain, seeds)
    b, rb = simulate(pinned, seeds)
    assert all(same(ra[c], rb[c]) for c in ra) and same(a.chance, b.chance)
