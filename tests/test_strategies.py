"""Every strategy honours one contract; each is also played against a scripted opponent."""

import itertools

import numpy as np
import pytest

from dipsim.sim.scenario import Strategy as StrategySpec
from dipsim.sim.space import NO_PACKAGE
from dipsim.sim.strategies import STRATEGIES, STRATEGY_INDEX, View
from dipsim.sim.strategies.hardliner import Hardliner
from dipsim.sim.strategies.time_dependent import TimeDependent
from dipsim.sim.strategies.zeuthen import Zeuthen, risk


def random_view(rng, runs=40, packages=30, round_=None, deadline=20):
    own = rng.uniform(-0.5, 1.0, (runs, packages))
    other = rng.uniform(-0.5, 1.0, (runs, packages))
    own[rng.random((runs, packages)) < 0.05] = -np.inf  # rejected packages
    other[np.isneginf(own)] = -np.inf
    own_offer = rng.integers(-1, packages, runs)
    other_offer = rng.integers(-1, packages, runs)
    return View(
        round=int(rng.integers(1, deadline + 1)) if round_ is None else round_,
        deadline=np.full(runs, deadline),
        own_gain=own,
        other_gain=other,
        own_offer=own_offer,
        other_offer=other_offer,
        beta=rng.uniform(0.1, 5, runs),
        tolerance=rng.uniform(0, 0.5, runs),
    )


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
class TestContract:
    """What the protocol relies on from any strategy in the list."""

    def test_metadata(self, strategy):
        assert strategy.name in STRATEGY_INDEX
        assert {"stochastic", "source", "parameters"} <= set(strategy.properties)
        assert strategy.properties["stochastic"] is False  # all randomness comes from the run's seed
        StrategySpec(kind=strategy.name, beta=1.0, source="test")  # selectable in a scenario file

    def test_answers_are_well_formed(self, strategy):
        rng = np.random.default_rng(1)
        for _ in range(50):
            v = random_view(rng)
            d = strategy.respond(v)
            assert d.accept.shape == d.offer.shape == (v.own_gain.shape[0],)
            assert d.accept.dtype == bool
            rows = np.arange(v.own_gain.shape[0])
            has_gain = (v.own_gain > 0).any(axis=1)
            # an offer is a real package that leaves the offerer better off than no agreement
            ok = d.offer[has_gain & ~d.accept]
            assert ((ok >= 0) & (ok < v.own_gain.shape[1])).all()
            assert (v.own_gain[rows, d.offer][has_gain & ~d.accept] > 0).all()
            # it accepts only a standing offer that leaves it better off
            acc = d.accept
            assert (v.other_offer[acc] >= 0).all()
            assert (v.own_gain[rows[acc], v.other_offer[acc]] > 0).all()

    def test_deterministic_and_row_independent(self, strategy):
        rng = np.random.default_rng(2)
        v = random_view(rng)
        a, b = strategy.respond(v), strategy.respond(v)
        assert np.array_equal(a.accept, b.accept) and np.array_equal(a.offer, b.offer)
        for r in range(v.own_gain.shape[0]):
            one = strategy.respond(v.rows(np.arange(r, r + 1)))
            assert one.accept[0] == a.accept[r]
            if not a.accept[r]:
                assert one.offer[0] == a.offer[r]

    def test_nothing_to_accept_before_an_offer(self, strategy):
        rng = np.random.default_rng(3)
        v = random_view(rng)
        v = View(
            v.round,
            v.deadline,
            v.own_gain,
            v.other_gain,
            v.own_offer,
            np.full_like(v.other_offer, NO_PACKAGE),
            v.beta,
            v.tolerance,
        )
        assert not strategy.respond(v).accept.any()


# --------------------------------------------------------------------------- scripted opponents


def play_against_fixed(strategy, own, other, fixed, deadline, beta=1.0, tolerance=0.0):
    """The strategy answers an opponent who offers `fixed` every round. Returns the list of
    (round, accepted, offer)."""
    history, own_offer = [], NO_PACKAGE
    for t in range(1, deadline + 1):
        v = View(
            t,
            np.array([deadline]),
            own[None],
            other[None],
            np.array([own_offer]),
            np.array([fixed]),
            np.array([beta]),
            np.array([tolerance]),
        )
        d = strategy.respond(v)
        history.append((t, bool(d.accept[0]), int(d.offer[0])))
        if d.accept[0]:
            break
        own_offer = int(d.offer[0])
    return history


def test_time_dependent_concedes_with_time_and_beta_orders_the_families():
    own = np.linspace(0.01, 1.0, 100)
    other = 1.01 - own  # pure conflict: every concession gives the other side more
    fixed = int(np.argmin(own))  # the opponent never moves from our worst package
    given = {}
    for beta in (0.2, 1.0, 5.0):
        h = play_against_fixed(TimeDependent(), own, other, fixed, deadline=20, beta=beta)
        offers = [o for _, acc, o in h if not acc]
        asked = [own[o] for o in offers]
        assert all(a >= b for a, b in itertools.pairwise(asked))  # never asks for more later
        target = own.max() * (1 - (9 / 18) ** (1 / beta))
        assert asked[9] >= target  # meets its own target at t = 10
        given[beta] = other[offers[9]]  # what it gives the other side by then
    assert given[0.2] < given[1.0] < given[5.0]  # Boulware < linear < Conceder


def test_time_dependent_target_formula():
    v = View(
        5,
        np.array([20]),
        np.array([[0.1, 0.8, 0.4]]),
        np.zeros((1, 3)),
        np.array([-1]),
        np.array([-1]),
        np.array([0.5]),
        np.array([0.0]),
    )
    assert np.isclose(
        TimeDependent.target(v)[0], 0.8 * (1 - (4 / 18) ** 2)
    )  # rounds 1..19 answerable: 4 of 18 steps gone


def test_time_dependent_accepts_when_the_offer_beats_its_own_next_offer():
    own = np.array([0.9, 0.5, 0.3, 0.05])
    other = np.array([0.0, 0.3, 0.6, 0.9])
    h = play_against_fixed(TimeDependent(), own, other, fixed=1, deadline=10, beta=1.0)
    t, accepted, _ = h[-1]
    assert accepted
    target = 0.9 * (1 - (t - 1) / 8)
    assert own[1] >= target - 1e-12  # it took 0.5 once its own demand fell to it
    before = 0.9 * (1 - (t - 2) / 8)
    assert own[1] < before


def test_zeuthen_concedes_only_while_its_risk_is_smaller():
    own = np.array([1.0, 0.8, 0.6, 0.4, 0.2])
    other = np.array([0.2, 0.4, 0.6, 0.8, 1.0])
    nash = own * other  # 0.2 0.32 0.36 0.32 0.2: package 2 is the Nash point
    h = play_against_fixed(Zeuthen(), own, other, fixed=3, deadline=10)
    offers = [o for _, acc, o in h if not acc]
    assert offers[0] == 0  # opens with its best
    # from 0 (N=.2 <= N(3)=.32) it concedes to the best package with N > .32: package 2
    assert offers[1] == 2 and nash[2] > nash[3]
    assert offers[2:] == [2] * len(offers[2:])  # then stands firm: its risk is now the larger
    r_own = risk(own[2], own[3])
    r_other = risk(other[3], other[2])
    assert r_own > r_other


def test_zeuthen_accepts_the_nash_point_when_nothing_beats_it():
    own = np.array([1.0, 0.8, 0.6, 0.4, 0.2])
    other = np.array([0.2, 0.4, 0.6, 0.8, 1.0])
    h = play_against_fixed(Zeuthen(), own, other, fixed=2, deadline=10)
    assert h[-1][1] and h[-1][0] <= 3  # accepts the Nash package 2 after its opening


def test_hardliner_never_moves_and_accepts_only_near_its_best():
    own = np.array([1.0, 0.95, 0.7, 0.3])
    other = np.array([0.1, 0.2, 0.5, 0.9])
    h = play_against_fixed(Hardliner(), own, other, fixed=2, deadline=8)
    assert [o for _, _, o in h] == [0] * 8 and not any(a for _, a, _ in h)
    h = play_against_fixed(Hardliner(), own, other, fixed=1, deadline=8, tolerance=0.1)
    assert h[0][1]  # 0.95 >= 0.9 x 1.0: accepted at once


def _best_by_masks(primary, secondary, allowed):
    """The package search written as numpy masks: highest primary among the allowed,
    then highest secondary among those tied, then the lowest number; -1 if none."""
    p = np.where(allowed, primary, -np.inf)
    tied = allowed & (p == p.max(axis=1, keepdims=True))
    q = np.where(tied, secondary, -np.inf)
    chosen = (tied & (q == q.max(axis=1, keepdims=True))).argmax(axis=1)
    return np.where(allowed.any(axis=1), chosen, -1)


def test_compiled_searches_equal_the_masked_search():
    """The strategies search packages in compiled loops without branches; their offers
    must be what the masked numpy search picks over the packages each rule allows,
    ties and excluded (-inf) packages included."""
    rng = np.random.default_rng(8)
    none = np.full(20, NO_PACKAGE)
    for _ in range(300):
        own = rng.choice([-np.inf, -0.2, 0.0, 0.1, 0.3, 0.3, 0.7], size=(20, 12))  # many ties
        other = rng.choice([-1.0, 0.0, 0.2, 0.2, 0.5, 0.9], size=(20, 12))
        other[np.isneginf(own)] = -np.inf  # rejected for both
        v = View(
            int(rng.integers(1, 10)), np.full(20, 10), own, other, none, none, rng.uniform(0.2, 3, 20), np.zeros(20)
        )
        # hardliner: its best package among those it gains from
        assert np.array_equal(Hardliner().respond(v).offer, _best_by_masks(own, other, own > 0))
        # time-dependent: the other side's best among the packages meeting its demand
        demand = TimeDependent.target(v)[:, None]
        assert np.array_equal(TimeDependent().respond(v).offer, _best_by_masks(other, own, (own > 0) & (own >= demand)))
        # Zeuthen's opening: its best among packages both gain from, the Nash product breaking ties
        both = (own > 0) & (other > 0)
        nash = np.where(both, np.where(both, own, 1.0) * np.where(both, other, 1.0), -np.inf)
        assert np.array_equal(Zeuthen().respond(v).offer, _best_by_masks(own, nash, both))
