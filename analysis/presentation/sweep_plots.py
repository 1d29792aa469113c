"""Plots of a sweep: treaty probability over two swept parameters, and a response curve
with its 95% band for every swept parameter."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from dipsim.analysis.experiments.summary import wilson
from dipsim.analysis.experiments.sweep import SweepError, load_manifest, read
from dipsim.analysis.interpretation.analyze import SweepAnalysis, analyze_sweep
from dipsim.analysis.interpretation.discovery import Discovery
from dipsim.analysis.presentation.plots import OUTCOME, _save, figure

BINS = 10  # bins per continuous parameter
PANELS = 24  # response curves per figure


def plot_sweep(folder: Path, pairs: list[tuple[str, ...]]) -> list[Path]:
    if not (folder / "manifest.json").is_file() and (folder / "runs.parquet").is_file():
        return _replot_run(folder)
    manifest = load_manifest(folder)
    params = manifest["design"]["parameters"]
    keys = [p["key"] for p in params]
    labels = {p["key"]: p["label"] for p in params}
    for pair in pairs:
        if len(pair) != 2 or any(k not in keys for k in pair):
            raise SweepError(f"--pair {','.join(pair)}: allowed: two of the swept keys, KEY_X,KEY_Y: {', '.join(keys)}")
    frame = read(folder, columns=[*keys, "treaty", "error"]).to_pandas()
    frame = frame[frame["error"].isna()]
    grid = manifest["design"]["kind"] == "grid"
    title = manifest["spec"]["title"]
    written = []
    if not pairs and len(keys) >= 2:
        pairs = [(keys[0], keys[1])]
    for i, (x, y) in enumerate(pairs):
        written.append(heat_map(frame, x, y, labels, grid, title, folder / f"heatmap_{i + 1}.png"))
    for page, start in enumerate(range(0, len(keys), PANELS)):
        written.append(
            response_curves(
                frame, keys[start : start + PANELS], labels, grid, title, folder / f"response_{page + 1}.png"
            )
        )
    return written


def _levels(values: pd.Series, grid: bool) -> tuple[pd.Series, list]:
    """Group labels for a parameter: its levels on a grid, else ten equal-count bins
    (labelled by their centre)."""
    if grid or values.dtype == object or values.nunique() <= BINS:
        return values, sorted(values.unique(), key=lambda v: (str(type(v)), v))
    bins = pd.qcut(values, BINS, duplicates="drop")
    centres = bins.map(lambda b: b.mid).astype(float)
    return centres, sorted(centres.unique())


def heat_map(frame: pd.DataFrame, x: str, y: str, labels: dict, grid: bool, title: str, path: Path) -> Path:
    gx, lx = _levels(frame[x], grid)
    gy, ly = _levels(frame[y], grid)
    table = frame.groupby([gy, gx], observed=True)["treaty"].mean().unstack()
    table = table.reindex(index=ly, columns=lx)
    counts = frame.groupby([gy, gx], observed=True)["treaty"].size().unstack().reindex(index=ly, columns=lx)
    fig, ax = figure(figsize=(1.0 * len(lx) + 3.5, 0.6 * len(ly) + 2.5))
    im = ax.imshow(
        table.to_numpy(dtype=float),
        origin="lower",
        cmap="viridis",
        vmin=0,
        vmax=max(0.05, float(np.nanmax(table.to_numpy(dtype=float)))),
        aspect="auto",
    )
    for (r, c), v in np.ndenumerate(table.to_numpy(dtype=float)):
        if not np.isnan(v):
            ax.text(
                c,
                r,
                f"{v:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if v < 0.6 * im.norm.vmax else "black",
            )
    ax.set_xticks(range(len(lx)), [_fmt(v) for v in lx], rotation=45, ha="right")
    ax.set_yticks(range(len(ly)), [_fmt(v) for v in ly])
    ax.set_xlabel(labels[x] + ("" if grid else " (bin centre)"))
    ax.set_ylabel(labels[y] + ("" if grid else " (bin centre)"))
    bar = fig.colorbar(im, ax=ax)
    bar.set_label("probability of a ratified treaty")
    n = int(np.nanmin(counts.to_numpy(dtype=float))) if counts.size else 0
    ax.set_title(f"{title}\ntreaty probability (at least {n} runs a cell)")
    return _save(fig, path)


def response_curves(frame: pd.DataFrame, keys: list[str], labels: dict, grid: bool, title: str, path: Path) -> Path:
    cols = min(4, len(keys))
    rows = int(np.ceil(len(keys) / cols))
    fig, axes = figure(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        g, levels = _levels(frame[key], grid)
        stats = frame.groupby(g, observed=True)["treaty"].agg(["sum", "size"]).reindex(levels)
        rate = stats["sum"] / stats["size"]
        band = np.array([wilson(int(k), int(n)) for k, n in zip(stats["sum"], stats["size"])])
        numeric = all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in levels)
        xs = np.asarray(levels, dtype=float) if numeric else np.arange(len(levels))
        ax.fill_between(xs, band[:, 0], band[:, 1], color=OUTCOME, alpha=0.2, lw=0, label="95% CI (Wilson)")
        ax.plot(xs, rate.to_numpy(), color=OUTCOME, marker="o", ms=3, label="treaty rate")
        if not numeric:
            ax.set_xticks(xs, [str(v) for v in levels])
        ax.set_xlabel(_short(labels[key]))
        ax.set_ylabel("probability of a treaty")
        ax.set_ylim(0, max(0.05, float(np.nanmax(band[:, 1])) * 1.1))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    fig.suptitle(
        f"{title}: response of the treaty probability to each parameter" + ("" if grid else " (ten equal-count bins)")
    )
    return _save(fig, path)


def _fmt(v) -> str:
    return f"{v:.3g}" if isinstance(v, (float, np.floating)) else str(v)


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else "..." + text[-(width - 3) :]


def _replot_run(folder: Path) -> list[Path]:
    """The plots of a `dipsim run` folder, drawn again from its Parquet files."""
    from dipsim.analysis.experiments.jobs import ScenarioResult
    from dipsim.analysis.presentation.figures import scenario_plots

    return scenario_plots(ScenarioResult.read(folder), folder)


# --------------------------------------------------------------------------- sensitivity and discovery


def indices_plot(table: pd.DataFrame, output: str, title: str, path: Path, top: int = 20) -> Path:
    """Horizontal bars, largest first: total and first-order Sobol indices (or Morris mu*)
    with their 95% intervals; parameters named by their key paths."""
    t = table[table["output"] == output]
    sobol_kind = "ST" in t.columns
    order = "ST" if sobol_kind else "mu_star"
    t = t.sort_values(order, ascending=False).head(top).iloc[::-1]
    fig, ax = figure(figsize=(10, 0.32 * len(t) + 1.8))
    y = np.arange(len(t))
    if sobol_kind:
        ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], color="#000000", alpha=0.85, label="total (ST)", capsize=2)
        ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], color="#999999", label="first order (S1)", capsize=2)
        ax.set_xlabel("Sobol index (share of the outcome's variance; 95% CI)")
    else:
        ax.barh(y, t["mu_star"], xerr=t["mu_star_conf"], color="#000000", alpha=0.85, capsize=2, label="mu* (95% CI)")
        ax.scatter(t["sigma"], y, color="#CC79A7", zorder=3, label="sigma")
        ax.set_xlabel("elementary effect (outcome units per unit of the parameter's range)")
    ax.set_yticks(y, [_short(p, 60) for p in t["parameter"]], fontsize=7)
    ax.set_ylabel("parameter (key path in the scenario file)")
    ax.axvline(0, color="black", lw=0.6)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"{title}\nwhat {_outcome(output)} depends on (top {len(t)})")
    return _save(fig, path)


def _outcome(output: str) -> str:
    return "the chance of a treaty" if output == "treaty_chance" else output.replace("utility_", "the utility of ")


def tradeoff_plot(d: Discovery, title: str, path: Path) -> Path:
    t = d.trajectory
    fig, ax = figure(figsize=(8, 5.5))
    sc = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=30, zorder=2)
    bar = fig.colorbar(sc, ax=ax)
    bar.set_label("parameters restricted by the box")
    ax.plot(t["coverage"], t["density"], color="#999999", lw=0.8, zorder=1, label="peeling trajectory")
    c = t.loc[d.chosen]
    ax.scatter(
        [c["coverage"]],
        [c["density"]],
        s=200,
        facecolors="none",
        edgecolors="#CC79A7",
        lw=2,
        zorder=3,
        label="box reported",
    )
    ax.set_xlabel("coverage (share of treaty-likely points inside the box)")
    ax.set_ylabel("density (share of points in the box that are treaty-likely)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    rules = "\n".join(textwrap.fill(r, 70, subsequent_indent="    ") for r in d.rules) or "(no restriction)"
    ax.text(
        0.98,
        0.97,
        "box reported: a treaty is likely where\n" + rules,
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=7,
        family="monospace",
        bbox={"facecolor": "white", "edgecolor": "#999999", "alpha": 0.9},
    )
    ax.set_title(
        f"{title}\nPRIM scenario discovery: chance of a treaty >= {d.cutoff:.3g} ({len(d.dimensions)} parameters)"
    )
    return _save(fig, path)


def analysis_plots(analysis: SweepAnalysis, folder: Path) -> list[Path]:
    """The plots of a sweep's analysis: indices per outcome, and PRIM's trade-off."""
    written = []
    if analysis.indices is not None:
        for output in analysis.indices["output"].unique():
            written.append(
                indices_plot(analysis.indices, output, analysis.title, folder / f"{analysis.kind}_{output}.png")
            )
    if analysis.discovery is not None:
        written.append(tradeoff_plot(analysis.discovery, analysis.title, folder / "prim_tradeoff.png"))
    return written


def write_analysis(folder: Path, cutoff: float | None = None) -> str:
    """Analyse a sweep, write the tables and plots beside it; the text of the result."""
    analysis = analyze_sweep(folder, cutoff)
    analysis_plots(analysis, folder)
    return analysis.text()
