"""scenarios/README.md must document the scenario schema as sim/scenario.py defines it.

The schema is walked from ``sim.scenario.Scenario`` through nested models,
``dict[str, Model]`` tables, ``X | None``, ``Annotated[...]`` and lists. A belief
model made by ``_belief`` (fields ``value`` and ``source``) is one documented key
whose range is that of its ``value``. Each key path found (dict keys written as
``<id>``, ``<issue>`` or ``<party>``, as the README writes them) must have a row
``| `key.path` | type | range | default | meaning |`` in the README. The row's type,
range (bounds as the schema enforces them), allowed choices and default must match
the schema. A README row for a key the schema does not have is also an error.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import annotated_types as at
import pytest
from pydantic import BaseModel, create_model
from pydantic.fields import FieldInfo

from dipsim.sim import scenario as scenario_mod
from dipsim.sim.scenario import MAX_PACKAGES, WEIGHT_TOLERANCE, RunSettings, Scenario

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "scenarios" / "README.md"

# How the README names the keys of each table keyed by names: (model, field) -> one
# placeholder per dict level. A new table of this kind must be added here (and documented).
PLACEHOLDERS = {
    ("Scenario", "sources"): ("<id>",),
    ("Scenario", "issues"): ("<issue>",),
    ("Scenario", "parties"): ("<id>",),
    ("Scenario", "outside"): ("<id>",),
    ("Utility", "issues"): ("<issue>",),
    ("Public", "effects"): ("<issue>",),
    ("Pressure", "shift"): ("<issue>",),
    ("Rhetoric", "effects"): ("<party>", "<issue>"),
}

# Keys documented in the README that are read while loading, not validated by the schema.
LOADING_KEYS = {"base"}


@dataclass
class Key:
    path: str
    kind: str                 # the README's type word: belief, number, whole number, text, ...
    leaf: bool                # a value (documented row required) rather than a table
    bounds: list[str] = field(default_factory=list)   # phrases the range cell must contain
    choices: tuple = ()       # allowed values of a Literal
    default: str | None = None  # phrase the default cell must contain (None: not checked)


# --------------------------------------------------------------------------- the schema


def _unwrap(tp: Any, meta: list) -> tuple[Any, list]:
    """Strip Annotated[...] (collecting its constraints) and `| None`."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            inner, *extra = typing.get_args(tp)
            for m in extra:
                meta = meta + (list(m.metadata) if isinstance(m, FieldInfo) else [m])
            tp = inner
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            assert len(args) == 1, f"cannot document a union of several types: {tp}"
            tp = args[0]
        else:
            return tp, meta


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _number_bounds(meta: list, whole: bool) -> list[str]:
    lo = hi = None
    above = ""
    for m in meta:
        if isinstance(m, at.Ge):
            lo = m.ge
        elif isinstance(m, at.Gt) and not whole:
            lo, above = m.gt, "above "
        elif isinstance(m, at.Le):
            hi = m.le
        elif isinstance(m, at.Lt) and whole:
            hi = m.lt - 1
        elif isinstance(m, (at.Gt, at.Lt)):
            raise AssertionError(f"open bound {m}: say in the README how it is written, then here")
    if lo is None and hi is None:
        return []
    assert lo is not None and hi is not None, "a one-sided bound: extend this test and the README"
    return [f"{above}{_fmt(lo)} to {_fmt(hi)}"]


def _length_bounds(meta: list) -> list[str]:
    lo = next((m.min_length for m in meta if isinstance(m, at.MinLen)), None)
    hi = next((m.max_length for m in meta if isinstance(m, at.MaxLen)), None)
    if lo is None and hi is None:
        return []
    if lo == hi:
        return [f"exactly {lo}"]
    if hi is None:
        return [f"at least {lo}"]
    if lo is None or lo == 0:
        return [f"at most {hi}"]
    return [f"{lo} to {hi}"]


def _is_belief(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel) and set(tp.model_fields) == {"value", "source"}


def _default(info: FieldInfo | None) -> str | None:
    if info is None:
        return None
    if info.is_required():
        return "required"
    d = info.default
    if d is None or d == {}:
        return "none"
    if isinstance(d, bool):
        return "true" if d else "false"
    if isinstance(d, str):
        return f'"{d}"'
    if isinstance(d, (int, float)):
        return _fmt(d)
    return None          # a table with defaults (run): its keys are checked one by one


def _node(tp: Any, meta: list, path: str, info: FieldInfo | None, owner: str, name: str,
          placeholders: tuple = ()) -> list[Key]:
    default = _default(info)
    if _is_belief(tp):
        value_tp, value_meta = _unwrap(tp.model_fields["value"].annotation, list(tp.model_fields["value"].metadata))
        assert value_tp is float and tp.model_fields["source"].is_required()
        return [Key(path, "belief", True, _number_bounds(value_meta, whole=False), default=default)]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [Key(path, "table", False, default=default), *walk(tp, path)]
    origin = typing.get_origin(tp)
    if origin is dict:
        if not placeholders:
            placeholders = PLACEHOLDERS.get((owner, name), ())
            assert placeholders, f"{path}: a new table keyed by names; add its placeholder to PLACEHOLDERS"
        value_tp, value_meta = _unwrap(typing.get_args(tp)[1], [])
        here = Key(path, "table", False, _length_bounds(meta), default=default)
        child = f"{path}.{placeholders[0]}"
        return [here, *_node(value_tp, value_meta, child, None, owner, name, placeholders[1:])]
    if origin is list:
        item_tp, item_meta = _unwrap(typing.get_args(tp)[0], [])
        if item_tp is float:
            return [Key(path, "list of numbers", True, _length_bounds(meta) + _number_bounds(item_meta, False),
                        default=default)]
        if item_tp is str:
            return [Key(path, "list of text", True, _length_bounds(meta), default=default)]
        raise AssertionError(f"{path}: a list of {item_tp}")
    if origin is Literal:
        return [Key(path, "text", True, choices=typing.get_args(tp), default=default)]
    if tp is bool:
        return [Key(path, "true or false", True, default=default)]
    if tp is int:
        return [Key(path, "whole number", True, _number_bounds(meta, whole=True), default=default)]
    if tp is float:
        return [Key(path, "number", True, _number_bounds(meta, whole=False), default=default)]
    if tp is str:
        return [Key(path, "text", True, default=default)]
    raise AssertionError(f"{path}: a field of type {tp}; teach this test how the README documents it")


def walk(model: type[BaseModel], prefix: str = "") -> list[Key]:
    """Every key path of the schema below ``model``, tables and values."""
    keys = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        tp, meta = _unwrap(info.annotation, list(info.metadata))
        keys += _node(tp, meta, path, info, model.__name__, name)
    return keys


# --------------------------------------------------------------------------- the README


ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$")


def readme_rows(text: str) -> dict[str, list[str]]:
    """Reference rows: key path -> [type, range, default, meaning]."""
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = ROW.match(line.strip())
        if not m:
            continue
        cells = [c.strip() for c in m.group(2).split("|")]
        if len(cells) != 4:
            continue                      # another table (e.g. the strategies)
        assert m.group(1) not in rows, f"two README rows for {m.group(1)}"
        rows[m.group(1)] = cells
    return rows


def _normal(cell: str) -> str:
    cell = cell.replace("\u2212", "-").replace("\u2013", "-")
    return re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", cell)


def _has_phrase(cell: str, phrase: str) -> bool:
    return re.search(rf"(?<![\d.\-]){re.escape(phrase)}(?!\.?\d)", _normal(cell)) is not None


def undocumented(keys: list[Key], text: str) -> list[str]:
    rows = readme_rows(text)
    return [k.path for k in keys if k.leaf and k.path not in rows]


def mismatches(keys: list[Key], text: str) -> list[str]:
    rows, problems = readme_rows(text), []
    for k in keys:
        if k.path not in rows:
            continue
        kind, rng, default, meaning = rows[k.path]
        if not kind.lower().startswith(k.kind):
            problems.append(f"{k.path}: type cell {kind!r} should start with {k.kind!r}")
        for phrase in k.bounds:
            if not _has_phrase(rng, phrase):
                problems.append(f"{k.path}: range cell {rng!r} should state {phrase!r}")
        for choice in k.choices:
            if f'"{choice}"' not in rng:
                problems.append(f'{k.path}: range cell {rng!r} should list "{choice}"')
        if k.default is not None and not _has_phrase(default.lower(), k.default.lower()):
            problems.append(f"{k.path}: default cell {default!r} should say {k.default!r}")
        if not meaning:
            problems.append(f"{k.path}: no meaning given")
    return problems


@pytest.fixture(scope="module")
def keys() -> list[Key]:
    return walk(Scenario)


SWEEPS_HEADING = "## Sweep files"
EU_HEADING = "## Expected utility scenarios"


@pytest.fixture(scope="module")
def text() -> str:
    """The scenario part of the README (the sweep-file reference follows it)."""
    return README.read_text(encoding="utf-8").split(EU_HEADING)[0]


# --------------------------------------------------------------------------- tests


def test_the_walk_finds_the_schema(keys):
    leaves = [k.path for k in keys if k.leaf]
    assert len(leaves) > 40, leaves
    assert len(leaves) == len(set(leaves))
    for expected in (
        "run.seed",
        "negotiation.after_failed_ratification",
        "parties.<id>.anticipation",
        "parties.<id>.utility.issues.<issue>.weight",
        "parties.<id>.public.effects.<issue>.values",
        "outside.<id>.pressure.shift.<issue>.values",
        "outside.<id>.rhetoric.effects.<party>.<issue>.values",
        "sources.<id>",
    ):
        assert expected in leaves
    beliefs = {k.path: k.bounds for k in keys if k.kind == "belief"}
    assert beliefs["outside.<id>.response"] == ["0 to 1000"]
    assert beliefs["parties.<id>.public.margin"] == ["0.001 to 1"]


def test_every_key_of_the_schema_is_documented(keys, text):
    missing = undocumented(keys, text)
    assert not missing, "keys of the schema with no row in scenarios/README.md:\n  " + "\n  ".join(missing)


def test_documented_types_ranges_and_defaults_match_the_schema(keys, text):
    problems = mismatches(keys, text)
    assert not problems, "scenarios/README.md differs from the schema:\n  " + "\n  ".join(problems)


def test_the_readme_documents_no_key_the_schema_lacks(keys, text):
    known = {k.path for k in keys} | LOADING_KEYS
    extra = [path for path in readme_rows(text) if path not in known]
    assert not extra, f"README rows for keys the schema does not have: {extra}"


def test_the_check_would_catch_an_undocumented_key(keys, text):
    # A row taken out of the README is reported...
    path = "outside.<id>.pressure.shift.<issue>.values"
    cut = "\n".join(line for line in text.splitlines() if not line.startswith(f"| `{path}` |"))
    assert undocumented(keys, cut) == [path]
    # ...and so is a field added to the schema.
    more_run = create_model("RunSettings", __base__=RunSettings, threads=(int, 1))
    wider = create_model("Scenario", __base__=Scenario, run=(more_run, more_run()))
    assert undocumented(walk(wider), text) == ["run.threads"]
    # ...and a range that drifts.
    drifted = text.replace("| `run.runs` | whole number | 1 to 10,000,000 |", "| `run.runs` | whole number | 1 to 1,000 |")
    assert drifted != text
    assert any(p.startswith("run.runs: range") for p in mismatches(keys, drifted))


def test_the_rules_constants_are_stated(text):
    assert f"{MAX_PACKAGES:,}" in text
    assert f"{WEIGHT_TOLERANCE:.12f}".rstrip("0") in text


def test_every_shipped_scenario_is_listed(text):
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        spec = scenario_mod.load(path)
        assert f"| `{path.stem}` | {spec.title} |" in text, f"{path.name} missing from the shipped-scenarios table"


def test_every_sweep_file_key_is_documented():
    """The sweep-file section has a row for every field of the sweep schema."""
    from dipsim.analysis.experiments.sweep_spec import DesignSpec, ParameterSpec, SweepSpec

    section = README.read_text(encoding="utf-8").split(SWEEPS_HEADING)[1]
    rows = set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.M))
    expected = {f for f in SweepSpec.model_fields if f not in ("design",)}
    expected |= {f"design.{f}" for f in DesignSpec.model_fields}
    expected |= {f"parameters.*.{f}" for f in ParameterSpec.model_fields}
    assert expected <= rows, sorted(expected - rows)
    assert len(expected) > 15


def test_every_expected_utility_key_is_documented():
    from dipsim.sim.scenario import ExpectedUtilityScenario, ExpectedUtilitySettings, Stakeholder
    from dipsim.sim.scenario import Dimension

    section = README.read_text(encoding="utf-8").split(EU_HEADING)[1].split(SWEEPS_HEADING)[0]
    rows = " ".join(re.findall(r"^\| (`[^|]+) \|", section, flags=re.M))
    expected = {"protocol", "name", "title", "description", "sources", "run"}
    expected |= {f"dimension.{f}" for f in Dimension.model_fields}
    expected |= {f"settings.{f}" for f in ExpectedUtilitySettings.model_fields}
    expected |= {f"stakeholders.<id>.{f}" for f in Stakeholder.model_fields}
    assert set(ExpectedUtilityScenario.model_fields) - {"dimension", "settings", "stakeholders"} <= expected
    missing = [k for k in expected if f"`{k}`" not in rows]
    assert not missing, missing
