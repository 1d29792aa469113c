"""The reference of the files dipsim reads: their JSON Schemas, written for editors
(`dipsim schema`), and the key tables of scenarios/README.md made from those schemas, so
that what a key means is written once, in the models' descriptions.

A table of the README sits between two markers that name a schema file and, for all but
the first table of a file, the key path whose keys it lists:

    <!-- reference table: scenario.schema.json, keys under negotiation -->
    <!-- end of reference table -->

Each key goes to the table of the longest key path it lies under; every key must find
a table, and every table a key.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dipsim.analysis.experiments.output import OutputError
from dipsim.analysis.experiments.sweep_spec import SweepSpec
from dipsim.analysis.interpretation.calibration import CalibrationSpec
from dipsim.sim.scenario import DISTRIBUTION_KEYS, KEYED_BY
from dipsim.sim.schema import complete, scenario_schemas, toml_schema


class ReadmeError(Exception):
    """A README whose reference tables cannot be made as its markers ask."""


def schemas() -> dict[str, dict[str, Any]]:
    """Every schema `dipsim schema` writes, by file name."""
    return {
        **scenario_schemas(),
        "sweep.schema.json": toml_schema(SweepSpec, "dipsim sweep"),
        "calibration.schema.json": toml_schema(CalibrationSpec, "dipsim calibrate"),
    }


def text_of(schema: dict) -> str:
    """A schema as its file holds it."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- writing


def write(out: Path, force: bool, readme: Path | None = None) -> list[Path]:
    """Write every schema into ``out`` and, with ``readme``, rewrite that README's
    reference tables. Everything is checked before anything is written."""
    documents = schemas()
    targets = [out / name for name in documents]
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; choose another --out")
    existing = [t.name for t in targets if t.exists()]
    if existing and not force:
        raise OutputError(
            f"{out}: already holds {', '.join(existing)}; pass --force to replace them, or choose another --out"
        )
    old = new = None
    if readme is not None:
        try:
            old = readme.read_text(encoding="utf-8")
            new = with_tables(old, documents)
        except (OSError, UnicodeDecodeError) as exc:
            raise ReadmeError(f"{readme}: cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
        except ReadmeError as exc:
            raise ReadmeError(f"{readme}: {exc}") from None
    _write_files(out, {t: text_of(documents[t.name]) for t in targets})
    if new == old:
        return targets
    _write_files(readme.parent, {readme: new})
    return [*targets, readme]


def _write_files(folder: Path, texts: dict[Path, str]) -> None:
    """Write whole files or none: each into a temporary file first, all renamed at the end."""
    created = [p for p in reversed([folder, *folder.parents]) if not p.exists()]
    temporary: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for target, text in texts.items():
            temporary.append(folder / f".{target.name}.{os.getpid()}.partial")
            # made as open() makes a file (the umask decides who may read it); a file replaced keeps its mode
            fd = os.open(temporary[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            if target.exists():
                os.chmod(temporary[-1], target.stat().st_mode & 0o7777)
        for tmp, target in zip(temporary, texts):
            os.replace(tmp, target)
    except OSError as exc:
        for tmp in temporary:
            tmp.unlink(missing_ok=True)
        for made in reversed(created):
            with contextlib.suppress(OSError):
                made.rmdir()
        raise OutputError(f"{folder}: cannot be written: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- the tables


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    range: str
    default: str
    meaning: str

    def markdown(self) -> str:
        cells = (f"`{self.key}`", self.type, self.range, self.default, self.meaning)
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


HEADER = "| Key | Type | Range | Default | Meaning |\n|---|---|---|---|---|"
BLOCK = re.compile(
    r"<!-- reference table: (?P<file>[\w.-]+)(?:, keys under (?P<under>\S+))? -->\n"
    r"(?P<body>.*?)<!-- end of reference table -->",
    re.S,
)
# Words for the patterns the models use; any other is shown as it is.
PATTERNS = {r"\S": "not blank", r"^[A-Za-z0-9_.-]+$": "letters, digits, `_`, `.` and `-`"}
KINDS = {"string": "text", "integer": "whole number", "number": "number", "boolean": "true or false"}
PLURALS = {"string": "text", "integer": "numbers", "number": "numbers", "boolean": "true/false"}


def rows(schema: dict) -> list[Row]:
    """A row for every key a file may hold: each value, each belief, each table keyed by
    names; tables of fixed keys are read through to their keys."""
    return list(_keys(complete(schema), ""))


def _keys(table: dict, prefix: str) -> Iterator[Row]:
    required = set(table.get("required", ()))
    for name, node in table.get("properties", {}).items():
        yield from _key(node, prefix + name, name in required)


def _key(node: dict, key: str, required: bool) -> Iterator[Row]:
    default = "required" if required else _default(node)
    entries = node.get("additionalProperties")
    if _is_belief(node):
        yield Row(key, "belief", _range(node["properties"]["value"]), default, _meaning(node, key))
    elif "properties" in node:
        yield from _keys(node, key + ".")
    elif isinstance(entries, dict) and entries.get("type") != "object":
        yield Row(
            f"{key}.{_names(node, key)[0]}", KINDS[entries["type"]], _range(entries), default, _meaning(node, key)
        )
    elif isinstance(entries, dict):
        yield Row(key, "table", _count(node, "minProperties", "maxProperties"), default, _meaning(node, key))
        yield from _entries(entries, key, _names(node, key))
    elif node.get("type") == "array" and node["items"].get("type") == "object":
        yield Row(key, "list of tables", _count(node, "minItems", "maxItems"), default, _meaning(node, key))
        yield from _keys(node["items"], key + ".*.")
    else:
        yield Row(key, _kind(node), _range(node), default, _meaning(node, key))


def _entries(node: dict, key: str, names: list[str]) -> Iterator[Row]:
    """The keys of each entry of a table keyed by names (``names``: one per level)."""
    key = f"{key}.{names[0]}"
    if "properties" in node:
        yield from _keys(node, key + ".")
    else:
        yield from _entries(node["additionalProperties"], key, names[1:])


def _is_belief(node: dict) -> bool:
    """A belief: a value with its source, and the keys of its distribution (see "Uncertain
    beliefs" in scenarios/README.md, where they are described once)."""
    return set(node.get("properties", ())) == {"value", "source", *DISTRIBUTION_KEYS}


def _meaning(node: dict, key: str) -> str:
    if not node.get("description", "").strip():
        raise ValueError(f"{key}: no description; give its field one (Field(description=...))")
    return " ".join(node["description"].split())


def _names(node: dict, key: str) -> list[str]:
    if KEYED_BY not in node:
        raise ValueError(
            f"{key}: a table keyed by names; say how its keys are written "
            "(json_schema_extra=_keyed_by(...) in sim/scenario.py)"
        )
    return node[KEYED_BY]


def _kind(node: dict) -> str:
    if node.get("type") != "array":
        return KINDS[node["type"]]
    items = node["items"]
    plurals = list(dict.fromkeys(PLURALS[o["type"]] for o in items.get("anyOf", [items])))
    return "list of " + _either(plurals)


def _range(node: dict) -> str:
    kind = node.get("type")
    if "const" in node:
        return f'`"{node["const"]}"`'
    if "enum" in node:
        return _either([f'`"{v}"`' for v in node["enum"]])
    if kind in ("number", "integer"):
        return _bounds(node)
    if kind == "string":
        if "pattern" in node:
            return PATTERNS.get(node["pattern"], f"matching `{node['pattern']}`")
        return "non-empty" if node.get("minLength") == 1 else ""
    if kind == "array":
        each = _range(node["items"])
        return "; ".join(p for p in (_count(node, "minItems", "maxItems"), each and f"each {each}") if p)
    return ""


def _bounds(node: dict) -> str:
    whole = node["type"] == "integer"
    lo, hi = node.get("minimum"), node.get("maximum")
    lo_open = hi_open = ""
    if "exclusiveMinimum" in node:
        lo, lo_open = (node["exclusiveMinimum"] + 1, "") if whole else (node["exclusiveMinimum"], "above ")
    if "exclusiveMaximum" in node:
        hi, hi_open = (node["exclusiveMaximum"] - 1, "") if whole else (node["exclusiveMaximum"], "below ")
    if lo is not None and hi is not None:
        return f"{lo_open}{_number(lo)} to {hi_open}{_number(hi)}"
    if lo is not None:
        return f"above {_number(lo)}" if lo_open else f"at least {_number(lo)}"
    if hi is not None:
        return f"below {_number(hi)}" if hi_open else f"at most {_number(hi)}"
    return ""


def _count(node: dict, least: str, most: str) -> str:
    lo, hi = node.get(least), node.get(most)
    entries = lambda n: f"{_number(n)} {'entry' if n == 1 else 'entries'}"  # noqa: E731
    if lo is not None and lo == hi:
        return f"exactly {entries(lo)}"
    if lo and hi is not None:
        return f"{_number(lo)} to {entries(hi)}"
    if lo:
        return f"at least {entries(lo)}"
    if hi is not None:
        return f"at most {entries(hi)}"
    return ""


def _default(node: dict) -> str:
    value = node.get("default")
    if value is None or isinstance(value, (dict, list)):  # an empty table or list (or a table of defaults,
        return "none"  # whose keys have rows of their own)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'`"{value}"`'
    return _number(value)


def _number(x: float) -> str:
    """1000 -> "1000", 10000000 -> "10,000,000", 0.001 -> "0.001"."""
    if not float(x).is_integer():
        return repr(float(x))
    return f"{int(x):,}" if abs(x) >= 10_000 else str(int(x))


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


# --------------------------------------------------------------------------- the README


def with_tables(text: str, documents: dict[str, dict] | None = None) -> str:
    """``text`` with every reference table made anew from the schemas."""
    documents = documents if documents is not None else schemas()
    blocks = list(BLOCK.finditer(text))
    if not blocks:
        raise ReadmeError("no reference tables (<!-- reference table: FILE --> ... <!-- end of reference table -->)")
    tables: dict[tuple[str, str], list[Row]] = {}
    for block in blocks:
        if block["file"] not in documents:
            raise ReadmeError(f"a reference table names {block['file']}; allowed: {', '.join(documents)}")
        place = (block["file"], block["under"] or "")
        if place in tables:
            raise ReadmeError(f"two reference tables of {place[0]} for keys under {place[1] or 'the top'}")
        tables[place] = []
    for file, schema in documents.items():
        unders = [under for f, under in tables if f == file]
        if not unders:
            continue
        for row in rows(schema):
            fits = [u for u in unders if u == "" or row.key.startswith(u + ".")]
            if not fits:
                raise ReadmeError(
                    f"{file}: key {row.key} has no reference table; add one for keys under a "
                    f"path above it (there are: {', '.join(unders)})"
                )
            tables[(file, max(fits, key=len))].append(row)
    for (file, under), found in tables.items():
        if not found:
            raise ReadmeError(
                f"the reference table of {file} for keys under {under} lists nothing: {file} has no such keys"
            )
    missing = [f for f in documents if not any(f == file for file, _ in tables)]
    if missing:
        raise ReadmeError(f"no reference table of {', '.join(missing)}")
    return BLOCK.sub(lambda b: _replaced(b, tables), text)


def _replaced(block: re.Match, tables: dict) -> str:
    found = tables[(block["file"], block["under"] or "")]
    start = block[0][: block.start("body") - block.start()]
    return start + "\n".join([HEADER, *(row.markdown() for row in found)]) + "\n<!-- end of reference table -->"
