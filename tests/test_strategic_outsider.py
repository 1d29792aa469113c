"""A strategic outside power ([outside.<id>.policy], sim.strategic): before each run it
plays the talks forward under each of its options and keeps the one of highest mean
utility net of its cost. Off (no policy, the reflex, or a single full option at no cost)
the results are those of before, run for run; on, its choice is the argmax a brute force
finds, extra pressure is never chosen where it does not pay, and both engines agree."""

import copy

import numpy as np
import pyarrow.parquet as pq
import pytest
import tomli_w
from typer.testing import CliRunner

from dipsim.analysis.cli import app
from dipsim.analysis.experiments import sweep_spec
from dipsim.analysis.experiments.frames import runs_frame
from dipsim.analysis.experiments.sweep import run_sweep
from dipsim.sim import draws
from dipsim.sim import scenario as sc
from dipsim.sim.model import NegotiationModel
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate
from dipsim.sim.strategic import values

from .conftest import SCENARIOS, make, random_preferences
from .test_engines import assert_same

KEEP = ("territory", "sanctions")  # the small game's issues: 5 x 3 = 15 packages
SOURCE = "test: the options are the test's"


def _seeds(n, root=17):
    return draws.run_seeds(root, 0, np.arange(n))


def _policy(options, samples=4, kind="stackelberg") -> dict:
    return {
        "kind": kind,
        "samples": samples,
        "options": [{"pressure": p, "rhetoric": r, "cost": c} for p, r, c in options],
        "source": SOURCE,
    }


def _with_policy(name: str, policy: dict) -> sc.Scenario:
    data = sc.load(sc.find_scenario(name)).resolved()
    data["outside"]["usa"]["policy"] = policy
    return sc.validate(data, file="<test>")


def small_game(point_raw: dict, rng: np.random.Generator, deadline: int = 3, leverage: float = 1.0) -> dict:
    """The baseline's point data cut to two issues and a few rounds, with random utilities
    for both governments and a random outside power (its weights, its alarm, its goodwill
    cost) and noisy publics, so that forward runs differ and options are close. Its
    pressure shifts the pressed party's utility ``leverage`` times the baseline's."""
    data = copy.deepcopy(point_raw)
    data["issues"] = {k: data["issues"][k] for k in KEEP}

    def cut(table: dict) -> dict:
        return {k: v for k, v in table.items() if k in KEEP}

    for party in data["parties"].values():
        party["public"]["effects"] = cut(party["public"].get("effects", {}))
    kinds = ("time_dependent", "zeuthen", "hardliner", "rubinstein")
    data = random_preferences(data, rng, strategies=tuple(kinds[int(k)] for k in rng.integers(0, 4, 2)))
    for party in data["parties"].values():
        party["utility"]["issues"] = cut(party["utility"]["issues"])
    usa = data["outside"]["usa"]
    usa["utility"]["issues"] = cut(usa["utility"]["issues"])
    w = float(rng.uniform(0.2, 0.8))
    usa["utility"]["issues"]["territory"]["weight"] = w
    usa["utility"]["issues"]["sanctions"]["weight"] = 1.0 - w
    usa["utility"]["reservation"]["value"] = float(rng.uniform(0.5, 1.0))
    usa["response"]["value"] = float(rng.uniform(1, 10))
    usa["goodwill_cost"]["value"] = float(rng.uniform(0.0, 0.05))
    usa["pressure"]["shift"] = cut(usa["pressure"]["shift"])
    for shift in usa["pressure"]["shift"].values():
        shift["values"] = [max(-2.0, leverage * v) for v in shift["values"]]
    for pid in data["parties"]:
        usa["rhetoric"]["effects"][pid] = cut(usa["rhetoric"]["effects"].get(pid, {}))
        data["parties"][pid]["public"]["volatility"]["value"] = float(rng.uniform(0.02, 0.15))
        data["parties"][pid]["anticipation"]["value"] = float(rng.uniform(0, 1))
    data["negotiation"]["deadline"] = deadline
    data["negotiation"]["opener"] = ("russia", "japan")[int(rng.integers(2))]
    return data


def _random_options(rng: np.random.Generator, k: int, dearest: float = 0.05) -> list[tuple[float, float, float]]:
    """k options, the first standing aside; pressure, rhetoric and cost rising together."""
    levels = np.sort(rng.choice(np.arange(1, 11), size=k - 1, replace=False)) / 10
    costs = np.sort(rng.uniform(0, dearest, k - 1)).round(5)
    return [(0.0, 0.0, 0.0)] + [(float(p), float(p), float(c)) for p, c in zip(levels, costs)]


def brute_force(data: dict, options, samples: int, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each option's mean utility to the USA in each run, (runs, options), and its value
    (mean less cost), found by playing each option as a reflex scenario of its own, run by
    run, on the forward seeds of the run."""
    usa = data["outside"]["usa"]
    mean = np.empty((seeds.size, len(options)))
    for k, (p, r, _) in enumerate(options):
        fixed = copy.deepcopy(data)
        fixed["outside"]["usa"].pop("policy", None)
        fixed["outside"]["usa"]["pressure"]["max"]["value"] = usa["pressure"]["max"]["value"] * p
        fixed["outside"]["usa"]["rhetoric"]["max"]["value"] = usa["rhetoric"]["max"]["value"] * r
        tables = Tables.from_scenarios([make(fixed)])
        for i, seed in enumerate(seeds):
            forward = draws.forward_seeds(np.array([seed]), samples)[0]
            out, _ = simulate(tables, forward, rounds=False)
            mean[i, k] = out.utilities(tables)["usa"].mean()
    return mean, mean - np.array([c for _, _, c in options])


# --------------------------------------------------------------------------- off: as before


@pytest.mark.parametrize(
    "policy",
    [
        _policy([(0.0, 0.0, 0.0), (0.5, 0.5, 0.01)], kind="reflex"),
        _policy([(1.0, 1.0, 0.0)]),
        {"kind": "stackelberg", "source": SOURCE},  # options left out: the full caps at no cost
    ],
    ids=["reflex", "one full option", "options left out"],
)
def test_the_reflex_or_one_full_option_gives_the_results_of_before(policy):
    """The shipped baseline (uncertain worlds) with the policy table as without it, run for
    run and round for round, in both engines; runs.parquet gains a column only where a
    policy was chosen (every run's option 0)."""
    before = sc.load(sc.find_scenario("baseline"))
    after = _with_policy("baseline", policy)
    seeds = _seeds(400)
    old, new = simulate(before, seeds), simulate(after, seeds)
    assert_same(old, new)
    assert np.array_equal(old[0].chance, new[0].chance)
    tables = Tables.for_seeds(after, seeds)[0]
    frame = runs_frame("t", tables, new[0])
    if policy["kind"] == "reflex":
        assert new[0].policy is None and "usa_policy" not in frame
    else:
        assert (frame["usa_policy"] == 0).all()
        frame = frame.drop(columns="usa_policy")
    assert frame.equals(runs_frame("t", Tables.for_seeds(before, seeds)[0], old[0]))
    few = seeds[:20]
    assert_same(simulate(before, few, engine="mesa"), simulate(after, few, engine="mesa"))


def test_the_reflex_policy_leaves_the_tables_without_a_policy():
    after = _with_policy("baseline", _policy([(0.0, 0.0, 0.0)], kind="reflex"))
    assert Tables.from_scenarios([after]).policy is None


# --------------------------------------------------------------------------- the choice


def test_the_choice_is_the_argmax_a_brute_force_finds(point_raw):
    """On random small games (two issues, three rounds), each run's option is exactly the
    argmax, first on ties, of the values found by playing each option on its own, run by
    run, on the run's forward seeds; and the values are those sim.strategic computes."""
    rng = np.random.default_rng(3)
    chosen_kinds = set()
    for game in range(6):
        data = small_game(point_raw, rng)
        options = _random_options(rng, 3 if game % 2 else 4)
        samples = int(rng.integers(2, 7))
        data["outside"]["usa"]["policy"] = _policy(options, samples)
        spec = make(data)
        seeds = _seeds(40, root=100 + game)
        out, _ = simulate(spec, seeds, rounds=False)
        _, value = brute_force(data, options, samples, seeds)
        assert np.array_equal(out.policy, np.argmax(value, axis=1)), game
        assert np.array_equal(values(Tables.from_scenarios([spec]), seeds)[1][:, 0, :], value), game
        chosen_kinds |= set(out.policy.tolist())
    assert len(chosen_kinds) >= 2  # the games made the power choose differently


def test_an_inducement_is_weighed_as_a_brute_force_weighs_it(point_raw):
    """Options that add an inducement to the pressed party's value of no agreement: each
    run's option is the argmax of the values found by playing each option as a reflex
    scenario of its own, with that party's reservation raised by the inducement; the
    tables played carry the raised reservation, and the party's reported utility of a
    run without a treaty is that raised value."""
    rng = np.random.default_rng(13)
    chosen = set()
    for game in range(5):
        data = small_game(point_raw, rng)
        target = data["outside"]["usa"]["acts_on"]
        costs = np.sort(rng.uniform(0, 0.02, 3)).round(5)
        options = [(0.0, 0.0, 0.0, 0.0), (1.0, 1.0, float(costs[0]), 0.0)]
        options += [(0.0, 0.0, float(costs[1]), 0.08), (1.0, 1.0, float(costs[2]), 0.08)]
        samples = 3
        policy = _policy([o[:3] for o in options], samples)
        for option, (*_, inducement) in zip(policy["options"], options):
            option["inducement"] = inducement
        data["outside"]["usa"]["policy"] = policy
        seeds = _seeds(30, root=500 + game)
        spec = make(data)
        out, _ = simulate(spec, seeds, rounds=False)
        value = np.empty((seeds.size, len(options)))
        for k, (p, r, cost, inducement) in enumerate(options):
            fixed = copy.deepcopy(data)
            usa = fixed["outside"]["usa"]
            usa.pop("policy")
            usa["pressure"]["max"]["value"] *= p
            usa["rhetoric"]["max"]["value"] *= r
            fixed["parties"][target]["utility"]["reservation"]["value"] += inducement
            tables = Tables.from_scenarios([make(fixed)])
            for i, seed in enumerate(seeds):
                forward, _ = simulate(tables, draws.forward_seeds(np.array([seed]), samples)[0], rounds=False)
                value[i, k] = forward.utilities(tables)["usa"].mean() - cost
        assert np.array_equal(out.policy, np.argmax(value, axis=1)), game
        chosen |= set(out.policy.tolist())
        tables = Tables.from_scenarios([spec])
        k = list(data["parties"]).index(target)
        reported = out.utilities(tables)[target]
        base = tables.parties[k].reservation[0]
        lifted = np.array([base + options[c][3] for c in out.policy])
        assert np.array_equal(reported[~out.treaty], lifted[~out.treaty]), game
    assert chosen & {2, 3}  # an inducement was chosen in some run


def test_ties_go_to_the_first_option(point_raw):
    """Two identical options: the first is always chosen; the same option listed second
    behind a dearer copy of itself wins every run."""
    data = small_game(point_raw, np.random.default_rng(8))
    data["outside"]["usa"]["policy"] = _policy([(0.5, 0.5, 0.0), (0.5, 0.5, 0.0)])
    out, _ = simulate(make(data), _seeds(100), rounds=False)
    assert (out.policy == 0).all()
    data["outside"]["usa"]["policy"] = _policy([(0.5, 0.5, 0.01), (0.5, 0.5, 0.0)])
    out, _ = simulate(make(data), _seeds(100), rounds=False)
    assert (out.policy == 1).all()


def test_values_within_a_tie_of_each_other_are_a_tie(point_raw):
    """Two copies of one option, the second cheaper by 1e-12 (a difference below TIE, the
    size of a last-bit change in a mean on another CPU): the first is still chosen in
    every run; cheaper by 1e-6, the second is."""
    data = small_game(point_raw, np.random.default_rng(8))
    for less, chosen in ((1e-12, 0), (1e-6, 1)):
        data["outside"]["usa"]["policy"] = _policy([(0.5, 0.5, 0.01), (0.5, 0.5, 0.01 - less)])
        out, _ = simulate(make(data), _seeds(100), rounds=False)
        assert (out.policy == chosen).all(), less


def test_extra_pressure_is_never_chosen_where_it_does_not_pay(point_raw):
    """If an option that presses and speaks no more and costs less does at least as well
    on average, the dearer one is not chosen (random small games, brute-force means)."""
    rng = np.random.default_rng(21)
    checked = 0
    for game in range(20):  # pressure with four times the baseline's leverage: it pays in some runs
        data = small_game(point_raw, rng, deadline=int(rng.integers(2, 5)), leverage=4.0)
        options = _random_options(rng, int(rng.integers(2, 6)), dearest=0.005)
        data["outside"]["usa"]["policy"] = _policy(options, samples=3)
        seeds = _seeds(30, root=300 + game)
        out, _ = simulate(make(data), seeds, rounds=False)
        mean, _ = brute_force(data, options, 3, seeds)
        for i, c in enumerate(out.policy):
            p, r, cost = options[c]
            for j, (pj, rj, cj) in enumerate(options):
                if pj <= p and rj <= r and cj < cost:
                    checked += 1
                    assert mean[i, j] < mean[i, c], (game, i, j, c)
    assert checked > 20  # runs in which the power chose to press at a cost


def test_the_power_presses_within_the_chosen_caps():
    spec = sc.load(sc.find_scenario("strategic_usa"))
    seeds = _seeds(300)
    out, _ = simulate(spec, seeds, rounds=False)
    caps = np.array([o.pressure for o in spec.outside["usa"].policy.options])[out.policy]
    tables = Tables.for_seeds(spec, seeds)[0]
    assert (np.nanmax(out.pressure_path, axis=1) <= tables.outside.pressure_max * caps).all()
    assert (out.pressure_total[out.policy == 0] == 0).all()
    assert len(set(out.policy.tolist())) >= 2


def test_the_choice_is_the_same_whatever_runs_share_the_call():
    spec = sc.load(sc.find_scenario("strategic_usa"))
    seeds = _seeds(120)
    whole, _ = simulate(spec, seeds, rounds=False)
    part, _ = simulate(spec, seeds[37:61], rounds=False)
    assert np.array_equal(whole.policy[37:61], part.policy)
    assert np.array_equal(whole.agreed[37:61], part.agreed)


# --------------------------------------------------------------------------- both engines


def test_both_engines_agree_run_for_run_with_a_strategic_power():
    spec = sc.load(sc.find_scenario("strategic_usa"))
    seeds = _seeds(40, root=8)
    mesa, batch = simulate(spec, seeds, engine="mesa"), simulate(spec, seeds, engine="batch")
    assert_same(mesa, batch)
    assert np.array_equal(mesa[0].policy, batch[0].policy)
    model = NegotiationModel(spec, rng=int(seeds[3]))
    model.run()
    assert model.policy == batch[0].policy[3] and model.state.package == batch[0].agreed[3]


def test_both_engines_agree_on_random_small_games_with_their_own_options(point_raw):
    """One table per run (each its own game and options), evaluated together."""
    rng = np.random.default_rng(5)
    specs = []
    for _ in range(30):
        data = small_game(point_raw, rng)
        data["outside"]["usa"]["policy"] = _policy(_random_options(rng, 3), samples=3)
        specs.append(make(data))
    # the tables of runs evaluated together share their issues and their number of options
    tables = Tables.from_scenarios(specs)
    seeds = _seeds(30, root=9)
    mesa, batch = simulate(tables, seeds, engine="mesa"), simulate(tables, seeds, engine="batch")
    assert_same(mesa, batch)
    assert np.array_equal(mesa[0].policy, batch[0].policy)
    for i in range(0, 30, 7):  # and each run as it is on its own
        alone, _ = simulate(specs[i], seeds[i : i + 1], rounds=False)
        assert alone.policy[0] == batch[0].policy[i] and alone.agreed[0] == batch[0].agreed[i]


def test_runs_evaluated_together_must_have_as_many_options(point_raw):
    data = small_game(point_raw, np.random.default_rng(2))
    specs = []
    for k in (3, 2, 4):
        data["outside"]["usa"]["policy"] = _policy(_random_options(np.random.default_rng(k), k))
        specs.append(make(copy.deepcopy(data)))
    for pair, words in (((0, 1), "fewer"), ((0, 2), "more")):
        with pytest.raises(ValueError, match=words):
            Tables.from_scenarios([specs[i] for i in pair])


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    "policy, key, words",
    [
        ({"options": []}, "outside.usa.policy.options", "at least 1"),
        ({"options": [{"pressure": 1.5, "rhetoric": 0.0}]}, "outside.usa.policy.options.0.pressure", "1"),
        ({"options": [{"pressure": 0.5, "rhetoric": -0.1}]}, "outside.usa.policy.options.0.rhetoric", "0"),
        ({"options": [{"pressure": 0.5, "rhetoric": 0.5, "cost": -1}]}, "outside.usa.policy.options.0.cost", "0"),
        (
            {"options": [{"pressure": 0.5, "rhetoric": 0.5, "inducement": 1.5}]},
            "outside.usa.policy.options.0.inducement",
            "1",
        ),
        ({"options": [{"rhetoric": 0.5}]}, "outside.usa.policy.options.0.pressure", "missing"),
        (
            {"options": [{"pressure": 0.5, "rhetoric": 0.5, "bogus": 1}]},
            "outside.usa.policy.options.0.bogus",
            "pressure, rhetoric, cost",
        ),
        ({"sampels": 3}, "outside.usa.policy.sampels", "kind, options, samples, source"),
        ({"samples": 0}, "outside.usa.policy.samples", "1"),
        ({"kind": "nash"}, "outside.usa.policy.kind", "'reflex' or 'stackelberg'"),
        ({"source": None}, "outside.usa.policy.source", "missing"),
    ],
)
def test_a_bad_policy_is_one_error_naming_file_and_key(tmp_path, policy, key, words):
    table = {"kind": "stackelberg", "samples": 2, "options": [{"pressure": 1.0, "rhetoric": 1.0}], "source": SOURCE}
    table.update(policy)
    table = {k: v for k, v in table.items() if v is not None}
    assert_one_error(tmp_path / "bad.toml", "baseline", {"outside": {"usa": {"policy": table}}}, key, words)


def assert_one_error(path, base: str, data: dict, key: str, words: str) -> None:
    """A file building on the shipped ``base`` with ``data`` is one ScenarioError naming
    the file and ``key`` and saying ``words``; `dipsim check` exits with 2 and names the key."""
    path.write_text(tomli_w.dumps({"base": str(sc.find_scenario(base).resolve()), "name": "bad", **data}))
    with pytest.raises(sc.ScenarioError) as err:
        sc.load(path)
    assert err.value.key == key and err.value.file == str(path) and words in err.value.problem, str(err.value)
    r = CliRunner().invoke(app, ["check", str(path)])
    assert r.exit_code == 2 and key in r.output


# --------------------------------------------------------------------------- sweeps


def test_a_sweep_records_the_option_chosen_as_a_run_of_the_scenario_would(tmp_path):
    """A sweep over strategic_usa that varies the dearest option's cost: each run's option
    is the one its scenario, with that cost, chooses for the run's seed; dearer full
    pressure is chosen no more often."""

    f = tmp_path / "s.toml"
    f.write_text(
        f'scenario = "{SCENARIOS / "strategic_usa.toml"}"\n'
        'name = "s"\ntitle = "t"\ndescription = "for tests"\nseed = 4\nreplications = 60\n'
        '[design]\nkind = "grid"\n[[parameters]]\nkey = "outside.usa.policy.options.2.cost"\nlevels = [0.0, 0.2]\n'
    )
    run_sweep(sweep_spec.load(f), tmp_path / "out", workers=1)
    runs = pq.read_table(tmp_path / "out" / "runs").to_pandas().sort_values("run")
    assert "usa_policy" in runs and (runs["error"].isna() | (runs["error"] == "")).all()
    for cost, rows in runs.groupby("outside.usa.policy.options.2.cost"):
        spec = sc.load(sc.find_scenario("strategic_usa"), [f"outside.usa.policy.options.2.cost={cost}"])
        out, _ = simulate(spec, rows["seed"].to_numpy(np.uint64), rounds=False)
        assert np.array_equal(out.policy, rows["usa_policy"].to_numpy()), cost
    full = runs.groupby("outside.usa.policy.options.2.cost")["usa_policy"].apply(lambda p: (p == 2).mean())
    assert full[0.2] <= full[0.0]
