"""JSON Schemas of scenario files (and of any file a pydantic model reads), for editors.

An editor checks and completes a TOML file against a JSON Schema through Taplo, the TOML
language server of VS Code's "Even Better TOML" and of other editors. Taplo validates with
jsonschema-rs built without the 2019-09 and 2020-12 drafts, so it reads every schema as
draft-07; its completion and hover follow a ``$ref`` and drop the keys beside it (the
field's description). pydantic writes draft 2020-12 with shared ``$defs``. The schemas
here are therefore draft-07 and self-contained: every ``$ref`` is written out in place,
so that each key carries its own description. TOML has no null: an optional key is one
that may be left out.

A scenario file may build on another (``base``) and then give any table in part, except
a table with a ``source``, which replaces its base's whole. Its schema therefore asks for
the keys of the other tables, and the fewest entries of a table keyed by names, only in
a file without ``base`` (draft-07's ``if``/``else``).
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from dipsim.sim.scenario import KEYED_BY, ExpectedUtilityScenario, Scenario, shipped

DRAFT = "http://json-schema.org/draft-07/schema#"
# The order of a key's schema in the files: what it means first, its contents last.
ORDER = [
    "description",
    "type",
    "const",
    "enum",
    "default",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "minLength",
    "pattern",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    KEYED_BY,
    "items",
    "anyOf",
    "properties",
    "required",
    "additionalProperties",
]

BASE = {
    "type": "string",
    "minLength": 1,
    "description": (
        "The file this one builds on: a path relative to this file's folder. It is read first and this file "
        "is merged into it, table by table; a table with a `source` replaces the base's whole. A file with "
        "`base` may leave out any key its base gives. Read while loading, not part of the validated scenario."
    ),
}


def shipped_schemas():
    """The folder of the schemas that ship with dipsim, beside the scenario files."""
    return shipped("schema")


def toml_schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    """A self-contained draft-07 schema of the files that ``model`` validates."""
    raw = model.model_json_schema(mode="validation")
    defs = raw.pop("$defs", {})
    return {"$schema": DRAFT, "title": title, **_written_out(raw, defs, ())}


def scenario_schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    """The schema of a scenario file: ``base`` allowed, and what a file with ``base`` may
    leave to its base asked for only in a file without one (see the module's docstring)."""
    schema = toml_schema(model, title)
    keys = list(schema["properties"].items())
    at = [name for name, _ in keys].index("description") + 1
    schema["properties"] = dict([*keys[:at], ("base", BASE), *keys[at:]])
    schema["if"] = {"required": ["base"]}
    schema["else"] = _left_to_base(schema)
    return schema


def scenario_schemas() -> dict[str, dict[str, Any]]:
    """The schemas of both kinds of scenario file, by file name. Two files, not one with
    a choice by ``protocol``: an editor then completes only the keys of the file's kind,
    and reports a wrong key at that key rather than "no choice fits" at the top."""
    return {
        "scenario.schema.json": scenario_schema(Scenario, "dipsim scenario (bargaining)"),
        "expected_utility.schema.json": scenario_schema(
            ExpectedUtilityScenario, "dipsim scenario (Bueno de Mesquita's expected utility model)"
        ),
    }


def _written_out(node: Any, defs: dict, seen: tuple[str, ...]) -> Any:
    """``node`` with every ``$ref`` replaced by what it names (the keys beside the
    ``$ref`` win: a field's description over its model's), ``X | None`` as ``X``, and
    no titles (pydantic's, made from the field names)."""
    if not isinstance(node, dict):
        return node
    node = dict(node)
    ref = node.pop("$ref", None)
    if ref is not None:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            raise ValueError(f"{name} contains itself; a self-contained schema cannot write it out")
        node = {**_written_out(defs[name], defs, (*seen, name)), **node}
    options = node.pop("anyOf", None)
    if options is not None:
        kept = [o for o in options if o != {"type": "null"}]
        if len(kept) < len(options) and node.get("default", 0) is None:
            del node["default"]
        if len(kept) == 1:
            node = {**_written_out(kept[0], defs, seen), **node}
        else:
            node["anyOf"] = kept
    out = {}
    for key in sorted(node, key=lambda k: ORDER.index(k) if k in ORDER else len(ORDER)):
        value = node[key]
        if key == "title":
            continue
        if key == "description":
            value = " ".join(value.split())  # a docstring's line breaks are the code's, not the text's
        elif key == "properties":
            value = {name: _written_out(v, defs, seen) for name, v in value.items()}
        elif key in ("items", "additionalProperties"):
            value = _written_out(value, defs, seen)
        elif key == "anyOf":
            value = [_written_out(v, defs, seen) for v in value]
        out[key] = value
    return out


def _left_to_base(node: dict) -> dict:
    """Take out of ``node`` what a file building on another may leave to its base: the
    ``required`` keys of a table without a ``source`` (merged key by key) and the fewest
    entries of a table keyed by names; return them where they were, as a schema."""
    found: dict[str, Any] = {}
    properties = node.get("properties", {})
    entries = node.get("additionalProperties")
    if "required" in node and "source" not in properties:
        found["required"] = node.pop("required")
    if "minProperties" in node:
        found["minProperties"] = node.pop("minProperties")
    for name, child in properties.items():
        inner = _left_to_base(child)
        if inner:
            found.setdefault("properties", {})[name] = inner
    if isinstance(entries, dict):
        inner = _left_to_base(entries)
        if inner:
            found["additionalProperties"] = inner
    return found


def complete(schema: dict) -> dict:
    """A scenario schema as for a file without ``base``: what it asks only of such a
    file put back in place (any other schema as it is)."""
    whole = copy.deepcopy({k: v for k, v in schema.items() if k not in ("if", "else")})
    _put_back(whole, schema.get("else", {}))
    return whole


def _put_back(node: dict, found: dict) -> None:
    for key in ("required", "minProperties"):
        if key in found:
            node[key] = found[key]
    for name, inner in found.get("properties", {}).items():
        _put_back(node["properties"][name], inner)
    if "additionalProperties" in found:
        _put_back(node["additionalProperties"], found["additionalProperties"])
