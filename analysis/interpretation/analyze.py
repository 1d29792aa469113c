"""`dipsim analyze`: sensitivity and scenario discovery of a sweep, their tables written
beside it (the plots: dipsim.analysis.presentation.sweep_plots.analysis_plots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dipsim.analysis.experiments.sweep import SweepError, load_manifest
from dipsim.analysis.interpretation.discovery import Discovery, discover, discovery_text
from dipsim.analysis.interpretation.sensitivity import morris, sobol


@dataclass
class SweepAnalysis:
    title: str
    kind: str  # the sweep's design
    runs: int
    indices: pd.DataFrame | None  # Sobol or Morris indices (sobol and morris designs only)
    discovery: Discovery | None  # PRIM's box, if it could be found
    notes: list[str] = field(default_factory=list)  # what was skipped, and why

    @property
    def order(self) -> str:
        """The column that ranks the parameters: total Sobol index, or Morris mu*."""
        return "ST" if self.kind == "sobol" else "mu_star"

    def text(self) -> str:
        lines = [f"{self.title} ({self.kind} design, {self.runs} runs)"]
        if self.indices is not None:
            for output in self.indices["output"].unique():
                top = self.indices[self.indices["output"] == output].sort_values(self.order, ascending=False).head(5)
                lines.append(
                    f"  {output}: most influential "
                    + "; ".join(f"{r.parameter} ({self.order} {getattr(r, self.order):.3f})" for r in top.itertuples())
                )
            lines.append(f"  written: {self.kind}_indices.csv, {self.kind}_<outcome>.png")
        lines += [f"  {note}" for note in self.notes]
        if self.discovery is not None:
            lines.append(discovery_text(self.discovery))
            lines.append("  written: prim_trajectory.csv, prim_tradeoff.png")
        return "\n".join(lines)


def analyze_sweep(folder: Path, cutoff: float | None = None) -> SweepAnalysis:
    """Indices (for sobol and morris designs) and PRIM's box of a sweep; their tables are
    written into the sweep folder."""
    manifest = load_manifest(folder)
    kind = manifest["design"]["kind"]
    result = SweepAnalysis(manifest["spec"]["title"], kind, manifest["design"]["runs"], None, None)
    ranking = None
    if kind in ("sobol", "morris"):
        result.indices = sobol(folder) if kind == "sobol" else morris(folder)
        result.indices.to_csv(folder / f"{kind}_indices.csv", index=False)
        chance = result.indices[result.indices["output"] == "treaty_chance"].sort_values(result.order, ascending=False)
        ranking = chance["parameter"].tolist() or None
    else:
        result.notes.append("(no sensitivity indices: they need a sobol or morris design)")
    try:
        result.discovery = discover(folder, cutoff, ranking)
    except SweepError as exc:
        result.notes.append(f"scenario discovery skipped: {exc}")
    else:
        result.discovery.trajectory.to_csv(folder / "prim_trajectory.csv", index=False)
    return result
