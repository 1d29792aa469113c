import copy
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from dipsim.sim import scenario as sc
from dipsim.sim.preferences import Tables

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
STANDARD = [
    "baseline",
    "us_disengages",
    "sanctions_lifted",
    "russian_hardline_public",
    "japan_accepts_1956",
    "big_economic_offer",
]
DISTRIBUTION_KEYS = ("dist", "low", "high", "sd", "n")


def point(data):
    """Plain scenario data without its distributions: every belief at its value in every
    run (the point scenario a summary quotes)."""
    if isinstance(data, list):
        return [point(v) for v in data]
    if not isinstance(data, dict):
        return data
    belief = "value" in data or "values" in data
    return {k: point(v) for k, v in data.items() if not (belief and k in DISTRIBUTION_KEYS)}


def point_scenario(name: str = "baseline", overrides=()) -> sc.Scenario:
    """A shipped scenario's point scenario, with ``--set`` overrides applied after."""
    data, origin = point(sc.load(SCENARIOS / f"{name}.toml").resolved()), {}
    for text in overrides:
        sc.apply_override(data, origin, text)
    return sc.validate(data, origin, file=f"{name} (point)")


@pytest.fixture(scope="session")
def baseline():
    return sc.load(SCENARIOS / "baseline.toml")


# The talks' rules as they were before stalls, an uncertain last round and the outside
# power's smooth, expected alarm (each a switch, each off by default): the rules that the
# tests on random tables (oracles, engines alike, determinism) state their premises in.
# The shipped baseline turns them on; tests of the shipped files load those as they are.
CLASSIC = {
    "negotiation": {"when_no_zone": "end", "deadline_spread": 0},
    "outside": {"usa": {"alarm": "linear", "threat": "certain"}},
}


CLASSIC_SETS = [  # the same as --set overrides
    f"{table}.{key}={json.dumps(value)}"
    for table, settings in (("negotiation", CLASSIC["negotiation"]), ("outside.usa", CLASSIC["outside"]["usa"]))
    for key, value in settings.items()
]


def classic(data: dict) -> dict:
    """Scenario data with the talks' switches at their defaults (CLASSIC)."""
    data = copy.deepcopy(data)
    data["negotiation"].update(CLASSIC["negotiation"])
    if "usa" in data.get("outside", {}):
        data["outside"]["usa"].update(CLASSIC["outside"]["usa"])
    return data


@pytest.fixture(scope="session")
def baseline_raw():
    """The baseline's data under the classic rules (CLASSIC), the ground of the tests on
    random tables built from it."""
    with (SCENARIOS / "baseline.toml").open("rb") as fh:
        return classic(tomllib.load(fh))


@pytest.fixture(scope="session")
def point_raw(baseline_raw):
    """The baseline's data with every belief fixed at its value."""
    return point(baseline_raw)


@pytest.fixture(scope="session")
def baseline_tables(baseline_raw):
    """The baseline's tables at its point values, under the classic rules."""
    return Tables.from_scenarios([make(baseline_raw)])


def random_preferences(raw: dict, rng: np.random.Generator, strategies=("zeuthen", "zeuthen")) -> dict:
    """A copy of a scenario's point data (its beliefs fixed at their values) with random
    utility tables for both parties."""
    data = point(copy.deepcopy(raw))
    for pid, kind in zip(data["parties"], strategies):
        party = data["parties"][pid]
        weights = rng.dirichlet(np.ones(len(data["issues"])))
        weights[-1] = 1.0 - weights[:-1].sum()
        for (issue, spec), w in zip(data["issues"].items(), weights):
            party["utility"]["issues"][issue] = {
                "weight": float(max(w, 0.0)),
                "values": rng.uniform(0, 1, len(spec["options"])).round(3).tolist(),
                "source": "random test table",
            }
        party["utility"]["treaty"] = {"value": float(rng.uniform(-0.2, 0.2)), "source": "random"}
        party["utility"]["reservation"] = {"value": float(rng.uniform(0.1, 0.8)), "source": "random"}
        party["strategy"] = {
            "kind": kind,
            "source": "test",
            **({"beta": float(rng.uniform(0.2, 4))} if kind == "time_dependent" else {}),
        }
    return data


def make(data: dict) -> sc.Scenario:
    return sc.validate(data, file="<test>")
