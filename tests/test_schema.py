"""The JSON Schemas of scenario and sweep files (`dipsim schema`): what editors check a
file against. They are draft-07 and self-contained (Taplo's validator reads every schema
as draft-07, and its completion drops a field's description beside a ``$ref``); they
accept every shipped file, reject malformed ones the loader rejects, and the copies that
ship with dipsim are what the models make."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Annotated

import jsonschema
import pytest
from pydantic import BaseModel, ConfigDict, Field
from typer.testing import CliRunner

from dipsim.analysis.cli import app
from dipsim.analysis.experiments import sweep_spec
from dipsim.analysis.presentation.reference import schemas, text_of
from dipsim.sim import scenario as scenario_mod
from dipsim.sim.scenario import ScenarioError, catalog
from dipsim.sim.schema import DRAFT, shipped_schemas, toml_schema

from .conftest import ROOT, SCENARIOS

runner = CliRunner()
KIND = {
    "": "scenario.schema.json",
    "history": "scenario.schema.json",
    "expected_utility": "expected_utility.schema.json",
    "sweeps": "sweep.schema.json",
    "calibration": "calibration.schema.json",
}


@pytest.fixture(scope="module")
def documents() -> dict:
    return schemas()


def errors(schema: dict, data: dict) -> list[str]:
    return [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(data)]


def read(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the files


def test_the_shipped_schemas_are_what_the_models_make(documents):
    assert sorted(p.name for p in shipped_schemas().glob("*.json")) == sorted(documents)
    for name, schema in documents.items():
        shipped = (shipped_schemas() / name).read_text(encoding="utf-8")
        assert shipped == text_of(schema), f"{name} is stale: run `dipsim schema --force --out scenarios/schema`"


def test_every_shipped_file_names_its_schema_and_passes_it(documents):
    files = catalog()
    assert len(files) >= 16
    for folder, path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("#:schema "), f"{path}: the first line should name its schema"
        target = (path.parent / first.removeprefix("#:schema ")).resolve()
        assert target == (shipped_schemas() / KIND[folder]).resolve(), path
        assert errors(json.loads(target.read_text()), read(path)) == [], path


def test_the_schemas_are_draft_07_written_out_and_without_null(documents):
    for name, schema in documents.items():
        jsonschema.Draft7Validator.check_schema(schema)
        assert schema["$schema"] == DRAFT == "http://json-schema.org/draft-07/schema#"
        text = text_of(schema)
        for keyword in (
            "$ref",
            "$defs",
            "definitions",
            "prefixItems",
            "unevaluatedProperties",
            "dependentRequired",
            "$anchor",
            "$dynamicRef",
        ):
            assert f'"{keyword}"' not in text, (name, keyword)  # nothing draft-07 readers lack
        assert "null" not in text, name  # TOML has no null


class _Inner(BaseModel):
    """The inner table."""

    model_config = ConfigDict(extra="forbid", strict=True)
    x: Annotated[float, Field(ge=0, le=1)] = Field(description="A share.")


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    inner: _Inner = Field(description="What the field says.")
    maybe: _Inner | None = Field(None, description="An optional table.")
    many: dict[str, _Inner] = Field({}, description="Tables by name.")


class _Loop(BaseModel):
    child: _Loop | None = None


def test_the_conversion_writes_references_out_and_keeps_the_field_descriptions():
    raw = _Outer.model_json_schema()
    assert "$defs" in raw and raw["properties"]["inner"]["$ref"] == "#/$defs/_Inner"  # pydantic's form
    schema = toml_schema(_Outer, "outer")
    inner = schema["properties"]["inner"]
    assert inner == {
        "description": "What the field says.",
        "type": "object",
        "properties": {"x": {"description": "A share.", "type": "number", "minimum": 0, "maximum": 1}},
        "required": ["x"],
        "additionalProperties": False,
    }
    assert schema["properties"]["maybe"] == {**inner, "description": "An optional table."}
    assert schema["properties"]["many"]["additionalProperties"]["properties"] == inner["properties"]
    assert errors(schema, {"inner": {"x": 0.5}, "maybe": {"x": 2}}) == ["2 is greater than the maximum of 1"]
    with pytest.raises(ValueError, match="contains itself"):
        toml_schema(_Loop, "loop")


# --------------------------------------------------------------------------- schema and loader agree


def _set(data: dict, path: str, value) -> dict:
    data = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


DELETE = object()
MALFORMED = [
    ("unknown key", "negotiation.rounds", 27),
    ("whole number as text", "negotiation.deadline", "27"),
    ("out of range", "negotiation.deadline", 0),
    ("belief out of range", "parties.russia.anticipation.value", 1.5),
    ("belief without source", "parties.russia.anticipation", {"value": 0.5}),
    ("empty source", "parties.russia.strategy.source", " "),
    ("unknown strategy", "parties.russia.strategy.kind", "tit_for_tat"),
    ("a number as text", "parties.japan.public.base.value", "0.5"),
    ("a required key missing", "parties.japan.label", DELETE),
    ("a third party", "parties.china", {"label": "China"}),
    ("too few options", "issues.territory.options", ["none"]),
    ("a bad name", "name", "my scenario"),
    ("true as text", "negotiation.ratification", "yes"),
]


@pytest.mark.parametrize("what, key, value", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_scenario_is_rejected_by_schema_and_loader(documents, baseline_raw, what, key, value):
    data = _set(baseline_raw, key, value)
    assert errors(documents["scenario.schema.json"], data), what
    with pytest.raises(ScenarioError):
        scenario_mod.validate(data)


def test_malformed_expected_utility_and_sweep_files_are_rejected(documents):
    eu = read(SCENARIOS / "expected_utility" / "eu_car_emissions.toml")
    sweep = read(SCENARIOS / "sweeps" / "pressure_vs_opposition.toml")
    for key, value in [
        ("protocol", "bargaining"),
        ("settings.rounds", 0),
        ("stakeholders.germany.salience", 2),
        ("dimension.scale", 1),
    ]:
        bad = _set(eu, key, value)
        assert errors(documents["expected_utility.schema.json"], bad), key
        with pytest.raises(ScenarioError):
            scenario_mod.validate(bad)
    for key, value in [("replications", 0), ("design.kind", "full"), ("workers", 2), ("parameters", [])]:
        bad = _set(sweep, key, value)
        assert errors(documents["sweep.schema.json"], bad), key
        with pytest.raises(ValueError):
            sweep_spec.SweepSpec.model_validate(bad)
    assert errors(documents["scenario.schema.json"], eu)  # each kind of file has its own schema
    assert errors(documents["expected_utility.schema.json"], read(SCENARIOS / "baseline.toml"))


def test_a_file_with_base_may_leave_keys_to_its_base(documents):
    schema = documents["scenario.schema.json"]
    partial = {"base": "baseline.toml", "name": "mine", "parties": {"japan": {"label": "J"}}}
    assert errors(schema, partial) == []
    without_base = {k: v for k, v in partial.items() if k != "base"}
    assert "'title' is a required property" in errors(schema, without_base)
    assert "'anticipation' is a required property" in errors(schema, without_base)
    # a table with a source replaces its base's whole, so it is complete in any file
    strategy = {**partial, "parties": {"japan": {"strategy": {"kind": "zeuthen"}}}}
    assert errors(schema, strategy) == ["'source' is a required property"]


CROSS_FIELD = [
    ("weights that do not sum to 1", "parties.russia.utility.issues.territory.weight", 0.9),
    ("a values list of the wrong length", "parties.russia.utility.issues.territory.values", [0.0, 1.0]),
    ("an opener who is no party", "negotiation.opener", "usa"),
    ("time_dependent without beta", "parties.russia.strategy", {"kind": "time_dependent", "source": "s"}),
    ("the pressed party without autonomy", "parties.japan.autonomy", DELETE),
    ("an effect on an unknown issue", "parties.japan.public.effects.fisheries", {"values": [0.1], "source": "s"}),
    ("a whole number written 27.0", "negotiation.deadline", 27.0),
]


@pytest.mark.parametrize("what, key, value", CROSS_FIELD, ids=[c[0] for c in CROSS_FIELD])
def test_what_only_the_loader_checks(documents, baseline_raw, what, key, value):
    """The rules scenarios/README.md lists as beyond the schema: the schema accepts these,
    the loader does not."""
    data = _set(baseline_raw, key, value)
    assert errors(documents["scenario.schema.json"], data) == [], what
    with pytest.raises(ScenarioError):
        scenario_mod.validate(data)


# --------------------------------------------------------------------------- dipsim schema


def invoke(*args):
    return runner.invoke(app, ["schema", *map(str, args)], catch_exceptions=False)


def test_dipsim_schema_writes_the_schemas(tmp_path, documents):
    out = tmp_path / "scenarios" / "schema"
    r = invoke("--out", out)
    assert r.exit_code == 0, r.output
    for name in documents:
        assert (out / name).read_text(encoding="utf-8") == (shipped_schemas() / name).read_text(encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == sorted(documents)  # no temporary file left
    made = (tmp_path / "made_by_open").open("w")
    made.close()
    for name in documents:  # readable as any new file is
        assert (out / name).stat().st_mode & 0o777 == (tmp_path / "made_by_open").stat().st_mode & 0o777


def test_dipsim_schema_replaces_nothing_without_force(tmp_path):
    out = tmp_path / "schema"
    out.mkdir()
    (out / "sweep.schema.json").write_text("mine")
    r = invoke("--out", out)
    assert r.exit_code == 2
    assert r.output.count("dipsim: error:") == 1 and "sweep.schema.json" in r.output and "--force" in r.output
    assert sorted(p.name for p in out.iterdir()) == ["sweep.schema.json"]
    assert (out / "sweep.schema.json").read_text() == "mine"
    assert invoke("--out", out, "--force").exit_code == 0
    assert (out / "sweep.schema.json").read_text() != "mine"


def test_dipsim_schema_bad_out_writes_nothing(tmp_path):
    file = tmp_path / "a_file"
    file.write_text("x")
    for out, says in [(file, "is not a folder"), (file / "below", "cannot be written")]:
        r = invoke("--out", out)
        assert r.exit_code == 2, r.output
        assert r.output.count("dipsim: error:") == 1 and says in r.output and "Traceback" not in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"] and file.read_text() == "x"


def test_dipsim_schema_rewrites_the_readme_tables(tmp_path):
    real = (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")
    stale = real.replace("| `run.runs` | whole number | 1 to 10,000,000 |", "| `run.runs` | whole number | 1 to 1000 |")
    assert stale != real
    readme = tmp_path / "README.md"
    readme.write_text(stale, encoding="utf-8")
    readme.chmod(0o640)
    r = invoke("--out", tmp_path / "schema", "--readme", readme)
    assert r.exit_code == 0, r.output
    assert readme.read_text(encoding="utf-8") == real and str(readme) in r.output
    assert readme.stat().st_mode & 0o777 == 0o640  # its mode kept


def test_dipsim_schema_bad_readme_writes_nothing(tmp_path):
    (tmp_path / "plain.md").write_text("# No tables here\n")
    for readme, says in [(tmp_path / "missing.md", "cannot be read"), (tmp_path / "plain.md", "no reference tables")]:
        r = invoke("--out", tmp_path / "schema", "--readme", readme)
        assert r.exit_code == 2, r.output
        assert r.output.count("dipsim: error:") == 1 and says in r.output and str(readme) in r.output
    assert not (tmp_path / "schema").exists()
    assert (tmp_path / "plain.md").read_text() == "# No tables here\n"
