"""Private information: a side's reservation (or its treaty value, or any one number of
its utility) known only to itself, the other's prior over it and Bayes' rule
(sim.protocol.believe and learn), and the belief-based strategy.

Oracles from Fearon (1995, "Rationalist explanations for war"): a proposer facing a
responder whose reservation r is private and uniform on [0, 1], over one divisible
issue, offers x to maximise (1 - x) P(r < x) = (1 - x) x, so x* = 1/2 and talks break
down with probability 1/2; after a rejected offer x the posterior is uniform above x;
with a degenerate prior, complete information returns.
"""

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomli_w

from dipsim.sim import draws
from dipsim.sim import scenario as sc
from dipsim.sim.model import NegotiationModel
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate

from .conftest import SCENARIOS, make, point, random_preferences
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
    assert int(model.state.offers[0]) == STEPS // 2  # the proposer's offer of 1/2 still stands, turned down
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
        ({}, "parties.q.private", "exactly one of reservation, treaty, value"),
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


# --------------------------------------------------------------------------- any one number private


def _with_value(data: dict, pid: str, key: str, types: list[float], prior: list[float], noise: float = 0.0) -> dict:
    """``data`` with one number of party ``pid``'s utility private, by its key path under the party."""
    data = copy.deepcopy(data)
    data["parties"][pid]["private"] = {
        "value": {"key": key, "types": types, "prior": prior, "noise": noise, "source": "test"}
    }
    return data


def _leaf(data: dict, path: str):
    node = data
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


@pytest.mark.parametrize(
    ("key", "column"),
    [
        ("utility.issues.territory.values.2", "territory_2_value"),
        ("utility.issues.security.weight", "security_weight"),
        ("utility.issues.security.otherwise.1", "security_1_otherwise"),  # Japan's security has a `when`
    ],
)
def test_a_degenerate_prior_over_an_option_value_is_complete_information(point_raw, key, column):
    """Each side's prior over one number of the other's utility puts probability 1 on its
    true value (the other types lie on either side of it): every run, round and record
    column of the complete-information run comes out identical, in both engines."""
    data = point(copy.deepcopy(point_raw))
    data["outside"]["usa"]["active"] = False  # (with it, the point baseline's talks all end alike)
    for pid, kind in zip(data["parties"], ("bayesian", "time_dependent")):
        data["parties"][pid]["strategy"] = {"kind": kind, "source": "test", "beta": 0.5, "discount": 0.97}
    private = data
    for pid in data["parties"]:
        v = float(_leaf(data["parties"][pid], key))
        types = sorted({max(0.0, v - 0.2), v, min(1.0, v + 0.3)})
        prior = [1.0 if t == v else 0.0 for t in types]
        private = _with_value(private, pid, key, types, prior, noise=0.3)
    seeds = draws.run_seeds(3, 0, np.arange(300))
    a_out, a_rounds = simulate(make(data), seeds, engine="batch", rounds=True)
    b_out, b_rounds = simulate(make(private), seeds, engine="batch", rounds=True)
    assert_same((a_out, a_rounds), (b_out, {k: b_rounds[k] for k in a_rounds}))
    assert np.array_equal(a_out.chance, b_out.chance, equal_nan=True)
    assert f"russia_expects_japan_{column}" in b_rounds
    assert len(set(a_out.reason.tolist())) > 1  # the runs differ among themselves
    mesa = simulate(make(private), seeds[:60], engine="mesa", rounds=True)
    assert_same(mesa, simulate(make(private), seeds[:60], engine="batch", rounds=True))


@pytest.mark.parametrize(
    ("what", "key"), [("treaty", "utility.treaty.value"), ("reservation", "utility.reservation.value")]
)
def test_treaty_value_and_reservation_are_special_cases_of_a_private_number(point_raw, what, key):
    """`private.treaty` and `private.reservation` are the private numbers at
    utility.treaty.value (slope +1 in every package) and utility.reservation.value (-1):
    with the same wrong, spread priors and noise, the runs and every record column,
    named alike, come out identical; and they differ from complete information."""
    data = point(copy.deepcopy(point_raw))
    data["outside"]["usa"]["active"] = False
    for pid, kind in zip(data["parties"], ("bayesian", "zeuthen")):
        data["parties"][pid]["strategy"] = {"kind": kind, "source": "test", "discount": 0.97}
    named, generic = data, data
    for pid in data["parties"]:
        v = data["parties"][pid]["utility"][what]["value"]
        types, prior = [v - 0.15, v - 0.05, v + 0.1], [0.3, 0.3, 0.4]
        named = _with_private(named, pid, types, prior, noise=0.2, what=what)
        generic = _with_value(generic, pid, key, types, prior, noise=0.2)
    seeds = draws.run_seeds(4, 0, np.arange(300))
    a = simulate(make(named), seeds, engine="batch", rounds=True)
    b = simulate(make(generic), seeds, engine="batch", rounds=True)
    assert_same(a, b)
    name = "reservation" if what == "reservation" else "treaty_value"
    assert f"russia_expects_japan_{name}" in b[1]
    plain = simulate(make(data), seeds, engine="batch", rounds=False)[0]
    assert not np.array_equal(plain.end_round, a[0].end_round)  # the priors change the talks


def tiny(noise: float = 0.0) -> dict:
    """Proposer p (belief-based) and hardliner q over one issue with options a, b, c. q
    (reservation 0.5) values them 0, v_b = 0.4, 1; p values them 1, 0.7, 0.05 (reservation
    0). v_b is private, p's prior uniform on the types 0.2, 0.4, 0.6, 0.8."""
    data = ultimatum(deadline=4)
    data["issues"] = {"deal": {"label": "Deal", "options": ["a", "b", "c"], "source": "test"}}
    for pid, values in (("p", [1.0, 0.7, 0.05]), ("q", [0.0, 0.4, 1.0])):
        data["parties"][pid]["utility"]["issues"] = {"deal": {"weight": 1.0, "values": values, "source": "test"}}
    data["parties"]["q"]["utility"]["reservation"] = {"value": 0.5, "source": "test"}
    data["parties"]["q"]["strategy"] = {"kind": "hardliner", "source": "test"}
    return _with_value(data, "q", "utility.issues.deal.values.1", [0.2, 0.4, 0.6, 0.8], [0.25] * 4, noise)


@pytest.mark.parametrize(("noise", "posterior"), [(0.0, [0.5, 0.5, 0.0, 0.0]), (0.25, [0.4, 0.4, 0.1, 0.1])])
def test_a_rejected_offer_keeps_the_option_values_consistent_with_it(noise, posterior):
    """By hand. Round 1: p offers b, its best expected gain (0.7 x P(v_b > 0.5) = 0.35,
    against 0.05 x 1 for c; nobody accepts a). Round 2: q, a hardliner, turns b down and
    counters with c. c does not choose b, so every type gains from it alike (0.5): the
    counter says nothing. b's gain for q is v_b - 0.5 (slope 1, the weight): the types 0.6
    and 0.8 would have gained from it, so the refusal weighs them by the noise. Posterior
    (1, 1, noise, noise) / (2 + 2 noise): with noise 0, uniform on 0.2 and 0.4, whose mean
    0.3 the record gives; with 0.25, (0.4, 0.4, 0.1, 0.1)."""
    model = NegotiationModel(make(tiny(noise)), rng=5)
    model.step()
    assert int(model.state.offers[0]) == 1  # p offers b
    np.testing.assert_array_equal(model.state.belief[1, :4], [0.25] * 4)
    model.step()
    assert int(model.state.offers[1]) == 2 and int(model.state.offers[0]) == 1  # q counters c; b was turned down
    np.testing.assert_allclose(model.state.belief[1, :4], posterior, rtol=1e-12, atol=0)
    record = model.datacollector.get_model_vars_dataframe()
    assert record["p_expects_q_deal_1_value"].iloc[0] == pytest.approx(0.5, abs=1e-12)
    assert record["p_expects_q_deal_1_value"].iloc[1] == pytest.approx(np.dot(posterior, [0.2, 0.4, 0.6, 0.8]))


@pytest.mark.parametrize("key", ["utility.issues.territory.values.2", "utility.issues.economy.weight"])
def test_engines_agree_with_a_private_option_value(baseline_raw, key):
    """Random preferences, strategies, priors and noise, one number of each party's
    utility private (an option's value, an issue's weight; the same number in every run
    played together, which the tables require): the Mesa model and the batch engine play
    every run alike."""
    rng = np.random.default_rng(22)
    kinds = ("time_dependent", "zeuthen", "hardliner", "rubinstein", "bayesian")
    scenarios = []
    for i in range(200):
        data = random_preferences(baseline_raw, rng, strategies=(kinds[i % 5], kinds[(i // 5) % 5]))
        for pid in data["parties"]:
            data["parties"][pid]["strategy"]["patience"] = int(rng.integers(0, 6))
            data["parties"][pid]["strategy"]["discount"] = float(rng.uniform(0.8, 1.0))
            data["parties"][pid]["anticipation"]["value"] = float(rng.uniform(0, 1))
            types = np.sort(rng.uniform(0.0, 1.0, 5)).round(3)
            prior = rng.dirichlet(np.ones(5))
            prior[-1] = 1.0 - prior[:-1].sum()
            data = _with_value(data, pid, key, types.tolist(), prior.tolist(), float(rng.choice([0.0, 0.3])))
        data["negotiation"]["deadline"] = int(rng.integers(3, 30))
        data["negotiation"]["after_failed_ratification"] = "continue" if i % 2 else "end"
        scenarios.append(make(data))
    tables = Tables.from_scenarios(scenarios)
    seeds = draws.run_seeds(6, np.arange(tables.runs), np.zeros(tables.runs, np.int64))
    mesa, batch = simulate(tables, seeds, engine="mesa"), simulate(tables, seeds, engine="batch")
    assert_same(mesa, batch)
    assert {0, 1, 2} <= set(batch[0].reason.tolist())
    column = "russia_expects_japan_" + sc.private_label(key)
    assert np.unique(batch[1][column].round(6)).size > 100  # beliefs moved, run by run and round by round


def test_engines_agree_on_the_shipped_scenario_with_an_option_value_private():
    """private_reservations with Japan's value of two islands (drawn per run, as the
    baseline has it uncertain) private instead of its reservation: both engines alike."""
    data = sc.load(SCENARIOS / "private_reservations.toml").resolved()
    data["parties"]["japan"]["private"] = {
        "value": {
            "key": "utility.issues.territory.values.2",
            "types": [0.15, 0.25, 0.35, 0.45],
            "prior": [0.2, 0.3, 0.3, 0.2],
            "noise": 0.5,
            "source": "test",
        }
    }
    spec = sc.validate(data, file="test")
    seeds = draws.run_seeds(8, 0, np.arange(150))
    mesa, batch = simulate(spec, seeds, engine="mesa"), simulate(spec, seeds, engine="batch")
    assert_same(mesa, batch)
    beliefs = batch[1]["russia_expects_japan_territory_2_value"]
    assert np.unique(beliefs.round(6)).size > 3  # Russia learned, run by run


BAD_VALUES = {
    "unknown issue": (
        {"key": "utility.issues.islands.values.1"},
        "parties.q.private.value.key",
        "'utility.issues.islands.values.1'; allowed: a number of the party's own utility",
    ),
    "not a number of the utility": (
        {"key": "anticipation.value"},
        "parties.q.private.value.key",
        "allowed: a number of the party's own utility",
    ),
    "the issue's source": (
        {"key": "utility.issues.share.source"},
        "parties.q.private.value.key",
        "allowed: a number of the party's own utility",
    ),
    "no such option": (
        {"key": "utility.issues.share.values.101"},
        "parties.q.private.value.key",
        "allowed: an index from 0 to 100",
    ),
    "otherwise without when": (
        {"key": "utility.issues.share.otherwise.1"},
        "parties.q.private.value.key",
        "has no `otherwise`",
    ),
    "types out of range": (
        {"types": [0.1, 1.2]},
        "parties.q.private.value.types.1",
        "allowed: 0 to 1 (the range of utility.issues.share.values.1)",
    ),
    "a weight's types out of range": (
        {"key": "utility.issues.share.weight", "types": [-0.1, 0.5]},
        "parties.q.private.value.types.0",
        "allowed: 0 to 1",
    ),
    "two private at once": (
        {"reservation": True},
        "parties.q.private",
        "exactly one of reservation, treaty, value",
    ),
    "no key": ({"key": None}, "parties.q.private.value.key", "required key is missing"),
}


def _bad_value(change: dict) -> dict:
    data = ultimatum(top_type=2)
    value = {"key": "utility.issues.share.values.1", "types": [0.1, 0.2], "prior": [0.5, 0.5], "source": "t"}
    value.update({k: v for k, v in change.items() if k != "reservation"})
    value = {k: v for k, v in value.items() if v is not None}
    data["parties"]["q"]["private"] = {"value": value}
    if change.get("reservation"):
        data["parties"]["q"]["private"]["reservation"] = {"types": [0.1], "prior": [1.0], "source": "t"}
    return data


@pytest.mark.parametrize("case", BAD_VALUES, ids=list(BAD_VALUES))
def test_a_bad_private_number_is_one_clear_error(case):
    change, key, allowed = BAD_VALUES[case]
    with pytest.raises(sc.ScenarioError) as err:
        make(_bad_value(change))
    assert err.value.key == key and allowed in err.value.problem, str(err.value)


@pytest.mark.parametrize("case", ["unknown issue", "types out of range", "two private at once"])
def test_a_bad_private_number_exits_2_from_the_cli(tmp_path, case):
    change, key, allowed = BAD_VALUES[case]
    f = tmp_path / "bad.toml"
    f.write_bytes(tomli_w.dumps(_bad_value(change)).encode())
    dipsim = str(Path(sys.executable).parent / "dipsim")
    r = subprocess.run([dipsim, "check", str(f)], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert r.stderr.startswith("dipsim: error: ") and r.stderr.count("\n") == 1
    assert str(f) in r.stderr and key in r.stderr and allowed in r.stderr, r.stderr


@pytest.mark.parametrize(
    "key",
    [
        "utility.issues.territory.values.2",
        "utility.issues.security.values.1",  # Japan's security counts only where territory is not "none"
        "utility.issues.security.otherwise.1",
        "utility.issues.security.weight",
        "utility.treaty.value",
        "utility.reservation.value",
    ],
)
def test_the_slope_is_the_change_in_the_gain_per_unit_of_the_number(key):
    """On the baseline, its numbers drawn per run (conditional values and their pair cells
    among them): U - reservation with the private number raised by 0.5 minus as it is, is
    0.5 x the slope of every package, up to rounding; the slope is exactly a number of the
    scenario (or 0, 1, -1)."""
    data = sc.load(SCENARIOS / "private_reservations.toml").resolved()
    data = _with_value(data, "japan", key, [0.0, 0.5], [0.5, 0.5])
    spec = sc.validate(data, file="test")
    tables, drawn = Tables.for_seeds(spec, draws.run_seeds(1, 0, np.arange(40)))
    japan = tables.parties[1]
    slope = tables.space.expand(japan.private_terms)
    raised = Tables.from_columns(spec, {**drawn, f"parties.japan.{key}": japan.private_value + 0.5}, 40).parties[1]
    change = (raised.utility - raised.reservation[:, None]) - (japan.utility - japan.reservation[:, None])
    np.testing.assert_allclose(change, 0.5 * slope, rtol=0, atol=1e-15)
    if ".values." in key or ".otherwise." in key:  # the weight where the option counts, else 0
        assert set(np.unique(slope).tolist()) == {0.0, spec.parties["japan"].utility.issues[key.split(".")[2]].weight}
    elif key in ("utility.treaty.value", "utility.reservation.value"):  # +1 and -1 in every package
        assert set(np.unique(slope).tolist()) == {1.0 if "treaty" in key else -1.0}


def test_which_number_is_private_is_the_same_in_every_run(point_raw):
    a = _with_value(point_raw, "japan", "utility.issues.territory.values.2", [0.2, 0.3], [0.5, 0.5])
    b = _with_value(point_raw, "japan", "utility.issues.territory.values.3", [0.5, 0.6], [0.5, 0.5])
    with pytest.raises(ValueError, match="same in every run"):
        Tables.from_scenarios([make(a), make(b)])
