import copy
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


@pytest.fixture(scope="session")
def baseline_raw():
    with (SCENARIOS / "baseline.toml").open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="session")
def point_raw(baseline_raw):
    """The baseline's data with every belief fixed at its value."""
    return point(baseline_raw)


@pytest.fixture(scope="session")
def baseline_tables(baseline):
    return Tables.from_scenarios([baseline])


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
