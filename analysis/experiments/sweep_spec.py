"""Sweep files: which parameters of a scenario to vary, how, and how often.

A sweep names a base scenario, the parameters to vary (by the key paths of ``--set``),
a design (full grid, random, Latin hypercube, or Sobol in Saltelli's scheme), the
replications per point and one root seed. Loading checks the file like a scenario:
every level and both ends of every range are applied to the base scenario and
validated there, so a sweep that loads can only produce valid runs.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dipsim.sim import scenario as scenario_mod
from dipsim.sim.scenario import Scenario, ScenarioError, flatten

Scalar = int | float | str | bool
LATIN_LIMIT = 40_000_000  # values of a Latin hypercube (points x parameters): 320 MB a worker


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ParameterSpec(_Strict):
    key: str | None = Field(
        None,
        description=(
            "Either this or `keys`. A key path of the base scenario, as for `--set`; a belief may be named without "
            "`.value`. The output column is the full path (`outside.usa.pressure.max.value`)."
        ),
    )
    keys: str | None = Field(
        None,
        description=(
            "Either this or `key`: a pattern (`*` matches anything, dots included) that makes one parameter of "
            'every number of the base scenario that matches, e.g. `"parties.*.utility.*"`. Takes `spread` and '
            "nothing else; continuous designs only."
        ),
    )
    levels: Annotated[list[Scalar], Field(min_length=1)] | None = Field(
        None,
        description=("Grid designs, with `key`: the values a grid takes, all numbers, all text or all true/false."),
    )
    bounds: Annotated[list[float], Field(min_length=2, max_length=2)] | None = Field(
        None,
        description=(
            "Random, latin, sobol and morris designs, with `key`: `[low, high]`, low < high, the range sampled "
            "uniformly."
        ),
    )
    spread: Annotated[float, Field(gt=0)] | None = Field(
        None,
        description=(
            "With `keys`: each matched number varies within plus or minus `spread` of its base value, inside the "
            "range its field allows."
        ),
    )
    scale: bool = Field(
        False,
        description=(
            "With `key`. true: the value multiplies the base value, or every number under `key` (e.g. all values "
            "of a public's effect on territory)."
        ),
    )
    label: str | None = Field(None, description="Display name in plots; the key if left out.")

    @model_validator(mode="after")
    def _one_form(self):
        if (self.key is None) == (self.keys is None):
            raise ValueError("give exactly one of 'key' (a key path) or 'keys' (a pattern)")
        if self.keys is not None and (self.spread is None or self.levels or self.bounds or self.scale):
            raise ValueError("'keys' (a pattern) takes 'spread' and nothing else")
        if self.key is not None and (self.levels is None) == (self.bounds is None):
            raise ValueError("give exactly one of 'levels' (grid) or 'bounds' (random, latin, sobol)")
        if self.key is not None and self.spread is not None:
            raise ValueError("'spread' goes with 'keys'")
        if self.levels is not None:
            kinds = {type(v) if not isinstance(v, (int, float)) or isinstance(v, bool) else float for v in self.levels}
            if len(kinds) > 1:
                raise ValueError("levels must all be numbers, all text or all booleans")
        return self


class DesignSpec(_Strict):
    kind: Literal["grid", "random", "latin", "sobol", "morris"] = Field(
        description=(
            "grid: every combination of the levels, the last parameter varying fastest. random: independent "
            "uniform draws within the bounds. latin: a Latin hypercube (scipy). sobol: Saltelli's scheme on a "
            "scrambled Sobol' sequence, the same matrix as `SALib.sample.sobol.sample`, so `SALib.analyze.sobol` "
            "can read the results in run order. morris: Morris (1991) elementary-effect trajectories from "
            "`SALib.sample.morris`, so that `dipsim analyze` can screen the parameters (mu*, sigma)."
        )
    )
    samples: Annotated[int, Field(ge=1, le=100_000_000)] | None = Field(
        None,
        description=(
            "Required for random and latin designs: the number of points. A latin design holds at most "
            f"{LATIN_LIMIT:,} values (points x parameters)."
        ),
    )
    base_samples: Annotated[int, Field(ge=2, le=2**24)] | None = Field(
        None,
        description=(
            "Required for sobol designs: Saltelli's N, a power of 2. Points = N x (2D + 2) with second-order "
            "indices, N x (D + 2) without; D is the number of parameters."
        ),
    )
    second_order: bool = Field(True, description="sobol: also the rows needed for second-order indices.")
    trajectories: Annotated[int, Field(ge=2, le=100_000)] | None = Field(
        None, description=("Required for morris designs: the number of trajectories r; points = r x (D + 1).")
    )
    levels: Annotated[int, Field(ge=2, le=100)] = Field(4, description="morris: the grid levels p of each parameter.")


class SweepSpec(_Strict):
    """A sweep file: which settings of a base scenario to vary, how, and how often."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] = Field(
        description=("Names the default output folder `results/sweeps/NAME`.")
    )
    title: Annotated[str, Field(min_length=1)] = Field(description="Heads the summary and the plots.")
    description: Annotated[str, Field(min_length=1)] = Field(description="What the sweep asks.")
    scenario: Annotated[str, Field(min_length=1)] = Field(
        description=("The base scenario: a path relative to the sweep file.")
    )
    set: list[str] = Field([], description="Fixed overrides of the base, each `key.path=value` as for `--set`.")
    seed: Annotated[int, Field(ge=0, lt=2**63)] = Field(
        0,
        description=(
            "Root seed. Run `point x replications + replicate` gets `sim.draws.run_seeds(seed, point, replicate)`."
        ),
    )
    replications: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        1, description=("Runs per design point, each with its own seed.")
    )
    common_random_numbers: bool = Field(
        False,
        description=(
            "true: every point uses the same replicate seeds (`point` 0 in the seed rule), so differences between "
            "points come from the parameters, not the draws. Use it for sobol and morris designs: without it a "
            "parameter the model ignores still shows an effect (the draws differ from point to point)."
        ),
    )
    chunk: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        16_384, description=("Most runs in one task and one Parquet part. The results do not depend on it.")
    )
    design: DesignSpec = Field(description="How the points are chosen.")
    parameters: Annotated[list[ParameterSpec], Field(min_length=1)] = Field(
        description=(
            "The settings varied, each a `[[parameters]]` table of one of two forms: `key` with `levels` or "
            "`bounds` (and optionally `scale`), or `keys` with `spread`. A key may be swept once. Every level, and "
            "both ends of every range, must give a valid scenario when applied to the base (after renormalising "
            "weights)."
        )
    )


@dataclass(frozen=True)
class Parameter:
    """One swept parameter, expanded and checked."""

    key: str  # the column name and the --set path (numbers: ending .value where a belief)
    label: str
    levels: tuple | None  # grid
    low: float | None  # continuous designs
    high: float | None
    scale_of: tuple[str, ...] = ()  # with scale: the key paths it multiplies
    base: tuple[float, ...] = ()  # and their base values
    whole: bool = False  # a whole-number setting: continuous draws are rounded

    @property
    def numeric(self) -> bool:
        return self.levels is None or all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.levels)


@dataclass(frozen=True)
class Sweep:
    spec: SweepSpec
    file: str
    base: Scenario
    parameters: tuple[Parameter, ...]

    @property
    def points(self) -> int:
        d = self.spec.design
        if d.kind == "grid":
            return int(np.prod([len(p.levels) for p in self.parameters]))
        if d.kind == "sobol":
            k = len(self.parameters)
            return d.base_samples * (2 * k + 2 if d.second_order else k + 2)
        if d.kind == "morris":
            return d.trajectories * (len(self.parameters) + 1)
        return d.samples

    @property
    def runs(self) -> int:
        return self.points * self.spec.replications

    @property
    def weights_normalised(self) -> list[str]:
        """The utility tables whose weights a parameter touches (renormalised per run)."""
        tables = set()
        for p in self.parameters:
            for key in p.scale_of or (p.key,):
                if ".utility.issues." in key and key.endswith(".weight"):
                    tables.add(key.split(".issues.")[0])
        return sorted(tables)

    def resolved(self) -> dict[str, Any]:
        return self.spec.model_dump(mode="json")

    def fingerprint(self) -> str:
        text = json.dumps({"spec": self.resolved(), "base": self.base.resolved()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- loading


def read_spec(path: str | Path, model: type[BaseModel], kind: str, folder: str) -> tuple[Path, Any]:
    """A spec file (a sweep's, a calibration's) by path, or by the name of one in
    ./scenarios/FOLDER/ or among those that ship with dipsim, read and validated by
    ``model``; every problem is one ScenarioError naming the file and the key."""
    path = scenario_mod.find_scenario(path, (folder,))
    if not path.is_file():
        raise ScenarioError(
            str(path),
            "",
            f"no such {kind} file; allowed: a path to a .toml file, or a {kind} name that `dipsim scenarios` lists",
        )
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), "", f"cannot be read: {exc}") from None
    try:
        return path, model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            problem = f"unknown key {err['loc'][-1]!r}"
        elif err["type"] == "missing":
            problem = "required key is missing"
        else:
            allowed = err["msg"].removeprefix("Input should be ").removeprefix("Value error, ")
            problem = f"found {err.get('input')!r}; allowed: {allowed}"
        raise ScenarioError(str(path), key, problem) from None


def load(path: str | Path) -> Sweep:
    """A sweep file by path, or by the name of one in ./scenarios/sweeps/ or among those
    that ship with dipsim (``dipsim scenarios`` lists them)."""
    path, spec = read_spec(path, SweepSpec, "sweep", "sweeps")
    base_path = path.parent / spec.scenario
    base = scenario_mod.load(base_path)
    for i, text in enumerate(spec.set):
        try:
            base = scenario_mod.load(base_path, list(spec.set[: i + 1]))
        except ScenarioError as exc:
            raise ScenarioError(str(path), f"set.{i}", f"{text!r}: {exc.key}: {exc.problem}") from None
    params = _expand(spec, base, str(path))
    sweep = Sweep(spec, str(path), base, tuple(params))
    _check_design(sweep)
    return sweep


def _expand(spec: SweepSpec, base: Scenario, file: str) -> list[Parameter]:
    leaves = flatten(base.resolved())
    numbers = {
        k: v
        for k, v in leaves.items()  # patterns and scales take values, not distributions
        if isinstance(v, (int, float))
        and not isinstance(v, bool)
        and not k.startswith("run.")
        and not scenario_mod.is_distribution_parameter(k, leaves)
    }
    out: list[Parameter] = []
    for i, p in enumerate(spec.parameters):
        where = f"parameters.{i}"
        if p.keys is not None:
            matched = [k for k in numbers if fnmatch.fnmatchcase(k, p.keys)]
            if not matched:
                raise ScenarioError(file, f"{where}.keys", f"pattern {p.keys!r} matches no number of the base scenario")
            for k in matched:
                lo, hi = _allowed_range(k, file, f"{where}.keys")
                v = float(numbers[k])
                param = Parameter(
                    k, k, None, max(lo, v - p.spread), min(hi, v + p.spread), whole=scenario_mod.is_whole_number(k)
                )
                for value in (param.low, param.high):
                    _check_value(base, param, value, file, f"{where}.keys")
                out.append(param)
            continue
        key = p.key if p.key in leaves else f"{p.key}.value" if f"{p.key}.value" in leaves else None
        if key is None and p.scale:
            scaled = tuple(k for k in numbers if k.startswith(p.key + "."))
            if not scaled:
                raise ScenarioError(file, f"{where}.key", f"{p.key!r} holds no numbers of the base scenario to scale")
        elif key is None:
            raise ScenarioError(file, f"{where}.key", f"{p.key!r} is not a setting of the base scenario")
        elif ".when." in f".{key}.":  # the pairs of issues a table values together are one layout for all runs
            raise ScenarioError(
                file,
                f"{where}.key",
                f"{p.key!r} is part of a condition, the same in every run; allowed: its values or its otherwise",
            )
        else:
            scaled = (key,) if p.scale else ()
        label = p.label or p.key
        name = p.key if p.scale else key
        if p.levels is not None:
            param = Parameter(
                name, label, tuple(p.levels), None, None, scaled, tuple(float(numbers[k]) for k in scaled)
            )
            ends = p.levels
        else:
            lo, hi = p.bounds
            if not lo < hi:
                raise ScenarioError(file, f"{where}.bounds", f"found {p.bounds}; allowed: [low, high] with low < high")
            if not p.scale and key not in numbers:
                raise ScenarioError(file, f"{where}.key", f"{p.key!r} is not a number; allowed with bounds: numbers")
            whole = not p.scale and scenario_mod.is_whole_number(key)
            param = Parameter(name, label, None, lo, hi, scaled, tuple(float(numbers[k]) for k in scaled), whole)
            ends = [round(lo), round(hi)] if whole else [lo, hi]
        for value in ends:
            _check_value(base, param, value, file, where)
        out.append(param)
    names = [p.key for p in out]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise ScenarioError(file, "parameters", f"{dup!r} is swept twice; allowed: each key once")
    return out


def overrides_for(param: Parameter, value) -> list[str]:
    """The --set texts that give a parameter a value."""
    if param.scale_of:
        return [f"{k}={float(value) * b!r}" for k, b in zip(param.scale_of, param.base)]
    return [f"{param.key}={_toml(value, param.whole)}"]


def _toml(value, whole: bool = False) -> str:
    if whole:
        return str(round(float(value)))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(float(value)) if isinstance(value, float) else str(value)


def _check_value(base: Scenario, param: Parameter, value, file: str, where: str) -> None:
    """A value must give a valid scenario (weights are renormalised in a sweep, so the
    rule that they sum to 1 is checked after renormalising)."""
    data = base.resolved()
    origin: dict = {}
    try:
        for text in overrides_for(param, value):
            scenario_mod.apply_override(data, origin, text)
        normalise_weights(data)
        scenario_mod.validate(data, origin, file)
    except ScenarioError as exc:
        raise ScenarioError(
            file, where, f"{param.label} = {value!r} does not give a valid scenario: {exc.key}: {exc.problem}"
        ) from None


def normalise_weights(data: dict) -> None:
    """Rescale every utility's weights to sum to 1 (in place; plain scenario data)."""

    def tables(node):
        if isinstance(node, dict):
            if "issues" in node and "treaty" in node:
                yield node["issues"]
            for v in node.values():
                yield from tables(v)

    for issues in tables(data):
        total = sum(e["weight"] for e in issues.values() if isinstance(e, dict) and "weight" in e)
        if total > 0:
            for e in issues.values():
                e["weight"] = e["weight"] / total


def _allowed_range(key: str, file: str, where: str) -> tuple[float, float]:
    """The range the schema allows for a number (read from the schema)."""
    lo, hi = scenario_mod.range_of(key)
    if lo is None:
        raise ScenarioError(file, where, f"{key!r} has no stated range; give it with 'key' and 'bounds'")
    return lo, hi


def _check_design(sweep: Sweep) -> None:
    d, file = sweep.spec.design, sweep.file
    if d.kind == "grid":
        bad = next((i for i, p in enumerate(sweep.parameters) if p.levels is None), None)
        if bad is not None:
            raise ScenarioError(file, f"parameters.{bad}", "a grid design needs 'levels' for every parameter")
    else:
        bad = next((i for i, p in enumerate(sweep.parameters) if p.levels is not None), None)
        if bad is not None:
            raise ScenarioError(
                file,
                f"parameters.{bad}",
                f"a {d.kind} design needs 'bounds' (or a 'keys' pattern with 'spread'), not 'levels'",
            )
    if d.kind in ("random", "latin") and d.samples is None:
        raise ScenarioError(file, "design.samples", f"required for a {d.kind} design (number of points)")
    if d.kind == "latin" and d.samples * len(sweep.parameters) > LATIN_LIMIT:
        raise ScenarioError(
            file,
            "design.samples",
            f"{d.samples} points x {len(sweep.parameters)} parameters; "
            f"allowed for a latin design: at most {LATIN_LIMIT:,} values (each worker holds the whole "
            "hypercube); use a random or sobol design for more",
        )
    if d.kind == "morris" and d.trajectories is None:
        raise ScenarioError(
            file, "design.trajectories", "required for a morris design (number of trajectories r; points = r x (D + 1))"
        )
    if d.kind == "sobol":
        n = d.base_samples
        if n is None:
            raise ScenarioError(file, "design.base_samples", "required for a sobol design (N; points = N x (2D + 2))")
        if n & (n - 1):
            raise ScenarioError(file, "design.base_samples", f"found {n}; allowed: a power of 2 (Saltelli's scheme)")
    if sweep.runs > 2**40:
        raise ScenarioError(file, "design", f"{sweep.runs} runs; allowed: at most 2^40")
