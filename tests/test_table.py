"""A table of more than two governments: stacked alternating offers (each in turn
accepts the offer on the table, counters or walks away; a package is agreed when every
other government has accepted it) and Baron and Ferejohn's closed rule (a recognised
proposer, a majority vote).

Oracle: Baron and Ferejohn (1989), dividing one unit among n (odd) with discount d and
each government recognised with chance 1/n. In the stationary equilibrium the proposer
keeps 1 - d (n - 1) / (2n) and (n - 1) / 2 partners get d / n each.

Tolerance. The engine divides on a grid of shares with step 1/G. Every government's
value of going on is 1/n (the unit is always divided at once, and the proposer's
partners are drawn evenly); a partner then needs d / n, and the least share on the grid
that meets it, s = ceil(d G / n) / G, exceeds it by less than 1/G. The proposer keeps
1 - s (n - 1) / 2: exactly that, and within (n - 1) / (2G) of Baron and Ferejohn's share.
"""

import copy
import itertools

import numpy as np
import pytest
import tomli_w

from dipsim.sim import draws, protocol
from dipsim.sim import scenario as sc
from dipsim.sim.preferences import NegotiationRows, PartyRows, Tables
from dipsim.sim.run import simulate

from .conftest import SCENARIOS, make, point, random_preferences
from .test_engines import assert_same


def divisions(n: int, grid: int) -> np.ndarray:
    """Every division of one unit among n on a grid of step 1/grid: (packages, n) shares
    (stars and bars: n - 1 bars among grid + n - 1 places)."""
    out = []
    for bars in itertools.combinations(range(grid + n - 1), n - 1):
        ends = (-1, *bars, grid + n - 1)
        out.append([ends[i + 1] - ends[i] - 1 for i in range(n)])
    return np.array(out, dtype=float) / grid


def _rows(n: int, discount: float, deadline: int):
    fields = {f: np.zeros(1) for f in PartyRows._fields}
    ps = tuple(PartyRows(**{**fields, "discount": np.array([discount])}) for _ in range(n))
    neg = NegotiationRows(
        deadline=np.array([deadline]),
        opener=np.zeros(1, np.int64),
        ratification=np.zeros(1, bool),
        continue_after_failure=np.zeros(1, bool),
        stall=np.zeros(1, bool),
        deadline_spread=np.zeros(1, np.int64),
        majority=np.ones(1, bool),
    )
    return ps, neg


def proposals(n: int, d: float, grid: int, seeds: range, deadline: int = 3):
    """Round 1's proposer and proposal under the majority rule, one per seed, on the
    grid's divisions (each government's gain its share)."""
    shares = divisions(n, grid)
    ps, neg = _rows(n, d, deadline)
    packages = np.zeros((protocol.package_rows(n), shares.shape[0]))
    for k in range(n):
        packages[protocol.row(k, protocol.GAIN)] = shares[:, k]
    plan = np.empty((deadline + 2, n))
    ints = np.zeros(protocol.N_INTS + protocol.PER_INT * n, np.int64)
    out = []
    for seed in seeds:
        who, j, passed = protocol.propose(1, ps, neg, 0, np.uint64(seed), ints, packages, plan)
        assert passed
        out.append((who, shares[j]))
    return out, plan


@pytest.mark.parametrize("n,grid", [(3, 60), (5, 30), (7, 20)])
@pytest.mark.parametrize("d", [0.9, 0.6])
def test_the_proposer_keeps_baron_and_ferejohns_share(n, grid, d):
    made, plan = proposals(n, d, grid, range(40))
    partner = np.ceil(d * grid / n - 1e-6) / grid  # the least grid share worth d / n
    keeps = 1 - partner * (n - 1) / 2
    exact = 1 - d * (n - 1) / (2 * n)
    assert 0 <= exact - keeps < (n - 1) / (2 * grid)
    for who, share in made:
        assert share[who] == pytest.approx(keeps, abs=1e-12)
        others = np.delete(share, who)
        assert np.sum(np.isclose(others, partner, atol=1e-12)) == (n - 1) // 2  # a minimal winning coalition
        assert np.sum(np.isclose(others, 0.0, atol=1e-12)) == (n - 1) // 2
    np.testing.assert_allclose(plan[1], 1.0 / n, atol=1e-12)  # every government's value of the talks
    np.testing.assert_allclose(plan[3], 1.0 / n, atol=1e-12)  # the last round: the proposer takes all


def test_every_government_is_recognised_and_chosen_as_partner_evenly():
    made, _ = proposals(3, 0.9, 30, range(3000))
    who = np.array([w for w, _ in made])
    assert np.bincount(who, minlength=3) / who.size == pytest.approx([1 / 3] * 3, abs=0.03)
    # the proposer's two partners of the same price are equally likely
    first = np.array([s[(w + 1) % 3] > 0 for w, s in made])
    assert first.mean() == pytest.approx(0.5, abs=0.03)


def test_the_grid_error_shrinks_as_the_grid_gets_finer():
    n, d = 5, 0.7
    exact = 1 - d * (n - 1) / (2 * n)
    errors = []
    for grid in (10, 20, 40):
        (who, share), *_ = proposals(n, d, grid, range(1))[0]
        errors.append(abs(share[who] - exact))
    assert errors[2] <= errors[0] and errors[2] < (n - 1) / (2 * 40)


# --------------------------------------------------------------------------- whole runs


def table_of(raw: dict, n: int) -> dict:
    """Scenario data with n governments at the table: the file's two, and copies of its
    second named party{k} (a fixture, not a belief about the world)."""
    data = copy.deepcopy(raw)
    ids = list(data["parties"])
    for k in range(len(ids), n):
        extra = copy.deepcopy(data["parties"][ids[1]])
        extra["label"] = f"Party {k}"
        extra["public"]["label"] = f"Public {k}"
        data["parties"][f"party{k}"] = extra
    return data


def division_scenario(baseline_raw, n: int, grid: int, d: float, deadline: int = 4):
    data = table_of(baseline_raw, n)
    shares = divisions(n, grid)
    options = ["/".join(f"{x:g}" for x in row) for row in shares]
    data["issues"] = {"division": {"label": "Division of one unit", "options": options, "source": "test"}}
    for k, pid in enumerate(data["parties"]):
        p = data["parties"][pid]
        p["utility"] = {
            "treaty": {"value": 0.0, "source": "test"},
            "reservation": {"value": 0.0, "source": "disagreement is worth nothing"},
            "issues": {"division": {"weight": 1.0, "values": shares[:, k].tolist(), "source": "linear utility"}},
        }
        p["strategy"] = {"kind": "rubinstein", "discount": d, "source": "Baron and Ferejohn 1989"}
        p["public"]["effects"] = {}
    usa = data["outside"]["usa"]
    usa["active"] = False
    usa["utility"]["issues"] = {"division": {"weight": 1.0, "values": [0.5] * len(options), "source": "t"}}
    usa["pressure"]["shift"] = {}
    usa["rhetoric"]["effects"] = {}
    data["negotiation"].update(ratification=False, deadline=deadline, rule="majority", deadline_spread=0)
    return make(data)


@pytest.mark.parametrize("n,grid", [(3, 20), (5, 10)])
def test_a_majority_divides_the_unit_in_round_one_in_both_engines(baseline_raw, n, grid):
    d = 0.8
    s = division_scenario(baseline_raw, n, grid, d)
    seeds = draws.run_seeds(3, np.arange(60), 0)
    mesa, batch = simulate(s, seeds, engine="mesa"), simulate(s, seeds, engine="batch")
    assert_same(mesa, batch)
    outcomes, rounds = batch
    assert outcomes.treaty.all() and (outcomes.end_round == 1).all()
    shares = divisions(n, grid)[outcomes.agreed]
    proposer = np.asarray(rounds["mover"])
    ids = np.array(list(s.parties))
    keeps = shares[np.arange(len(seeds)), [list(ids).index(p) for p in proposer]]
    partner = np.ceil(d * grid / n - 1e-6) / grid
    np.testing.assert_allclose(keeps, 1 - partner * (n - 1) / 2, atol=1e-12)


def test_the_majority_rule_asks_for_what_its_equilibrium_needs(baseline_raw, tmp_path):
    data = point(copy.deepcopy(baseline_raw))
    data["negotiation"]["rule"] = "majority"
    path = tmp_path / "majority.toml"
    path.write_text(tomli_w.dumps(data))
    with pytest.raises(sc.ScenarioError) as err:
        sc.load(path)
    assert err.value.key == "parties.russia.strategy.kind" and "'rubinstein' under rule = 'majority'" in str(err.value)
    for pid in data["parties"]:
        data["parties"][pid]["strategy"] = {"kind": "rubinstein", "discount": 0.9, "source": "t"}
    data["negotiation"]["deadline_spread"] = 2
    path.write_text(tomli_w.dumps(data))
    with pytest.raises(sc.ScenarioError) as err:
        sc.load(path)
    assert err.value.key == "negotiation.deadline_spread" and "allowed: 0 under rule = 'majority'" in str(err.value)


def test_nine_governments_are_refused(baseline_raw, tmp_path):
    path = tmp_path / "nine.toml"
    path.write_text(tomli_w.dumps(point(table_of(baseline_raw, 9))))
    with pytest.raises(sc.ScenarioError) as err:
        sc.load(path)
    assert err.value.key == "parties" and "allowed: 2 to 8 parties at the table" in str(err.value)


def test_under_unanimity_a_package_is_agreed_when_every_other_government_accepts_it(baseline_raw):
    """Stacked alternating offers at a table of three: the package put to the ratifiers is
    the one offered two rounds before, which the next two movers accepted in turn."""
    data = table_of(baseline_raw, 3)
    s = make(data)
    seeds = draws.run_seeds(8, np.arange(300), 0)
    outcomes, rounds = simulate(s, seeds)
    votes = outcomes.votes
    assert votes["run"].size > 10 and votes["probability"].shape[1] == 3
    ids = list(s.parties)
    action = {(r, t): a for r, t, a in zip(rounds["run"], rounds["round"], rounds["action"])}
    mover = {(r, t): m for r, t, m in zip(rounds["run"], rounds["round"], rounds["mover"])}
    offer = {
        (r, t, p): rounds[f"offer_{p}"][i] for i, (r, t) in enumerate(zip(rounds["run"], rounds["round"])) for p in ids
    }
    for run, t, package in zip(votes["run"], votes["round"], votes["package"]):
        assert action[(run, t)] == action[(run, t - 1)] == "accept"
        assert action[(run, t - 2)] == "offer"
        assert offer[(run, t - 2, mover[(run, t - 2)])] == package
    # an acceptance that is not the last one needed puts nothing to the ratifiers
    accepts = sum(1 for a in action.values() if a == "accept")
    assert accepts > votes["run"].size


def test_three_and_four_governments_play_alike_in_both_engines_with_strategic_outside_powers():
    """China's patronage and the USA's policy, chosen by playing the talks forward, at
    tables of two, three and four: the Mesa model and the batch engine agree run for run."""
    base = sc.load(SCENARIOS / "china.toml").resolved()
    for n in (2, 3, 4):
        data = table_of(base, n)
        data["negotiation"]["deadline"] = 12
        data["negotiation"]["deadline_spread"] = 2
        s = make(data)
        seeds = draws.run_seeds(21, np.arange(24), 0)
        mesa, batch = simulate(s, seeds, engine="mesa"), simulate(s, seeds, engine="batch")
        assert_same(mesa, batch)
        assert mesa[0].policy is not None and np.array_equal(mesa[0].policy, batch[0].policy)
        assert np.array_equal(mesa[0].backing, batch[0].backing)


def test_random_tables_of_three_play_alike_in_both_engines(baseline_raw):
    """Every strategy at a table of three, a third government whose reservation is
    private in every other run, talks that go on after a failed ratification, walk-outs:
    one table per run, evaluated together."""
    rng = np.random.default_rng(5)
    kinds = ("time_dependent", "zeuthen", "hardliner", "rubinstein", "bayesian")
    scenarios = []
    for i in range(120):
        data = random_preferences(table_of(point(baseline_raw), 3), rng, strategies=("zeuthen",) * 3)
        if i % 2:  # the third government's reservation is its own
            r = data["parties"]["party2"]["utility"]["reservation"]["value"]
            data["parties"]["party2"]["private"] = {
                "reservation": {"types": [r - 0.05, r, r + 0.05], "prior": [0.3, 0.4, 0.3], "noise": 0.5, "source": "t"}
            }
        for k, pid in enumerate(data["parties"]):
            p = data["parties"][pid]
            kind = kinds[(i + k) % 5]
            p["strategy"] = {"kind": kind, "source": "t", "patience": int(rng.integers(0, 6))}
            if kind == "time_dependent":
                p["strategy"]["beta"] = float(rng.uniform(0.2, 3))
            if kind in ("rubinstein", "bayesian"):
                p["strategy"]["discount"] = float(rng.uniform(0.5, 1.0))
            if kind == "hardliner":
                p["strategy"]["tolerance"] = float(rng.uniform(0, 0.3))
        data["negotiation"]["after_failed_ratification"] = "continue" if i % 2 else "end"
        data["negotiation"]["opener"] = list(data["parties"])[int(rng.integers(3))]
        data["negotiation"]["deadline"] = int(rng.integers(3, 30))
        data["negotiation"]["ratification"] = i % 3 != 0
        scenarios.append(make(data))
    tables = Tables.from_scenarios(scenarios)
    seeds = draws.run_seeds(6, np.arange(tables.runs), np.zeros(tables.runs, np.int64))
    mesa, batch = simulate(tables, seeds, engine="mesa"), simulate(tables, seeds, engine="batch")
    assert_same(mesa, batch)
    reasons = set(batch[0].reason.tolist())
    assert protocol.TREATY in reasons and len(reasons) >= 4, reasons


def test_a_third_partys_walk_out_and_failed_ratification_are_named():
    labels = ("Russia", "Japan", "USA")
    assert protocol.reason_codes(3) == tuple(range(10))
    assert protocol.reason_label(protocol.walked_away(2), labels) == "USA walked away"
    assert protocol.reason_label(protocol.ratification_failed(2), labels) == "ratification failed in USA"
    assert protocol.reason_label(protocol.RATIFICATION_FAILED_BOTH, labels) == "ratification failed in more than one"
    assert protocol.reason_codes(2) == tuple(range(8))  # the two-party codes are those of before


def test_explain_tells_the_table_of_three_round_by_round():
    """`dipsim explain`'s story names who was recognised and what a majority passed, every
    country's vote, and a government with nothing to offer."""
    from dipsim.analysis.interpretation.explain import story

    seeds = draws.run_seeds(4, np.arange(20), 0)
    spec = sc.load(SCENARIOS / "trilateral_majority.toml")
    told = ["\n".join(story(spec, int(seed))[0]) for seed in seeds[:5]]
    passed = [text for text in told if "a majority passes it" in text]
    assert passed, told[0]
    for public in ("Russian public", "Japanese public", "US public (Senate)"):
        assert public in passed[0].split("put to ratification:")[1]
    lines, model = story(sc.load(SCENARIOS / "trilateral.toml"), int(seeds[0]))
    text = "\n".join(lines)
    assert "USA makes no offer: no package leaves it better off." in text
    assert model.state.reason == protocol.DEADLINE and text.endswith("deadline reached.")


def test_the_least_of_the_others_gains_survives_reading_their_beliefs(baseline_raw):
    """At a table of three a mover reads the others' side as the least of their gains; a
    mover that also weighs the others' acceptance (a round cost, the belief-based
    strategy) must still read that least, not the last other's gain."""
    data = random_preferences(table_of(point(baseline_raw), 3), np.random.default_rng(2), strategies=("zeuthen",) * 3)
    tables = Tables.from_scenarios([make(data)])
    rows = tables.compiled()
    ps, o, neg = rows
    run = protocol.RunState(rows, tables.space.counts, tables.space.pair_cells, 1)
    protocol.refresh(ps, o, neg, 0, run.tables, 0.0, 0.0, run.ints, run.reals, run.rejected, run.packages, run.gaining)
    gains = [run.packages[protocol.row(k, protocol.GAIN)].copy() for k in range(3)]
    least, _, _ = protocol._others(ps, 0, 0, run.packages)
    protocol.believe_others(ps, 0, 0, run.packages, run.tables, run.belief, gains[0])
    np.testing.assert_array_equal(least, np.minimum(gains[1], gains[2]))
    assert not np.array_equal(gains[1], gains[2])  # (the least is not one of them alone)


def test_a_read_only_array_of_one_party_still_plays(baseline_raw):
    """The parties' rows reach the compiled rules as one tuple, whose entries must share a
    type: an array that is read-only in one party's tables (a broadcast view, say) is
    copied rather than refused."""
    from dataclasses import replace

    tables = Tables.from_scenarios([make(table_of(point(baseline_raw), 3))])
    frozen = tables.parties[1].reservation.copy()
    frozen.setflags(write=False)
    parties = list(tables.parties)
    parties[1] = replace(parties[1], reservation=frozen)
    seeds = draws.run_seeds(1, np.arange(20), 0)
    a, _ = simulate(replace(tables, parties=tuple(parties)), seeds, rounds=False)
    b, _ = simulate(tables, seeds, rounds=False)
    assert np.array_equal(a.reason, b.reason) and np.array_equal(a.agreed, b.agreed)


def test_the_app_refuses_a_table_of_three_with_a_clear_message():
    from typer.testing import CliRunner

    from dipsim.analysis.cli import app

    result = CliRunner().invoke(app, ["app", str(SCENARIOS / "trilateral.toml")])
    assert result.exit_code == 2
    assert "3 governments at the table; allowed in the app: two" in result.output
