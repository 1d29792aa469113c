"""Conditional values (`when`, `otherwise`): an entry of a value table that counts only
when another issue takes some options. The package tables both engines use equal a
brute-force evaluation over every package; a scenario without conditions keeps the
additive tables bit for bit; both engines agree run for run; bad conditions are one
clear error naming the file and the key."""

import copy

import numpy as np
import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dipsim.analysis.cli import app
from dipsim.sim import draws, kernels
from dipsim.sim import scenario as sc
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate
from dipsim.sim.scenario import ScenarioError
from dipsim.sim.space import OutcomeSpace

from .conftest import SCENARIOS, make, point, random_preferences
from .test_engines import assert_same

# --------------------------------------------------------------------------- the kernel


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_paired_cells_add_the_cell_each_package_picks(data):
    """expand and value_at = the constant, each option's value and, for each pair of issues,
    the cell of the two options the package picks, whatever the issues and pairs."""
    sizes = data.draw(st.lists(st.integers(2, 4), min_size=2, max_size=5))
    every = [(a, b) for a in range(len(sizes)) for b in range(a + 1, len(sizes))]
    pairs = data.draw(st.lists(st.sampled_from(every), min_size=1, max_size=3, unique=True))
    space = OutcomeSpace.from_issues({f"i{j}": [f"o{k}" for k in range(n)] for j, n in enumerate(sizes)}, tuple(pairs))
    runs = data.draw(st.integers(1, 3))
    terms = np.array(
        data.draw(
            st.lists(
                st.lists(st.floats(-1, 1, allow_nan=False), min_size=space.terms_total, max_size=space.terms_total),
                min_size=runs,
                max_size=runs,
            )
        )
    )
    values = space.expand(terms)
    for r in range(runs):
        assert np.array_equal(space.value_at(terms[r : r + 1], np.arange(space.size)), values[r])  # bit for bit
        for p, choice in enumerate(space.choice):
            direct, offset = terms[r, 0], 1
            for i, n in enumerate(sizes):
                direct += terms[r, offset + choice[i]]
                offset += n
            for a, b in space.pairs:
                direct += terms[r, offset + choice[a] * sizes[b] + choice[b]]
                offset += sizes[a] * sizes[b]
            assert np.isclose(values[r, p], direct, rtol=0, atol=1e-12)


def test_pairs_of_issues_are_checked():
    for bad in (((1, 0),), ((0, 0),), ((0, 5),), ((0, 1), (0, 1))):
        with pytest.raises(ValueError, match="pairs of issues"):
            OutcomeSpace.from_issues({"a": ["x", "y"], "b": ["x", "y"]}, bad)


# --------------------------------------------------------------------------- random conditional scenarios


def tables_of(data: dict) -> list[tuple[str, dict, bool]]:
    """Every value table of plain scenario data: (its name in Tables, its entries, weighted)."""
    out = []
    for k, pid in enumerate(data["parties"]):
        p = data["parties"][pid]
        out += [(f"{k}.utility", p["utility"]["issues"], True), (f"{k}.acceptance", p["public"]["effects"], False)]
        out.append((f"{k}.rhetoric", data["outside"]["usa"]["rhetoric"]["effects"].setdefault(pid, {}), False))
    usa = data["outside"]["usa"]
    return [*out, ("usa.utility", usa["utility"]["issues"], True), ("usa.shift", usa["pressure"]["shift"], False)]


def random_layout(data: dict, rng: np.random.Generator, share: float = 0.5) -> dict:
    """Which entries of which value tables are conditioned, and on what: about ``share`` of
    them, each on another issue's random set of options (some, not all, by ``one_of`` or
    ``not_one_of``), half of them with an ``otherwise``. {(table, issue): (when, otherwise?)}"""
    issues, layout = data["issues"], {}
    for name, _, _ in tables_of(copy.deepcopy(data)):
        for issue in issues:
            if rng.uniform() > share:
                continue
            other = str(rng.choice([i for i in issues if i != issue]))
            options = issues[other]["options"]
            listed = rng.choice(options, size=int(rng.integers(1, len(options))), replace=False).tolist()
            when = {"issue": other, ("one_of" if rng.uniform() < 0.5 else "not_one_of"): listed}
            layout[(name, issue)] = (when, bool(rng.uniform() < 0.5))
    return layout


def with_random_conditions(data: dict, rng: np.random.Generator, layout: dict | None = None) -> dict:
    """A copy of plain scenario data with the conditions of ``layout`` (a random one if not
    given) and random values for every entry they condition and its otherwise. Entries are
    filled in for issues a table leaves out, so that every issue can be conditioned."""
    data = copy.deepcopy(data)
    layout = random_layout(data, rng) if layout is None else layout
    for name, table, weighted in tables_of(data):
        low, high = (0.0, 1.0) if weighted else (-0.3, 0.3)
        for issue, spec in data["issues"].items():
            n = len(spec["options"])
            if issue not in table:
                table[issue] = {"values": rng.uniform(low, high, n).round(3).tolist(), "source": "random test table"}
            if (name, issue) not in layout:
                continue
            when, otherwise = layout[(name, issue)]
            table[issue]["when"] = copy.deepcopy(when)
            if not weighted:
                table[issue]["values"] = rng.uniform(low, high, n).round(3).tolist()
            if otherwise:
                table[issue]["otherwise"] = rng.uniform(low, high, n).round(3).tolist()
    return data


def brute_force(data: dict, space: OutcomeSpace) -> dict[str, np.ndarray]:
    """Each value table of plain scenario data evaluated package by package, straight from
    its definition: the constant plus, issue by issue, the weight times the value the
    package's option counts (its value where the condition holds, else its otherwise)."""
    parties, usa = list(data["parties"].values()), data["outside"]["usa"]
    constants = {
        **{f"{k}.utility": p["utility"]["treaty"]["value"] for k, p in enumerate(parties)},
        **{f"{k}.acceptance": p["public"]["base"]["value"] for k, p in enumerate(parties)},
        "usa.utility": usa["utility"]["treaty"]["value"],
    }
    out = {}
    for name, table, weighted in tables_of(data):
        values = np.empty(space.size)
        for p in range(space.size):
            terms = space.terms(p)
            total = constants.get(name, 0.0)
            for i, issue in enumerate(space.issues):
                entry = table.get(issue)
                if entry is None:
                    continue
                o = space.options[i].index(terms[issue])
                counted = entry["values"][o]
                when = entry.get("when")
                if when is not None:
                    chosen = terms[when["issue"]]
                    holds = chosen in when["one_of"] if "one_of" in when else chosen not in when["not_one_of"]
                    if not holds:
                        counted = entry.get("otherwise", [0.0] * len(entry["values"]))[o]
                total += (entry["weight"] if weighted else 1.0) * counted
            values[p] = total
        out[name] = values
    return out


def expanded(tables: Tables, run: int = 0) -> dict[str, np.ndarray]:
    out = {}
    for k, p in enumerate(tables.parties):
        out.update(
            {f"{k}.utility": p.utility[run], f"{k}.acceptance": p.acceptance[run], f"{k}.rhetoric": p.rhetoric[run]}
        )
    return {**out, "usa.utility": tables.outside.utility[run], "usa.shift": tables.outside.shift[run]}


def test_expanded_tables_with_conditions_equal_a_brute_force_evaluation(point_raw):
    rng = np.random.default_rng(13)
    for _ in range(25):
        data = with_random_conditions(random_preferences(point_raw, rng), rng)
        s = make(data)
        tables = Tables.from_scenarios([s])
        assert tables.space.pairs  # some table does condition
        direct = brute_force(data, tables.space)
        for name, values in expanded(tables).items():
            assert np.allclose(values, direct[name], rtol=0, atol=1e-12), name
        for row in (*tables.parties, tables.outside):  # the utility of an outcome, as summaries take it
            assert np.array_equal(
                tables.space.value_at(row.utility_terms, np.arange(tables.space.size)), row.utility[0]
            )


def test_the_shipped_conditions_count_as_written(baseline, baseline_tables):
    """The baseline's security terms count only when an island is transferred: without a
    transfer a guarantee changes no one's utility, no public's acceptance and no pressure."""
    space, t = baseline_tables.space, baseline_tables
    assert baseline.parties["russia"].utility.issues["security"].when is not None

    def package(territory, security):
        return space.package_of({"territory": territory, "sanctions": "kept", "economy": "high", "security": security})

    for territory, differs in (("none", False), ("Habomai+Shikotan", True)):
        a, b = package(territory, "no guarantee"), package(territory, "no US forces")
        for row in (
            *(p.utility for p in t.parties),
            *(p.acceptance for p in t.parties),
            t.outside.utility,
            t.outside.shift,
        ):
            assert (row[0, a] != row[0, b]) == differs
    # Russia: 0.05 + 0.55 x 0.651 + 0.20 x 1 + 0.10 x 1 for two islands with the guarantee
    assert np.isclose(t.parties[0].utility[0, package("Habomai+Shikotan", "no US forces")], 0.05 + 0.55 * 0.651 + 0.3)


def test_drawn_values_of_a_conditional_entry_reach_the_cells(point_raw):
    """A conditional entry's values keep their distribution: each run's drawn value counts
    where the condition holds, and its fixed otherwise where it does not."""
    data = copy.deepcopy(point_raw)
    data["parties"]["russia"]["utility"]["issues"]["security"].update(
        values=[0.0, 0.8],
        dist="uniform",
        low=[0.0, 0.6],
        high=[0.0, 1.0],
        when={"issue": "territory", "not_one_of": ["none"]},
        otherwise=[0.0, 0.3],
    )
    s = make(data)
    seeds = draws.run_seeds(4, 0, np.arange(50))
    tables, drawn = Tables.for_seeds(s, seeds)
    value = drawn["parties.russia.utility.issues.security.values.1"]
    assert tables.runs == 50 and len(set(value.round(9))) > 40
    space = tables.space

    def package(territory, security):
        return space.package_of({"territory": territory, "sanctions": "kept", "economy": "none", "security": security})

    u = tables.parties[0].utility
    for territory, counted in (("Habomai", value), ("none", np.full(50, 0.3))):
        gap = u[:, package(territory, "no US forces")] - u[:, package(territory, "no guarantee")]
        assert np.allclose(gap, 0.10 * counted, rtol=0, atol=1e-12)
    assert not any(".otherwise." in u.path for u in sc.uncertain(s))  # an otherwise is fixed


# --------------------------------------------------------------------------- conditions off


def without_conditions(data):
    """Plain scenario data with every `when` and `otherwise` taken out."""
    if isinstance(data, list):
        return [without_conditions(v) for v in data]
    if not isinstance(data, dict):
        return data
    return {k: without_conditions(v) for k, v in data.items() if k not in ("when", "otherwise")}


def test_without_conditions_the_tables_are_the_additive_ones_bit_for_bit(baseline, point_raw):
    """No condition: no pairs, terms of 1 + options, and every package table exactly what the
    additive kernel alone gives; a condition in one table leaves every other table's
    expansion unchanged to the bit (its zero cells add nothing)."""
    plain = make(without_conditions(baseline.resolved()))
    t = Tables.from_scenarios([plain])
    space = t.space
    assert space.pairs == () and space.terms_total == 1 + space.options_total
    for terms, values in (
        *((p.utility_terms, p.utility) for p in t.parties),
        *((p.acceptance_terms, p.acceptance) for p in t.parties),
        *((p.rhetoric_terms, p.rhetoric) for p in t.parties),
        (t.outside.utility_terms, t.outside.utility),
        (t.outside.shift_terms, t.outside.shift),
    ):
        assert terms.shape[1] == 1 + space.options_total
        alone, scratch = np.empty(space.size), np.empty(space.size)
        kernels.additive_row(np.ascontiguousarray(terms[0]), space.counts, alone, scratch)
        assert np.array_equal(values[0], alone)
    data = without_conditions(point_raw)
    one = copy.deepcopy(data)
    one["parties"]["japan"]["public"]["effects"]["security"]["when"] = {"issue": "territory", "not_one_of": ["none"]}
    a, b = Tables.from_scenarios([make(data)]), Tables.from_scenarios([make(one)])
    assert b.space.pairs == ((0, 3),) and not np.array_equal(b.parties[1].acceptance, a.parties[1].acceptance)
    for name in ("utility", "rhetoric"):
        for k in range(2):
            assert np.array_equal(getattr(a.parties[k], name), getattr(b.parties[k], name))
    assert np.array_equal(a.parties[0].acceptance, b.parties[0].acceptance)
    assert np.array_equal(a.outside.utility, b.outside.utility) and np.array_equal(a.outside.shift, b.outside.shift)


def test_a_condition_is_the_same_in_every_run():
    s = sc.load(SCENARIOS / "baseline.toml")
    columns = {"parties.russia.utility.issues.security.when.issue": np.array(["economy", "territory"], dtype=object)}
    with pytest.raises(ValueError, match="same in every run"):
        Tables.from_columns(s, columns, 2)


# --------------------------------------------------------------------------- both engines


def test_both_engines_agree_run_for_run_with_conditions(point_raw):
    """Four random layouts of conditions, each with 80 runs of random values and every
    strategy, evaluated together by the batch engine (a layout is the same in every run)."""
    rng = np.random.default_rng(17)
    kinds = ("time_dependent", "zeuthen", "hardliner", "rubinstein")
    reasons, treaties = set(), 0
    for _ in range(4):
        layout = random_layout(point_raw, rng)
        scenarios = []
        for i in range(80):
            data = random_preferences(point_raw, rng, strategies=(kinds[i % 4], kinds[(i // 4) % 4]))
            data = with_random_conditions(data, rng, layout)
            data["negotiation"]["after_failed_ratification"] = "continue" if i % 2 else "end"
            data["outside"]["usa"]["response"]["value"] = float(rng.uniform(0, 10))
            scenarios.append(make(data))
        tables = Tables.from_scenarios(scenarios)
        assert tables.space.pairs
        seeds = draws.run_seeds(6, np.arange(tables.runs), np.zeros(tables.runs, np.int64))
        mesa, batch = simulate(tables, seeds, engine="mesa"), simulate(tables, seeds, engine="batch")
        assert_same(mesa, batch)
        reasons |= set(batch[0].reason.tolist())
        treaties += int(batch[0].treaty.sum())
    assert len(reasons) >= 3 and treaties > 0  # the runs went different ways


# --------------------------------------------------------------------------- errors


def write(path, data):
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


SECURITY = "parties.russia.utility.issues.security"


def security(**extra):
    entry = {"weight": 0.10, "values": [0.0, 1.0], "source": "t", **extra}
    return {"parties": {"russia": {"utility": {"issues": {"security": entry}}}}}


@pytest.mark.parametrize(
    "change, key, message",
    [
        (security(when={"issue": "islands", "one_of": ["none"]}), f"{SECURITY}.when.issue", "unknown issue 'islands'"),
        (security(when={"issue": "security", "one_of": ["no guarantee"]}), f"{SECURITY}.when.issue", "own issue"),
        (
            security(when={"issue": "territory", "one_of": ["Iturup"]}),
            f"{SECURITY}.when.one_of",
            "unknown option 'Iturup' of 'territory'; allowed: none, Habomai",
        ),
        (
            security(when={"issue": "territory", "one_of": ["none"], "not_one_of": ["none"]}),
            f"{SECURITY}.when",
            "both `one_of` and `not_one_of`",
        ),
        (security(when={"issue": "territory"}), f"{SECURITY}.when", "neither `one_of` nor `not_one_of`"),
        (
            security(when={"issue": "sanctions", "not_one_of": ["kept", "eased", "lifted"]}),
            f"{SECURITY}.when.not_one_of",
            "the condition never holds",
        ),
        (
            security(when={"issue": "sanctions", "one_of": ["kept", "eased", "lifted"]}),
            f"{SECURITY}.when.one_of",
            "the condition always holds",
        ),
        (
            security(when={"issue": "sanctions", "one_of": ["kept", "kept"]}),
            f"{SECURITY}.when.one_of",
            "each option once",
        ),
        (security(when={"issue": "territory", "one_of": []}), f"{SECURITY}.when.one_of", "at least 1 item"),
        (security(when={"issue": "territory", "in": ["none"]}), f"{SECURITY}.when.in", "unknown key 'in'"),
        (security(when="territory"), f"{SECURITY}.when", "allowed: a table"),
        (
            security(when={"issue": "territory", "not_one_of": ["none"]}, otherwise=[0.0]),
            f"{SECURITY}.otherwise",
            "exactly 2, one per option",
        ),
        (
            security(when={"issue": "territory", "not_one_of": ["none"]}, otherwise=[0.0, 1.5]),
            f"{SECURITY}.otherwise.1",
            "less than or equal to 1",
        ),
        (security(otherwise=[0.0, 0.0]), f"{SECURITY}.otherwise", "only with a condition"),
        (
            {
                "outside": {
                    "usa": {
                        "pressure": {
                            "shift": {
                                "security": {
                                    "values": [0.0, -0.5],
                                    "source": "t",
                                    "when": {"issue": "economy", "one_of": ["huge"]},
                                }
                            }
                        }
                    }
                }
            },
            "outside.usa.pressure.shift.security.when.one_of",
            "unknown option 'huge' of 'economy'",
        ),
    ],
)
def test_a_bad_condition_is_one_error_naming_the_file_and_the_key(tmp_path, change, key, message):
    f = write(tmp_path / "bad.toml", {"base": str(SCENARIOS / "baseline.toml"), "name": "bad", **change})
    with pytest.raises(ScenarioError) as err:
        sc.load(f)
    assert err.value.file == str(f) and err.value.key == key and message in str(err.value), str(err.value)


def test_a_bad_condition_stops_the_command_line_before_anything_is_written(tmp_path):
    f = write(
        tmp_path / "bad.toml",
        {
            "base": str(SCENARIOS / "baseline.toml"),
            "name": "bad",
            **security(when={"issue": "security", "one_of": ["no guarantee"]}),
        },
    )
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["run", str(f), "--runs", "20", "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"dipsim: error: {f}: {SECURITY}.when.issue: found 'security'")
    assert not out.exists()


def test_a_condition_set_on_the_command_line_is_validated_and_noted(baseline):
    s = sc.load(
        SCENARIOS / "baseline.toml", [f'{SECURITY}.when.issue="economy"', f'{SECURITY}.when.not_one_of=["none"]']
    )
    assert s.parties["russia"].utility.issues["security"].when == sc.Condition(issue="economy", not_one_of=["none"])
    assert "when.issue set on the command line: was territory" in s.parties["russia"].utility.issues["security"].source
    with pytest.raises(ScenarioError, match="unknown option 'x' of 'territory'"):
        sc.load(SCENARIOS / "baseline.toml", [f'{SECURITY}.when.not_one_of=["x"]'])


def test_the_point_scenario_keeps_its_conditions(baseline):
    """`dipsim run` writes the resolved scenario; reading it back gives the same conditions."""
    again = make(point(baseline.resolved()))
    for pid in again.parties:
        for issue, entry in again.parties[pid].utility.issues.items():
            assert entry.when == baseline.parties[pid].utility.issues[issue].when


def test_1960_offers_two_islands_only_with_the_guarantee():
    """memo1960 as a condition: at the step's point values Russia prefers Habomai and
    Shikotan to no treaty only in a package with the guarantee of no US forces; and Japan,
    for whom the guarantee costs what made two islands worth signing in 1956, prefers no
    treaty to either."""
    history = SCENARIOS / "history"
    step = Tables.from_scenarios([make(point(sc.load(history / "1960.toml").resolved()))])
    before = Tables.from_scenarios([make(point(sc.load(history / "1956.toml").resolved()))])

    def gain(t, k, security):
        terms = {"territory": "Habomai+Shikotan", "sanctions": "kept", "economy": "high", "security": security}
        return t.parties[k].utility[0, t.space.package_of(terms)] - t.parties[k].reservation[0]

    assert gain(step, 0, "no US forces") > 0 > gain(step, 0, "no guarantee")
    assert gain(step, 1, "no US forces") < 0 < gain(before, 1, "no guarantee")
    assert gain(before, 0, "no guarantee") > 0


def test_a_sweep_may_vary_what_a_condition_counts_but_not_the_condition(tmp_path):
    from dipsim.analysis.experiments import sweep_spec

    def sweep(key, levels):
        body = {
            "name": "s",
            "title": "t",
            "description": "d",
            "scenario": str(SCENARIOS / "baseline.toml"),
            "replications": 2,
            "design": {"kind": "grid"},
            "parameters": [{"key": key, "levels": levels}],
        }
        return write(tmp_path / "sweep.toml", body)

    ok = sweep_spec.load(sweep("parties.japan.utility.issues.security.otherwise.1", [0.5, 1.0]))
    assert ok.parameters[0].key == "parties.japan.utility.issues.security.otherwise.1"
    with pytest.raises(ScenarioError, match="part of a condition, the same in every run") as err:
        sweep_spec.load(sweep("parties.japan.utility.issues.security.when.issue", ["economy", "territory"]))
    assert err.value.key == "parameters.0.key"
    # and a varied otherwise reaches each run's tables
    key = "parties.japan.utility.issues.security.otherwise.1"
    tables = Tables.from_columns(sc.load(SCENARIOS / "baseline.toml"), {key: np.array([0.5, 1.0])}, 2)
    space = tables.space

    def package(security):
        return space.package_of({"territory": "none", "sanctions": "kept", "economy": "none", "security": security})

    u = tables.parties[1].utility
    gap = u[:, package("no US forces")] - u[:, package("no guarantee")]
    assert np.allclose(gap, [0.15 * (0.5 - 1.0), 0.0], rtol=0, atol=1e-12)
