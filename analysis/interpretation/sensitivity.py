"""Sensitivity of a sweep's outcomes to its parameters, through SALib: Sobol indices
(first order and total, with confidence intervals) from a Sobol sweep, and Morris
screening (mu*, sigma) from a Morris sweep. Outcomes, averaged over each point's
replications: the chance of a treaty (for each run, the chance that the package its
governments agreed passes both publics: the ratification vote's own coin flip left
out, so the indices measure the parameters, not the dice) and each actor's utility."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from dipsim.analysis.experiments.sweep import SweepError, load_manifest, read


def outputs_of(manifest: dict) -> list[str]:
    scenario = manifest["scenario"]
    actors = [*scenario["parties"], *scenario.get("outside", {}), *scenario.get("patron", {})]
    return ["treaty_chance", *[f"utility_{a}" for a in actors]]


def per_point(folder: Path, manifest: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parameter values and mean outcomes per design point, in point order."""
    keys = [p["key"] for p in manifest["design"]["parameters"]]
    outputs = outputs_of(manifest)
    frame = read(folder, columns=["point", *keys, *outputs, "error"]).to_pandas()
    if frame["error"].notna().any():
        bad = int(frame["error"].notna().sum())
        raise SweepError(f"{folder}: {bad} runs failed; sensitivity indices need every run (see the 'error' column)")
    grouped = frame.groupby("point", sort=True)
    return grouped[keys].first(), grouped[outputs].mean()


def sobol(folder: Path) -> pd.DataFrame:
    """First-order and total Sobol indices with 95% confidence intervals, per outcome."""
    from SALib.analyze import sobol as salib_sobol

    manifest = load_manifest(folder)
    if manifest["design"]["kind"] != "sobol":
        raise SweepError(f"{folder}: a {manifest['design']['kind']} sweep; Sobol indices need a sobol design")
    problem = manifest["design"]["salib_problem"]
    second = manifest["spec"]["design"]["second_order"]
    _, y = per_point(folder, manifest)
    rows = []
    for output in y.columns:
        values = y[output].to_numpy()
        if np.ptp(values) == 0:
            continue  # a constant outcome has no variance to apportion
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = salib_sobol.analyze(
                problem, values, calc_second_order=second, print_to_console=False, seed=manifest["seeds"]["root"]
            )
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "output": output,
                    "parameter": name,
                    "S1": res["S1"][i],
                    "S1_conf": res["S1_conf"][i],
                    "ST": res["ST"][i],
                    "ST_conf": res["ST_conf"][i],
                }
            )
    return pd.DataFrame(rows)


def morris(folder: Path) -> pd.DataFrame:
    """Morris screening: mu* (mean absolute elementary effect, with its 95% interval) and
    sigma (their spread: interactions or non-linearity), per outcome."""
    from SALib.analyze import morris as salib_morris

    manifest = load_manifest(folder)
    if manifest["design"]["kind"] != "morris":
        raise SweepError(f"{folder}: a {manifest['design']['kind']} sweep; Morris screening needs a morris design")
    problem = manifest["design"]["salib_problem"]
    x, y = per_point(folder, manifest)
    rows = []
    for output in y.columns:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = salib_morris.analyze(
                problem,
                x.to_numpy(dtype=float),
                y[output].to_numpy(),
                num_levels=manifest["spec"]["design"]["levels"],
                print_to_console=False,
                seed=manifest["seeds"]["root"],
            )
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "output": output,
                    "parameter": name,
                    "mu_star": res["mu_star"][i],
                    "mu_star_conf": res["mu_star_conf"][i],
                    "sigma": res["sigma"][i],
                }
            )
    return pd.DataFrame(rows)
