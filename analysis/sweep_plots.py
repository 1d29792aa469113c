"""Plots of a sweep: treaty probability over two swept parameters, and a response curve
with its 95% band for every swept parameter."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .plots import OUTCOME, _save  # noqa: E402
from .summary import wilson  # noqa: E402
from .sweep import SweepError, load_manifest, read  # noqa: E402

BINS = 10           # bins per continuous parameter
PANELS = 24         # response curves per figure


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
        written.append(response_curves(frame, keys[start:start + PANELS], labels, grid, title,
                                       folder / f"response_{page + 1}.png"))
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
    fig, ax = plt.subplots(figsize=(1.0 * len(lx) + 3.5, 0.6 * len(ly) + 2.5))
    im = ax.imshow(table.to_numpy(dtype=float), origin="lower", cmap="viridis", vmin=0,
                   vmax=max(0.05, float(np.nanmax(table.to_numpy(dtype=float)))), aspect="auto")
    for (r, c), v in np.ndenumerate(table.to_numpy(dtype=float)):
        if not np.isnan(v):
            ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if v < 0.6 * im.norm.vmax else "black")
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
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
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
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    fig.suptitle(f"{title}: response of the treaty probability to each parameter"
                 + ("" if grid else " (ten equal-count bins)"))
    return _save(fig, path)


def _fmt(v) -> str:
    return f"{v:.3g}" if isinstance(v, (float, np.floating)) else str(v)


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else "..." + text[-(width - 3):]


def _replot_run(folder: Path) -> list[Path]:
    """The plots of a `dipsim run` folder, drawn again from its Parquet files."""
    from sim import scenario as scenario_mod

    from .jobs import ScenarioResult, write_plots

    spec = scenario_mod.load(folder / "scenario.toml")
    from sim.preferences import Tables

    result = ScenarioResult(spec, Tables.from_scenarios([spec]), None, pd.read_parquet(folder / "runs.parquet"),
                            pd.read_parquet(folder / "rounds.parquet"), "from files")
    return write_plots(result, folder)
