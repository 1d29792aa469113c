"""The numbers a reader wants first: treaty rate with its interval, common packages,
mean utilities, why talks failed."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion (Wilson 1927); (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def mean_ci(values: np.ndarray, z: float = Z95) -> tuple[float, float, float]:
    """Mean and its normal-approximation 95% interval."""
    values = np.asarray(values, dtype=float)
    m = float(values.mean())
    if values.size < 2:
        return m, m, m
    half = z * float(values.std(ddof=1)) / math.sqrt(values.size)
    return m, m - half, m + half


def summarise(runs: pd.DataFrame, actors: list[str]) -> dict:
    n = len(runs)
    treaties = int(runs["treaty"].sum())
    lo, hi = wilson(treaties, n)
    packages = runs.loc[runs["treaty"], "package_label"].value_counts().head(5)
    agreed = runs.loc[runs["agreed_package"] >= 0, "agreed_label"].value_counts().head(5)
    return {
        "runs": n,
        "treaties": treaties,
        "treaty_rate": treaties / n if n else float("nan"),
        "treaty_rate_ci": (lo, hi),
        "treaty_packages": packages,
        "agreed_packages": agreed,
        "utilities": {a: mean_ci(runs[f"utility_{a}"].to_numpy()) for a in actors},
        "reasons": runs["reason"].value_counts(),
        "mean_end_round": float(runs["end_round"].mean()),
    }


def summary_text(name: str, s: dict, labels: dict[str, str]) -> str:
    lo, hi = s["treaty_rate_ci"]
    lines = [
        f"{name}: {s['runs']} runs",
        f"  treaty rate      {s['treaty_rate']:.3f}  (95% CI {lo:.3f} to {hi:.3f}; {s['treaties']} treaties)",
        f"  mean end round   {s['mean_end_round']:.1f}",
        "  treaties signed (most common packages):",
    ]
    lines += [f"    {c:6d}  {p}" for p, c in s["treaty_packages"].items()] or ["    none"]
    lines.append("  packages the governments agreed (ratified or not):")
    lines += [f"    {c:6d}  {p}" for p, c in s["agreed_packages"].items()] or ["    none"]
    lines.append("  mean utility of the outcome (95% CI):")
    for a, (m, l, h) in s["utilities"].items():
        lines.append(f"    {labels.get(a, a):10s} {m:+.3f}  ({l:+.3f} to {h:+.3f})")
    lines.append("  how the runs ended:")
    lines += [f"    {c:6d}  {r}" for r, c in s["reasons"].items()]
    return "\n".join(lines)


def comparison_table(summaries: dict[str, dict]) -> pd.DataFrame:
    rows = []
    for name, s in summaries.items():
        lo, hi = s["treaty_rate_ci"]
        row = {"scenario": name, "runs": s["runs"], "treaty_rate": s["treaty_rate"], "ci_low": lo, "ci_high": hi}
        for a, (m, _, _) in s["utilities"].items():
            row[f"utility_{a}"] = m
        top = s["agreed_packages"]
        row["most_agreed_package"] = top.index[0] if len(top) else ""
        rows.append(row)
    import pandas as pd   # here: `dipsim sweep` reads wilson() from this module and needs no pandas

    return pd.DataFrame(rows)
