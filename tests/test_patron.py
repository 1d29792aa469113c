"""A patron ([patron.<id>], sim.strategic): an outside power that backs one party's
alternative to agreement with an offer, fixed or chosen before each run by playing the
talks forward, anticipating a strategic outside power's answer. Off (no offer, or a
patron with no stake) the results are those without it, run for run; on, the backed
party's value of no agreement rises by exactly the offer's worth, the choice is the
subgame-perfect pair a brute force finds, an offer that cannot pay is never made, and
both engines agree."""

import copy
import itertools

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dipsim.analysis.cli import app
from dipsim.analysis.experiments.frames import runs_frame
from dipsim.sim import draws
from dipsim.sim import scenario as sc
from dipsim.sim.model import NegotiationModel
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate
from dipsim.sim.strategic import choose, values

from .conftest import make
from .test_engines import assert_same
from .test_strategic_outsider import KEEP, _policy, _random_options, assert_one_error, small_game

SOURCE = "test: the offers are the test's"


def _seeds(n, root=23):
    return draws.run_seeds(root, 0, np.arange(n))


def _raw(name: str) -> dict:
    return sc.load(sc.find_scenario(name)).resolved()


def _patron(options, kind="stackelberg", samples=4, offer=0.1, discount=0.3, stake=-0.3, issues=KEEP) -> dict:
    """China backing Russia, with a stake in the small game's issues (or the baseline's)."""
    values = {
        "territory": {"weight": 0.0, "values": [0.5] * 5},
        "sanctions": {"weight": 0.4, "values": [1.0, 0.5, 0.0]},
        "economy": {"weight": 0.4, "values": [1.0, 0.7, 0.4, 0.0]},
        "security": {"weight": 0.2, "values": [1.0, 1.0]},
    }
    chosen = {k: {**values[k], "source": SOURCE} for k in issues}
    total = sum(v["weight"] for v in chosen.values())
    for v in chosen.values():
        v["weight"] = v["weight"] / total
    return {
        "label": "China",
        "backs": "russia",
        "utility": {
            "treaty": {"value": stake, "source": SOURCE},
            "reservation": {"value": 1.0, "source": SOURCE},
            "issues": chosen,
        },
        "offer": {"max": {"value": offer, "source": SOURCE}},
        "discount": {"value": discount, "source": SOURCE},
        "policy": {
            "kind": kind,
            "samples": samples,
            "options": [{"offer": o, "cost": c} for o, c in options],
            "source": SOURCE,
        },
    }


def _without_patron(spec: sc.Scenario) -> sc.Scenario:
    data = spec.resolved()
    data.pop("patron")
    return make(data)


# --------------------------------------------------------------------------- off: as before


def test_no_offer_gives_the_results_without_a_patron():
    """The baseline (uncertain worlds) with a patron whose one offer is nothing: the same
    runs, rounds and utilities of the parties as without it, in both engines; runs.parquet
    gains the patron's utility and its option (0 in every run)."""
    before = sc.load(sc.find_scenario("baseline"))
    data = before.resolved()
    data["patron"] = {"china": _patron([(0.0, 0.0)], kind="fixed", issues=tuple(data["issues"]))}
    after = make(data)
    seeds = _seeds(300)
    old, new = simulate(before, seeds), simulate(after, seeds)
    assert_same(old, new)
    assert (new[0].backing == 0).all()
    frame = runs_frame("t", Tables.for_seeds(after, seeds)[0], new[0])
    assert (frame["china_policy"] == 0).all() and "utility_china" in frame
    frame = frame.drop(columns=["china_policy", "utility_china", *[c for c in frame if c.startswith("patron.")]])
    assert frame.equals(runs_frame("t", Tables.for_seeds(before, seeds)[0], old[0]))
    few = seeds[:15]
    assert_same(simulate(before, few, engine="mesa"), simulate(after, few, engine="mesa"))


def test_china_indifferent_is_china_without_china():
    """The shipped scenario with a China that no outcome moves: it never pays for its offer,
    and the runs are china.toml's without a patron, run for run (the USA's choices too)."""
    spec = sc.load(sc.find_scenario("china_indifferent"))
    seeds = _seeds(200, root=5)
    new, old = simulate(spec, seeds), simulate(_without_patron(spec), seeds)
    assert (new[0].backing == 0).all()
    assert_same(old, new)
    assert np.array_equal(old[0].policy, new[0].policy)


# --------------------------------------------------------------------------- what an offer does


def test_an_offer_raises_the_backed_partys_value_of_no_agreement_by_its_worth():
    """The tables played: Russia's reservation plus offer.max x share x (1 - discount),
    Japan's untouched; and the value Russia reports for a run without a treaty is that."""
    spec = sc.load(sc.find_scenario("china_courts_russia"))
    seeds = _seeds(200, root=2)
    tables = Tables.for_seeds(spec, seeds)[0]
    played, chosen = choose(tables, seeds)
    p = tables.patron
    worth = p.offer * 1.0 * (1.0 - p.discount)
    assert (chosen.patron == 0).all() and chosen.outside is not None
    assert np.array_equal(played.parties[0].reservation, tables.parties[0].reservation + worth)
    assert np.array_equal(played.parties[1].reservation, tables.parties[1].reservation)
    assert played.backing is None and played.policy is None
    out, _ = simulate(spec, seeds)
    russia = out.utilities(tables)["russia"]
    assert np.allclose(russia[~out.treaty], (tables.parties[0].reservation + worth)[~out.treaty], rtol=0, atol=1e-15)


def test_an_offer_to_a_party_with_a_private_reservation_moves_every_type():
    """The offer is public: the other side shifts its whole prior over the backed party's
    reservation (here Japan's, the private one in private_reservations.toml)."""
    data = _raw("private_reservations")
    data["patron"] = {"china": {**_patron([(1.0, 0.0)], kind="fixed", issues=tuple(data["issues"])), "backs": "japan"}}
    spec = make(data)
    assert spec.parties["japan"].private is not None
    seeds = _seeds(20)
    tables = Tables.for_seeds(spec, seeds)[0]
    played, _ = choose(tables, seeds)
    worth = 0.1 * (1 - 0.3)
    before, after = tables.parties[1], played.parties[1]
    assert after.types.shape[1] > 1
    assert np.allclose(after.types, before.types + worth, rtol=0, atol=1e-15)
    assert np.allclose(after.private_value, before.private_value + worth, rtol=0, atol=1e-15)
    assert np.array_equal(after.prior, before.prior)
    assert np.array_equal(played.parties[0].types, tables.parties[0].types)


def test_a_larger_outside_option_shrinks_the_zone_of_agreement():
    """Bargaining theory's outside option (Binmore, Rubinstein and Wolinsky 1986): raising
    Russia's value of no agreement leaves fewer runs with a package both sides prefer to
    none. Same seeds, fixed offers of rising size: the share of runs whose governments
    agree any package never rises, and a large offer leaves almost none."""
    data = _raw("baseline")
    agreed = []
    seeds = _seeds(400, root=11)
    for size in (0.0, 0.1, 0.2, 0.4):
        data["patron"] = {
            "china": _patron([(1.0, 0.0)], kind="fixed", offer=size, discount=0.0, issues=tuple(data["issues"]))
        }
        out, _ = simulate(make(copy.deepcopy(data)), seeds)
        agreed.append((out.agreed >= 0).mean())
    assert all(b <= a for a, b in itertools.pairwise(agreed)), agreed
    assert agreed[-1] < 0.05 < agreed[0], agreed


# --------------------------------------------------------------------------- the choice


def brute_force(data: dict, offers, caps, samples: int, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(runs, offers, caps) values to China and to the USA, found by playing every pair as
    a scenario of its own with the offer fixed and the USA's caps as its reflex's maxima,
    run by run, on the run's forward seeds."""
    to_china = np.empty((seeds.size, len(offers), len(caps)))
    to_usa = np.empty_like(to_china)
    for a, (share, china_cost) in enumerate(offers):
        for b, (p, r, usa_cost) in enumerate(caps):
            fixed = copy.deepcopy(data)
            usa = fixed["outside"]["usa"]
            usa.pop("policy", None)
            usa["pressure"]["max"]["value"] *= p
            usa["rhetoric"]["max"]["value"] *= r
            fixed["patron"]["china"]["policy"] = {"kind": "fixed", "options": [{"offer": share}], "source": SOURCE}
            tables = Tables.from_scenarios([make(fixed)])
            played, _ = choose(tables, seeds[:1])  # the offer made (the same in every run)
            for i, seed in enumerate(seeds):
                forward = draws.forward_seeds(np.array([seed]), samples)[0]
                out, _ = simulate(played, forward, rounds=False)
                u = out.utilities(played)
                to_china[i, a, b] = u["china"].mean() - china_cost
                to_usa[i, a, b] = u["usa"].mean() - usa_cost
    return to_china, to_usa


@pytest.mark.parametrize("moves", ["first", "second"])
def test_the_choice_is_the_subgame_perfect_pair_a_brute_force_finds(point_raw, moves):
    """Random small games (two issues, three rounds): China's offer and the USA's answer in
    each run are the leader-follower pair of the brute-force values (China first: the
    USA's best answer to each offer, China's best offer given those answers, first on ties;
    China second: the same with the roles swapped), and the values are those
    sim.strategic computes."""
    rng = np.random.default_rng(4)
    seen = set()
    for game in range(5):
        data = small_game(point_raw, rng)
        caps = _random_options(rng, 3)
        offers = [(0.0, 0.0), (0.5, float(rng.uniform(0, 0.005))), (1.0, float(rng.uniform(0.005, 0.01)))]
        samples = int(rng.integers(2, 5))
        data["outside"]["usa"]["policy"] = _policy(caps, samples)
        stake = float(rng.uniform(-0.8, -0.3))
        data["patron"] = {"china": _patron(offers, samples=samples, offer=float(rng.uniform(0.05, 0.3)), stake=stake)}
        data["patron"]["china"]["policy"]["moves"] = moves
        spec = make(data)
        seeds = _seeds(25, root=40 + game)
        out, _ = simulate(spec, seeds, rounds=False)
        to_china, to_usa = brute_force(data, offers, caps, samples, seeds)
        rows = np.arange(seeds.size)
        if moves == "first":
            answer = np.argmax(to_usa, axis=2)  # (runs, offers): the USA's best answer to each offer
            offer = np.argmax(to_china[rows[:, None], np.arange(3)[None, :], answer], axis=1)
            policy = answer[rows, offer]
        else:
            reply = np.argmax(to_china, axis=1)  # (runs, caps): China's best answer to each US option
            policy = np.argmax(to_usa[rows[:, None], reply, np.arange(3)[None, :]], axis=1)
            offer = reply[rows, policy]
        assert np.array_equal(out.backing, offer), game
        assert np.array_equal(out.policy, policy), game
        computed = values(Tables.from_scenarios([spec]), seeds)
        assert np.allclose(computed[0], to_china, rtol=0, atol=1e-12), game
        assert np.allclose(computed[1], to_usa, rtol=0, atol=1e-12), game
        seen |= {(int(a), int(b)) for a, b in zip(out.backing, out.policy)}
    assert len({a for a, _ in seen}) >= 2  # the games made China choose differently


def test_an_offer_dearer_than_any_stake_is_never_made():
    """China's utility of any outcome lies in [stake, 1]: an offer costing more than that
    range can never pay, so it is never made; at no cost, it is made in some runs."""
    data = _raw("china")
    seeds = _seeds(150, root=3)
    data["patron"]["china"]["policy"]["options"][1]["cost"] = 1.5
    out, _ = simulate(make(copy.deepcopy(data)), seeds, rounds=False)
    assert (out.backing == 0).all()
    data["patron"]["china"]["policy"]["options"][1]["cost"] = 0.0
    data["patron"]["china"]["policy"]["options"][0]["cost"] = 0.001
    out, _ = simulate(make(data), seeds, rounds=False)
    assert (out.backing == 1).any()


def test_a_dearer_offer_is_made_in_a_subset_of_the_runs():
    """The same runs, the offer's cost rising: the USA's answers do not depend on what the
    offer costs China, so China offers where its forward gain beats the cost, and the runs
    in which a dearer offer is made are among those in which a cheaper one is."""
    seeds = _seeds(300, root=12)
    made = []
    for cost in (0.0, 0.1, 0.3, 0.6):
        spec = sc.load(sc.find_scenario("china"), [f"patron.china.policy.options.1.cost={cost}"])
        out, _ = simulate(spec, seeds, rounds=False)
        made.append(out.backing == 1)
    for cheaper, dearer in itertools.pairwise(made):
        assert not (dearer & ~cheaper).any()
    assert made[0].sum() > made[-1].sum(), [m.sum() for m in made]


# --------------------------------------------------------------------------- both engines


def test_both_engines_agree_run_for_run_with_china_and_a_strategic_usa():
    spec = sc.load(sc.find_scenario("china"))
    seeds = _seeds(40, root=8)
    mesa, batch = simulate(spec, seeds, engine="mesa"), simulate(spec, seeds, engine="batch")
    assert_same(mesa, batch)
    assert np.array_equal(mesa[0].policy, batch[0].policy)
    assert np.array_equal(mesa[0].backing, batch[0].backing)
    model = NegotiationModel(spec, rng=int(seeds[5]))
    model.run()
    assert model.backing == batch[0].backing[5] and model.state.package == batch[0].agreed[5]


def test_the_choice_is_the_same_whatever_runs_share_the_call():
    spec = sc.load(sc.find_scenario("china"))
    seeds = _seeds(90)
    whole, _ = simulate(spec, seeds, rounds=False)
    part, _ = simulate(spec, seeds[31:50], rounds=False)
    assert np.array_equal(whole.backing[31:50], part.backing)
    assert np.array_equal(whole.agreed[31:50], part.agreed)


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    "change, key, words",
    [
        ({"backs": "china"}, "patron.china.backs", "allowed: russia, japan"),
        (
            {"policy": {"kind": "fixed", "options": [{"offer": 0.0}, {"offer": 1.0}], "source": "s"}},
            "patron.china.policy.options",
            "exactly one",
        ),
        (
            {"policy": {"kind": "stackelberg", "options": [{"offer": 1.5}], "source": "s"}},
            "patron.china.policy.options.0.offer",
            "1",
        ),
        ({"policy": {"kind": "nash", "source": "s"}}, "patron.china.policy.kind", "'fixed' or 'stackelberg'"),
        ({"discount": None}, "patron.china.discount", "missing"),
        ({"bogus": 1}, "patron.china.bogus", "label, backs"),
        ({"offer": {"max": {"value": 3.0, "source": "s"}}}, "patron.china.offer.max.value", "2"),
    ],
)
def test_a_bad_patron_is_one_error_naming_file_and_key(tmp_path, change, key, words):
    data = _raw("china")["patron"]["china"]
    data.update(change)
    data = {k: v for k, v in data.items() if v is not None}
    assert_one_error(tmp_path / "bad.toml", "strategic_usa", {"patron": {"china": data}}, key, words)


def test_a_patron_named_as_a_party_is_refused(tmp_path):
    data = _raw("china")
    data["patron"] = {"japan": data["patron"].pop("china")}
    with pytest.raises(sc.ScenarioError, match="already an actor"):
        make(data)


def test_runs_evaluated_together_must_seat_the_same_powers():
    china, usa = sc.load(sc.find_scenario("china_indifferent")), sc.load(sc.find_scenario("strategic_usa"))
    for pair in ((china, usa), (usa, china)):
        with pytest.raises(ValueError, match="same outside power and the same patron"):
            Tables.from_scenarios(list(pair))


def test_a_comparison_of_scenarios_with_and_without_a_patron_plots_every_actor(tmp_path):
    r = CliRunner().invoke(app, ["compare", "china", "baseline", "--runs", "30", "--out", str(tmp_path / "c"), "-q"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "c" / "utilities.png").is_file()


def test_explain_tells_the_offer_and_the_answer(tmp_path):
    """A run of china_courts_russia, replayed: China's offer, Russia's raised value of no
    agreement as the played tables have it, and the USA answering the offer with the
    option runs.parquet records."""
    out = tmp_path / "ccr"
    r = CliRunner().invoke(app, ["run", "china_courts_russia", "--runs", "5", "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    runs = pq.read_table(out / "runs.parquet").to_pandas()
    r = CliRunner().invoke(app, ["explain", str(out), "--run", "2", "-q"])
    assert r.exit_code == 0, r.output
    spec = sc.load(sc.find_scenario("china_courts_russia"))
    seed = int(runs.loc[2, "seed"])
    tables = Tables.for_seeds(spec, np.array([seed], dtype=np.uint64))[0]
    played, chosen = choose(tables, np.array([seed], dtype=np.uint64))
    assert (
        f"China made Russia its full offer (at a cost of 0.02), which raised Russia's value of no agreement to {played.parties[0].reservation[0]:.3f}"
        in r.output
    )
    assert (
        f"the USA answered China's offer: it weighed 3 policies by playing the talks forward and chose option {runs.loc[2, 'usa_policy']}"
        in r.output
    )
    assert chosen.outside[0] == runs.loc[2, "usa_policy"]
