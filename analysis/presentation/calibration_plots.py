"""Plots of a calibration (analysis.interpretation.calibration): each free belief's prior
and posterior, the pairs of the most constrained beliefs, the temperature and
acceptance per generation, and what prior and posterior predict for each observation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dipsim.analysis.presentation.plots import NEUTRAL, OKABE_ITO, _save, figure

POSTERIOR_COLOUR = OKABE_ITO[1]


def _widest(cal, beliefs: pd.DataFrame) -> pd.DataFrame:
    """One number per free belief: the one whose prior is widest (a list's entries share
    their quantile, so one shows the belief)."""
    b = beliefs.assign(width=beliefs["prior_p95"] - beliefs["prior_p05"])
    return (
        b.sort_values("width", ascending=False)
        .drop_duplicates("belief")
        .set_index("belief")
        .loc[[x.name for x in cal.beliefs if x.name in set(b["belief"])]]
    )


def posterior_plot(cal, result, path: Path) -> Path:
    from dipsim.analysis.interpretation.calibration import value_at

    shown = _widest(cal, result.beliefs)
    n = len(shown)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = figure(rows, cols, figsize=(4.2 * cols, 2.6 * rows), squeeze=False)
    w = result.posterior["weight"].to_numpy()
    grid = (np.arange(4000) + 0.5) / 4000
    numbers = {x.path: x for b in cal.beliefs for x in cal.reference(b)[1]}
    for ax, (name, row) in zip(axes.flat, shown.iterrows()):
        prior = value_at(numbers[row["number"]], grid)
        v = result.posterior[row["number"]].to_numpy()
        lo, hi = float(prior.min()), float(prior.max())
        bins = np.linspace(lo, hi, 21) if hi > lo else 10
        ax.hist(prior, bins=bins, density=True, color=NEUTRAL, alpha=0.45, label="prior")
        ax.hist(v, bins=bins, weights=w, density=True, color=POSTERIOR_COLOUR, alpha=0.6, label="posterior")
        entry = row["number"].rsplit(".values.", 1)
        option = f" (option {entry[1]})" if len(entry) == 2 else ""
        ax.set_title(
            f"{name}{option}, {row['step']}\nposterior's 90% range: {row['width_kept']:.2f} of the prior's", fontsize=8
        )
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"{cal.spec.title}: prior and posterior (values in the last fitted step with a range)", fontsize=9)
    return _save(fig, path)


def pairs_plot(cal, result, path: Path, top: int = 3) -> Path:
    """The posterior's particles over the pairs of the ``top`` beliefs whose ranges it
    narrows most (the size of a dot is its weight)."""
    shown = _widest(cal, result.beliefs).sort_values("width_kept").head(top)
    names = list(shown.index)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]] or [(names[0], names[0])]
    fig, axes = figure(1, len(pairs), figsize=(4.0 * len(pairs), 3.6), squeeze=False)
    w = result.posterior["weight"].to_numpy()
    size = 4 + 400 * w / w.max() / np.sqrt(len(w))
    for ax, (a, b) in zip(axes.flat, pairs):
        x, y = result.posterior[shown.loc[a, "number"]], result.posterior[shown.loc[b, "number"]]
        ax.scatter(x, y, s=size, color=POSTERIOR_COLOUR, alpha=0.35, linewidths=0)
        ax.set_xlim(shown.loc[a, "prior_p05"] - 0.05 * abs(shown.loc[a, "prior_p05"]) - 1e-3, None)
        ax.set_xlabel(shown.loc[a, "number"], fontsize=7)
        ax.set_ylabel(shown.loc[b, "number"], fontsize=7)
        ax.tick_params(labelsize=7)
    fig.suptitle("Posterior particles: the most constrained beliefs, in pairs", fontsize=9)
    return _save(fig, path)


def generations_plot(result, path: Path) -> Path:
    g = result.generations
    fig, (a, b) = figure(1, 2, figsize=(8, 3))
    a.plot(g["generation"], g["temperature"], "o-", color=OKABE_ITO[0])
    a.set_yscale("log")
    a.set_xlabel("generation")
    a.set_ylabel("temperature (accept with L^(1/T))")
    a.set_xticks(g["generation"])
    b.plot(g["generation"], g["acceptance_rate"], "o-", color=OKABE_ITO[2], label="acceptance rate")
    b.plot(
        g["generation"],
        g["effective_sample_size"] / g["effective_sample_size"].max(),
        "s--",
        color=NEUTRAL,
        label="ESS / largest",
    )
    b.set_ylim(0, 1.05)
    b.set_xlabel("generation")
    b.set_xticks(g["generation"])
    b.legend(fontsize=7)
    fig.suptitle("Tempering: the threshold each generation accepts against, and how much it accepts", fontsize=9)
    return _save(fig, path)


def predicted_plot(cal, p: pd.DataFrame, q: pd.DataFrame, path: Path) -> Path:
    """``p`` and ``q``: the prior's and posterior's predicted chances (calibration.predicted)."""
    labels = [f"{y} {o}" for y, o in zip(p["year"], p["observation"])]
    fitted = {s.year for s in cal.steps}
    fig, ax = figure(figsize=(8, 0.28 * len(p) + 1.2))
    ypos = np.arange(len(p))[::-1]
    for df, dy, c, name in ((p, 0.15, NEUTRAL, "prior"), (q, -0.15, POSTERIOR_COLOUR, "posterior")):
        ax.hlines(ypos + dy, df["p05"], df["p95"], color=c, lw=1.2)  # the mean may lie outside: a skewed spread
        ax.plot(df["probability"], ypos + dy, "o", color=c, ms=4, label=name)
    ax.set_yticks(ypos)
    ax.set_yticklabels([lab + ("" if int(lab[:4]) in fitted else " (held out)") for lab in labels], fontsize=7)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("chance a run reproduces what was observed (mean over beliefs; bars: 5-95% of the beliefs drawn)")
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("What the beliefs predict for each observation", fontsize=9)
    return _save(fig, path)


def calibration_plots(cal, result, prior: pd.DataFrame, post: pd.DataFrame, folder: Path) -> list[Path]:
    return [
        posterior_plot(cal, result, folder / "posterior.png"),
        pairs_plot(cal, result, folder / "pairs.png"),
        generations_plot(result, folder / "generations.png"),
        predicted_plot(cal, prior, post, folder / "predicted.png"),
    ]
