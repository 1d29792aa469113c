"""Scenario discovery: the region of parameter space where a treaty is likely, found by
PRIM (Friedman and Fisher 1999) as implemented in the EMA Workbench (Kwakkel 2017).

Each design point counts as "treaty likely" when its chance of a treaty (the chance that
the package its governments agree passes both publics, averaged over its replications)
is at least the cutoff: by default the design's 90th percentile, so that "likely" means
likelier than at nine points in ten. PRIM peels the parameter space into a box; each peeling step trades coverage (the share
of all treaty-likely points inside the box) for density (the share of points inside
the box that are treaty-likely). The box reported is the densest step that still covers
at least half of the treaty-likely points."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dipsim.analysis.experiments.sweep import SweepError, load_manifest, read

MIN_COVERAGE = 0.5
SIGNIFICANT = 0.05
MAX_DIMENSIONS = 8


@dataclass
class Discovery:
    dimensions: list[str]  # the parameters PRIM worked on
    cutoff: float
    share_likely: float  # of all points
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per peeling step
    chosen: int  # the step reported
    rules: list[str]  # the box as readable conditions
    limits: pd.DataFrame  # the box's bounds on every parameter
    labels: dict[str, str]


def discover(folder: Path, cutoff: float | None = None, ranking: list[str] | None = None) -> Discovery:
    """PRIM on a sweep; ``ranking``: parameters from most to least influential, if known."""
    manifest = load_manifest(folder)
    params = list(manifest["design"]["parameters"])
    keys = [p["key"] for p in params]
    frame = read(folder, columns=["point", *keys, "treaty_chance", "error"]).to_pandas()
    frame = frame[frame["error"].isna()]
    points = frame.groupby("point", sort=True)
    x = points[keys].first()
    rate = points["treaty_chance"].mean()
    if cutoff is None:
        cutoff = float(np.quantile(rate, 0.9))
    y = (rate >= cutoff).to_numpy() & (rate > 0).to_numpy()
    if not y.any() or y.all():
        raise SweepError(
            f"{folder}: with a cutoff of {cutoff:.3g}, "
            f"{'no' if not y.any() else 'every'} point counts as treaty-likely; allowed: a --cutoff "
            f"between the lowest and highest chance of a treaty at a point ({rate.min():.3f} to {rate.max():.3f})"
        )
    numeric = [k for k in keys if pd.api.types.is_numeric_dtype(x[k]) and x[k].nunique() > 1]
    if len(numeric) > MAX_DIMENSIONS:
        if ranking is None:
            ranking = x[numeric].rank().corrwith(rate.rank()).abs().sort_values(ascending=False).index.tolist()
        numeric = [k for k in ranking if k in numeric][:MAX_DIMENSIONS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from ema_workbench.analysis import prim
        except ModuleNotFoundError as exc:
            raise SweepError(
                f"{folder}: scenario discovery needs the EMA Workbench ({exc.name} is not installed); "
                "allowed: install the discovery extra, pip install 'dipsim[discovery]'"
            ) from None

        box = prim.Prim(x[numeric].astype(float).reset_index(drop=True), y).find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].reset_index(drop=True)
    good = trajectory.index[trajectory["coverage"] >= MIN_COVERAGE]
    chosen = int(trajectory.loc[good, "density"].idxmax()) if len(good) else len(trajectory) - 1
    limits = box.box_lims[chosen]
    _, bounds = box.inspect(chosen, style="data")[0]
    bounds.columns = ["min", "max", "qp_low", "qp_high"]
    labels = {p["key"]: p["label"] for p in params}
    rules = []
    for k, b in bounds.iterrows():
        name = labels.get(k, k)
        low = pd.notna(b["qp_low"]) and b["qp_low"] < SIGNIFICANT
        high = pd.notna(b["qp_high"]) and b["qp_high"] < SIGNIFICANT
        if low and high:
            rules.append(f"{b['min']:.3g} <= {name} <= {b['max']:.3g}")
        elif low:
            rules.append(f"{name} >= {b['min']:.3g}")
        elif high:
            rules.append(f"{name} <= {b['max']:.3g}")
    return Discovery(numeric, cutoff, float(y.mean()), trajectory, chosen, rules, limits, labels)


def discovery_text(d: Discovery) -> str:
    row = d.trajectory.loc[d.chosen]
    lines = [
        (
            f"Scenario discovery (PRIM) on {len(d.dimensions)} parameters: points with a chance of a treaty "
            f"of {d.cutoff:.3g} or more are {d.share_likely:.1%} of the design."
        ),
        (
            f"  the box (peeling step {d.chosen}): coverage {row['coverage']:.2f}, density {row['density']:.2f}, "
            f"mass {row['mass']:.2f}"
        ),
        "  a treaty is likely where " + (" and ".join(d.rules) if d.rules else "(no restriction found)"),
    ]
    return "\n".join(lines)
