"""Worlds: the quantiles a run draws for its uncertain beliefs, and the distributions they
are read through (sim.worlds)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dipsim.sim import draws, worlds

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
