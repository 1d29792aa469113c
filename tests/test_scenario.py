"""Scenario files: loading, inheritance, overrides, and clear errors for every kind of
bad input (property-based: no malformed file ever gives anything but ScenarioError)."""

import copy

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dipsim.sim import scenario as sc
from dipsim.sim.scenario import ScenarioError

from .conftest import SCENARIOS, STANDARD


def write(path, data):
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


@pytest.mark.parametrize("name", STANDARD)
def test_shipped_scenarios_load(name):
    s = sc.load(SCENARIOS / f"{name}.toml")
    assert s.name == name and s.description.strip()


def test_every_belief_in_the_baseline_names_a_source(baseline):
    def walk(node, path):
        if isinstance(node, dict):
            if "value" in node:
                assert node.get("source", "").strip(), path
            for k, v in node.items():
                walk(v, f"{path}.{k}")

    data = baseline.resolved()
    walk(data, "")
    for p in data["parties"].values():
        for entry in p["utility"]["issues"].values():
            assert entry["source"].strip()


def test_base_inheritance_merges_and_later_wins(tmp_path, baseline):
    child = write(
        tmp_path / "child.toml",
        {
            "base": str(SCENARIOS / "baseline.toml"),
            "name": "child",
            "parties": {"russia": {"strategy": {"kind": "zeuthen", "source": "test"}}},
        },
    )
    s = sc.load(child)
    assert s.name == "child" and s.parties["russia"].strategy.kind == "zeuthen"
    assert s.parties["japan"] == baseline.parties["japan"]
    assert s.title == baseline.title


def test_override_sets_a_belief_and_notes_it(baseline):
    s = sc.load(SCENARIOS / "baseline.toml", ["parties.russia.utility.treaty=0.2"])
    assert s.parties["russia"].utility.treaty.value == 0.2
    assert "set on the command line: was 0.05" in s.parties["russia"].utility.treaty.source
    s = sc.load(
        SCENARIOS / "baseline.toml",
        ["parties.japan.utility.issues.territory.values.1=0.2", "negotiation.opener=russia"],
    )
    assert s.parties["japan"].utility.issues["territory"].values[1] == 0.2
    assert s.negotiation.opener == "russia"


def problem(path, overrides=None) -> ScenarioError:
    with pytest.raises(ScenarioError) as err:
        sc.load(path, overrides)
    return err.value


def test_errors_name_file_key_found_and_allowed(tmp_path):
    base = str(SCENARIOS / "baseline.toml")
    cases = [
        (
            {"parties": {"russia": {"utility": {"treaty": {"value": 3.0}}}}},
            "parties.russia.utility.treaty.value",
            "less than or equal to 1",
        ),
        ({"run": {"sed": 4}}, "run.sed", "unknown key 'sed'; allowed here: seed, runs"),
        ({"negotiation": {"deadline": "soon"}}, "negotiation.deadline", "found 'soon'"),
        (
            {"negotiation": {"opener": "usa", "deadline": 9, "source": "t"}},
            "negotiation.opener",
            "allowed: russia, japan",
        ),
        (
            {
                "parties": {
                    "japan": {
                        "utility": {"issues": {"economy": {"weight": 0.5, "values": [0, 0.4, 0.7, 1], "source": "t"}}}
                    }
                }
            },
            "parties.japan.utility.issues.*.weight",
            "sum to 1",
        ),
        (
            {
                "parties": {
                    "japan": {"utility": {"issues": {"economy": {"weight": 0.2, "values": [0, 1], "source": "t"}}}}
                }
            },
            "parties.japan.utility.issues.economy.values",
            "exactly 4",
        ),
        (
            {"parties": {"japan": {"anticipation": {"value": 0.7}}}},
            "parties.japan.anticipation.source",
            "required key is missing",
        ),
        (
            {"parties": {"japan": {"strategy": {"kind": "tit_for_tat"}}}},
            "parties.japan.strategy.kind",
            "allowed: 'time_dependent', 'zeuthen', 'hardliner', 'rubinstein' or 'bayesian'",
        ),
        ({"outside": {"usa": {"acts_on": "china"}}}, "outside.usa.acts_on", "allowed: russia, japan"),
    ]
    for change, key, allowed in cases:
        f = write(tmp_path / "bad.toml", {"base": base, "name": "bad", **change})
        e = problem(f)
        assert e.file == str(f), (change, e)
        assert e.key == key, (change, e)
        assert allowed in str(e), (change, str(e))


def test_error_in_a_base_file_names_the_base(tmp_path):
    parent = write(
        tmp_path / "parent.toml",
        {"base": str(SCENARIOS / "baseline.toml"), "negotiation": {"deadline": 0, "opener": "japan", "source": "t"}},
    )
    child = write(tmp_path / "child.toml", {"base": "parent.toml", "name": "child"})
    e = problem(child)
    assert e.file == str(parent) and e.key == "negotiation.deadline"


def test_missing_file_and_cycles(tmp_path):
    assert "no such scenario file" in str(problem(tmp_path / "nope.toml"))
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    write(a, {"base": "b.toml"})
    write(b, {"base": "a.toml"})
    e = problem(a)
    assert e.key == "base" and "cycle" in str(e) and "a.toml -> b.toml -> a.toml" in str(e)
    write(tmp_path / "c.toml", {"base": "missing.toml"})
    assert "the base of" in str(problem(tmp_path / "c.toml"))


def test_bad_overrides():
    path = SCENARIOS / "baseline.toml"
    assert "KEY=VALUE" in str(problem(path, ["deadline"]))
    e = problem(path, ["negotiation.deadline=-3"])
    assert e.key == "negotiation.deadline" and e.file.startswith("--set")
    e = problem(path, ["parties.japan.utility.issues.territory.values.9=0.1"])
    assert "allowed: 0 to 4" in str(e)
    e = problem(path, ["parties.japan.nonsense=1"])
    assert "unknown key 'nonsense'" in str(e)


def test_not_toml(tmp_path):
    f = tmp_path / "x.toml"
    f.write_text("name = [unclosed")
    assert "not valid TOML" in str(problem(f))
    f.write_bytes(b"\xff\xfe\x00")
    assert str(f) in str(problem(f))


# --------------------------------------------------------------------------- property-based

leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.lists(st.floats(-3, 3), max_size=6),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def paths_of(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from paths_of(v, (*prefix, k))
    elif isinstance(node, list):
        for i in range(len(node)):
            yield (*prefix, i)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_mutation_gives_a_valid_scenario_or_a_clear_error(data, baseline_raw):
    raw = copy.deepcopy(baseline_raw)
    paths = sorted(paths_of(raw), key=str)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        node = raw
        try:
            for p in path[:-1]:
                node = node[p]
            action = data.draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                node[path[-1]] = data.draw(leaf)
            elif action == "delete" and isinstance(node, dict):
                node.pop(path[-1], None)
            elif isinstance(node, dict):
                node[data.draw(st.text(min_size=1, max_size=6))] = data.draw(leaf)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        s = sc.validate(raw, file="mutated.toml")
    except ScenarioError as e:
        assert e.file == "mutated.toml" and str(e).startswith("mutated.toml: ")
        return
    from dipsim.sim.preferences import Tables

    Tables.from_scenarios([s])  # whatever validates can be simulated


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_a_clear_error(tmp_path_factory, blob):
    f = tmp_path_factory.mktemp("blob") / "x.toml"
    f.write_bytes(blob)
    with pytest.raises(ScenarioError) as err:
        sc.load(f)
    assert str(err.value).startswith(str(f))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_any_override_text_gives_a_scenario_or_a_clear_error(text):
    try:
        sc.load(SCENARIOS / "baseline.toml", [text])
    except ScenarioError as e:
        assert str(e)


def test_resolved_scenario_round_trips(tmp_path, baseline):
    f = write(tmp_path / "resolved.toml", baseline.resolved())
    assert sc.load(f) == baseline
    assert np.isclose(sum(e.weight for e in baseline.parties["japan"].utility.issues.values()), 1.0)
