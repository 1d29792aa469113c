"""`dipsim analyze`: sensitivity and scenario discovery of a sweep, written beside it."""

from __future__ import annotations

from pathlib import Path

from .discovery import discover, discovery_text, tradeoff_plot
from .sensitivity import indices_plot, morris, sobol
from .sweep import SweepError, load_manifest


def analyze_sweep(folder: Path, cutoff: float | None = None) -> str:
    manifest = load_manifest(folder)
    title = manifest["spec"]["title"]
    kind = manifest["design"]["kind"]
    lines = [f"{title} ({kind} design, {manifest['design']['runs']} runs)"]
    ranking = None
    if kind in ("sobol", "morris"):
        table = sobol(folder) if kind == "sobol" else morris(folder)
        table.to_csv(folder / f"{kind}_indices.csv", index=False)
        order = "ST" if kind == "sobol" else "mu_star"
        for output in table["output"].unique():
            indices_plot(table, output, title, folder / f"{kind}_{output}.png")
            top = table[table["output"] == output].sort_values(order, ascending=False).head(5)
            lines.append(f"  {output}: most influential " + "; ".join(
                f"{r.parameter} ({order} {getattr(r, order):.3f})" for r in top.itertuples()))
        lines.append(f"  written: {kind}_indices.csv, {kind}_<outcome>.png")
        chance = table[table["output"] == "treaty_chance"].sort_values(order, ascending=False)
        ranking = chance["parameter"].tolist() or None
    else:
        lines.append("  (no sensitivity indices: they need a sobol or morris design)")
    try:
        d = discover(folder, cutoff, ranking)
    except SweepError as exc:
        lines.append(f"  scenario discovery skipped: {exc}")
    else:
        d.trajectory.to_csv(folder / "prim_trajectory.csv", index=False)
        tradeoff_plot(d, title, folder / "prim_tradeoff.png")
        lines.append(discovery_text(d))
        lines.append("  written: prim_trajectory.csv, prim_tradeoff.png")
    return "\n".join(lines)
