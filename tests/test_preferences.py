"""Utilities and the valuation rules: hand-computed values and properties."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dipsim.sim.preferences import (
    Tables,
    negotiating_gain,
    opinion,
    pressured_utility,
    ratification_probability,
)
from dipsim.sim.space import NO_PACKAGE, OutcomeSpace


def test_outcome_space_has_every_package_once(baseline_tables):
    space = baseline_tables.space
    assert space.size == 5 * 3 * 4 * 2
    assert len({tuple(row) for row in space.choice}) == space.size
    assert space.label(NO_PACKAGE) == "no agreement"


def test_package_utility_is_treaty_plus_weighted_values(baseline, baseline_tables):
    """Russia's utility of the 1956 formula with high cooperation, sanctions kept, no guarantee,
    computed by hand from the baseline file: 0.05 + 0.55*0.651 + 0.15*0 + 0.20*1 + 0.10*0."""
    space = baseline_tables.space
    k = space.package_of(
        {"territory": "Habomai+Shikotan", "sanctions": "kept", "economy": "high", "security": "no guarantee"}
    )
    assert np.isclose(baseline_tables.parties[0].utility[0, k], 0.05 + 0.55 * 0.651 + 0.20 * 1.0)
    # Japan: 0.10 + 0.55*0.285 + 0.10*0 + 0.20*1 + 0.15*1
    assert np.isclose(baseline_tables.parties[1].utility[0, k], 0.10 + 0.55 * 0.285 + 0.20 + 0.15)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_additive_utility_matches_direct_sum_and_is_row_independent(data):
    sizes = data.draw(st.lists(st.integers(2, 5), min_size=1, max_size=4))
    space = OutcomeSpace.from_issues({f"i{j}": [f"o{k}" for k in range(n)] for j, n in enumerate(sizes)})
    runs = data.draw(st.integers(1, 6))
    floats = st.floats(-1, 1, allow_nan=False)
    tables = [
        np.array(data.draw(st.lists(st.lists(floats, min_size=n, max_size=n), min_size=runs, max_size=runs)))
        for n in sizes
    ]
    const = np.array(data.draw(st.lists(floats, min_size=runs, max_size=runs)))
    terms = np.concatenate([const[:, None], *tables], axis=1)
    values = space.expand(terms)
    for r in range(runs):
        alone = space.expand(terms[r : r + 1])
        assert np.array_equal(alone[0], values[r])  # bit for bit, whatever the batch
        # the value of one package, added up the same way
        assert np.array_equal(space.value_at(terms[r : r + 1], np.arange(space.size)), values[r])
        for p in range(space.size):
            direct = const[r] + sum(tables[i][r, space.choice[p, i]] for i in range(len(sizes)))
            assert np.isclose(values[r, p], direct)


def test_ratification_probability_ramp():
    acc = np.array([[0.0, 0.2, 0.5, 0.8, 1.0]])
    half = np.array([0.5])
    assert np.allclose(ratification_probability(acc, half, half), acc)  # threshold .5, margin .5: the share
    steep = ratification_probability(acc, half, np.array([0.1]))
    assert np.allclose(steep, [[0, 0, 0.5, 1, 1]])


@settings(max_examples=100, deadline=None)
@given(st.floats(-1, 1), st.floats(-1, 2), st.floats(0, 1), st.floats(0, 1))
def test_anticipation_scales_the_gain_but_never_its_sign(u, res, a, p):
    g = negotiating_gain(np.array([[u]]), np.array([res]), np.array([a]), np.array([[p]]))[0, 0]
    raw = u - res
    assert abs(g) <= abs(raw) + 1e-12
    assert (g > 0) == (raw > 0) or g == 0
    assert np.isclose(negotiating_gain(np.array([[u]]), np.array([res]), np.array([0.0]), np.array([[p]]))[0, 0], raw)


def test_pressure_shifts_only_through_the_shift_table(baseline_tables):
    t = baseline_tables
    u = t.parties[1].utility
    shifted = pressured_utility(u, t.outside.shift, np.array([0.7]))
    assert np.allclose(shifted - u, 0.7 * t.outside.shift)
    space = t.space
    kept = space.package_of(
        {"territory": "+Kunashir", "sanctions": "kept", "economy": "none", "security": "no guarantee"}
    )
    assert shifted[0, kept] == u[0, kept]  # nothing to shift: three islands, sanctions kept, no guarantee
    none = space.package_of({"territory": "none", "sanctions": "kept", "economy": "none", "security": "no guarantee"})
    assert shifted[0, none] < u[0, none]  # A L19: pressure makes settling for no island worse


def test_rhetoric_lowers_opinion_of_transfers_in_russia(baseline_tables):
    t = baseline_tables
    p = t.parties[0]
    calm = opinion(p.acceptance, p.rhetoric, np.array([0.0]))
    loud = opinion(p.acceptance, p.rhetoric, np.array([1.0]))
    transfers = t.space.choice[:, 0] > 0
    assert (loud[0, transfers] < calm[0, transfers]).all()
    assert np.array_equal(loud[0, ~transfers], calm[0, ~transfers])


def test_tables_select_keeps_rows(baseline):
    t = Tables.from_scenarios([baseline, baseline])
    one = t.select(np.array([1]))
    assert one.runs == 1 and np.array_equal(one.parties[0].utility, t.parties[0].utility[1:2])
