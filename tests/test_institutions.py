"""Two levels with institutions: a named ratifier whose threshold the negotiators know
only as a belief, and a cost of signing what then fails at home.

Oracles: Iida (1993), with complete information about the domestic ratifier a
negotiator never signs what fails at home; Tarar (2001), a tighter constraint of one's
own gives a better agreed package (the generalised Schelling conjecture) under the
conditions stated below. And the switch off writes the files it wrote before, byte for
byte; and both engines play every run alike with it on."""

import copy
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dipsim.analysis.experiments.jobs import simulate_scenario, with_run_settings
from dipsim.sim import draws
from dipsim.sim import scenario as sc
from dipsim.sim.preferences import (
    Tables,
    institution_threshold,
    negotiating_gain,
    ratification_probability,
)
from dipsim.sim.run import simulate

from .conftest import STANDARD, make, random_preferences
from .test_engines import assert_same


def ratifier(kind="legislature", threshold=0.5, spread=0.0):
    return {
        "kind": kind,
        "threshold": {"value": float(threshold), "source": "test"},
        "spread": {"value": float(spread), "source": "test"},
        "source": "test",
    }


def random_two_level(raw, rng, i, spread=0.0, anticipation=1.0, volatility=0.0):
    """A random negotiation in which both countries name a ratifier: random utilities,
    strategies, publics (base acceptance and effects), ratifier kinds, thresholds and
    failure costs; talks that end or go on after a failed vote; the USA pressing or not."""
    kinds = ("time_dependent", "zeuthen", "hardliner", "rubinstein")
    data = random_preferences(raw, rng, strategies=(kinds[i % 4], kinds[(i // 4) % 4]))
    for party in data["parties"].values():
        kind = sc.RATIFIERS[int(rng.integers(len(sc.RATIFIERS)))]
        low = sc.CONSTITUTIONAL_BAR if kind == "constitutional_bar" else 0.2
        party["ratifier"] = ratifier(kind, rng.uniform(low, low + 0.3), spread)
        party["failure_cost"] = {"value": float(rng.uniform(0, 0.3)), "source": "test"}
        party["anticipation"]["value"] = anticipation
        party["public"]["volatility"]["value"] = volatility
        party["public"]["base"]["value"] = float(rng.uniform(0.3, 0.9))
        for issue, spec in data["issues"].items():
            party["public"]["effects"][issue] = {
                "values": rng.uniform(-0.3, 0.3, len(spec["options"])).round(3).tolist(),
                "source": "random test table",
            }
        party["strategy"]["patience"] = int(rng.integers(0, 6))
        party["strategy"]["discount"] = float(rng.uniform(0.5, 1.0))
    data["negotiation"]["after_failed_ratification"] = "continue" if i % 2 else "end"
    data["negotiation"]["deadline"] = int(rng.integers(3, 40))
    data["outside"]["usa"]["active"] = bool(i % 3)
    data["outside"]["usa"]["response"]["value"] = float(rng.uniform(0, 10))
    return data


# --------------------------------------------------------------------------- the rules


def test_the_chance_is_the_share_of_thresholds_the_vote_would_pass():
    """ratify_chance(share, c, m) = P(share > T) for T uniform on [c - m, c + m], and
    actual_threshold draws T so: over a fine grid of draws u, the share of thresholds a
    vote passes (share above T by more than TIE) is the chance; a margin of 0 is a step."""
    rng = np.random.default_rng(4)
    u = (np.arange(20_000) + 0.5) / 20_000
    for _ in range(200):
        share, c = rng.uniform(0, 1), rng.uniform(0, 1)
        m = 0.0 if rng.random() < 0.2 else rng.uniform(0.001, 0.5)
        actual = institution_threshold(np.full(u.size, c), np.full(u.size, m), u)
        passed = (share - actual > 1e-9).mean()
        chance = ratification_probability(np.array([share]), np.array([c]), np.array([m]))[0]
        assert abs(passed - chance) <= 2 / u.size, (share, c, m)
        if m == 0:
            assert chance == float(share - c > 1e-9) and np.all(actual == c)


def test_a_failure_cost_of_zero_leaves_the_gain_as_it_was():
    rng = np.random.default_rng(5)
    u, res, a = rng.uniform(-0.5, 1.5, (50, 30)), rng.uniform(0, 1, 50), rng.uniform(0, 1, 50)
    both, own = rng.uniform(0, 1, (50, 30)), rng.uniform(0, 1, (50, 30))
    before = (u - res[:, None]) * (1.0 - a[:, None] * (1.0 - both))
    assert np.array_equal(negotiating_gain(u, res, a, both, own, np.zeros(50)), before)
    assert np.array_equal(negotiating_gain(u, res, a, both), before)
    cost = rng.uniform(0, 2, 50)
    full = negotiating_gain(u, res, np.ones(50), both, own, cost)
    assert np.allclose(full, both * (u - res[:, None]) - (1 - own) * cost[:, None], rtol=0, atol=1e-12)
    # the cost weighs only what the government's own ratifier may reject
    assert np.array_equal(negotiating_gain(u, res, a, both, np.ones((50, 30)), cost), before)


# --------------------------------------------------------------------------- Iida (1993)


def test_with_complete_domestic_information_no_agreed_package_fails(baseline_raw):
    """Iida (1993): a negotiator who knows what its ratifier will pass never signs what
    fails at home. Complete information here: no mood drift (volatility 0), each threshold
    known (spread 0), and governments that weigh ratification fully (anticipation 1), over
    random utilities, publics, institutions, costs and strategies. Any of the three
    relaxed, agreed packages do fail: the oracle can tell."""
    rng = np.random.default_rng(1993)
    cases = [random_two_level(baseline_raw, rng, i) for i in range(400)]

    def votes(change=None):
        scenarios = []
        for data in cases:
            data = copy.deepcopy(data)
            if change:
                change(data)
            scenarios.append(make(data))
        tables = Tables.from_scenarios(scenarios)
        seeds = draws.run_seeds(13, np.arange(tables.runs), 0)
        return simulate(tables, seeds, engine="batch", rounds=False)[0]

    complete = votes()
    assert complete.votes["passed"].shape[0] >= 100  # many packages were signed
    assert complete.votes["passed"].all()
    assert (complete.treaty).sum() == complete.votes["passed"].shape[0]

    def each_party(field):
        def change(data):
            for party in data["parties"].values():
                field(party)

        return change

    unknown = votes(each_party(lambda p: p["ratifier"]["spread"].update(value=0.15)))
    drifting = votes(each_party(lambda p: p["public"]["volatility"].update(value=0.05)))
    myopic = votes(each_party(lambda p: p["anticipation"].update(value=0.5)))
    for relaxed in (unknown, drifting, myopic):
        assert not relaxed.votes["passed"].all()


# --------------------------------------------------------------------------- Tarar (2001)


def split(n, russia_res, japan_res, d_russia, d_japan, japan_threshold, opener):
    """One issue, n + 1 ways to divide it: Japan's utility k/n, Russia's 1 - k/n; Japan's
    public accepts share k/n (the more Japan gets, the more its public accepts: the
    constraint comes from the government's own constituency), Russia's accepts every
    division; both governments play the Rubinstein equilibrium with complete information
    (moods fixed, thresholds known, anticipation 1)."""
    options = [str(k) for k in range(n + 1)]
    grid = [round(k / n, 6) for k in range(n + 1)]

    def party(label, values, res, d, public_values, threshold):
        return {
            "label": label,
            "strategy": {"kind": "rubinstein", "discount": d, "source": "test"},
            "utility": {
                "treaty": {"value": 0.0, "source": "test"},
                "reservation": {"value": res, "source": "test"},
                "issues": {"share": {"weight": 1.0, "values": values, "source": "test"}},
            },
            "anticipation": {"value": 1.0, "source": "test"},
            "public": {
                "label": f"{label} public",
                "base": {"value": 0.0, "source": "test"},
                "effects": {"share": {"values": public_values, "source": "test"}},
                "volatility": {"value": 0.0, "source": "test"},
                "threshold": {"value": 0.5, "source": "test"},
                "margin": {"value": 0.5, "source": "test"},
            },
            "ratifier": ratifier("legislature", threshold, 0.0),
        }

    return make(
        {
            "name": "split",
            "title": "A divisible issue",
            "description": "Tarar's setting on a grid.",
            "negotiation": {"deadline": 200, "opener": opener, "source": "test"},
            "issues": {"share": {"label": "Share", "options": options, "source": "test"}},
            "parties": {
                "russia": party("Russia", grid[::-1], russia_res, d_russia, [1.0] * (n + 1), 0.0),
                "japan": party("Japan", grid, japan_res, d_japan, grid, japan_threshold),
            },
        }
    )


def test_a_more_demanding_ratifier_never_gives_japan_a_worse_package():
    """Schelling's conjecture where theory says it holds. Iida (1993): with complete
    information, a tighter domestic constraint on one side gives it bargaining leverage.
    Tarar (2001), with both sides constrained: in its generalised form it holds when one
    side's constraint is high and the other's only low or medium, and with incomplete
    information it can fail outright. Tarar (2005): the constraint must come from the
    negotiator's own constituency (a ratifier that wants more of what the government
    wants). Tested within all three: complete information (no mood drift, thresholds
    known), the other side unconstrained (Russia's ratifier passes every division), one
    divisible issue on which Japan's ratifier passes exactly the divisions whose share
    for Japan exceeds its threshold, governments weighing ratification fully and playing
    the Rubinstein equilibrium (the alternating-offers game these models build on).
    Raising Japan's threshold never lowers Japan's share of an agreed package, and where
    it binds it raises it."""
    rng = np.random.default_rng(2001)
    thresholds = np.round(np.arange(0.0, 0.96, 0.05), 2)
    raised = 0
    for case in range(30):
        n = int(rng.integers(8, 30))
        args = (
            n,
            float(rng.uniform(0, 0.3)),
            float(rng.uniform(0, 0.3)),
            float(rng.uniform(0.5, 0.95)),
            float(rng.uniform(0.5, 0.95)),
        )
        opener = ("russia", "japan")[case % 2]
        tables = Tables.from_scenarios([split(*args, float(t), opener) for t in thresholds])
        outcomes = simulate(tables, np.full(tables.runs, 7, np.uint64), rounds=False)[0]
        japan = outcomes.utilities(tables)["japan"]
        agreed = japan[outcomes.treaty]
        assert outcomes.treaty[0]  # unconstrained, they agree
        assert np.all(np.diff(agreed) >= -1e-12), (case, args, opener, japan)
        assert not np.any(outcomes.votes["passed"] == 0)  # complete information: nothing signed fails
        raised += agreed[-1] > agreed[0] + 1e-9
    assert raised >= 20  # the constraint did bind: the test could have failed


# --------------------------------------------------------------------------- the switch


# What `simulate_scenario` wrote for the standard scenarios (200 runs, seed 20181114)
# before ratifiers and failure costs existed. A change meant to move them updates them.
BEFORE = {
    "baseline/runs": "aefa5d58dc5eb1d95f8fbac78cd0f038745da3fcfdc436b428f442667e55b813",
    "baseline/rounds": "375b73eec66a01cc01e75629eb0c81ad5ebc132610545ffee1f4488ea4ce6191",
    "us_disengages/runs": "c7e15593b7460df36269516b00f38a3579b4518a3cdc340cbda766e6a6a8ceff",
    "us_disengages/rounds": "2854d3a208f482d0d5b1e350daeff5ef09708f2a09be3bfe48c72fa1463866d4",
    "sanctions_lifted/runs": "f46fc330342466adf4eb4a90cdfb8f3a52afa0079f6b8090a9ef483e15a6a542",
    "sanctions_lifted/rounds": "36831a3b7ac80904b4decedac1eac3a1156d12fae03a4da57f0c50fa50e7ede7",
    "russian_hardline_public/runs": "2a71566717a2507e3b34daaf059cad357c52115a0f5eb51deba1e2b23226c22b",
    "russian_hardline_public/rounds": "89ebe827923c5655ce94d903e8c5586071caa417099d579b80560003fcd98426",
    "japan_accepts_1956/runs": "3ff2d7ace2de8c31961d9882e664ca64e6332fa94d4d9097c13826cceb314424",
    "japan_accepts_1956/rounds": "57764b66e5aefdc401a27669323b838cc452b292942512bf38fcebb8840be493",
    "big_economic_offer/runs": "80167ef6d63cf754b017886914d970583e685f8f53c0847b0ec91776e45731b5",
    "big_economic_offer/rounds": "f2df12e8313efc074a6e9d7def7bb4d50c637c67ce6a438b3c0c55cdb645f35e",
}


# The standard scenario files as they were before the talks' mechanisms (stalls, the
# last round, the outside power's alarm, ratifiers, private information, conditional
# values) existed: every switch off, by default.
CLASSIC_FILES = Path(__file__).parent / "data" / "classic"


def written(scenario, folder):
    simulate_scenario(with_run_settings(scenario, 200, 20181114), folder)
    return {t: hashlib.sha256((folder / f"{t}.parquet").read_bytes()).hexdigest() for t in ("runs", "rounds")}


@pytest.mark.parametrize("name", STANDARD)
def test_without_ratifiers_or_costs_the_files_are_those_written_before(tmp_path, name):
    """The standard files as they were before the talks' mechanisms, read by today's
    code: no ratifier, no failure cost and every other switch off give runs.parquet and
    rounds.parquet as the code of that day wrote them, byte for byte; a failure cost
    stated as 0 changes nothing either."""
    got = written(sc.load(CLASSIC_FILES / f"{name}.toml"), tmp_path / "off")
    assert got == {t: BEFORE[f"{name}/{t}"] for t in ("runs", "rounds")}
    if name == "baseline":
        zero = ['parties.japan.failure_cost={value=0.0, source="test"}']
        assert written(sc.load(CLASSIC_FILES / f"{name}.toml", zero), tmp_path / "zero") == got


def test_with_ratifiers_the_runs_carry_each_threshold_and_cost(tmp_path):
    sets = [
        (
            'parties.japan.ratifier={kind="legislature", threshold={value=0.5, source="t"}, '
            'spread={value=0.1, source="t"}, source="t"}'
        ),
        'parties.japan.failure_cost={value=0.2, source="t"}',
        "outside.usa.active=false",
    ]
    simulate_scenario(with_run_settings(sc.load("baseline", sets), 300, 3), tmp_path)
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    assert "ratifier_threshold_russia" not in runs and "failure_cost_borne_russia" not in runs
    t = runs["ratifier_threshold_japan"]
    assert t.between(0.4, 0.6).all() and t.std() > 0.03  # drawn per run from the belief
    u = draws.uniform(runs["seed"].to_numpy(np.uint64), 0, draws.RATIFY[1])
    assert np.array_equal(t.to_numpy(), 0.5 + 0.1 * (2 * u - 1))
    failed = runs["ratifications"].map(lambda votes: sum(not v["passed_japan"] for v in votes))
    assert failed.sum() > 0
    assert np.allclose(runs["failure_cost_borne_japan"], 0.2 * failed)


# --------------------------------------------------------------------------- both engines


def test_engines_agree_run_for_run_with_institutions_and_costs(baseline_raw):
    """Named ratifiers with known and uncertain thresholds, failure costs, drifting moods,
    talks that end or go on after a rejection: the Mesa model and the batch engine play
    every run alike (outcomes, votes, every round's record)."""
    rng = np.random.default_rng(96)
    scenarios = []
    for i in range(300):
        spread = 0.0 if i % 3 == 0 else float(rng.uniform(0, 0.3))
        data = random_two_level(baseline_raw, rng, i, spread, float(rng.uniform(0, 1)), float(rng.uniform(0, 0.08)))
        if i % 5 == 0:
            del data["parties"]["russia"]["ratifier"]  # one country by the public's old rule
        scenarios.append(make(data))
    tables = Tables.from_scenarios(scenarios)
    seeds = draws.run_seeds(17, np.arange(tables.runs), 0)
    mesa, batch = simulate(tables, seeds, engine="mesa"), simulate(tables, seeds, engine="batch")
    assert_same(mesa, batch)
    passed = batch[0].votes["passed"]
    assert passed.all(axis=1).any() and not passed.all()  # treaties and rejections both happen
    assert batch[0].attempts.max() >= 2


# --------------------------------------------------------------------------- the files


def _set(path, value):
    def change(data):
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


JAPAN = ("parties", "japan")


@pytest.mark.parametrize(
    ("change", "key", "found"),
    [
        (_set((*JAPAN, "ratifier", "kind"), "senate"), "parties.japan.ratifier.kind", "senate"),
        (_set((*JAPAN, "ratifier", "spread", "value"), 0.7), "parties.japan.ratifier.spread.value", "0.7"),
        (_set((*JAPAN, "ratifier", "quorum"), 3), "parties.japan.ratifier.quorum", "quorum"),
        (_set((*JAPAN, "ratifier", "threshold", "source"), ""), "parties.japan.ratifier.threshold.source", "''"),
        (
            _set((*JAPAN, "ratifier", "kind"), "constitutional_bar"),
            "parties.japan.ratifier.threshold.value",
            "0.45",
        ),
        (_set((*JAPAN, "failure_cost", "value"), 3.0), "parties.japan.failure_cost.value", "3"),
        (_set((*JAPAN, "failure_cost", "source"), None), "parties.japan.failure_cost.source", "source"),
    ],
)
def test_a_bad_ratifier_or_cost_is_one_line_naming_the_file_and_key(tmp_path, change, key, found):
    """Validated like every other field: `dipsim check` exits with 2 and one line that
    names the file and the key."""
    import subprocess
    import sys
    from pathlib import Path

    import tomli_w

    data = sc.load("baseline").resolved()
    data["parties"]["japan"]["ratifier"] = ratifier("legislature", 0.45, 0.1)
    data["parties"]["japan"]["failure_cost"] = {"value": 0.1, "source": "test"}
    good = tmp_path / "good.toml"
    good.write_bytes(tomli_w.dumps(data).encode())
    assert isinstance(sc.load(good), sc.Scenario)  # the file is valid before the change
    change(data)
    if data["parties"]["japan"]["failure_cost"]["source"] is None:
        del data["parties"]["japan"]["failure_cost"]["source"]
    file = tmp_path / "two_level.toml"
    file.write_bytes(tomli_w.dumps(data).encode())
    dipsim = str(Path(sys.executable).parent / "dipsim")
    done = subprocess.run([dipsim, "check", str(file)], capture_output=True, text=True)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(file) in lines[0] and key in lines[0] and found in lines[0], lines


def test_ratifiers_decide_alike_on_perturbed_inputs(baseline_raw):
    """Known thresholds and publics in tenths, without mood: the share accepting a package
    often equals its country's threshold in exact arithmetic, and differs from it only in
    the last bits of a sum. Every number moved by a relative 1e-12 (sim.kernels.TIE: the
    vote and the governments' expectation both count a share as above a threshold only by
    more than 1e-9), the decisions stay the same."""
    from .test_determinism import DIRECTIONS, assert_same_decisions, decisions, perturbed

    rng = np.random.default_rng(7)
    plain = []
    for i in range(300):
        data = random_two_level(baseline_raw, rng, i, spread=0.1 * (i % 3 == 0))
        for party in data["parties"].values():
            bar = i % 4 == 0  # (at 0.6 or more: a bar's least, 0.5, would not survive moving down)
            party["ratifier"]["kind"] = "constitutional_bar" if bar else "referendum"
            party["ratifier"]["threshold"]["value"] = float(rng.integers(6 if bar else 3, 9) / 10)
            party["public"]["base"]["value"] = float(rng.integers(3, 9) / 10)
            for effect in party["public"]["effects"].values():
                effect["values"] = (rng.integers(-2, 3, len(effect["values"])) / 10).tolist()
        plain.append(data)
    tables = Tables.from_scenarios([make(d) for d in plain])
    seeds = draws.run_seeds(21, np.arange(tables.runs), 0)
    ids = tables.party_ids
    reference = decisions(*simulate(tables, seeds, engine="batch"), ids)
    assert (reference["reason"] == 0).sum() >= 20
    for direction in DIRECTIONS:
        moved = Tables.from_scenarios([make(perturbed(d, direction)) for d in plain])
        assert_same_decisions(reference, decisions(*simulate(moved, seeds, engine="batch"), ids), str(direction))
