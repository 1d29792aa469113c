"""Time, stalls and the outsider: talks that stall rather than end when no zone of
agreement is left, a last round the negotiators know only as a range, and an outside
power whose alarm rises smoothly and whose threat counts the chance a deal is ratified.
Each is a switch in the scenario file; off, the talks are those of before, run for run."""

import copy
from types import SimpleNamespace

import numpy as np
import pytest

from dipsim.sim import draws, protocol
from dipsim.sim import scenario as sc
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate

from .conftest import CLASSIC_SETS, make, point
from .test_engines import assert_same
from .test_private import ultimatum

N = 1000


def _seeds(n=N, root=5):
    return draws.run_seeds(root, 0, np.arange(n))


# --------------------------------------------------------------------------- stalls


def test_stalled_talks_keep_every_agreement_and_find_more():
    """Run for run on the same seeds and worlds: a run that agreed a package when talks with
    no zone ended agrees the same package in the same round when they stall (it never met a
    round without a zone before), and rounds up to an ending for want of a zone are
    identical. Stalling only adds rounds to runs that would have ended."""
    end_spec = sc.load(sc.find_scenario("baseline"), CLASSIC_SETS)
    stall = sc.load(sc.find_scenario("baseline"), [*CLASSIC_SETS, 'negotiation.when_no_zone="stall"'])
    seeds = _seeds()
    end, _ = simulate(end_spec, seeds)
    go_on, _ = simulate(stall, seeds)
    agreed = end.attempts > 0
    assert agreed.sum() > 50 and (end.reason == protocol.NO_ACCEPTABLE_PACKAGE).sum() > 300
    assert np.array_equal(end.agreed[agreed], go_on.agreed[agreed])
    first_vote = {int(r): int(t) for r, t in zip(*np.unique(end.votes["run"], return_index=True))}
    for run in np.flatnonzero(agreed)[:200]:
        mine = go_on.votes["run"] == run
        assert go_on.votes["round"][mine][0] == end.votes["round"][first_vote[run]]
    assert not (go_on.reason == protocol.NO_ACCEPTABLE_PACKAGE).any()  # stalled talks never end for that
    assert (go_on.attempts > 0).sum() > agreed.sum()  # and some of them reach an agreement later
    nothing = end.reason == protocol.NO_ACCEPTABLE_PACKAGE
    assert (go_on.end_round[nothing] >= end.end_round[nothing]).all()


def test_what_the_constitutional_ban_rules_out_stays_ruled_out_when_talks_stall():
    """russian_hardline_public as shipped (talks stall): no treaty transfers an island in any
    world (a transfer is worth 0 to Russia, its treaty value at most 0.10: never its status
    quo of 0.55), and without a zone the talks do not end for want of one."""
    hard = sc.load(sc.find_scenario("russian_hardline_public"))
    assert hard.negotiation.when_no_zone == "stall"
    out, _ = simulate(hard, _seeds(1000))
    space = Tables.from_scenarios([hard]).space
    treaties = out.agreed[out.reason == protocol.TREATY]
    assert all(space.terms(int(p))["territory"] == "none" for p in treaties)
    assert not (out.reason == protocol.NO_ACCEPTABLE_PACKAGE).any()


# --------------------------------------------------------------------------- the last round


def _hardliners(spread: int, deadline: int = 10) -> dict:
    """Two hardliners who never give ground but each gains from the other's demand: they
    agree only in a round each knows to be the last."""
    data = ultimatum(top_type=0, responder="hardliner", deadline=deadline)
    data["parties"]["p"]["strategy"] = {"kind": "hardliner", "source": "test"}
    data["parties"]["q"].pop("private")
    for pid in ("p", "q"):  # each gains 0.5 from the other's demand (x = 1 for q, 0 for p)
        data["parties"][pid]["utility"]["reservation"] = {"value": -0.5, "source": "test"}
    data["negotiation"]["deadline_spread"] = spread
    return data


def test_a_known_deadline_is_a_cliff():
    out, _ = simulate(make(_hardliners(0)), _seeds(200))
    assert (out.reason == protocol.TREATY).all() and (out.end_round == 10).all()


def test_an_uncertain_deadline_is_uniform_and_no_cliff():
    """The last round is uniform on 10 - 3 .. 10 + 3; the hardliners take the other's
    demand only in round 13, the last one possible, so a treaty is exactly a run that
    reached it, and no run ends in agreement before."""
    n = 7000
    out, _ = simulate(make(_hardliners(3)), _seeds(n))
    counts = np.bincount(out.end_round, minlength=14)[7:14]
    assert out.end_round.min() == 7 and out.end_round.max() == 13
    se = np.sqrt(n * (1 / 7) * (6 / 7))
    assert (np.abs(counts - n / 7) < 4 * se).all(), counts
    treaty = out.reason == protocol.TREATY
    assert np.array_equal(treaty, out.end_round == 13)
    assert (out.reason[~treaty] == protocol.DEADLINE).all()


def test_the_last_round_is_the_same_in_both_engines_and_any_company():
    data = _hardliners(3)
    seeds = _seeds(300)
    spec = make(data)
    assert_same(simulate(spec, seeds, engine="mesa"), simulate(spec, seeds, engine="batch"))
    alone = [simulate(spec, seeds[i : i + 1])[0].end_round[0] for i in range(20)]
    assert alone == simulate(spec, seeds)[0].end_round[:20].tolist()


def test_a_spread_must_leave_a_first_round():
    data = _hardliners(10)
    with pytest.raises(sc.ScenarioError) as err:
        make(data)
    assert "negotiation.deadline_spread" in str(err.value) and "0 to 9" in str(err.value)


# --------------------------------------------------------------------------- the price of a round


@pytest.mark.parametrize(("cost", "walks"), [(0.25, True), (0.24, False)])
def test_a_round_that_costs_more_than_the_talks_promise_ends_them(cost, walks):
    """The ultimatum proposer's best prospect is (1 - 1/2) x 50/101 = 0.2475 (x = 1/2 on
    the grid, accepted by the 50 types below it of 101): a round costing 0.25 is not
    worth it and it walks away at once; at 0.24 it offers 1/2 and the runs are those of
    talks that cost nothing."""
    data = ultimatum()
    free, _ = simulate(make(data), _seeds(500))
    data["parties"]["p"]["round_cost"] = {"value": cost, "source": "test"}
    out, _ = simulate(make(data), _seeds(500))
    if walks:
        assert (out.reason == protocol.WALKED_AWAY).all() and (out.end_round == 1).all()
    else:
        assert np.array_equal(out.reason, free.reason) and np.array_equal(out.agreed, free.agreed)


# --------------------------------------------------------------------------- the outside power


def _usa(raw, **outside):
    """The point scenario of ``raw`` with the USA's ``outside`` settings, its packages
    assessed without pressure: its tables, its run state and the USA's move on a package."""
    data = point(copy.deepcopy(raw))
    data["outside"]["usa"].update(outside)
    tables = Tables.from_scenarios([make(data)])
    rows = tables.compiled()
    run = protocol.RunState(rows, tables.space.counts, tables.space.pair_cells, 0)
    protocol.refresh(*rows, 0, run.tables, 0.0, 0.0, run.ints, run.reals, run.rejected, run.packages, run.gaining)

    def move(package):
        run.ints[protocol.pi(1, protocol.STANDING)] = package
        alarm, pressure, _, _ = protocol.outside_move(1, *rows[:2], 0, run.tables, run.packages, run.ints)
        return SimpleNamespace(alarm=alarm, pressure=pressure)

    return tables, run, move


def _deal(tables):
    return tables.space.package_of(
        {"territory": "Habomai+Shikotan", "sanctions": "lifted", "economy": "high", "security": "no guarantee"}
    )


def test_smooth_alarm_is_one_minus_exp_and_never_above_linear(point_raw):
    tables, _, smooth = _usa(point_raw, alarm="smooth")
    _, _, linear = _usa(point_raw)
    deal = _deal(tables)
    threat = 0.95 - tables.outside.utility[0, deal]
    excess = threat - 0.02  # the point baseline's goodwill cost
    assert smooth(deal).alarm == pytest.approx(1.0 - np.exp(-5.0 * excess), rel=1e-12)
    assert linear(deal).alarm == pytest.approx(min(1.0, 5.0 * excess), rel=1e-12)
    for package in range(tables.space.size):
        assert smooth(package).alarm <= linear(package).alarm + 1e-15
        assert smooth(package).alarm < 1.0


def test_an_expected_threat_counts_the_chance_both_publics_ratify(point_raw):
    tables, run, expected = _usa(point_raw, threat="expected")
    deal = _deal(tables)
    p = []
    for party in tables.parties:
        accepting = np.clip(party.acceptance[0, deal], 0, 1)
        p.append(np.clip((accepting - party.threshold[0]) / (2 * party.margin[0]) + 0.5, 0, 1))
    threat = (0.95 - tables.outside.utility[0, deal]) * p[0] * p[1]
    assert run.packages[protocol.BOTH, deal] == pytest.approx(p[0] * p[1], rel=1e-12)
    assert expected(deal).alarm == pytest.approx(float(np.clip(5.0 * (threat - 0.02), 0, 1)), rel=1e-12)
    # a deal the Russian public would almost surely reject alarms the USA little
    hostile = point(copy.deepcopy(point_raw))
    hostile["parties"]["russia"]["public"]["base"]["value"] = 0.0
    hostile["parties"]["russia"]["public"]["margin"]["value"] = 0.05
    for threat_kind, alarmed in (("certain", True), ("expected", False)):
        t, _, move = _usa(hostile, threat=threat_kind)
        alarm = move(_deal(t)).alarm
        assert (alarm > 0.5) is alarmed, (threat_kind, alarm)


# --------------------------------------------------------------------------- together


def test_engines_agree_with_every_switch_on_random_tables(baseline_raw):
    from .conftest import random_preferences

    rng = np.random.default_rng(31)
    kinds = ("time_dependent", "zeuthen", "hardliner", "rubinstein", "bayesian")
    scenarios = []
    for i in range(300):
        data = random_preferences(baseline_raw, rng, strategies=(kinds[i % 5], kinds[(i // 5) % 5]))
        for pid in data["parties"]:
            data["parties"][pid]["strategy"]["patience"] = int(rng.integers(0, 8))
            data["parties"][pid]["anticipation"]["value"] = float(rng.uniform(0, 1))
            data["parties"][pid]["public"]["volatility"]["value"] = float(rng.uniform(0, 0.1))
        deadline = int(rng.integers(4, 30))
        data["negotiation"].update(
            deadline=deadline,
            deadline_spread=int(rng.integers(0, min(deadline, 6))),
            when_no_zone=("end", "stall")[i % 2],
            after_failed_ratification=("end", "continue")[(i // 2) % 2],
        )
        data["outside"]["usa"].update(
            alarm=("linear", "smooth")[(i // 4) % 2], threat=("certain", "expected")[i % 3 > 0]
        )
        data["outside"]["usa"]["response"]["value"] = float(rng.uniform(0, 10))
        if i % 3 == 0:
            for pid in data["parties"]:
                data["parties"][pid]["round_cost"] = {"value": float(rng.uniform(0, 0.15)), "source": "test"}
        scenarios.append(make(data))
    tables = Tables.from_scenarios(scenarios)
    seeds = draws.run_seeds(5, np.arange(tables.runs), np.zeros(tables.runs, np.int64))
    mesa, batch = simulate(tables, seeds, engine="mesa"), simulate(tables, seeds, engine="batch")
    assert_same(mesa, batch)
    reasons = set(batch[0].reason.tolist())
    assert {0, 1, 2} <= reasons and (reasons & {3, 4}) and (reasons & {5, 6, 7})
