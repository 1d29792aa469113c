"""One round's rules: turn order, the USA's rule, walking away, ratification, deadline."""

from types import SimpleNamespace

import numpy as np

from dipsim.sim import protocol
from dipsim.sim.model import NegotiationModel
from dipsim.sim.preferences import Tables
from dipsim.sim.run import play, simulate

from .conftest import make


def with_changes(raw, **paths):
    import copy

    data = copy.deepcopy(raw)
    for path, value in paths.items():
        node = data
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return make(data)


def test_turns_alternate_from_the_opener():
    opener = np.array([0, 1])
    assert protocol.mover(1, opener, 2).tolist() == [0, 1]
    assert protocol.mover(2, opener, 2).tolist() == [1, 0]
    assert protocol.mover(7, opener, 2).tolist() == [0, 1]


def test_at_a_table_of_three_each_moves_in_turn_from_the_opener():
    assert [protocol.mover(t, 1, 3) for t in range(1, 8)] == [1, 2, 0, 1, 2, 0, 1]


def test_usa_rule(baseline_tables):
    t = baseline_tables
    rows = t.compiled()
    run = protocol.RunState(rows, t.space.counts, t.space.pair_cells, 0)

    def move(offer0, offer1):
        run.ints[protocol.pi(0, protocol.STANDING)], run.ints[protocol.pi(1, protocol.STANDING)] = offer0, offer1
        alarm, pressure, rhetoric, felt = protocol.outside_move(1, *rows[:2], 0, run.tables, run.packages, run.ints)
        return SimpleNamespace(alarm=alarm, pressure=pressure, rhetoric=rhetoric, effective=felt)

    none = move(-1, -1)
    assert none.alarm == 0 and none.pressure == 0  # nothing on the table, nothing to fear
    space = t.space
    deal = space.package_of(
        {"territory": "Habomai+Shikotan", "sanctions": "lifted", "economy": "high", "security": "no guarantee"}
    )
    for p in t.parties:
        assert p.utility[0, deal] > p.reservation[0]  # both prefer it to no agreement: within reach
    near = move(-1, deal)
    threat = 0.95 - t.outside.utility[0, deal]
    assert np.isclose(near.alarm, min(1.0, 5.0 * (threat - 0.02)))
    assert np.isclose(near.effective, near.pressure * (1 - 0.3))  # Japan's autonomy 0.3
    # an offer the other side would refuse (all four islands) costs the USA nothing to ignore
    claim = space.package_of(
        {"territory": "all four", "sanctions": "kept", "economy": "none", "security": "no guarantee"}
    )
    assert t.parties[0].utility[0, claim] <= t.parties[0].reservation[0]
    assert move(-1, claim).alarm == 0
    # it watches both standing offers: a deal within reach on either side alarms it
    assert move(deal, claim).alarm == near.alarm


def test_inactive_outside_power_does_nothing(baseline_raw):
    s = with_changes(baseline_raw, outside__usa__active=False)
    model = play(s, 1)
    assert all(p == 0 for p in model.pressure_path)


def test_no_acceptable_package_ends_in_round_one(baseline_raw):
    s = with_changes(baseline_raw, parties__russia__utility__reservation={"value": 2.0, "source": "test"})
    o, r = simulate(s, np.arange(5))
    assert (o.reason == protocol.NO_ACCEPTABLE_PACKAGE).all() and (o.end_round == 1).all()
    assert (r["action"] == "walk away").all()


def test_deadline_reached_between_hardliners(baseline_raw):
    s = with_changes(
        baseline_raw,
        parties__russia__strategy={"kind": "hardliner", "source": "t"},
        parties__japan__strategy={"kind": "hardliner", "source": "t"},
        negotiation__deadline=9,
    )
    o, r = simulate(s, np.arange(4))
    assert (o.reason == protocol.DEADLINE).all() and (o.end_round == 9).all()
    assert (r["round"].reshape(4, 9) == np.arange(1, 10)).all()


def test_patience_runs_out(baseline_raw):
    s = with_changes(
        baseline_raw,
        parties__russia__strategy={"kind": "hardliner", "source": "t"},
        parties__japan__strategy={"kind": "hardliner", "patience": 3, "source": "t"},
    )
    o, _ = simulate(s, np.arange(3))
    assert (o.reason == protocol.WALKED_AWAY + 1).all()  # Japan walks away
    # Russia's first offer (round 2) is the best Japan has seen; the same offer in rounds
    # 4, 6 and 8 brings no improvement, three times: Japan leaves on its next turn, round 9
    assert (o.end_round == 9).all()


def test_ratification_decides_the_treaty(point_raw):
    # the point baseline without pressure: every run reaches a vote (in some of the worlds
    # the baseline's ranges draw, no package is acceptable to both)
    s = with_changes(point_raw, outside__usa__active=False)
    o, _ = simulate(s, np.arange(2000), rounds=False)
    v = o.votes
    assert np.array_equal(o.attempts, np.ones(2000))  # every baseline run reaches a vote
    # a treaty exactly where both publics passed it
    both = v["passed"].all(axis=1)
    assert np.array_equal(o.treaty[v["run"]], both)
    # the vote's frequency matches its probability (binomial, 5 standard errors)
    p = v["probability"].mean(axis=0)
    freq = v["passed"].mean(axis=0)
    assert (np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / 2000)).all()
    failed_r = o.reason == protocol.RATIFICATION_FAILED
    assert np.array_equal(failed_r, ~v["passed"][:, 0] & v["passed"][:, 1])


def test_talks_go_on_after_a_failed_ratification_without_that_package(baseline_raw):
    s = with_changes(
        baseline_raw,
        negotiation__after_failed_ratification="continue",
        negotiation__deadline=60,
        outside__usa__active=False,
        parties__russia__strategy={"kind": "zeuthen", "source": "t"},
        parties__japan__strategy={"kind": "zeuthen", "source": "t"},
    )
    o, _ = simulate(s, np.arange(300), rounds=False)
    v = o.votes
    many = np.flatnonzero(o.attempts >= 2)
    assert many.size > 0
    for run in many[:20]:
        packages = v["package"][v["run"] == run]
        assert len(set(packages.tolist())) == len(packages)  # a rejected package is never put again


def test_ratification_off_makes_every_agreement_a_treaty(point_raw):
    s = with_changes(
        point_raw,
        negotiation__ratification=False,
        outside__usa__active=False,
        parties__russia__strategy={"kind": "zeuthen", "source": "t"},
        parties__japan__strategy={"kind": "zeuthen", "source": "t"},
    )
    o, _ = simulate(s, np.arange(50), rounds=False)
    assert o.treaty.all()
    assert (o.votes["probability"] == 1).all() and o.votes["passed"].all()


def test_mesa_model_records_each_round(baseline):
    m = NegotiationModel(baseline, rng=42)
    m.run()
    data = m.datacollector.get_model_vars_dataframe()
    assert list(data["round"]) == list(range(1, m.steps + 1))
    assert set(data["mover"]) == {"russia", "japan"}
    assert data["action"].iloc[-1] in ("accept", "walk away") or m.steps == 27
    assert len(m.agents) == 5  # two governments, two publics, the USA
    assert {type(a).__name__ for a in m.agents} == {"Government", "Public", "OutsidePower"}
    assert Tables.from_scenarios([baseline]).runs == 1


def test_an_ended_negotiation_stays_as_it_ended(baseline):
    model = play(baseline, 3)
    ended = (model.state.reason, model.state.end_round, model.state.pressure_total, len(model.pressure_path))
    for _ in range(3):
        model.step()
    assert not model.running
    assert (model.state.reason, model.state.end_round, model.state.pressure_total, len(model.pressure_path)) == ended
