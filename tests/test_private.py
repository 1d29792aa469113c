"""Private information: a side's reservation known only to itself, the other's prior over
it and Bayes' rule (sim.protocol.believe and learn), and the belief-based strategy.

Oracles from Fearon (1995, "Rationalist explanations for war"): a proposer facing a
responder whose reservation r is private and uniform on [0, 1], over one divisible
issue, offers x to maximise (1 - x) P(r < x) = (1 - x) x, so x* = 1/2 and talks break
down with probability 1/2; after a rejected offer x the posterior is uniform above x;
with a degenerate prior, complete information returns.
"""

import copy

import numpy as np
import pytest

from dipsim.sim import draws
from dipsim.sim import scenario as sc
from dipsim.sim.model import NegotiationModel
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate

from .conftest import make, point, random_preferences
from .test_engines import assert_same

STEPS = 100  # the divisible issue in steps of 1/100


def ultimatum(top_type: int = STEPS, responder: str = "time_dependent", deadline: int = 2) -> dict:
    """Proposer p and responder q divide one unit in steps of 1/STEPS: p's utility is 1 - x,
    q's is x (the share q gets), both reservations 0 but q's private, drawn uniform on [0, 1]
    in every run; p's prior over it uniform on the types 0, 1/STEPS, ..., top_type/STEPS."""
    shares = [k / STEPS for k in range(STEPS + 1)]
    types = shares[: top_type + 1]

    def party(label, values, strategy):
        return {
            "label": label,
            "strategy": strategy,
            "utility": {
                "treaty": {"value": 0.0, "source": "test"},
                "reservation": {"value": 0.0, "source": "test"},
                "issues": {"share": {"weight": 1.0, "values": values, "source": "test"}},
            },
            "anticipation": {"value": 0.0, "source": "test"},
            "public": {
                "label": f"{label}'s public",
                "base": {"value": 0.5, "source": "test"},
                "volatility": {"value": 0.0, "source": "test"},
                "threshold": {"value": 0.5, "source": "test"},
                "margin": {"value": 0.5, "source": "test"},
            },
        }

    q_strategy = {"kind": responder, "source": "test", **({"beta": 1.0} if responder == "time_dependent" else {})}
    q = party("Q", shares, q_strategy)
    q["utility"]["reservation"] = {"value": 0.5, "dist": "uniform", "low": 0.0, "high": 1.0, "source": "test"}
    q["private"] = {
        "reservation": {"types": types, "prior": [1.0 / len(types)] * len(types), "source": "uniform prior"}
    }
    return {
        "name": "ultimatum",
        "title": "Ultimatum over one divisible issue",
        "description": "Fearon's risk-return trade-off.",
        "sources": {"F": "Fearon 1995"},
        "protocol": "bargaining",
        "negotiation": {"deadline": deadline, "opener": "p", "ratification": False, "source": "test"},
        "issues": {"share": {"label": "Q's share", "options": [f"{k}" for k in range(STEPS + 1)], "source": "test"}},
        "parties": {
            "p": party("P", [1.0 - x for x in shares], {"kind": "bayesian", "source": "test"}),
            "q": q,
        },
    }


def test_proposer_offers_half_and_half_the_talks_break_down():
    """x* = 1/2 on the grid (the product (1 - x) x is largest there, by 1e-4 over its
    neighbours), and the responder, who takes any gain in the last round, accepts it when
    its reservation is below 1/2: breakdowns are Binomial(n, 1/2)."""
    assert_fearon(make(ultimatum()))


def assert_fearon(spec, n: int = 4000):
    """The proposer offers x = 1/2 in every one of n runs, and the talks break down in a
    share of them within four standard errors of 1/2 (Binomial(n, 1/2): the check fails by
    chance 6e-5 of the time). Returns the per-round record."""
    outcomes, rounds = simulate(spec, draws.run_seeds(7, 0, np.arange(n)), engine="batch", rounds=True)
    first = rounds["round"] == 1
    assert (rounds["offer_p"][first] == STEPS // 2).all()  # x = 1/2 in every run
    # the responder turns it down (deadline reached) or, with a reservation above 0.99, finds
    # no package on the grid worth more than nothing to it (no package acceptable to both)
    assert set(outcomes.reason.tolist()) <= {0, 1, 2}
    broke = (outcomes.reason != 0).mean()
    se = np.sqrt(0.25 / n)
    assert abs(broke - 0.5) < 4 * se, (broke, se)
    return rounds


def test_posterior_after_a_rejected_offer_is_uniform_above_it():
    """A hardliner responder turns down x = 1/2 and counters with its best share, 1, which
    every type but 1 gains from (types stop at 0.99 so that the counter rules none out):
    the proposer's posterior is uniform on 0.50, ..., 0.99 and zero below."""
    model = NegotiationModel(make(ultimatum(top_type=STEPS - 1, responder="hardliner", deadline=3)), rng=11)
    model.step()
    weights = model.state.belief[1, :STEPS].copy()
    np.testing.assert_array_equal(weights, np.full(STEPS, 1.0 / STEPS))  # round 1: the prior
    model.step()
    assert int(model.state.ints[0]) == STEPS // 2  # the proposer's offer of 1/2 still stands, turned down
    weights = model.state.belief[1, :STEPS]
    assert (weights[: STEPS // 2] == 0).all()
    np.testing.assert_allclose(weights[STEPS // 2 :], 1.0 / (STEPS // 2), rtol=1e-12)
    record = model.datacollector.get_model_vars_dataframe()
    assert record["p_expects_q_reservation"].iloc[0] == pytest.approx(0.495, abs=1e-12)  # the prior's mean
    assert record["p_expects_q_reservation"].iloc[1] == pytest.approx(0.745, abs=1e-12)  # (0.50 + 0.99) / 2


def test_noise_weighs_a_rejection_instead_of_ruling_types_out():
    data = ultimatum(top_type=STEPS - 1, responder="hardliner", deadline=3)
    data["parties"]["q"]["private"]["reservation"]["noise"] = 0.25
    model = NegotiationModel(make(data), rng=11)
    model.step()
    model.step()
    w = model.state.belief[1, :STEPS]
    # types below 1/2 would have taken it: weight 0.25 each against 1 above, then normalised
    np.testing.assert_allclose(w[: STEPS // 2], 0.25 / (0.25 * 50 + 50), rtol=1e-12)
    np.testing.assert_allclose(w[STEPS // 2 :], 1.0 / (0.25 * 50 + 50), rtol=1e-12)


def _with_private(
    data: dict, pid: str, types: list[float], prior: list[float], noise: float = 0.0, what: str = "reservation"
) -> dict:
    data = copy.deepcopy(data)
    data["parties"][pid]["private"] = {what: {"types": types, "prior": prior, "noise": noise, "source": "test"}}
    return data


def test_a_private_treaty_value_is_a_private_reservation_mirrored():
    """The responder's value of a treaty itself, uniform on [-1, 0] and private (the
    proposer's prior uniform on -1, -0.99, ..., 0), with its reservation 0: it gains from
    x exactly when x > -value, as a reservation uniform on [0, 1]. Fearon's oracle again:
    x = 1/2 in every run, half the talks break down."""
    data = ultimatum()
    q = data["parties"]["q"]
    q["utility"]["reservation"] = {"value": 0.0, "source": "test"}
    q["utility"]["treaty"] = {"value": -0.5, "dist": "uniform", "low": -1.0, "high": 0.0, "source": "test"}
    types = [-k / STEPS for k in range(STEPS + 1)]
    q["private"] = {"treaty": {"types": types, "prior": [1.0 / len(types)] * len(types), "source": "test"}}
    rounds = assert_fearon(make(data))
    assert "p_expects_q_treaty_value" in rounds
    mesa = simulate(make(data), draws.run_seeds(7, 0, np.arange(200)), engine="mesa", rounds=True)
    batch = simulate(make(data), draws.run_seeds(7, 0, np.arange(200)), engine="batch", rounds=True)
    assert_same(mesa, batch)


@pytest.mark.parametrize("what", ["reservation", "treaty"])
@pytest.mark.parametrize("kinds", [("time_dependent", "time_dependent"), ("bayesian", "zeuthen")])
def test_a_degenerate_prior_is_complete_information(point_raw, kinds, what):
    """Each side's prior puts probability 1 on the other's true reservation: every run, round
    and record column the complete-information run has come out identical."""
    data = point(copy.deepcopy(point_raw))
    data["outside"]["usa"]["active"] = False  # (with it, the point baseline's talks all end alike)
    for pid, kind in zip(data["parties"], kinds):
        data["parties"][pid]["strategy"] = {"kind": kind, "source": "test", "beta": 0.5, "discount": 0.97}
    plain = make(data)
    private = data
    for pid in data["parties"]:
        r = data["parties"][pid]["utility"][what]["value"]
        private = _with_private(private, pid, [r - 0.2, r, r + 0.3], [0.0, 1.0, 0.0], noise=0.3, what=what)
    seeds = draws.run_seeds(3, 0, np.arange(300))
    a_out, a_rounds = simulate(plain, seeds, engine="batch", rounds=True)
    b_out, b_rounds = simulate(make(private), seeds, engine="batch", rounds=True)
    assert_same((a_out, a_rounds), (b_out, {k: b_rounds[k] for k in a_rounds}))
    assert np.array_equal(a_out.chance, b_out.chance, equal_nan=True)
    name = "reservation" if what == "reservation" else "treaty_value"
    assert {f"russia_expects_japan_{name}", f"japan_expects_russia_{name}"} <= set(b_rounds)
    assert len(set(a_out.reason.tolist())) > 1  # the runs differ among themselves


def test_a_prior_that_is_wrong_changes_the_talks(point_raw):
    """Not a tautology: Russia, bargaining on its belief, believing Japan's reservation
    lower than it is, asks for more than Japan will sign, and the runs change."""
    data = point(copy.deepcopy(point_raw))
    data["outside"]["usa"]["active"] = False  # (with it, the point baseline's talks all end alike)
    data["parties"]["russia"]["strategy"] = {"kind": "bayesian", "source": "test"}
    r = data["parties"]["japan"]["utility"]["reservation"]["value"]
    seeds = draws.run_seeds(3, 0, np.arange(200))
    plain, _ = simulate(make(data), seeds, engine="batch")
    wrong, _ = simulate(make(_with_private(data, "japan", [r - 0.3], [1.0])), seeds, engine="batch")
    assert not (np.array_equal(plain.reason, wrong.reason) and np.array_equal(plain.end_round, wrong.end_round))


def test_engines_agree_with_private_information(baseline_raw):
    """Random preferences, strategies (the belief-based one among them), priors and noise,
    both reservations private: the Mesa model and the batch engine play every run alike."""
    rng = np.random.default_rng(21)
    kinds = ("time_dependent", "zeuthen", "hardliner", "rubinstein", "bayesian")
    scenarios = []
    for i in range(300):
        data = random_preferences(baseline_raw, rng, strategies=(kinds[i % 5], kinds[(i // 5) % 5]))
        for pid in data["parties"]:
            data["parties"][pid]["strategy"]["patience"] = int(rng.integers(0, 6))
            data["parties"][pid]["strategy"]["discount"] = float(rng.uniform(0.8, 1.0))
            data["parties"][pid]["anticipation"]["value"] = float(rng.uniform(0, 1))
            types = np.sort(rng.uniform(0.0, 1.0, 7)).round(3)
            prior = rng.dirichlet(np.ones(7))
            prior[-1] = 1.0 - prior[:-1].sum()
            data = _with_private(data, pid, types.tolist(), prior.tolist(), float(rng.choice([0.0, 0.3])))
        data["negotiation"]["deadline"] = int(rng.integers(3, 30))
        data["negotiation"]["after_failed_ratification"] = "continue" if i % 2 else "end"
        scenarios.append(make(data))
    tables = Tables.from_scenarios(scenarios)
    seeds = draws.run_seeds(5, np.arange(tables.runs), np.zeros(tables.runs, np.int64))
    mesa, batch = simulate(tables, seeds, engine="mesa"), simulate(tables, seeds, engine="batch")
    assert_same(mesa, batch)
    beliefs = batch[1]["russia_expects_japan_reservation"]
    assert np.unique(beliefs.round(6)).size > 300  # beliefs moved, run by run and round by round
    assert {0, 1, 2} <= set(batch[0].reason.tolist())


@pytest.mark.parametrize(
    ("change", "key", "allowed"),
    [
        (lambda r: r.update(prior=[0.5, 0.5]), "parties.q.private.reservation.prior", "one per type"),
        (lambda r: r.update(types=[0.1, 0.2], prior=[0.5, 0.6]), "parties.q.private.reservation.prior", "sum to 1"),
        (lambda r: r.update(types=[0.1, 2.5], prior=[0.5, 0.5]), "parties.q.private.reservation.types.1", "2"),
        (lambda r: r.update(noise=1.0), "parties.q.private.reservation.noise", "1"),
        (lambda r: r.update(belief=0.3), "parties.q.private.reservation.belief", ""),
    ],
)
def test_bad_priors_are_named(change, key, allowed):
    data = ultimatum(top_type=2)
    change(data["parties"]["q"]["private"]["reservation"])
    with pytest.raises(sc.ScenarioError) as err:
        make(data)
    text = str(err.value)
    assert key in text and allowed in text, text


@pytest.mark.parametrize(
    ("private", "key", "allowed"),
    [
        ({}, "parties.q.private", "exactly one of reservation, treaty"),
        (
            {
                "reservation": {"types": [0.1], "prior": [1.0], "source": "t"},
                "treaty": {"types": [0.1], "prior": [1.0], "source": "t"},
            },
            "parties.q.private",
            "exactly one",
        ),
        (
            {"treaty": {"types": [0.1, 1.5], "prior": [0.5, 0.5], "source": "t"}},
            "parties.q.private.treaty.types.1",
            "-1 to 1",
        ),
    ],
)
def test_one_private_belief_in_its_range(private, key, allowed):
    data = ultimatum(top_type=2)
    data["parties"]["q"]["private"] = private
    with pytest.raises(sc.ScenarioError) as err:
        make(data)
    assert key in str(err.value) and allowed in str(err.value), str(err.value)
