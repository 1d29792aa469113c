"""Understanding results: the outcome space, explain's counterfactual, sensitivity
indices, PRIM scenario discovery and the self-contained report."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dipsim.analysis.experiments import sweep_spec
from dipsim.analysis.experiments.sweep import run_sweep
from dipsim.analysis.interpretation.discovery import discover
from dipsim.analysis.interpretation.explain import explain, smallest_changes
from dipsim.analysis.interpretation.outcome_space import ratifiable, solutions
from dipsim.analysis.interpretation.sensitivity import morris, sobol
from dipsim.analysis.presentation.outcome_space_plot import outcome_space_plot
from dipsim.analysis.presentation.report import write_report
from dipsim.analysis.presentation.sweep_plots import write_analysis
from dipsim.sim import scenario as sc
from dipsim.sim.run import play

from .conftest import ROOT, SCENARIOS

DIPSIM = str(Path(sys.executable).parent / "dipsim")


def test_outcome_space(tmp_path, baseline, baseline_tables):
    sol = solutions(baseline_tables)
    u0, u1 = (p.utility[0] for p in baseline_tables.parties)
    d = [p.reservation[0] for p in baseline_tables.parties]
    for k in sol.values():
        assert u0[k] >= d[0] and u1[k] >= d[1]
    # the two-level trap of the baseline: no package both publics would likely ratify
    assert not (ratifiable(baseline_tables, 0) & ratifiable(baseline_tables, 1)).any()
    path = outcome_space_plot(
        baseline_tables, baseline.title, tmp_path / "os.png", {54: (3, 40)}, {"russia": 23, "japan": 118}
    )
    assert path.stat().st_size > 50_000 and path.with_suffix(".svg").stat().st_size > 50_000


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("explain") / "base"
    # without US pressure the governments agree and the publics vote: a story with every part
    r = subprocess.run(
        [DIPSIM, "run", "us_disengages", "--runs", "40", "--out", str(out)], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 0, r.stderr
    return out


def test_explain_tells_the_run_and_finds_a_real_counterfactual(run_folder):
    runs = pd.read_parquet(run_folder / "runs.parquet")
    k = int(runs.index[~runs["treaty"]][0])
    text = explain(run_folder, k)
    assert f"ended in round {runs['end_round'][k]}" in text and runs["reason"][k] in text
    assert "put to ratification" in text
    spec = sc.load(run_folder / "scenario.toml")
    seed = int(runs["seed"][k])
    changes = smallest_changes(spec, seed, top=2)
    assert changes
    for c in changes:
        # applied alone, the change gives a treaty in the Mesa model with the same seed...
        changed = sc.with_settings(spec, {c.key: c.after})
        assert play(changed, seed).state.reason == 0
        # ...and moving only nine tenths of the way does not (the bisection found the edge)
        halfway = sc.with_settings(spec, {c.key: c.before + 0.9 * (c.after - c.before)})
        assert play(halfway, seed).state.reason != 0


def test_explain_of_a_treaty_has_no_counterfactual(run_folder):
    runs = pd.read_parquet(run_folder / "runs.parquet")
    treaty = runs.index[runs["treaty"]]
    if len(treaty):
        text = explain(run_folder, int(treaty[0]))
        assert "treaty." in text and "smallest change" not in text


SENSITIVITY = """
name = "sens"
title = "Sensitivity test"
description = "one parameter matters, one cannot"
scenario = "{base}"
set = ["outside.usa.pressure.max=0"]
seed = 4
common_random_numbers = true
replications = 2
[design]
{design}
[[parameters]]
key = "outside.usa.rhetoric.max"
bounds = [0.0, 1.0]
[[parameters]]
key = "parties.russia.public.effects.territory.values"
scale = true
bounds = [0.0, 1.25]
[[parameters]]
key = "parties.russia.strategy.tolerance"
bounds = [0.0, 1.0]
"""


def sweep_folder(tmp_path, design):
    f = tmp_path / "s.toml"
    f.write_text(SENSITIVITY.format(base=SCENARIOS / "baseline.toml", design=design))
    run_sweep(sweep_spec.load(f), tmp_path / "out", workers=1)
    return tmp_path / "out"


def test_morris_gives_no_effect_to_a_parameter_the_model_ignores(tmp_path):
    """A time-dependent Russia never reads the hardliner's tolerance: every elementary
    effect of it is exactly zero. The Russian public's opposition matters."""
    folder = sweep_folder(tmp_path, 'kind = "morris"\ntrajectories = 40')
    t = morris(folder)
    chance = t[t["output"] == "treaty_chance"].set_index("parameter")
    assert chance.loc["parties.russia.strategy.tolerance", "mu_star"] == 0
    assert chance.loc["parties.russia.public.effects.territory.values", "mu_star"] > 0.01


def test_sobol_ranks_the_parameters(tmp_path):
    folder = sweep_folder(tmp_path, 'kind = "sobol"\nbase_samples = 256\nsecond_order = false')
    t = sobol(folder)
    chance = t[t["output"] == "treaty_chance"].set_index("parameter")
    idle = chance.loc["parties.russia.strategy.tolerance"]
    busy = chance.loc["parties.russia.public.effects.territory.values"]
    assert abs(idle["ST"]) <= idle["ST_conf"] + 1e-9 and abs(idle["S1"]) <= idle["S1_conf"] + 1e-9
    assert busy["ST"] > 0.3 and busy["ST"] - busy["ST_conf"] > idle["ST"] + idle["ST_conf"]
    # and PRIM finds the region: low Russian opposition
    d = discover(folder)
    assert any("parties.russia.public.effects.territory.values <=" in r for r in d.rules), d.rules
    text = write_analysis(folder)
    assert "Scenario discovery" in text and (folder / "prim_tradeoff.png").exists()
    assert (folder / "sobol_treaty_chance.png").exists() and (folder / "sobol_treaty_chance.svg").exists()


def test_report_is_one_self_contained_file(run_folder):
    path = write_report(run_folder)
    html = path.read_text()
    assert "<title>The USA disengages" in html and "preferences and their sources" in html
    assert "A L25" in html  # sources travel into the report
    images = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert len(images) >= len(list(run_folder.glob("*.png"))) - 1 and all(
        s.startswith("data:image/png;base64,") for s in images
    )
    assert not re.search(r'(src|href)="https?://', html)  # nothing to fetch when opened


def test_analysis_commands_refuse_the_wrong_folder(tmp_path, run_folder):
    for args in (
        ["analyze", str(run_folder)],
        ["explain", str(tmp_path)],
        ["report", str(tmp_path / "nope")],
        ["explain", str(run_folder), "--run", "1000"],
    ):
        r = subprocess.run([DIPSIM, *args], capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 2 and r.stderr.startswith("dipsim: error: ") and "Traceback" not in r.stderr, args


def test_analyze_without_the_discovery_extra_keeps_the_indices_and_names_the_extra(tmp_path, monkeypatch):
    """The EMA Workbench is an extra: without it (an import that fails, as on a machine
    that installed only dipsim) the indices are still computed and written, and the text
    names the extra to install."""
    folder = sweep_folder(tmp_path, 'kind = "morris"\ntrajectories = 10')
    monkeypatch.setitem(sys.modules, "ema_workbench", None)
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis", None)
    text = write_analysis(folder)
    assert (folder / "morris_indices.csv").exists() and (folder / "morris_treaty_chance.png").exists()
    assert "scenario discovery skipped" in text and "pip install 'dipsim[discovery]'" in text
    assert not (folder / "prim_tradeoff.png").exists()
