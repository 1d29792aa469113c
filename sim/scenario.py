"""Scenario files: validated, with `base` inheritance and `--set` overrides.

A scenario is data only (TOML). Every belief about the world is a ``{value, source}``
pair, so that the number and where it came from travel together. Loading resolves
``base = "other.toml"`` chains (deep merge, later files win, lists replaced whole),
applies overrides, validates against the schema below and then checks the rules
that span fields (weights sum to one, one value per option, known party names).
Every problem is raised as :class:`ScenarioError` naming the file, the key path,
what was found and what is allowed.
"""

from __future__ import annotations

import copy
import tomllib
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

MAX_PACKAGES = 20_000
WEIGHT_TOLERANCE = 1e-6
COMMAND_LINE = "--set"


class ScenarioError(Exception):
    """A scenario that cannot be used, with where and why."""

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = file, key, problem
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(where + problem)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Text = Annotated[str, Field(min_length=1, pattern=r"\S")]


def _belief(name: str, lo: float, hi: float) -> type[BaseModel]:
    """A number in [lo, hi] that stands for a belief about the world, with its source."""
    return create_model(
        name,
        __base__=_Strict,
        value=(Annotated[float, Field(ge=lo, le=hi)], ...),
        source=(Text, ...),
    )


Share = _belief("Share", 0.0, 1.0)            # a probability or a share of a public
Signed = _belief("Signed", -1.0, 1.0)
Reservation = _belief("Reservation", -1.0, 2.0)
Volatility = _belief("Volatility", 0.0, 0.5)
Margin = _belief("Margin", 0.001, 1.0)
Response = _belief("Response", 0.0, 1000.0)
Cost = _belief("Cost", 0.0, 2.0)


class RunSettings(_Strict):
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    runs: Annotated[int, Field(ge=1, le=10_000_000)] = 1000


class Negotiation(_Strict):
    deadline: Annotated[int, Field(ge=1, le=1000)]
    opener: Text
    ratification: bool = True
    after_failed_ratification: Literal["end", "continue"] = "end"
    source: Text


class Issue(_Strict):
    label: Text
    options: Annotated[list[Text], Field(min_length=2, max_length=2001)]
    source: Text


class IssueValues(_Strict):
    weight: Annotated[float, Field(ge=0, le=1)]
    values: list[Annotated[float, Field(ge=0, le=1)]]
    source: Text


class Utility(_Strict):
    treaty: Signed
    reservation: Reservation
    issues: dict[str, IssueValues]


class Effect(_Strict):
    values: list[Annotated[float, Field(ge=-1, le=1)]]
    source: Text


class Shift(_Strict):
    values: list[Annotated[float, Field(ge=-2, le=2)]]
    source: Text


class Strategy(_Strict):
    kind: Literal["time_dependent", "zeuthen", "hardliner", "rubinstein"]
    beta: Annotated[float, Field(ge=0.01, le=100)] | None = None
    tolerance: Annotated[float, Field(ge=0, le=1)] = 0.0
    discount: Annotated[float, Field(gt=0, le=1)] = 1.0
    patience: Annotated[int, Field(ge=0, le=1000)] = 0
    source: Text


class Public(_Strict):
    label: Text
    base: Share
    effects: dict[str, Effect] = {}
    volatility: Volatility
    threshold: Share
    margin: Margin


class Party(_Strict):
    label: Text
    strategy: Strategy
    utility: Utility
    anticipation: Share
    autonomy: Share | None = None
    autonomy_growth: Share | None = None
    public: Public


class Pressure(_Strict):
    max: Share
    shift: dict[str, Shift] = {}


class Rhetoric(_Strict):
    max: Share
    effects: dict[str, dict[str, Effect]] = {}


class Outside(_Strict):
    label: Text
    active: bool = True
    acts_on: Text
    utility: Utility
    response: Response
    goodwill_cost: Cost
    pressure: Pressure
    rhetoric: Rhetoric


class History(_Strict):
    """What history did at the moment a scenario stands for (used by `dipsim backcast`)."""

    year: Annotated[int, Field(ge=1800, le=2100)]
    event: Text
    direction: Literal["start", "up", "down", "same"]   # treaty prospects against the previous step
    islands: Annotated[float, Field(ge=0, le=1000)] | None = None  # most islands on offer, where known
    source: Text


class _Described(_Strict):
    """What every scenario file has, whatever its model."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    title: Text
    description: Text
    sources: dict[str, Text] = {}
    run: RunSettings = RunSettings()

    def resolved(self) -> dict[str, Any]:
        """The scenario as plain data, defaults included (what `scenario.toml` holds)."""
        return self.model_dump(mode="json", exclude_none=True)


class Scenario(_Described):
    protocol: Literal["bargaining"] = "bargaining"
    negotiation: Negotiation
    issues: Annotated[dict[str, Issue], Field(min_length=1, max_length=8)]
    parties: Annotated[dict[str, Party], Field(min_length=2, max_length=2)]
    outside: Annotated[dict[str, Outside], Field(max_length=1)] = {}
    history: History | None = None

    @property
    def party_ids(self) -> tuple[str, str]:
        a, b = self.parties
        return a, b

    @property
    def outside_power(self) -> tuple[str, Outside] | None:
        return next(iter(self.outside.items()), None)


class Dimension(_Strict):
    label: Text
    low: float
    high: float
    source: Text


class Stakeholder(_Strict):
    label: Text
    position: float
    capability: Annotated[float, Field(ge=0, le=1e6)]
    salience: Annotated[float, Field(ge=0, le=1)]
    source: Text


class ExpectedUtilitySettings(_Strict):
    rounds: Annotated[int, Field(ge=1, le=1000)] = 10
    probability_denominator: Literal["all_pairs", "pair"] = "all_pairs"
    source: Text


class ExpectedUtilityScenario(_Described):
    """A scenario for Bueno de Mesquita's expected utility model (sim.expected_utility)."""

    protocol: Literal["expected_utility"]
    dimension: Dimension
    settings: ExpectedUtilitySettings
    stakeholders: Annotated[dict[str, Stakeholder], Field(min_length=2)]


# --------------------------------------------------------------------------- loading


# Where a bare name is looked for among the files that ship with dipsim (dipsim.scenarios),
# in this order: the standard scenarios, the expected utility ones, the history steps.
SHIPPED_FOLDERS = ("", "expected_utility", "history")


def shipped(folder: str = "") -> Path:
    """A folder of the scenario files that ship with dipsim (the package dipsim.scenarios;
    in a checkout, the top-level scenarios/)."""
    return Path(str(resources.files("dipsim.scenarios").joinpath(folder)))


def find_scenario(name: str | Path, folders: tuple[str, ...] = SHIPPED_FOLDERS) -> Path:
    """A scenario file by path or by name: the path as given if it exists; else NAME (with
    or without .toml, a leading scenarios/ allowed) in ./scenarios/; else among the files
    that ship with dipsim, in ``folders``. A name found nowhere is returned as given, for
    the reader to report missing."""
    path = Path(name)
    if path.exists() or path.is_absolute():
        return path
    file = path if path.suffix == ".toml" else path.with_name(path.name + ".toml")
    inside = Path(*file.parts[1:]) if file.parts[0] == "scenarios" and len(file.parts) > 1 else file
    local = Path("scenarios") / inside
    if local.is_file():
        return local
    for folder in folders:
        candidate = shipped(folder) / inside
        if candidate.is_file():
            return candidate
    return path


def catalog(folders: tuple[str, ...] = ("", "expected_utility", "history", "sweeps")) -> list[tuple[str, Path]]:
    """The scenario and sweep files that ship with dipsim: (folder, path), by folder then name."""
    return [(folder, f) for folder in folders for f in sorted(shipped(folder).glob("*.toml"))]


def load(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Read, merge, override and validate one scenario file."""
    path = find_scenario(path)
    raw, origin = _read_chain(path, ())
    raw.pop("base", None)
    for text in overrides or []:
        apply_override(raw, origin, text)
    return validate(raw, origin, str(path))


def validate(raw: dict, origin: dict[tuple, str] | None = None, file: str = "<scenario>") -> Scenario:
    """Validate plain data (as from TOML) into a Scenario (or, with ``protocol =
    "expected_utility"``, an ExpectedUtilityScenario), or raise ScenarioError."""
    origin = origin or {}
    model = ExpectedUtilityScenario if raw.get("protocol") == "expected_utility" else Scenario
    parties = raw.get("parties")
    if model is Scenario and isinstance(parties, dict) and len(parties) != 2:
        raise ScenarioError(_origin_of(origin, ("parties",), file), "parties",
                            f"found {len(parties)} ({', '.join(map(str, parties))}); allowed: exactly 2 parties at the table")
    try:
        scenario = model.model_validate(raw)
    except ValidationError as exc:
        raise _first_error(exc, raw, origin, file, model) from None
    where = lambda loc: _origin_of(origin, loc, file)  # noqa: E731
    if model is Scenario:
        _check_rules(scenario, where)
    else:
        _check_stakeholders(scenario, where)
    return scenario


def _check_stakeholders(s: "ExpectedUtilityScenario", where) -> None:
    d = s.dimension
    if not d.low < d.high:
        raise ScenarioError(where(("dimension",)), "dimension.high", f"found low {d.low}, high {d.high}; allowed: low < high")
    for sid, st in s.stakeholders.items():
        if not d.low <= st.position <= d.high:
            loc = ("stakeholders", sid, "position")
            raise ScenarioError(where(loc), _key(loc), f"found {st.position}; allowed: {d.low} to {d.high} (the dimension)")
    if sum(st.capability * st.salience for st in s.stakeholders.values()) <= 0:
        raise ScenarioError(where(("stakeholders",)), "stakeholders", "every capability x salience is 0; allowed: some stakeholder with weight")


def _read_toml(path: Path, cited_by: str | None) -> dict:
    where = f" (the base of {cited_by})" if cited_by else ""
    if not path.is_file():
        allowed = "" if cited_by else "; allowed: a path to a .toml file, or a name that `dipsim scenarios` lists"
        raise ScenarioError(str(path), "", f"no such scenario file{where}{allowed}")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), "", f"cannot be read: {exc}") from None


def _read_chain(path: Path, seen: tuple[Path, ...], cited_by: str | None = None):
    """Load a file and the files it builds on; return merged data and key origins."""
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(p.name for p in (*seen, resolved))
        raise ScenarioError(str(path), "base", f"cycle of base files: {chain}")
    data = _read_toml(path, cited_by)
    base = data.get("base")
    if base is None:
        merged, origin = {}, {}
    elif not isinstance(base, str) or not base:
        raise ScenarioError(str(path), "base", f"found {base!r}; allowed: a relative path to a .toml file")
    else:
        merged, origin = _read_chain(path.parent / base, (*seen, resolved), str(path))
    _merge(merged, data, origin, str(path), ())
    return merged, origin


def _merge(into: dict, new: dict, origin: dict, file: str, prefix: tuple) -> None:
    """Deep-merge ``new`` into ``into``; record which file set each leaf (insertion order
    of ``origin`` is the order in which files were read). A table that carries a
    ``source``, in this file or in the one it builds on (a belief, a set of values, a
    strategy), is replaced whole, so that a number never travels with the source of the
    number it replaced: a table given without its source is an error."""
    for key, value in new.items():
        loc = (*prefix, key)
        sourced = isinstance(value, dict) and ("source" in value or (isinstance(into.get(key), dict) and "source" in into[key]))
        if sourced:
            into[key] = copy.deepcopy(value)
            for path in [p for p in origin if p[: len(loc)] == loc]:
                del origin[path]
            origin[loc] = file
        elif isinstance(value, dict):
            if not isinstance(into.get(key), dict):
                into[key] = {}
                origin.pop(loc, None)
            _merge(into[key], value, origin, file, loc)
        else:
            into[key] = copy.deepcopy(value)
            origin.pop(loc, None)
            origin[loc] = file


def _origin_of(origin: dict[tuple, str], loc: tuple, default: str) -> str:
    """The file that set a key, or the last file that set anything below it."""
    for n in range(len(loc), 0, -1):
        if loc[:n] in origin:
            return origin[loc[:n]]
    below = [f for path, f in origin.items() if path[: len(loc)] == loc]
    return below[-1] if below else default


# --------------------------------------------------------------------------- overrides


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b.c=value`` -> (["a", "b", "c"], value); the value is read as TOML, else as text."""
    key, sep, value_text = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(COMMAND_LINE, text, "found no KEY=VALUE; allowed: --set key.path=value")
    path = [p.strip() for p in key.strip().split(".")]
    if any(not p for p in path):
        raise ScenarioError(COMMAND_LINE, key, "empty part in the key path")
    try:
        value = tomllib.loads(f"v = {value_text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text.strip()
    return path, value


def apply_override(raw: dict, origin: dict, text: str) -> None:
    """Set one key path in the raw data from ``key.path=value`` text (see set_value)."""
    path, value = parse_override(text)
    set_value(raw, origin, path, value, f"{COMMAND_LINE} {text}")


def with_settings(scenario: Scenario, settings: dict[str, Any]) -> Scenario:
    """A scenario with some key paths set to Python values, validated."""
    raw, origin = scenario.resolved(), {}
    for key, value in settings.items():
        set_value(raw, origin, key.split("."), value, f"setting {key}")
    return validate(raw, origin, "<settings>")


def set_value(raw: dict, origin: dict, path: list[str], value: Any, where: str) -> None:
    """Set one key path in the raw data. A bare number given for a ``{value, source}``
    belief replaces its value. The nearest enclosing table with a source records the
    change, so the printed sources say what was changed and where."""
    node: Any = raw
    sourced: dict | None = raw if "source" in raw else None
    created: tuple | None = None
    for i, part in enumerate(path[:-1]):
        if isinstance(node, dict) and part not in node and created is None:
            created = tuple(_loc_part(p) for p in path[: i + 1])
        node = _step(node, part, path[: i + 1], where)
        if isinstance(node, dict) and "source" in node:
            sourced = node
    last = path[-1]
    if isinstance(node, list):
        index = _list_index(node, last, path, where)
        before = node[index]
        node[index] = value
    elif isinstance(node, dict):
        before = node.get(last)
        if isinstance(before, dict) and "value" in before and not isinstance(value, dict):
            sourced, before = before, before["value"]
            sourced["value"] = value
        else:
            node[last] = value
    else:
        raise ScenarioError(where, ".".join(path), f"{'.'.join(path[:-1])} is a single value, not a table")
    if sourced is not None and isinstance(sourced.get("source"), str) and before is not None:
        how = "on the command line" if where.startswith(COMMAND_LINE) else f"by {where}"
        sourced["source"] += f" [{'.'.join(path)} set {how}: was {before}]"
    loc = created or tuple(_loc_part(p) for p in path)
    origin.pop(loc, None)
    origin[loc] = where


def _step(node: Any, part: str, path: list[str], where: str) -> Any:
    if isinstance(node, dict):
        if part not in node:
            node[part] = {}
        return node[part]
    if isinstance(node, list):
        return node[_list_index(node, part, path, where)]
    raise ScenarioError(where, ".".join(path), "cannot descend into a single value")


def _list_index(node: list, part: str, path: list[str], where: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ScenarioError(where, ".".join(path), f"found index {part!r}; allowed: 0 to {len(node) - 1}")
    return int(part)


def _loc_part(p: str) -> str | int:
    return int(p) if p.isdigit() else p


# --------------------------------------------------------------------------- errors


def _first_error(exc: ValidationError, raw: dict, origin: dict, file: str, model: Any = None) -> ScenarioError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc)
    where = _origin_of(origin, loc, file)
    kind = err["type"]
    found = err.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], model or Scenario)
        return ScenarioError(where, key, f"unknown key {loc[-1]!r}; allowed here: {allowed}")
    if kind == "missing":
        return ScenarioError(where, key, "required key is missing")
    if kind in ("model_type", "dict_type"):
        return ScenarioError(where, key, f"found {_short(found)}; allowed: a table ({_allowed_keys(loc, model or Scenario)})")
    allowed = err["msg"].removeprefix("Input should be ").removeprefix("input should be ")
    return ScenarioError(where, key, f"found {_short(found)}; allowed: {allowed}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(loc: tuple, root: Any = None) -> str:
    """The field names the schema allows at a location (for unknown-key messages)."""
    node: Any = root or Scenario
    for part in loc:
        if isinstance(node, _DictOf):
            node = node.model
        elif isinstance(node, type) and issubclass(node, BaseModel) and part in node.model_fields:
            node = _schema_node(node.model_fields[part].annotation)
        else:
            return "(see scenarios/README.md)"
    if isinstance(node, type) and issubclass(node, BaseModel):
        return ", ".join(node.model_fields)
    return "(see scenarios/README.md)"


class _DictOf:
    """A dict level of the schema: any key, then the given node."""

    def __init__(self, model: Any):
        self.model = model


def _schema_node(annotation: Any) -> Any:
    """The model (or dict of models) inside an annotation such as dict[str, Party] or Share | None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is dict:
        return _DictOf(_schema_node(typing.get_args(annotation)[1]))
    for arg in typing.get_args(annotation):
        found = _schema_node(arg)
        if found is not None:
            return found
    return None


# --------------------------------------------------------------------------- rules


def _check_rules(s: Scenario, where) -> None:
    issues = s.issues
    n_packages = 1
    for issue in issues.values():
        n_packages *= len(issue.options)
        if len(set(issue.options)) != len(issue.options):
            raise ScenarioError(where(("issues",)), "issues", "option names must differ within an issue")
    if n_packages > MAX_PACKAGES:
        raise ScenarioError(
            where(("issues",)), "issues", f"{n_packages} packages; allowed: at most {MAX_PACKAGES}"
        )
    if s.negotiation.opener not in s.parties:
        raise ScenarioError(
            where(("negotiation", "opener")),
            "negotiation.opener",
            f"found {s.negotiation.opener!r}; allowed: {', '.join(s.parties)}",
        )
    for pid, party in s.parties.items():
        _check_utility(party.utility, ("parties", pid, "utility"), issues, where)
        _check_effects(party.public.effects, ("parties", pid, "public", "effects"), issues, where)
        if party.strategy.kind == "time_dependent" and party.strategy.beta is None:
            loc = ("parties", pid, "strategy", "beta")
            raise ScenarioError(where(loc), _key(loc), "required for kind 'time_dependent' (0.01 to 100)")
    power = s.outside_power
    if power is None:
        return
    oid, o = power
    base = ("outside", oid)
    _check_utility(o.utility, (*base, "utility"), issues, where)
    if o.acts_on not in s.parties:
        loc = (*base, "acts_on")
        raise ScenarioError(where(loc), _key(loc), f"found {o.acts_on!r}; allowed: {', '.join(s.parties)}")
    target = s.parties[o.acts_on]
    for field in ("autonomy", "autonomy_growth"):
        if getattr(target, field) is None:
            loc = ("parties", o.acts_on, field)
            raise ScenarioError(where(loc), _key(loc), f"required: {oid} acts on {o.acts_on} (a share, 0 to 1, with its source)")
    _check_effects(o.pressure.shift, (*base, "pressure", "shift"), issues, where)
    for pid, effects in o.rhetoric.effects.items():
        if pid not in s.parties:
            loc = (*base, "rhetoric", "effects", pid)
            raise ScenarioError(where(loc), _key(loc), f"unknown party {pid!r}; allowed: {', '.join(s.parties)}")
        _check_effects(effects, (*base, "rhetoric", "effects", pid), issues, where)


def _key(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def _check_utility(u: Utility, loc: tuple, issues: dict[str, Issue], where) -> None:
    missing = [i for i in issues if i not in u.issues]
    if missing:
        key = (*loc, "issues", missing[0])
        raise ScenarioError(where(key), _key(key), f"missing; every issue needs a weight and values ({', '.join(issues)})")
    _check_effects(u.issues, (*loc, "issues"), issues, where)
    total = sum(v.weight for v in u.issues.values())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        key = (*loc, "issues")
        raise ScenarioError(
            where(key), _key(key) + ".*.weight", f"weights sum to {total:.6g}; allowed: they must sum to 1"
        )


def _check_effects(table: dict, loc: tuple, issues: dict[str, Issue], where) -> None:
    for name, entry in table.items():
        key = (*loc, name)
        if name not in issues:
            raise ScenarioError(where(key), _key(key), f"unknown issue {name!r}; allowed: {', '.join(issues)}")
        n = len(issues[name].options)
        if len(entry.values) != n:
            vkey = (*key, "values")
            raise ScenarioError(
                where(vkey),
                _key(vkey),
                f"found {len(entry.values)} values; allowed: exactly {n}, one per option ({', '.join(issues[name].options)})",
            )


def range_of(key: str) -> tuple[float | None, float | None]:
    """The range the schema allows for the number at a key path (None where unbounded
    or not a number): e.g. ``parties.russia.utility.issues.territory.values.2`` -> (0, 1)."""
    return _number_field(key)[:2]


def is_whole_number(key: str) -> bool:
    """Whether the schema wants a whole number at a key path (e.g. negotiation.deadline)."""
    return _number_field(key)[2]


def _number_field(key: str) -> tuple[float | None, float | None, bool]:
    import annotated_types as at

    ann: Any = Scenario
    meta: list = []
    for part in key.split("."):
        ann, meta = _unwrap(ann, meta)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(part)
            if field is None:
                return None, None, False
            ann, meta = field.annotation, list(field.metadata)
        elif typing.get_origin(ann) is dict:
            ann, meta = typing.get_args(ann)[1], []
        elif typing.get_origin(ann) is list and part.isdigit():
            ann, meta = typing.get_args(ann)[0], []
        else:
            return None, None, False
    ann, meta = _unwrap(ann, meta)
    if ann not in (float, int):
        return None, None, False
    lo = hi = None
    for m in meta:
        if isinstance(m, at.Ge):
            lo = m.ge
        elif isinstance(m, at.Gt):
            lo = m.gt
        elif isinstance(m, at.Le):
            hi = m.le
        elif isinstance(m, at.Lt):
            hi = m.lt
    return lo, hi, ann is int


def _unwrap(ann: Any, meta: list) -> tuple[Any, list]:
    """Strip Annotated (collecting its constraints) and Optional from an annotation."""
    while True:
        if typing.get_origin(ann) is Annotated:
            base, *extra = typing.get_args(ann)
            for e in extra:
                meta = meta + list(getattr(e, "metadata", [e]))
            ann = base
        elif typing.get_origin(ann) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(args) != 1:
                return ann, meta
            ann = args[0]
        else:
            return ann, meta


def flatten(data, prefix: str = "") -> dict[str, object]:
    """Every leaf of plain scenario data by key path; list elements as ``path.k``."""
    out: dict[str, object] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
    elif isinstance(data, list):
        for k, v in enumerate(data):
            out.update(flatten(v, f"{prefix}.{k}"))
    else:
        out[prefix] = data
    return out
