"""`dipsim report DIR`: one self-contained HTML file (jinja2; plots embedded as data, no
network needed to open it) for a run, a comparison or a sweep folder: the scenario or
sweep, the resolved preferences with their sources, the summary tables, every plot, and
for sweeps the sensitivity and scenario-discovery results."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from dipsim.analysis.presentation.describe import beliefs
from dipsim.sim import scenario as scenario_mod
from dipsim.sim.scenario import ScenarioError

PLOT_ORDER = (
    "offers",
    "actions",
    "terms",
    "reasons",
    "outcome_space",
    "treaty_probability",
    "terms_",
    "utilities",
    "heatmap",
    "response",
    "sobol_",
    "morris_",
    "prim_tradeoff",
    "positions",
    "backcast",
    "posterior",
    "pairs",
    "generations",
    "predicted",
)


@dataclass
class Section:
    heading: str
    anchor: str
    blocks: list[dict] = field(default_factory=list)

    def text(self, text: str):
        self.blocks.append({"kind": "text", "text": text})

    def pre(self, text: str):
        self.blocks.append({"kind": "pre", "text": text})

    def heading3(self, text: str):
        self.blocks.append({"kind": "heading", "text": text})

    def table(self, frame: pd.DataFrame, digits: int = 3):
        rows = [[_cell(v, digits) for v in row] for row in frame.itertuples(index=False)]
        self.blocks.append({"kind": "table", "columns": list(frame.columns), "rows": rows})

    def figure(self, path: Path, caption: str):
        self.blocks.append(
            {"kind": "figure", "caption": caption, "data": base64.b64encode(path.read_bytes()).decode("ascii")}
        )


def _cell(v, digits):
    if isinstance(v, float):
        return round(v, digits)
    return v


def beliefs_table(spec) -> pd.DataFrame:
    """Every table of the scenario that carries a source: where it is, its numbers, its source."""
    return pd.DataFrame(
        [
            {
                "setting": b["key"],
                "values": ", ".join(f"{k} = {_show(v)}" for k, v in b.items() if k not in ("key", "source")),
                "source": b["source"],
            }
            for b in beliefs(spec)
        ]
    )


def _show(v):
    if isinstance(v, list):
        return "[" + ", ".join(_show(x) for x in v) + "]"
    if isinstance(v, dict):  # a condition: when = {issue = territory, not_one_of = [none]}
        return "{" + ", ".join(f"{k} = {_show(x)}" for k, x in v.items()) + "}"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _plots(folder: Path) -> list[Path]:
    pngs = sorted(folder.glob("*.png"))
    rank = {
        p: next((i for i, prefix in enumerate(PLOT_ORDER) if p.stem.startswith(prefix)), len(PLOT_ORDER)) for p in pngs
    }
    return sorted(pngs, key=lambda p: (rank[p], p.name))


def _caption(path: Path) -> str:
    return path.stem.replace("_", " ")


def _scenario_sections(folder: Path, spec, heading: str) -> list[Section]:
    from dipsim.analysis.experiments.summary import RunStats, summary_text

    out = []
    about = Section(heading, spec.name)
    about.text(" ".join(spec.description.split()))
    runs_file = folder / "runs.parquet"
    if runs_file.is_file():
        stats = RunStats.from_parquet(runs_file)
        labels = {pid: p.label for pid, p in spec.parties.items()}
        if spec.outside_power:
            labels[spec.outside_power[0]] = spec.outside_power[1].label
        about.pre(summary_text(spec.title, stats.summary(), labels))
    for png in _plots(folder):
        about.figure(png, _caption(png))
    out.append(about)
    beliefs = Section(f"{spec.title}: preferences and their sources", f"{spec.name}-beliefs")
    if spec.sources:
        beliefs.table(pd.DataFrame([{"source": k, "reference": v} for k, v in spec.sources.items()]))
    beliefs.table(beliefs_table(spec))
    out.append(beliefs)
    return out


def _silent(stage: str) -> None:
    """Where the steps of writing a report are told when no one listens."""


# The file that tells which command wrote a results folder, in the order they are looked for.
MARKS = {
    "manifest.json": "sweep",
    "summary.csv": "compare",
    "scenario.toml": "run",
    "backcast.csv": "backcast",
    "calibration.json": "calibration",
}


def results_kind(folder: Path) -> str:
    """Which command wrote a results folder (sweep, compare, run, backcast or calibrate), or a
    ScenarioError saying why a report cannot be written for it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScenarioError(str(folder), "", "no such results folder")
    kind = next((kind for name, kind in MARKS.items() if (folder / name).is_file()), None)
    if kind is None:
        raise ScenarioError(str(folder), "", f"not a dipsim results folder (no {', '.join(MARKS)})")
    return kind


def build(folder: Path, stage: Callable[[str], None] = _silent) -> tuple[str, str, list[Section]]:
    """(title, kind, sections) of a results folder; ``stage`` is told what is being done."""
    kind = results_kind(folder)
    if kind == "sweep":
        return _sweep(folder, stage)
    if kind == "compare":
        return _comparison(folder)
    if kind == "calibration":
        return _calibration(folder)
    if kind == "run":
        spec = scenario_mod.load(folder / "scenario.toml")
        if isinstance(spec, scenario_mod.ExpectedUtilityScenario):
            return _expected_utility(folder, spec)
        return spec.title, "one scenario (dipsim run)", _scenario_sections(folder, spec, "Results")
    s = Section("Backcast: the model against history", "backcast")
    s.table(pd.read_csv(folder / "backcast.csv"))
    for png in _plots(folder):
        s.figure(png, _caption(png))
    return "Backcast, 1956-2022", "backcast", [s]


def _calibration(folder: Path):
    """A `dipsim calibrate` (or `backcast --blind`) folder: the spec, each belief's prior
    and posterior, the tempering, and what prior and posterior predict for each step."""
    from dipsim.analysis.interpretation.calibration import load_results

    tables = load_results(folder)
    m, spec = tables["manifest"], tables["manifest"]["spec"]
    held = m["held_out_years"]
    about = Section("Calibration", "calibration")
    about.text(spec.get("description") or spec["title"])
    about.text(
        f"Fitted to the history steps of {', '.join(map(str, m['fitted_years']))}"
        + (f"; held out: {', '.join(map(str, held))}" if held else "")
        + f". {len(spec['free'])} free beliefs, {spec['population']} particles, temperatures "
        f"{', '.join(f'{t:g}' for t in spec['temperatures'])}, {spec['runs']} runs a step per particle; "
        f"{m['evaluations']} particles tried."
    )
    if spec.get("source"):
        about.text(f"Source: {spec['source']}")
    beliefs = Section("The beliefs: prior and posterior", "beliefs")
    beliefs.text(
        "Each free number in its reference step (the last fitted step that gives it a range): mean and 90% range "
        "under the prior and the posterior, and the share of the prior's range the posterior's keeps."
    )
    beliefs.table(
        tables["beliefs"][
            [
                "number",
                "step",
                "prior_mean",
                "prior_p05",
                "prior_p95",
                "posterior_mean",
                "posterior_p05",
                "posterior_p95",
                "width_kept",
            ]
        ]
    )
    beliefs.table(tables["generations"])
    predicted = Section("What the beliefs predict for each step", "predicted")
    predicted.text(
        "The chance that a run reproduces each observation (and all of a step's together), averaged over 100 draws "
        "of the beliefs from the prior and from the posterior; held-out steps were not seen by the calibration."
    )
    predicted.table(tables["predicted"])
    predicted.table(tables["scores"])
    for png in _plots(folder):
        predicted.figure(png, _caption(png))
    return spec["title"], "calibration (dipsim calibrate)", [about, beliefs, predicted]


def _comparison(folder: Path):
    summary = pd.read_csv(folder / "summary.csv")
    s = Section("Comparison", "comparison")
    s.table(summary)
    for png in _plots(folder):
        s.figure(png, _caption(png))
    sections = [s]
    for name in summary["scenario"]:
        sub = folder / name
        if (sub / "scenario.toml").is_file():
            spec = scenario_mod.load(sub / "scenario.toml")
            sections += _scenario_sections(sub, spec, spec.title)
    return "Scenarios compared", f"comparison of {len(summary)} scenarios (dipsim compare)", sections


def _sweep(folder: Path, stage: Callable[[str], None]):
    from dipsim.analysis.experiments.sweep import read
    from dipsim.analysis.presentation.sweep_plots import write_analysis

    manifest = json.loads((folder / "manifest.json").read_text())
    spec = manifest["spec"]
    about = Section("The sweep", "sweep")
    about.text(" ".join(spec["description"].split()))
    d = manifest["design"]
    about.text(
        f"Design: {d['kind']}, {d['points']} points x {d['replications']} replications = {d['runs']} runs; "
        f"root seed {manifest['seeds']['root']}; batch engine; dipsim {manifest['version']}."
    )
    about.table(
        pd.DataFrame(
            [
                {
                    "parameter": p["key"],
                    "label": p["label"],
                    "levels or bounds": _show(p["levels"] if p["levels"] else p["bounds"]),
                }
                for p in d["parameters"]
            ]
        )
    )
    stage("reading the runs")
    runs = read(folder, columns=["treaty", "treaty_chance", "error"]).to_pandas()
    ok = runs[runs["error"].isna()]
    about.table(
        pd.DataFrame(
            [
                {
                    "runs": len(runs),
                    "failed runs": int(runs["error"].notna().sum()),
                    "treaty rate": float(ok["treaty"].mean()),
                    "mean chance of a treaty": float(ok["treaty_chance"].mean()),
                }
            ]
        )
    )
    from dipsim.analysis.presentation.sweep_plots import plot_sweep

    stage("drawing the sweep's plots")
    plot_sweep(folder, [])
    analysis = Section("What decides the outcome", "analysis")
    stage("sensitivity indices and PRIM scenario discovery")
    analysis.pre(write_analysis(folder))
    for csv in ("sobol_indices.csv", "morris_indices.csv"):
        if (folder / csv).is_file():
            t = pd.read_csv(folder / csv)
            order = "ST" if "ST" in t.columns else "mu_star"
            analysis.heading3(f"{csv.split('_')[0].title()} indices (top 15 a outcome)")
            analysis.table(t.sort_values(["output", order], ascending=[True, False]).groupby("output").head(15))
    for png in _plots(folder):
        analysis.figure(png, _caption(png))
    base = scenario_mod.validate(manifest["scenario"], file=str(folder / "manifest.json"))
    beliefs = Section("The base scenario: preferences and their sources", "beliefs")
    beliefs.table(beliefs_table(base))
    return spec["title"], "parameter sweep (dipsim sweep)", [about, analysis, beliefs]


def _expected_utility(folder: Path, spec):
    s = Section("Bueno de Mesquita's expected utility model", "eu")
    s.text(" ".join(spec.description.split()))
    if (folder / "rounds.csv").is_file():
        s.table(pd.read_csv(folder / "rounds.csv"))
    for png in _plots(folder):
        s.figure(png, _caption(png))
    s.table(
        pd.DataFrame(
            [
                {
                    "stakeholder": st.label,
                    "position": st.position,
                    "capability": st.capability,
                    "salience": st.salience,
                    "source": st.source,
                }
                for st in spec.stakeholders.values()
            ]
        )
    )
    return spec.title, "expected utility model (dipsim run)", [s]


def write_report(folder: Path, stage: Callable[[str], None] = _silent) -> Path:
    folder = Path(folder)
    stage("reading the results")
    title, kind, sections = build(folder, stage)
    stage("writing the page")
    env = Environment(
        loader=PackageLoader("dipsim.analysis.presentation", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    html = env.get_template("report.html.j2").render(
        title=title, kind=kind, version=version("dipsim"), folder=str(folder), sections=sections
    )
    out = folder / "report.html"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out
