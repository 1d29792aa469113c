"""scenarios/README.md documents the files as the models define them.

Its key tables are made from the files' JSON Schemas (analysis/presentation/reference.py),
so the check is that they equal what the models make now; the ranges the tables state
are then tried against the loader itself, so that a table cannot state a range the
loader does not enforce.
"""

from __future__ import annotations

import copy
import re
import tomllib

import pytest
from pydantic import Field, ValidationError, create_model

from dipsim.analysis.experiments.sweep_spec import SweepSpec
from dipsim.analysis.interpretation.calibration import CalibrationSpec
from dipsim.analysis.presentation.reference import BLOCK, ReadmeError, Row, rows, schemas, with_tables
from dipsim.sim import scenario as scenario_mod
from dipsim.sim.scenario import MAX_PACKAGES, WEIGHT_TOLERANCE, RunSettings, Scenario, ScenarioError, flatten
from dipsim.sim.schema import scenario_schema

from .conftest import ROOT, SCENARIOS

README = ROOT / "scenarios" / "README.md"
REGENERATE = "dipsim schema --force --out scenarios/schema --readme scenarios/README.md"
KEY_ROW = re.compile(r"^\| `[^`]+` \|(?:[^|]*\|){4}\s*$")


@pytest.fixture(scope="module")
def text() -> str:
    return README.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def documents() -> dict:
    return schemas()


def table_rows(text: str) -> dict[str, Row]:
    """The rows of the README's reference tables, by key (the last table wins)."""
    found = {}
    for block in BLOCK.finditer(text):
        for line in block["body"].splitlines()[2:]:
            key, kind, rng, default, meaning = (c.strip() for c in line.strip("| ").split(" | "))
            found[key.strip("`")] = Row(key.strip("`"), kind, rng, default, meaning)
    return found


# --------------------------------------------------------------------------- the tables are generated


def test_the_reference_tables_are_what_the_models_make(text, documents):
    assert with_tables(text, documents) == text, f"scenarios/README.md's tables are stale: run `{REGENERATE}`"


def test_no_key_is_documented_by_hand(text):
    """A key row outside the generated tables would drift from the models: there is none."""
    outside = BLOCK.sub("", text)
    hand = [line for line in outside.splitlines() if KEY_ROW.match(line)]
    assert not hand, hand


def test_every_key_of_every_file_has_a_row(text, documents):
    documented = {
        (block["file"], row)
        for block in BLOCK.finditer(text)
        for row in re.findall(r"^\| `([^`]+)` \|", block["body"], flags=re.M)
    }
    for file, schema in documents.items():
        for row in rows(schema):
            assert (file, row.key) in documented, (file, row.key)
    assert len(documented) > 100


def test_a_row_for_a_key_the_models_lack_fails(text, documents):
    made_up = "| `run.threads` | whole number | 1 to 64 | 1 | Threads per run. |"
    stale = text.replace("| `run.runs` |", made_up + "\n| `run.runs` |", 1)
    assert stale != text
    assert with_tables(stale, documents) != stale  # the test above fails on it
    assert with_tables(stale, documents) == text  # and `dipsim schema --readme` takes it out


def test_a_new_field_shows_in_its_table(text, documents):
    more_run = create_model(
        "RunSettings", __base__=RunSettings, threads=(int, Field(1, ge=1, le=64, description="Threads per run."))
    )
    wider = create_model("Scenario", __base__=Scenario, run=(more_run, Field(more_run(), description="Run.")))
    grown = {**documents, "scenario.schema.json": scenario_schema(wider, "wider")}
    made = with_tables(text, grown)
    assert made != text
    assert "| `run.threads` | whole number | 1 to 64 | 1 | Threads per run. |" in made.split("### `[negotiation]`")[0]


def test_a_key_without_a_table_or_a_table_without_keys_is_an_error(text, documents):
    top = "<!-- reference table: scenario.schema.json -->"
    with pytest.raises(ReadmeError, match="key name has no reference table"):
        with_tables(
            text.replace(top, "<!-- reference table: scenario.schema.json, keys under nowhere -->", 1), documents
        )
    with pytest.raises(ReadmeError, match="lists nothing"):
        with_tables(text.replace("keys under negotiation", "keys under negotiations", 1), documents)
    with pytest.raises(ReadmeError, match=r"allowed: scenario\.schema\.json"):
        with_tables(text.replace(top, "<!-- reference table: scenarios.schema.json -->", 1), documents)


def test_every_key_has_a_description(documents):
    def walk(node, path):
        for name, child in node.get("properties", {}).items():
            assert child.get("description", "").strip(), f"{path}{name}: no description"
            walk(child, f"{path}{name}.")
        for inner in ("additionalProperties", "items"):
            if isinstance(node.get(inner), dict):
                walk(node[inner], f"{path}*.")

    for file, schema in documents.items():
        walk(schema, f"{file}: ")


# --------------------------------------------------------------------------- what the rows say


def test_rows_say_type_range_choices_and_default(text):
    row = {key: (r.type, r.range, r.default) for key, r in table_rows(text).items()}
    assert row["run.runs"] == ("whole number", "1 to 10,000,000", "1000")
    assert row["run.seed"] == ("whole number", "0 to 9,223,372,036,854,775,807", "0")  # lt=2**63
    assert row["parties.<id>.strategy.discount"] == ("number", "above 0 to 1", "1")  # gt=0
    assert row["parties.<id>.strategy.beta"] == ("number", "0.01 to 100", "none")
    assert row["parties.<id>.public.margin"] == ("belief", "0.001 to 1", "required")
    assert row["negotiation.after_failed_ratification"] == ("text", '`"end"` or `"continue"`', '`"end"`')
    assert row["negotiation.ratification"] == ("true or false", "", "true")
    assert row["issues"] == ("table", "1 to 8 entries", "required")
    assert row["parties"] == ("table", "2 to 8 entries", "required")
    assert row["outside"] == ("table", "at most 1 entry", "none")
    assert row["issues.<issue>.options"] == ("list of text", "2 to 2001 entries; each not blank", "required")
    assert row["outside.<id>.rhetoric.effects.<party>.<issue>.values"] == (
        "list of numbers",
        "each -1 to 1",
        "required",
    )
    assert row["sources.<id>"] == ("text", "not blank", "none")
    assert row["parameters.*.levels"] == ("list of numbers, text or true/false", "at least 1 entry", "none")
    meaning = {key: r.meaning for key, r in table_rows(text).items()}
    assert meaning["parties.<id>.strategy.beta"].startswith('Required when `kind` is `"time_dependent"`.')
    assert meaning["parties.<id>.autonomy"].startswith("Required for the party an outside power acts on")
    assert meaning["base"].startswith("The file this one builds on")


def test_the_rules_constants_are_stated(text):
    rules = text.split("## Rules that span fields")[1].split("\n## ")[0]
    assert f"{MAX_PACKAGES:,}" in rules
    assert f"{WEIGHT_TOLERANCE:f}" in rules


def test_every_shipped_scenario_is_listed(text):
    for path in sorted(SCENARIOS.glob("*.toml")):
        spec = scenario_mod.load(path)
        assert f"| `{path.stem}` | {spec.title} |" in text, f"{path.name} missing from the shipped-scenarios table"


# --------------------------------------------------------------------------- the ranges are the loader's

BOUNDS = re.compile(r"^(?:each )?(above )?(-?[\d,.]+) to (-?[\d,.]+)$")
EXAMPLES = {
    "scenario.schema.json": [
        "baseline.toml",
        "history/2018.toml",
        "private_reservations.toml",
        "two_level.toml",
        "strategic_usa.toml",
        "china.toml",
    ],
    "expected_utility.schema.json": ["expected_utility/eu_car_emissions.toml"],
    "sweep.schema.json": ["sweeps/pressure_vs_opposition.toml", "sweeps/sobol_preferences.toml"],
    "calibration.schema.json": ["calibration/record.toml", "calibration/blind.toml"],
}
SPECS = {"sweep.schema.json": SweepSpec, "calibration.schema.json": CalibrationSpec}


def _example(key: str, file: str) -> tuple[dict, str] | None:
    """Plain data of a shipped file that has ``key`` (placeholders filled), defaults
    included, and the key."""
    pattern = re.compile("^" + re.sub(r"<[a-z]+>|\\\*", "[^.]+", re.escape(key)) + r"(\.value|\.0)?$")
    for name in EXAMPLES[file]:
        path = SCENARIOS / name
        data = (
            SPECS[file].model_validate(tomllib.loads(path.read_text())).model_dump(mode="json")
            if file in SPECS
            else scenario_mod.load(path).resolved()
        )
        for leaf in flatten(data):
            if pattern.match(leaf):
                return data, leaf
    if key.endswith(".otherwise"):  # a table no shipped file conditions: a shipped one, given a condition
        found = _example(key.removesuffix(".otherwise") + ".values", file)
        if found:
            data, leaf = copy.deepcopy(found[0]), found[1]
            path = leaf.split(".")[: leaf.split(".").index("values")]
            table = data
            for part in path:
                table = table[part]
            other = next(i for i in data["issues"] if i != path[-1])
            table.update(
                when={"issue": other, "one_of": [data["issues"][other]["options"][0]]}, otherwise=list(table["values"])
            )
            return data, ".".join([*path, "otherwise", "0"])
    private = re.match(r"parties\.<id>\.private\.(treaty|value)\.(.+)$", key)
    if private and file == "scenario.schema.json":  # no shipped file makes a treaty value or any other number private
        data = scenario_mod.load(SCENARIOS / "private_reservations.toml").resolved()
        name, field = private.groups()
        prior = {"types": [0.05, 0.10, 0.15], "prior": [0.25, 0.5, 0.25], "noise": 0.5, "source": "test"}
        if name == "value":
            prior["key"] = "utility.issues.territory.values.2"
        data["parties"]["japan"]["private"] = {name: prior}
        leaf = {"types": "types.0", "prior": "prior.0"}.get(field, field)
        return data, f"parties.japan.private.{name}.{leaf}"
    if key == "parties.<id>.round_cost" and file == "scenario.schema.json":  # no shipped file prices a round
        data = scenario_mod.load(SCENARIOS / "baseline.toml").resolved()
        data["parties"]["japan"]["round_cost"] = {"value": 0.01, "source": "test"}
        return data, "parties.japan.round_cost.value"
    return None


def _error_at(data: dict, leaf: str, value, file: str) -> bool:
    """Whether the loader rejects ``value`` at ``leaf``, naming that key."""
    data = copy.deepcopy(data)
    scenario_mod.set_value(data, {}, leaf.split("."), value, "test")
    if file in SPECS:
        try:
            SPECS[file].model_validate(data)
        except ValidationError as exc:
            return any(".".join(map(str, e["loc"])) == leaf for e in exc.errors())
        return False
    try:
        scenario_mod.validate(data)
    except ScenarioError as exc:
        return exc.key == leaf
    return False


@pytest.mark.parametrize("file", list(EXAMPLES))
def test_every_range_a_table_states_is_the_one_the_loader_enforces(file, documents):
    tried = 0
    for row in rows(documents[file]):
        bounds = BOUNDS.match(row.range)
        if not bounds:
            continue
        found = _example(row.key, file)
        assert found, f"{row.key}: no shipped file has this key to try its range on"
        data, leaf = found
        number = int if row.type == "whole number" else float
        above, lo, hi = bounds[1], number(bounds[2].replace(",", "")), number(bounds[3].replace(",", ""))
        step = 1 if number is int else max(1e-9, (hi - lo) * 1e-6)
        assert not _error_at(data, leaf, hi, file), f"{row.key}: {hi} is stated allowed"
        assert _error_at(data, leaf, hi + step, file), f"{row.key}: above {hi} is stated not allowed"
        assert _error_at(data, leaf, lo - step, file), f"{row.key}: below {lo} is stated not allowed"
        assert _error_at(data, leaf, lo, file) == bool(above), (
            f"{row.key}: {lo} is stated {'not ' * bool(above)}allowed"
        )
        tried += 1
    assert (
        tried
        >= {
            "scenario.schema.json": 25,
            "expected_utility.schema.json": 3,
            "sweep.schema.json": 6,
            "calibration.schema.json": 5,
        }[file]
    )
