"""Same results on every machine: no decision rests on the last bits of a float.

numpy's sums and powers differ in their last bits from one CPU to another (its SIMD code
sums in another order; its ``**`` is not correctly rounded), and sweeps build their
inputs with numpy. A rule that decides on a bare comparison of two computed numbers can
then go one way here and the other way there, wherever the numbers tie in exact
arithmetic. The rules compare through one tolerance instead (sim.kernels.TIE for the
negotiation engines; sim.expected_utility.TIE and its grid of positions for Bueno de
Mesquita's model). Two kinds of check:

- Perturbation: every numeric input changed by a relative 1e-12, in several directions,
  must give the same decisions: outcomes, and every round's actions and offers (the
  negotiation engines); positions, moves and forecasts (the expected utility model).
- Another CPU: the standard scenarios and the car-emissions run, played in a process
  whose numpy may use none of the SIMD code this CPU has beyond numpy's baseline and
  whose numba compiles for a generic x86-64, give the same files byte for byte.
"""

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dipsim.sim import draws, kernels
from dipsim.sim import scenario as sc
from dipsim.sim.eu_model import ExpectedUtilityModel
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate

from .conftest import ROOT, SCENARIOS, STANDARD, make, random_preferences

RELATIVE = 1e-12
DIRECTIONS = ("up", "down", 1, 2, 3)  # every number up, every number down, random signs (seeds)
KINDS = ("time_dependent", "zeuthen", "hardliner", "rubinstein")


def perturbed(data, direction, rng=None):
    """A copy of plain scenario data with every float moved by a relative RELATIVE: all up,
    all down, or each by a random sign (``direction`` a seed). A value of exactly 1 moves
    down (1 is the top of most ranges); integers (seeds, deadlines) and flags stay."""
    if rng is None and not isinstance(direction, str):
        rng = np.random.default_rng(direction)
    if isinstance(data, dict):
        return _around_value({k: perturbed(v, direction, rng) for k, v in data.items()})
    if isinstance(data, list):
        return [perturbed(v, direction, rng) for v in data]
    if not isinstance(data, float):
        return data
    sign = {"up": 1.0, "down": -1.0}[direction] if rng is None else float(rng.choice([-1.0, 1.0]))
    return data * (1.0 - RELATIVE) if data == 1.0 else data * (1.0 + sign * RELATIVE)


def _around_value(table: dict) -> dict:
    """A belief's range still holds its value after both moved (where they were equal,
    as at a fixed value of a list or a mode at an end, they may have moved apart)."""
    for key, pick in (("low", min), ("high", max)):
        if key not in table:
            continue
        if "value" in table:
            table[key] = pick(table[key], table["value"])
        elif "values" in table:
            table[key] = [pick(b, v) for b, v in zip(table[key], table["values"])]
    return table


# --------------------------------------------------------------------------- the rules themselves


def test_a_tie_up_to_rounding_is_a_tie():
    """0.1 + 0.2 and 0.3 differ in their last bit; to the rules they are equal, and the
    secondary value (or the package's number) decides."""
    a, b = 0.1 + 0.2, 0.3
    assert a != b and not kernels.exceeds(a, b) and not kernels.exceeds(b, a)
    assert kernels.at_least(a, b) and kernels.at_least(b, a)
    assert not kernels.beats(b, 0.0, a, 0.0) and kernels.beats(b, 0.5, a, 0.0)
    assert kernels.exceeds(0.3 + 2 * kernels.TIE, 0.3) and not kernels.at_least(0.3, 0.3 + 2 * kernels.TIE)
    assert not kernels.exceeds(np.nan, 0.0) and not kernels.at_least(np.nan, 0.0)  # no package: never chosen
    assert kernels.beats(0.0, -np.inf, -np.inf, -np.inf)  # any package beats none


# --------------------------------------------------------------------------- negotiation engines


def decisions(outcomes, rounds, ids):
    """What a run decided: how it ended, its votes, and every round's mover, action and offers."""
    out = {name: getattr(outcomes, name) for name in ("reason", "end_round", "agreed", "attempts")}
    out.update(
        vote_round=outcomes.votes["round"], vote_package=outcomes.votes["package"], passed=outcomes.votes["passed"]
    )
    for column in ("run", "round", "mover", "action", *(f"offer_{p}" for p in ids)):
        out[column] = rounds[column]
    return out


def assert_same_decisions(a, b, what):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), f"{what}: {k}"


@pytest.mark.parametrize("name", [*STANDARD, "private_reservations", "two_level"])
def test_standard_scenarios_decide_alike_on_perturbed_inputs(name):
    s = sc.load(SCENARIOS / f"{name}.toml")
    seeds = draws.run_seeds(s.run.seed, 0, np.arange(300))
    ids = s.party_ids
    reference = decisions(*simulate(s, seeds, engine="batch"), ids)
    for direction in DIRECTIONS:
        moved = make(perturbed(s.resolved(), direction))
        assert moved != s
        assert_same_decisions(
            reference, decisions(*simulate(moved, seeds, engine="batch"), ids), f"{name}, {direction}"
        )


def random_negotiations(raw, rng, n, tenths):
    """Plain data of n negotiations with random utility tables, every strategy, walk-outs,
    failed ratifications that end or continue the talks. With ``tenths``, every utility
    number is a multiple of 0.1 (weights too): sums that tie in exact arithmetic (a
    package worth its side's reservation, two packages worth the same) are then common,
    and differ only in their last bits, as in a scenario file's round figures."""
    out = []
    for i in range(n):
        data = random_preferences(raw, rng, strategies=(KINDS[i % 4], KINDS[(i // 4) % 4]))
        for party in data["parties"].values():
            party["strategy"].update(
                patience=int(rng.integers(0, 6)),
                tolerance=float(rng.uniform(0, 0.3)),
                discount=float(rng.uniform(0.5, 1.0)),
            )
            party["anticipation"]["value"] = float(rng.uniform(0, 1))
            if tenths:
                utility = party["utility"]
                weights = rng.multinomial(10, np.ones(len(utility["issues"])) / len(utility["issues"])) / 10
                for w, issue in zip(weights, utility["issues"].values()):
                    issue["weight"] = float(w)
                    issue["values"] = (rng.integers(0, 11, len(issue["values"])) / 10).tolist()
                utility["treaty"]["value"] = float(rng.integers(-1, 2) / 10)
                utility["reservation"]["value"] = float(rng.integers(1, 9) / 10)
        data["negotiation"].update(
            after_failed_ratification="continue" if i % 2 else "end",
            opener=("russia", "japan")[int(rng.integers(2))],
            deadline=int(rng.integers(3, 40)),
        )
        data["outside"]["usa"]["response"]["value"] = float(rng.uniform(0, 10))
        out.append(data)
    return out


@pytest.mark.parametrize("tenths", [False, True], ids=["random tables", "tables in tenths"])
def test_random_negotiations_decide_alike_on_perturbed_inputs(baseline_raw, tenths):
    rng = np.random.default_rng(1212 + tenths)
    plain = random_negotiations(baseline_raw, rng, 400, tenths)
    tables = Tables.from_scenarios([make(d) for d in plain])
    seeds = draws.run_seeds(12, np.arange(tables.runs), 0)
    ids = tables.party_ids
    reference = decisions(*simulate(tables, seeds, engine="batch"), ids)
    reasons = set(reference["reason"].tolist())
    assert {0, 1, 2} <= reasons and reasons & {3, 4} and reasons & {5, 6, 7}  # every way of ending
    for direction in DIRECTIONS:
        moved = Tables.from_scenarios([make(perturbed(d, direction)) for d in plain])
        assert_same_decisions(
            reference, decisions(*simulate(moved, seeds, engine="batch"), ids), f"random tables, {direction}"
        )


# --------------------------------------------------------------------------- expected utility model


def eu_rounds(spec):
    """Every round's positions, moves (kind and target), weighted median and forecast, and
    the weighted mean, of a finished run."""
    model = ExpectedUtilityModel(spec)
    rounds = [(model.state().position, None, model.median, model.forecast, model.mean)]
    while model.running:
        model.step()
        moves = [(a.move.kind, a.move.towards) for a in model.stakeholders]
        rounds.append((model.state().position, moves, model.median, model.forecast, model.mean))
    return rounds


@pytest.mark.parametrize("name", ["eu_car_emissions", "kuril_territory"])
def test_expected_utility_decides_alike_on_perturbed_inputs(name):
    """Positions (within the issue's range), capabilities and saliences (at most 1) moved
    by a relative 1e-12: the same eleven rounds of positions, moves and forecasts; the
    weighted mean moves with the weights, by about 1e-12."""
    spec = sc.load(SCENARIOS / "expected_utility" / f"{name}.toml")
    raw, low, high = spec.resolved(), spec.dimension.low, spec.dimension.high
    reference = eu_rounds(spec)
    assert len(reference) == spec.settings.rounds + 1
    for direction in DIRECTIONS:
        data = copy.deepcopy(raw)
        data["stakeholders"] = perturbed(raw["stakeholders"], direction)
        for s in data["stakeholders"].values():
            s["position"] = min(max(s["position"], low), high)
        moved = eu_rounds(make(data))
        for t, (a, b) in enumerate(zip(reference, moved)):
            assert np.array_equal(a[0], b[0]), f"{direction}: positions in round {t}"
            assert a[1:4] == b[1:4], f"{direction}: moves, median or forecast in round {t}"
            assert np.isclose(a[4], b[4], rtol=1e-10, atol=0), f"{direction}: mean in round {t}"


# --------------------------------------------------------------------------- another CPU


def play_all(folder):
    """Write what the standard scenarios and the three that turn on the talks' other
    mechanisms (private information, ratifiers, China and the USA choosing before the talks) give (300 runs each, with the per-round
    record), and the car-emissions run, as `dipsim run` writes it; print what this
    process's numpy and numba compile for. Run in a subprocess by the test below."""
    import numba
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    from dipsim.analysis.experiments.jobs import run_expected_utility, simulate_scenario, with_run_settings

    for name in [*STANDARD, "private_reservations", "two_level", "china"]:
        played_into = Path(folder) / f".{name}"
        simulate_scenario(with_run_settings(sc.load(SCENARIOS / f"{name}.toml"), 300, 20181114), played_into)
        for table in ("runs", "rounds"):
            os.replace(played_into / f"{table}.parquet", os.path.join(folder, f"{name}-{table}.parquet"))
        shutil.rmtree(played_into)
    table = run_expected_utility(sc.load(SCENARIOS / "expected_utility" / "eu_car_emissions.toml"))
    table.to_parquet(os.path.join(folder, "eu_car_emissions.parquet"), index=False)
    table.to_csv(os.path.join(folder, "eu_car_emissions.csv"), index=False)
    print(
        json.dumps(
            {
                "numpy_dispatch": [f for f in __cpu_dispatch__ if __cpu_features__.get(f)],
                "numba_cpu": numba.config.CPU_NAME or "host",
            }
        )
    )


def played(folder, env):
    done = subprocess.run(
        [sys.executable, "-c", f"from tests.test_determinism import play_all; play_all({str(folder)!r})"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    return json.loads(done.stdout.strip().splitlines()[-1]), files


def test_identical_files_with_numpy_and_numba_restricted_to_a_baseline_cpu(tmp_path):
    """The features numpy dispatches to on this CPU beyond its baseline (AVX2, AVX-512, ...)
    are switched off with NPY_DISABLE_CPU_FEATURES, and numba compiles for a generic
    x86-64 (NUMBA_CPU_NAME=generic, in a cache of its own: 10 to 15 s to compile). The
    files must not change by a byte."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    extra = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
    if not extra:
        pytest.skip("this CPU has nothing beyond numpy's baseline to switch off")
    (tmp_path / "here").mkdir(), (tmp_path / "baseline").mkdir()
    here, files = played(tmp_path / "here", {})
    restricted, restricted_files = played(
        tmp_path / "baseline",
        {
            "NPY_DISABLE_CPU_FEATURES": " ".join(extra),
            "NUMBA_CPU_NAME": "generic",
            "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache"),
        },
    )
    assert here["numpy_dispatch"] == extra and restricted["numpy_dispatch"] == []  # the switch took effect
    assert restricted["numba_cpu"] == "generic"
    assert len(files) == 2 * (len(STANDARD) + 3) + 2 and files.keys() == restricted_files.keys()
    for name in files:
        assert files[name] == restricted_files[name], name
